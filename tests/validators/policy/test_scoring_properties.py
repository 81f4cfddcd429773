"""Properties of the scoring engine that must hold for any input (hypothesis)."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kpisheet.validators.policy.grading import IndicatorLine, grade_for, score_employee
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.validators.policy.scoring import indicator_score

RULES = default_rulebook()
CAP = RULES.scoring.cap
BONUS_CAP = RULES.scoring.bonus_cap

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def ordered_thresholds(draw):
    """floor < target < challenge with usable gaps."""
    floor = draw(st.floats(min_value=-1000, max_value=1000, allow_nan=False))
    gap1 = draw(st.floats(min_value=1e-3, max_value=1000, allow_nan=False))
    gap2 = draw(st.floats(min_value=1e-3, max_value=1000, allow_nan=False))
    return floor, floor + gap1, floor + gap1 + gap2


@given(ordered_thresholds(), finite, finite)
def test_higher_better_is_monotone_and_bounded(thresholds, a, b):
    floor, target, challenge = thresholds
    assume(floor < target < challenge)
    lo, hi = sorted((a, b))
    score_lo, score_hi = (indicator_score("higher_better", actual=x, floor=floor, target=target,
                                          challenge=challenge, cap=CAP) for x in (lo, hi))
    assert score_lo <= score_hi
    assert 0 <= score_lo <= CAP and 0 <= score_hi <= CAP


@given(ordered_thresholds(), finite, finite)
def test_lower_better_is_monotone_and_bounded(thresholds, a, b):
    challenge, target, ceiling = thresholds  # lower better: ceiling > target > challenge
    assume(ceiling > target > challenge)
    lo, hi = sorted((a, b))
    score_lo, score_hi = (indicator_score("lower_better", actual=x, floor=ceiling, target=target,
                                          challenge=challenge, cap=CAP) for x in (lo, hi))
    assert score_lo >= score_hi
    assert 0 <= score_lo <= CAP and 0 <= score_hi <= CAP


@given(st.floats(min_value=0, max_value=1e4, allow_nan=False), st.floats(min_value=0.01, max_value=1e3))
def test_count_and_deduction_stay_within_bounds(actual, target):
    assert 0 <= indicator_score("count", actual=actual, target=target, cap=CAP) <= CAP
    assert 0 <= indicator_score("deduction", actual=actual, cap=CAP) <= 100


@given(st.integers(min_value=1, max_value=5))
def test_rating_within_bounds(r):
    assert 0 <= indicator_score("rating", manager=r, cap=CAP) <= CAP


def _role_lines(draw, role):
    """The role's lines with default weights (summing to 100) and random valid inputs."""
    lines = []
    for ind, weight in RULES.role_indicators(role):
        if ind.method.value == "rating":
            entered = {"manager": draw(st.integers(1, 5))}
        elif ind.method.value == "deduction":
            entered = {"actual": draw(st.integers(0, 150))}
        elif ind.method.value == "count":
            entered = {"actual": draw(st.integers(0, 20))}
        else:
            lo, hi = sorted((ind.floor, ind.challenge))
            span = hi - lo
            entered = {"actual": draw(st.floats(min_value=lo - span, max_value=hi + span, allow_nan=False))}
        lines.append(IndicatorLine(ind.code, weight, floor=ind.floor, target=ind.target,
                                   challenge=ind.challenge, **entered))
    return lines


@given(st.data(), st.sampled_from([r.code for r in RULES.roles]), st.integers(0, 50))
@settings(max_examples=200)
def test_weighted_total_within_bounds(data, role, commendations):
    result = score_employee(RULES, _role_lines(data.draw, role), commendations=commendations)
    assert result.complete
    assert 0 <= result.total <= CAP + BONUS_CAP
    assert result.grade == grade_for(RULES, result.total)


@given(st.floats(min_value=-10, max_value=200, allow_nan=False),
       st.floats(min_value=-10, max_value=200, allow_nan=False))
def test_grade_is_monotone_in_total(a, b):
    rank = {band.grade: i for i, band in enumerate(sorted(RULES.grades, key=lambda g: -g.min))}
    lo, hi = sorted((a, b))
    assert rank[grade_for(RULES, lo)] >= rank[grade_for(RULES, hi)]  # a lower total never earns a better grade
