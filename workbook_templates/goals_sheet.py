"""目标设定: one row per employee x indicator, pre-filled with the rulebook's defaults."""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from kpisheet.validators.layout import GOAL_COLUMNS, GOALS
from kpisheet.validators.policy.input_limits import value_range, whole
from kpisheet.validators.rulebook.model import METHOD_LABELS, UNIT_LABELS, Indicator, Method, Unit

from kpisheet.workbook_templates import formulas, input_rules
from kpisheet.workbook_templates.frame import (
    blank_rule, column_range, data_widths, formula, formula_rule, highlight, protect, put, ref, validate,
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
    # not over the inputs and the weight sum, which warning formats paint
    mark_employee_starts(sheet, formats, plan, [COL[c.key] for c in GOAL_COLUMNS
                                                if not c.input and c.key != "weight_sum"])
    weight_col = COL["weight"]
    rows_by = {"weight": [], "smart": [], "editable": {k: [] for k in TARGET_KEYS}}
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
                else:
                    fmt = formats.fixed_percent if percent else (
                        formats.fixed_general if ind.unit is Unit.count else formats.fixed_number)
                put(sheet, row, COL[key], value, fmt)
            put(sheet, row, COL["smart"], "", formats.input_wrap)
            rows_by["smart"].append(row)
            formula(sheet, row, COL["weight_sum"], formulas.weight_sum(weights_range), formats.computed_number,
                    weight_total)
    rows_by["rules"] = rules
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
    # what validation reports about a weight or a target: text, a weight outside its range (a mandatory
    # indicator weighted 0 among them), a rate off 0%..100% (95 typed for 95%), a value past its plausible range
    for (code, key), rows in rows_by["rules"].items():
        ind = plan.rulebook.indicator(code)
        if key == "weight":
            low, high, whole_only = ind.weight_min, ind.weight_max, False
        else:
            (low, high), whole_only = value_range(ind, target=True), whole(ind)
        highlight(sheet, rows, COL[key], lambda row, key=key, low=low, high=high, w=whole_only: formula_rule(
            formulas.outside(ref(COL[key], row), low, high, w), formats.error))
    sum_col = COL["weight_sum"]
    # at each employee's first row, where validation reports goal-weight-sum
    highlight(sheet, [b.first_row for b in plan.blocks], sum_col, lambda row: formula_rule(
        f"ROUND({ref(sum_col, row)},6)<>100", formats.error))
    _category_highlight(sheet, formats, plan)
    _order_highlight(sheet, formats, plan)


def _category_highlight(sheet, formats: Formats, plan: TeamPlan) -> None:
    """A category's weights not adding up to the rulebook's category weight, at the category's first
    weight cell (where validation reports goal-category-weight): one rule per role and category, the
    employees of a role having the same rows."""
    weight = COL["weight"]
    groups: dict[tuple[str, str], list[int]] = {}
    spans: dict[tuple[str, str], int] = {}
    for block in plan.blocks:
        for category in plan.rulebook.categories:
            offsets = [k for k, (ind, _) in enumerate(block.lines) if ind.category == category.code]
            if offsets:
                key = (block.role.code, category.code)
                groups.setdefault(key, []).append(block.first_row + offsets[0])
                spans[key] = len(offsets)
    for (role, code), rows in groups.items():
        total = plan.rulebook.category(code).weight
        highlight(sheet, rows, weight, lambda row, n=spans[(role, code)], total=total: formula_rule(
            f"ROUND(SUM({ref(weight, row)}:{ref(weight, row + n - 1)}),6)<>{total:g}", formats.error))


def _order_highlight(sheet, formats: Formats, plan: TeamPlan) -> None:
    """Floor, target and challenge out of order (floor < target <= challenge, or the mirror for
    lower-better), at the cell validation names (goal-target-order): the target when it is not past
    the floor, else the challenge; only when all three are numbers in their range (else that is the finding)."""
    f, t, c = COL["floor"], COL["target"], COL["challenge"]
    groups: dict[str, list[int]] = {}
    for block in plan.blocks:
        for offset, (ind, _) in enumerate(block.lines):
            if ind.editable_targets and targets_used(ind) == TARGET_KEYS:
                groups.setdefault(ind.code, []).append(block.first_row + offset)
    for code, rows in groups.items():
        ind = plan.rulebook.indicator(code)
        higher = ind.method is Method.higher_better
        low, high = value_range(ind, target=True)

        def cells(row):
            return ref(f, row, True), ref(t, row, True), ref(c, row, True)

        def usable(row):
            fr, tr, cr = cells(row)
            bounds = [f"{x}>={low:g}" for x in (fr, tr, cr)] + ([f"{x}<={high:g}" for x in (fr, tr, cr)]
                                                                 if high is not None else [])
            return f"COUNT({fr}:{cr})=3,{','.join(bounds)}"

        def target_wrong(row):
            fr, tr, _ = cells(row)
            return formula_rule(f"AND({usable(row)},{fr}{'>=' if higher else '<='}{tr})", formats.error)

        def challenge_wrong(row):
            fr, tr, cr = cells(row)
            first = f"{fr}<{tr},{tr}>{cr}" if higher else f"{fr}>{tr},{tr}<{cr}"
            return formula_rule(f"AND({usable(row)},{first})", formats.error)

        highlight(sheet, rows, t, target_wrong)
        highlight(sheet, rows, c, challenge_wrong)
