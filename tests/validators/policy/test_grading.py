"""Weighted totals, bonus, veto, grades and coefficients, worked out by hand."""

from __future__ import annotations

import dataclasses

import pytest

from kpisheet.validators.policy.grading import (
    IndicatorLine, bonus_points, coefficient_for, grade_for, score_employee,
)


def lines_for(rulebook, role, inputs):
    """The role's indicator lines with default weights and rulebook targets, plus ``inputs`` per code."""
    out = []
    for ind, weight in rulebook.role_indicators(role):
        entered = {"weight": weight, "floor": ind.floor, "target": ind.target, "challenge": ind.challenge}
        entered |= inputs[ind.code]
        out.append(IndicatorLine(ind.code, **entered))
    return out


# engineer: CSAT 10, ENG_FIX_RATE 15, ENG_MTTR 10, ENG_FTFR 15, ENG_RESP 10, COMP_SKILL 15, COMP_SOLVE 10, DISC 15
ENGINEER = {
    "CSAT": {"actual": 0.90},          # 66.67 x 10% = 6.667
    "ENG_FIX_RATE": {"actual": 0.875},  # 50 x 15% = 7.5
    "ENG_MTTR": {"actual": 3},         # 110 x 10% = 11
    "ENG_FTFR": {"actual": 0.95},      # 110 x 15% = 16.5
    "ENG_RESP": {"actual": 1.0},       # 120 x 10% = 12
    "COMP_SKILL": {"manager": 5},      # 100 x 15% = 15
    "COMP_SOLVE": {"manager": 2},      # 40 x 10% = 4
    "DISC": {"actual": 7},             # late x2 + absence x1 = 7 points: 93 x 15% = 13.95
}

# cs: CSAT 15, CS_ANSWER 10, CS_AHT 10, CS_FCR 15, CS_COMPLAINT 10, COMP_COMM 15, COMP_SKILL 10, COMPLY 15
CS_HALF_CENT = {
    "CSAT": {"actual": 0.95},          # 100 x 15% = 15
    "CS_ANSWER": {"actual": 0.95},     # 100 x 10% = 10
    "CS_AHT": {"actual": 7.334},       # 100 x 2.666/4 = 66.65 x 10% = 6.665
    "CS_FCR": {"actual": 0.85},        # 100 x 15% = 15
    "CS_COMPLAINT": {"actual": 0.005},  # 100 x 10% = 10
    "COMP_COMM": {"manager": 4},       # 80 x 15% = 12
    "COMP_SKILL": {"manager": 3},      # 60 x 10% = 6
    "COMPLY": {"actual": 5},           # one violation: 95 x 15% = 14.25
}                                      # sum 88.915 exactly


def test_engineer_total_by_hand(rulebook):
    result = score_employee(rulebook, lines_for(rulebook, "engineer", ENGINEER), commendations=1)
    assert [line.score for line in result.lines] == [66.67, 50.0, 110.0, 110.0, 120.0, 100.0, 40.0, 93.0]
    assert result.subtotals == {"results": 53.67, "competency": 19.0, "attitude": 13.95}
    assert result.bonus == 1.0
    assert result.total == 87.62       # 86.617 + 1
    assert (result.grade, result.coefficient) == ("A", 1.15)
    assert result.complete


def test_half_cent_total_rounds_up_like_excel(rulebook):
    result = score_employee(rulebook, lines_for(rulebook, "cs", CS_HALF_CENT), commendations=0)
    # the float sum is 88.91499999999999; Excel's ROUND sees 88.915 and gives 88.92
    assert result.total == 88.92
    assert result.grade == "A"
    with_bonus = score_employee(rulebook, lines_for(rulebook, "cs", CS_HALF_CENT), commendations=2)
    assert with_bonus.total == 90.92    # 90.915 -> 90.92, now S
    assert (with_bonus.grade, with_bonus.coefficient) == ("S", 1.3)


def test_bonus_is_capped_on_the_total(rulebook):
    perfect = {code: ({"manager": 5} if "manager" in v else v) for code, v in ENGINEER.items()}
    perfect |= {"CSAT": {"actual": 0.95}, "ENG_FIX_RATE": {"actual": 0.95}, "ENG_MTTR": {"actual": 4},
                "ENG_FTFR": {"actual": 0.90}, "ENG_RESP": {"actual": 0.98}, "DISC": {"actual": 0}}
    lines = lines_for(rulebook, "engineer", perfect)
    assert score_employee(rulebook, lines, commendations=0).total == 100.0
    assert score_employee(rulebook, lines, commendations=3).total == 103.0
    assert score_employee(rulebook, lines, commendations=7).total == 105.0   # +7 capped at +5
    assert score_employee(rulebook, lines, commendations=None).total == 100.0  # empty cell: none


@pytest.mark.parametrize(("commendations", "bonus"), [(0, 0.0), (1, 1.0), (5, 5.0), (6, 5.0), (40, 5.0), (None, 0.0)])
def test_bonus_points(rulebook, commendations, bonus):
    assert bonus_points(rulebook, commendations) == bonus


def test_negative_commendations_are_reported_and_add_nothing(rulebook):
    # the sheet's bonus formula floors at 0, so the total is 86.617 -> 86.62 without bonus
    result = score_employee(rulebook, lines_for(rulebook, "engineer", ENGINEER), commendations=-2)
    assert (result.bonus, result.total, result.grade) == (0.0, 86.62, "A")
    assert [(p.code, p.name) for p in result.invalid] == [("summary", "commendations")]
    assert not result.complete


def test_veto_forces_d_whatever_the_total(rulebook):
    lines = lines_for(rulebook, "cs", CS_HALF_CENT)
    result = score_employee(rulebook, lines, commendations=2, veto="safety_incident")
    assert result.total == 90.92
    assert result.veto
    assert (result.grade, result.coefficient) == ("D", 0.5)
    assert score_employee(rulebook, lines, commendations=2, veto="  ").grade == "S"  # a blank cell is no veto


@pytest.mark.parametrize(("veto", "grade"), [
    (None, "S"), ("", "S"), ("无", "S"),                      # the dropdown's "none"
    ("安全事故", "D"), ("数据造假", "D"), ("Major at-fault complaint", "D"), ("falsified_data", "D"),
])
def test_veto_cell_values(rulebook, veto, grade):
    result = score_employee(rulebook, lines_for(rulebook, "cs", CS_HALF_CENT), commendations=2, veto=veto)
    assert result.grade == grade and result.complete


def test_unknown_veto_text_is_reported(rulebook):
    result = score_employee(rulebook, lines_for(rulebook, "cs", CS_HALF_CENT), veto="安全事件")
    assert [(p.code, p.name) for p in result.invalid] == [("summary", "veto")]
    assert "安全事件" in result.invalid[0].message_zh and "安全事故" in result.invalid[0].message_zh
    assert (result.veto, result.grade) == (True, "D")   # as the sheet's formula reads any entry
    assert not result.complete


@pytest.mark.parametrize(("total", "grade", "coefficient"), [
    (125.0, "S", 1.3),
    (90.0, "S", 1.3),
    (89.99, "A", 1.15),
    (80.0, "A", 1.15),
    (79.99, "B", 1.0),
    (70.0, "B", 1.0),
    (69.99, "C", 0.8),
    (60.0, "C", 0.8),
    (59.99, "D", 0.5),
    (0.0, "D", 0.5),
])
def test_grade_boundaries(rulebook, total, grade, coefficient):
    assert grade_for(rulebook, total) == grade
    assert coefficient_for(rulebook, grade) == coefficient


def test_grade_for_does_not_depend_on_band_order(rulebook):
    shuffled = rulebook.model_copy(update={"grades": list(reversed(rulebook.grades))})
    assert [grade_for(shuffled, t) for t in (95, 85, 75, 65, 10)] == ["S", "A", "B", "C", "D"]


def test_veto_grade_comes_from_the_rulebook(rulebook):
    stricter = rulebook.model_copy(update={"scoring": rulebook.scoring.model_copy(update={"veto_grade": "C"})})
    assert grade_for(stricter, 99, veto=True) == "C"


def test_missing_inputs_are_listed_by_name_and_no_total_is_given(rulebook):
    lines = lines_for(rulebook, "engineer", ENGINEER)
    lines[2] = dataclasses.replace(lines[2], actual=None)            # ENG_MTTR actual
    lines[5] = dataclasses.replace(lines[5], manager=None)           # COMP_SKILL manager
    lines[0] = dataclasses.replace(lines[0], weight=None)            # CSAT weight
    result = score_employee(rulebook, lines, commendations=0)
    assert result.missing == [("CSAT", "weight"), ("ENG_MTTR", "actual"), ("COMP_SKILL", "manager")]
    assert (result.total, result.grade, result.coefficient) == (None, None, None)
    assert not result.complete
    assert result.lines[0].score == 66.67 and result.lines[0].weighted is None  # score shown, weight missing
    assert result.lines[2].score is None
    assert result.subtotals["results"] is None and result.subtotals["attitude"] == 13.95


def test_line_missing_both_input_and_weight_reports_both(rulebook):
    lines = lines_for(rulebook, "engineer", ENGINEER)
    lines[2] = dataclasses.replace(lines[2], actual=None, weight=None)
    assert score_employee(rulebook, lines).missing == [("ENG_MTTR", "actual"), ("ENG_MTTR", "weight")]


def test_invalid_inputs_are_listed_not_raised(rulebook):
    lines = lines_for(rulebook, "engineer", ENGINEER)
    lines[5] = dataclasses.replace(lines[5], manager=7)              # rating out of 1-5
    lines[1] = dataclasses.replace(lines[1], weight=-15)             # negative weight
    lines.append(IndicatorLine("NOPE", 10, actual=1))                # not in the rulebook
    result = score_employee(rulebook, lines)
    assert [(p.code, p.name) for p in result.invalid] == [
        ("ENG_FIX_RATE", "weight"), ("COMP_SKILL", "manager"), ("NOPE", "code")]
    assert result.total is None and not result.complete
    assert all(p.message_zh and p.message_en for p in result.invalid)
