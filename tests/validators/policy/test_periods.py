"""Period parsing, labels, months and the quarter/half/year roll-ups."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpisheet.validators.policy.periods import (
    Period, PeriodError, half_score, months_of, parse_period, quarter_of, quarter_score, year_score,
)


@pytest.mark.parametrize(("text", "kind", "year", "index", "start", "end", "label", "canonical"), [
    ("2026-Q4", "quarter", 2026, 4, dt.date(2026, 10, 1), dt.date(2026, 12, 31), "2026年第4季度", "2026-Q4"),
    ("2026-11", "month", 2026, 11, dt.date(2026, 11, 1), dt.date(2026, 11, 30), "2026年11月", "2026-11"),
    ("2026-H2", "half", 2026, 2, dt.date(2026, 7, 1), dt.date(2026, 12, 31), "2026年下半年", "2026-H2"),
    ("2026", "year", 2026, 1, dt.date(2026, 1, 1), dt.date(2026, 12, 31), "2026年度", "2026"),
    ("2028-02", "month", 2028, 2, dt.date(2028, 2, 1), dt.date(2028, 2, 29), "2028年2月", "2028-02"),  # leap year
    ("2026-H1", "half", 2026, 1, dt.date(2026, 1, 1), dt.date(2026, 6, 30), "2026年上半年", "2026-H1"),
    ("2026-Q1", "quarter", 2026, 1, dt.date(2026, 1, 1), dt.date(2026, 3, 31), "2026年第1季度", "2026-Q1"),
])
def test_parse_canonical_forms(text, kind, year, index, start, end, label, canonical):
    period = parse_period(text)
    assert (period.kind, period.year, period.index) == (kind, year, index)
    assert (period.start, period.end) == (start, end)
    assert period.label_zh == label
    assert str(period) == canonical


@pytest.mark.parametrize(("text", "canonical"), [
    ("2026年第4季度", "2026-Q4"), ("2026年4季度", "2026-Q4"), ("2026q4", "2026-Q4"), ("２０２６－Ｑ４", "2026-Q4"),
    ("2026年11月", "2026-11"), ("2026/11", "2026-11"), ("2026-1", "2026-01"), (" 2026-04 ", "2026-04"),
    ("2026年下半年", "2026-H2"), ("2026年上半年", "2026-H1"), ("2026h2", "2026-H2"),
    ("2026年度", "2026"), ("2026年", "2026"),
])
def test_parse_what_hr_types(text, canonical):
    assert str(parse_period(text)) == canonical


@pytest.mark.parametrize("text", ["2026-Q5", "2026-Q0", "2026-13", "2026-00", "2026-H3", "26-Q1", "Q4 2026",
                                  "", "abc", "2026-11-05", "二〇二六年"])
def test_bad_text_is_refused_in_both_languages(text):
    with pytest.raises(PeriodError) as info:
        parse_period(text)
    message = str(info.value)
    assert "2026-Q4（季度）" in message and "2026-Q4 (quarter)" in message
    assert isinstance(info.value, ValueError)


def test_non_text_is_refused():
    with pytest.raises(PeriodError):
        parse_period(202604)


@given(st.sampled_from(["month", "quarter", "half", "year"]), st.integers(1990, 2100), st.data())
def test_canonical_and_chinese_labels_round_trip(kind, year, data):
    index = data.draw(st.integers(1, {"month": 12, "quarter": 4, "half": 2, "year": 1}[kind]))
    period = Period(kind, year, index)
    assert parse_period(str(period)) == period
    assert parse_period(period.label_zh) == period
    months = period.months
    assert months[0].start == period.start and months[-1].end == period.end
    assert all((b.start - a.end).days == 1 for a, b in zip(months, months[1:]))  # no gap, no overlap


def test_months_and_quarters():
    assert [str(m) for m in months_of("2026-Q4")] == ["2026-10", "2026-11", "2026-12"]
    assert len(months_of("2026")) == 12
    assert [str(q) for q in parse_period("2026-H2").quarters] == ["2026-Q3", "2026-Q4"]
    assert str(quarter_of("2026-11")) == "2026-Q4"
    assert str(quarter_of("2026-03")) == "2026-Q1"
    assert str(quarter_of(dt.date(2026, 7, 1))) == "2026-Q3"
    with pytest.raises(PeriodError):
        quarter_of("2026-Q4")


def test_quarter_is_the_mean_of_months_with_data(rulebook):
    months = {"2026-10": 80.0, "2026-11": 90.0, "2026-12": 85.0, "2026-09": 10.0}  # September is Q3: ignored
    assert quarter_score(months, "2026-Q4", rulebook) == 85.0
    assert quarter_score({"2026-10": 80.0, "2026-11": None, "2026-12": 91.0}, "2026-Q4", rulebook) == 85.5
    assert quarter_score({"2026-10": 80.0, "2026-11": 85.0, "2026-12": 85.0}, "2026-Q4", rulebook) == 83.33
    assert quarter_score({"2026-10": 70.0, "2026-11": 70.01}, "2026-Q4", rulebook) == 70.01  # 70.005 half-up
    assert quarter_score({"2026-09": 80.0}, "2026-Q4", rulebook) is None
    assert quarter_score({parse_period("2026-12"): 77.0}, parse_period("2026-Q4"), rulebook) == 77.0


def test_half_is_the_mean_of_its_quarters(rulebook):
    assert half_score({"2026-Q3": 80.0, "2026-Q4": 91.0, "2026-Q1": 0.0}, "2026-H2", rulebook) == 85.5
    assert half_score({"2026-Q1": 80.0}, "2026-H2", rulebook) is None


def test_year_uses_year_weights_renormalised(rulebook):
    quarters = {"2026-Q1": 80.0, "2026-Q2": 84.0, "2026-Q3": 88.0, "2026-Q4": 92.0, "2025-Q4": 0.0}
    assert year_score(quarters, "2026", rulebook) == 86.0             # 25/25/25/25: plain mean
    assert year_score({"2026-Q1": 80.0, "2026-Q2": 90.0}, "2026", rulebook) == 85.0  # Q3, Q4 left out
    assert year_score({}, "2026", rulebook) is None

    weights = {"Q1": 10, "Q2": 20, "Q3": 30, "Q4": 40}
    weighted = rulebook.model_copy(update={"periods": rulebook.periods.model_copy(update={"year_weights": weights})})
    # (10x80 + 20x84 + 30x88 + 40x92) / 100 = 88
    assert year_score(quarters, "2026", weighted) == 88.0
    # Q4 missing: (10x80 + 20x84 + 30x88) / 60 = 85.33
    assert year_score({k: v for k, v in quarters.items() if k != "2026-Q4"}, "2026", weighted) == 85.33

    zero_q4 = rulebook.model_copy(update={"periods": rulebook.periods.model_copy(
        update={"year_weights": {"Q1": 40, "Q2": 30, "Q3": 30, "Q4": 0}})})
    assert year_score({"2026-Q4": 95.0}, "2026", zero_q4) is None


def test_roll_up_refuses_the_wrong_kind_of_period(rulebook):
    with pytest.raises(PeriodError):
        quarter_score({"2026-10": 80.0}, "2026", rulebook)
    with pytest.raises(PeriodError):
        year_score({"2026-Q1": 80.0}, "2026-Q1", rulebook)
