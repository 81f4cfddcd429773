"""Chinese working days across real 2026 holidays and make-up working days, and appeal deadlines.

2026 schedule (State Council, as published by chinesecalendar): Spring Festival
Feb 15-23 off, Sat Feb 14 and Sat Feb 28 worked; Mid-Autumn Sep 25-27 off;
National Day Oct 1-7 off, Sun Sep 20 and Sat Oct 10 worked.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpisheet.validators.policy.workdays import (
    CalendarError, CalendarRangeError, add_workdays, appeal_deadlines, is_workday, known_years,
    workdays_between,
)

D = dt.date


@pytest.mark.parametrize(("day", "works"), [
    (D(2026, 9, 20), True),    # Sunday, make-up working day for National Day
    (D(2026, 10, 10), True),   # Saturday, make-up working day
    (D(2026, 10, 1), False),
    (D(2026, 10, 7), False),   # Wednesday, still National Day
    (D(2026, 10, 8), True),
    (D(2026, 10, 11), False),  # ordinary Sunday
    (D(2026, 9, 25), False),   # Friday, Mid-Autumn
    (D(2026, 2, 14), True),    # Saturday, make-up for Spring Festival
    (D(2026, 2, 16), False),   # Monday, Spring Festival
    (D(2026, 2, 23), False),
    (D(2026, 2, 24), True),
    (D(2026, 2, 28), True),    # Saturday, make-up
    (D(2026, 11, 25), True),   # an ordinary Wednesday
    (dt.datetime(2026, 10, 3, 9, 30), False),  # datetimes count by their date
])
def test_is_workday(day, works):
    assert is_workday(day) is works


@pytest.mark.parametrize(("start", "n", "expected"), [
    (D(2026, 9, 30), 5, D(2026, 10, 13)),   # Oct 8, 9, 10 (Sat, make-up), 12, 13
    (D(2026, 9, 18), 5, D(2026, 9, 24)),    # Sep 20 (Sun, make-up), 21, 22, 23, 24
    (D(2026, 9, 24), 5, D(2026, 10, 9)),    # Sep 28, 29, 30, Oct 8, 9: both holidays skipped
    (D(2026, 10, 3), 1, D(2026, 10, 8)),    # counting from inside the holiday
    (D(2026, 2, 12), 5, D(2026, 2, 26)),    # Feb 13, 14 (Sat, make-up), 24, 25, 26
    (D(2026, 2, 13), 6, D(2026, 2, 28)),    # ... 27, then Sat Feb 28 (make-up)
    (D(2026, 11, 20), 3, D(2026, 11, 25)),  # Fri -> Mon, Tue, Wed
    (D(2026, 11, 20), 0, D(2026, 11, 20)),
    (D(2026, 10, 12), -2, D(2026, 10, 9)),  # back over Sat Oct 10 (worked) and Sun Oct 11
])
def test_add_workdays(start, n, expected):
    assert add_workdays(start, n) == expected


def test_workdays_between():
    assert workdays_between(D(2026, 9, 30), D(2026, 10, 13)) == 5
    assert workdays_between(D(2026, 10, 1), D(2026, 10, 7)) == 0
    assert workdays_between(D(2026, 2, 13), D(2026, 2, 28)) == 6
    assert workdays_between(D(2026, 10, 13), D(2026, 9, 30)) == -5
    assert workdays_between(D(2026, 5, 6), D(2026, 5, 6)) == 0


@given(st.dates(min_value=D(2024, 1, 1), max_value=D(2026, 10, 31)), st.integers(0, 40))
def test_workdays_between_inverts_add_workdays(start, n):
    end = add_workdays(start, n)
    assert workdays_between(start, end) == n
    assert n == 0 or is_workday(end)


def test_dates_outside_the_calendar_raise_instead_of_guessing():
    first, last = known_years()
    assert first <= 2026 <= last
    with pytest.raises(CalendarRangeError) as info:
        is_workday(D(last + 1, 1, 4))
    assert str(last + 1) in info.value.message_zh and "chinesecalendar" in info.value.message_en
    with pytest.raises(CalendarRangeError):
        add_workdays(D(last, 12, 28), 10)   # runs into the unknown year
    with pytest.raises(CalendarRangeError):
        workdays_between(D(first - 1, 12, 1), D(first, 1, 10))


def test_appeal_deadlines_over_national_day(rulebook):
    # published Wed Sep 30: file by the 5th working day, Tue Oct 13
    on_time = appeal_deadlines(D(2026, 9, 30), D(2026, 10, 13), rulebook)
    assert on_time.file_by == D(2026, 10, 13)
    assert on_time.filed_late is False
    assert on_time.accept_by == D(2026, 10, 16)     # 3 working days after filing
    assert on_time.resolve_by == D(2026, 10, 30)    # 10 working days after the accept-by date
    assert (on_time.accepted_late, on_time.resolved_late) == (None, None)

    late = appeal_deadlines(D(2026, 9, 30), D(2026, 10, 14), rulebook)
    assert late.filed_late is True


def test_appeal_deadlines_with_acceptance_and_resolution(rulebook):
    d = appeal_deadlines(D(2026, 2, 12), D(2026, 2, 14), rulebook,
                         accepted=D(2026, 2, 24), resolved=D(2026, 3, 11))
    assert d.file_by == D(2026, 2, 26)              # over Spring Festival, with Sat Feb 14 worked
    assert d.filed_late is False
    assert d.accept_by == D(2026, 2, 26)            # Feb 24, 25, 26
    assert d.accepted_late is False
    assert d.resolve_by == D(2026, 3, 9)            # from Feb 24: 25, 26, 27, 28 (Sat), Mar 2, 3, 4, 5, 6, 9
    assert d.resolved_late is True
    on_time = appeal_deadlines(D(2026, 2, 12), D(2026, 2, 14), rulebook,
                               accepted=D(2026, 2, 24), resolved=D(2026, 3, 9))
    assert on_time.resolved_late is False


def test_not_yet_filed(rulebook):
    d = appeal_deadlines(D(2026, 11, 20), None, rulebook)
    assert d.file_by == D(2026, 11, 27)
    assert (d.filed_late, d.accept_by, d.resolve_by) == (None, None, None)


def test_deadlines_follow_the_rulebook(rulebook):
    longer = rulebook.model_copy(update={"appeals": rulebook.appeals.model_copy(update={"file_within_workdays": 7})})
    assert appeal_deadlines(D(2026, 9, 30), None, longer).file_by == D(2026, 10, 15)


@pytest.mark.parametrize(("published", "filed", "extra"), [
    (D(2026, 10, 13), D(2026, 10, 12), {}),                               # filed before publication
    (D(2026, 10, 13), D(2026, 10, 14), {"accepted": D(2026, 10, 13)}),    # accepted before filing
    (D(2026, 10, 13), None, {"accepted": D(2026, 10, 15)}),               # accepted, never filed
])
def test_impossible_appeal_dates_are_refused(rulebook, published, filed, extra):
    with pytest.raises(CalendarError) as info:
        appeal_deadlines(published, filed, rulebook, **extra)
    assert info.value.message_zh and info.value.message_en
