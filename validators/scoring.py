"""Indicator scores: pure functions over plain values.

Each method is written in the same shape as the Excel formula the templates
generate (piecewise value, then clamp, then ROUND), so both engines agree to
the cent. A missing input raises :class:`MissingInput` naming it: nothing is
ever scored as 0 by omission.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Sequence

from .rulebook import Method


class MissingInput(ValueError):
    """An input the method needs is empty; ``name`` says which."""

    def __init__(self, name: str):
        super().__init__(f"missing input: {name}")
        self.name = name


def round_half_up(value: float, decimals: int = 2) -> float:
    """Round like Excel's ROUND: half away from zero, on the 15-digit decimal.

    Python's round() is banker's rounding on the binary value (2.675 -> 2.67);
    Excel and LibreOffice first take 15 significant digits (2.675 -> 2.68).
    """
    text = format(value, ".15g")
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(text).quantize(quantum, rounding=ROUND_HALF_UP))


def _need(name: str, value: float | None) -> float:
    if value is None:
        raise MissingInput(name)
    return float(value)


def higher_better(actual, floor, target, challenge, cap: float) -> float:
    """0 at floor, 100 at target, ``cap`` at challenge; linear in between."""
    a, f, t, c = (_need(n, v) for n, v in
                  (("actual", actual), ("floor", floor), ("target", target), ("challenge", challenge)))
    raw = 100 * (a - f) / (t - f) if a <= t else 100 + (cap - 100) * (a - t) / (c - t)
    return min(cap, max(0.0, raw))


def lower_better(actual, floor, target, challenge, cap: float) -> float:
    """The mirror of :func:`higher_better`: ``floor`` is the ceiling value worth 0."""
    a, f, t, c = (_need(n, v) for n, v in
                  (("actual", actual), ("floor", floor), ("target", target), ("challenge", challenge)))
    raw = 100 * (f - a) / (f - t) if a >= t else 100 + (cap - 100) * (t - a) / (t - c)
    return min(cap, max(0.0, raw))


def count_against_target(actual, target, cap: float) -> float:
    a, t = _need("actual", actual), _need("target", target)
    return min(cap, max(0.0, 100 * a / t))


def deduction(points_deducted) -> float:
    """100 minus the deducted points, never below 0."""
    return max(0.0, 100 - _need("actual", points_deducted))


def deduction_points(counts: dict[str, float], points_per_incident: dict[str, float]) -> float:
    """Deducted points from incident counts, e.g. DISC: late x1, absence x5."""
    return sum(points_per_incident[kind] * n for kind, n in counts.items())


def rating_points(rating, points: Sequence[float]) -> float:
    """A 1..len(points) rating mapped to its points (1-5 -> 20..100 by default)."""
    r = _need("manager", rating)
    if r != int(r) or not 1 <= r <= len(points):
        raise ValueError(f"rating must be a whole number 1-{len(points)}, got {rating!r}")
    return float(points[int(r) - 1])


def rating(manager, self_rating, points: Sequence[float], self_weight: float) -> float:
    """The manager's rating, blended with the self-rating only if the rulebook weighs it."""
    mgr = rating_points(manager, points)
    if not self_weight:
        return mgr
    own = rating_points(_need("self", self_rating), points)
    return (1 - self_weight) * mgr + self_weight * own


def indicator_score(
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
    decimals: int = 2,
) -> float:
    """The rounded score of one indicator, by its method."""
    method = Method(method)
    if method is Method.higher_better:
        raw = higher_better(actual, floor, target, challenge, cap)
    elif method is Method.lower_better:
        raw = lower_better(actual, floor, target, challenge, cap)
    elif method is Method.count:
        raw = count_against_target(actual, target, cap)
    elif method is Method.deduction:
        raw = deduction(actual)
    else:
        raw = rating(manager, self_rating, points, self_weight)
    return round_half_up(raw, decimals)
