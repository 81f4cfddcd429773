"""Annotated copies: the submitted workbook with every flagged cell filled and noted, plus a 校验结果 sheet.

The original is never touched: the copy is written to another folder. Each
flagged cell gets a fill by severity and a note (Chinese, English, fix hint);
a new first sheet, 校验结果, lists every finding with a link to its cell, so a
manager can walk through the list and fix the workbook in place.

openpyxl edits the copy, so data validations, conditional formats, defined
names, sheet protection and document properties stay as far as openpyxl
keeps them (it drops extension-list features it does not know). Text from the
submission is written as literal text, never as a formula.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Sequence

from kpisheet.validators.errors import KpisheetError

RESULTS_SHEET = "校验结果"
AUTHOR = "kpisheet"
FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
SEVERITY_LABELS = {"error": "错误 error", "warning": "警告 warning", "info": "提示 info"}
# One row per finding, read on screen and printed on A4 landscape: few columns, wide enough for
# Chinese at a legible print scale. The problem column holds both languages; the place column links
# to the cell. How to fix each kind of problem is said once, in the summary above the list.
LIST_COLUMNS = (
    ("#", 4), ("级别\nSeverity", 9), ("位置\nWhere", 13), ("员工\nEmployee", 13), ("指标\nIndicator", 16),
    ("问题\nProblem", 70), ("代码\nCode", 18),
)
# The add-in's live 校验结果 sheet (kpisheet.xladdin.excel.handlers, 校验本表) still lists findings in
# these columns, one per Finding field; the annotated copy uses LIST_COLUMNS.
COLUMNS = (
    ("#", 5), ("严重程度\nSeverity", 12), ("代码\nCode", 26), ("位置\nWhere", 18), ("工号\nEmployee", 10),
    ("指标\nIndicator", 14), ("发现值\nFound", 14), ("期望值\nExpected", 16), ("说明\nMessage (中文)", 60),
    ("Message (English)", 60), ("修改建议\nHow to fix", 60),
)
FONT_NAME, FONT_SIZE = "等线", 10  # the team workbook's own font (kpisheet.workbook_templates.styles)
_CELL = re.compile(r"^\$?[A-Z]{1,3}\$?\d+$")
_NOTE_WIDTH, _NOTE_HEIGHT = 320, 200  # points: room for both languages


class AnnotateError(KpisheetError):
    """The copy could not be made (the file cannot be opened for editing, or the target cannot be written)."""

    code = "annotate-failed"
    title_zh, title_en = "无法生成标注副本", "annotated copy failed"
    description = "An annotated copy could not be made; the original file is never touched."


def annotate_copy(source: str | Path, findings: Sequence, target: str | Path) -> Path:
    """Write ``target``: ``source`` with ``findings`` marked on their cells and listed on 校验结果."""
    import io

    from openpyxl import load_workbook

    from kpisheet.validators.reading.guard import read_guarded

    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise AnnotateError(f"不能覆盖原文件：{source}", f"refusing to overwrite the original: {source}")
    # openpyxl parses every part, not only the sheets validation read: guard them all, and open the bytes guarded
    try:
        verdict, data = read_guarded(source)
    except OSError as error:
        raise AnnotateError(f"无法打开以标注：{error.strerror or error}",
                            f"cannot open for annotating: {error.strerror or error}") from None
    if not verdict.readable or data is None:
        raise AnnotateError("文件未通过读取前检查，不予标注：" + "；".join(f.message_zh for f in verdict.findings),
                            "the file did not pass the pre-read guard: " + "; ".join(f.message_en for f in verdict.findings))
    try:
        book = load_workbook(io.BytesIO(data), rich_text=True)
    except Exception as error:  # openpyxl raises many types for files it cannot edit
        raise AnnotateError(f"无法打开以标注：{type(error).__name__}: {error}",
                            f"cannot open for annotating: {type(error).__name__}: {error}") from None
    by_cell: dict[tuple[str, str], list] = defaultdict(list)
    for finding in findings:
        if finding.sheet in book.sheetnames and finding.cell and _CELL.match(finding.cell):
            by_cell[(finding.sheet, finding.cell)].append(finding)
    for (sheet, cell), found in by_cell.items():
        _mark(book[sheet][cell], found)
    _results_sheet(book, findings, by_cell, source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        book.save(target)
    except OSError as error:
        raise AnnotateError(f"无法写入 {target}：{error.strerror or error}",
                            f"cannot write {target}: {error.strerror or error}") from None
    return target


def _mark(cell, found: list) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    worst = min((f.severity for f in found), key=list(FILLS).index)
    colour = FILLS[worst]
    cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
    parts = []
    for f in found:
        parts.append(f"【{SEVERITY_LABELS[f.severity]}】{f.code}\n{f.message_zh}\n{f.message_en}\n→ {f.hint}")
    text = "\n\n".join(parts)
    if cell.comment is not None and cell.comment.text:
        text = f"{cell.comment.text}\n\n{text}"
    comment = Comment(_storable(text), AUTHOR)
    comment.width, comment.height = _NOTE_WIDTH, _NOTE_HEIGHT
    cell.comment = comment


def _results_sheet(book, findings: Sequence, marked, source_name: str) -> None:
    """校验结果: a title; the summary (counts, then per kind of problem: how many, where the first are and
    how to fix it); then every finding, one row each, grouped by employee, its place linked to the cell.

    Printing: A4 landscape at the scale that fits the columns across one page, the column headers
    repeated on every page (and frozen on screen), and page breaks that never leave an employee's
    heading at the foot of a page. Row heights are set from the text, because no spreadsheet program
    fits them to wrapped text when it opens a file.
    """
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.hyperlink import Hyperlink
    from openpyxl.worksheet.pagebreak import Break

    from kpisheet.validators.report import FileReport, status_of
    from kpisheet.validators.summary import SEVERITY_WORDS, by_employee, summarise, summary_lines
    from kpisheet.workbook_templates.frame import (
        LINE_POINTS, MARGIN_BOTTOM, MARGIN_SIDE, MARGIN_TOP, chunk_breaks, print_scale,
    )

    if RESULTS_SHEET in book.sheetnames:
        del book[RESULTS_SHEET]  # annotating an annotated copy: the list is made anew
    sheet = book.create_sheet(RESULTS_SHEET, 0)
    last = len(LIST_COLUMNS)
    widths = [width for _, width in LIST_COLUMNS]
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[_letter(col)].width = width
    plain, bold = Font(name=FONT_NAME, size=FONT_SIZE), Font(name=FONT_NAME, size=FONT_SIZE, bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    thin = Side(style="thin", color="BFBFBF")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    heights: dict[int, float] = {}

    def banner(row: int, text: str, font, fill: str | None = None, height: float | None = None) -> None:
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
        cell = sheet.cell(row=row, column=1)
        _text(cell, text)
        cell.font, cell.alignment = font, Alignment(wrap_text=True, vertical="center")
        if fill:
            cell.fill = PatternFill(fill_type="solid", start_color=fill, end_color=fill)
        heights[row] = height or _height(text, sum(widths), LINE_POINTS)

    row = 1
    banner(row, f"校验结果 Validation results：{source_name}", Font(name=FONT_NAME, size=14, bold=True), height=24)
    report = FileReport(source_name, None, status_of(findings), findings=tuple(findings))
    summary = summarise(report)
    row += 1
    banner(row, (summary_lines(report)[1:] or ["未发现问题。 No problems found."])[0].strip(), bold)
    fixes: dict[str, str] = {}
    for code in summary.codes:
        fixes[code.code] = next(f.hint for f in findings if f.code == code.code)
        places = "、".join(code.first) + (f" …（另 {code.more} 处 / {code.more} more）" if code.more > 0 else "")
        row += 1
        banner(row, f"{SEVERITY_WORDS[code.severity][0]} {code.title_zh} {code.title_en}（{code.code}）"
                    f" ×{code.count}：{places}\n    修改 How to fix：{fixes[code.code]}", plain)
    row += 2
    header_row = row
    header_fill = PatternFill(fill_type="solid", start_color="D9E1F2", end_color="D9E1F2")
    for col, (title, _) in enumerate(LIST_COLUMNS, start=1):
        cell = sheet.cell(row=row, column=col)
        _text(cell, title)
        cell.font, cell.fill, cell.border = bold, header_fill, box
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    heights[row] = 2 * LINE_POINTS + 6  # "中文\nEnglish": two lines, never drawn over the rows below

    chunks: list[tuple[int, float]] = []  # (first row, height): what must stay on one page
    number = 0
    for group in by_employee(findings):
        row += 1
        count = len(group.findings)
        banner(row, f"{group.label}：{count} 条 / {count} finding{'s' if count != 1 else ''}", bold, "EDEDED",
               height=LINE_POINTS + 6)
        heading = row
        for f in group.findings:
            row, number = row + 1, number + 1
            who = f"{f.employee_id} {f.employee_name or ''}".strip() if f.employee_id else ""
            what = f"{f.indicator_name}\n{f.indicator}" if f.indicator_name else (f.indicator or "")
            problem = f"{_unlocated(f.message_zh, f)}\n{_unlocated(f.message_en, f)}"
            if f.hint != fixes[f.code]:  # this finding's own fix (e.g. its allowed range)
                problem += f"\n→ {f.hint}"
            values = (number, SEVERITY_LABELS.get(f.severity, f.severity), f.where, who, what, problem, f.code)
            for col, value in enumerate(values, start=1):
                cell = sheet.cell(row=row, column=col)
                _text(cell, value)
                cell.font, cell.alignment, cell.border = plain, wrap, box
            fill = FILLS.get(f.severity, "FFFFFF")
            sheet.cell(row=row, column=2).fill = PatternFill(fill_type="solid", start_color=fill, end_color=fill)
            if (f.sheet, f.cell) in marked:
                link = sheet.cell(row=row, column=3)
                link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{_quoted(f.sheet)}!{f.cell}",
                                           tooltip="转到该单元格 / go to the cell")
                link.font = Font(name=FONT_NAME, size=FONT_SIZE, color="0563C1", underline="single")
            heights[row] = max(_height(str(v), w, LINE_POINTS) for v, w in zip(values, widths))
            if heading:  # an employee's heading travels with their first finding
                chunks.append((heading, heights[heading] + heights[row]))
                heading = None
            else:
                chunks.append((row, heights[row]))
    for r, height in heights.items():
        sheet.row_dimensions[r].height = height

    scale = print_scale(widths)
    above = sum(h for r, h in heights.items() if r < header_row) + 2 * LINE_POINTS  # the blank row too
    for r in chunk_breaks([(r - 1, h) for r, h in chunks], scale, above + heights[header_row],
                          heights[header_row]):
        sheet.row_breaks.append(Break(id=r))  # id: the 1-based row the page ends with, i.e. 0-based r starts the next
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1).coordinate
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.scale = scale  # fits the columns across; fit-to-page would override the breaks
    sheet.page_margins.left = sheet.page_margins.right = MARGIN_SIDE
    sheet.page_margins.top, sheet.page_margins.bottom = MARGIN_TOP, MARGIN_BOTTOM
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.left.text = f"{RESULTS_SHEET} {source_name}"
    sheet.oddFooter.right.text = "第 &P 页 / 共 &N 页"
    sheet.sheet_view.showGridLines = False
    book.active = 0
    for ws in book.worksheets:
        ws.sheet_view.tabSelected = ws is sheet


def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col)


def _height(text: str, width: float, line: float) -> float:
    """A row height that shows ``text`` wrapped in a column ``width`` characters wide."""
    from kpisheet.workbook_templates.styles import display_width

    # a CJK character is about 1.7 digit widths in LibreOffice's substitute font: 0.9 per display unit
    room = max(1.0, width - 1)
    lines = sum(max(1, math.ceil(display_width(part) * 0.9 / room)) for part in str(text).split("\n"))
    return lines * line + 6


def _unlocated(message: str, f) -> str:
    """The message without its leading "sheet!cell：" (the 位置 column shows and links it)."""
    for lead in (f"{f.where}：", f"{f.where}: "):
        if f.where and message.startswith(lead):
            return message[len(lead):]
    return message


def _text(cell, value) -> None:
    """Whatever the value, a literal: a finding may quote '=1+1' from the submission."""
    if value is None:
        cell.value = None
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        cell.value = _storable(str(value))
        cell.data_type = "s"
    else:
        cell.value = value


def _storable(text: str) -> str:
    """``text`` without the control characters an xlsx cannot hold (a finding may quote a value that had one)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"
