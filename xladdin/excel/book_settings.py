"""HR's settings as a live workbook holds them, and the one rulebook in force for that workbook.

Both faces inside Excel (the ribbon buttons and the worksheet functions) find
the rulebook here, so ``=KPI_GRADE(...)`` in a cell and 校验本表 in the same
book grade with the same rulebook.
"""

from __future__ import annotations

import os
import time

import xlwings as xw

from kpisheet.validators.layout import GOALS
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.xladdin.excel.book_io import own_file, read_sheet, sheet_names, write_block
from kpisheet.xladdin.excel.errors import HandlerError
from kpisheet.xladdin.excel.rulebook_source import rulebook_path
from kpisheet.xladdin.excel.settings import (
    MasterSettings, addin_rulebook, missing_rows, parse_settings, read_settings_file, remembered_master,
)
from kpisheet.xladdin.master import layout as M

# A recalculation calls the worksheet functions hundreds of times in a second; the
# rulebook of a workbook is looked up once per this many seconds, not once per cell.
CELL_RULEBOOK_SECONDS = 2.0
_cell_rulebooks: dict[tuple, tuple[float, Rulebook]] = {}


def settings_of(book: xw.Book, *, required: bool = True, amend: bool = True) -> MasterSettings | None:
    """HR's settings: the 设置 sheet of this workbook, else of the master the add-in remembers.

    A 设置 sheet without some items gets them appended (unless ``amend`` is
    false: a worksheet function must not change the book). For a folder button
    pressed in a workbook with neither, a 设置 sheet is added for HR to fill in.
    """
    names = sheet_names(book)
    own = own_file(book)
    if M.SETTINGS in names:
        sheet = book.sheets[M.SETTINGS]
        rows = read_sheet(sheet)
        settings = parse_settings(rows, workbook=book.name, base=own.parent if own else None, this_workbook=own)
        if settings.missing and amend:
            added = missing_rows(settings)
            width = max(len(rows[0]) if rows and rows[0] else 0, 3)
            write_block(sheet, len(rows), 0, [row + [""] * (width - len(row)) for row in added])
            rows = rows + added
            settings = parse_settings(rows, workbook=book.name, base=own.parent if own else None, this_workbook=own)
        return settings
    master = remembered_master()
    if master is not None:
        return read_settings_file(master)
    if not required:
        return None
    if GOALS in names:
        raise HandlerError(
            "此按钮要用汇总表“设置”工作表里的路径。请打开 HR 汇总表，在汇总表中点此按钮。",
            "This button takes its paths from the 设置 sheet of HR's master: open the master and press the "
            "button there.")
    sheet = book.sheets.add(M.SETTINGS, after=book.sheets[len(book.sheets) - 1])
    write_block(sheet, 0, 0, [[c.header for c in M.SETTINGS_COLUMNS]]
                + [[item.label, "", item.note] for item in M.SETTING_ITEMS])
    for col, column in enumerate(M.SETTINGS_COLUMNS):
        sheet.range((1, col + 1)).column_width = column.width
    sheet.activate()
    raise HandlerError(
        f"本工作簿还没有“{M.SETTINGS}”工作表，已为您添加。请在“值”列填写收件文件夹、花名册、考核期间等，"
        "保存后再点一次。汇总表留空表示本工作簿。",
        f"This workbook had no {M.SETTINGS} sheet; one was added. Fill in the Value column (inbox folder, roster, "
        "period, ...), save, and press the button again. A blank master means this workbook.")


def rulebook_of(book: xw.Book, *, amend: bool = True) -> Rulebook:
    """The rulebook in force for ``book``: the one every button and worksheet function of it uses.

    The rulebook of HR's settings (this book's 设置 sheet, else the remembered
    master's) when there are any, else the add-in's own (KPISHEET_RULEBOOK or
    the built-in default).
    """
    return rulebook_from(settings_of(book, required=False, amend=amend))


def rulebook_from(settings: MasterSettings | None) -> Rulebook:
    """The rulebook of ``settings`` (see :func:`rulebook_of`), for a handler that needs the settings too."""
    return settings.rulebook() if settings is not None else addin_rulebook()


def cell_rulebook(caller) -> Rulebook:
    """The rulebook for a worksheet function called from the cell ``caller`` (None outside Excel).

    The same as :func:`rulebook_of` for the cell's workbook, read without
    changing the workbook, and remembered for a couple of seconds.
    """
    book = caller.sheet.book if caller is not None else None
    master, named = remembered_master(), rulebook_path()
    # a changed master or KPISHEET_RULEBOOK file is seen at once; a changed 设置 sheet within seconds
    key = (_book_key(book), str(master), _stamp(master), named, _stamp(named))
    now = time.monotonic()
    cached = _cell_rulebooks.get(key)
    if cached is not None and now - cached[0] < CELL_RULEBOOK_SECONDS:
        return cached[1]
    if book is not None:
        rulebook = rulebook_of(book, amend=False)
    else:
        rulebook = rulebook_from(read_settings_file(master) if master is not None and master.is_file() else None)
    _cell_rulebooks.clear()
    _cell_rulebooks[key] = (now, rulebook)
    return rulebook


def _stamp(path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns if path else None
    except OSError:
        return None


def _book_key(book) -> str:
    if book is None:
        return ""
    try:
        return str(book.fullname)
    except Exception:  # an engine without file names
        return str(book.name)
