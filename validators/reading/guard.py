"""The guard: what an untrusted file must pass before any Rust reader sees it.

python-calamine (and fastexcel) abort the whole process on some inputs: a 7 KB
xlsx holding cells A1 and XFD1048576 makes calamine allocate a dense
1048576 x 16384 range (about 512 GB) and die with SIGABRT. A zip bomb or a
zip whose declared sizes lie exhausts memory instead. So before reading, the
guard looks at the file cheaply and refuses what it cannot vouch for:

* the name and first bytes: lock files, empty files, and everything that is
  not an xlsx archive (legacy .xls, encrypted OOXML, .xlsb, .ods, CSV/text,
  truncated zips, random binary) -- see :mod:`kpisheet.validators.reading.file_checks`;
* the zip central directory: member count, declared sizes, compression ratio,
  zip-level encryption, compression methods a checker cannot verify;
* every XML part, streamed once with a hard byte cap of its *declared* size
  (so a lying header is caught after at most one byte too many), for a
  DOCTYPE/ENTITY declaration in its prolog (billion laughs, external
  entities: XML allows them nowhere else) and an encoding other than UTF-8;
* every worksheet, in the same pass: the ``<dimension ref>`` it declares and
  the farthest cell it holds (by each cell's reference, or, for cells written
  without one, by the position a reader would give them), against the
  row, column and total-cell limits.

Macro-bearing files (VBA, Excel 4.0 macro sheets, ActiveX) are flagged as an
error but stay *readable*: python-calamine never executes anything, so their
values are still read and every other problem is reported in the same run.
Nothing in kpisheet ever opens a submission with a program that could run a
macro.

Cost: one inflate of each XML part (about half the guard's time: the reader
inflates again, since python-calamine takes only the archive) plus one
regular-expression pass over each sheet's cells. On a 62 KB team workbook
the guard takes about 0.6-0.7x the CPU time of a bare python-calamine read of
all its sheets; ``tests/test_guard.py`` holds it under 0.9x.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from kpisheet.validators.reading.file_checks import (
    EMPTY, LOCK, XLSM, XLSX, Detected, is_lock_name, looks_like_owner_file, sniff_unzipped, sniff_zip,
)
from kpisheet.validators.findings import Finding, make_finding
from kpisheet.validators.errors import KpisheetError

MB = 1024 * 1024


@dataclass(frozen=True)
class GuardLimits:
    """Every safety limit in one place. Defaults fit submitted team workbooks with a wide margin."""

    max_file_bytes: int = 50 * MB  # on disk; a team workbook is ~50 KB
    max_members: int = 2_000  # zip entries
    max_member_bytes: int = 100 * MB  # one inflated part
    max_total_bytes: int = 200 * MB  # all inflated XML parts together
    max_ratio: float = 200.0  # inflated/compressed, for parts above ratio_floor_bytes
    ratio_floor_bytes: int = 1 * MB
    max_rows: int = 100_000  # highest row a sheet may declare or hold
    max_columns: int = 200  # highest column (200 = GR)
    # sum over sheets of rows x columns from A1 to the farthest cell: what a
    # reader allocates (calamine ~32 bytes per cell, plus Python's lists)
    max_cells: int = 4_000_000  # also caps the cells a sheet holds, wherever they point
    # a sheet with cells written without a reference (r) is placed cell by cell
    # in Python, the way a reader would: it may hold at most this many cells
    max_slow_scan_cells: int = 250_000
    max_tag_bytes: int = 1 * MB  # longest run without '>' in a sheet (Excel caps a cell at 32767 chars)


DEFAULT_LIMITS = GuardLimits()


@dataclass(frozen=True)
class GuardResult:
    """The verdict on one file: what it is, whether a reader may open it, and why not."""

    detected: Detected
    readable: bool
    findings: tuple[Finding, ...]
    # short machine reasons, one per finding, e.g. "zip-ratio", "extent", "entities"
    reasons: tuple[str, ...] = ()


class _Refusal(KpisheetError):
    def __init__(self, reason: str, finding: Finding):
        super().__init__(finding.message_zh, finding.message_en)
        self.reason = reason
        self.finding = finding


def guard_file(path: str | Path, limits: GuardLimits = DEFAULT_LIMITS) -> GuardResult:
    """Guard the file at ``path`` (see :func:`guard_bytes`)."""
    return read_guarded(path, limits)[0]


def read_guarded(path: str | Path, limits: GuardLimits = DEFAULT_LIMITS) -> tuple[GuardResult, bytes | None]:
    """The verdict on ``path`` and the bytes it was reached on (None when they were never read).

    A lock file or an oversized file is judged without reading it. A reader
    must use the returned bytes, never the path again: the file may change in
    between, and what was checked must be what is read.
    """
    path = Path(path)
    if is_lock_name(path.name):
        return _refused(LOCK, "lock", make_finding("file-lock", name=path.name)), None
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        return _oversized(size, limits), None
    data = path.read_bytes()
    return guard_bytes(data, path.name, limits), data


def guard_bytes(data: bytes, name: str = "", limits: GuardLimits = DEFAULT_LIMITS) -> GuardResult:
    """Classify ``data`` (a file named ``name``) and decide whether a spreadsheet reader may open it.

    Never raises for bad input: every problem becomes a file-level finding.
    Read the same bytes afterwards (not the path again), so that what was
    checked is what is read.
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
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, IndexError):
        detected = sniff_unzipped(data)
        return _refused(detected, "truncated", _unreadable(
            "文件已损坏或不完整（可能在复制或传输中被截断）",
            "the file is damaged or incomplete (probably cut off while copying or sending)"))
    with archive:
        return _guard_zip(archive, limits)


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


def _guard_zip(archive: zipfile.ZipFile, limits: GuardLimits) -> GuardResult:
    infos = archive.infolist()
    try:
        _check_directory(infos, limits)
        mimetype = _small_member(archive, infos, "mimetype")
        detected = sniff_zip([info.filename for info in infos], mimetype)
        if detected.kind != XLSX:
            return _wrong_format(detected)
        content_types = _scan_parts(archive, infos, limits)
    except _Refusal as refusal:
        return _refused(sniff_zip([i.filename for i in infos], None), refusal.reason, refusal.finding)
    macros = _macro_parts(infos, content_types)
    if macros:
        what_zh = "、".join(zh for zh, _ in macros)
        what_en = ", ".join(en for _, en in macros)
        return GuardResult(Detected(XLSM, "含宏的 Excel 工作簿（.xlsm）", "a macro-enabled Excel workbook (.xlsm)"),
                           readable=True, findings=(make_finding("file-has-macros", what_zh=what_zh, what_en=what_en),),
                           reasons=("macros",))
    return GuardResult(detected, readable=True, findings=())


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


def _small_member(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], name: str) -> bytes | None:
    """A tiny member such as ODF's ``mimetype`` (never more than 200 bytes read)."""
    for info in infos:
        if info.filename == name and info.file_size <= 200:
            return b"".join(_inflate(archive, info, DEFAULT_LIMITS))
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
    if not found and b"macroEnabled" in content_types:
        found.append(("启用宏的文件类型", "a macro-enabled file type"))
    return found


# --- streaming the XML parts ------------------------------------------------------------

# What may precede a part's root element besides a DOCTYPE: a BOM, whitespace,
# the XML declaration and other processing instructions, comments. XML allows
# a DOCTYPE (and so ENTITY declarations) only there; parsers reject one later.
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
_CHUNK = 4 * MB


def _scan_parts(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: GuardLimits) -> bytes:
    """Inflate every XML part once, checking entities, encoding and (for sheets) cell extent.

    Returns the content-types part, for the macro check.
    """
    inflated = 0
    cells = 0
    content_types = b""
    for info in infos:
        lower = info.filename.lower()
        is_sheet = lower.startswith(_SHEET_DIRS) and not lower.endswith(".rels")
        if not (is_sheet or lower.endswith(_XML_SUFFIXES)):
            continue  # images, printer settings, vbaProject.bin: no reader parses them as XML
        extent = SheetExtent(limits) if is_sheet else None
        first = True
        for chunk in _inflate(archive, info, limits):
            if first:
                _check_head(info.filename, chunk, len(chunk) < info.file_size)
                if extent is not None:
                    extent.declared(chunk)
                first = False
            inflated += len(chunk)
            if inflated > limits.max_total_bytes:
                raise _Refusal("total-size", _too_large(
                    f"压缩包解压后超过 {limits.max_total_bytes / MB:.0f} MB",
                    f"the archive inflates to over {limits.max_total_bytes / MB:.0f} MB",
                    inflated, limits.max_total_bytes))
            if extent is not None:
                if len(chunk) == info.file_size:
                    extent.scan_part(chunk)
                else:
                    extent.feed(chunk)
            elif lower == "[content_types].xml" and len(content_types) < MB:
                content_types += chunk
        if extent is not None:
            extent.finish()
            if extent.careful:
                extent.scan_careful(_inflate(archive, info, limits))
            _check_extent(archive, info, extent, limits)
            cells += extent.rows * extent.columns
            if cells > limits.max_cells:
                raise _Refusal("cells", _too_large(
                    f"各工作表的单元格范围合计 {cells:,} 个，超过上限 {limits.max_cells:,} 个",
                    f"the sheets span {cells:,} cells in all, over the {limits.max_cells:,} limit",
                    cells, limits.max_cells))
    return content_types


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: GuardLimits) -> Iterator[bytes]:
    """Inflate one member in chunks, never yielding more than its declared size.

    zipfile stops at the declared size and trusts it, so the member is opened
    with a declared size one byte larger: a byte beyond the declaration means
    the header lies, and another reader would have kept inflating. The CRC
    is left to the reader (python-calamine verifies it); here it would only
    hide the overrun.
    """
    declared, expected_crc = info.file_size, info.CRC
    seen = 0
    try:
        # zipfile reads both at open; the entry is restored right after
        info.file_size = declared + 1
        del info.CRC  # zipfile would check it at the shifted end and hide the overrun
        try:
            stream = archive.open(info)
        finally:
            info.file_size, info.CRC = declared, expected_crc
        with stream:
            while True:
                chunk = stream.read(min(_CHUNK, declared + 1 - seen))
                if not chunk:
                    break
                seen += len(chunk)
                if seen > declared:
                    raise _Refusal("size-lie", _too_large(
                        f"压缩包成员 {info.filename} 实际解压数据多于声明的 {declared:,} 字节（声明大小造假，疑似 zip 炸弹）",
                        f"archive member {info.filename} inflates to more than its declared {declared:,} bytes "
                        "(the sizes lie: a likely zip bomb)", seen, declared))
                yield chunk
    except (_Refusal, MemoryError):
        raise
    except Exception as error:  # BadZipFile, zlib.error, OSError...: a broken member
        raise _Refusal("damaged", _unreadable(
            f"压缩包成员 {info.filename} 已损坏（{error}）", f"archive member {info.filename} is damaged ({error})")) from None
    if seen < declared:
        raise _Refusal("damaged", _unreadable(
            f"压缩包成员 {info.filename} 比声明的短（{seen:,} / {declared:,} 字节），文件已损坏",
            f"archive member {info.filename} is shorter than declared ({seen:,} of {declared:,} bytes): the file is damaged"))


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


# --- sheet extent -----------------------------------------------------------------------

# Canonical writers (Excel, WPS, LibreOffice, openpyxl, xlsxwriter) write every
# cell as <c r="B7" ...>, r first. A reader places a cell by its r alone, so
# then the rows do not matter. This pattern captures each cell's r, or b'' for a
# c element written otherwise (no r, r not first, other quoting), which sends
# the sheet to the careful scan.
_CANONICAL = re.compile(rb"""<c(?:\sr="([A-Za-z]*\d*)"|[\s/>])""")
# the same for namespace-prefixed cells (<x:c r="B7">): readers match local names
_PREFIXED = re.compile(rb":c[\s/>]")
_CANONICAL_PREFIXED = re.compile(rb"""<[\w.-]+:c(?:\sr="([A-Za-z]*\d*)"|[\s/>])""")
# careful scan: a row end tag, or a c/row start tag with its attributes, any prefix
_TAG = re.compile(rb"(</(?:[\w.-]+:)?row\s*>)|<(?:[\w.-]+:)?(c|row)(?=[\s/>])([^>]*)>")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*["']([^"']*)["']""")
_DIMENSION = re.compile(rb"""<(?:[\w.-]+:)?dimension\s[^>]*?\bref\s*=\s*["']([^"']*)["']""")
_REF = re.compile(rb"([A-Za-z]{0,7})(\d{0,10})")
_DIGITS = b"0123456789"
_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))


def column_number(letters: bytes | str) -> int:
    """'A' -> 1, 'XFD' -> 16384 (case-insensitive, as readers parse it)."""
    number = 0
    for char in letters.upper() if isinstance(letters, str) else letters.upper().decode("ascii"):
        number = number * 26 + ord(char) - 64
    return number


class SheetExtent:
    """The farthest row and column one worksheet declares or holds (1-based), fed in chunks."""

    def __init__(self, limits: GuardLimits) -> None:
        self.limits = limits
        self.rows = 0
        self.columns = 0
        self.dimension = ""
        self.careful = False  # a cell without a reference: rescan tag by tag
        self.cells = 0  # cell elements seen
        self._carry = b""

    def declared(self, head: bytes) -> None:
        match = _DIMENSION.search(head, 0, 65536)
        if match:
            self.dimension = match.group(1).decode("ascii", "replace")

    def scan_part(self, data: bytes) -> None:
        """A whole sheet part at once: only its sheetData holds cells a reader will place.

        Readers take cells from the first sheetData start to the first
        sheetData end. Scanning from the first mention of 'sheetData' to the
        last one covers that range whatever comments or quoted text hold, and
        skips the validations and formatting rules that follow the cells.
        """
        start = data.find(b"sheetData")
        end = data.rfind(b"sheetData")
        if start < 0:
            self._scan_canonical(data)
        else:
            self._scan_canonical(data, start, end)

    def feed(self, chunk: bytes) -> None:
        """Scan what is complete up to the chunk's last '>' and carry the rest to the next chunk."""
        data = self._carry + chunk if self._carry else chunk
        cut = data.rfind(b">") + 1
        if cut == len(data):
            self._carry = b""
            self._scan_canonical(data)
            return
        self._carry = data[cut:]
        self._check_carry()
        self._scan_canonical(data[:cut])

    def finish(self) -> None:
        if self._carry:
            self._scan_canonical(self._carry)
        self._carry = b""
        if self.careful and self.cells > self.limits.max_slow_scan_cells:
            raise _Refusal("cells", _too_large(
                f"工作表有 {self.cells:,} 个单元格未写明位置（r），超过可逐个核对的上限 {self.limits.max_slow_scan_cells:,} 个",
                f"a sheet holds {self.cells:,} cells written without their reference (r), over the "
                f"{self.limits.max_slow_scan_cells:,} that can be placed one by one", self.cells,
                self.limits.max_slow_scan_cells))

    def _check_carry(self) -> None:
        if len(self._carry) > self.limits.max_tag_bytes:
            raise _Refusal("tag-size", _unreadable(
                "工作表含有超长的 XML 片段，不是正常的工作表", "a sheet holds an absurdly long XML run; it is not a normal sheet"))

    def _scan_canonical(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        end = len(data) if end is None else end
        values = _CANONICAL.findall(data, start, end)
        if _PREFIXED.search(data, start, end):
            values += _CANONICAL_PREFIXED.findall(data, start, end)
        self.cells += len(values)
        if self.cells > self.limits.max_cells:
            raise _Refusal("cells", _too_large(
                f"工作表含有超过 {self.limits.max_cells:,} 个单元格", f"a sheet holds over {self.limits.max_cells:,} cells",
                self.cells, self.limits.max_cells))
        if b"" in values:
            self.careful = True
        if self.careful or not values:
            return
        # one C-level pass per part instead of a Python step per cell
        joined = b" ".join(values)
        rows = set(joined.translate(None, _LETTERS).split())
        if rows:
            self._row(max(map(int, rows)))
        for letters in set(joined.translate(None, _DIGITS).split()):
            self._column(column_number(letters))

    def scan_careful(self, chunks: Iterator[bytes]) -> None:
        """Follow a reader's position logic tag by tag: a cell without r takes the next position.

        Python-speed, so it is bounded by ``max_slow_scan_cells`` beforehand
        and stops as soon as the extent passes a limit.
        """
        limits = self.limits
        row = col = 0  # 0-based, as readers keep them
        self._carry = b""
        for chunk in chunks:
            data = self._carry + chunk
            cut = data.rfind(b">") + 1
            self._carry = data[cut:]
            self._check_carry()
            for row_end, name, attributes in _TAG.findall(data, 0, cut):
                if row_end:
                    row, col = row + 1, 0
                elif name == b"row":
                    number = _ref_row(_r_value(attributes))
                    if number:
                        row = number - 1
                    self._row(row + 1)
                    if attributes.endswith(b"/"):  # <row/> opens and closes
                        row, col = row + 1, 0
                else:
                    ref = _r_value(attributes)
                    letters, number = _ref_letters(ref), _ref_row(ref)
                    if letters and number:
                        self._row(number)
                        col = column_number(letters) - 1
                    else:
                        self._row(row + 1)
                    self._column(col + 1)
                    col += 1
            if self.rows > limits.max_rows or self.columns > limits.max_columns:
                break
        self._carry = b""
        self.careful = False

    def _row(self, number: int) -> None:
        if number > self.rows:
            self.rows = number

    def _column(self, number: int) -> None:
        if number > self.columns:
            self.columns = number


def _r_value(attributes: bytes) -> bytes:
    match = _R_ATTR.search(attributes)
    return match.group(1) if match else b""


def _ref_row(ref: bytes) -> int:
    match = _REF.fullmatch(ref)
    return int(match.group(2)) if match and match.group(2) else 0


def _ref_letters(ref: bytes) -> bytes:
    match = _REF.fullmatch(ref)
    return match.group(1) if match else b""


def _parse_dimension(ref: str) -> tuple[int, int]:
    """'A1:Q201' -> (201, 17): the far corner a sheet declares; (0, 0) if unreadable."""
    rows = columns = 0
    for corner in ref.split(":"):
        match = _REF.fullmatch(corner.strip().replace("$", "").encode("ascii", "replace"))
        if match and match.group(1) and match.group(2):
            rows = max(rows, int(match.group(2)))
            columns = max(columns, column_number(match.group(1)))
    return rows, columns


def _check_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo, extent: SheetExtent, limits: GuardLimits) -> None:
    declared_rows, declared_columns = _parse_dimension(extent.dimension)
    if declared_rows > limits.max_rows or declared_columns > limits.max_columns:
        sheet = _sheet_label(archive, info.filename)
        raise _Refusal("dimension", _too_large(
            f"工作表 {sheet} 声明的范围为 {extent.dimension}（{declared_rows:,} 行 × {declared_columns:,} 列），"
            f"超出上限（{limits.max_rows:,} 行、{limits.max_columns} 列）",
            f"sheet {sheet} declares the range {extent.dimension} ({declared_rows:,} rows x {declared_columns:,} "
            f"columns), beyond the limit ({limits.max_rows:,} rows, {limits.max_columns} columns)",
            extent.dimension, f"{limits.max_rows} rows x {limits.max_columns} columns"))
    if extent.rows > limits.max_rows or extent.columns > limits.max_columns:
        sheet = _sheet_label(archive, info.filename)
        where = f"第 {extent.rows:,} 行、第 {extent.columns:,} 列"
        raise _Refusal("extent", _too_large(
            f"工作表 {sheet} 含有远端单元格（最远到{where}），超出上限（{limits.max_rows:,} 行、{limits.max_columns} 列）",
            f"sheet {sheet} holds cells as far as row {extent.rows:,}, column {extent.columns:,}, beyond the limit "
            f"({limits.max_rows:,} rows, {limits.max_columns} columns)",
            f"row {extent.rows}, column {extent.columns}", f"{limits.max_rows} rows x {limits.max_columns} columns"))


def _sheet_label(archive: zipfile.ZipFile, part: str) -> str:
    """The sheet's name as the user sees it ('考核评分 (xl/worksheets/sheet2.xml)'), best effort."""
    try:
        from defusedxml import ElementTree

        def small(name: str) -> bytes:
            info = archive.getinfo(name)
            if info.file_size > 4 * MB:
                raise ValueError(name)
            return archive.read(info)

        ns_rel = "{http://schemas.openxmlformats.org/package/2006/relationships}"
        ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
        ns_r = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
        rels = ElementTree.fromstring(small("xl/_rels/workbook.xml.rels"))
        targets = {}
        for rel in rels.iter(f"{ns_rel}Relationship"):
            target = rel.get("Target", "").lstrip("/")
            targets[rel.get("Id")] = target if target.startswith("xl/") else f"xl/{target}"
        workbook = ElementTree.fromstring(small("xl/workbook.xml"))
        for sheet in workbook.iter(f"{ns_main}sheet"):
            if targets.get(sheet.get(f"{ns_r}id"), "").lower() == part.lower():
                return f"“{sheet.get('name')}” ({part})"
    except Exception:  # naming is a courtesy: the refusal stands without it
        pass
    return part


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

