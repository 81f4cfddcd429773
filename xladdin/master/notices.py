"""Result notices (绩效结果通知书): one small, print-ready A4 workbook per employee.

The policy's feedback step: identity, period, final grade and coefficient,
every indicator's weight, target, actual and score, the manager's comments and
feedback interview, the improvement plan for a PIP grade, and when and how to
appeal (deadline in Chinese working days from the publication date).

Privacy: a notice is built from that employee's own 总表 row and 指标明细 rows
only; nothing about colleagues (no ranking list, no team figures, no HR
override text, which may name others) goes in. The manager is named because
the manager signs the notice. Nothing internal goes in either: an appeal
deadline estimated for want of a holiday schedule is flagged to HR (申诉,
``kpisheet appeals``), not to the employee.

:func:`write_notices` writes a whole batch and makes every PDF with one
LibreOffice process: starting LibreOffice once per notice took over two
minutes for 60 employees.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import xlsxwriter

from kpisheet.validators.names import distinct_file_names, inside, safe_file_name
from kpisheet.validators.policy.periods import parse_period
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.policy.workdays import AppealDeadlines, appeal_deadlines
from kpisheet.workbook_templates.styles import (
    BORDER_COLOUR, DATE_FORMAT, FIXED_FILL, FONT_NAME, HEADER_FILL, PERCENT_FORMAT, SCORE_FORMAT,
)

from kpisheet.xladdin.kit.files import make_output_folder, write_atomically
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.apply_calibration import is_system_reason
from kpisheet.xladdin.master.io import display_width
from kpisheet.xladdin.master.layout import MasterData
from kpisheet.xladdin.master.merge import canonical_period, grade_text, is_pending

SHEET_NAME = "绩效结果通知书"
# Column widths of the notice grid (A4 portrait, fitted to one page wide).
_WIDTHS = (9, 20, 7, 9, 9, 7, 8, 8, 24)
_LAST_COL = len(_WIDTHS) - 1
_LINE_HEIGHT = 14.5


@dataclass(frozen=True)
class Notice:
    """What one employee's notice shows: their 总表 row, their indicator rows, the appeal clock."""

    period: str
    row: dict
    indicators: tuple[dict, ...]
    deadlines: AppealDeadlines

    @property
    def employee_id(self) -> str:
        return str(self.row.get("employee_id"))

    @property
    def name(self) -> str:
        return self.row.get("name") or ""


def build_notices(data: MasterData, rulebook: Rulebook, period: str, published: dt.date, *,
                  department: str | None = None) -> tuple[list[Notice], list[dict]]:
    """-> (one notice per employee of ``period`` with a final grade, the rows skipped for want of one)."""
    period = canonical_period(period)
    detail: dict[str, list[dict]] = {}
    for line in data.rows(L.DETAIL):
        if line.get("period") == period:
            detail.setdefault(str(line.get("employee_id")), []).append(line)
    deadlines = appeal_deadlines(published, None, rulebook, estimate=True)
    notices, skipped = [], []
    for row in data.rows(L.SUMMARY):
        if row.get("period") != period or (department and row.get("department") != department):
            continue
        if not row.get("final_grade") or is_pending(row):  # a pending override stops the notice until resolved
            skipped.append(row)
            continue
        notices.append(Notice(period, row, tuple(detail.get(str(row.get("employee_id")), ())), deadlines))
    notices.sort(key=lambda n: (n.row.get("department") or "", n.row.get("team") or "", n.employee_id))
    return notices, skipped


# every notice's file name ends so; the parts before it come from the master (and may be cut)
NOTICE_SUFFIX = f"_{SHEET_NAME}.xlsx"


def notice_file_parts(notice: Notice) -> list[str]:
    return [notice.period, notice.employee_id, notice.name]


def notice_filename(notice: Notice) -> str:
    """``2026-Q3_E0001_张三_绩效结果通知书.xlsx``: sorts by period, then ID; safe on any system."""
    return safe_file_name(notice_file_parts(notice), NOTICE_SUFFIX)


def notice_paths(notices: list[Notice], out: Path) -> list[Path]:
    """Each notice's file in ``out``: never outside it, and never two notices in one file."""
    names = distinct_file_names([notice_file_parts(n) for n in notices], NOTICE_SUFFIX)
    return [inside(out, name) for name in names]


# --- the workbook ----------------------------------------------------------

class _Sheet:
    """The notice's grid, written top to bottom; ``r`` is the next free row."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self.ws = book.add_worksheet(SHEET_NAME)
        self.r = 0
        base = {"font_name": FONT_NAME, "font_size": 10, "valign": "vcenter"}
        box = {**base, "border": 1, "border_color": BORDER_COLOUR}
        self.f = {
            "title": book.add_format({**base, "font_size": 16, "bold": True, "align": "center"}),
            "subtitle": book.add_format({**base, "font_size": 11, "align": "center", "font_color": "#404040"}),
            "section": book.add_format({**base, "font_size": 11, "bold": True, "font_color": HEADER_FILL,
                                        "bottom": 2, "bottom_color": HEADER_FILL}),
            "label": book.add_format({**box, "bold": True, "bg_color": FIXED_FILL, "text_wrap": True}),
            "value": book.add_format({**box, "text_wrap": True}),
            "big": book.add_format({**box, "bold": True, "font_size": 13, "font_color": HEADER_FILL,
                                    "text_wrap": True}),
            "score": book.add_format({**box, "num_format": SCORE_FORMAT}),
            # values beside a label read left to right, numbers included
            "score_left": book.add_format({**box, "num_format": SCORE_FORMAT, "align": "left"}),
            "date": book.add_format({**box, "num_format": DATE_FORMAT, "align": "left"}),
            "header": book.add_format({**box, "bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL,
                                       "text_wrap": True, "align": "center"}),
            "cell": book.add_format({**box, "text_wrap": True}),
            "number": book.add_format({**box, "num_format": "0.0#"}),
            "percent": book.add_format({**box, "num_format": PERCENT_FORMAT}),
            "text": book.add_format({**base, "text_wrap": True, "valign": "top"}),
            "small": book.add_format({**base, "font_size": 9, "font_color": "#595959", "text_wrap": True}),
        }
        for c, width in enumerate(_WIDTHS):
            self.ws.set_column(c, c, width)

    def height_for(self, text: str, first: int, last: int, size: float = 10) -> float:
        """A row height that shows ``text`` wrapped over columns first..last (no program autofits on open)."""
        room = max(1.0, sum(_WIDTHS[first:last + 1]) - 1)
        lines = sum(max(1, math.ceil(_text_units(part, size) / room)) for part in str(text).split("\n"))
        return max(18.0, lines * _LINE_HEIGHT * size / 10 + 4)

    def merged(self, first: int, last: int, value, fmt: str, *, row: int | None = None) -> None:
        r = self.r if row is None else row
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if first == last:
                self.ws.write_number(r, first, value, self.f[fmt])
            else:
                self.ws.merge_range(r, first, r, last, None, self.f[fmt])
                self.ws.write_number(r, first, value, self.f[fmt])
        elif isinstance(value, dt.date):
            moment = dt.datetime(value.year, value.month, value.day)
            if first == last:
                self.ws.write_datetime(r, first, moment, self.f[fmt])
            else:
                self.ws.merge_range(r, first, r, last, None, self.f[fmt])
                self.ws.write_datetime(r, first, moment, self.f[fmt])
        else:
            text = "" if value is None else str(value)
            if first == last:
                self.ws.write_string(r, first, text, self.f[fmt])
            else:
                self.ws.merge_range(r, first, r, last, text, self.f[fmt])

    def title(self, zh: str, en: str) -> None:
        self.ws.set_row(self.r, 28)
        self.merged(0, _LAST_COL, zh, "title")
        self.r += 1
        self.merged(0, _LAST_COL, en, "subtitle")
        self.r += 2

    def section(self, zh: str, en: str) -> None:
        self.ws.set_row(self.r, 22)
        self.merged(0, _LAST_COL, f"{zh}  {en}", "section")
        self.r += 1

    def pairs(self, items: list[tuple[str, object, str]]) -> None:
        """Label/value pairs, two to a row: label A:B, value C:E, label F:G, value H:I."""
        spans = ((0, 1, 2, 4), (5, 6, 7, 8))
        for start in range(0, len(items), 2):
            height = 20.0
            for (label, value, fmt), (l0, l1, v0, v1) in zip(items[start:start + 2], spans):
                self.merged(l0, l1, label, "label")
                self.merged(v0, v1, value, fmt)
                # the grade is set large and bold: measured as 15-point text so that it wraps, never cut
                size = 15 if fmt == "big" else 10
                height = max(height, self.height_for(label, l0, l1), self.height_for(value or "", v0, v1, size))
            if len(items[start:start + 2]) == 1:
                self.merged(5, 6, "", "label")
                self.merged(7, 8, "", "value")
            self.ws.set_row(self.r, height)
            self.r += 1

    def paragraph(self, text: str, fmt: str = "text") -> None:
        self.ws.set_row(self.r, self.height_for(text, 0, _LAST_COL, 9 if fmt == "small" else 10))
        self.merged(0, _LAST_COL, text, fmt)
        self.r += 1

    def gap(self) -> None:
        self.ws.set_row(self.r, 8)
        self.r += 1


def _text_units(text: str, size: float) -> float:
    """Width of ``text`` in column-width units: a CJK character is 1.4-1.7 digits wide (LibreOffice,
    Excel), not 2; the upper end, so that wrapped text is never cut off."""
    return display_width(text) * 0.8 * size / 10


def _value(value) -> str:
    return "" if value is None else str(value)


def _grade_label(rulebook: Rulebook, grade: str | None) -> str:
    bands = {band.grade: band for band in rulebook.grades}
    band = bands.get(grade or "")
    return f"{grade} {band.name_zh} {band.name_en}" if band else _value(grade)


def _grade_note(notice: Notice, rulebook: Rulebook) -> str | None:
    """Why the final grade differs from the system grade, without HR's free text (it may name others)."""
    row = notice.row
    system, final = grade_text(row.get("system_grade")), row.get("final_grade")
    if not system or system == final:
        return None
    d = rulebook.distribution
    calibrated = grade_text(row.get("calibrated_grade"))
    if calibrated != final:
        how = "经申诉复核改定 / revised on appeal"
    elif is_system_reason(row.get("override_reason")):
        how = (f"按部门强制分布校准（最高等级不超过 {d.s_max:.0%}，前两等级合计不超过 {d.sa_max:.0%}）/ "
               f"calibrated to the department's forced distribution (top grade at most {d.s_max:.0%}, "
               f"top two at most {d.sa_max:.0%})")
    else:
        how = "经 HR 校准，理由可向人力资源部查询 / calibrated by HR; ask HR for the reason"
    return f"系统计算等级 {system}，{how}；最终等级为 {final}。 / System grade {system}; final grade {final}."


def _indicator_table(sheet: _Sheet, notice: Notice) -> None:
    headers = ("类别\nCategory", "指标\nIndicator", "权重%\nWeight", "目标值\nTarget", "实际值\nActual",
               "上级评分\nRating", "得分\nScore", "加权得分\nWeighted", "说明/依据\nEvidence / comment")
    sheet.ws.set_row(sheet.r, 30)
    for c, header in enumerate(headers):
        sheet.ws.write_string(sheet.r, c, header, sheet.f["header"])
    sheet.r += 1
    if not notice.indicators:
        sheet.paragraph("（本期无指标明细 / no indicator detail for this period）", "small")
        return
    for line in notice.indicators:
        measure = "percent" if line.get("unit") == L.PERCENT_UNIT else "number"
        cells = [(line.get("category"), "cell"), (line.get("indicator") or line.get("code"), "cell"),
                 (line.get("weight"), "number"), (line.get("target"), measure), (line.get("actual"), measure),
                 (line.get("manager_rating"), "number"), (line.get("score"), "score"),
                 (line.get("weighted"), "score"), (line.get("comment"), "cell")]
        height = 20.0
        for c, (value, fmt) in enumerate(cells):
            sheet.merged(c, c, value, fmt)
            if isinstance(value, str):
                height = max(height, sheet.height_for(value, c, c))
        sheet.ws.set_row(sheet.r, height)
        sheet.r += 1


def write_notice(path: str | Path, notice: Notice, rulebook: Rulebook) -> Path:
    """Write one employee's notice to ``path`` (.xlsx, A4 portrait, one page wide)."""
    path = Path(path)
    row = notice.row
    period = parse_period(notice.period)
    rules = rulebook.appeals
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False,
                                           "strings_to_urls": False, "in_memory": True})  # no temp files
    book.set_properties({"title": f"{SHEET_NAME} {period.label_zh} {notice.name}", "author": "kpisheet",
                         "subject": "绩效结果通知书 Performance result notice"})
    sheet = _Sheet(book)
    ws = sheet.ws

    sheet.title(f"{rulebook.meta.department_zh} {period.label_zh} {SHEET_NAME}",
                f"{rulebook.meta.department_en} — Performance appraisal result notice, {period.label_en}")

    sheet.section("一、基本信息", "Identity")
    sheet.pairs([
        ("工号 ID", row.get("employee_id"), "value"), ("姓名 Name", row.get("name"), "value"),
        ("部门 Department", row.get("department"), "value"), ("团队 Team", row.get("team"), "value"),
        ("岗位 Role", row.get("role"), "value"), ("直接上级 Manager", row.get("manager"), "value"),
        ("考核期间 Period", f"{period.label_zh} / {period.label_en}", "value"),
        ("结果公布日期 Published", notice.deadlines.published, "date"),
    ])
    sheet.gap()

    sheet.section("二、考核结果", "Result")
    final = row.get("final_grade")
    subtotals = [(f"{c.name_zh}小计 {c.name_en}", row.get(f"subtotal_{c.code}"), "score_left")
                 for c in rulebook.categories]
    sheet.pairs([
        ("最终等级 Final grade", _grade_label(rulebook, final), "big"),
        ("绩效系数 Pay coefficient", row.get("coefficient"), "score_left"),
        ("总分 Total score", row.get("total"), "score_left"),
        ("加分 Bonus", row.get("bonus"), "score_left"),
        *subtotals,
        ("一票否决 Veto", row.get("veto") or "无 none", "value"),
    ])
    note = _grade_note(notice, rulebook)
    if note:
        sheet.paragraph(note, "small")
    sheet.gap()

    sheet.section("三、指标得分", "Indicator scores")
    _indicator_table(sheet, notice)
    sheet.gap()

    sheet.section("四、上级评语与反馈面谈", "Manager's comments and feedback")
    sheet.paragraph(row.get("feedback") or "（未填写 / none recorded）")
    sheet.gap()

    if final in rulebook.outcomes.pip_grades:
        outcomes = rulebook.outcomes
        sheet.section("五、绩效改进计划", "Performance improvement plan (PIP)")
        sheet.paragraph(f"本期等级为 {final}，按制度需制定 {outcomes.pip_months_min}–{outcomes.pip_months_max} 个月的绩效改进计划。"
                        f" / Grade {final} calls for an improvement plan of {outcomes.pip_months_min}-"
                        f"{outcomes.pip_months_max} months.", "small")
        sheet.pairs([
            ("待改进问题 Shortfalls", row.get("pip_shortfalls") or "（待上级填写 / to be agreed）", "value"),
            ("改进措施 Actions", row.get("pip_actions") or "（待上级填写 / to be agreed）", "value"),
            ("辅导人 Coach", row.get("pip_owner"), "value"),
            ("完成日期 Due", row.get("pip_due"), "value"),
        ])
        sheet.gap()
        appeal_no = "六"
    else:
        appeal_no = "五"

    d = notice.deadlines
    sheet.section(f"{appeal_no}、申诉", "How to appeal")
    sheet.pairs([("申诉截止日期 File by", d.file_by, "date"),
                 ("期限 Time limit", f"公布后 {rules.file_within_workdays} 个工作日 / "
                                     f"{rules.file_within_workdays} working days", "value")])
    sheet.paragraph(
        f"如对考核结果有异议，请于 {d.file_by.isoformat()}（结果公布后 {rules.file_within_workdays} 个工作日内，"
        f"工作日按国家法定节假日及调休安排计算）前向人力资源部提交书面申诉，写明申诉理由并附相关证据。"
        f"人力资源部在收到申诉后 {rules.accept_within_workdays} 个工作日内受理，受理后 "
        f"{rules.resolve_within_workdays} 个工作日内给出处理结果。逾期提交的申诉可能不予受理。")
    sheet.paragraph(
        f"If you disagree with this result, file a written appeal with HR by {d.file_by.isoformat()} "
        f"({rules.file_within_workdays} working days after publication, counting Chinese public holidays "
        f"and make-up working days), stating your reasons with evidence. HR accepts an appeal within "
        f"{rules.accept_within_workdays} working days and resolves it within {rules.resolve_within_workdays} "
        f"working days of acceptance. A late appeal may be refused.", "small")
    # A deadline counted Monday to Friday for want of a holiday schedule is HR's to check (申诉 says
    # so, and `kpisheet appeals`); the employee's notice states the date and nothing internal.
    sheet.gap()

    sheet.section("签收", "Acknowledgement")
    ws.set_row(sheet.r, 30)
    sheet.merged(0, 1, "员工签字\nEmployee", "label")
    sheet.merged(2, 4, "", "value")
    sheet.merged(5, 6, "日期\nDate", "label")
    sheet.merged(7, 8, "", "value")
    sheet.r += 1
    ws.set_row(sheet.r, 30)
    sheet.merged(0, 1, "直接上级签字\nManager", "label")
    sheet.merged(2, 4, "", "value")
    sheet.merged(5, 6, "日期\nDate", "label")
    sheet.merged(7, 8, "", "value")
    sheet.r += 1

    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, sheet.r - 1, _LAST_COL)
    ws.set_footer(f"&L&8{SHEET_NAME} {notice.employee_id}&R&8第 &P 页 / 共 &N 页")
    ws.hide_gridlines(2)
    book.close()
    return path


# --- a batch -----------------------------------------------------------------

@dataclass
class NoticeBatch:
    """What :func:`write_notices` made: the workbooks, their PDFs, and what failed (file: reason)."""

    workbooks: list[Path]
    pdfs: list[Path]
    failures: list[str]
    pdf_skipped: bool = False  # PDFs were asked for but LibreOffice is not installed


def write_notices(notices: list[Notice], out: str | Path, rulebook: Rulebook, *, pdf: bool = True,
                  progress: Callable[[int, int], None] | None = None) -> NoticeBatch:
    """Every notice as a workbook in ``out``, then, with ``pdf``, every PDF from one LibreOffice run.

    ``progress(done, total)`` is called after each workbook. A notice that cannot be written is
    listed in ``failures`` and the rest go on; so is one LibreOffice could not convert.
    """
    from kpisheet.xladdin.kit import libreoffice

    out = Path(out)
    make_output_folder(out)
    batch = NoticeBatch([], [], [])
    for n, (notice, target) in enumerate(zip(notices, notice_paths(notices, out)), start=1):
        try:  # atomically: a full disk never leaves half a notice under its name
            write_atomically(target, lambda temp, notice=notice: write_notice(temp, notice, rulebook))
            batch.workbooks.append(target)
        except OSError as error:
            batch.failures.append(f"{target.name}: {error.strerror or error}")
        if progress is not None:
            progress(n, len(notices))
    if not pdf or not batch.workbooks:
        return batch
    if libreoffice.find_soffice() is None:
        batch.pdf_skipped = True
        return batch
    try:
        made = libreoffice.convert(batch.workbooks, out, "pdf")
    except libreoffice.LibreOfficeError as error:
        batch.failures.append(f"PDF: {error.message_zh} / {error.message_en}")
        return batch
    for workbook in batch.workbooks:
        if workbook in made:
            batch.pdfs.append(made[workbook])
        else:
            batch.failures.append(f"{workbook.name}: LibreOffice 未生成 PDF / no PDF was made")
    return batch
