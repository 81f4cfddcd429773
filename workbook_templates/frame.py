"""What every data sheet shares: title lines, bilingual headers, print set-up,
protection, and writing a value as exactly what it is (text never becomes a formula)."""

from __future__ import annotations

import datetime as dt

from xlsxwriter.utility import xl_range
from xlsxwriter.worksheet import Worksheet

from kpisheet.validators.layout import HEADER_ROW, INFO_ROW, TITLE_ROW, Column, col_letter

from kpisheet.workbook_templates.plan import TeamPlan
from kpisheet.workbook_templates.styles import Formats, fitted_width

A4 = 9
TITLE_HEIGHT = 24  # points
INFO_HEIGHT = 15
HEADER_HEIGHT = 42  # two wrapped lines of Chinese plus English
# One line of 10-point text as Excel (等线) and LibreOffice (its CJK substitute)
# lay it out. Rows have fixed heights, because LibreOffice does not autofit
# rows when it opens an .xlsx and the page breaks below need known heights.
LINE_POINTS = 13.5
# Data rows on 目标设定, 考核评分 and 汇总 each hold a free-text cell, so they
# are two lines tall: a wrapped second line would otherwise be drawn over the
# next row. Longer text is cut off at the cell's foot (free-text cells are
# top-aligned) and shows in full in the formula bar.
TEXT_LINES = 2
ROW_HEIGHT = TEXT_LINES * LINE_POINTS + 1  # 28 points: two lines and the cell's padding


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
    span = f"（{p.start:%Y-%m-%d} 至 {p.end:%Y-%m-%d}）" if p else ""
    return (f"考核周期 Period：{plan.period_label_zh} {plan.period_code}{span}　部门 Department：{plan.department}"
            f"　团队 Team：{plan.team}")


def write_frame(sheet: Worksheet, formats: Formats, plan: TeamPlan, title: str,
                columns: tuple[Column, ...], widths: list[float], title_col: int = 0) -> None:
    """Title, info line and header row, and column widths (page set-up is the caller's)."""
    write_title(sheet, formats, plan, title, title_col)
    sheet.set_row(HEADER_ROW, HEADER_HEIGHT)
    for col, (column, width) in enumerate(zip(columns, widths)):
        sheet.write_string(HEADER_ROW, col, column.header, formats.header)
        sheet.set_column(col, col, width)


def write_title(sheet: Worksheet, formats: Formats, plan: TeamPlan, title: str, col: int = 0) -> None:
    sheet.set_row(TITLE_ROW, TITLE_HEIGHT)
    sheet.write_string(TITLE_ROW, col, title, formats.title)
    sheet.set_row(INFO_ROW, INFO_HEIGHT)
    sheet.write_string(INFO_ROW, col, info_line(plan), formats.info)


def page_setup(sheet: Worksheet, scale: int | None = None, repeat_from: int | None = None,
               freeze_col: int = 2) -> None:
    """A4 landscape with page numbers. With ``scale`` the sheet prints at that
    zoom and honours manual page breaks (fit-to-page would override them);
    without it, one page wide."""
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.set_margins(left=MARGIN_SIDE, right=MARGIN_SIDE, top=MARGIN_TOP, bottom=MARGIN_BOTTOM)
    if scale is None:
        sheet.fit_to_pages(1, 0)
    else:
        sheet.set_print_scale(scale)
    sheet.set_footer("&C第 &P 页 / 共 &N 页")
    if repeat_from is not None:
        sheet.repeat_rows(repeat_from)
        sheet.freeze_panes(repeat_from + 1, freeze_col)


# Page geometry in points (A4 landscape is 11.69 x 8.27 inches).
MARGIN_SIDE, MARGIN_TOP, MARGIN_BOTTOM = 0.4, 0.5, 0.6
PRINTABLE_WIDTH = (11.69 - 2 * MARGIN_SIDE) * 72
PRINTABLE_HEIGHT = (8.27 - MARGIN_TOP - MARGIN_BOTTOM) * 72
SAFETY = 0.95  # spreadsheet programs measure columns slightly differently


def column_points(width: float) -> float:
    """Printed width of a column of ``width`` characters.

    Measured on LibreOffice's rendering (about 6.5 points a character with its
    substitute CJK font); Excel with 等线 draws narrower, so pages computed
    this way fit in both.
    """
    return (width * 8.6 + 5) * 0.75


def print_scale(widths: list[float]) -> int:
    """The zoom (percent) at which columns of these widths fit one page across."""
    content = sum(column_points(w) for w in widths)
    return max(10, min(100, int(PRINTABLE_WIDTH / content * 100 * SAFETY)))


def chunk_breaks(chunks: list[tuple[int, float]], scale: int, first_page_used: float,
                 repeated: float) -> list[int]:
    """Rows to break the page before, so that no chunk (one employee's rows, a
    guide section) is split across pages. ``chunks`` are (first row, height in
    points) in order; ``repeated`` is the height of the header rows printed on
    every page, ``first_page_used`` what the first page holds above the chunks."""
    capacity = PRINTABLE_HEIGHT * 100 / scale * SAFETY
    used, breaks = first_page_used, []
    for row, height in chunks:
        if used + height > capacity and used > repeated:
            breaks.append(row)
            used = repeated
        used += height
    return breaks


def paginate_blocks(sheet: Worksheet, plan: TeamPlan, widths: list[float]) -> None:
    """Print scale to fit the columns across; page breaks between employees."""
    scale = print_scale(widths)
    page_setup(sheet, scale=scale, repeat_from=HEADER_ROW)
    chunks = [(b.first_row, len(b.lines) * ROW_HEIGHT) for b in plan.blocks]
    sheet.set_h_pagebreaks(chunk_breaks(chunks, scale, TITLE_HEIGHT + INFO_HEIGHT + HEADER_HEIGHT, HEADER_HEIGHT))


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


def _spanning(rows: list[int], col: int, options: dict) -> tuple[int, int, dict] | None:
    """(first run's rows, options covering every run): one rule over all the runs of a column.

    One data validation or conditional format per run made LibreOffice take
    seconds to open a workbook of a few hundred employees (thousands of rules,
    each compared with the others on load); one rule with a multi-range
    ``sqref`` says the same. A formula's relative references are relative to
    the first run's top cell, which is also the top-left cell of the whole range
    (runs are sorted), as Excel and LibreOffice both read them.
    """
    spans = runs(rows)
    if not spans:
        return None
    first, last = spans[0]
    options = dict(options)
    if len(spans) > 1:
        options["multi_range"] = " ".join(xl_range(a, col, b, col) for a, b in spans)
    return first, last, options


def validate(sheet: Worksheet, rows: list[int], col: int, options: dict) -> None:
    spanning = _spanning(rows, col, options)
    if spanning:
        first, last, options = spanning
        sheet.data_validation(first, col, last, col, options)


def highlight(sheet: Worksheet, rows: list[int], col: int, options) -> None:
    """One conditional format over the rows; ``options`` is a dict, or a function
    of the first row for formula rules (relative to that row's cell)."""
    spans = runs(rows)
    if not spans:
        return
    rule = options(spans[0][0]) if callable(options) else options
    first, last, rule = _spanning(rows, col, rule)
    sheet.conditional_format(first, col, last, col, rule)


def blank_rule(fmt) -> dict:
    return {"type": "blanks", "format": fmt}


def formula_rule(text: str, fmt) -> dict:
    return {"type": "formula", "criteria": text, "format": fmt}


def mark_employee_starts(sheet: Worksheet, formats: Formats, plan: TeamPlan, columns: list[int]) -> None:
    """A rule above each employee's first row, so blocks read apart on screen and paper.

    Only over ``columns``, the ones no warning format paints: LibreOffice applies the first
    conditional format that matches a cell, so a line drawn over an input cell would hide its red
    or yellow fill on every employee's first row.
    """
    if not plan.blocks or not columns:
        return
    first, last = plan.blocks[0].first_row, plan.last_line_row
    spans = runs(columns)
    rule = formula_rule(f"{ref(0, first, absolute_col=True)}<>{ref(0, first - 1, absolute_col=True)}",
                        formats.block_start)
    if len(spans) > 1:
        rule["multi_range"] = " ".join(xl_range(first, a, last, b) for a, b in spans)
    sheet.conditional_format(first, spans[0][0], last, spans[0][1], rule)
