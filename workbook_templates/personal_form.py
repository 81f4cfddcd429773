"""个人考核表: one printable A4 form for the employee chosen in a dropdown.

Every value is an INDEX/MATCH lookup into 考核评分 and 汇总, so one sheet
serves the whole team. Helper positions live in hidden columns outside the
print area.
"""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from validators.layout import PERSONAL, SCORES, SUMMARY, VETO_NONE, summary_columns
from validators.rulebook import UNIT_LABELS, Unit

from . import formulas, input_rules
from .frame import column_range, formula, info_line, page_setup, protect, put, ref, sheet_ref
from .plan import EmployeeBlock, TeamPlan
from .scores_sheet import COL as SCORE_COL
from .styles import Formats

# printed columns: (key on 考核评分 or None, 中文, English, width)
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
    ("comment", "说明/依据", "Evidence / comment", 34),
)
LAST_COL = len(LINE_COLUMNS) - 1
HELPER_COL = LAST_COL + 2  # hidden: looked-up row positions
ID_ROW = 3
NOT_NEEDED = "不适用（等级非 C/D）"
PERCENT_LABEL = UNIT_LABELS[Unit.percent][0]


def percent_text(value: float) -> str:
    """Python's rendering of TEXT(value, "0.0#%"), for the cached result."""
    text = f"{value * 100:.2f}"
    return (text[:-1] if text.endswith("0") else text) + "%"


def write_personal_form(book: Workbook, formats: Formats, plan: TeamPlan) -> None:
    sheet = book.add_worksheet(PERSONAL)
    rb = plan.rulebook
    columns = summary_columns(rb)
    scol = {c.key: i for i, c in enumerate(columns)}
    chosen: EmployeeBlock | None = plan.blocks[0] if plan.blocks else None

    for i, (_, zh, en, width) in enumerate(LINE_COLUMNS):
        sheet.set_column(i, i, width)
    sheet.set_column(HELPER_COL, HELPER_COL, 10, None, {"hidden": True})

    sheet.set_row(0, 26)
    sheet.merge_range(0, 0, 0, LAST_COL, "员工绩效考核表 Employee appraisal form", formats.title)
    sheet.merge_range(1, 0, 1, LAST_COL, info_line(plan), formats.info)

    id_cell = ref(2, ID_ROW, True, True)
    sheet.merge_range(ID_ROW, 0, ID_ROW, 1, "选择工号\nEmployee ID", formats.label)
    sheet.set_row(ID_ROW, 30)
    put(sheet, ID_ROW, 2, chosen.employee.employee_id if chosen else "", formats.input_text)
    sheet.data_validation(ID_ROW, 2, ID_ROW, 2, input_rules.employee_choice())
    sheet.merge_range(ID_ROW, 3, ID_ROW, LAST_COL, "← 从下拉列表选择工号，下方内容自动带出，可直接打印（A4 横向）。"
                      "Pick an ID; the form fills itself and prints on A4 landscape.", formats.info)

    # hidden positions: the employee's row on 汇总 and first row on 考核评分
    summary_ids = column_range(0, _first_summary(plan), plan.last_summary_row, SUMMARY)
    score_ids = column_range(0, _first_line(plan), plan.last_line_row, SCORES)
    summary_pos = ref(HELPER_COL, ID_ROW, True, True)
    first_pos = ref(HELPER_COL, ID_ROW + 1, True, True)
    formula(sheet, ID_ROW, HELPER_COL, formulas.match_row(id_cell, summary_ids), None, 1 if chosen else "")
    formula(sheet, ID_ROW + 1, HELPER_COL, formulas.match_row(id_cell, score_ids), None,
            chosen.first_row - _first_line(plan) + 1 if chosen else "")

    def summary_value(key: str) -> str:
        return formulas.pick(column_range(scol[key], _first_summary(plan), plan.last_summary_row, SUMMARY),
                             summary_pos)

    # identity
    row = 5
    pairs = [
        [("姓名 Name", summary_value("name"), chosen.employee.name if chosen else ""),
         ("岗位 Role", summary_value("role"), chosen.role.name_zh if chosen else ""),
         ("团队 Team", None, plan.team)],
        [("部门 Department", None, plan.department),
         ("考核周期 Period", None, f"{plan.period.label_zh}"),
         ("团队排名 Rank", summary_value("rank"), "")],
    ]
    for line in pairs:
        _label_value_row(sheet, formats, row, line)
        row += 1

    # indicator lines
    row += 1
    sheet.merge_range(row, 0, row, LAST_COL, "一、考核指标 Indicators", formats.section)
    row += 1
    sheet.set_row(row, 30)
    for i, (_, zh, en, _) in enumerate(LINE_COLUMNS):
        sheet.write_string(row, i, f"{zh}\n{en}", formats.header)
    row += 1
    cached_lines = list(chosen.lines) if chosen else []
    for k in range(plan.max_lines):
        pos = ref(HELPER_COL, row, True)
        formula(sheet, row, HELPER_COL, formulas.line_position(first_pos, k, id_cell, score_ids), None,
                chosen.first_row - _first_line(plan) + 1 + k if k < len(cached_lines) else "")
        sheet.set_row(row, 20)
        cached = _cached_line(plan, cached_lines[k]) if k < len(cached_lines) else {}
        for i, (key, _, _, _) in enumerate(LINE_COLUMNS):
            if key is None:
                formula(sheet, row, i, f'=IF({pos}="","",{k + 1})', formats.computed_whole,
                        k + 1 if cached else "")
                continue
            source = column_range(SCORE_COL[key], _first_line(plan), plan.last_line_row, SCORES)
            if key in ("target", "actual"):
                units = column_range(SCORE_COL["unit"], _first_line(plan), plan.last_line_row, SCORES)
                text = formulas.pick_as_unit(source, pos, units, PERCENT_LABEL)
            else:
                text = formulas.pick(source, pos)
            fmt = formats.computed_score if key in ("score", "weighted") else (
                formats.computed_number if key == "weight" else (
                    formats.fixed_wrap if key == "comment" else formats.computed_text))
            formula(sheet, row, i, text, fmt, cached.get(key, ""))
        row += 1

    # results
    row += 1
    sheet.merge_range(row, 0, row, LAST_COL, "二、考核结果 Results", formats.section)
    row += 1
    items = [(f"{c.name_zh}小计 {c.name_en}", f"subtotal_{c.code}") for c in rb.categories]
    items += [("表彰加分 Bonus", "bonus"), ("一票否决 Veto", "veto"), ("总分 Total", "total"),
              ("等级 Grade", "grade"), ("绩效系数 Coefficient", "coefficient")]
    cached_results = {"bonus": 0, "veto": VETO_NONE}
    grade_cell = None
    for start in range(0, len(items), 2):
        line = []
        for label, key in items[start:start + 2]:
            line.append((label, summary_value(key), cached_results.get(key, "") if chosen else ""))
        cells = _label_value_row(sheet, formats, row, line, wide=True)
        for (label, key), cell in zip(items[start:start + 2], cells):
            if key == "grade":
                grade_cell = cell
        row += 1

    # feedback interview
    row += 1
    sheet.merge_range(row, 0, row, LAST_COL, "三、反馈面谈记录 Feedback interview", formats.section)
    row += 1
    sheet.set_row(row, 48)
    sheet.merge_range(row, 0, row, LAST_COL, "", formats.fixed_wrap)
    formula(sheet, row, 0, summary_value("feedback"), formats.fixed_wrap, "")
    row += 1

    # improvement plan
    row += 1
    pip = "、".join(rb.outcomes.pip_grades)
    sheet.merge_range(row, 0, row, LAST_COL,
                      f"四、绩效改进计划 Improvement plan（等级为 {pip} 时填写，期限 {rb.outcomes.pip_months_min}～"
                      f"{rb.outcomes.pip_months_max} 个月）", formats.section)
    row += 1
    for label, key, height in (("待改进问题 Shortfalls", "pip_shortfalls", 36), ("改进措施 Actions", "pip_actions", 36),
                               ("辅导人 Owner", "pip_owner", 20), ("完成日期 Due", "pip_due", 20)):
        sheet.set_row(row, height)
        sheet.merge_range(row, 0, row, 2, label, formats.label)
        fmt = formats.computed_date if key == "pip_due" else formats.fixed_wrap
        sheet.merge_range(row, 3, row, LAST_COL, "", fmt)
        source = column_range(scol[key], _first_summary(plan), plan.last_summary_row, SUMMARY)
        formula(sheet, row, 3, formulas.pip_pick(source, summary_pos, grade_cell, NOT_NEEDED), fmt, "")
        row += 1

    # sign-off
    row += 1
    sheet.merge_range(row, 0, row, LAST_COL, "五、签字确认 Sign-off", formats.section)
    row += 1
    for who, sign_key, date_key in (("员工签字 Employee", "employee_sign", "employee_date"),
                                    ("上级签字 Manager", "manager_sign", "manager_date")):
        sheet.set_row(row, 26)
        sheet.merge_range(row, 0, row, 2, who, formats.label)
        sheet.merge_range(row, 3, row, 5, "", formats.fixed)
        formula(sheet, row, 3, summary_value(sign_key), formats.fixed, "")
        sheet.merge_range(row, 6, row, 7, "日期 Date", formats.label)
        sheet.merge_range(row, 8, row, 9, "", formats.computed_date)
        formula(sheet, row, 8, summary_value(date_key), formats.computed_date, "")
        put(sheet, row, 10, "", formats.fixed)
        row += 1
    sheet.set_row(row, 26)
    sheet.merge_range(row, 0, row, 2, "人力资源部确认 HR", formats.label)
    sheet.merge_range(row, 3, row, 5, "", formats.fixed)
    sheet.merge_range(row, 6, row, 7, "日期 Date", formats.label)
    sheet.merge_range(row, 8, row, 9, "", formats.fixed)
    put(sheet, row, 10, "", formats.fixed)
    row += 1
    sheet.write_string(row + 1, 0, f"员工对结果有异议的，可在结果公布后 {rb.appeals.file_within_workdays} 个工作日内向"
                       "人力资源部提出书面申诉。Appeals go to HR in writing within "
                       f"{rb.appeals.file_within_workdays} working days of publication.", formats.info)
    last_row = row + 1

    page_setup(sheet)
    sheet.fit_to_pages(1, 1)
    sheet.print_area(0, 0, last_row, LAST_COL)
    sheet.hide_gridlines(2)
    protect(sheet)


def _first_line(plan: TeamPlan) -> int:
    return plan.blocks[0].first_row if plan.blocks else plan.last_line_row


def _first_summary(plan: TeamPlan) -> int:
    return plan.blocks[0].summary_row if plan.blocks else plan.last_summary_row


def _cached_line(plan: TeamPlan, line) -> dict:
    ind, weight = line
    target = ind.target
    shown = "" if target is None else (percent_text(target) if ind.unit is Unit.percent else target)
    return {"category": plan.rulebook.category(ind.category).name_zh, "indicator": ind.name_zh,
            "weight": weight, "target": shown}


def _label_value_row(sheet, formats: Formats, row: int, pairs, wide: bool = False) -> list[str]:
    """Label/value pairs across the form; returns the value cells' absolute refs."""
    spans = [(0, 2, 3, 4), (5, 7, 8, 10)] if wide else [(0, 1, 2, 3), (4, 5, 6, 7), (8, 8, 9, 10)]
    sheet.set_row(row, 22)
    cells = []
    for (label, text, cached), (l1, l2, v1, v2) in zip(pairs, spans):
        if l1 == l2:
            sheet.write_string(row, l1, label, formats.label)
        else:
            sheet.merge_range(row, l1, row, l2, label, formats.label)
        fmt = formats.fixed if text is None else formats.computed_text
        sheet.merge_range(row, v1, row, v2, "", fmt)
        if text is None:
            put(sheet, row, v1, cached, fmt)
        else:
            formula(sheet, row, v1, text, fmt, cached)
        cells.append(ref(v1, row, True, True))
    return cells
