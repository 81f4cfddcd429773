"""What every data sheet shares: title lines, bilingual headers, print set-up,
protection, and writing a value as exactly what it is (text never becomes a formula)."""

from __future__ import annotations

import datetime as dt

from xlsxwriter.worksheet import Worksheet

from validators.layout import HEADER_ROW, INFO_ROW, TITLE_ROW, Column, col_letter

from .plan import TeamPlan
from .styles import Formats, fitted_width

A4 = 9
HEADER_HEIGHT = 42  # points: two wrapped lines of Chinese plus English
ROW_HEIGHT = 18


def put(sheet: Worksheet, row: int, col: int, value, fmt=None) -> None:
    """Write a Python value by its type; a str is always literal text, even '=1+1'."""
    if value is None or value == "":
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        sheet.write_datetime(row, col, value, fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def formula(sheet: Worksheet, row: int, col: int, text: str, fmt, cached) -> None:
    """A formula with its cached result: what Python knows now, '' for empty.

    LibreOffice shows cached results of .xlsx files without recalculating, so
    they must be right, not xlsxwriter's default 0.
    """
    sheet.write_formula(row, col, text, fmt, "" if cached is None else cached)


def info_line(plan: TeamPlan) -> str:
    p = plan.period
    span = f"（{p.start:%Y-%m-%d} 至 {p.end:%Y-%m-%d}）" if p.start and p.end else ""
    return (f"考核周期 Period：{p.label_zh} {p.canonical}{span}　部门 Department：{plan.department}"
            f"　团队 Team：{plan.team}")


def write_frame(sheet: Worksheet, formats: Formats, plan: TeamPlan, title: str,
                columns: tuple[Column, ...], widths: list[float]) -> None:
    """Title, info line and header row; widths, frozen panes, page set-up."""
    sheet.set_row(TITLE_ROW, 24)
    sheet.write_string(TITLE_ROW, 0, title, formats.title)
    sheet.write_string(INFO_ROW, 0, info_line(plan), formats.info)
    sheet.set_row(HEADER_ROW, HEADER_HEIGHT)
    for col, (column, width) in enumerate(zip(columns, widths)):
        sheet.write_string(HEADER_ROW, col, column.header, formats.header)
        sheet.set_column(col, col, width)
    page_setup(sheet, repeat_from=HEADER_ROW)


def page_setup(sheet: Worksheet, repeat_from: int | None = None,
               freeze_row: int | None = None, freeze_col: int = 2) -> None:
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.fit_to_pages(1, 0)  # one page wide, as many tall as needed
    sheet.set_footer("&C第 &P 页 / 共 &N 页")
    if repeat_from is not None:
        sheet.repeat_rows(repeat_from)
        sheet.freeze_panes((freeze_row if freeze_row is not None else repeat_from) + 1, freeze_col)


def protect(sheet: Worksheet) -> None:
    """Guard rail, not security: no password; locked cells stay selectable, and
    column widths and row heights may still be changed for reading."""
    sheet.protect("", {"format_columns": True, "format_rows": True,
                       "select_locked_cells": True, "select_unlocked_cells": True})


def data_widths(columns: tuple[Column, ...], rows: list[list]) -> list[float]:
    """The layout's widths, widened where a header line or a value needs more room."""
    widths = []
    for i, column in enumerate(columns):
        texts = [column.zh, column.en] + [str(r[i]) for r in rows if i < len(r) and isinstance(r[i], str)]
        widths.append(fitted_width(column.width, *texts, limit=max(column.width, 30)))
    return widths


def ref(col: int, row: int, absolute_col: bool = False, absolute_row: bool = False) -> str:
    return f"{'$' if absolute_col else ''}{col_letter(col)}{'$' if absolute_row else ''}{row + 1}"


def sheet_ref(sheet: str, text: str) -> str:
    return f"'{sheet}'!{text}"


def column_range(col: int, first_row: int, last_row: int, sheet: str | None = None) -> str:
    letter = col_letter(col)
    text = f"${letter}${first_row + 1}:${letter}${last_row + 1}"
    return sheet_ref(sheet, text) if sheet else text


def runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as contiguous (first, last) runs: [3,4,5,9] -> [(3,5),(9,9)]."""
    out: list[tuple[int, int]] = []
    for row in sorted(rows):
        if out and row == out[-1][1] + 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out


def each_run(sheet: Worksheet, rows: list[int], col: int, apply) -> None:
    """Call ``apply(first_row, col, last_row, col)`` per contiguous run of ``rows``
    (formula-based rules are relative to each run's top cell)."""
    for first, last in runs(rows):
        apply(first, col, last, col)


def validate(sheet: Worksheet, rows: list[int], col: int, options: dict) -> None:
    each_run(sheet, rows, col, lambda r1, c1, r2, c2: sheet.data_validation(r1, c1, r2, c2, options))


def highlight(sheet: Worksheet, rows: list[int], col: int, options) -> None:
    """Conditional format per run; ``options`` is a dict, or a function of the
    run's first row for formula rules (relative to the run's top cell)."""
    def apply(r1, c1, r2, c2):
        sheet.conditional_format(r1, c1, r2, c2, options(r1) if callable(options) else options)

    each_run(sheet, rows, col, apply)


def blank_rule(fmt) -> dict:
    return {"type": "blanks", "format": fmt}


def formula_rule(text: str, fmt) -> dict:
    return {"type": "formula", "criteria": text, "format": fmt}
