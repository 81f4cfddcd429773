"""An employee's weighted total, grade and pay coefficient from indicator lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from .rulebook import Method, Rulebook
from .scoring import MissingInput, indicator_score, round_half_up


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
class LineResult:
    code: str
    category: str
    score: float | None
    weighted: float | None
    missing: str | None = None


@dataclass(frozen=True)
class EmployeeResult:
    lines: list[LineResult]
    subtotals: dict[str, float | None]
    bonus: float
    veto: bool
    total: float | None
    grade: str | None
    coefficient: float | None
    missing: list[tuple[str, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


def score_line(rulebook: Rulebook, line: IndicatorLine) -> LineResult:
    ind = rulebook.indicator(line.code)
    s = rulebook.scoring
    try:
        score = indicator_score(
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
            decimals=s.decimals,
        )
    except MissingInput as gap:
        return LineResult(line.code, ind.category, None, None, gap.name)
    if line.weight is None:
        return LineResult(line.code, ind.category, score, None, "weight")
    return LineResult(line.code, ind.category, score, score * line.weight / 100)


def bonus_points(rulebook: Rulebook, commendations: float | None) -> float:
    s = rulebook.scoring
    return min(s.bonus_cap, (commendations or 0) * s.bonus_per_commendation)


def grade_for(rulebook: Rulebook, total: float, veto: bool = False) -> str:
    """The band whose minimum the total reaches; a veto forces the veto grade."""
    if veto:
        return rulebook.scoring.veto_grade
    for band in rulebook.grades:
        if total >= band.min:
            return band.grade
    return rulebook.grades[-1].grade


def coefficient_for(rulebook: Rulebook, grade: str) -> float:
    return rulebook.grade_band(grade).coefficient


def score_employee(
    rulebook: Rulebook,
    lines: list[IndicatorLine],
    commendations: float | None = 0,
    veto: str | None = None,
) -> EmployeeResult:
    """Weighted total = ROUND(sum of score x weight / 100 + capped bonus, 2)."""
    results = [score_line(rulebook, line) for line in lines]
    missing = [(r.code, r.missing) for r in results if r.missing]
    subtotals: dict[str, float | None] = {}
    for cat in rulebook.categories:
        weighted = [r.weighted for r in results if r.category == cat.code]
        subtotals[cat.code] = (
            None if any(w is None for w in weighted)
            else round_half_up(sum(weighted), rulebook.scoring.decimals)
        )
    bonus = bonus_points(rulebook, commendations)
    vetoed = bool(veto)
    if missing:
        return EmployeeResult(results, subtotals, bonus, vetoed, None, None, None, missing)
    total = round_half_up(sum(r.weighted for r in results) + bonus, rulebook.scoring.decimals)
    grade = grade_for(rulebook, total, vetoed)
    return EmployeeResult(results, subtotals, bonus, vetoed, total, grade,
                          coefficient_for(rulebook, grade), missing)


def needs_manager_rating(rulebook: Rulebook, code: str) -> bool:
    return rulebook.indicator(code).method is Method.rating
