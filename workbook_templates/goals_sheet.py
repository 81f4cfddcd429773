"""目标设定: one row per employee x indicator, pre-filled with the rulebook's defaults."""

from __future__ import annotations

from xlsxwriter.utility import xl_range
from xlsxwriter.workbook import Workbook

from kpisheet.validators.layout import GOAL_COLUMNS, GOALS
from kpisheet.validators.rulebook.model import METHOD_LABELS, UNIT_LABELS, Indicator, Method, Unit

from kpisheet.workbook_templates import formulas, input_rules
from kpisheet.workbook_templates.frame import (
    blank_rule, column_range, data_widths, formula, formula_rule, highlight, protect, put, ref, runs, validate,
    write_frame, mark_employee_starts, paginate_blocks, ROW_HEIGHT,
)
from kpisheet.workbook_templates.plan import TeamPlan
from kpisheet.workbook_templates.styles import Formats

COL = {c.key: i for i, c in enumerate(GOAL_COLUMNS)}
TARGET_KEYS = ("floor", "target", "challenge")
TARGET_ZH = {"floor": "底线值", "target": "目标值", "challenge": "挑战值"}


def targets_used(ind: Indicator) -> tuple[str, ...]:
    """Which of floor/target/challenge the indicator's scoring method reads."""
    if ind.method in (Method.higher_better, Method.lower_better):
        return TARGET_KEYS
    if ind.method is Method.count:
        return ("target",)
    return ()


def identity_values(plan: TeamPlan) -> list[list]:
    """The locked text columns of every row, in layout order up to 'unit'."""
    rb = plan.rulebook
    rows = []
    for block in plan.blocks:
        e = block.employee
        for ind, _ in block.lines:
            rows.append([e.employee_id, e.name, block.role.name_zh, rb.category(ind.category).name_zh, ind.code,
                         ind.name_zh, METHOD_LABELS[ind.method][0], UNIT_LABELS[ind.unit][0]])
    return rows


def write_goals(book: Workbook, formats: Formats, plan: TeamPlan) -> None:
    sheet = book.add_worksheet(GOALS)
    identity = identity_values(plan)
    widths = data_widths(GOAL_COLUMNS, identity)
    write_frame(sheet, formats, plan, "目标设定 Goal setting", GOAL_COLUMNS, widths)
    paginate_blocks(sheet, plan, widths)
    mark_employee_starts(sheet, formats, plan, len(GOAL_COLUMNS) - 1)
    weight_col = COL["weight"]
    rows_by = {"weight": [], "smart": [], "editable": {k: [] for k in TARGET_KEYS}, "percent": []}
    rules: dict[tuple[str, str], list[int]] = {}  # (indicator code, column key) -> rows
    row_index = 0
    for block in plan.blocks:
        weights_range = column_range(weight_col, block.first_row, block.last_row)
        weight_total = sum(w for _, w in block.lines)
        for offset, (ind, default_weight) in enumerate(block.lines):
            row = block.first_row + offset
            sheet.set_row(row, ROW_HEIGHT)
            for col, value in enumerate(identity[row_index]):
                put(sheet, row, col, value, formats.fixed)
            row_index += 1
            put(sheet, row, weight_col, default_weight, formats.input_number)
            rows_by["weight"].append(row)
            rules.setdefault((ind.code, "weight"), []).append(row)
            used = targets_used(ind)
            percent = ind.unit is Unit.percent
            for key in TARGET_KEYS:
                value = getattr(ind, key) if key in used else None
                if key in used and ind.editable_targets:
                    fmt = formats.input_percent if percent else (
                        formats.input_general if ind.unit is Unit.count else formats.input_number)
                    rows_by["editable"][key].append(row)
                    rules.setdefault((ind.code, key), []).append(row)
                    if percent:
                        rows_by["percent"].append((row, COL[key]))
                else:
                    fmt = formats.fixed_percent if percent else (
                        formats.fixed_general if ind.unit is Unit.count else formats.fixed_number)
                put(sheet, row, COL[key], value, fmt)
            put(sheet, row, COL["smart"], "", formats.input_wrap)
            rows_by["smart"].append(row)
            formula(sheet, row, COL["weight_sum"], formulas.weight_sum(weights_range), formats.computed_number,
                    weight_total)
    _validations(sheet, plan, rules)
    _highlights(sheet, formats, plan, rows_by)
    protect(sheet)


def _validations(sheet, plan: TeamPlan, rules: dict[tuple[str, str], list[int]]) -> None:
    for (code, key), rows in rules.items():
        ind = plan.rulebook.indicator(code)
        options = input_rules.weight(ind) if key == "weight" else input_rules.target_value(ind, TARGET_ZH[key])
        validate(sheet, rows, COL[key], options)
    all_rows = [r for b in plan.blocks for r in range(b.first_row, b.last_row + 1)]
    validate(sheet, all_rows, COL["smart"], input_rules.smart())


def _highlights(sheet, formats: Formats, plan: TeamPlan, rows_by: dict) -> None:
    highlight(sheet, rows_by["weight"], COL["weight"], blank_rule(formats.missing))
    highlight(sheet, rows_by["smart"], COL["smart"], blank_rule(formats.missing))
    for key, rows in rows_by["editable"].items():
        highlight(sheet, rows, COL[key], blank_rule(formats.missing))
    # a percent typed as 95 instead of 95%
    for col in sorted({col for _, col in rows_by["percent"]}):
        rows = [row for row, c in rows_by["percent"] if c == col]
        highlight(sheet, rows, col, lambda row, col=col: formula_rule(
            f"AND(ISNUMBER({ref(col, row)}),{ref(col, row)}>1)", formats.error))
    sum_col = COL["weight_sum"]
    all_rows = [r for b in plan.blocks for r in range(b.first_row, b.last_row + 1)]
    # every row of a block holds the block's sum
    highlight(sheet, all_rows, sum_col, lambda row: formula_rule(f"ROUND({ref(sum_col, row)},6)<>100", formats.error))
    _order_highlight(sheet, formats, plan)


def _order_highlight(sheet, formats: Formats, plan: TeamPlan) -> None:
    """Floor, target and challenge out of order (floor < target <= challenge, or
    the mirror for lower-better) on rows whose targets the manager may edit:
    one rule per direction over all such rows."""
    f, t, c = COL["floor"], COL["target"], COL["challenge"]
    by_direction: dict[bool, list[int]] = {True: [], False: []}
    for block in plan.blocks:
        for offset, (ind, _) in enumerate(block.lines):
            if ind.editable_targets and targets_used(ind) == TARGET_KEYS:
                by_direction[ind.method is Method.higher_better].append(block.first_row + offset)
    for higher, rows in by_direction.items():
        spans = runs(rows)
        if not spans:
            continue
        row = spans[0][0]
        fr, tr, cr = ref(f, row, True), ref(t, row, True), ref(c, row, True)
        ordered = formulas.targets_in_order(fr, tr, cr, higher)
        rule = formula_rule(f"AND(COUNT({fr}:{cr})=3,NOT({ordered}))", formats.error)
        if len(spans) > 1:
            rule["multi_range"] = " ".join(xl_range(a, f, b, c) for a, b in spans)
        sheet.conditional_format(row, f, spans[0][1], c, rule)
