"""goal- checks on 目标设定, each at its cell, and the goals phase."""

from __future__ import annotations

import pytest

import tests.support.validate_support as S
from tests.support.validate_support import only
from kpisheet.validators import layout as L
from kpisheet.validators.approved_goals import goals_of
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.validators.reading.submission import read_team_workbook


def goals(values, code=None, employee=None):
    rows = S.book(values).goals
    return [g for g in rows if (code is None or g.code == code) and (employee is None or g.employee_id == employee)]


def test_weights_must_sum_to_100_reported_on_the_sum_column(values, props):
    rows = goals(values, employee="SH0014")
    skill, solve = (g for g in rows if g.code in ("COMP_SKILL", "COMP_SOLVE"))
    S.put(values, L.GOALS, skill.address("weight"), skill.weight - 5)  # 95 in all, category off as well
    report = S.run(values, props)
    sum_cell = S.cell_of(L.GOAL_COLUMNS, "weight_sum", rows[0].row)
    assert only(report, "goal-weight-sum") == {(L.GOALS, sum_cell)}
    finding = next(f for f in report.findings if f.code == "goal-weight-sum")
    assert finding.value == 95 and finding.expected == 100 and finding.employee_id == "SH0014"


def test_weight_outside_the_indicators_range(values, props):
    rows = {g.code: g for g in goals(values, employee="SH0016")}
    fix = rows["ENG_FIX_RATE"]
    # results still 60 in all: only the one weight is wrong (weight_max is 30)
    for code, weight in {"CSAT": 5, "ENG_FIX_RATE": 35, "ENG_MTTR": 10, "ENG_FTFR": 5, "ENG_RESP": 5}.items():
        S.put(values, L.GOALS, rows[code].address("weight"), weight)
    report = S.run(values, props)
    assert only(report, "goal-weight-range") == {(L.GOALS, fix.address("weight"))}
    assert next(f for f in report.findings if f.code == "goal-weight-range").expected == "5–30"
    assert not only(report, "goal-weight-sum") and not only(report, "goal-category-weight")


def test_an_empty_weight_is_out_of_range(values, props):
    row = goals(values, "CSAT", "SH0019")[0]
    S.put(values, L.GOALS, row.address("weight"), "")
    report = S.run(values, props)
    assert (L.GOALS, row.address("weight")) in only(report, "goal-weight-range")


def test_weight_moved_between_categories(values, props):
    rows = goals(values, employee="SH0020")
    csat, disc = (next(g for g in rows if g.code == c) for c in ("CSAT", "DISC"))
    S.put(values, L.GOALS, csat.address("weight"), csat.weight + 5)
    S.put(values, L.GOALS, disc.address("weight"), disc.weight - 5)
    report = S.run(values, props)
    first_results = next(g for g in rows if g.code == "CSAT")
    first_attitude = next(g for g in rows if g.code == "DISC")
    assert only(report, "goal-category-weight") == {(L.GOALS, first_results.address("weight")),
                                                    (L.GOALS, first_attitude.address("weight"))}
    assert not only(report, "goal-weight-sum")


def test_a_weight_typed_as_text(values, props):
    row = goals(values, "ENG_RESP", "SH0021")[0]
    S.put(values, L.GOALS, row.address("weight"), f"{row.weight:g}%")
    report = S.run(values, props)
    finding = next(f for f in report.findings if f.cell == row.address("weight"))
    assert finding.code == "score-not-number" and finding.expected == f"{row.weight:g}"


@pytest.mark.parametrize("key", ["floor", "target", "challenge"])
def test_an_editable_target_left_empty(values, props, key):
    row = goals(values, "ENG_FTFR", "SH0011")[0]
    S.put(values, L.GOALS, row.address(key), "")
    report = S.run(values, props)
    assert only(report, "goal-target-missing") == {(L.GOALS, row.address(key))}


def test_higher_better_targets_out_of_order(values, props):
    row = goals(values, "CSAT", "SH0011")[0]
    S.put(values, L.GOALS, row.address("floor"), row.target)
    S.put(values, L.GOALS, row.address("target"), row.floor)
    report = S.run(values, props)
    assert only(report, "goal-target-order") == {(L.GOALS, row.address("target"))}
    assert "<" in next(f for f in report.findings if f.code == "goal-target-order").message_zh


def test_lower_better_targets_out_of_order(values, props):
    row = goals(values, "ENG_MTTR", "SH0014")[0]  # floor 8 > target 4 > challenge 2
    S.put(values, L.GOALS, row.address("challenge"), row.target + 1)
    report = S.run(values, props)
    assert only(report, "goal-target-order") == {(L.GOALS, row.address("challenge"))}


def test_a_percent_target_typed_as_95(values, props):
    row = goals(values, "CSAT", "SH0012")[0]
    S.put(values, L.GOALS, row.address("target"), 95)
    report = S.run(values, props)
    finding = next(f for f in report.findings if f.cell == row.address("target"))
    assert finding.code == "score-percent-scale" and finding.expected.startswith("0.95")
    assert not only(report, "goal-target-order")


def test_missing_smart_text_is_a_warning(values, props):
    row = goals(values, "COMP_SKILL", "SH0003")[0]
    S.put(values, L.GOALS, row.address("smart"), "  ")
    report = S.run(values, props)
    assert only(report, "goal-smart-missing") == {(L.GOALS, row.address("smart"))}
    assert report.status == "warning"


def test_a_mandatory_indicator_missing(values, props):
    rows = goals(values, employee="SH0004")
    csat = next(g for g in rows if g.code == "CSAT")
    for sheet in (L.GOALS, L.SCORES):
        del values[sheet][csat.row]
    report = S.run(values, props)
    first = goals(values, employee="SH0004")[0]
    assert (L.GOALS, first.address("code")) in only(report, "goal-mandatory-missing")
    assert next(f for f in report.findings if f.code == "goal-mandatory-missing").indicator == "CSAT"


def test_goals_changed_after_approval(values, props):
    key, approved = goals_of(S.fresh(values), source="approved", rulebook=default_rulebook())
    row = goals(values, "ENG_MTTR", "SH0019")[0]
    S.put(values, L.GOALS, row.address("target"), row.target - 0.5)
    S.put(values, L.GOALS, row.address("smart"), "改过的描述")
    report = S.run(values, props, approved_goals={key: approved})
    assert only(report, "goal-changed-after-approval") == {(L.GOALS, row.address("target")),
                                                           (L.GOALS, row.address("smart"))}
    target = next(f for f in report.findings if f.cell == row.address("target"))
    assert target.expected == row.target and target.value == row.target - 0.5


def test_approved_goals_of_another_team_are_not_used(values, props):
    key, approved = goals_of(S.fresh(values), source="approved", rulebook=default_rulebook())
    row = goals(values, "ENG_MTTR", "SH0019")[0]
    S.put(values, L.GOALS, row.address("smart"), "改过的描述")
    report = S.run(values, props, approved_goals={(key[0], "别的组", key[2]): approved})
    assert not only(report, "goal-changed-after-approval")


def test_the_goals_phase_checks_goals_but_not_scores(values, props):
    for s in read_team_workbook(values, source="t", rulebook=default_rulebook()).scores:
        for key in ("actual", "self_rating", "manager", "comment"):
            S.put(values, L.SCORES, s.address(key), "")
    row = goals(values, "CSAT", "SH0011")[0]
    S.put(values, L.GOALS, row.address("target"), "")
    scoring = S.run(S.fresh(values), props)
    goals_phase = S.run(values, props, phase="goals")
    assert "score-missing" in S.codes(scoring)
    assert S.codes(goals_phase) == {"goal-target-missing"}
