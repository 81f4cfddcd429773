"""Writing a small compound file (MS-CFB version 3), e.g. a ``vbaProject.bin``.

olefile reads compound files but can only overwrite a stream with data of the
same length, and the add-in build changes the length of VBA streams, so the
container is written anew here. The only Python writers on PyPI did not fit:
``cfbwrite`` is AGPL, and ``ms-cfb`` 0.0.6 leaves a scratch file in the
working directory. This writer covers what a VBA project needs: 512-byte
sectors, streams under 4096 bytes in the mini stream, and up to 109 FAT sectors
(about 7 MB). Output is deterministic: no timestamps, entries in a fixed order.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from kpisheet.validators.errors import KpisheetError

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
_ENTRIES_PER_FAT = SECTOR // 4
_MAX_FAT_SECTORS = 109  # listed in the header; more would need DIFAT sectors

FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF

_STORAGE, _STREAM, _ROOT = 1, 2, 5
_BLACK = 1


class CompoundFileError(KpisheetError):
    """The compound file cannot be written as asked."""

    code = "addin-compound-file"
    title_zh, title_en = "复合文件无法写出", "compound file cannot be written"
    description = "The add-in's vbaProject.bin cannot be written (a name too long, or the project too large)."

    def __init__(self, message_en: str):
        super().__init__(f"无法写出 VBA 工程文件（{message_en}）", message_en)


@dataclass
class _Node:
    name: str
    kind: int
    data: bytes = b""
    clsid: bytes = bytes(16)
    children: dict[str, "_Node"] = field(default_factory=dict)
    index: int = -1
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = ENDOFCHAIN


def _sort_key(name: str) -> tuple[int, str]:
    # MS-CFB 2.6.4: shorter names first, then by upper-cased code points
    return len(name), name.upper()


def build(streams: dict[tuple[str, ...], bytes], clsids: dict[tuple[str, ...], bytes] | None = None) -> bytes:
    """A compound file holding ``streams`` (path tuple -> bytes); storages are implied by paths.

    ``clsids`` optionally gives the class id of the root (key ``()``) or of a storage.
    """
    clsids = clsids or {}
    root = _Node("Root Entry", _ROOT, clsid=clsids.get((), bytes(16)))
    for path, data in sorted(streams.items()):
        node = root
        for depth, part in enumerate(path):
            if len(part) > 31 or not part:
                raise CompoundFileError(f"entry name must be 1-31 characters: {part!r}")
            last = depth == len(path) - 1
            if part not in node.children:
                node.children[part] = (_Node(part, _STREAM, data=bytes(data)) if last
                                       else _Node(part, _STORAGE, clsid=clsids.get(path[:depth + 1], bytes(16))))
            node = node.children[part]
            if (node.kind == _STREAM) != last:
                raise CompoundFileError(f"{'/'.join(path)}: a name is used both as a storage and a stream")

    entries = _number_entries(root)
    small = [e for e in entries if e.kind == _STREAM and len(e.data) < MINI_CUTOFF]
    large = [e for e in entries if e.kind == _STREAM and len(e.data) >= MINI_CUTOFF]

    # the mini stream: small streams in 64-byte mini sectors, chained in the mini FAT
    mini_stream = bytearray()
    mini_fat: list[int] = []
    for entry in small:
        count = _sectors(len(entry.data), MINI_SECTOR)
        if count:
            entry.start = len(mini_fat)
            mini_fat += [len(mini_fat) + i + 1 for i in range(count - 1)] + [ENDOFCHAIN]
            mini_stream += entry.data.ljust(count * MINI_SECTOR, b"\0")

    mini_fat_bytes = b"".join(struct.pack("<I", v) for v in mini_fat)
    mini_fat_bytes += struct.pack("<I", FREESECT) * (-len(mini_fat) % _ENTRIES_PER_FAT)

    # sector layout after the FAT: directory, mini FAT, mini stream, large streams
    directory_size = _sectors(len(entries) * 128, SECTOR) * SECTOR
    blocks: list[bytes] = [bytes(directory_size), mini_fat_bytes, bytes(mini_stream)] + [e.data for e in large]
    counts = [_sectors(len(b), SECTOR) for b in blocks]
    body = sum(counts)
    fat_count = 1
    while fat_count * _ENTRIES_PER_FAT < fat_count + body:
        fat_count += 1
    if fat_count > _MAX_FAT_SECTORS:
        raise CompoundFileError("the compound file is too large for this writer (over 109 FAT sectors)")

    fat = [FATSECT] * fat_count
    starts = []
    for count in counts:
        starts.append(len(fat) if count else ENDOFCHAIN)
        fat += [len(fat) + i + 1 for i in range(count - 1)] + ([ENDOFCHAIN] if count else [])
    fat += [FREESECT] * (fat_count * _ENTRIES_PER_FAT - len(fat))

    dir_start, mini_fat_start, mini_stream_start = starts[0], starts[1], starts[2]
    for entry, start in zip(large, starts[3:]):
        entry.start = start
    root.start = mini_stream_start
    root.data = bytes(mini_stream)  # the root entry's size is the mini stream's
    directory = b"".join(_entry_bytes(e) for e in entries)
    blocks[0] = directory + _unused_entry() * ((directory_size - len(directory)) // 128)

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", bytes(16),
        0x003E, 0x0003, 0xFFFE, 9, 6, bytes(6),
        0,  # directory sectors: always 0 in version 3
        fat_count, dir_start, 0, MINI_CUTOFF,
        mini_fat_start, counts[1], ENDOFCHAIN, 0,
    )
    difat = list(range(fat_count)) + [FREESECT] * (_MAX_FAT_SECTORS - fat_count)
    header += struct.pack(f"<{_MAX_FAT_SECTORS}I", *difat)
    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    for block, count in zip(blocks, counts):
        out += block.ljust(count * SECTOR, b"\0")
    return bytes(out)


def _sectors(size: int, sector: int) -> int:
    return -(-size // sector)


def _number_entries(root: _Node) -> list[_Node]:
    """Give every entry its index and its sibling tree: a balanced binary tree, all black."""
    entries: list[_Node] = []

    def visit(node: _Node) -> None:
        node.index = len(entries)
        entries.append(node)
        for child in sorted(node.children.values(), key=lambda n: _sort_key(n.name)):
            visit(child)

    visit(root)

    def tree(siblings: list[_Node]) -> int:
        if not siblings:
            return NOSTREAM
        middle = len(siblings) // 2
        node = siblings[middle]
        node.left = tree(siblings[:middle])
        node.right = tree(siblings[middle + 1:])
        return node.index

    for node in entries:
        node.child = tree(sorted(node.children.values(), key=lambda n: _sort_key(n.name)))
    return entries


def _entry_bytes(node: _Node) -> bytes:
    name = node.name.encode("utf-16-le") + b"\0\0"
    size = len(node.data) if node.kind != _STORAGE else 0
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name, len(name), node.kind, _BLACK, node.left, node.right, node.child,
        node.clsid, 0, 0, 0, node.start if node.kind != _STORAGE else 0, size,
    )


def _unused_entry() -> bytes:
    return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM,
                       bytes(16), 0, 0, 0, 0, 0)
