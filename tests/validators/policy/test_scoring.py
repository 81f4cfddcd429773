"""The scoring engine against a golden table worked out by hand.

Every expected value below was computed on paper from the default rulebook's
numbers (cap 120; rating 1-5 -> 20/40/60/80/100), e.g. CSAT floor 80%,
target 95%, challenge 100%: actual 90% -> 100 x (0.90-0.80)/(0.95-0.80) = 66.67.
"""

from __future__ import annotations

import pytest

from kpisheet.validators.rulebook.model import Method
from kpisheet.validators.policy.scoring import (
    InvalidInput, MissingInput, deduction_points, indicator_score, rating_points, round_half_up,
)


def score(rulebook, code, **inputs):
    """Score one indicator with the default rulebook's own parameters."""
    ind = rulebook.indicator(code)
    s = rulebook.scoring
    params = {"floor": ind.floor, "target": ind.target, "challenge": ind.challenge} | inputs
    return indicator_score(ind.method, cap=s.cap, points=s.rating_points,
                           self_weight=s.self_weight, decimals=s.decimals, **params)


GOLDEN = [
    # higher_better, CSAT: floor .80, target .95, challenge 1.0
    ("CSAT", {"actual": 0.80}, 0.0),            # exactly floor
    ("CSAT", {"actual": 0.70}, 0.0),            # below floor clamps to 0
    ("CSAT", {"actual": 0.875}, 50.0),          # half way
    ("CSAT", {"actual": 0.90}, 66.67),          # 0.10/0.15
    ("CSAT", {"actual": 0.95}, 100.0),          # exactly target
    ("CSAT", {"actual": 0.975}, 110.0),         # half way to challenge: 100 + 20 x .025/.05
    ("CSAT", {"actual": 1.0}, 120.0),           # exactly challenge = cap
    # ENG_FTFR: floor .80, target .90, challenge 1.0
    ("ENG_FTFR", {"actual": 0.85}, 50.0),
    ("ENG_FTFR", {"actual": 0.95}, 110.0),
    # ENG_RESP: floor .90, target .98, challenge 1.0
    ("ENG_RESP", {"actual": 0.94}, 50.0),       # .04/.08
    ("ENG_RESP", {"actual": 0.99}, 110.0),      # 100 + 20 x .01/.02
    # CS_FCR: floor .70, target .85, challenge .95
    ("CS_FCR", {"actual": 0.75}, 33.33),        # .05/.15
    ("CS_FCR", {"actual": 0.90}, 110.0),        # 100 + 20 x .05/.10
    ("CS_FCR", {"actual": 0.96}, 120.0),        # beyond challenge: 122 capped at 120
    # target = challenge (the catalogue allows it): linear up to the target, the cap beyond it
    ("CSAT", {"actual": 0.99, "target": 1.0, "challenge": 1.0}, 95.0),     # .19/.20
    ("CSAT", {"actual": 1.0, "target": 1.0, "challenge": 1.0}, 100.0),
    ("ENG_MTTR", {"actual": 2, "target": 2, "challenge": 2}, 100.0),
    ("ENG_MTTR", {"actual": 1.5, "target": 2, "challenge": 2}, 120.0),
    # exact half-cent ties on the decimal value: half up, as typed percentages produce them
    ("ENG_RESP", {"actual": 0.9513}, 64.13),    # 100 x .0513/.08 = 64.125 (binary 64.12499999999999)
    ("ENG_RESP", {"actual": 0.9511}, 63.88),    # 63.875
    ("CSAT", {"actual": 0.8103}, 6.87),         # 6.866666...: not a tie
    ("ENG_FTFR", {"actual": 0.8123}, 12.3),     # 12.3 exactly
    # lower_better, ENG_MTTR hours: ceiling 8, target 4, challenge 2
    ("ENG_MTTR", {"actual": 8}, 0.0),           # exactly at the ceiling
    ("ENG_MTTR", {"actual": 10}, 0.0),          # beyond the ceiling
    ("ENG_MTTR", {"actual": 6}, 50.0),          # (8-6)/(8-4)
    ("ENG_MTTR", {"actual": 5}, 75.0),
    ("ENG_MTTR", {"actual": 4}, 100.0),         # exactly target
    ("ENG_MTTR", {"actual": 3}, 110.0),         # 100 + 20 x 1/2
    ("ENG_MTTR", {"actual": 2}, 120.0),         # exactly challenge
    ("ENG_MTTR", {"actual": 1}, 120.0),         # better than challenge, capped
    # CS_AHT minutes: ceiling 10, target 6, challenge 4
    ("CS_AHT", {"actual": 9}, 25.0),
    ("CS_AHT", {"actual": 7}, 75.0),
    ("CS_AHT", {"actual": 5}, 110.0),
    ("CS_AHT", {"actual": 6.675}, 83.13),       # raw 83.125: half-up, not banker's 83.12
    # complaint rate, lower_better with challenge 0: ceiling .02, target .005
    ("CS_COMPLAINT", {"actual": 0.0}, 120.0),   # no complaints at all = challenge
    ("CS_COMPLAINT", {"actual": 0.0025}, 110.0),
    ("CS_COMPLAINT", {"actual": 0.005}, 100.0),
    ("CS_COMPLAINT", {"actual": 0.01}, 66.67),  # .01/.015
    ("CS_COMPLAINT", {"actual": 0.02}, 0.0),
    ("CS_COMPLAINT", {"actual": 0.03}, 0.0),
    # count against target, TS_KB target 4
    ("TS_KB", {"actual": 0}, 0.0),
    ("TS_KB", {"actual": 1}, 25.0),
    ("TS_KB", {"actual": 3}, 75.0),
    ("TS_KB", {"actual": 4}, 100.0),
    ("TS_KB", {"actual": 5}, 120.0),            # 125 capped
    ("TS_KB", {"actual": 9}, 120.0),
    # deduction: actual is the total of deducted points
    ("DISC", {"actual": 0}, 100.0),
    ("DISC", {"actual": 12}, 88.0),
    ("DISC", {"actual": 100}, 0.0),
    ("DISC", {"actual": 130}, 0.0),             # never below 0
    ("COMPLY", {"actual": 20}, 80.0),
    # rating: the manager's 1-5
    ("COMP_SKILL", {"manager": 1}, 20.0),
    ("COMP_SKILL", {"manager": 3}, 60.0),
    ("COMP_SKILL", {"manager": 5}, 100.0),
    ("TEAM", {"manager": 4, "self_rating": 1}, 80.0),  # self counts for nothing at self_weight 0
]


@pytest.mark.parametrize(("code", "inputs", "expected"), GOLDEN,
                         ids=[f"{c}-{'-'.join(map(str, i.values()))}" for c, i, _ in GOLDEN])
def test_golden_indicator_scores(rulebook, code, inputs, expected):
    assert score(rulebook, code, **inputs) == expected


def test_golden_table_is_large_and_covers_every_method(rulebook):
    methods = {rulebook.indicator(code).method for code, _, _ in GOLDEN}
    assert len(GOLDEN) >= 30
    assert methods == set(Method)


@pytest.mark.parametrize(("counts", "points"), [
    ({"late": 3, "absence": 1, "violation": 2}, 12.0),   # 3x1 + 1x5 + 2x2
    ({"late": 0}, 0.0),
    ({"absence": 21}, 105.0),
])
def test_deduction_points_from_incident_counts(rulebook, counts, points):
    disc = rulebook.indicator("DISC")
    per_incident = {i.code: i.points for i in disc.incidents}
    assert deduction_points(counts, per_incident) == points


def test_deductions_beyond_100_points_score_zero(rulebook):
    per_incident = {i.code: i.points for i in rulebook.indicator("DISC").incidents}
    assert score(rulebook, "DISC", actual=deduction_points({"absence": 21}, per_incident)) == 0.0


def test_unknown_incident_type_is_named(rulebook):
    per_incident = {i.code: i.points for i in rulebook.indicator("DISC").incidents}
    with pytest.raises(InvalidInput) as info:
        deduction_points({"sleeping": 1}, per_incident)
    assert info.value.name == "sleeping"
    assert "late" in info.value.message_en


def test_negative_deduction_is_refused(rulebook):
    with pytest.raises(InvalidInput) as info:
        score(rulebook, "DISC", actual=-5)
    assert info.value.name == "actual"
    assert "负数" in info.value.message_zh


def test_self_rating_counts_only_with_a_self_weight():
    # manager 4 -> 80, self 5 -> 100; at self_weight 0.2: 0.8 x 80 + 0.2 x 100 = 84
    assert indicator_score("rating", manager=4, self_rating=5, self_weight=0.2) == 84.0
    assert indicator_score("rating", manager=4, self_rating=5, self_weight=0) == 80.0
    with pytest.raises(MissingInput) as info:
        indicator_score("rating", manager=4, self_weight=0.2)
    assert info.value.name == "self"


@pytest.mark.parametrize("bad", [0, 6, 3.5, -1])
def test_invalid_rating_is_refused(rulebook, bad):
    with pytest.raises(InvalidInput) as info:
        score(rulebook, "COMP_SKILL", manager=bad)
    assert info.value.name == "manager"
    assert "1-5" in info.value.message_zh and "1-5" in info.value.message_en


def test_rating_points_maps_each_step(rulebook):
    assert [rating_points(r, rulebook.scoring.rating_points) for r in (1, 2, 3, 4, 5)] == [20, 40, 60, 80, 100]


@pytest.mark.parametrize(("code", "inputs", "name"), [
    ("CSAT", {"actual": None}, "actual"),
    ("CSAT", {"actual": 0.9, "target": None}, "target"),
    ("CSAT", {"actual": 0.9, "floor": None}, "floor"),
    ("ENG_MTTR", {"actual": 3, "challenge": None}, "challenge"),
    ("TS_KB", {"actual": None}, "actual"),
    ("DISC", {"actual": None}, "actual"),
    ("COMP_SKILL", {"manager": None}, "manager"),
])
def test_missing_input_is_named_never_zero(rulebook, code, inputs, name):
    with pytest.raises(MissingInput) as info:
        score(rulebook, code, **inputs)
    assert info.value.name == name


@pytest.mark.parametrize(("code", "inputs", "name"), [
    ("CSAT", {"actual": 0.9, "floor": 0.95, "target": 0.80}, "target"),      # floor above target
    ("CSAT", {"actual": 0.9, "target": 0.95, "challenge": 0.94}, "challenge"),  # challenge below target
    ("ENG_MTTR", {"actual": 5, "floor": 4, "target": 8}, "target"),          # ceiling below target
    ("TS_KB", {"actual": 2, "target": 0}, "target"),
    ("CSAT", {"actual": float("nan")}, "actual"),
    ("CSAT", {"actual": "95%"}, "actual"),
])
def test_unscorable_input_is_named(rulebook, code, inputs, name):
    with pytest.raises(InvalidInput) as info:
        score(rulebook, code, **inputs)
    assert info.value.name == name
    assert info.value.message_zh and info.value.message_en


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (2.675, 2, 2.68),        # binary 2.67499999...: round() gives 2.67, Excel gives 2.68
    (1.005, 2, 1.01),
    (0.125, 2, 0.13),        # banker's rounding would give 0.12
    (88.91499999999999, 2, 88.92),   # a float sum that means 88.915
    (-2.675, 2, -2.68),      # half away from zero, like Excel
    (66.66666666666667, 2, 66.67),
    (83.125, 2, 83.13),
    (2.5, 0, 3.0),
    (0.0, 2, 0.0),
])
def test_round_half_up_matches_excel(value, decimals, expected):
    assert round_half_up(value, decimals) == expected
