"""The inputs of the LibreOffice parity test: systematic sweeps, typed as managers type them.

For each role, a stream of employee-cases. Each indicator of the role has a
sweep of typed values (:func:`sweep`), and case ``c`` types value ``c`` of each
sweep (wrapping round), so every value of every sweep is typed at least once
once there are as many cases as the longest sweep:

- percentages: every 2-decimal percent ("95.13%") from 1 point below the floor
  (or challenge) to 100%, and every exact tie (a score of exactly x.xx5 in
  decimal) reachable with 3 or 4 decimals ("95.125%"), on both segments
  (floor to target, target to challenge), at most :data:`TIES_PER_SEGMENT`
  per segment, evenly strided;
- hours and minutes: every 2-decimal value from 0 to 1 past the ceiling, and
  the ties reachable with 3 or 4 decimals, likewise;
- counts: 0 to three times the target; deductions: 0 to 130 points, halves,
  and ties with 3 decimals; ratings: 1 to 5.

The first lap of a sweep uses the rulebook's default floor/target/challenge;
later laps type other targets over the goals sheet (a target equal to the
challenge, a target moved by a twentieth of the range) so that non-default
parameters are exercised too. Percentages are typed "xx.xx%" except every
seventh case, typed as a fraction ("0.9513"), both through LibreOffice's input
parsing. Other dimensions cycle independently: self ratings (a gap of 3 now
and then, which needs a comment), commendations 0..8 (beyond the bonus cap),
a veto every 97th case, weights moved between two indicators of a category.

Grade boundaries are constructed (:func:`boundary_cases`): for each band's
minimum m, totals of exactly m-0.01, m-0.006, m-0.005 (a tie: rounds to m),
m-0.004, m and m+0.005 before rounding, with and without bonus and veto. The
rest of the employee is typed at values with short exact scores, and one
"adjuster" indicator (a duration or a deduction, whose typed value maps
linearly onto the score) is solved so that the exact total is the boundary.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from math import gcd
from typing import Iterator

from kpisheet.validators.layout import VETO_NONE
from kpisheet.validators.policy.grading import IndicatorLine, score_employee
from kpisheet.validators.policy.rounding import working
from kpisheet.validators.policy.scoring import indicator_raw
from kpisheet.validators.rulebook.model import Indicator, Method, Rulebook, Unit

from tests.support.typed_fill import EmployeeTyped, Typed

TIES_PER_SEGMENT = 300
FRACTION_EVERY = 7
VETO_EVERY = 97


def _d(x) -> Decimal:
    return Decimal(str(x))


def is_tie(raw: Decimal, decimals: int = 2) -> bool:
    """Exactly halfway between two values at ``decimals`` places (in decimal)."""
    scaled = raw.scaleb(decimals + 1)
    return scaled == scaled.to_integral_value() and int(scaled) % 10 == 5


def _raw(rulebook: Rulebook, ind: Indicator, actual: Decimal, t: Decimal | None = None,
         c: Decimal | None = None) -> Decimal | None:
    """The exact unrounded score of a typed actual (None if unscorable), at the given or default targets."""
    s = rulebook.scoring
    given = {"floor": ind.floor, "target": t if t is not None else ind.target,
             "challenge": c if c is not None else ind.challenge}
    try:
        return indicator_raw(ind.method, actual=actual, cap=s.cap, points=s.rating_points, self_weight=s.self_weight,
                             **{k: (_d(v) if v is not None else None) for k, v in given.items()})
    except ValueError:
        return None


def _grid(low: Decimal, high: Decimal, step: Decimal) -> Iterator[Decimal]:
    k = (low / step).to_integral_value()
    value = k * step
    while value <= high:
        if value >= low:
            yield value
        value += step


def _strided(values: list[Decimal], limit: int) -> list[Decimal]:
    if len(values) <= limit:
        return values
    stride = len(values) / limit
    return [values[int(i * stride)] for i in range(limit)]


def _show(value: Decimal, percent: bool) -> str:
    """The text a manager types: '95.13%' for 0.9513, '5.125' for hours."""
    if percent:
        text = format((value * 100).normalize(), "f")
        return f"{text}%"
    return format(value.normalize(), "f")


def _ties_on(rulebook: Rulebook, ind: Indicator, a: Decimal, b: Decimal, step: Decimal) -> list[Decimal]:
    """Every multiple of ``step`` in [a, b] whose exact score is a tie. The score is linear on a segment,
    raw(k*step) = (n0 + n1*k) / den in thousandths, so whole numbers decide it (the engine confirms)."""
    r_a, r_b = _raw(rulebook, ind, a), _raw(rulebook, ind, b)
    if r_a is None or r_b is None or a == b:
        return []
    slope = Fraction(r_b - r_a) / Fraction(b - a)
    k0, k1 = int((a / step).to_integral_value(rounding=ROUND_CEILING)), int(b / step)
    start = Fraction(r_a) + slope * (Fraction(step) * k0 - Fraction(a))
    n0, n1 = start * 1000, slope * Fraction(step) * 1000
    den = n0.denominator * n1.denominator // gcd(n0.denominator, n1.denominator)
    i0, i1 = int(n0 * den), int(n1 * den)
    found = []
    for k in range(0, k1 - k0 + 1):
        q, r = divmod(i0 + i1 * k, den)
        if r == 0 and q % 10 == 5:
            value = (k0 + k) * step
            raw = _raw(rulebook, ind, value)
            if raw is not None and is_tie(raw):
                found.append(value)
    return found


def sweep(rulebook: Rulebook, ind: Indicator) -> list[Decimal]:
    """The typed values of one indicator's sweep (as decimals; :func:`typed_text` spells them)."""
    if ind.method is Method.rating:
        return [Decimal(r) for r in range(1, len(rulebook.scoring.rating_points) + 1)]
    if ind.method is Method.count:
        return [Decimal(n) for n in range(0, int(ind.target * 3) + 1)]
    if ind.method is Method.deduction:
        values = [Decimal(p) for p in range(0, 131)] + [Decimal(p) + Decimal("0.5") for p in range(0, 30)]
        ties = _ties_on(rulebook, ind, Decimal(0), Decimal(30), Decimal("0.001"))
        return values + _strided(ties, TIES_PER_SEGMENT // 3)
    f, t, c = _d(ind.floor), _d(ind.target), _d(ind.challenge)
    percent = ind.unit is Unit.percent
    higher = ind.method is Method.higher_better
    if percent:
        low, top = (max(Decimal(0), f - Decimal("0.01")), Decimal(1)) if higher else \
            (Decimal(0), min(Decimal(1), f + Decimal("0.01")))
        base = list(_grid(low, top, Decimal("0.0001")))
        fine = (Decimal("0.00001"), Decimal("0.000001"))
    else:
        low, top = Decimal(0), max(f, c) + 1
        base = list(_grid(low, top, Decimal("0.01")))
        fine = (Decimal("0.001"), Decimal("0.0001"))
    ties: list[Decimal] = []
    for a, b in ((min(f, t), max(f, t)), (min(t, c), max(t, c))):  # the two segments
        found: set[Decimal] = set()
        for step in fine:
            found.update(_ties_on(rulebook, ind, a, b, step))
            if len(found) >= TIES_PER_SEGMENT:
                break
        ties += _strided(sorted(found), TIES_PER_SEGMENT)
    known = set(base)
    return base + [v for v in ties if v not in known]


def typed_text(ind: Indicator, value: Decimal, case: int) -> str:
    if ind.unit is Unit.percent and case % FRACTION_EVERY == FRACTION_EVERY - 1:
        return format(value.normalize(), "f")  # typed as a fraction: 0.9513
    return _show(value, ind.unit is Unit.percent)


@dataclass(frozen=True)
class Case:
    """One employee-case: what is typed, and what it was meant to exercise."""

    typed: EmployeeTyped
    ties: int  # typed actuals whose score is an exact tie
    boundary: Decimal | None = None  # the exact unrounded total aimed at, for constructed cases


def _varied_targets(ind: Indicator, lap: int) -> dict[str, str]:
    """Typed goal parameters for later laps of a sweep (only where the manager may edit them)."""
    if lap == 0 or not ind.editable_targets or ind.method not in (Method.higher_better, Method.lower_better):
        return {}
    f, t, c = _d(ind.floor), _d(ind.target), _d(ind.challenge)
    percent = ind.unit is Unit.percent
    if lap % 2 == 1:  # target = challenge: allowed, the cap beyond it
        return {"target": _show(c, percent), "challenge": _show(c, percent)}
    step = (c - f) / 20
    return {"target": _show(t + step, percent)}


def _weights(rulebook: Rulebook, role: str, case: int) -> dict[str, str]:
    """Every fifth case moves 2.5 points of weight between the first two indicators of a category."""
    if case % 5 != 3:
        return {}
    lines = rulebook.role_indicators(role)
    for category in rulebook.categories:
        members = [(ind, w) for ind, w in lines if ind.category == category.code]
        if len(members) >= 2:
            (a, wa), (b, wb) = members[0], members[1]
            if wa - 2.5 >= a.weight_min and wb + 2.5 <= b.weight_max:
                return {a.code: format(_d(wa) - Decimal("2.5"), "f"), b.code: format(_d(wb) + Decimal("2.5"), "f")}
    return {}


def sweep_cases(rulebook: Rulebook, role: str, first: int, count: int) -> list[Case]:
    """Cases ``first`` .. ``first + count - 1`` of the role's sweep stream."""
    lines = rulebook.role_indicators(role)
    sweeps = {ind.code: sweep(rulebook, ind) for ind, _ in lines}
    top = len(rulebook.scoring.rating_points)
    cases = []
    for case in range(first, first + count):
        typed: dict[str, Typed] = {}
        ties = 0
        weights = _weights(rulebook, role, case)
        for k, (ind, _) in enumerate(lines):
            values = sweeps[ind.code]
            lap, at = divmod(case, len(values))
            value = values[at]
            goals = _varied_targets(ind, lap)
            own = str(1 + (case + 2 * k) % top) if case % 11 else str(1 if case % 2 else top)
            if ind.is_rating:
                line = Typed(manager=str(int(value)), self_rating=own)
            else:
                line = Typed(actual=typed_text(ind, value, case), self_rating=own, **goals)
                raw = _raw(rulebook, ind, value, t=_goal(goals, "target"), c=_goal(goals, "challenge"))
                ties += raw is not None and is_tie(raw)
            if ind.code in weights:
                line.weight = weights[ind.code]
            typed[ind.code] = line
        veto = rulebook.scoring.vetoes[case % len(rulebook.scoring.vetoes)].name_zh \
            if case % VETO_EVERY == VETO_EVERY - 1 and rulebook.scoring.vetoes else VETO_NONE
        cases.append(Case(EmployeeTyped(lines=typed, commendations=str(case % 9), veto=veto), ties))
    return cases


def _goal(goals: dict[str, str], key: str) -> Decimal | None:
    text = goals.get(key)
    if not text:
        return None
    return Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)


# --- grade boundaries --------------------------------------------------------------------

def _nice_actual(ind: Indicator, rng: random.Random) -> Decimal:
    """A typed actual whose exact score is short (0, 50, 100, 120 or a rating's points)."""
    if ind.method is Method.count:
        return Decimal(rng.choice((0, 2, 4, 5)))
    if ind.method is Method.deduction:
        return Decimal(rng.choice((0, 0, 1, 2, 5, 10)))
    f, t, c = _d(ind.floor), _d(ind.target), _d(ind.challenge)
    return rng.choice((f, (f + t) / 2, t, t, c))


def _adjuster(rulebook: Rulebook, role: str) -> Indicator:
    """The indicator solved for: a duration (linear in the typed hours or minutes) or else a deduction."""
    lines = [ind for ind, _ in rulebook.role_indicators(role)]
    for ind in lines:
        if ind.unit in (Unit.hours, Unit.minutes):
            return ind
    return next(ind for ind in lines if ind.method is Method.deduction)


def _solve(ind: Indicator, score: Decimal) -> Decimal | None:
    """The typed actual whose exact (clamped) score is ``score``, or None outside the scale."""
    if ind.method is Method.deduction:
        return 100 - score if 0 <= score <= 100 else None
    f, t = _d(ind.floor), _d(ind.target)
    if 0 <= score <= 100:
        return f - score * (f - t) / 100
    return None  # beyond the target the line is steeper: the exact decimal may be long


def boundary_cases(rulebook: Rulebook, role: str, per_target: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    lines = rulebook.role_indicators(role)
    adjuster = _adjuster(rulebook, role)
    weight = _d(dict((ind.code, w) for ind, w in lines)[adjuster.code])
    mins = sorted({_d(band.min) for band in rulebook.grades if band.min > 0})
    offsets = [Decimal(x) for x in ("-0.01", "-0.006", "-0.005", "-0.004", "0", "0.005")]
    cases: list[Case] = []
    for m in mins:
        for offset in offsets:
            aim = m + offset
            made, tries = 0, 0
            while made < per_target and tries < 5000:
                tries += 1
                case = _boundary_case(rulebook, role, lines, adjuster, weight, aim, rng, made)
                if case is not None:
                    cases.append(case)
                    made += 1
            if made < per_target:
                raise AssertionError(f"no {role} inputs reach the exact total {aim}")
    return cases


def _boundary_case(rulebook, role, lines, adjuster, weight, aim, rng, variant) -> Case | None:
    typed: dict[str, Typed] = {}
    inputs: list[IndicatorLine] = []
    for ind, w in lines:
        if ind.is_rating:
            rating = rng.randint(1, len(rulebook.scoring.rating_points))
            typed[ind.code] = Typed(manager=str(rating), self_rating=str(rating))
            inputs.append(IndicatorLine(ind.code, w, manager=rating))
        elif ind is adjuster:
            inputs.append(IndicatorLine(ind.code, w, actual=float(ind.floor) if ind.floor is not None else 100.0,
                                        floor=ind.floor, target=ind.target, challenge=ind.challenge))
        else:
            value = _nice_actual(ind, rng)
            typed[ind.code] = Typed(actual=_show(value, ind.unit is Unit.percent), self_rating="3")
            inputs.append(IndicatorLine(ind.code, w, actual=float(value), floor=ind.floor, target=ind.target,
                                        challenge=ind.challenge))
    commendations = (0, 0, 2, 5, 6)[variant % 5]
    veto = rulebook.scoring.vetoes[0].name_zh if variant % 7 == 6 and rulebook.scoring.vetoes else None
    # the adjuster at a score of 0 (its floor, or 100 points deducted) gives the rest of the total
    result = score_employee(rulebook, inputs, commendations, veto)
    if not result.complete:
        return None
    with working():
        rest = sum((ln.exact_weighted for ln in result.lines), Decimal(0)) + _d(result.bonus)
        score = (aim - rest) * 100 / weight
    if score != score.quantize(Decimal("0.01")):
        return None  # the adjuster's score must itself be a 2-decimal value (it is rounded first)
    actual = _solve(adjuster, score)
    if actual is None or actual < 0 or actual != actual.quantize(Decimal("0.0001")):
        return None
    typed[adjuster.code] = Typed(actual=_show(actual, adjuster.unit is Unit.percent), self_rating="3")
    return Case(EmployeeTyped(lines=typed, commendations=str(commendations), veto=veto or VETO_NONE), 0, aim)
