"""Indicator scores: pure functions over plain values.

Each method is written in the same shape as the Excel formula the templates
generate (piecewise value, then clamp to [0, cap], then the rounding rule), so
both engines agree to the cent:

    higher_better  IF(a<=t, 100*(a-f)/(t-f), IF(c=t, cap, 100+(cap-100)*(a-t)/(c-t)))
    lower_better   IF(a>=t, 100*(f-a)/(f-t), IF(c=t, cap, 100+(cap-100)*(t-a)/(t-c)))
    count          100*a/t
    deduction      100-a                      (a = total points deducted)
    rating         INDEX(points, manager)     (blended with self only if self_weight > 0)

A target equal to the challenge leaves no room above it: anything better than
the target is at the challenge, so it scores the cap (the limit of the line
as the challenge approaches the target).

The arithmetic is exact decimal arithmetic on the inputs' decimal values, and
the score is rounded by the one rule of :mod:`kpisheet.validators.policy.rounding`
(the workbook's ROUND(ROUND(x, 10), 2)), so a score that is exactly x.xx5 is a
tie rounded up here and in every spreadsheet.

A missing input raises :class:`MissingInput` naming it, and an input that
cannot be scored (a rating of 6, targets out of order, a negative deduction)
raises :class:`InvalidInput` naming it with a bilingual reason: nothing is ever
scored as 0 by omission.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Mapping, Sequence

from kpisheet.validators.policy.rounding import decimal_value, round_half_up, round_rule, working
from kpisheet.validators.rulebook.model import Method
from kpisheet.validators.errors import KpisheetError

__all__ = [
    "InvalidInput", "MissingInput", "count_against_target", "deduction", "deduction_points", "higher_better",
    "indicator_raw", "indicator_score", "indicator_score_exact", "lower_better", "rating", "rating_points", "round_half_up",
]


class MissingInput(KpisheetError, ValueError):
    """An input the method needs is empty; ``name`` says which."""

    code = "score-input-missing"
    title_zh, title_en = "缺少评分输入", "scoring input missing"
    description = "A scoring function was called without an input its method needs (validation reports it as a finding)."

    def __init__(self, name: str):
        super().__init__(f"缺少输入：{name}", f"missing input: {name}")
        self.name = name


class InvalidInput(KpisheetError, ValueError):
    """An input is present but cannot be scored; ``name`` says which, the messages say why."""

    code = "score-input-invalid"
    title_zh, title_en = "评分输入无效", "scoring input invalid"
    description = "A scoring function was given an input it cannot score (validation reports it as a finding)."

    def __init__(self, name: str, message_zh: str, message_en: str):
        super().__init__(message_zh, message_en)
        self.name = name

    def __str__(self) -> str:
        return f"{self.name}: {self.line()}"


def _need(name: str, value: float | None) -> Decimal:
    """The input's decimal value (see rounding.decimal_value)."""
    if value is None:
        raise MissingInput(name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(name, f"应为数字，实际为 {value!r}", f"must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InvalidInput(name, f"不是有限的数字：{value!r}", f"is not a finite number: {value!r}")
    return value if isinstance(value, Decimal) else decimal_value(number)


def _needs(**values: float | None) -> list[Decimal]:
    """Every named input, in order; the first missing or bad one is reported."""
    return [_need(name, value) for name, value in values.items()]


def _out_of_order(name: str, rule_zh: str, rule_en: str) -> InvalidInput:
    return InvalidInput(name, f"底线值/目标值/挑战值顺序不对，应为 {rule_zh}",
                        f"floor/target/challenge are out of order; expected {rule_en}")


def _clamp(raw: Decimal, cap: Decimal) -> Decimal:
    return min(cap, max(Decimal(0), raw))


def _higher_better(actual, floor, target, challenge, cap) -> Decimal:
    a, f, t, c = _needs(actual=actual, floor=floor, target=target, challenge=challenge)
    top = decimal_value(cap)
    if not (f < t and t <= c):
        raise _out_of_order("target" if f >= t else "challenge", "底线值 < 目标值 ≤ 挑战值",
                            "floor < target <= challenge")
    with working():
        if a <= t:
            raw = 100 * (a - f) / (t - f)
        else:
            raw = top if c == t else 100 + (top - 100) * (a - t) / (c - t)
        return _clamp(raw, top)


def _lower_better(actual, floor, target, challenge, cap) -> Decimal:
    a, f, t, c = _needs(actual=actual, floor=floor, target=target, challenge=challenge)
    top = decimal_value(cap)
    if not (f > t and t >= c):
        raise _out_of_order("target" if f <= t else "challenge", "底线值(上限) > 目标值 ≥ 挑战值",
                            "ceiling > target >= challenge")
    with working():
        if a >= t:
            raw = 100 * (f - a) / (f - t)
        else:
            raw = top if c == t else 100 + (top - 100) * (t - a) / (t - c)
        return _clamp(raw, top)


def _count_against_target(actual, target, cap) -> Decimal:
    a, t = _needs(actual=actual, target=target)
    if t <= 0:
        raise InvalidInput("target", "计数类指标的目标值必须大于 0", "a count target must be above 0")
    with working():
        return _clamp(100 * a / t, decimal_value(cap))


def _deduction(points_deducted) -> Decimal:
    a = _need("actual", points_deducted)
    if a < 0:
        raise InvalidInput("actual", f"扣分合计不能为负数：{a:g}", f"deducted points cannot be negative: {a:g}")
    with working():
        return max(Decimal(0), 100 - a)


def _rating_points(rating, points: Sequence[float], name: str) -> Decimal:
    r = _need(name, rating)
    if r != int(r) or not 1 <= r <= len(points):
        raise InvalidInput(name, f"评分应为 1-{len(points)} 的整数，实际为 {rating!r}",
                           f"a rating must be a whole number 1-{len(points)}, got {rating!r}")
    return decimal_value(points[int(r) - 1])


def _rating(manager, self_rating, points: Sequence[float], self_weight: float) -> Decimal:
    mgr = _rating_points(manager, points, "manager")
    if not self_weight:
        return mgr
    own = _rating_points(self_rating, points, "self")
    share = decimal_value(self_weight)
    with working():
        return (1 - share) * mgr + share * own


def higher_better(actual, floor, target, challenge, cap: float) -> float:
    """0 at floor, 100 at target, ``cap`` at challenge; linear in between (unrounded)."""
    return float(_higher_better(actual, floor, target, challenge, cap))


def lower_better(actual, floor, target, challenge, cap: float) -> float:
    """The mirror of :func:`higher_better`: ``floor`` is the ceiling value worth 0."""
    return float(_lower_better(actual, floor, target, challenge, cap))


def count_against_target(actual, target, cap: float) -> float:
    """100 at the target count, proportional below it, capped above it."""
    return float(_count_against_target(actual, target, cap))


def deduction(points_deducted) -> float:
    """100 minus the deducted points, never below 0."""
    return float(_deduction(points_deducted))


def deduction_points(counts: Mapping[str, float], points_per_incident: Mapping[str, float]) -> float:
    """Deducted points from incident counts, e.g. DISC: late x1, absence x5."""
    total = Decimal(0)
    for kind, n in counts.items():
        if kind not in points_per_incident:
            known = ", ".join(points_per_incident)
            raise InvalidInput(kind, f"未知的扣分事项，可选：{known}", f"unknown incident type; known: {known}")
        count = _need(kind, n)
        if count < 0:
            raise InvalidInput(kind, f"次数不能为负数：{count:g}", f"a count cannot be negative: {count:g}")
        with working():
            total += decimal_value(points_per_incident[kind]) * count
    return float(total)


def rating_points(rating, points: Sequence[float], name: str = "manager") -> float:
    """A 1..len(points) rating mapped to its points (1-5 -> 20..100 by default)."""
    return float(_rating_points(rating, points, name))


def rating(manager, self_rating, points: Sequence[float], self_weight: float) -> float:
    """The manager's rating, blended with the self-rating only if the rulebook weighs it."""
    return float(_rating(manager, self_rating, points, self_weight))


def indicator_raw(
    method: Method | str,
    *,
    actual: float | None = None,
    floor: float | None = None,
    target: float | None = None,
    challenge: float | None = None,
    manager: float | None = None,
    self_rating: float | None = None,
    cap: float = 120,
    points: Sequence[float] = (20, 40, 60, 80, 100),
    self_weight: float = 0,
) -> Decimal:
    """The score of one indicator by its method, clamped but not yet rounded, as an exact decimal."""
    method = Method(method)
    if method is Method.higher_better:
        return _higher_better(actual, floor, target, challenge, cap)
    if method is Method.lower_better:
        return _lower_better(actual, floor, target, challenge, cap)
    if method is Method.count:
        return _count_against_target(actual, target, cap)
    if method is Method.deduction:
        return _deduction(actual)
    return _rating(manager, self_rating, points, self_weight)


def indicator_score_exact(method: Method | str, *, decimals: int = 2, **inputs) -> Decimal:
    """The score of one indicator rounded by the rule, as an exact decimal (inputs as :func:`indicator_raw`)."""
    return round_rule(indicator_raw(method, **inputs), decimals)


def indicator_score(method: Method | str, *, decimals: int = 2, **inputs) -> float:
    """The rounded score of one indicator, by its method (inputs as :func:`indicator_raw`)."""
    return float(indicator_score_exact(method, decimals=decimals, **inputs))
