"""goal- checks: the 目标设定 sheet, one employee at a time.

Weights (each within its indicator's range, per category as the rulebook
splits them, 100 in all), the targets a manager may set (present, numbers, in
the order the scoring method needs), the SMART text, mandatory indicators,
and, when the approved goals are known, nothing changed since approval.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Mapping

from kpisheet.validators.checks.numbers import is_blank, is_number, read_text_number, show_number
from kpisheet.validators.checks.scores import line_score, slip_consequence
from kpisheet.validators.checks.template import FIELD_NAMES, TARGETS_READ
from kpisheet.validators.findings import Finding, make_finding
from kpisheet.validators.layout import GOAL_COLUMNS, GOALS, a1
from kpisheet.validators.policy.input_limits import plausible_rate, shown_range, within
from kpisheet.validators.policy.outcomes import Recomputed
from kpisheet.validators.rulebook.model import Indicator, Method, Rulebook, Unit
from kpisheet.validators.reading.submission import GoalRow, TeamWorkbook, number

_WEIGHT_SUM_COLUMN = next(i for i, c in enumerate(GOAL_COLUMNS) if c.key == "weight_sum")
_WEIGHT_NAMES = ("权重", "weight")
_SMART_NAMES = ("SMART 目标描述", "SMART description")

# (emp, code) -> {"weight"|"floor"|"target"|"challenge"|"smart": raw value} of the approved goals
ApprovedGoals = Mapping[tuple[str, str], Mapping[str, object]]


def check_goals(book: TeamWorkbook, rulebook: Rulebook, approved: ApprovedGoals | None = None,
                recomputed: Mapping[str, Recomputed] | None = None) -> list[Finding]:
    """``recomputed`` (the engine's scores from the inputs as typed) lets a target's slip say what it
    does to the indicator's score, on the same finding."""
    known = {ind.code: ind for ind in rulebook.indicators}
    by_employee: dict[str, list[GoalRow]] = defaultdict(list)
    for goal in book.goals:
        by_employee[goal.employee_id].append(goal)
    roles = {s.employee_id: s.role for s in book.summary}
    mandatory = _mandatory_by_role(rulebook, known)
    findings: list[Finding] = []
    for employee_id, goals in by_employee.items():
        lines = [(goal, known.get(goal.code)) for goal in goals]
        for goal, ind in lines:
            if ind is None:
                continue  # an unknown code is a structure change, reported by the template checks
            findings += _weight(goal, ind)
            score = line_score(recomputed, employee_id, ind.code) if recomputed is not None else None
            findings += _targets(goal, ind, slip_consequence(score, rulebook))
            if is_blank(goal.smart):
                findings.append(make_finding("goal-smart-missing", sheet=GOALS, cell=goal.address("smart"),
                                             employee_id=employee_id, indicator=ind.code))
        findings += _weight_sum(employee_id, goals)
        findings += _category_weights(employee_id, lines, rulebook)
        findings += _mandatory(employee_id, lines, mandatory, roles.get(employee_id))
        if approved is not None:
            findings += _changed_after_approval(goals, approved)
    return findings


# --- weights ------------------------------------------------------------------------------


def _goal_where(goal: GoalRow, key: str, ind: Indicator) -> dict:
    return dict(sheet=GOALS, cell=goal.address(key), employee_id=goal.employee_id, indicator=ind.code)


def _weight(goal: GoalRow, ind: Indicator) -> list[Finding]:
    raw = goal.weight
    if is_number(raw) and ind.weight_min <= raw <= ind.weight_max:
        return []  # the common case, decided before any message is made
    if ind.mandatory and is_number(raw) and raw <= 0:
        return []  # a mandatory indicator weighted 0 is dropped: goal-mandatory-missing says so, at this cell
    where = _goal_where(goal, "weight", ind)
    allowed = f"{ind.weight_min:g}–{ind.weight_max:g}"
    if is_blank(raw):
        return [make_finding("goal-weight-range", value=None, expected=allowed, **where)]
    if not is_number(raw):
        return [_not_number(raw, "weight", percent=False, **where)]
    return [make_finding("goal-weight-range", value=raw, expected=allowed, **where)]


def _weight_sum(employee_id: str, goals: list[GoalRow]) -> list[Finding]:
    total = sum(g.weight for g in goals if is_number(g.weight))
    if abs(total - 100) < 1e-6:
        return []
    return [make_finding("goal-weight-sum", sheet=GOALS, cell=a1(goals[0].row, _WEIGHT_SUM_COLUMN),
                         employee_id=employee_id, value=round(total, 6), expected=100)]


def _category_weights(employee_id: str, lines: list[tuple[GoalRow, Indicator | None]],
                      rulebook: Rulebook) -> list[Finding]:
    """Each category's weights add up to the rulebook's category weight (业绩 60 / 能力 25 / 态度 15)."""
    rows: dict[str, list[GoalRow]] = defaultdict(list)
    for goal, ind in lines:
        if ind is not None:
            rows[ind.category].append(goal)
    findings = []
    for category in rulebook.categories:
        goals = rows.get(category.code)
        if not goals:
            continue
        total = sum(g.weight for g in goals if is_number(g.weight))
        if abs(total - category.weight) < 1e-6:
            continue
        findings.append(make_finding(
            "goal-category-weight", sheet=GOALS, cell=goals[0].address("weight"), employee_id=employee_id,
            value=round(total, 6), expected=category.weight, category_zh=category.name_zh,
            category_en=category.name_en))
    return findings


def _mandatory_by_role(rulebook: Rulebook, known: dict[str, Indicator]) -> dict[str, list[Indicator]]:
    """Role name (code, Chinese or English, as the summary may show it) -> its mandatory indicators."""
    out: dict[str, list[Indicator]] = {}
    for role in rulebook.roles:
        required = [known[code] for code in role.weights if code in known and known[code].mandatory]
        for name in (role.code, role.name_zh, role.name_en):
            out[name] = required
    return out


def _mandatory(employee_id: str, lines: list[tuple[GoalRow, Indicator | None]],
               mandatory: dict[str, list[Indicator]], role_name) -> list[Finding]:
    """Every mandatory indicator of the employee's role is there with a weight above 0."""
    required = mandatory.get(role_name) if isinstance(role_name, str) else None
    if not required:
        return []
    present = {goal.code: goal for goal, _ in lines}
    findings = []
    for ind in required:
        code = ind.code
        goal = present.get(code)
        if goal is None:
            first = lines[0][0]
            findings.append(make_finding("goal-mandatory-missing", sheet=GOALS, cell=first.address("code"),
                                         employee_id=employee_id, indicator=code, value=None,
                                         expected=ind.name_zh))
        elif is_number(goal.weight) and goal.weight <= 0:
            findings.append(make_finding("goal-mandatory-missing", sheet=GOALS, cell=goal.address("weight"),
                                         employee_id=employee_id, indicator=code, value=goal.weight,
                                         expected=ind.name_zh))
    return findings


# --- targets ------------------------------------------------------------------------------


def _targets(goal: GoalRow, ind: Indicator, consequence: dict[str, str]) -> list[Finding]:
    """Targets the manager sets: present, numbers, on the unit's scale, in order.

    Locked targets are the rulebook's and are checked as locked cells.
    """
    used = TARGETS_READ[ind.method]
    if not ind.editable_targets or not used:
        return []
    findings = []
    values: dict[str, float] = {}
    percent = ind.unit is Unit.percent
    for key in used:
        raw = getattr(goal, key)
        if is_number(raw) and within(ind, raw, target=True):
            values[key] = float(raw)  # the common case, decided before any message is made
            continue
        where = _goal_where(goal, key, ind)
        zh, en = FIELD_NAMES[key]
        if is_blank(raw):
            findings.append(make_finding("goal-target-missing", field_zh=zh, field_en=en, **where))
        elif not is_number(raw):
            findings.append(_not_number(raw, key, percent=percent, **where))
        elif percent and 1 < raw <= 100 and plausible_rate(raw / 100, ind, ind.floor, ind.target):
            findings.append(make_finding("score-percent-scale", value=raw,
                                         expected=show_number(raw / 100, percent=True),
                                         unit_zh="%", unit_en="%", field_zh=zh, field_en=en, **where, **consequence))
        else:  # below 0, above the plausible range, or a count target that is not 1, 2, 3 …
            expected = shown_range(ind, target=True)
            findings.append(make_finding("score-out-of-range", value=raw, expected=expected,
                                         field_zh=zh, field_en=en, **where, **consequence))
    if len(values) == 3:
        findings += _order(goal, ind, values)
    return findings


def _order(goal: GoalRow, ind: Indicator, v: dict[str, float]) -> list[Finding]:
    f, t, c = v["floor"], v["target"], v["challenge"]
    # a target equal to the challenge is allowed (e.g. 100% / 100%): the sheet's formulas score it
    if ind.method is Method.higher_better:
        ok, wrong = f < t <= c, "target" if f >= t else "challenge"
        order_zh, order_en = "底线值 < 目标值 ≤ 挑战值（越高越好）", "floor < target ≤ challenge (higher is better)"
    else:
        ok, wrong = f > t >= c, "target" if f <= t else "challenge"
        order_zh, order_en = "底线值 > 目标值 ≥ 挑战值（越低越好）", "floor > target ≥ challenge (lower is better)"
    if ok:
        return []
    shown = " / ".join(format(x, "g") for x in (f, t, c))
    return [make_finding("goal-target-order", sheet=GOALS, cell=goal.address(wrong), employee_id=goal.employee_id,
                         indicator=ind.code, value=shown, expected=order_en, order_zh=order_zh, order_en=order_en)]


# --- after approval -----------------------------------------------------------------------

_APPROVED_FIELDS = ("weight", "floor", "target", "challenge", "smart")


def _changed_after_approval(goals: Iterable[GoalRow], approved: ApprovedGoals) -> list[Finding]:
    findings = []
    for goal in goals:
        before = approved.get((goal.employee_id, goal.code))
        if before is None:
            continue  # a row the approved goals lack is a structure change
        for key in _APPROVED_FIELDS:
            now, then = getattr(goal, key), before.get(key, "")
            if _same(now, then):
                continue
            zh, en = _SMART_NAMES if key == "smart" else (_WEIGHT_NAMES if key == "weight" else FIELD_NAMES[key])
            findings.append(make_finding(
                "goal-changed-after-approval", sheet=GOALS, cell=goal.address(key), employee_id=goal.employee_id,
                indicator=goal.code, value=None if now == "" else now, expected=None if then == "" else then,
                field_zh=zh, field_en=en))
    return findings


def _same(a, b) -> bool:
    x, y = number(a), number(b)
    if x is not None and y is not None:
        return abs(x - y) < 1e-9
    if is_blank(a) and is_blank(b):
        return True
    return str(a).strip() == str(b).strip()


# --- shared -------------------------------------------------------------------------------


def _not_number(raw, key: str, *, percent: bool, **where) -> Finding:
    zh, en = _WEIGHT_NAMES if key == "weight" else FIELD_NAMES[key]
    parsed = read_text_number(raw, percent=percent)
    expected = show_number(parsed.probable, percent=percent) if parsed.probable is not None else None
    return make_finding("score-not-number", value=raw, expected=expected, field_zh=zh, field_en=en,
                        problem_zh=parsed.problem_zh, problem_en=parsed.problem_en, **where)
