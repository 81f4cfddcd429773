"""The guard: what an untrusted file must pass before any reader sees it.

python-calamine (and fastexcel) abort the whole process on some inputs: a 7 KB
xlsx holding cells A1 and XFD1048576 makes calamine allocate a dense
1048576 x 16384 range (about 512 GB) and die with SIGABRT. A zip bomb or a
zip whose declared sizes lie exhausts memory instead. So before reading, the
guard looks at the file and refuses what it cannot vouch for:

* the name and first bytes: lock files, empty files, and everything that is
  not an xlsx archive (legacy .xls, encrypted OOXML, .xlsb, .ods, CSV/text,
  truncated zips, random binary) -- see :mod:`kpisheet.validators.reading.file_checks`;
* the zip central directory, for *every* member: count, declared sizes,
  compression ratio, zip-level encryption, compression methods a checker
  cannot verify;
* the package's relationships (:mod:`kpisheet.validators.reading.package`),
  followed to every part a reader will parse -- the workbook, its shared
  strings and styles, the sheets -- wherever they are stored and whatever
  they are named; a part that cannot be accounted for (a name matching two
  members, a sheet without its part, a workbook not where readers look) is
  refused;
* each part read, inflated once with a hard cap of its declared size, for a
  DOCTYPE/ENTITY declaration in its prolog (billion laughs, external
  entities) and an encoding other than UTF-8;
* each sheet read (:mod:`kpisheet.validators.reading.sheet_scan`): the farthest
  cell holding something, the number of cells, their order (a repeated or
  out-of-order reference is a damaged sheet) and the error values it shows.

What is guarded is what is read: :func:`guard_bytes` is told which sheets the
reader will read (all of them by default, for readers such as openpyxl that
parse every part). Parts no reader touches are judged from the zip directory
alone, without inflating them. A readable result carries the
:class:`GuardedPackage`: the reader is given a new package holding only the
checked parts (the small ones stored already inflated), never the original.

Macro-bearing files (VBA, Excel 4.0 macro sheets, ActiveX) are flagged as an
error but stay *readable*: python-calamine never executes anything, so their
values are still read and every other problem is reported in the same run.
Nothing in kpisheet ever opens a submission with a program that could run a
macro.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from kpisheet.validators.findings import Finding, make_finding
from kpisheet.validators.reading import package as P
from kpisheet.validators.reading.file_checks import (
    EMPTY, LOCK, XLSM, XLSX, Detected, is_lock_name, looks_like_owner_file, sniff_unzipped, sniff_zip,
)
from kpisheet.validators.errors import KpisheetError
from kpisheet.validators.reading.sheet_scan import SheetScan, TagTooLong, cell_ref, chunks_of, column_number

__all__ = ["DEFAULT_LIMITS", "GuardLimits", "GuardResult", "GuardedPackage", "MB", "column_number", "guard_bytes",
           "guard_file", "read_guarded"]

MB = 1024 * 1024


@dataclass(frozen=True)
class GuardLimits:
    """Every safety limit in one place. Defaults fit submitted team workbooks with a wide margin."""

    max_file_bytes: int = 50 * MB  # on disk; a team workbook is ~50 KB
    max_members: int = 2_000  # zip entries
    max_member_bytes: int = 100 * MB  # one inflated part
    max_total_bytes: int = 200 * MB  # all inflated parts together (declared, and as inflated)
    max_ratio: float = 200.0  # inflated/compressed, for parts above ratio_floor_bytes
    ratio_floor_bytes: int = 1 * MB
    max_rows: int = 100_000  # highest row a sheet's cells may reach
    max_columns: int = 200  # highest column (200 = GR)
    # sum over sheets of rows x columns from A1 to the farthest cell: what a
    # reader allocates (calamine ~32 bytes per cell, plus Python's lists)
    max_cells: int = 4_000_000  # also caps the cells a sheet holds, wherever they point
    # a sheet with cells written without a reference (r) is placed cell by cell
    # in Python, the way a reader would: it may hold at most this many cells
    max_slow_scan_cells: int = 250_000
    max_tag_bytes: int = 1 * MB  # longest run without '>' in a sheet (Excel caps a cell at 32767 chars)
    # a sheet part up to this size is inflated into memory once and handed to the reader inflated; a larger
    # one is scanned in chunks and handed over compressed (the reader inflates it again)
    max_kept_bytes: int = 16 * MB


DEFAULT_LIMITS = GuardLimits()


@dataclass(frozen=True)
class GuardedPackage:
    """What the guard checked, for the readers: never the original archive.

    ``reader_zip`` is the package python-calamine opens: the workbook part,
    shared strings, styles and the guarded sheets, under fixed names.
    ``sheets`` names the sheets in it (others are listed by the workbook but
    cannot be read). ``error_cells`` maps a sheet to the cells showing an
    error value ('B7' -> '#DIV/0!'). ``workbook``, ``app``, ``custom`` and ``core``
    are the inflated workbook part and document properties ('' when absent).
    """

    reader_zip: bytes = field(repr=False)
    sheets: tuple[str, ...]
    error_cells: Mapping[str, Mapping[str, str]]
    workbook: bytes = field(default=b"", repr=False)
    app: bytes = field(default=b"", repr=False)
    custom: bytes = field(default=b"", repr=False)
    core: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class GuardResult:
    """The verdict on one file: what it is, whether a reader may open it, and why not."""

    detected: Detected
    readable: bool
    findings: tuple[Finding, ...]
    # short machine reasons, one per finding, e.g. "zip-ratio", "extent", "entities"
    reasons: tuple[str, ...] = ()
    # what the readers may read (readable results only)
    package: GuardedPackage | None = field(default=None, compare=False, repr=False)


class _Refusal(KpisheetError):
    def __init__(self, reason: str, finding: Finding):
        super().__init__(finding.message_zh, finding.message_en)
        self.reason = reason
        self.finding = finding


def guard_file(path: str | Path, limits: GuardLimits = DEFAULT_LIMITS,
               sheets: Iterable[str] | None = None) -> GuardResult:
    """Guard the file at ``path`` (see :func:`guard_bytes`)."""
    return read_guarded(path, limits, sheets)[0]


def read_guarded(path: str | Path, limits: GuardLimits = DEFAULT_LIMITS,
                 sheets: Iterable[str] | None = None) -> tuple[GuardResult, bytes | None]:
    """The verdict on ``path`` and the bytes it was reached on (None when they were never read).

    A lock file or an oversized file is judged without reading it. A reader
    must use the result's package, never the path again: the file may change
    in between, and what was checked must be what is read.
    """
    path = Path(path)
    if is_lock_name(path.name):
        return _refused(LOCK, "lock", make_finding("file-lock", name=path.name)), None
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        return _oversized(size, limits), None
    data = path.read_bytes()
    return guard_bytes(data, path.name, limits, sheets), data


def guard_bytes(data: bytes, name: str = "", limits: GuardLimits = DEFAULT_LIMITS,
                sheets: Iterable[str] | None = None) -> GuardResult:
    """Classify ``data`` (a file named ``name``) and decide whether a spreadsheet reader may open it.

    ``sheets``: the names of the sheets the reader will read; None for every
    sheet and every part (a reader such as openpyxl parses them all). Never
    raises for bad input: every problem becomes a file-level finding.
    """
    if is_lock_name(name) or (data[:2] != b"PK" and looks_like_owner_file(data)):
        return _refused(LOCK, "lock", make_finding("file-lock", name=name or "?"))
    if not data:
        return _refused(EMPTY, "empty", _unreadable("文件为空（0 字节）", "the file is empty (0 bytes)"))
    if len(data) > limits.max_file_bytes:
        return _oversized(len(data), limits)
    if not data.startswith(b"PK"):
        return _not_a_zip(sniff_unzipped(data))
    # Each central-directory entry starts with this signature; counting it
    # bounds the entries before zipfile builds an object for every one.
    if data.count(b"PK\x01\x02") > limits.max_members:
        return _refused(Detected("zip", "压缩包", "an archive"), "members", _too_many_members(limits))
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, IndexError):
        detected = sniff_unzipped(data)
        return _refused(detected, "truncated", _unreadable(
            "文件已损坏或不完整（可能在复制或传输中被截断）",
            "the file is damaged or incomplete (probably cut off while copying or sending)"))
    wanted = None if sheets is None else frozenset(sheets)
    try:
        return _guard_zip(data, infos, limits, wanted)
    except _Refusal as refusal:
        return _refused(sniff_zip([i.filename for i in infos], None), refusal.reason, refusal.finding)
    except P.PackageProblem as problem:
        return _refused(sniff_zip([i.filename for i in infos], None), problem.reason,
                        _unreadable(problem.reason_zh, problem.reason_en))


# --- not a zip --------------------------------------------------------------------------


def _not_a_zip(detected: Detected) -> GuardResult:
    if detected.kind == "empty":
        return _refused(detected, "empty", _unreadable("文件为空（0 字节）", "the file is empty (0 bytes)"))
    if detected.kind in ("encrypted", "xls-encrypted"):
        return _refused(detected, "encrypted", make_finding("file-encrypted"))
    if detected.kind == "ole-damaged":
        return _refused(detected, "damaged", _unreadable(
            "文件是已损坏的 Office 97-2003 文件", "the file is a damaged Office 97-2003 file"))
    if detected.kind == "truncated":
        return _refused(detected, "truncated", _unreadable(
            "文件已损坏或不完整（可能在复制或传输中被截断）",
            "the file is damaged or incomplete (probably cut off while copying or sending)"))
    return _wrong_format(detected)


# --- zip archives -----------------------------------------------------------------------

_SHEET_DIRS = ("xl/worksheets/", "xl/dialogsheets/", "xl/macrosheets/")
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_MACRO_PARTS = (("vbaproject.bin", "VBA 工程", "a VBA project"),)
_MACRO_DIRS = (("xl/macrosheets/", "Excel 4.0 宏表", "Excel 4.0 macro sheets"),
               ("xl/activex/", "ActiveX 控件", "ActiveX controls"))


def _guard_zip(data: bytes, infos: list[zipfile.ZipInfo], limits: GuardLimits,
               wanted: frozenset[str] | None) -> GuardResult:
    _check_directory(infos, limits)
    members = P.Members(infos)
    mimetype = _small_member(data, members, "mimetype")
    detected = sniff_zip(members.names(), mimetype)
    if detected.kind != XLSX:
        return _wrong_format(detected)
    parts = _Parts(data, limits)
    content_types = parts.whole(members.get(P.CONTENT_TYPES), P.CONTENT_TYPES)
    _check_main_part(parts, members)
    workbook_info = members.get(P.WORKBOOK)
    workbook = parts.whole(workbook_info, P.WORKBOOK)
    rels_info = members.get(P.WORKBOOK_RELS)
    if rels_info is None:
        raise P.PackageProblem("damaged", f"缺少工作簿的关系部件 {P.WORKBOOK_RELS}（文件已损坏）",
                               f"the workbook's relationships part {P.WORKBOOK_RELS} is missing (the file is damaged)")
    relationships = {r.id: r for r in P.parse_relationships(parts.whole(rels_info, P.WORKBOOK_RELS), P.WORKBOOK)}
    entries = P.parse_sheets(workbook, relationships)

    reader_parts = [P.PACKAGE_RELS_PART, parts.reader_part(workbook_info, P.WORKBOOK)]
    for kind, fixed in (("sharedStrings", P.SHARED_STRINGS), ("styles", P.STYLES)):
        info = _typed_part(members, relationships, kind, fixed)
        if info is not None:
            parts.whole(info, fixed)
            reader_parts.append(parts.reader_part(info, fixed))
    app = parts.whole(members.get(P.APP_PROPERTIES), P.APP_PROPERTIES)
    custom = parts.whole(members.get(P.CUSTOM_PROPERTIES), P.CUSTOM_PROPERTIES)
    core = parts.whole(members.get(P.CORE_PROPERTIES), P.CORE_PROPERTIES)

    targets: dict[str, str] = {}
    guarded: list[str] = []
    errors: dict[str, dict[str, str]] = {}
    area = 0
    for index, entry in enumerate(entries, start=1):
        rel = relationships[entry.rel_id]
        info = members.get(rel.target) if rel.target else None
        if info is None:
            raise P.PackageProblem("damaged", f"工作表“{entry.name}”的存储部件 {rel.target or '（外部）'} 不存在",
                                   f"the part of sheet '{entry.name}', {rel.target or '(external)'}, is missing")
        if wanted is not None and entry.name not in wanted:
            continue
        label = f"“{entry.name}” ({info.filename})"
        scan = parts.sheet(info, label)
        area += scan.rows * scan.columns
        _check_area(area, limits)
        target = P.sheet_part_name(index)
        targets[entry.rel_id] = target
        reader_parts.append(parts.reader_part(info, target))
        guarded.append(entry.name)
        if scan.errors:
            errors[entry.name] = dict(scan.errors)
    for rel_id in relationships:
        targets.setdefault(rel_id, f"xl/worksheets/unread_{len(targets) + 1}.xml")
    reader_parts.append(P.generated_part(P.WORKBOOK_RELS, P.workbook_rels_xml(targets)))
    if wanted is None:
        _guard_every_other_part(data, members, parts, area, limits)

    package = GuardedPackage(P.reader_package(reader_parts), tuple(guarded), errors, workbook, app, custom,
                             core)
    macros = _macro_parts(infos, content_types)
    if macros:
        what_zh = "、".join(zh for zh, _ in macros)
        what_en = ", ".join(en for _, en in macros)
        return GuardResult(Detected(XLSM, "含宏的 Excel 工作簿（.xlsm）", "a macro-enabled Excel workbook (.xlsm)"),
                           readable=True, findings=(make_finding("file-has-macros", what_zh=what_zh, what_en=what_en),),
                           reasons=("macros",), package=package)
    return GuardResult(detected, readable=True, findings=(), package=package)


def _check_main_part(parts: "_Parts", members: P.Members) -> None:
    """The package's own relationships must name xl/workbook.xml as the workbook, where every reader looks."""
    info = members.get(P.PACKAGE_RELS)
    if info is None:
        raise P.PackageProblem("damaged", f"缺少压缩包的关系部件 {P.PACKAGE_RELS}（文件已损坏）",
                               f"the package's relationships part {P.PACKAGE_RELS} is missing (the file is damaged)")
    main = [r for r in P.parse_relationships(parts.whole(info, P.PACKAGE_RELS), "")
            if r.type == "officeDocument"]
    if len(main) != 1 or main[0].target.lower() != P.WORKBOOK:
        found = ", ".join(r.target for r in main) or "none"
        raise P.PackageProblem("relationships", f"压缩包声明的工作簿部件为 {found}，不是 {P.WORKBOOK}",
                               f"the package names {found} as its workbook, not {P.WORKBOOK}")


def _typed_part(members: P.Members, relationships: dict[str, P.Relationship], kind: str,
                fixed: str) -> zipfile.ZipInfo | None:
    """The workbook's shared strings or styles: the part its relationship names, wherever it is stored.

    The reader's package holds it under the name python-calamine looks for
    (which is where it is in every workbook a spreadsheet program wrote).
    Without a relationship, the part at that name, as python-calamine would read it.
    """
    named = [r.target for r in relationships.values() if r.type == kind]
    if len(named) > 1:
        raise P.PackageProblem("relationships", f"工作簿有多个{kind}部件（{', '.join(named)}）",
                               f"the workbook names more than one {kind} part ({', '.join(named)})")
    if not named:
        return members.get(fixed)
    info = members.get(named[0])
    if info is None:
        raise P.PackageProblem("damaged", f"工作簿的{kind}部件 {named[0]} 不存在（文件已损坏）",
                               f"the workbook's {kind} part {named[0]} is missing (the file is damaged)")
    return info


# relationship types whose targets are binary, never parsed as XML (images, printer settings, embedded files)
_BINARY_TYPES = frozenset({"image", "printerSettings", "vbaProject", "oleObject", "package", "audio", "video",
                           "media", "font", "thumbnail", "activeXControlBinary", "customProperty"})


def _guard_every_other_part(data: bytes, members: P.Members, parts: "_Parts", area: int,
                            limits: GuardLimits) -> int:
    """For a reader that parses every part: every XML part, every relationship target, every sheet folder."""
    targets: set[str] = set()
    for info in members.infos:
        name = info.filename
        if name.lower().endswith(".rels"):
            folder, rels_name = posixpath.split(name)
            source = posixpath.join(posixpath.dirname(folder), rels_name[:-len(".rels")])
            for rel in P.parse_relationships(parts.whole(info, name), source):
                if rel.target and rel.type not in _BINARY_TYPES:
                    targets.add(rel.target.lower())
    for info in members.infos:
        lower = info.filename.lower()
        if info.filename in parts.seen or lower.endswith("/"):
            continue
        if lower.startswith(_SHEET_DIRS) and not lower.endswith(".rels"):
            scan = parts.sheet(info, info.filename)
            area += scan.rows * scan.columns
            _check_area(area, limits)
        elif lower.endswith(_XML_SUFFIXES) or lower in targets:
            parts.whole(info, info.filename, keep=False)
    return area


def _check_area(area: int, limits: GuardLimits) -> None:
    if area > limits.max_cells:
        raise _Refusal("cells", _too_large(
            f"各工作表的单元格范围合计 {area:,} 个，超过上限 {limits.max_cells:,} 个",
            f"the sheets span {area:,} cells in all, over the {limits.max_cells:,} limit",
            area, limits.max_cells))


def _check_directory(infos: list[zipfile.ZipInfo], limits: GuardLimits) -> None:
    if len(infos) > limits.max_members:
        raise _Refusal("members", _too_many_members(limits))
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise _Refusal("encrypted", make_finding("file-encrypted"))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Refusal("compression", _unreadable(
                f"压缩包成员 {info.filename} 使用了不支持的压缩方式（{info.compress_type}）",
                f"archive member {info.filename} uses an unsupported compression method ({info.compress_type})"))
        size = info.file_size
        if size > limits.max_member_bytes:
            raise _Refusal("member-size", _too_large(
                f"压缩包成员 {info.filename} 解压后有 {size / MB:.0f} MB，超过上限 {limits.max_member_bytes / MB:.0f} MB",
                f"archive member {info.filename} inflates to {size / MB:.0f} MB, over the "
                f"{limits.max_member_bytes / MB:.0f} MB limit", size, limits.max_member_bytes))
        if size > limits.ratio_floor_bytes and size > limits.max_ratio * max(info.compress_size, 1):
            ratio = size / max(info.compress_size, 1)
            raise _Refusal("zip-ratio", _too_large(
                f"压缩包成员 {info.filename} 的压缩比为 {ratio:.0f}:1，超过上限 {limits.max_ratio:.0f}:1（疑似 zip 炸弹）",
                f"archive member {info.filename} has a compression ratio of {ratio:.0f}:1, over the "
                f"{limits.max_ratio:.0f}:1 limit (a likely zip bomb)", round(ratio), limits.max_ratio))
        total += size
    if total > limits.max_total_bytes:
        raise _Refusal("total-size", _too_large(
            f"压缩包解压后共 {total / MB:.0f} MB，超过上限 {limits.max_total_bytes / MB:.0f} MB",
            f"the archive inflates to {total / MB:.0f} MB in all, over the {limits.max_total_bytes / MB:.0f} MB limit",
            total, limits.max_total_bytes))


def _small_member(data: bytes, members: P.Members, name: str) -> bytes | None:
    """A tiny member such as ODF's ``mimetype`` (never more than 200 bytes read)."""
    info = members.get(name)
    if info is None or info.file_size > 200:
        return None
    try:
        return b"".join(P.inflate(data, info, 256))
    except (P.Overrun, P.Damaged):
        return None


def _macro_parts(infos: list[zipfile.ZipInfo], content_types: bytes) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    names = [info.filename.lower() for info in infos]
    for suffix, zh, en in _MACRO_PARTS:
        part = next((info.filename for info in infos if info.filename.lower().endswith(suffix)), None)
        if part:
            found.append((f"{zh}（{part}）", f"{en} ({part})"))
    for prefix, zh, en in _MACRO_DIRS:
        if any(name.startswith(prefix) for name in names):
            found.append((zh, en))
    if not found and b"macroEnabled" in content_types[:MB]:
        found.append(("启用宏的文件类型", "a macro-enabled file type"))
    return found


# --- the parts read ---------------------------------------------------------------------

# What may precede a part's root element besides a DOCTYPE: a BOM, whitespace,
# the XML declaration and other processing instructions, comments. XML allows
# a DOCTYPE (and so ENTITY declarations) only there; parsers reject one later.
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
_CHUNK = 4 * MB


class _Parts:
    """Inflates the parts read, each once, within the limits; remembers what the reader may be handed."""

    def __init__(self, data: bytes, limits: GuardLimits):
        self.data = data
        self.limits = limits
        self.inflated = 0
        self.seen: set[str] = set()  # members inflated (by their archive name)
        self._kept: dict[str, bytes] = {}

    def whole(self, info: zipfile.ZipInfo | None, name: str, keep: bool = True) -> bytes:
        """A part checked (prolog, encoding, size) and kept (b'' when not kept or missing)."""
        if info is None:
            return b""
        if info.filename in self._kept:
            return self._kept[info.filename]
        chunks = [chunk for chunk in self._chunks(info) if keep]
        if not keep:
            return b""
        kept = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._kept[info.filename] = kept
        return kept

    def sheet(self, info: zipfile.ZipInfo, label: str) -> SheetScan:
        """A sheet part checked like any part, and its cells scanned (extent, count, order, error values)."""
        limits = self.limits
        scan = SheetScan()
        try:
            if info.file_size <= limits.max_kept_bytes:
                body = self.whole(info, info.filename)
                scan.scan_part(body)
                again = lambda: chunks_of(body, _CHUNK)  # noqa: E731 - the same bytes, for a second look
            else:
                for chunk in self._chunks(info):
                    scan.feed(chunk, limits.max_tag_bytes)
                    _check_count(scan, limits)
                scan.finish()
                again = lambda: P.inflate(self.data, info, _CHUNK)  # noqa: E731 - too large to keep
            _check_count(scan, limits)
            if scan.careful:
                if scan.cells > limits.max_slow_scan_cells:
                    raise _Refusal("cells", _too_large(
                        f"工作表 {label} 有 {scan.cells:,} 个单元格未按常规写明位置（r），超过可逐个核对的上限 "
                        f"{limits.max_slow_scan_cells:,} 个",
                        f"sheet {label} holds {scan.cells:,} cells written without their usual reference (r), over "
                        f"the {limits.max_slow_scan_cells:,} that can be placed one by one", scan.cells,
                        limits.max_slow_scan_cells))
                scan.scan_careful(again(), limits.max_rows, limits.max_columns, limits.max_tag_bytes)
            elif scan.rows > limits.max_rows or scan.columns > limits.max_columns:
                scan.content_extent(again(), limits.max_tag_bytes)  # far cells may all be empty
        except TagTooLong:
            raise _Refusal("tag-size", _unreadable(
                f"工作表 {label} 含有超长的 XML 片段，不是正常的工作表",
                f"sheet {label} holds an absurdly long XML run; it is not a normal sheet")) from None
        except (P.Overrun, P.Damaged) as error:
            raise self._member_refusal(info, error) from None
        _check_extent(scan, label, limits)
        if scan.disorder:
            raise _Refusal("cell-order", make_finding("file-cell-order", sheet_label=label, cell_ref=scan.disorder))
        return scan

    def reader_part(self, info: zipfile.ZipInfo, name: str) -> P.ReaderPart:
        """``info`` for the reader's package under ``name``: inflated if kept, else compressed as it was."""
        kept = self._kept.get(info.filename)
        if kept is not None:
            return P.ReaderPart(name, info.CRC, info.file_size, inflated=kept)
        if info.compress_type == zipfile.ZIP_STORED:
            return P.ReaderPart(name, info.CRC, info.file_size, inflated=bytes(P.raw_member(self.data, info)))
        return P.ReaderPart(name, info.CRC, info.file_size, compressed=P.raw_member(self.data, info))

    def _chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        self.seen.add(info.filename)
        first = True
        try:
            for chunk in P.inflate(self.data, info, _CHUNK):
                if first:
                    _check_head(info.filename, chunk, len(chunk) < info.file_size)
                    first = False
                self.inflated += len(chunk)
                if self.inflated > self.limits.max_total_bytes:
                    raise _Refusal("total-size", _too_large(
                        f"压缩包解压后超过 {self.limits.max_total_bytes / MB:.0f} MB",
                        f"the archive inflates to over {self.limits.max_total_bytes / MB:.0f} MB",
                        self.inflated, self.limits.max_total_bytes))
                yield chunk
        except (P.Overrun, P.Damaged) as error:
            raise self._member_refusal(info, error) from None

    @staticmethod
    def _member_refusal(info: zipfile.ZipInfo, error: Exception) -> _Refusal:
        if isinstance(error, P.Overrun):
            return _Refusal("size-lie", _too_large(
                f"压缩包成员 {info.filename} 实际解压数据多于声明的 {info.file_size:,} 字节（声明大小造假，疑似 zip 炸弹）",
                f"archive member {info.filename} inflates to more than its declared {info.file_size:,} bytes "
                "(the sizes lie: a likely zip bomb)", info.file_size + 1, info.file_size))
        return _Refusal("damaged", _unreadable(
            f"压缩包成员 {info.filename} 已损坏（{error}）", f"archive member {info.filename} is damaged ({error})"))


def _check_count(scan: SheetScan, limits: GuardLimits) -> None:
    if scan.cells > limits.max_cells:
        raise _Refusal("cells", _too_large(
            f"工作表含有超过 {limits.max_cells:,} 个单元格", f"a sheet holds over {limits.max_cells:,} cells",
            scan.cells, limits.max_cells))


def _check_head(name: str, head: bytes, more: bool) -> None:
    """A part must be UTF-8 XML whose prolog declares no DOCTYPE or ENTITY.

    UTF-16 would hide markup from these byte scans. A DOCTYPE is where entity
    attacks live (billion laughs, external entities); no Office writer emits
    one, and XML allows it only before the root element.
    """
    prolog = _PROLOG.match(head).end()
    if prolog == len(head) and more:  # megabytes of comments before the root: not a workbook part
        raise _Refusal("entities", _unreadable(
            f"{name} 的 XML 开头异常（根元素之前内容过长）", f"{name} has an abnormal XML prolog (too long before the root)"))
    rest = head[prolog:prolog + 2]
    if rest == b"<!":
        raise _Refusal("entities", _unreadable(
            f"{name} 含有 XML 文档类型或实体声明（DOCTYPE/ENTITY），可能是“十亿笑声”或外部实体攻击",
            f"{name} contains an XML DOCTYPE or ENTITY declaration (a billion-laughs or external-entity attack)"))
    if rest and (rest[:1] != b"<" or b"\x00" in head[:64]):
        raise _Refusal("encoding", _unreadable(
            f"{name} 不是 UTF-8 编码的 XML", f"{name} is not UTF-8 encoded XML"))


def _check_extent(scan: SheetScan, label: str, limits: GuardLimits) -> None:
    if scan.rows > limits.max_rows or scan.columns > limits.max_columns:
        corner = cell_ref(scan.rows, scan.columns)
        raise _Refusal("extent", _too_large(
            f"工作表 {label} 含有远端单元格（最远到 {corner}，即第 {scan.rows:,} 行、第 {scan.columns:,} 列），"
            f"超出上限（{limits.max_rows:,} 行、{limits.max_columns} 列）",
            f"sheet {label} holds cells as far as {corner} (row {scan.rows:,}, column {scan.columns:,}), beyond "
            f"the limit ({limits.max_rows:,} rows, {limits.max_columns} columns)",
            f"row {scan.rows}, column {scan.columns}", f"{limits.max_rows} rows x {limits.max_columns} columns"))


# --- results and findings ---------------------------------------------------------------


def _refused(detected: Detected, reason: str, finding: Finding) -> GuardResult:
    return GuardResult(detected, readable=False, findings=(finding,), reasons=(reason,))


def _oversized(size: int, limits: GuardLimits) -> GuardResult:
    return _refused(Detected("large", "过大的文件", "an oversized file"), "file-size", _too_large(
        f"文件大小 {size / MB:.1f} MB，超过上限 {limits.max_file_bytes / MB:.0f} MB",
        f"the file is {size / MB:.1f} MB, over the {limits.max_file_bytes / MB:.0f} MB limit",
        size, limits.max_file_bytes))


def _wrong_format(detected: Detected) -> GuardResult:
    return _refused(detected, "wrong-format", make_finding(
        "file-wrong-format", detected_zh=detected.label_zh, detected_en=detected.label_en, value=detected.kind,
        expected="xlsx"))


def _unreadable(reason_zh: str, reason_en: str) -> Finding:
    return make_finding("file-unreadable", reason_zh=reason_zh, reason_en=reason_en)


def _too_large(reason_zh: str, reason_en: str, value: object, expected: object) -> Finding:
    return make_finding("file-too-large", reason_zh=reason_zh, reason_en=reason_en, value=value, expected=expected)


def _too_many_members(limits: GuardLimits) -> Finding:
    return _too_large(f"压缩包成员超过 {limits.max_members:,} 个", f"the archive has more than {limits.max_members:,} members",
                      None, limits.max_members)

