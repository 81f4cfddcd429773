"""The xlsx package as the guard sees it: members, relationships, inflating, and the package handed to the reader.

An xlsx is a zip of parts tied together by relationship parts (``*.rels``):
``xl/_rels/workbook.xml.rels`` says where each sheet of ``xl/workbook.xml`` is
stored, under any name (``xl/foo.bin`` is as good as ``xl/worksheets/sheet1.xml``
to a reader). The guard follows those relationships to the parts a reader will
parse, checks them, and then gives python-calamine a *new* package holding only
those parts, under fixed names (:func:`reader_package`). So the reader can
never parse a part the guard did not check, however the original names them,
and the parts the guard already inflated are stored uncompressed in it: they
are inflated once, for the guard and the reader together.

Relationships are parsed with defusedxml. Part names follow the OPC rules (a
target is relative to the folder of the part whose relationships name it; a
leading ``/`` is the package root) and are looked up case-insensitively, as
readers look them up; a name that matches two members is ambiguous, and the
guard refuses it rather than guess which one a reader takes.
"""

from __future__ import annotations

import posixpath
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Iterator
from xml.sax.saxutils import quoteattr

from kpisheet.validators.errors import KpisheetError

NS_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"

PACKAGE_RELS = "_rels/.rels"
CONTENT_TYPES = "[Content_Types].xml"
WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
SHARED_STRINGS = "xl/sharedStrings.xml"
STYLES = "xl/styles.xml"
APP_PROPERTIES = "docProps/app.xml"
CUSTOM_PROPERTIES = "docProps/custom.xml"
CORE_PROPERTIES = "docProps/core.xml"


class PackageProblem(KpisheetError):
    """The package cannot be followed safely; ``reason`` is a short machine reason, the texts say why.

    Never leaves the guard: it becomes a ``file-unreadable`` finding.
    """

    def __init__(self, reason: str, reason_zh: str, reason_en: str):
        super().__init__(reason_zh, reason_en)
        self.reason = reason
        self.reason_zh = reason_zh
        self.reason_en = reason_en


# --- members ----------------------------------------------------------------------------


class Members:
    """The archive's members by name, looked up case-insensitively as readers do."""

    def __init__(self, infos: list[zipfile.ZipInfo]):
        self.infos = infos
        self._by_lower: dict[str, list[zipfile.ZipInfo]] = {}
        for info in infos:
            self._by_lower.setdefault(info.filename.lower(), []).append(info)

    def get(self, name: str) -> zipfile.ZipInfo | None:
        """The one member called ``name`` (any case), None if there is none; refuses an ambiguous name."""
        found = self._by_lower.get(name.lower())
        if not found:
            return None
        if len(found) > 1:
            names = "、".join(sorted({i.filename for i in found}))
            raise PackageProblem(
                "ambiguous", f"压缩包中有多个名为 {name} 的成员（{names}），无法确定读取哪一个",
                f"the archive holds more than one member named {name} ({', '.join(sorted({i.filename for i in found}))}); "
                "which one a reader takes cannot be known")
        return found[0]

    def names(self) -> list[str]:
        return [info.filename for info in self.infos]


# --- relationships ----------------------------------------------------------------------


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str  # the last segment of the type URI: 'worksheet', 'sharedStrings', 'officeDocument', ...
    target: str  # the part name it resolves to, '' for an external target


def rels_part(part: str) -> str:
    """'xl/workbook.xml' -> 'xl/_rels/workbook.xml.rels' (the part holding its relationships)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def resolve(source: str, target: str) -> str:
    """The part name a relationship target of part ``source`` points to (OPC: relative to its folder)."""
    if target.startswith("/"):
        joined = target.lstrip("/")
    else:
        joined = posixpath.join(posixpath.dirname(source), target)
    normal = posixpath.normpath(joined) if joined else ""
    if normal in ("", ".") or normal.startswith("../") or normal == "..":
        raise PackageProblem("relationships", f"关系目标 {target} 指向压缩包之外",
                             f"the relationship target {target} points outside the package")
    return normal


def parse_relationships(xml: bytes, source: str) -> list[Relationship]:
    """Every relationship in a ``.rels`` part (of part ``source``), targets resolved; refuses anything ambiguous."""
    root = _parse(xml, rels_part(source))
    found: list[Relationship] = []
    seen: set[str] = set()
    for element in root.iter():
        if _local(element.tag) != "Relationship":
            continue
        rel_id = element.get("Id", "")
        if rel_id in seen:
            raise PackageProblem("relationships", f"{rels_part(source)} 中关系编号 {rel_id} 重复",
                                 f"{rels_part(source)} repeats the relationship id {rel_id}")
        seen.add(rel_id)
        target = element.get("Target", "")
        external = element.get("TargetMode", "") == "External"
        kind = element.get("Type", "").rsplit("/", 1)[-1]
        found.append(Relationship(rel_id, kind, "" if external else resolve(source, target)))
    return found


@dataclass(frozen=True)
class SheetEntry:
    """One ``<sheet>`` of the workbook part: its name, state and the relationship it points to."""

    name: str
    state: str
    rel_id: str


def parse_sheets(xml: bytes, relationships: dict[str, Relationship]) -> list[SheetEntry]:
    """The workbook's sheets, each tied to exactly one of ``relationships`` (by id).

    A ``<sheet>`` names its relationship with an ``id`` attribute in the
    relationships namespace (``r:id``); a sheet naming none of them, or two
    different ones, is refused. (python-calamine matches the literal prefix
    ``r:`` instead of the namespace; it reads only the package made here, so a
    file that makes the two differ can at worst show one checked sheet under
    another's name.)
    """
    root = _parse(xml, WORKBOOK)
    sheets: list[SheetEntry] = []
    for element in root.iter():
        if _local(element.tag) != "sheet":
            continue
        name = element.get("name", "")
        ids = {value for key, value in element.attrib.items() if key.endswith("}id") and value in relationships}
        if len(ids) != 1:
            raise PackageProblem(
                "relationships", f"工作表“{name}”在工作簿中没有唯一对应的存储位置",
                f"sheet '{name}' does not name exactly one stored part in the workbook")
        sheets.append(SheetEntry(name, element.get("state", "visible"), ids.pop()))
    return sheets


def _parse(xml: bytes, part: str):
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        return ElementTree.fromstring(xml)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as error:
        raise PackageProblem("damaged", f"{part} 不是有效的 XML（{error}）",
                             f"{part} is not valid XML ({error})") from None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


# --- inflating --------------------------------------------------------------------------

_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIGNATURE = 0x04034B50


class Overrun(KpisheetError):
    """A member inflates to more than its declared size (the sizes lie); the guard's finding says so."""

    def __init__(self) -> None:
        super().__init__("解压数据多于声明的大小", "it inflates to more than its declared size")


class Damaged(KpisheetError):
    """A member cannot be inflated to its declared size; ``detail`` says why (the guard's finding names it)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, detail)
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


def raw_member(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """A member's stored (compressed) bytes, found through its local header."""
    offset = info.header_offset
    try:
        signature, *_, name_length, extra_length = _LOCAL_HEADER.unpack_from(data, offset)
    except struct.error:
        raise Damaged("the local header is cut off") from None
    if signature != _LOCAL_SIGNATURE:
        raise Damaged("the local header is missing")
    start = offset + _LOCAL_HEADER.size + name_length + extra_length
    raw = memoryview(data)[start:start + info.compress_size]
    if len(raw) < info.compress_size:
        raise Damaged("the compressed data is cut off")
    return raw


def inflate(data: bytes, info: zipfile.ZipInfo, chunk: int) -> Iterator[bytes]:
    """A member's inflated bytes in chunks of at most ``chunk``; never more than its declared size plus one.

    The declared size is trusted by no one: inflating stops one byte past it
    (:class:`Overrun`), and a member ending short of it is :class:`Damaged`.
    The CRC is left to the reader, which checks it against the same bytes.
    """
    declared = info.file_size
    raw = raw_member(data, info)
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) > declared:
            raise Overrun()
        if len(raw) < declared:
            raise Damaged(f"shorter than declared ({len(raw):,} of {declared:,} bytes)")
        for start in range(0, declared, chunk):
            yield bytes(raw[start:start + chunk])
        return
    inflater = zlib.decompressobj(-15)
    seen = 0
    try:
        # compressed input goes in slices, so the inflater's unconsumed tail (copied on every call) stays small
        for start in range(0, len(raw), _INPUT_SLICE):
            pending: bytes | memoryview = raw[start:start + _INPUT_SLICE]
            while pending and not inflater.eof:
                # one byte past the declared size is enough to prove a lie
                piece = inflater.decompress(pending, min(chunk, declared + 1 - seen))
                seen += len(piece)
                if seen > declared:
                    raise Overrun()
                if piece:
                    yield piece
                elif len(inflater.unconsumed_tail) == len(pending):
                    break  # no progress: the rest is not deflate data
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error as error:
        raise Damaged(str(error)) from None
    if seen < declared:
        raise Damaged(f"shorter than declared ({seen:,} of {declared:,} bytes)")


_INPUT_SLICE = 1024 * 1024


# --- the package handed to the reader ---------------------------------------------------


@dataclass
class ReaderPart:
    """A part of the reader's package: inflated bytes (stored as they are) or the original compressed bytes."""

    name: str
    crc: int
    size: int
    inflated: bytes | None = None
    compressed: memoryview | None = field(default=None, repr=False)


_PACKAGE_RELS_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{NS_RELATIONSHIPS}"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>').encode()
_SHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def sheet_part_name(index: int) -> str:
    """Where the reader's package stores the ``index``-th guarded sheet."""
    return f"xl/worksheets/sheet{index}.xml"


def workbook_rels_xml(targets: dict[str, str]) -> bytes:
    """The reader's workbook relationships: each id of the original to the fixed name its part is stored under.

    An id whose part was not guarded points to a name that is not in the
    package, so a reader asked for that sheet fails instead of reading it.
    """
    items = "".join(f'<Relationship Id={quoteattr(rel_id)} Type="{_SHEET_TYPE}" Target={quoteattr("/" + target)}/>'
                    for rel_id, target in targets.items())
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{NS_RELATIONSHIPS}">{items}</Relationships>').encode()


def generated_part(name: str, body: bytes) -> ReaderPart:
    return ReaderPart(name, zlib.crc32(body), len(body), inflated=body)


def reader_package(parts: list[ReaderPart]) -> bytes:
    """A zip of ``parts``: inflated ones stored, the others copied compressed as they were (no recompression)."""
    chunks: list[bytes | memoryview] = []
    central: list[bytes] = []
    offset = 0
    for part in parts:
        name = part.name.encode("utf-8")
        if part.inflated is not None:
            method, body, compressed_size = zipfile.ZIP_STORED, part.inflated, len(part.inflated)
        else:
            method, body, compressed_size = zipfile.ZIP_DEFLATED, part.compressed, len(part.compressed)
        local = struct.pack("<IHHHHHIIIHH", _LOCAL_SIGNATURE, 20, 0, method, 0, 0x21, part.crc,
                            compressed_size, part.size, len(name), 0)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, part.crc,
                                   compressed_size, part.size, len(name), 0, 0, 0, 0, 0, offset) + name)
        chunks += [local, name, body]
        offset += len(local) + len(name) + compressed_size
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(directory), offset, 0)
    return b"".join([*chunks, directory, end])


PACKAGE_RELS_PART = generated_part(PACKAGE_RELS, _PACKAGE_RELS_XML)
