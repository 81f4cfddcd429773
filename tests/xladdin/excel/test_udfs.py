"""Worksheet functions: the engine's numbers on golden cases, Excel-style errors on bad input."""

from __future__ import annotations

import inspect

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kpisheet.validators.policy import grading, scoring
from kpisheet.validators.rulebook.model import METHOD_LABELS, Method
from kpisheet.xladdin.excel import udfs
from kpisheet.xladdin.excel.rulebook_source import RULEBOOK_ENV

ALL_UDFS = [udfs.KPI_SCORE, udfs.KPI_INDICATOR_SCORE, udfs.KPI_RATING, udfs.KPI_WEIGHTED, udfs.KPI_GRADE,
            udfs.KPI_COEFF, udfs.KPI_BONUS, udfs.KPI_ROUND, udfs.KPI_RULEBOOK]


@pytest.fixture(autouse=True)
def _default_rulebook(monkeypatch):
    monkeypatch.delenv(RULEBOOK_ENV, raising=False)


def is_error(value, kind="#VALUE!") -> bool:
    return isinstance(value, str) and value.startswith(kind + " ")


# (method, actual, floor, target, challenge) -> score worked out by hand with cap 120
HAND_COMPUTED = [
    (("higher_better", 0.93, 0.80, 0.95, 1.0), 86.67),   # 100 * 0.13 / 0.15
    (("higher_better", 0.98, 0.80, 0.95, 1.0), 112.0),   # 100 + 20 * 0.03 / 0.05
    (("higher_better", 1.20, 0.80, 0.95, 1.0), 120.0),   # capped
    (("higher_better", 0.70, 0.80, 0.95, 1.0), 0.0),     # below the floor
    (("lower_better", 5, 8, 4, 2), 75.0),                # 100 * (8 - 5) / (8 - 4)
    (("lower_better", 3, 8, 4, 2), 110.0),               # 100 + 20 * (4 - 3) / (4 - 2)
    (("deduction", 7, None, None, None), 93.0),
    (("deduction", 130, None, None, None), 0.0),         # never below 0
    (("count", 3, None, 4, None), 75.0),
    (("rating", 4, None, None, None), 80.0),
]


@pytest.mark.parametrize("args, expected", HAND_COMPUTED)
def test_kpi_score_hand_computed(args, expected):
    assert udfs.KPI_SCORE(*args) == expected


@pytest.mark.parametrize("args, _", HAND_COMPUTED)
def test_kpi_score_equals_the_core_engine(args, _, rulebook):
    method, actual, floor, target, challenge = args
    s = rulebook.scoring
    kwargs = {"manager": actual} if method == "rating" else {"actual": actual}
    core = scoring.indicator_score(method, floor=floor, target=target, challenge=challenge, cap=s.cap,
                                   points=s.rating_points, self_weight=s.self_weight, decimals=s.decimals,
                                   **kwargs)
    assert udfs.KPI_SCORE(*args) == core


@pytest.mark.parametrize("method", list(Method))
def test_method_accepted_as_code_chinese_and_english_label(method):
    zh, en = METHOD_LABELS[method]
    args = {
        Method.higher_better: (0.9, 0.8, 0.95, 1.0),
        Method.lower_better: (5, 8, 4, 2),
        Method.deduction: (3, None, None, None),
        Method.rating: (3, None, None, None),
        Method.count: (2, None, 4, None),
    }[method]
    by_code = udfs.KPI_SCORE(method.value, *args)
    assert isinstance(by_code, float)
    assert udfs.KPI_SCORE(zh, *args) == by_code
    assert udfs.KPI_SCORE(en.upper(), *args) == by_code
    assert udfs.KPI_SCORE(f"  {method.value.replace('_', '-')} ", *args) == by_code


def test_indicator_score_uses_rulebook_targets_where_blank(rulebook):
    for ind in rulebook.indicators:
        actual = 4 if ind.is_rating else (ind.target if ind.target is not None else 2)
        line = grading.IndicatorLine(ind.code, 10, actual=None if ind.is_rating else actual,
                                     floor=ind.floor, target=ind.target, challenge=ind.challenge,
                                     manager=actual if ind.is_rating else None)
        expected = grading.score_line(rulebook, line).score
        assert udfs.KPI_INDICATOR_SCORE(ind.code, actual) == expected, ind.code
        assert udfs.KPI_INDICATOR_SCORE(ind.name_zh, actual) == expected, ind.name_zh
    # a given target overrides the rulebook's: CSAT at 0.93 against target 0.93 is 100
    assert udfs.KPI_INDICATOR_SCORE("CSAT", 0.93, None, 0.93) == 100.0


def test_grade_coefficient_bonus_round_weighted(rulebook):
    assert [udfs.KPI_GRADE(t) for t in (90, 89.99, 80, 70, 60, 59.99)] == ["S", "A", "A", "B", "C", "D"]
    assert [udfs.KPI_GRADE(t) for t in (95, 75.5)] == [grading.grade_for(rulebook, t) for t in (95, 75.5)]
    assert udfs.KPI_GRADE(95, "安全事故") == "D"           # a rulebook veto by its Chinese name
    assert udfs.KPI_GRADE(95, "safety_incident") == "D"    # or its code
    assert udfs.KPI_GRADE(95, "无") == "S" and udfs.KPI_GRADE(95, None) == "S"
    assert [udfs.KPI_COEFF(g) for g in "SABCD"] == [1.3, 1.15, 1.0, 0.8, 0.5]
    assert udfs.KPI_COEFF("a") == 1.15
    assert udfs.KPI_BONUS(2) == 2.0 and udfs.KPI_BONUS(7) == 5.0 and udfs.KPI_BONUS(None) == 0.0
    assert udfs.KPI_ROUND(2.675) == 2.68          # Python's round() gives 2.67
    assert udfs.KPI_ROUND(-2.5, 0) == -3.0 and udfs.KPI_ROUND(0.125, 2) == 0.13
    # 86.67 x 10% + 100 x 20% = 28.667 -> 28.67; a column range arrives as a list of rows
    assert udfs.KPI_WEIGHTED([[86.67], [100.0]], [[10.0], [20.0]]) == 28.67
    assert udfs.KPI_WEIGHTED([86.67, None, 100.0], [10.0, None, 20.0]) == 28.67  # blank pairs skipped
    assert udfs.KPI_WEIGHTED(80.0, 50.0) == 40.0  # single cells
    assert udfs.KPI_RATING(3) == 60.0 and udfs.KPI_RATING(5) == 100.0


def test_weighted_equals_the_grading_total(rulebook):
    lines = [grading.IndicatorLine(ind.code, weight,
                                   actual=None if ind.is_rating else (ind.target if ind.target is not None else 0),
                                   floor=ind.floor, target=ind.target, challenge=ind.challenge,
                                   manager=3 if ind.is_rating else None)
             for ind, weight in rulebook.role_indicators("engineer")]
    result = grading.score_employee(rulebook, lines, commendations=0)
    scores = [r.score for r in result.lines]
    weights = [line.weight for line in lines]
    assert udfs.KPI_WEIGHTED(scores, weights) == result.total


BAD_INPUT = [
    (lambda: udfs.KPI_SCORE("bogus", 1, 2, 3, 4), "#VALUE!", ("评分方法", "scoring method")),
    (lambda: udfs.KPI_SCORE(None, 1, 2, 3, 4), "#N/A", ("评分方法", "scoring method")),
    (lambda: udfs.KPI_SCORE("higher_better", "95%", 0.8, 0.95, 1.0), "#VALUE!", ("实际值", "actual value")),
    (lambda: udfs.KPI_SCORE("higher_better", True, 0.8, 0.95, 1.0), "#VALUE!", ("实际值", "actual value")),
    (lambda: udfs.KPI_SCORE("higher_better", None, 0.8, 0.95, 1.0), "#N/A", ("实际值", "actual value")),
    (lambda: udfs.KPI_SCORE("higher_better", 0.9, 0.8, None, 1.0), "#N/A", ("目标值", "target")),
    (lambda: udfs.KPI_SCORE("higher_better", 0.9, 0.95, 0.8, 1.0), "#VALUE!", ("顺序", "out of order")),
    (lambda: udfs.KPI_SCORE("rating", 6), "#VALUE!", ("1-5", "1-5")),
    (lambda: udfs.KPI_SCORE("rating", 2.5), "#VALUE!", ("整数", "whole number")),
    (lambda: udfs.KPI_SCORE("deduction", -1), "#VALUE!", ("负数", "negative")),
    (lambda: udfs.KPI_SCORE("count", 3, None, 0), "#VALUE!", ("大于 0", "above 0")),
    (lambda: udfs.KPI_INDICATOR_SCORE("NOPE", 1), "#VALUE!", ("NOPE", "NOPE")),
    (lambda: udfs.KPI_GRADE("优秀"), "#VALUE!", ("总分", "total")),
    (lambda: udfs.KPI_GRADE(95, "安全事件"), "#VALUE!", ("一票否决", "veto")),
    (lambda: udfs.KPI_COEFF("Z"), "#VALUE!", ("S/A/B/C/D", "S/A/B/C/D")),
    (lambda: udfs.KPI_COEFF(""), "#N/A", ("等级", "grade")),
    (lambda: udfs.KPI_WEIGHTED([90.0, 80.0], [50.0]), "#VALUE!", ("区域大小", "same size")),
    (lambda: udfs.KPI_WEIGHTED([90.0, None], [50.0, 50.0]), "#N/A", ("第 2 个得分", "score #2")),
    (lambda: udfs.KPI_BONUS(-1), "#VALUE!", ("负数", "negative")),
    (lambda: udfs.KPI_ROUND(1.5, 2.5), "#VALUE!", ("小数位数", "decimals")),
]


@pytest.mark.parametrize("call, kind, words", BAD_INPUT)
def test_bad_input_gives_excel_style_error_naming_the_argument(call, kind, words):
    result = call()
    assert is_error(result, kind), result
    zh, en = words
    assert zh in result and en in result and " / " in result


def test_rulebook_from_environment_variable(tmp_path, monkeypatch, rulebook):
    data = rulebook.model_dump(mode="json")
    data["scoring"]["cap"] = 150
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv(RULEBOOK_ENV, str(path))
    assert udfs.KPI_SCORE("higher_better", 1.0, 0.8, 0.95, 1.0) == 150.0
    assert "aftersales-default" in udfs.KPI_RULEBOOK()

    monkeypatch.setenv(RULEBOOK_ENV, str(tmp_path / "missing.yaml"))
    result = udfs.KPI_SCORE("higher_better", 1.0, 0.8, 0.95, 1.0)
    assert is_error(result) and RULEBOOK_ENV in result and "missing.yaml" in result

    path.write_text("scoring: [unclosed", encoding="utf-8")
    monkeypatch.setenv(RULEBOOK_ENV, str(path))
    assert is_error(udfs.KPI_GRADE(90))


def test_udfs_have_no_annotations_for_xlwings_to_convert():
    # xlwings turns annotations into converters, which would fail on text before our checks
    for function in ALL_UDFS:
        signature = inspect.signature(function)
        assert all(p.annotation is inspect.Parameter.empty for p in signature.parameters.values()), function
        assert signature.return_annotation is inspect.Signature.empty, function
        assert function.__doc__ and "/" in function.__doc__  # bilingual function-wizard text


anything = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
                     st.integers(-10**6, 10**6), st.text(max_size=8),
                     st.lists(st.one_of(st.none(), st.floats(-1e3, 1e3), st.text(max_size=3)), max_size=4))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_UDFS), st.lists(anything, min_size=0, max_size=5))
def test_udfs_never_raise(function, args):
    parameters = inspect.signature(function).parameters
    required = sum(p.default is inspect.Parameter.empty for p in parameters.values())
    args = (args + [None] * len(parameters))[:max(required, min(len(args), len(parameters)))]
    result = function(*args)
    assert isinstance(result, (float, str)), result
    if isinstance(result, str) and result.startswith("#"):
        assert result.split(" ", 1)[0] in ("#VALUE!", "#N/A")
