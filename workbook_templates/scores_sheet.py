"""考核评分: the goal rows again, with results entered and scored by live formulas."""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from kpisheet.validators.layout import GOALS, SCORE_COLUMNS, SCORES
from kpisheet.validators.policy.input_limits import value_range, whole
from kpisheet.validators.rulebook.model import METHOD_LABELS, UNIT_LABELS, Method, Unit

from kpisheet.workbook_templates import formulas, input_rules
from kpisheet.workbook_templates import lists_sheet as n
from kpisheet.workbook_templates.frame import (
    blank_rule, data_widths, formula, formula_rule, highlight, protect, put, ref, sheet_ref, validate,
    write_frame, mark_employee_starts, paginate_blocks, ROW_HEIGHT,
)
from kpisheet.workbook_templates.goals_sheet import COL as GOAL_COL
from kpisheet.workbook_templates.goals_sheet import targets_used
from kpisheet.workbook_templates.plan import TeamPlan
from kpisheet.workbook_templates.styles import Formats

COL = {c.key: i for i, c in enumerate(SCORE_COLUMNS)}


def write_scores(book: Workbook, formats: Formats, plan: TeamPlan) -> None:
    sheet = book.add_worksheet(SCORES)
    rb = plan.rulebook
    texts = []
    for block in plan.blocks:
        for ind, _ in block.lines:
            texts.append([block.employee.employee_id, block.employee.name, rb.category(ind.category).name_zh,
                          ind.code, ind.name_zh, METHOD_LABELS[ind.method][0], UNIT_LABELS[ind.unit][0]])
    widths = data_widths(SCORE_COLUMNS, texts)
    write_frame(sheet, formats, plan, "考核评分 Scoring", SCORE_COLUMNS, widths)
    paginate_blocks(sheet, plan, widths)
    mark_employee_starts(sheet, formats, plan, [COL[c.key] for c in SCORE_COLUMNS if not c.input])
    self_weighted = bool(rb.scoring.self_weight)
    actual_rows: dict[str, list[int]] = {}
    rating_rows: dict[str, list[int]] = {}
    all_rows: list[int] = []
    i = 0
    for block in plan.blocks:
        for offset, (ind, default_weight) in enumerate(block.lines):
            row = block.first_row + offset
            all_rows.append(row)
            sheet.set_row(row, ROW_HEIGHT)
            for col, value in enumerate(texts[i]):
                put(sheet, row, col, value, formats.fixed)
            i += 1
            _goal_copies(sheet, formats, row, ind, default_weight)
            cell = {key: ref(COL[key], row) for key in COL}
            if ind.is_rating:
                put(sheet, row, COL["actual"], "", formats.fixed)
                put(sheet, row, COL["manager"], "", formats.input_whole)
                rating_rows.setdefault(ind.code, []).append(row)
            else:
                found = plan.actuals.get((block.employee.employee_id, ind.code))
                if found is None:
                    put(sheet, row, COL["actual"], "", _actual_format(formats, ind))
                else:
                    prefill_actual(sheet, formats, row, ind, found)
                put(sheet, row, COL["manager"], "", formats.fixed)
                actual_rows.setdefault(ind.code, []).append(row)
            put(sheet, row, COL["self"], "", formats.input_whole)
            put(sheet, row, COL["comment"], "", formats.input_wrap)
            score = formulas.indicator_score(ind.method, actual=cell["actual"], floor=cell["floor"],
                                             target=cell["target"], challenge=cell["challenge"],
                                             manager=cell["manager"], own=cell["self"],
                                             self_weighted=self_weighted)
            formula(sheet, row, COL["score"], score, formats.computed_score, "")
            formula(sheet, row, COL["weighted"], formulas.weighted(cell["score"], cell["weight"]),
                    formats.computed_score, "")
    _validations(sheet, plan, actual_rows, rating_rows, all_rows)
    _highlights(sheet, formats, plan, actual_rows, rating_rows, all_rows)
    protect(sheet)


def _goal_copies(sheet, formats: Formats, row: int, ind, default_weight: float) -> None:
    """Weight and targets are whatever 目标设定 holds on the same row."""
    formula(sheet, row, COL["weight"], formulas.copy_of(sheet_ref(GOALS, ref(GOAL_COL["weight"], row))),
            formats.computed_number, default_weight)
    used = targets_used(ind)
    fmt = (formats.computed_percent if ind.unit is Unit.percent
           else formats.computed_general if ind.unit is Unit.count else formats.computed_number)
    for key in ("floor", "target", "challenge"):
        if key in used:
            source = sheet_ref(GOALS, ref(GOAL_COL[key], row))
            formula(sheet, row, COL[key], formulas.copy_of(source), fmt, getattr(ind, key))
        else:
            put(sheet, row, COL[key], "", formats.fixed)


def prefill_actual(sheet, formats: Formats, row: int, ind, found) -> None:
    """The system's value in a purple cell the manager can still correct, with a note naming the source."""
    percent = ind.unit is Unit.percent
    fmt = (formats.prefilled_percent if percent
           else formats.prefilled_general if ind.unit is Unit.count else formats.prefilled_number)
    sheet.write_number(row, COL["actual"], found.value, fmt)
    shown = f"{found.value * 100:.10g}%" if percent else f"{found.value:.10g}"
    lines = [f"系统预填 Prefilled from: {found.source}", f"数值 Value: {shown}"]
    if found.note:
        lines.append(f"备注 Note: {found.note}")
    lines.append("如需修改，请在“说明/依据”栏写明原因 / If you change it, explain why in the comment column.")
    sheet.write_comment(row, COL["actual"], "\n".join(lines), {"author": "kpisheet", "x_scale": 2.2, "y_scale": 1.6})


def _actual_format(formats: Formats, ind):
    if ind.unit is Unit.percent:
        return formats.input_percent
    return formats.input_general if ind.unit is Unit.count else formats.input_number


def _validations(sheet, plan: TeamPlan, actual_rows, rating_rows, all_rows) -> None:
    rb = plan.rulebook
    for code, rows in actual_rows.items():
        validate(sheet, rows, COL["actual"], input_rules.actual(rb.indicator(code)))
    for code, rows in rating_rows.items():
        validate(sheet, rows, COL["manager"], input_rules.rating(rb, "上级评分", rb.indicator(code)))
    by_code: dict[str, list[int]] = {}
    for block in plan.blocks:
        for offset, (ind, _) in enumerate(block.lines):
            by_code.setdefault(ind.code, []).append(block.first_row + offset)
    for code, rows in by_code.items():
        validate(sheet, rows, COL["self"], input_rules.rating(rb, "自评", rb.indicator(code)))
    validate(sheet, all_rows, COL["comment"], input_rules.comment())


def _highlights(sheet, formats: Formats, plan: TeamPlan, actual_rows, rating_rows, all_rows) -> None:
    rb = plan.rulebook
    for rows in actual_rows.values():
        highlight(sheet, rows, COL["actual"], blank_rule(formats.missing))
    for rows in rating_rows.values():
        highlight(sheet, rows, COL["manager"], blank_rule(formats.missing))
    # what validation reports about an actual: text, a rate off its scale (95 for 95%, 135%, 0.93% for 93%),
    # a count, duration or deduction outside its plausible range
    for code, rows in actual_rows.items():
        ind = rb.indicator(code)
        highlight(sheet, rows, COL["actual"], lambda row, ind=ind: formula_rule(_actual_slip(ind, row), formats.error))
    for key, rows in (("self", all_rows), ("manager", [r for rows in rating_rows.values() for r in rows])):
        highlight(sheet, rows, COL[key], lambda row, key=key: formula_rule(
            formulas.rating_off_scale(ref(COL[key], row)), formats.error))
    # one slip, one warning: a score read from a slipped actual or target asks for no comment (validation says
    # what it does to the score on the slip's own finding), so the comment rule of those rows leaves it out
    for code, rows in actual_rows.items():
        ind = rb.indicator(code)
        highlight(sheet, rows, COL["comment"], lambda row, ind=ind: formula_rule(
            comment_needed(row, _line_slip(ind, row)), formats.error))
    highlight(sheet, [r for rows in rating_rows.values() for r in rows], COL["comment"],
              lambda row: formula_rule(comment_needed(row), formats.error))


def _actual_slip(ind, row: int) -> str:
    """Conditional-format test of the row's 实际值 as validation reads it."""
    if ind.unit is Unit.percent:
        return formulas.rate_off_scale(ref(COL["actual"], row), ref(COL["floor"], row),
                                       ind.method is Method.higher_better)
    low, high = value_range(ind)
    return formulas.outside(ref(COL["actual"], row), low, high, whole(ind))


def _line_slip(ind, row: int) -> str:
    """The row's actual, or a target the manager set (its copy on this sheet), is a slip."""
    tests = [_actual_slip(ind, row)]
    if ind.editable_targets:
        low, high = value_range(ind, target=True)
        tests += [formulas.outside(ref(COL[key], row), low, high, whole(ind)) for key in targets_used(ind)]
    return tests[0] if len(tests) == 1 else f"OR({','.join(tests)})"


def comment_needed(row: int, slip: str | None = None) -> str:
    """True when the comment is empty although the score is extreme (>= high or
    <= low) or self and manager ratings differ by more than the rulebook's gap.
    ``slip``: a test that the score was read from a slipped input (then its extremity asks nothing)."""
    score, comment = ref(COL["score"], row), ref(COL["comment"], row)
    own, manager = ref(COL["self"], row), ref(COL["manager"], row)
    # IF, not AND: AND evaluates every argument, and ABS of a text rating is an error that leaves the rule unapplied
    extreme = f"IF(ISNUMBER({score}),OR({score}>={n.EXTREME_HIGH},{score}<={n.EXTREME_LOW}),FALSE)"
    if slip:
        extreme = f"IF({slip},FALSE,{extreme})"
    gap = f"IF(AND(ISNUMBER({own}),ISNUMBER({manager})),ABS({own}-{manager})>{n.SELF_GAP},FALSE)"
    return f'AND({comment}="",OR({extreme},{gap}))'
