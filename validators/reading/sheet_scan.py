"""One pass over a sheet part's cells, before any reader sees them: how far they reach, their order, error values.

python-calamine places every cell that holds something (a number, a string,
even an empty one) by its reference and allocates the rectangle from A1 to the
farthest such cell; one cell at XFD1048576 asks for about 512 GB and the
process aborts. A cell written without any content (``<c r="Q1048576" s="3"/>``,
as LibreOffice and Excel write formatted empty cells) is skipped, and so is an
empty row or a declared ``<dimension>``: LibreOffice leaves an empty row
1048576 and the range ``A1:Q1048576`` behind after a row is deleted. So the
extent counted here is the extent of the cells, not of rows or declarations;
an empty cell only counts when it is far, and then a second look tells it apart.

The same pass checks that the cells come in order, each once (a reader keeps
the later of two cells at one reference, so a duplicated reference silently
replaces a value), and notes the cells holding an error value (``#DIV/0!``),
which python-calamine reads as if they were empty.

Canonical writers (Excel, WPS, LibreOffice, openpyxl, xlsxwriter) write each
cell as ``<c r="B7" ...>``, r first: those are matched by one regular
expression over the whole part. A cell written any other way (no r, r not
first, other quoting, a namespace prefix) sends the sheet to a careful,
tag-by-tag pass that places cells the way a reader does.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from operator import add, and_, lt, mul
from typing import Iterable, Iterator

from kpisheet.validators.errors import KpisheetError

# canonical cells: the reference r, or b'' for a c element written otherwise
_CANONICAL = re.compile(rb"""<c(?:\sr="([A-Z]{1,3}[1-9]\d{0,6})"|[\s/>])""")
_PREFIXED = re.compile(rb":c[\s/>]")
_CANONICAL_PREFIXED = re.compile(rb"""<[\w.-]+:c(?:\sr="([A-Z]{1,3}[1-9]\d{0,6})"|[\s/>])""")
# canonical cells that hold something: neither self-closing nor closed at once
_CONTENT = re.compile(rb"""<(?:[\w.-]+:)?c\sr="([A-Z]{1,3})([1-9]\d{0,6})"(?:[^>/]|/(?!>))*>(?!</(?:[\w.-]+:)?c>)""")
# careful pass: a row end tag, or a c/row start tag with its attributes, any prefix
_TAG = re.compile(rb"(</(?:[\w.-]+:)?row\s*>)|<(?:[\w.-]+:)?(c|row)(?=[\s/>])([^>]*)>")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*["']([^"']*)["']""")
_REF = re.compile(rb"([A-Za-z]{0,7})(\d{0,10})")
# error cells: t="e" among a c element's attributes, then its value
_ERROR_TYPE = re.compile(rb"""(?:^|\s)t\s*=\s*["']e["']""")
_ERROR_CELL = re.compile(rb"""<(?:[\w.-]+:)?c\s([^>]*?(?<=\s)t\s*=\s*["']e["'][^>]*)>""")
_VALUE = re.compile(rb"""\s*(?:<(?:[\w.-]+:)?f\b[^>]*?(?:/>|>.*?</(?:[\w.-]+:)?f\s*>)\s*)?<(?:[\w.-]+:)?v\s*>([^<]{0,64})<""",
                    re.S)
_MAX_ERRORS = 10_000  # kept per sheet; a sheet of nothing but errors is refused by its cell count anyway

# 'A' -> 1 ... 'ZZZ' -> 18278: looked up in C instead of computed in Python per cell
_COLUMN_NUMBERS: dict[bytes, int] = {
    "".join(letters).encode(): number
    for number, letters in enumerate(
        itertools.chain.from_iterable(itertools.product("ABCDEFGHIJKLMNOPQRSTUVWXYZ", repeat=n) for n in (1, 2, 3)),
        start=1)
}
_ROW_FACTOR = 1 << 15  # above any column number: row * factor + column orders cells as a reader does
_DIGITS = b"0123456789"
_LETTERS = bytes(range(65, 91))
# Every reference of a small table (a team workbook's sheets fit in it) with its order key, made on first
# use: one dictionary look-up per cell instead of parsing each reference (about 32,000 entries, 3 MB).
_SMALL_ROWS, _SMALL_COLUMNS = 1000, 32
_small_keys: dict[bytes, int] = {}


def _small_table() -> dict[bytes, int]:
    if not _small_keys:
        letters = [(key, number) for key, number in _COLUMN_NUMBERS.items() if number <= _SMALL_COLUMNS]
        _small_keys.update((key + str(row).encode(), row * _ROW_FACTOR + number)
                           for row in range(1, _SMALL_ROWS + 1) for key, number in letters)
    return _small_keys


def column_number(letters: bytes | str) -> int:
    """'A' -> 1, 'XFD' -> 16384 (case-insensitive, as readers parse it)."""
    number = 0
    for char in letters.upper() if isinstance(letters, str) else letters.upper().decode("ascii"):
        number = number * 26 + ord(char) - 64
    return number


def cell_ref(row: int, column: int) -> str:
    """(7, 2) -> 'B7' (1-based)."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


@dataclass
class SheetScan:
    """What one sheet part holds: extent of its cells (1-based), cell count, order, error cells."""

    rows: int = 0
    columns: int = 0
    cells: int = 0  # c elements seen, empty or not
    careful: bool = False  # a cell written otherwise than <c r="A1": the tag-by-tag pass decides
    disorder: str = ""  # the first reference out of order or repeated, '' if none
    errors: dict[str, str] = field(default_factory=dict)  # A1 -> the error value shown, e.g. '#DIV/0!'
    _last: int = 0  # the order key of the last canonical cell seen
    _carry: bytes = b""

    # --- the canonical pass ---------------------------------------------------------------

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
            start, end = 0, len(data)
        self._scan(data, start, end)

    def feed(self, chunk: bytes, max_tag_bytes: int) -> None:
        """A part too large to hold: scan up to the chunk's last '>' and carry the rest to the next chunk."""
        data = self._carry + chunk if self._carry else chunk
        cut = data.rfind(b">") + 1
        self._carry = data[cut:]
        if len(self._carry) > max_tag_bytes:
            raise TagTooLong()
        self._scan(data, 0, cut)

    def finish(self) -> None:
        if self._carry:
            self._scan(self._carry, 0, len(self._carry))
        self._carry = b""

    def _scan(self, data: bytes, start: int, end: int) -> None:
        refs = _CANONICAL.findall(data, start, end)
        if _PREFIXED.search(data, start, end):
            prefixed = _CANONICAL_PREFIXED.findall(data, start, end)
            if refs:  # both spellings: only the careful pass knows their order
                self.careful = True
            refs += prefixed
        self.cells += len(refs)
        if self.careful or not refs:
            return
        if b"" in refs:
            self.careful = True
            return
        # C-level passes over the whole part instead of Python steps per cell
        keys = list(map(_small_table().get, refs))
        if None in keys:  # a reference beyond the small table: parse them all
            joined = b" ".join(refs)
            rows = list(map(int, joined.translate(None, _LETTERS).split()))
            columns = list(map(_COLUMN_NUMBERS.__getitem__, joined.translate(None, _DIGITS).split()))
            keys = list(map(add, map(mul, rows, itertools.repeat(_ROW_FACTOR)), columns))
        if not self.disorder and not (self._last < keys[0] and all(map(lt, keys, itertools.islice(keys, 1, None)))):
            self.disorder = self._first_disorder(refs, keys)
        self._last = keys[-1]
        # in order, the last cell has the highest row
        self._reach((max(keys) if self.disorder else keys[-1]) // _ROW_FACTOR,
                    max(map(and_, keys, itertools.repeat(_ROW_FACTOR - 1))))
        # every error value starts with '#' (#DIV/0!, #N/A ...): one memchr pass says whether to look closer
        if data.find(b"#", start, end) >= 0 and len(self.errors) < _MAX_ERRORS:
            self._errors(data, start, end)

    def _first_disorder(self, refs: list[bytes], keys: list[int]) -> str:
        last = self._last
        for ref, key in zip(refs, keys):
            if key <= last:
                return ref.decode("ascii")
            last = key
        return ""

    def _errors(self, data: bytes, start: int, end: int) -> None:
        for match in _ERROR_CELL.finditer(data, start, end):
            attributes = match.group(1)
            if attributes.endswith(b"/"):
                continue  # an empty cell typed as an error shows nothing
            ref = _R_ATTR.search(attributes)
            value = _VALUE.match(data, match.end())
            if ref:
                self.errors[ref.group(1).decode("ascii", "replace").upper()] = _text(value)
            if len(self.errors) >= _MAX_ERRORS:
                return

    def _reach(self, row: int, column: int) -> None:
        if row > self.rows:
            self.rows = row
        if column > self.columns:
            self.columns = column

    # --- the second look at far cells ------------------------------------------------------

    def content_extent(self, chunks: Iterable[bytes], max_tag_bytes: int) -> None:
        """Recount the extent over the cells that hold something (the far ones may all be empty)."""
        self.rows = self.columns = 0
        carry = b""
        for chunk in chunks:
            data = carry + chunk
            cut = data.rfind(b">") + 1
            carry = data[cut:]
            if len(carry) > max_tag_bytes:
                raise TagTooLong()
            for letters, digits in _CONTENT.findall(data, 0, cut):
                self._reach(int(digits), _COLUMN_NUMBERS[letters])

    # --- the careful pass -------------------------------------------------------------------

    def scan_careful(self, chunks: Iterable[bytes], max_rows: int, max_columns: int, max_tag_bytes: int) -> None:
        """Follow a reader's position logic tag by tag: a cell without r takes the next position.

        Python-speed, so the caller bounds the number of cells beforehand; it
        stops as soon as the extent passes a limit. Empty (self-closing)
        cells take a position but do not count in the extent.
        """
        self.rows = self.columns = 0
        self.disorder = ""
        self.errors.clear()
        row = col = 0  # 0-based, as readers keep them
        last = -1
        carry = b""
        for chunk in chunks:
            data = carry + chunk
            cut = data.rfind(b">") + 1
            carry = data[cut:]
            if len(carry) > max_tag_bytes:
                raise TagTooLong()
            for match in _TAG.finditer(data, 0, cut):
                row_end, name, attributes = match.groups()
                if row_end:
                    row, col = row + 1, 0
                elif name == b"row":
                    number = _ref_row(_r_value(attributes))
                    if number:
                        row = number - 1
                    if attributes.endswith(b"/"):  # <row/> opens and closes
                        row, col = row + 1, 0
                else:
                    ref = _r_value(attributes)
                    letters, number = _ref_letters(ref), _ref_row(ref)
                    if letters and number:
                        row, col = number - 1, column_number(letters) - 1
                    key = row * _ROW_FACTOR + col
                    if key <= last and not self.disorder:
                        self.disorder = cell_ref(row + 1, col + 1)
                    last = key
                    if not attributes.endswith(b"/"):
                        self._reach(row + 1, col + 1)
                        if _ERROR_TYPE.search(attributes) and len(self.errors) < _MAX_ERRORS:
                            self.errors[cell_ref(row + 1, col + 1)] = _text(_VALUE.match(data, match.end()))
                    col += 1
            if self.rows > max_rows or self.columns > max_columns:
                break
        self.careful = False


class TagTooLong(KpisheetError):
    """A run without any '>' longer than a sane tag: not a sheet (the guard's finding says so)."""

    def __init__(self) -> None:
        super().__init__("工作表含有超长的 XML 片段", "the sheet holds an absurdly long XML run")


def _text(match: re.Match | None) -> str:
    if match is None:
        return "#ERROR"
    return match.group(1).decode("utf-8", "replace").strip() or "#ERROR"


def _r_value(attributes: bytes) -> bytes:
    match = _R_ATTR.search(attributes)
    return match.group(1) if match else b""


def _ref_row(ref: bytes) -> int:
    match = _REF.fullmatch(ref)
    return int(match.group(2)) if match and match.group(2) else 0


def _ref_letters(ref: bytes) -> bytes:
    match = _REF.fullmatch(ref)
    return match.group(1) if match else b""


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]
