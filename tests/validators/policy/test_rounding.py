"""The one rounding rule and the tolerance derived from it (docs/design.md, Rounding / 舍入规则)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kpisheet.validators.policy.rounding import (
    NOISE_DECIMALS, accepts, decimal_value, noise, round_half_up, round_rule,
)


@pytest.mark.parametrize(("value", "expected"), [
    (0.9513, "0.9513"),
    (95.13 / 100, "0.9513"),                 # a binary 0.9513000000000001 stands for 0.9513
    (100 * (0.9513 - 0.9) / (0.98 - 0.9), "64.125"),  # binary 64.12499999999999
    (1e12, "1.00000000000000E+12"),
    (7, "7"),
])
def test_a_cell_number_stands_for_its_15_digit_decimal(value, expected):
    assert decimal_value(value) == Decimal(expected)


@pytest.mark.parametrize(("exact", "decimals", "expected"), [
    ("64.125", 2, "64.13"),                  # an exact tie rounds up
    ("64.135", 2, "64.14"),
    ("63.875", 2, "63.88"),
    ("-2.675", 2, "-2.68"),                  # half away from zero, like ROUND
    ("66.6666666666666666", 2, "66.67"),
    ("64.1249999999", 2, "64.12"),           # below the tie at 10 places
    ("64.12499999995", 2, "64.13"),          # a tie at 10 places: the first step rounds it up
    ("82.5", 0, "83"),
])
def test_the_rule_is_half_up_on_the_decimal_value(exact, decimals, expected):
    assert round_rule(Decimal(exact), decimals) == Decimal(expected)


def test_binary_noise_never_moves_a_tie():
    """Every typed 2-decimal percentage at ENG_RESP's defaults: the binary result, decimalised,
    rounds as the exact value does."""
    for k in range(9000, 10001):
        binary = 100 * (k / 10000 - 0.9) / (0.98 - 0.9)
        exact = 100 * (Decimal(k) / 10000 - Decimal("0.9")) / Decimal("0.08")
        assert round_half_up(binary, 2) == float(round_rule(exact, 2)), k


def test_noise_stays_below_half_a_unit_at_the_first_rounding():
    half_unit = Decimal(1).scaleb(-NOISE_DECIMALS) / 2
    for magnitude in ("0", "1", "120", "999.99"):
        assert noise(Decimal(magnitude)) < half_unit


def test_a_cached_tie_must_be_rounded_up():
    tie = Decimal("64.125")
    assert accepts(64.13, tie, 2)
    assert not accepts(64.12, tie, 2)        # what LibreOffice's ROUND(x, 2) alone gave
    assert not accepts(64.125, tie, 2)       # not rounded at all


def test_a_cent_off_is_rejected_away_from_boundaries():
    exact = Decimal("83.3333333333333333")
    assert accepts(83.33, exact, 2)
    assert not accepts(83.34, exact, 2)
    assert not accepts(83.32, exact, 2)


def test_only_a_value_within_noise_of_a_10_place_boundary_may_round_either_way():
    edge = Decimal("64.12499999995")         # exactly halfway at 10 places
    assert accepts(64.13, edge, 2) and accepts(64.12, edge, 2)
    assert not accepts(64.11, edge, 2)


def test_unrounded_values_are_compared_within_the_noise():
    exact = Decimal("6.4125")
    assert accepts(6.4125, exact)
    assert accepts(64.125 * 10 / 100, exact)  # the spreadsheet's binary product
    assert not accepts(6.4126, exact)
    assert not accepts(6.41, exact)


def test_non_numbers_are_never_accepted():
    assert not accepts(float("nan"), Decimal("1"), 2)
    assert not accepts(float("inf"), Decimal("1"))
