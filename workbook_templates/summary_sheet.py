"""汇总: per employee totals, grade and sign-off; below, the team's grade
distribution against the quotas.

The distribution block starts in column C and leaves column A (工号) empty,
so a reader that takes every row with an employee id never mistakes it for
an employee.
"""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from kpisheet.validators.policy.grading import bonus_points
from kpisheet.validators.layout import HEADER_ROW, SCORES, SUMMARY, VETO_NONE, Column, summary_columns

from kpisheet.workbook_templates import formulas, input_rules
from kpisheet.workbook_templates import lists_sheet as n
from kpisheet.workbook_templates.frame import (
    blank_rule, column_range, data_widths, formula, formula_rule, highlight, protect, put, ref, validate,
    write_frame, write_title, page_setup, print_scale, ROW_HEIGHT,
)
from kpisheet.workbook_templates.plan import EmployeeBlock, TeamPlan
from kpisheet.workbook_templates.scores_sheet import COL as SCORE_COL
from kpisheet.workbook_templates.styles import Formats

TEXT_INPUTS = {
    "manager_sign": ("上级签字 Manager", "上级确认后签名（打印件手签，电子表填姓名）。"),
    "employee_sign": ("员工签字 Employee", "员工确认考核结果后签名（填姓名）。"),
    "feedback": ("反馈面谈记录", "面谈时间、双方意见、员工确认的改进方向。"),
    "pip_shortfalls": ("待改进问题", "等级为 C/D 时必填：未达标的指标与差距。"),
    "pip_actions": ("改进措施", "等级为 C/D 时必填：具体措施、培训或辅导安排。"),
    "pip_owner": ("辅导人", "等级为 C/D 时必填：负责辅导的人员。"),
}
# names: one line, vertically centred like the dates beside them; the rest is free text
NAME_INPUTS = ("manager_sign", "employee_sign", "pip_owner")
DATE_INPUTS = {"manager_date": "上级签字日期", "employee_date": "员工签字日期", "pip_due": "改进完成日期"}
SIGNOFF_DATES = ("manager_date", "employee_date")


def write_summary(book: Workbook, formats: Formats, plan: TeamPlan) -> None:
    sheet = book.add_worksheet(SUMMARY)
    columns = summary_columns(plan.rulebook)
    col = {c.key: i for i, c in enumerate(columns)}
    identities = [[b.employee.employee_id, b.employee.name, b.role.name_zh] for b in plan.blocks]
    widths = data_widths(columns, identities)
    # Titles start right of 工号/姓名: those two columns repeat on the second
    # printed page, where a title in A1 would show cut off.
    write_frame(sheet, formats, plan, "考核汇总 Summary", columns, widths, title_col=col["name"] + 1)
    write_title(sheet, formats, plan, "考核汇总（续）签字与改进计划 Summary: sign-off and improvement plan",
                col["manager_sign"])
    totals = column_range(col["total"], plan.blocks[0].summary_row if plan.blocks else 0, plan.last_summary_row)
    for block, identity in zip(plan.blocks, identities):
        row = block.summary_row
        sheet.set_row(row, ROW_HEIGHT)
        for c, value in enumerate(identity):
            put(sheet, row, c, value, formats.fixed)
        _results(sheet, formats, plan, block, col, totals)
        _inputs(sheet, formats, columns, col, row)
    rows = [b.summary_row for b in plan.blocks]
    _validations(sheet, plan, col, rows)
    _highlights(sheet, formats, plan, col, rows)
    write_distribution(sheet, formats, plan, col)
    _page_setup(sheet, col, widths)
    protect(sheet)


def _page_setup(sheet, col: dict, widths: list[float]) -> None:
    """Two pages across: results, then sign-off and improvement plan, with ID
    and name repeated on the left of both."""
    split = col["manager_sign"]
    repeated = widths[: col["name"] + 1]
    scale = min(print_scale(widths[:split]), print_scale(repeated + widths[split:]))
    page_setup(sheet, scale=scale, repeat_from=HEADER_ROW)
    sheet.repeat_columns(0, col["name"])
    sheet.set_v_pagebreaks([split])


def _results(sheet, formats: Formats, plan: TeamPlan, block: EmployeeBlock, col: dict, totals: str) -> None:
    rb = plan.rulebook
    row = block.summary_row
    weighted = SCORE_COL["weighted"]
    for category in rb.categories:
        rows = [block.first_row + i for i, (ind, _) in enumerate(block.lines) if ind.category == category.code]
        target = col[f"subtotal_{category.code}"]
        if rows:
            # role_indicators keeps a category's rows together, so one range covers them
            rng = column_range(weighted, rows[0], rows[-1], SCORES)
            formula(sheet, row, target, formulas.subtotal(rng), formats.computed_score, "")
        else:
            put(sheet, row, target, 0, formats.computed_score)
    bonus_cell = ref(col["bonus"], row)
    formula(sheet, row, col["bonus"], formulas.bonus(ref(col["commendations"], row)), formats.computed_score,
            bonus_points(rb, 0))
    all_weighted = column_range(weighted, block.first_row, block.last_row, SCORES)
    total_cell, grade_cell = ref(col["total"], row), ref(col["grade"], row)
    formula(sheet, row, col["total"], formulas.total(all_weighted, bonus_cell), formats.computed_score, "")
    formula(sheet, row, col["grade"], formulas.grade(total_cell, ref(col["veto"], row)), formats.computed_text, "")
    formula(sheet, row, col["coefficient"], formulas.coefficient(grade_cell), formats.computed_number, "")
    formula(sheet, row, col["rank"], formulas.rank(total_cell, totals), formats.computed_whole, "")


def _inputs(sheet, formats: Formats, columns: tuple[Column, ...], col: dict, row: int) -> None:
    put(sheet, row, col["commendations"], 0, formats.input_whole)
    put(sheet, row, col["veto"], VETO_NONE, formats.input_text)
    for key in TEXT_INPUTS:
        put(sheet, row, col[key], "", formats.input_text if key in NAME_INPUTS else formats.input_wrap)
    for key in DATE_INPUTS:
        put(sheet, row, col[key], "", formats.input_date)


def _validations(sheet, plan: TeamPlan, col: dict, rows: list[int]) -> None:
    rb = plan.rulebook
    validate(sheet, rows, col["commendations"], input_rules.commendations(rb))
    validate(sheet, rows, col["veto"], input_rules.veto(rb))
    for key, (title, prompt) in TEXT_INPUTS.items():
        validate(sheet, rows, col[key], input_rules.free_text(title, prompt))
    for key, title in DATE_INPUTS.items():
        window = plan.signoff_window if key in SIGNOFF_DATES else None
        validate(sheet, rows, col[key], input_rules.date(title, window))


def _highlights(sheet, formats: Formats, plan: TeamPlan, col: dict, rows: list[int]) -> None:
    for key in ("commendations", "veto", "manager_sign", "manager_date", "employee_sign", "employee_date",
                "feedback"):
        highlight(sheet, rows, col[key], blank_rule(formats.missing))
    # what validation reports about these inputs: text or a fraction for a count, a veto not on the list,
    # a sign-off date that is text or outside the window
    highlight(sheet, rows, col["commendations"], lambda row: formula_rule(
        formulas.outside(ref(col["commendations"], row), 0, None, whole=True), formats.error))
    highlight(sheet, rows, col["veto"], lambda row: formula_rule(
        formulas.not_a_choice(ref(col["veto"], row), n.VETO_OPTIONS), formats.error))
    window = plan.signoff_window
    for key in SIGNOFF_DATES:
        highlight(sheet, rows, col[key], lambda row, key=key: formula_rule(
            formulas.outside_dates(ref(col[key], row), *window) if window else formulas.not_a_date(ref(col[key], row)),
            formats.error))
    # improvement plan: missing only matters for the PIP grades
    for key in ("pip_shortfalls", "pip_actions", "pip_owner", "pip_due"):
        highlight(sheet, rows, col[key], lambda row, key=key: formula_rule(
            f'AND({ref(col[key], row)}="",COUNTIF({n.PIP_GRADES},{ref(col["grade"], row, True)})>0)',
            formats.missing))


# --- team distribution ----------------------------------------------------------

# (first, last) columns of the block's five columns: label, count, share, quota, status.
# From column C: A (the id the reader keys on) stays empty, and A:B repeat on
# the second printed page, which must not show a sliver of this block.
SPANS = ((2, 3), (4, 4), (5, 5), (6, 8), (9, 11))


def distribution_top(plan: TeamPlan) -> int:
    """First 0-based row of the distribution block (two rows below the table)."""
    return plan.last_summary_row + 3


def _cell(sheet, row: int, span: tuple[int, int], value, fmt, cached=None) -> str:
    """Write a value, or a formula (text starting with '=') with its cached result,
    into a possibly merged span; returns the span's top-left reference."""
    first, last = span
    if first != last:
        sheet.merge_range(row, first, row, last, "", fmt)
    if isinstance(value, str) and value.startswith("="):
        formula(sheet, row, first, value, fmt, cached)
    else:
        put(sheet, row, first, value, fmt)
    return ref(first, row)


def write_distribution(sheet, formats: Formats, plan: TeamPlan, col: dict) -> None:
    rb, d = plan.rulebook, plan.rulebook.distribution
    first = plan.blocks[0].summary_row if plan.blocks else plan.last_summary_row
    grades = column_range(col["grade"], first, plan.last_summary_row)
    label, count, share, quota, status = SPANS
    row = distribution_top(plan)
    sheet.merge_range(row, label[0], row, status[1], "团队等级分布 Team grade distribution", formats.section)
    row += 1
    _cell(sheet, row, label, "团队人数 Team size", formats.label)
    _cell(sheet, row, count, len(plan.blocks), formats.fixed)
    size_cell = ref(count[0], row, True, True)
    _cell(sheet, row, share, "", formats.fixed)
    _cell(sheet, row, quota, "已评定 Graded", formats.label)
    graded_cell = ref(status[0], row, True, True)
    _cell(sheet, row, status, formulas.graded(grades), formats.computed_whole, 0)
    row += 1
    sheet.set_row(row, 30)
    for text, span in zip(["等级\nGrade", "人数\nCount", "占比\nShare", "要求\nQuota", "状态\nStatus"], SPANS):
        _cell(sheet, row, span, text, formats.header)
    row += 1
    letter_cells: dict[str, str] = {}
    for band in rb.grades:
        # the letter alone, so COUNTIF can match it
        letter_cells[band.grade] = ref(label[0], row, True, True)
        _cell(sheet, row, label, band.grade, formats.fixed)
        count_cell = _cell(sheet, row, count, formulas.count_of(grades, [letter_cells[band.grade]]),
                           formats.computed_whole, 0)
        _cell(sheet, row, share, formulas.share(count_cell, graded_cell), formats.computed_percent, "")
        _cell(sheet, row, quota, f"{band.name_zh} ≥{band.min:g}，系数 {band.coefficient:g}", formats.fixed)
        _cell(sheet, row, status, "", formats.fixed)
        row += 1
    letters = [band.grade for band in rb.grades]  # best first
    # quota groups: the best grade, the best two, the middle one, the rest (S, S+A, B, C+D by default)
    groups = [
        (letters[:1], None, n.S_MAX, f"≤ {d.s_max:.0%}"),
        (letters[:2], None, n.SA_MAX, f"≤ {d.sa_max:.0%}"),
        (letters[2:3], n.B_MIN, None, f"≥ {d.b_min:.0%}"),
        (letters[3:], n.CD_MIN, n.CD_MAX, f"{d.cd_min:.0%} ～ {d.cd_max:.0%}"),
    ]
    row += 1
    sheet.merge_range(row, label[0], row, status[1], "分布要求 Quotas（校准时按部门执行，此处供参考）", formats.section)
    row += 1
    for group, low, high, text in groups:
        if not group:
            continue
        _cell(sheet, row, label, "+".join(group), formats.fixed)
        count_cell = _cell(sheet, row, count, formulas.count_of(grades, [letter_cells[g] for g in group]),
                           formats.computed_whole, 0)
        share_cell = _cell(sheet, row, share, formulas.share(count_cell, graded_cell), formats.computed_percent, "")
        _cell(sheet, row, quota, text, formats.fixed)
        _cell(sheet, row, status, formulas.within(share_cell, low, high), formats.computed_text, "")
        _status_colours(sheet, formats, row, status)
        row += 1
    _cell(sheet, row, label, f"{letters[0]} 人数（≤{d.small_team_max} 人团队）", formats.fixed)
    count_cell = _cell(sheet, row, count, formulas.count_of(grades, [letter_cells[letters[0]]]),
                       formats.computed_whole, 0)
    _cell(sheet, row, share, "", formats.fixed)
    _cell(sheet, row, quota, f"≤ {d.small_team_s_max} 人", formats.fixed)
    cached = "OK" if len(plan.blocks) <= d.small_team_max else "不适用 N/A"
    _cell(sheet, row, status, formulas.small_team_status(count_cell, size_cell), formats.computed_text, cached)
    _status_colours(sheet, formats, row, status)
    row += 1
    sheet.write_string(row, label[0], f"注：不足 {d.pool_below} 人的团队在部门层面合并执行强制分布；状态为"
                       f"{'、'.join(rb.eligibility.excluded_statuses)}或任职不足 {rb.eligibility.min_months_in_post}"
                       " 个月的员工不参与强制分布（由人力资源部校准时处理）。", formats.info)


def _status_colours(sheet, formats: Formats, row: int, span: tuple[int, int]) -> None:
    for word in ("超出", "不足"):
        sheet.conditional_format(row, span[0], row, span[1], {"type": "text", "criteria": "begins with",
                                                              "value": word, "format": formats.error})
