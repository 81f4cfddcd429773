"""个人考核表: one printable A4 form for the employee chosen in a dropdown.

Every value is an INDEX/MATCH lookup into 考核评分 and 汇总, so one sheet
serves the whole team. The looked-up row positions live in a hidden column
outside the print area. The form is pre-set to the first employee, and its
cached results are that employee's, so it reads right before any recalculation.
"""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from kpisheet.validators.layout import PERSONAL, SCORES, SUMMARY, VETO_NONE, summary_columns
from kpisheet.validators.rulebook.model import UNIT_LABELS, Unit

from kpisheet.workbook_templates import formulas, input_rules
from kpisheet.workbook_templates.frame import (
    ROW_HEIGHT, column_range, formula, info_line, page_setup, protect, put, ref,
)
from kpisheet.workbook_templates.plan import EmployeeBlock, TeamPlan
from kpisheet.workbook_templates.scores_sheet import COL as SCORE_COL
from kpisheet.workbook_templates.styles import Formats

# printed columns: (key on 考核评分 or None for the line number, 中文, English, width)
LINE_COLUMNS = (
    (None, "序号", "No.", 5),
    ("category", "类别", "Category", 9),
    ("indicator", "指标", "Indicator", 24),
    ("weight", "权重%", "Weight", 8),
    ("target", "目标值", "Target", 10),
    ("actual", "实际值", "Actual", 10),
    ("self", "自评", "Self", 7),
    ("manager", "上级评分", "Manager", 9),
    ("score", "指标得分", "Score", 9),
    ("weighted", "加权得分", "Weighted", 9),
    ("comment", "说明/依据", "Evidence / comment", 48),
)
LAST_COL = len(LINE_COLUMNS) - 1
HELPER_COL = LAST_COL + 2  # hidden
ID_ROW = 3
# two label/value pairs across the form: (label first, label last, value first, value last)
PAIR_SPANS = ((0, 2, 3, 5), (6, 8, 9, 10))
NOT_NEEDED = "不适用（等级无需改进计划）"
PERCENT_LABEL = UNIT_LABELS[Unit.percent][0]
SPACER = 6  # points: a thin gap between sections


def percent_text(value: float) -> str:
    """Python's rendering of TEXT(value, "0.0#%"), for the cached result."""
    text = f"{value * 100:.2f}"
    return (text[:-1] if text.endswith("0") else text) + "%"


class _Form:
    """Writes the form top to bottom; ``row`` is the next free row."""

    def __init__(self, sheet, formats: Formats, plan: TeamPlan):
        self.sheet, self.f, self.plan = sheet, formats, plan
        self.chosen: EmployeeBlock | None = plan.blocks[0] if plan.blocks else None
        self.row = 0
        self.columns = {c.key: i for i, c in enumerate(summary_columns(plan.rulebook))}
        self.first_summary = plan.blocks[0].summary_row if plan.blocks else plan.last_summary_row
        self.first_line = plan.blocks[0].first_row if plan.blocks else plan.last_line_row
        self.id_cell = ref(2, ID_ROW, True, True)
        self.summary_pos = ref(HELPER_COL, ID_ROW, True, True)
        self.first_pos = ref(HELPER_COL, ID_ROW + 1, True, True)
        self.grade_cell = ""

    def summary_range(self, key: str) -> str:
        return column_range(self.columns[key], self.first_summary, self.plan.last_summary_row, SUMMARY)

    def scores_range(self, key: str) -> str:
        return column_range(SCORE_COL[key], self.first_line, self.plan.last_line_row, SCORES)

    def summary_value(self, key: str) -> str:
        return formulas.pick(self.summary_range(key), self.summary_pos)

    def spacer(self) -> None:
        self.sheet.set_row(self.row, SPACER)
        self.row += 1

    def section(self, text: str) -> None:
        self.spacer()
        self.sheet.set_row(self.row, 18)
        self.sheet.merge_range(self.row, 0, self.row, LAST_COL, text, self.f.section)
        self.row += 1

    def pairs(self, items: list[tuple[str, str | None, object]], height: float = 18) -> list[str]:
        """One row of (label, formula or None for a fixed value, cached/fixed value)
        pairs; returns the value cells' absolute references."""
        self.sheet.set_row(self.row, height)
        cells = []
        for (label, text, value), (l1, l2, v1, v2) in zip(items, PAIR_SPANS):
            self.sheet.merge_range(self.row, l1, self.row, l2, label, self.f.label)
            fmt = self.f.fixed_center if text is None else self.f.computed_text
            if v1 != v2:
                self.sheet.merge_range(self.row, v1, self.row, v2, "", fmt)
            if text is None:
                put(self.sheet, self.row, v1, value, fmt)
            else:
                formula(self.sheet, self.row, v1, text, fmt, value)
            cells.append(ref(v1, self.row, True, True))
        self.row += 1
        return cells

    def wide(self, label: str, text: str, fmt, height: float, cached="") -> None:
        """A label on the left and one looked-up value across the rest of the form."""
        self.sheet.set_row(self.row, height)
        self.sheet.merge_range(self.row, 0, self.row, 2, label, self.f.label)
        self.sheet.merge_range(self.row, 3, self.row, LAST_COL, "", fmt)
        formula(self.sheet, self.row, 3, text, fmt, cached)
        self.row += 1


def write_personal_form(book: Workbook, formats: Formats, plan: TeamPlan) -> None:
    sheet = book.add_worksheet(PERSONAL)
    form = _Form(sheet, formats, plan)
    for i, (_, _, _, width) in enumerate(LINE_COLUMNS):
        sheet.set_column(i, i, width)
    sheet.set_column(HELPER_COL, HELPER_COL, 10, None, {"hidden": True})
    _heading(form)
    _identity(form)
    _lines(form)
    _results(form)
    _feedback_and_plan(form)
    _sign_off(form)
    page_setup(sheet)
    sheet.fit_to_pages(1, 1)
    sheet.print_area(0, 0, form.row, LAST_COL)
    sheet.hide_gridlines(2)
    protect(sheet)


def _heading(form: _Form) -> None:
    sheet, f, plan, chosen = form.sheet, form.f, form.plan, form.chosen
    sheet.set_row(0, 24)
    sheet.merge_range(0, 0, 0, LAST_COL, "员工绩效考核表 Employee appraisal form", f.title)
    sheet.merge_range(1, 0, 1, LAST_COL, info_line(plan), f.info)
    sheet.set_row(2, SPACER)
    sheet.set_row(ID_ROW, 26)
    sheet.merge_range(ID_ROW, 0, ID_ROW, 1, "选择工号\nEmployee ID", f.label)
    put(sheet, ID_ROW, 2, chosen.employee.employee_id if chosen else "", f.input_text)
    sheet.data_validation(ID_ROW, 2, ID_ROW, 2, input_rules.employee_choice())
    sheet.merge_range(ID_ROW, 3, ID_ROW, LAST_COL, "← 从下拉列表选择工号，下方内容自动带出，可直接打印（A4 横向）。"
                      "Pick an ID: the form fills itself and prints on one A4 landscape page.", f.info)
    # hidden positions of the chosen employee: row on 汇总, first row on 考核评分
    summary_ids = column_range(0, form.first_summary, plan.last_summary_row, SUMMARY)
    score_ids = column_range(0, form.first_line, plan.last_line_row, SCORES)
    formula(sheet, ID_ROW, HELPER_COL, formulas.match_row(form.id_cell, summary_ids), None, 1 if chosen else "")
    formula(sheet, ID_ROW + 1, HELPER_COL, formulas.match_row(form.id_cell, score_ids), None, 1 if chosen else "")
    form.row = ID_ROW + 1


def _identity(form: _Form) -> None:
    plan, chosen = form.plan, form.chosen
    form.spacer()
    form.pairs([("姓名 Name", form.summary_value("name"), chosen.employee.name if chosen else ""),
                ("岗位 Role", form.summary_value("role"), chosen.role.name_zh if chosen else "")])
    form.pairs([("部门 Department", None, plan.department), ("团队 Team", None, plan.team)])
    period = plan.period_label_zh + (f"（{plan.period}）" if plan.period else "")
    form.pairs([("考核周期 Period", None, period),
                ("团队排名 Rank", form.summary_value("rank"), "")])


def _lines(form: _Form) -> None:
    sheet, f, plan = form.sheet, form.f, form.plan
    form.section("一、考核指标 Indicators")
    sheet.set_row(form.row, 28)
    for i, (_, zh, en, _) in enumerate(LINE_COLUMNS):
        sheet.write_string(form.row, i, f"{zh}\n{en}", f.header)
    form.row += 1
    score_ids = form.scores_range("employee_id")
    cached_lines = list(form.chosen.lines) if form.chosen else []
    fmt_of = {"score": f.computed_score, "weighted": f.computed_score, "weight": f.computed_number,
              "comment": f.fixed_note, "category": f.computed_left, "indicator": f.computed_left}
    for k in range(plan.max_lines):
        row = form.row
        pos = ref(HELPER_COL, row, True)
        cached = _cached_line(plan, cached_lines[k]) if k < len(cached_lines) else {}
        formula(sheet, row, HELPER_COL, formulas.line_position(form.first_pos, k, form.id_cell, score_ids), None,
                k + 1 if cached else "")
        sheet.set_row(row, ROW_HEIGHT)  # comments wrap to two lines, as on 考核评分
        for i, (key, _, _, _) in enumerate(LINE_COLUMNS):
            if key is None:
                formula(sheet, row, i, f'=IF({pos}="","",{k + 1})', f.computed_whole, k + 1 if cached else "")
            elif key in ("target", "actual"):
                text = formulas.pick_as_unit(form.scores_range(key), pos, form.scores_range("unit"), PERCENT_LABEL)
                formula(sheet, row, i, text, f.computed_text, cached.get(key, ""))
            else:
                formula(sheet, row, i, formulas.pick(form.scores_range(key), pos), fmt_of.get(key, f.computed_text),
                        cached.get(key, ""))
        form.row += 1


def _results(form: _Form) -> None:
    rb = form.plan.rulebook
    form.section("二、考核结果 Results")
    items = [(f"{c.name_zh}小计 {c.name_en}", f"subtotal_{c.code}") for c in rb.categories]
    items += [("表彰加分 Bonus", "bonus"), ("一票否决 Veto", "veto"), ("总分 Total", "total"),
              ("等级 Grade", "grade"), ("绩效系数 Coefficient", "coefficient")]
    cached = {"bonus": 0, "veto": VETO_NONE} if form.chosen else {}
    per_row = len(PAIR_SPANS)
    for start in range(0, len(items), per_row):
        chunk = items[start:start + per_row]
        cells = form.pairs([(label, form.summary_value(key), cached.get(key, "")) for label, key in chunk])
        for (_, key), cell in zip(chunk, cells):
            if key == "grade":
                form.grade_cell = cell


def _feedback_and_plan(form: _Form) -> None:
    rb, f = form.plan.rulebook, form.f
    form.section("三、反馈面谈记录 Feedback interview")
    form.wide("面谈记录 Record", form.summary_value("feedback"), f.fixed_note, 34)
    o = rb.outcomes
    form.section(f"四、绩效改进计划 Improvement plan（等级为 {'、'.join(o.pip_grades)} 时填写，期限 "
                 f"{o.pip_months_min}～{o.pip_months_max} 个月）")
    for label, key, height in (("待改进问题 Shortfalls", "pip_shortfalls", 28), ("改进措施 Actions", "pip_actions", 28),
                               ("辅导人 Owner", "pip_owner", 18), ("完成日期 Due", "pip_due", 18)):
        fmt = f.computed_date if key == "pip_due" else f.fixed_note
        form.wide(label, formulas.pip_pick(form.summary_range(key), form.summary_pos, form.grade_cell, NOT_NEEDED),
                  fmt, height)


def _sign_off(form: _Form) -> None:
    sheet, f, rb = form.sheet, form.f, form.plan.rulebook
    form.section("五、签字确认 Sign-off")
    for who, sign_key, date_key in (("员工签字 Employee", "employee_sign", "employee_date"),
                                    ("上级签字 Manager", "manager_sign", "manager_date"),
                                    ("人力资源部确认 HR", None, None)):
        row = form.row
        sheet.set_row(row, 22)
        sheet.merge_range(row, 0, row, 2, who, f.label)
        sheet.merge_range(row, 3, row, 5, "", f.fixed)
        sheet.merge_range(row, 6, row, 7, "日期 Date", f.label)
        sheet.merge_range(row, 8, row, LAST_COL, "", f.computed_date if date_key else f.fixed)
        if sign_key:
            formula(sheet, row, 3, form.summary_value(sign_key), f.fixed, "")
            formula(sheet, row, 8, form.summary_value(date_key), f.computed_date, "")
        form.row += 1
    form.spacer()
    days = rb.appeals.file_within_workdays
    sheet.merge_range(form.row, 0, form.row, LAST_COL,
                      f"员工对结果有异议的，可在结果公布后 {days} 个工作日内向人力资源部提出书面申诉。"
                      f"Appeals go to HR in writing within {days} working days of publication.", f.info)


def _cached_line(plan: TeamPlan, line) -> dict:
    ind, weight = line
    target = ind.target
    shown = "" if target is None else (percent_text(target) if ind.unit is Unit.percent
                                       else f"{target:g} {UNIT_LABELS[ind.unit][0]}")
    return {"category": plan.rulebook.category(ind.category).name_zh, "indicator": ind.name_zh,
            "weight": weight, "target": shown}
