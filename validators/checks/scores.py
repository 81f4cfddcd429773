"""score- checks: the inputs on 考核评分 and 汇总, and the cached results beside them.

Inputs: a number where a number belongs (saying what a text probably meant),
on the unit's scale (95 typed for 95%), within range, ratings whole and on the
rulebook's scale, nothing the method needs left empty, and a comment where the
rulebook asks for one.

Cached results (the weight and target copies, 指标得分, 加权得分, subtotals,
bonus, total, grade, coefficient) are compared, never used. Each is checked
against what its own formula would make of the cells it reads, so an
overwritten 指标得分 (or a weight typed over on this sheet) is reported once,
at that cell, and not again at every total that followed it after a
recalculation. Equal means what the rounding rule allows
(:func:`kpisheet.validators.policy.rounding.accepts`): a value any engine
following the rule could have cached, never a cent more. In a file no spreadsheet program has calculated
(``calculated=False``: written by openpyxl or xlsxwriter, fullCalcOnLoad), a
cached 0 is a writer's placeholder, not a result, and is not compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from decimal import Decimal

from kpisheet.validators.checks.field_names import FIELD_NAMES
from kpisheet.validators.checks.numbers import is_blank, is_number, read_text_number, show_number
from kpisheet.validators.findings import Finding, make_finding
from kpisheet.validators.policy.grading import LineResult, bonus_exact, coefficient_for, grade_for
from kpisheet.validators.layout import SCORES, SUMMARY, VETO_NONE
from kpisheet.validators.policy.outcomes import Recomputed
from kpisheet.validators.policy.input_limits import plausible_rate, shown_range, within
from kpisheet.validators.policy.rounding import accepts, decimal_value, round_rule, working
from kpisheet.validators.policy.scoring import indicator_raw
from kpisheet.validators.rulebook.model import Indicator, Method, Rulebook, Unit
from kpisheet.validators.reading.submission import (
    COPIED_FROM_GOALS, GoalRow, ScoreRow, SummaryRow, TeamWorkbook, number,
)



# 考核评分's copies of the goals sheet, named as the goals sheet names them
_COPY_NAMES = {key: FIELD_NAMES[key] for key in ("weight", "floor", "target", "challenge")}


def check_scores(book: TeamWorkbook, rulebook: Rulebook, recomputed: dict[str, Recomputed], *,
                 calculated: bool, slipped: Set[tuple[str, str]] = frozenset()) -> list[Finding]:
    """``slipped``: (employee, indicator) whose goal row has a slip of its own (a target typed 95 for
    95%); like a slip in the 实际值, it makes the score meaningless, so no second finding is made
    from that score (one slip, one error)."""
    known = {ind.code: ind for ind in rulebook.indicators}
    goals = {(g.employee_id, g.code): g for g in reversed(book.goals)}  # the first row of a key wins
    findings: list[Finding] = []
    for row in book.scores:
        ind = known.get(row.code)
        if ind is None:
            continue  # unknown code: a structure change, reported by the template checks
        goal = goals.get((row.employee_id, row.code))
        score = line_score(recomputed, row.employee_id, row.code)
        inputs = _inputs(row, ind, goal, rulebook, score)
        findings += inputs
        slip = (row.employee_id, row.code) in slipped or any(f.code in SLIPS for f in inputs)
        findings += _comment(row, None if slip else score, rulebook)
        r = recomputed.get(row.employee_id)
        findings += _cached_line(row, goal, ind, r.lines.get(row.code) if r else None, rulebook, calculated)
    for r in recomputed.values():
        if r.summary is not None:
            findings += _summary_inputs(r.summary, rulebook)
            findings += _cached_summary(r, rulebook, calculated)
    return findings


# --- one slip, one error ---------------------------------------------------------------

# Findings that mean "this number is not what the manager meant": the score computed from it is
# not the real one either, so it is only described on the slip's own finding (slip_consequence).
SLIPS = frozenset({"score-not-number", "score-percent-scale", "score-out-of-range"})


def line_score(recomputed: Mapping[str, Recomputed], employee_id: str, code: str) -> float | None:
    """The engine's score of one employee's indicator, from the inputs as typed."""
    r = recomputed.get(employee_id)
    line = r.lines.get(code) if r else None
    return line.score if line else None


def slip_consequence(score: float | None, rulebook: Rulebook) -> dict[str, str]:
    """The consequence_zh/_en of a slip's finding: what the score is, read as typed.

    An extreme score from a slip would otherwise ask for a comment (a second error for the same
    keystroke); the note says so instead, and the comment rule is applied once the value is right.
    """
    if score is None:
        return {}
    c = rulebook.comments
    zh = en = ""
    if score >= c.extreme_high:
        zh = f"（不低于极高分线 {c.extreme_high:g}；是否须填说明，待改正后再判断）"
        en = f" (at or above the extreme-high line {c.extreme_high:g}; whether a comment is needed is judged " \
             "once the value is corrected)"
    elif score <= c.extreme_low:
        zh = f"（不高于极低分线 {c.extreme_low:g}；是否须填说明，待改正后再判断）"
        en = f" (at or below the extreme-low line {c.extreme_low:g}; whether a comment is needed is judged " \
             "once the value is corrected)"
    return {"consequence_zh": f"按此值计算，该指标得分为 {score:g}{zh}。",
            "consequence_en": f" Read as typed, the indicator scores {score:g}{en}."}


# --- inputs -------------------------------------------------------------------------------


def _where(row: ScoreRow, key: str) -> dict:
    return dict(sheet=SCORES, cell=row.address(key), employee_id=row.employee_id, indicator=row.code)


def _inputs(row: ScoreRow, ind: Indicator, goal: GoalRow | None, rulebook: Rulebook,
            score: float | None) -> list[Finding]:
    findings = []
    scale = len(rulebook.scoring.rating_points)
    if ind.is_rating:
        findings += _rating(row, "manager", scale, required=True)
    else:
        findings += _actual(row, ind, goal, slip_consequence(score, rulebook))
    findings += _rating(row, "self_rating", scale, required=rulebook.scoring.self_weight > 0)
    return findings


def _rating(row: ScoreRow, key: str, scale: int, *, required: bool) -> list[Finding]:
    raw = getattr(row, key)
    if is_number(raw) and raw == int(raw) and 1 <= raw <= scale:
        return []
    zh, en = FIELD_NAMES[key]
    if is_blank(raw):
        return [make_finding("score-missing", field_zh=zh, field_en=en, **_where(row, key))] if required else []
    allowed = ", ".join(str(i) for i in range(1, scale + 1))
    if not is_number(raw):
        parsed = read_text_number(raw, percent=False)
        if parsed.probable is None:
            return [make_finding("score-rating-invalid", value=raw, expected=allowed, field_zh=zh, field_en=en,
                                 **_where(row, key))]
        return [make_finding("score-not-number", value=raw, expected=show_number(parsed.probable, percent=False),
                             field_zh=zh, field_en=en, problem_zh=parsed.problem_zh, problem_en=parsed.problem_en,
                             **_where(row, key))]
    if raw != int(raw) or not 1 <= raw <= scale:
        return [make_finding("score-rating-invalid", value=raw, expected=allowed, field_zh=zh, field_en=en,
                             **_where(row, key))]
    return []


def _actual(row: ScoreRow, ind: Indicator, goal: GoalRow | None, consequence: dict[str, str]) -> list[Finding]:
    raw = row.actual
    percent = ind.unit is Unit.percent
    if is_number(raw) and within(ind, raw) \
            and not (percent and ind.method is Method.higher_better and raw * 100 <= 1):
        return []  # the common case, decided before any message is made
    zh, en = FIELD_NAMES["actual"]
    where = _where(row, "actual")
    if is_blank(raw):
        return [make_finding("score-missing", field_zh=zh, field_en=en, **where)]
    if not is_number(raw):
        parsed = read_text_number(raw, percent=percent)
        expected = show_number(parsed.probable, percent=percent) if parsed.probable is not None else None
        return [make_finding("score-not-number", value=raw, expected=expected, field_zh=zh, field_en=en,
                             problem_zh=parsed.problem_zh, problem_en=parsed.problem_en, **where)]
    value = float(raw)
    where = {**where, **consequence}
    if percent:
        return _percent_actual(value, ind, goal, where)
    if not within(ind, value):
        return [make_finding("score-out-of-range", value=raw, expected=shown_range(ind), field_zh=zh, field_en=en,
                             **where)]
    return []


def _percent_actual(value: float, ind: Indicator, goal: GoalRow | None, where: dict) -> list[Finding]:
    """A rate is a fraction of 1: 95 typed for 95% is a scale slip, and so is 0.0095 for 95%
    where the rate could never be that low (the cell showed 0.95%). A number over 1 that read as a
    percentage would still be implausible (1.35: 135% typed, 1.35% is far below any floor) is a
    rate out of range, as the catalogue's example says."""
    zh, en = FIELD_NAMES["actual"]
    floor, target = _goal_number(goal, "floor", ind), _goal_number(goal, "target", ind)
    if 1 < value <= 100 and plausible_rate(value / 100, ind, floor, target):
        return [make_finding("score-percent-scale", value=value, expected=show_number(value / 100, percent=True),
                             unit_zh="%", unit_en="%", field_zh=zh, field_en=en, **where)]
    if value < 0 or value > 1:
        return [make_finding("score-out-of-range", value=value, expected=shown_range(ind), field_zh=zh, field_en=en,
                             **where)]
    if (ind.method is Method.higher_better and floor is not None and 0 < value < floor
            and floor <= value * 100 <= 1):
        return [make_finding("score-percent-scale", value=value, expected=show_number(value * 100, percent=True),
                             unit_zh="%", unit_en="%", field_zh=zh, field_en=en, **where)]
    return []


def _goal_number(goal: GoalRow | None, key: str, ind: Indicator) -> float | None:
    found = number(getattr(goal, key)) if goal is not None else None
    return found if found is not None else getattr(ind, key)


def _comment(row: ScoreRow, score: float | None, rulebook: Rulebook) -> list[Finding]:
    """An extreme score, or a self/manager gap over the rulebook's threshold, needs a comment."""
    if not is_blank(row.comment):
        return []
    c = rulebook.comments
    reasons_zh, reasons_en = [], []
    # the words say exactly what the rule compares: ≥ the high line, ≤ the low line, > the gap
    if score is not None and score >= c.extreme_high:
        reasons_zh.append(f"得分 {score:g}，不低于极高分线 {c.extreme_high:g}")
        reasons_en.append(f"scores {score:g}, at or above the extreme-high line {c.extreme_high:g}")
    elif score is not None and score <= c.extreme_low:
        reasons_zh.append(f"得分 {score:g}，不高于极低分线 {c.extreme_low:g}")
        reasons_en.append(f"scores {score:g}, at or below the extreme-low line {c.extreme_low:g}")
    own, boss = row.self_rating, row.manager
    if is_number(own) and is_number(boss) and abs(own - boss) > c.self_gap:
        gap = abs(own - boss)
        reasons_zh.append(f"自评 {own:g} 分与上级评分 {boss:g} 分相差 {gap:g} 分（超过 {c.self_gap:g} 分）")
        reasons_en.append(f"has a self rating of {own:g} against a manager rating of {boss:g}, a gap of {gap:g} "
                          f"(over {c.self_gap:g})")
    if not reasons_zh:
        return []
    return [make_finding("score-comment-required", reason_zh="；".join(reasons_zh),
                         reason_en=" and ".join(reasons_en), **_where(row, "comment"))]


def _summary_inputs(s: SummaryRow, rulebook: Rulebook) -> list[Finding]:
    findings = []
    # not an indicator: the message names the summary column (表彰次数, 一票否决) by itself
    where = lambda key: dict(sheet=SUMMARY, cell=s.address(key), employee_id=s.employee_id)  # noqa: E731
    zh, en = FIELD_NAMES["commendations"]
    raw = s.commendations
    if is_blank(raw):  # the form marks it missing: none is typed as 0
        findings.append(make_finding("score-missing", field_zh=zh, field_en=en, **where("commendations")))
    elif not is_number(raw):
        parsed = read_text_number(raw, percent=False)
        findings.append(make_finding(
            "score-not-number", value=raw,
            expected=show_number(parsed.probable, percent=False) if parsed.probable is not None else None,
            field_zh=zh, field_en=en, problem_zh=parsed.problem_zh, problem_en=parsed.problem_en,
            **where("commendations")))
    elif is_number(raw) and (raw < 0 or not float(raw).is_integer()):
        findings.append(make_finding("score-out-of-range", value=raw, expected="0, 1, 2, …", field_zh=zh,
                                     field_en=en, **where("commendations")))
    veto = s.veto
    if is_blank(veto):  # the guide says to choose 无; the form marks it missing
        zh, en = FIELD_NAMES["veto"]
        findings.append(make_finding("score-missing", field_zh=zh, field_en=en, **where("veto")))
    else:
        names = [VETO_NONE] + [v.name_zh for v in rulebook.scoring.vetoes]  # the form's dropdown
        if str(veto).strip() not in names:
            zh, en = FIELD_NAMES["veto"]
            findings.append(make_finding("score-out-of-range", value=veto, expected="、".join(names),
                                         field_zh=zh, field_en=en, **where("veto")))
    return findings


# --- cached results -----------------------------------------------------------------------


def _cached(raw, calculated: bool) -> float | None:
    """A cached numeric result worth comparing (None: empty, text, error, or a placeholder 0)."""
    if not is_number(raw):
        return None
    if not calculated and raw == 0:
        return None
    return float(raw)


def _mismatch(where: dict, key: str, found, expected, field: tuple[str, str] | None = None) -> Finding:
    zh, en = field or FIELD_NAMES[key]
    return make_finding("score-total-mismatch", value=found, expected=expected, field_zh=zh, field_en=en, **where)


def _copies(row: ScoreRow, goal: GoalRow | None, calculated: bool) -> tuple[dict[str, float | None], list[Finding]]:
    """The weight and targets as this row's formulas read them (the copies of the goals sheet),
    and a finding at each copy that no longer shows its goals-sheet cell (typed over, or a
    formula changed). Only a calculated file's copies are compared: a writer's cached values
    may predate an edit of the goals sheet."""
    used: dict[str, float | None] = {}
    findings = []
    for key in COPIED_FROM_GOALS:
        source = number(getattr(goal, key)) if goal is not None else None
        cached = _cached(row.copies.get(key), calculated) if calculated else None
        if cached is not None and source is not None and cached != source \
                and not accepts(cached, decimal_value(source)):
            findings.append(_mismatch(_where(row, key), key, row.copies[key], source, _COPY_NAMES[key]))
        used[key] = cached if cached is not None else source
    return used, findings


def _cached_line(row: ScoreRow, goal: GoalRow | None, ind: Indicator, line: LineResult | None,
                 rulebook: Rulebook, calculated: bool) -> list[Finding]:
    """指标得分 and 加权得分, each against what its formula makes of the cells it reads."""
    copies, findings = _copies(row, goal, calculated)
    raw = line.exact_raw if line is not None else None
    if goal is not None and any(copies[k] != number(getattr(goal, k)) for k in COPIED_FROM_GOALS):
        raw = _raw_from(row, ind, copies, rulebook)  # the score formula read the changed copies
    decimals = rulebook.scoring.decimals
    cached_score = _cached(row.score, calculated)
    if cached_score is not None and raw is not None and not accepts(cached_score, raw, decimals):
        findings.append(_mismatch(_where(row, "score"), "score", row.score, float(round_rule(raw, decimals))))
    cached_weighted = _cached(row.weighted, calculated)
    used = cached_score if cached_score is not None else (round_rule(raw, decimals) if raw is not None else None)
    weight = copies["weight"]
    if cached_weighted is not None and used is not None and weight is not None:
        with working():
            expected = decimal_value(used) * decimal_value(weight) / 100
        if not accepts(cached_weighted, expected):
            findings.append(_mismatch(_where(row, "weighted"), "weighted", row.weighted, float(expected)))
    return findings


def _raw_from(row: ScoreRow, ind: Indicator, copies: dict[str, float | None], rulebook: Rulebook):
    """The unrounded score from this row's inputs and its own copies of the targets (None if unscorable)."""
    s = rulebook.scoring
    try:
        return indicator_raw(ind.method, actual=number(row.actual), floor=copies["floor"], target=copies["target"],
                             challenge=copies["challenge"], manager=number(row.manager),
                             self_rating=number(row.self_rating), cap=s.cap, points=s.rating_points,
                             self_weight=s.self_weight)
    except ValueError:  # MissingInput, InvalidInput: the formula shows "" or 输入无效, nothing to compare
        return None


def _cached_summary(r: Recomputed, rulebook: Rulebook, calculated: bool) -> list[Finding]:
    """Subtotals, bonus, total, grade and coefficient, each from what its formula reads."""
    s, result = r.summary, r.result
    decimals = rulebook.scoring.decimals
    where = lambda key: dict(sheet=SUMMARY, cell=s.address(key), employee_id=r.employee_id)  # noqa: E731
    weighted = {}  # code -> the weighted score the summary's formulas read (cached where present), exact
    for goal, line in zip(r.goals, result.lines):
        row = r.scores.get(goal.code)
        cached = _cached(row.weighted, calculated) if row is not None else None
        weighted.setdefault(goal.code, (line.category,
                                        decimal_value(cached) if cached is not None else line.exact_weighted))
    findings: list[Finding] = []
    for category in rulebook.categories:
        parts = [w for cat, w in weighted.values() if cat == category.code]
        cached = _cached(s.subtotals.get(category.code), calculated)
        if cached is None or not parts or any(w is None for w in parts):
            continue
        exact = _sum(parts)
        if not accepts(cached, exact, decimals):
            findings.append(_mismatch(where(f"subtotal_{category.code}"), "subtotal", s.subtotals[category.code],
                                      float(round_rule(exact, decimals)),
                                      (f"{category.name_zh}小计", f"{category.name_en} subtotal")))
    cached_bonus = _cached(s.bonus, calculated)
    bonus = bonus_exact(rulebook, number(s.commendations))
    if cached_bonus is not None and is_number(s.commendations) and not accepts(cached_bonus, bonus):
        findings.append(_mismatch(where("bonus"), "bonus", s.bonus, float(bonus)))
    used_bonus = decimal_value(cached_bonus) if cached_bonus is not None else bonus
    parts = [w for _, w in weighted.values()]
    total = _sum(parts) + used_bonus if parts and all(w is not None for w in parts) else None
    cached_total = _cached(s.total, calculated)
    if cached_total is not None and total is not None and not accepts(cached_total, total, decimals):
        findings.append(_mismatch(where("total"), "total", s.total, float(round_rule(total, decimals))))
    used_total = cached_total if cached_total is not None else (
        float(round_rule(total, decimals)) if total is not None else None)
    grade = grade_for(rulebook, used_total, result.veto) if used_total is not None else None
    letters = {band.grade for band in rulebook.grades}
    cached_grade = s.grade.strip() if isinstance(s.grade, str) else None
    if cached_grade in letters and grade is not None and cached_grade != grade:
        findings.append(_mismatch(where("grade"), "grade", s.grade, grade))
    used_grade = cached_grade if cached_grade in letters else grade
    cached_coefficient = _cached(s.coefficient, calculated)
    if cached_coefficient is not None and used_grade is not None:
        expected = coefficient_for(rulebook, used_grade)
        if not accepts(cached_coefficient, decimal_value(expected)):
            findings.append(_mismatch(where("coefficient"), "coefficient", s.coefficient, expected))
    return findings


def _sum(parts) -> Decimal:
    with working():
        return sum(parts, Decimal(0))
