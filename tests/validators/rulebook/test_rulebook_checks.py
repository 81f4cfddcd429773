"""Cross-field rulebook checks: each rule fires, at the right key path, naming the culprit."""

from __future__ import annotations

import copy

import pytest

from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.checks import check_rulebook
from kpisheet.validators.rulebook.from_data import rulebook_from_data
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.validators.rulebook.problems import RulebookError


@pytest.fixture(scope="module")
def base() -> dict:
    return default_rulebook().model_dump(mode="json")


def _problems(base: dict, edit) -> list:
    data = copy.deepcopy(base)
    edit(data)
    return check_rulebook(Rulebook.model_validate(data))


def _index(data: dict, section: str, code: str) -> int:
    return next(i for i, item in enumerate(data[section]) if item["code"] == code)


def _ind(data: dict, code: str) -> dict:
    return data["indicators"][_index(data, "indicators", code)]


def _at(problems: list, location: str) -> list:
    return [p for p in problems if p.location == location]


def test_default_rulebook_is_clean(rulebook):
    assert check_rulebook(rulebook) == []


def test_role_weights_summing_to_90_name_the_role(base):
    def edit(d):
        d["roles"][0]["weights"]["ENG_FIX_RATE"] = 5  # 100 -> 90, all in results
    problems = _problems(base, edit)
    sums = _at(problems, "roles[0].weights")
    assert any("90" in p.message_en and "engineer" in p.message_en and "售后工程师" in p.message_zh for p in sums)
    # the results category is now short as well: named with the category
    assert any("results" in p.message_en and "60" in p.message_en for p in sums)
    assert all(p.location.startswith("roles[0]") for p in problems)


def test_role_weights_must_match_each_category(base):
    def edit(d):  # still 100 in total, but 5 moved from results to competency
        w = d["roles"][1]["weights"]
        w["CSAT"], w["COMP_COMM"] = 10, 20
    problems = _problems(base, edit)
    assert {p.location for p in problems} == {"roles[1].weights"}
    text = " ".join(p.message_en for p in problems)
    assert "results indicators weigh 55" in text and "competency indicators weigh 30" in text
    assert all("cs" in p.message_en and "客服专员" in p.message_zh for p in problems)


def test_category_weights_sum_to_100(base):
    problems = _problems(base, lambda d: d["categories"][2].update(weight=20))
    assert any(p.location == "categories" and "105" in p.message_en for p in problems)


def test_role_weight_of_unknown_indicator(base):
    def edit(d):
        w = d["roles"][1]["weights"]
        w["CS_NOPE"] = w.pop("CS_AHT")
    problems = _problems(base, edit)
    assert [p.location for p in problems] == ["roles[1].weights.CS_NOPE"]
    assert "CS_NOPE" in problems[0].message_zh


def test_role_weight_outside_indicator_range(base):
    problems = _problems(base, lambda d: _ind(d, "CSAT").update(weight_max=12))
    located = _at(problems, "roles[1].weights.CSAT") + _at(problems, "roles[2].weights.CSAT")
    assert len(located) == 2 and all("5..12" in p.message_en for p in located)
    assert not _at(problems, "roles[0].weights.CSAT")  # engineer's 10 is within 5..12


def test_role_indicator_count(base):
    problems = _problems(base, lambda d: d["scoring"].update(indicators_per_role_max=7))
    assert {p.location for p in problems} == {"roles[0].weights", "roles[1].weights", "roles[2].weights"}
    assert all("8 indicators" in p.message_en for p in problems)


def test_indicator_category_must_exist(base):
    problems = _problems(base, lambda d: _ind(d, "TEAM").update(category="attitud"))
    i = _index(base, "indicators", "TEAM")
    assert any(p.location == f"indicators[{i}].category" and "attitud" in p.message_en for p in problems)


def test_target_below_floor_for_higher_better_names_the_indicator(base):
    problems = _problems(base, lambda d: _ind(d, "ENG_FTFR").update(target=0.75))
    i = _index(base, "indicators", "ENG_FTFR")
    assert [p.location for p in problems] == [f"indicators[{i}].target"]
    assert "ENG_FTFR" in problems[0].message_en and "一次修复率" in problems[0].message_zh


def test_challenge_below_target_for_higher_better(base):
    problems = _problems(base, lambda d: _ind(d, "CS_FCR").update(challenge=0.8))
    i = _index(base, "indicators", "CS_FCR")
    assert [p.location for p in problems] == [f"indicators[{i}].challenge"]


def test_lower_better_runs_the_other_way(base):
    i = _index(base, "indicators", "ENG_MTTR")
    # floor 8, target 4, challenge 2 is right for lower_better; a target above the floor is not
    problems = _problems(base, lambda d: _ind(d, "ENG_MTTR").update(target=9))
    assert [p.location for p in problems] == [f"indicators[{i}].target"]
    assert "lower_better" in problems[0].message_en
    # the higher_better order is wrong for a lower_better indicator
    problems = _problems(base, lambda d: _ind(d, "ENG_MTTR").update(floor=2, target=4, challenge=8))
    assert {p.location for p in problems} == {f"indicators[{i}].target", f"indicators[{i}].challenge"}


def test_missing_and_unused_thresholds(base):
    i_csat, i_team, i_kb = (_index(base, "indicators", c) for c in ("CSAT", "TEAM", "TS_KB"))
    problems = _problems(base, lambda d: _ind(d, "CSAT").update(floor=None))
    assert [p.location for p in problems] == [f"indicators[{i_csat}].floor"]
    problems = _problems(base, lambda d: _ind(d, "TEAM").update(target=3))
    assert [p.location for p in problems] == [f"indicators[{i_team}].target"]
    assert "does not use target" in problems[0].message_en
    problems = _problems(base, lambda d: _ind(d, "TS_KB").update(target=0))
    assert [p.location for p in problems] == [f"indicators[{i_kb}].target"]


def test_percent_typed_as_95_gets_a_hint_and_no_order_noise(base):
    problems = _problems(base, lambda d: _ind(d, "CSAT").update(target=95))
    assert [p.location for p in problems] == ["indicators[0].target"]
    assert "0.95" in problems[0].message_en and "0.95" in problems[0].message_zh


def test_deduction_needs_incidents(base):
    i = _index(base, "indicators", "DISC")
    problems = _problems(base, lambda d: _ind(d, "DISC").update(incidents=[]))
    assert [p.location for p in problems] == [f"indicators[{i}].incidents"]


def test_unit_must_fit_method(base):
    i = _index(base, "indicators", "TEAM")
    problems = _problems(base, lambda d: _ind(d, "TEAM").update(unit="percent"))
    assert [p.location for p in problems] == [f"indicators[{i}].unit"]


def test_grade_bands_ordered_contiguous_unique(base):
    def edit(d):
        d["grades"][2]["min"] = 85          # B above A
        d["grades"][4]["min"] = 10          # D does not start at 0
        d["grades"][3]["grade"] = "A"       # duplicate letter
    problems = _problems(base, edit)
    locations = {p.location for p in problems}
    assert {"grades[2].min", "grades[4].min", "grades[3].grade"} <= locations


def test_veto_and_pip_grades_must_be_bands(base):
    def edit(d):
        d["scoring"]["veto_grade"] = "E"
        d["outcomes"]["pip_grades"] = ["C", "X"]
        d["outcomes"]["pip_months_min"] = 4
    problems = _problems(base, edit)
    assert {p.location for p in problems} == {"scoring.veto_grade", "outcomes.pip_grades[1]",
                                              "outcomes.pip_months_min"}


def test_rating_points_increase_and_anchor_count_follows(base):
    problems = _problems(base, lambda d: d["scoring"].update(rating_points=[20, 40, 40, 80, 100]))
    assert [p.location for p in problems] == ["scoring.rating_points[2]"]
    # a 4-level scale while the anchors still describe 5 levels
    problems = _problems(base, lambda d: d["scoring"].update(rating_points=[25, 50, 75, 100]))
    rating_codes = [ind["code"] for ind in base["indicators"] if ind["method"] == "rating"]
    assert len(problems) == len(rating_codes)
    assert all(p.location.endswith(".anchors_zh") for p in problems)

    def consistent(d):  # changed consistently: 4 levels, 4 anchors everywhere
        d["scoring"]["rating_points"] = [25, 50, 75, 100]
        for ind in d["indicators"]:
            if ind["anchors_zh"]:
                ind["anchors_zh"] = ind["anchors_zh"][:4]
    assert _problems(base, consistent) == []


def test_quota_feasibility(base):
    def edit(d):
        d["distribution"].update(s_max=0.4, sa_max=0.3, cd_min=0.2, cd_max=0.1)
    problems = _problems(base, edit)
    assert {p.location for p in problems} >= {"distribution.s_max", "distribution.cd_min"}
    problems = _problems(base, lambda d: d["distribution"].update(b_min=0.9, cd_min=0.15, cd_max=0.2))
    assert [p.location for p in problems] == ["distribution.b_min"]
    problems = _problems(base, lambda d: d["distribution"].update(sa_max=0.5))  # .5 + .5 + .05 > 1
    assert [p.location for p in problems] == ["distribution.sa_max"]


def test_quota_above_one_is_a_structure_error_with_a_hint(base):
    data = copy.deepcopy(base)
    data["distribution"]["s_max"] = 10
    with pytest.raises(RulebookError) as caught:
        rulebook_from_data(data, "test")
    (problem,) = caught.value.problems
    assert problem.location == "distribution.s_max" and "0.10" in problem.message_en


@pytest.mark.parametrize("section", ["categories", "roles", "indicators"])
def test_duplicate_codes(base, section):
    def edit(d):
        d[section][1]["code"] = d[section][0]["code"]
    problems = _problems(base, edit)
    assert any(p.location == f"{section}[1].code" and "duplicate" in p.message_en for p in problems)


def test_duplicate_incident_and_veto_codes(base):
    i = _index(base, "indicators", "DISC")

    def edit(d):
        _ind(d, "DISC")["incidents"][1]["code"] = "late"
        d["scoring"]["vetoes"][2]["code"] = "major_complaint"
    problems = _problems(base, edit)
    assert {p.location for p in problems} == {f"indicators[{i}].incidents[1].code", "scoring.vetoes[2].code"}


def test_mandatory_indicator_in_no_role(base):
    i = _index(base, "indicators", "CS_TICKET")
    problems = _problems(base, lambda d: _ind(d, "CS_TICKET").update(mandatory=True))
    assert [p.location for p in problems] == [f"indicators[{i}].mandatory"]


def test_year_weights(base):
    problems = _problems(base, lambda d: d["periods"].update(year_weights={"Q1": 30, "Q2": 25, "Q3": 25, "Q5": 25}))
    assert {p.location for p in problems} == {"periods.year_weights.Q5", "periods.year_weights"}
    assert any("105" in p.message_en for p in problems) and any("Q4" in p.message_en for p in problems)


def test_every_problem_is_collected_not_just_the_first(base):
    def edit(d):
        d["roles"][2]["weights"]["TS_REMOTE"] = 15
        _ind(d, "CSAT")["target"] = 0.7
        d["grades"][4]["min"] = 5
        d["distribution"]["cd_min"] = 0.2
        d["periods"]["year_weights"]["Q4"] = 20
    problems = _problems(base, edit)
    locations = {p.location for p in problems}
    assert {"roles[2].weights", "indicators[0].target", "grades[4].min", "distribution.cd_min",
            "periods.year_weights"} <= locations
    assert all(p.message_zh and p.message_en for p in problems)


def test_unknown_method_is_a_located_error(base):
    data = copy.deepcopy(base)
    data["indicators"][3]["method"] = "higher_beter"
    with pytest.raises(RulebookError) as caught:
        rulebook_from_data(data, "test")
    assert [p.location for p in caught.value.problems] == ["indicators[3].method"]
