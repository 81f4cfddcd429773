"""Chinese working days for deadlines, from the maintained ``chinesecalendar`` package and the
schedules HR copies into the rulebook.

A working day is Monday to Friday unless it is a public holiday, plus the
make-up working days (调休) the State Council moves onto weekends. The package
publishes each year's schedule once it is announced; until a release carries
it, HR copies the State Council's notice into the rulebook's ``holidays``
section (:class:`kpisheet.validators.rulebook.model.HolidayYear`), which then
decides that year: HR's copy of the notice wins over the package for the
years it lists. A date in a year neither knows raises
:class:`CalendarRangeError` instead of guessing, because a guessed deadline
could wrongly mark an appeal late.

Callers that must produce a date anyway (a 2026-Q4 appeal runs into January
2027) pass ``estimate=True``: a year nobody knows then counts Monday to
Friday, and :func:`estimated_years` / :func:`estimate_note` name the years so
HR sees "estimated, verify by hand" where HR looks (申诉, ``kpisheet
appeals``). An employee's notice shows the date without that caveat: it is
HR's to check, not the employee's. The package itself carries no
hand-written table.

Counting convention: "within n working days of X" ends on the n-th working day
after X; X itself is never counted, whether or not it is a working day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping

import chinese_calendar

from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.errors import KpisheetError

_ONE_DAY = dt.timedelta(days=1)


class CalendarError(KpisheetError, ValueError):
    """A date problem, in Chinese and English."""

    code = "calendar"
    title_zh, title_en = "日期问题", "date problem"
    description = "A date cannot be placed in the working-day calendar (e.g. an appeal date before publication)."


@dataclass(frozen=True)
class HolidaySchedules:
    """The schedules HR supplied: year -> (days off, make-up working days)."""

    years: Mapping[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = field(default_factory=dict)

    @classmethod
    def of(cls, rulebook: Rulebook | None) -> HolidaySchedules:
        if rulebook is None:
            return NO_SCHEDULES
        return cls({h.year: (frozenset(h.holidays), frozenset(h.workdays)) for h in rulebook.holidays})


NO_SCHEDULES = HolidaySchedules()


class CalendarRangeError(CalendarError):
    """The date is in a year neither the holiday package nor the rulebook covers."""

    code = "calendar-range"
    title_zh, title_en = "节假日日历未覆盖该年", "year not in the holiday calendar"
    description = "The holiday calendar does not know the year, so working days cannot be counted exactly."

    def __init__(self, day: dt.date):
        first, last = known_years()
        super().__init__(
            f"节假日日历只覆盖 {first}–{last} 年，规则表也没有 {day.year} 年的节假日安排，无法确定 {day.isoformat()} "
            f"是否为工作日；请升级 chinesecalendar 包（pip install -U chinesecalendar），或把国务院办公厅的 "
            f"{day.year} 年节假日通知填入规则表的 holidays",
            f"the holiday calendar covers {first}-{last} only and the rulebook has no {day.year} schedule, so "
            f"whether {day.isoformat()} is a working day is unknown; upgrade the chinesecalendar package "
            f"(pip install -U chinesecalendar) or copy the State Council's {day.year} notice into the "
            f"rulebook's holidays",
        )
        self.day = day


@lru_cache(maxsize=1)
def known_years() -> tuple[int, int]:
    """The first and last year the installed holiday package covers."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


def _as_date(day: dt.date) -> dt.date:
    return day.date() if isinstance(day, dt.datetime) else day


def is_known_year(year: int, schedules: HolidaySchedules = NO_SCHEDULES) -> bool:
    """Whether the rulebook's schedules or the holiday package know ``year``."""
    first, last = known_years()
    return year in schedules.years or first <= year <= last


def is_workday(day: dt.date, *, estimate: bool = False, schedules: HolidaySchedules = NO_SCHEDULES) -> bool:
    """True on a Chinese working day, including make-up working days on weekends.

    A year in ``schedules`` (HR's copy of the notice) is decided by it; other
    years by the package. In a year neither knows: CalendarRangeError, or with
    ``estimate`` Monday to Friday (mark the result with :func:`estimate_note`).
    """
    day = _as_date(day)
    supplied = schedules.years.get(day.year)
    if supplied is not None:
        days_off, make_up = supplied
        return day in make_up or (day.weekday() < 5 and day not in days_off)
    if not is_known_year(day.year):
        if estimate:
            return day.weekday() < 5
        raise CalendarRangeError(day)
    return chinese_calendar.is_workday(day)


def add_workdays(start: dt.date, n: int, *, estimate: bool = False,
                 schedules: HolidaySchedules = NO_SCHEDULES) -> dt.date:
    """The n-th working day after ``start`` (before it when n < 0); ``start`` itself for n = 0."""
    day = _as_date(start)
    step = _ONE_DAY if n >= 0 else -_ONE_DAY
    remaining = abs(n)
    while remaining:
        day += step
        if is_workday(day, estimate=estimate, schedules=schedules):
            remaining -= 1
    return day


def workdays_between(start: dt.date, end: dt.date, *, estimate: bool = False,
                     schedules: HolidaySchedules = NO_SCHEDULES) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when end < start).

    The inverse of :func:`add_workdays`: workdays_between(s, add_workdays(s, n)) == n.
    """
    start, end = _as_date(start), _as_date(end)
    if end < start:
        return -workdays_between(end, start, estimate=estimate, schedules=schedules)
    count = 0
    day = start
    while day < end:
        day += _ONE_DAY
        count += is_workday(day, estimate=estimate, schedules=schedules)
    return count


def estimated_years(*days: dt.date | None, schedules: HolidaySchedules = NO_SCHEDULES) -> tuple[int, ...]:
    """The years nobody knows that a count over the span of ``days`` touches."""
    known = [_as_date(d) for d in days if d is not None]
    if not known:
        return ()
    return tuple(y for y in range(min(known).year, max(known).year + 1) if not is_known_year(y, schedules))


def estimate_note(years: tuple[int, ...] | list[int]) -> tuple[str, str]:
    """("", "") when nothing was estimated; else the note for HR beside the dates (never for an employee)."""
    if not years:
        return "", ""
    listed = "、".join(map(str, years))
    return (f"{listed} 年节假日安排未收录（chinesecalendar 与规则表均无），按周一至周五估算，请人工核对；"
            f"国务院通知发布后填入规则表 holidays 即按实际安排计算",
            f"holiday calendar for {', '.join(map(str, years))} not available (neither chinesecalendar nor the "
            f"rulebook has it); estimated with Mon-Fri, verify by hand; once the State Council's notice is out, "
            f"add it to the rulebook's holidays")


@dataclass(frozen=True)
class AppealDeadlines:
    """An appeal's deadlines; a ``*_late`` flag is None until the matching date is known."""

    published: dt.date
    file_by: dt.date
    filed: dt.date | None
    filed_late: bool | None
    accept_by: dt.date | None
    accepted: dt.date | None
    accepted_late: bool | None
    resolve_by: dt.date | None
    resolved: dt.date | None
    resolved_late: bool | None
    estimated_years: tuple[int, ...] = ()  # years counted Mon-Fri for want of a holiday calendar

    @property
    def estimated(self) -> bool:
        return bool(self.estimated_years)


def _not_before(later: dt.date | None, earlier: dt.date, later_zh: str, later_en: str,
                earlier_zh: str, earlier_en: str) -> None:
    if later is not None and later < earlier:
        raise CalendarError(f"{later_zh}（{later.isoformat()}）早于{earlier_zh}（{earlier.isoformat()}）",
                            f"the {later_en} date ({later.isoformat()}) is before the {earlier_en} "
                            f"date ({earlier.isoformat()})")


def appeal_deadlines(
    published: dt.date,
    filed: dt.date | None,
    rulebook: Rulebook,
    *,
    accepted: dt.date | None = None,
    resolved: dt.date | None = None,
    estimate: bool = False,
) -> AppealDeadlines:
    """Deadlines of an appeal, in working days per ``rulebook.appeals``.

    The employee files within ``file_within_workdays`` of publication; HR accepts
    within ``accept_within_workdays`` of filing and resolves within
    ``resolve_within_workdays`` of acceptance (of the accept-by date while the
    acceptance date is unknown, the latest the clock can start).

    With ``estimate``, years the calendar does not know count Monday to Friday
    and ``estimated_years`` names them; without it they raise CalendarRangeError.
    """
    rules = rulebook.appeals
    schedules = HolidaySchedules.of(rulebook)
    published = _as_date(published)
    filed = _as_date(filed) if filed else None
    accepted = _as_date(accepted) if accepted else None
    resolved = _as_date(resolved) if resolved else None
    _not_before(filed, published, "申诉日期", "filing", "结果公布日期", "publication")
    if filed is None and (accepted or resolved):
        raise CalendarError("尚未填写申诉日期，不能有受理或处理日期",
                            "an appeal without a filing date cannot be accepted or resolved")
    if filed:
        _not_before(accepted, filed, "受理日期", "acceptance", "申诉日期", "filing")
        _not_before(resolved, accepted or filed, "处理完毕日期", "resolution", "受理日期", "acceptance")

    file_by = add_workdays(published, rules.file_within_workdays, estimate=estimate, schedules=schedules)
    accept_by = (add_workdays(filed, rules.accept_within_workdays, estimate=estimate, schedules=schedules)
                 if filed else None)
    resolve_from = accepted or accept_by
    resolve_by = (add_workdays(resolve_from, rules.resolve_within_workdays, estimate=estimate, schedules=schedules)
                  if resolve_from else None)

    def late(actual: dt.date | None, deadline: dt.date | None) -> bool | None:
        return None if actual is None or deadline is None else actual > deadline

    return AppealDeadlines(
        published=published,
        file_by=file_by,
        filed=filed,
        filed_late=late(filed, file_by),
        accept_by=accept_by,
        accepted=accepted,
        accepted_late=late(accepted, accept_by),
        resolve_by=resolve_by,
        resolved=resolved,
        resolved_late=late(resolved, resolve_by),
        # only the spans actually counted: a late date beyond a deadline needs no calendar to compare
        estimated_years=tuple(sorted(
            set(estimated_years(published, file_by, schedules=schedules))
            | set(estimated_years(filed, accept_by, schedules=schedules) if filed else ())
            | set(estimated_years(resolve_from, resolve_by, schedules=schedules) if resolve_from else ()))),
    )
