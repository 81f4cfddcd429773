"""The parts of a VBA project (``vbaProject.bin``, MS-OVBA) the add-in build edits.

The build keeps xlwings' own VBA project and swaps the source of one module.
That needs the MS-OVBA compression (module sources and the ``dir`` stream are
compressed) and, from the ``dir`` stream, each module's stream name, source
offset and the project's code page. Nothing else of the format is touched.

No library on PyPI does this reliably: ``ms-ovba-compression`` 1.0.1 produces
containers that neither it nor oletools can decompress, so the algorithm is
written here from the specification and tested against oletools' decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from kpisheet.validators.errors import KpisheetError

CHUNK = 4096  # every chunk but the last decompresses to exactly this many bytes
_MAX_CANDIDATES = 64  # match candidates tried per position: plenty for source text


class VbaProjectError(KpisheetError):
    """A VBA project the build cannot edit; the message says what is wrong."""

    code = "addin-vba-project"
    title_zh, title_en = "VBA 工程无法编辑", "VBA project cannot be edited"
    description = "The VBA project of xlwings' add-in template is not in the shape the add-in build edits."

    def __init__(self, message_en: str):
        super().__init__(f"加载项模板的 VBA 工程无法编辑（{message_en}）", message_en)


# --- compression (MS-OVBA 2.4.1) ---------------------------------------------


def _bit_count(difference: int) -> int:
    """Bits of a copy token's offset part, from the distance into the chunk."""
    return max((difference - 1).bit_length(), 4)


def decompress(container: bytes) -> bytes:
    if not container or container[0] != 0x01:
        raise VbaProjectError("not a compressed container: the first byte must be 0x01")
    out = bytearray()
    pos = 1
    while pos < len(container):
        if pos + 2 > len(container):
            raise VbaProjectError(f"truncated chunk header at byte {pos}")
        header = int.from_bytes(container[pos:pos + 2], "little")
        if (header >> 12) & 0b111 != 0b011:
            raise VbaProjectError(f"bad chunk signature at byte {pos}")
        size = (header & 0x0FFF) + 3
        body = container[pos + 2:pos + size]
        pos += size
        if not header & 0x8000:  # stored raw
            out += body
            continue
        chunk_start = len(out)
        i = 0
        while i < len(body):
            flags = body[i]
            i += 1
            for bit in range(8):
                if i >= len(body):
                    break
                if not flags >> bit & 1:
                    out.append(body[i])
                    i += 1
                    continue
                token = int.from_bytes(body[i:i + 2], "little")
                i += 2
                bits = _bit_count(len(out) - chunk_start)
                offset = (token >> (16 - bits)) + 1
                length = (token & (0xFFFF >> bits)) + 3
                source = len(out) - offset
                if source < chunk_start:
                    raise VbaProjectError("copy token points before its chunk")
                for k in range(length):  # byte by byte: a copy may overlap itself
                    out.append(out[source + k])
    return bytes(out)


def compress(data: bytes) -> bytes:
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        chunk = data[start:start + CHUNK]
        body = _compress_chunk(chunk)
        if len(body) <= CHUNK:
            out += (0xB000 | (len(body) + 2 - 3)).to_bytes(2, "little") + body
        elif len(chunk) == CHUNK:
            out += (0x3000 | 0x0FFF).to_bytes(2, "little") + chunk
        else:
            # a raw chunk must hold 4096 bytes; padding would put NULs into the source
            raise VbaProjectError("the last 4 KB of the source do not compress; add or remove a line")
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    out = bytearray()
    seen: dict[bytes, list[int]] = {}  # 3-byte prefix -> earlier positions
    pos, end = 0, len(chunk)

    def remember(p: int) -> None:
        if p + 3 <= end:
            seen.setdefault(chunk[p:p + 3], []).append(p)

    while pos < end:
        flag_at = len(out)
        out.append(0)
        for bit in range(8):
            if pos >= end:
                break
            offset, length = _longest_match(chunk, pos, seen)
            if length:
                bits = _bit_count(pos)
                out += (((offset - 1) << (16 - bits)) | (length - 3)).to_bytes(2, "little")
                out[flag_at] |= 1 << bit
            else:
                out.append(chunk[pos])
                length = 1
            for p in range(pos, pos + length):
                remember(p)
            pos += length
    return bytes(out)


def _longest_match(chunk: bytes, pos: int, seen: dict[bytes, list[int]]) -> tuple[int, int]:
    """(offset, length) of the longest earlier copy of the bytes at ``pos``; (0, 0) if under 3."""
    candidates = seen.get(chunk[pos:pos + 3])
    if not candidates:
        return 0, 0
    limit = min((0xFFFF >> _bit_count(pos)) + 3, len(chunk) - pos)
    best_offset = best_length = 0
    for start in reversed(candidates[-_MAX_CANDIDATES:]):
        length = 0
        while length < limit and chunk[start + length] == chunk[pos + length]:
            length += 1
        if length > best_length:
            best_offset, best_length = pos - start, length
            if length == limit:
                break
    return (best_offset, best_length) if best_length >= 3 else (0, 0)


# --- the dir stream (MS-OVBA 2.3.4.2) ----------------------------------------

_PROJECTCODEPAGE = 0x0003
_PROJECTVERSION = 0x0009  # the one record whose size field does not count its data
_MODULENAME = 0x0019
_MODULESTREAMNAME = 0x001A
_MODULEOFFSET = 0x0031


@dataclass(frozen=True)
class ModuleEntry:
    name: str
    stream: str  # stream name under the VBA storage
    offset: int  # where the compressed source starts in that stream
    offset_at: int  # byte position of the offset value in the decompressed dir stream


@dataclass(frozen=True)
class DirInfo:
    code_page: int
    modules: tuple[ModuleEntry, ...]

    def module(self, name: str) -> ModuleEntry:
        for module in self.modules:
            if module.name == name:
                return module
        raise VbaProjectError(f"the VBA project has no module {name!r}")

    @property
    def encoding(self) -> str:
        return f"cp{self.code_page}"


def read_dir(data: bytes) -> DirInfo:
    """The code page and the modules of a decompressed ``dir`` stream."""
    code_page = 1252
    modules: list[ModuleEntry] = []
    name = stream = ""
    pos = 0
    while pos + 6 <= len(data):
        record = int.from_bytes(data[pos:pos + 2], "little")
        size = int.from_bytes(data[pos + 2:pos + 6], "little")
        if record == _PROJECTVERSION:
            pos += 12  # id, reserved size (4), major (4), minor (2)
            continue
        value = data[pos + 6:pos + 6 + size]
        if record == _PROJECTCODEPAGE:
            code_page = int.from_bytes(value, "little")
        elif record == _MODULENAME:
            name = value.decode(f"cp{code_page}")
        elif record == _MODULESTREAMNAME:
            stream = value.decode(f"cp{code_page}")
        elif record == _MODULEOFFSET:
            modules.append(ModuleEntry(name, stream, int.from_bytes(value, "little"), pos + 6))
        pos += 6 + size
    if pos != len(data):
        raise VbaProjectError("the dir stream does not end on a record boundary")
    return DirInfo(code_page, tuple(modules))


def module_source(dir_info: DirInfo, name: str, stream_data: bytes) -> str:
    """The source text of a module, from its stream."""
    module = dir_info.module(name)
    return decompress(stream_data[module.offset:]).decode(dir_info.encoding)


def replace_module_source(dir_data: bytes, name: str, source: str, *,
                          normalise_newlines: bool = True) -> tuple[bytes, bytes]:
    """A new (decompressed dir, module stream) pair holding ``source`` for module ``name``.

    The module's compiled cache (p-code) is dropped and its offset set to 0, so
    the stream holds source only: Office compiles it on load, as it does for
    xlwings' own ``xlwings`` module in the template.
    """
    info = read_dir(dir_data)
    module = info.module(name)
    first = source.lstrip().splitlines()[0] if source.strip() else ""
    if first != f'Attribute VB_Name = "{name}"':
        raise VbaProjectError(f'the source for {name} must start with: Attribute VB_Name = "{name}"')
    # our own sources get VBA's CRLF; an edited template module keeps its bytes as they were
    text = "\r\n".join(source.splitlines()) + "\r\n" if normalise_newlines else source
    try:
        encoded = text.encode(info.encoding)
    except UnicodeEncodeError as error:
        raise VbaProjectError(
            f"module {name}: character {text[error.start]!r} cannot be stored in code page "
            f"{info.code_page}; keep VBA sources ASCII (Chinese text belongs in Python)") from None
    patched = bytearray(dir_data)
    patched[module.offset_at:module.offset_at + 4] = (0).to_bytes(4, "little")
    return bytes(patched), compress(encoded)
