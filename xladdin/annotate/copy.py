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

import re
from collections import defaultdict
from pathlib import Path
from typing import Sequence
from kpisheet.validators.errors import KpisheetError

RESULTS_SHEET = "校验结果"
AUTHOR = "kpisheet"
FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
SEVERITY_LABELS = {"error": "错误 error", "warning": "警告 warning", "info": "提示 info"}
COLUMNS = (
    ("#", 5), ("严重程度\nSeverity", 12), ("代码\nCode", 26), ("位置\nWhere", 18), ("工号\nEmployee", 10),
    ("指标\nIndicator", 14), ("发现值\nFound", 14), ("期望值\nExpected", 16), ("说明\nMessage (中文)", 60),
    ("Message (English)", 60), ("修改建议\nHow to fix", 60),
)
_CELL = re.compile(r"^\$?[A-Z]{1,3}\$?\d+$")
_NOTE_WIDTH, _NOTE_HEIGHT = 320, 200  # points: room for both languages


class AnnotateError(KpisheetError):
    """The copy could not be made (the file cannot be opened for editing, or the target cannot be written)."""

    code = "annotate-failed"
    title_zh, title_en = "无法生成标注副本", "annotated copy failed"
    description = "An annotated copy could not be made; the original file is never touched."


def annotate_copy(source: str | Path, findings: Sequence, target: str | Path) -> Path:
    """Write ``target``: ``source`` with ``findings`` marked on their cells and listed on 校验结果."""
    from openpyxl import load_workbook

    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise AnnotateError(f"不能覆盖原文件：{source}", f"refusing to overwrite the original: {source}")
    try:
        book = load_workbook(source, rich_text=True)
    except Exception as error:  # openpyxl raises many types for files it cannot edit
        raise AnnotateError(f"无法打开以标注：{type(error).__name__}: {error}",
                            f"cannot open for annotating: {type(error).__name__}: {error}") from None
    by_cell: dict[tuple[str, str], list] = defaultdict(list)
    for finding in findings:
        if finding.sheet in book.sheetnames and finding.cell and _CELL.match(finding.cell):
            by_cell[(finding.sheet, finding.cell)].append(finding)
    for (sheet, cell), found in by_cell.items():
        _mark(book[sheet][cell], found)
    _results_sheet(book, findings, by_cell)
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
    comment = Comment(text, AUTHOR)
    comment.width, comment.height = _NOTE_WIDTH, _NOTE_HEIGHT
    cell.comment = comment


def _results_sheet(book, findings: Sequence, marked) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    if RESULTS_SHEET in book.sheetnames:
        del book[RESULTS_SHEET]  # annotating an annotated copy: the list is made anew
    sheet = book.create_sheet(RESULTS_SHEET, 0)
    header_fill = PatternFill(fill_type="solid", start_color="D9E1F2", end_color="D9E1F2")
    for col, (title, width) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=col)
        _text(cell, title)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[cell.column_letter].width = width
    sheet.freeze_panes = "A2"
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, f in enumerate(findings, start=2):
        where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or "")
        values = (row - 1, SEVERITY_LABELS.get(f.severity, f.severity), f.code, where, f.employee_id, f.indicator,
                  f.value, f.expected, f.message_zh, f.message_en, f.hint)
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=col)
            _text(cell, value)
            cell.alignment = wrap
        fill = PatternFill(fill_type="solid", start_color=FILLS.get(f.severity, "FFFFFF"),
                           end_color=FILLS.get(f.severity, "FFFFFF"))
        sheet.cell(row=row, column=2).fill = fill
        if (f.sheet, f.cell) in marked:
            link = sheet.cell(row=row, column=4)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{_quoted(f.sheet)}!{f.cell}",
                                       tooltip="转到该单元格 / go to the cell")
            link.font = Font(color="0563C1", underline="single")
    if not findings:
        _text(sheet.cell(row=2, column=9), "未发现问题。")
        _text(sheet.cell(row=2, column=10), "No problems found.")
    sheet.auto_filter.ref = f"A1:{sheet.cell(row=1, column=len(COLUMNS)).column_letter}{max(2, len(findings) + 1)}"
    book.active = 0
    for ws in book.worksheets:
        ws.sheet_view.tabSelected = ws is sheet


def _text(cell, value) -> None:
    """Whatever the value, a literal: a finding may quote '=1+1' from the submission."""
    if value is None:
        cell.value = None
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        cell.value = str(value)
        cell.data_type = "s"
    else:
        cell.value = value


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"
