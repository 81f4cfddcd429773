"""Reading and writing a live workbook through xlwings, in whole blocks (one call per sheet or block).

Empty cells come back as '' and numbers as floats, as python-calamine gives
them, so the same core readers serve files on disk and open workbooks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlwings as xw

from kpisheet.xladdin.master.io import FORMULA_LEADS


def sheet_names(book: xw.Book) -> list[str]:
    return [sheet.name for sheet in book.sheets]


def read_sheet(sheet: xw.Sheet) -> list[list]:
    """The sheet's values from A1 to the end of its used range, in one read.

    Empty cells are '' and numbers floats, as python-calamine gives them, so
    the same core readers serve files on disk and open workbooks.
    """
    last = sheet.used_range.last_cell
    values = sheet.range((1, 1), (last.row, last.column)).options(ndim=2, empty="").value
    return values or [[]]


def read_sheets(book: xw.Book, names) -> dict[str, list[list]]:
    present = set(sheet_names(book))
    return {name: read_sheet(book.sheets[name]) for name in names if name in present}


def fresh_sheet(book: xw.Book, name: str) -> xw.Sheet:
    """The sheet ``name``, emptied, or a new one at the end of the book."""
    if name in sheet_names(book):
        sheet = book.sheets[name]
        sheet.clear()
        return sheet
    return book.sheets.add(name, after=book.sheets[len(book.sheets) - 1])


def write_block(sheet: xw.Sheet, row: int, col: int, rows: list[list]) -> None:
    """Write a rectangular block at 0-based (row, col) in one call."""
    if rows and rows[0]:
        sheet.range((row + 1, col + 1)).value = rows


def own_file(book: xw.Book) -> Path | None:
    """The workbook's file, or None when it was never saved (or the engine has no files)."""
    try:
        path = Path(book.fullname)
    except Exception:
        return None
    return path if path.is_absolute() and path.parent.is_dir() else None


def literal(value):
    """A value as Excel must keep it: text that looks like a formula stays text."""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_LEADS) else value
    if value is None or isinstance(value, (bool, int, float, dt.date, dt.datetime)):
        return "" if value is None else value
    return str(value)
