"""The range an input may plausibly take, defined once for the form and the validator.

The team workbook's data validation (``workbook_templates.input_rules``)
refuses what is typed outside these ranges, and validation reports a value
outside them (pasted past the data validation) as ``score-out-of-range``, so
the form and the catalogue say the same thing. Beyond the scale's own bounds
(a rate from 0% to 100%, nothing negative) a count, a duration or a deduction
larger than :data:`PLAUSIBLE_TIMES` times the indicator's own scale is a
slip (1e12 typed, an ID pasted into the cell), not an achievement: its score
is capped anyway, so the number would pass unnoticed. Deductions stop at
:data:`DEDUCTION_LIMIT` points.
"""

from __future__ import annotations

from kpisheet.validators.rulebook.model import Indicator, Method, Unit

PLAUSIBLE_TIMES = 100
DEDUCTION_LIMIT = 1000.0  # points deducted: ten times the 100 at which the score reaches 0


def value_range(ind: Indicator, *, target: bool = False) -> tuple[float, float | None]:
    """(lowest, highest or None) an actual of ``ind`` may be, in the indicator's unit; with ``target``,
    a floor/target/challenge the manager types (a count target is at least 1)."""
    if ind.unit is Unit.percent:
        return 0.0, 1.0
    if ind.method is Method.deduction:
        return 0.0, DEDUCTION_LIMIT
    scale = [abs(v) for v in (ind.floor, ind.target, ind.challenge) if v is not None]
    low = 1.0 if target and ind.method is Method.count else 0.0
    if not scale or max(scale) == 0:
        return low, None
    return low, float(max(scale) * PLAUSIBLE_TIMES)


def whole(ind: Indicator) -> bool:
    """Whether the indicator's values are whole numbers (counts, and a count's target)."""
    return ind.unit is Unit.count


def within(ind: Indicator, value: float, *, target: bool = False) -> bool:
    low, high = value_range(ind, target=target)
    return low <= value and (high is None or value <= high) and (not whole(ind) or float(value).is_integer())


def shown_range(ind: Indicator, *, target: bool = False) -> str:
    """The range as a finding's expected value: '0%–100%', '0–400 (0, 1, 2, …)'."""
    low, high = value_range(ind, target=target)
    if ind.unit is Unit.percent:
        return "0%–100%"
    top = f"{high:g}" if high is not None else "∞"
    return f"{low:g}–{top}" + (f" ({low:g}, {low + 1:g}, {low + 2:g}, …)" if whole(ind) else "")


def plausible_rate(rate: float, ind: Indicator, floor: float | None, target: float | None) -> bool:
    """Whether a rate lies within one floor-to-target span of the scale's useful part (above the floor
    less that span, or below the ceiling plus it): a number over 1 whose hundredth is plausible was
    typed on the wrong scale (95 for 95%); one whose hundredth is not (1.35: 135%) is out of range."""
    if floor is None or target is None:
        return True
    span = abs(target - floor)
    if ind.method is Method.higher_better:
        return rate >= floor - span
    if ind.method is Method.lower_better:
        return rate <= floor + span
    return True
