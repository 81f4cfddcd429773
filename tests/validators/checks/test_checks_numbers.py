"""What a manager meant when a number cell holds text."""

from __future__ import annotations

import pytest

from kpisheet.validators.checks.numbers import is_blank, is_number, read_text_number, show_number


@pytest.mark.parametrize("raw, percent, probable, problem", [
    ("９５", False, 95, "全角"),
    ("95%", True, 0.95, "百分号"),
    ("98.96%", True, 0.9896, "百分号"),
    ("约90", True, 0.90, "约"),
    ("大约 6", False, 6, "大约"),
    ("约为6", False, 6, "约为"),
    ("6左右", False, 6, "左右"),
    (" 97.13 ", True, 0.9713, "空格"),
    ("0.95", True, 0.95, "文本格式"),
    ("１００", True, 1.0, "全角"),
    ("1,200", False, 1200, "千位"),
    ("-3", False, -3, "文本格式"),
])
def test_text_numbers_are_read_as_meant(raw, percent, probable, problem):
    parsed = read_text_number(raw, percent=percent)
    assert parsed.probable == pytest.approx(probable)
    assert problem in parsed.problem_zh
    assert parsed.problem_en


@pytest.mark.parametrize("raw", ["优", "n/a", "95-98", "", "..."])
def test_text_without_a_number_says_so(raw):
    parsed = read_text_number(raw, percent=True)
    assert parsed.probable is None
    assert parsed.problem_zh == "不是数字"


def test_percent_text_below_one_stays_a_fraction():
    assert read_text_number("0.5", percent=True).probable == 0.5
    assert read_text_number("50", percent=True).probable == 0.5


def test_blank_and_number():
    assert is_blank("") and is_blank("   ") and is_blank(None)
    assert not is_blank(0) and not is_blank("0")
    assert is_number(3.0) and is_number(0) and not is_number(True) and not is_number("3")
    assert not is_number(float("nan"))


def test_show_number():
    assert show_number(0.95, percent=True) == "0.95 (95%)"
    assert show_number(6.0, percent=False) == "6"
