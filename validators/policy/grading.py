"""An employee's weighted total, grade and pay coefficient from indicator lines.

The shape mirrors the summary sheet's formulas:
total = ROUND(ROUND(SUM(score x weight / 100) + MIN(bonus_cap, commendations x bonus_per_commendation), 10), 2),
computed on exact decimals and rounded by the one rule (kpisheet.validators.policy.rounding),
grade = the first band (best first) whose minimum the total reaches, or the
veto grade when a veto is recorded. An employee with any missing or invalid
indicator input gets no total and no grade, and the result lists every such
input. The summary row's own inputs are read as its formulas read them and
still listed when wrong: a negative commendation count adds no bonus, and
unknown veto text counts as a veto.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from kpisheet.validators.layout import VETO_NONE
from kpisheet.validators.rulebook.model import GradeBand, Method, Rulebook
from kpisheet.validators.policy.rounding import decimal_value, round_rule, working
from kpisheet.validators.policy.scoring import InvalidInput, MissingInput, indicator_raw


@dataclass(frozen=True)
class IndicatorLine:
    """One employee x indicator row, as entered (None = empty cell)."""

    code: str
    weight: float | None
    actual: float | None = None
    floor: float | None = None
    target: float | None = None
    challenge: float | None = None
    self_rating: float | None = None
    manager: float | None = None


@dataclass(frozen=True)
class InputProblem:
    """An input that is present but unusable: which row (code), which input, why."""

    code: str
    name: str
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.code}.{self.name}: {self.message_zh} / {self.message_en}"


@dataclass(frozen=True)
class LineResult:
    code: str
    category: str
    score: float | None
    weighted: float | None
    missing: tuple[str, ...] = ()  # every empty input the line needs, e.g. ("actual", "weight")
    invalid: tuple[InputProblem, ...] = ()
    # exact decimals: the score before rounding, and the weighted score that subtotals and the total add up
    exact_raw: Decimal | None = field(default=None, compare=False, repr=False)
    exact_weighted: Decimal | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class EmployeeResult:
    lines: list[LineResult]
    subtotals: dict[str, float | None]
    bonus: float
    veto: bool
    total: float | None
    grade: str | None
    coefficient: float | None
    missing: list[tuple[str, str]] = field(default_factory=list)  # (indicator code, input name)
    invalid: list[InputProblem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.invalid


def _weight_problem(code: str, weight: float) -> InputProblem | None:
    if not math.isfinite(weight) or not 0 <= weight <= 100:
        return InputProblem(code, "weight", f"权重应在 0 到 100 之间，实际为 {weight:g}",
                            f"a weight must be between 0 and 100, got {weight:g}")
    return None


def score_line(rulebook: Rulebook, line: IndicatorLine, known: dict | None = None) -> LineResult:
    """``known``: the rulebook's indicators by code, when the caller already has them (a batch of lines)."""
    if known is None:
        known = {ind.code: ind for ind in rulebook.indicators}
    if line.code not in known:
        problem = InputProblem(line.code, "code", "规则表中没有这个指标代码", "the rulebook has no such indicator code")
        return LineResult(line.code, "", None, None, invalid=(problem,))
    ind = known[line.code]
    s = rulebook.scoring
    missing: list[str] = []
    invalid: list[InputProblem] = []
    score: Decimal | None = None
    raw: Decimal | None = None
    try:
        raw = indicator_raw(
            ind.method,
            actual=line.actual,
            floor=line.floor,
            target=line.target,
            challenge=line.challenge,
            manager=line.manager,
            self_rating=line.self_rating,
            cap=s.cap,
            points=s.rating_points,
            self_weight=s.self_weight,
        )
        score = round_rule(raw, s.decimals)
    except MissingInput as gap:
        missing.append(gap.name)
    except InvalidInput as bad:
        invalid.append(InputProblem(line.code, bad.name, bad.message_zh, bad.message_en))
    if line.weight is None:
        missing.append("weight")
    else:
        weight_problem = _weight_problem(line.code, float(line.weight))
        if weight_problem:
            invalid.append(weight_problem)
    shown = float(score) if score is not None else None
    if score is None or missing or invalid:
        return LineResult(line.code, ind.category, shown, None, tuple(missing), tuple(invalid), exact_raw=raw)
    with working():
        weighted = score * decimal_value(line.weight) / 100
    return LineResult(line.code, ind.category, shown, float(weighted), exact_raw=raw, exact_weighted=weighted)


def bonus_points(rulebook: Rulebook, commendations: float | None) -> float:
    """MIN(bonus_cap, commendations x bonus_per_commendation); an empty cell means none."""
    return float(bonus_exact(rulebook, commendations))


def bonus_exact(rulebook: Rulebook, commendations: float | None) -> Decimal:
    s = rulebook.scoring
    count = decimal_value(max(0.0, commendations or 0))
    with working():
        return min(decimal_value(s.bonus_cap), count * decimal_value(s.bonus_per_commendation))


def bands_best_first(rulebook: Rulebook) -> list[GradeBand]:
    """The grade bands from the highest minimum down, whatever order HR listed them in."""
    return sorted(rulebook.grades, key=lambda band: band.min, reverse=True)


def grade_for(rulebook: Rulebook, total: float, veto: bool = False) -> str:
    """The band whose minimum the total reaches; a veto forces the veto grade."""
    if veto:
        return rulebook.scoring.veto_grade
    bands = bands_best_first(rulebook)
    reached = decimal_value(total)
    for band in bands:
        if reached >= decimal_value(band.min):
            return band.grade
    return bands[-1].grade


def coefficient_for(rulebook: Rulebook, grade: str) -> float:
    return rulebook.grade_band(grade).coefficient


def _commendation_problem(commendations: float | None) -> InputProblem | None:
    if commendations is None:
        return None
    if not math.isfinite(commendations) or commendations < 0:
        return InputProblem("summary", "commendations", f"表彰次数不能为负数：{commendations:g}",
                            f"commendations cannot be negative: {commendations:g}")
    return None


def read_veto(rulebook: Rulebook, veto: object) -> tuple[bool, InputProblem | None]:
    """(vetoed, problem). Empty, blank or 无 means none; a rulebook veto's code or name is one.

    Unknown text still counts as a veto, as the sheet's formula treats any entry,
    and is reported, so a typo never passes unnoticed.
    """
    if veto is None or veto is False:
        return False, None
    if veto is True:
        return True, None
    text = str(veto).strip()
    if text in ("", VETO_NONE):
        return False, None
    known = {name for v in rulebook.scoring.vetoes for name in (v.code, v.name_zh, v.name_en)}
    if text in known:
        return True, None
    choices = "、".join(v.name_zh for v in rulebook.scoring.vetoes)
    return True, InputProblem("summary", "veto", f"未知的一票否决事项“{text}”，应为：{VETO_NONE}、{choices}",
                              f"unknown veto {text!r}; expected {VETO_NONE} (none) or one of the rulebook's vetoes")


def score_employee(
    rulebook: Rulebook,
    lines: list[IndicatorLine],
    commendations: float | None = 0,
    veto: str | None = None,
) -> EmployeeResult:
    """Weighted total = the rule's rounding of (sum of score x weight / 100 + capped bonus)."""
    decimals = rulebook.scoring.decimals
    known = {ind.code: ind for ind in rulebook.indicators}
    results = [score_line(rulebook, line, known) for line in lines]
    missing = [(r.code, name) for r in results for name in r.missing]
    line_problems = [problem for r in results for problem in r.invalid]
    vetoed, veto_problem = read_veto(rulebook, veto)
    invalid = line_problems + [p for p in (_commendation_problem(commendations), veto_problem) if p]
    subtotals: dict[str, float | None] = {}
    for cat in rulebook.categories:
        weighted = [r.weighted for r in results if r.category == cat.code]
        subtotals[cat.code] = None if any(w is None for w in weighted) else float(round_rule(
            _sum(r.exact_weighted for r in results if r.category == cat.code), decimals))
    bonus = bonus_exact(rulebook, commendations)
    if missing or line_problems:
        return EmployeeResult(results, subtotals, float(bonus), vetoed, None, None, None, missing, invalid)
    with working():
        total = float(round_rule(_sum(r.exact_weighted for r in results) + bonus, decimals))
    grade = grade_for(rulebook, total, vetoed)
    return EmployeeResult(results, subtotals, float(bonus), vetoed, total, grade,
                          coefficient_for(rulebook, grade), missing, invalid)


def _sum(values) -> Decimal:
    with working():
        return sum(values, Decimal(0))


def needs_manager_rating(rulebook: Rulebook, code: str) -> bool:
    return rulebook.indicator(code).method is Method.rating
