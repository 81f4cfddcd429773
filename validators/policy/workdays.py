"""Chinese working days for deadlines, from the maintained ``chinesecalendar`` package.

A working day is Monday to Friday unless it is a public holiday, plus the
make-up working days (调休) the State Council moves onto weekends. The package
publishes each year's schedule once it is announced; a date in a year it does
not know raises :class:`CalendarRangeError` instead of guessing, because a
guessed deadline could wrongly mark an appeal late. Upgrading the package
(``pip install -U chinesecalendar``) adds the new year.

Callers that must produce a date anyway (a 2026-Q4 appeal runs into January
2027) pass ``estimate=True``: a year the package does not know then counts
Monday to Friday, and :func:`estimated_years` / :func:`estimate_note` name the
years so the result can be marked "estimated, verify by hand" wherever it is
shown. There is deliberately no hand-written holiday table.

Counting convention: "within n working days of X" ends on the n-th working day
after X; X itself is never counted, whether or not it is a working day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar

from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.errors import KpisheetError

_ONE_DAY = dt.timedelta(days=1)


class CalendarError(KpisheetError, ValueError):
    """A date problem, in Chinese and English."""

    code = "calendar"
    title_zh, title_en = "日期问题", "date problem"
    description = "A date cannot be placed in the working-day calendar (e.g. an appeal date before publication)."


class CalendarRangeError(CalendarError):
    """The date is in a year the holiday calendar does not cover."""

    code = "calendar-range"
    title_zh, title_en = "节假日日历未覆盖该年", "year not in the holiday calendar"
    description = "The holiday calendar does not know the year, so working days cannot be counted exactly."

    def __init__(self, day: dt.date):
        first, last = known_years()
        super().__init__(
            f"节假日日历只覆盖 {first}–{last} 年，无法确定 {day.isoformat()} 是否为工作日；"
            f"请升级 chinesecalendar 包（pip install -U chinesecalendar）",
            f"the holiday calendar covers {first}-{last} only, so whether {day.isoformat()} is a working "
            f"day is unknown; upgrade the chinesecalendar package (pip install -U chinesecalendar)",
        )
        self.day = day


@lru_cache(maxsize=1)
def known_years() -> tuple[int, int]:
    """The first and last year the installed holiday calendar covers."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


def _as_date(day: dt.date) -> dt.date:
    return day.date() if isinstance(day, dt.datetime) else day


def is_known_year(year: int) -> bool:
    first, last = known_years()
    return first <= year <= last


def is_workday(day: dt.date, *, estimate: bool = False) -> bool:
    """True on a Chinese working day, including make-up working days on weekends.

    In a year the calendar does not know: CalendarRangeError, or with
    ``estimate`` Monday to Friday (mark the result with :func:`estimate_note`).
    """
    day = _as_date(day)
    if not is_known_year(day.year):
        if estimate:
            return day.weekday() < 5
        raise CalendarRangeError(day)
    return chinese_calendar.is_workday(day)


def add_workdays(start: dt.date, n: int, *, estimate: bool = False) -> dt.date:
    """The n-th working day after ``start`` (before it when n < 0); ``start`` itself for n = 0."""
    day = _as_date(start)
    step = _ONE_DAY if n >= 0 else -_ONE_DAY
    remaining = abs(n)
    while remaining:
        day += step
        if is_workday(day, estimate=estimate):
            remaining -= 1
    return day


def workdays_between(start: dt.date, end: dt.date, *, estimate: bool = False) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when end < start).

    The inverse of :func:`add_workdays`: workdays_between(s, add_workdays(s, n)) == n.
    """
    start, end = _as_date(start), _as_date(end)
    if end < start:
        return -workdays_between(end, start, estimate=estimate)
    count = 0
    day = start
    while day < end:
        day += _ONE_DAY
        count += is_workday(day, estimate=estimate)
    return count


def estimated_years(*days: dt.date | None) -> tuple[int, ...]:
    """The years the calendar does not know that a count over the span of ``days`` touches."""
    known = [_as_date(d) for d in days if d is not None]
    if not known:
        return ()
    return tuple(y for y in range(min(known).year, max(known).year + 1) if not is_known_year(y))


def estimate_note(years: tuple[int, ...] | list[int]) -> tuple[str, str]:
    """("", "") when nothing was estimated; else the warning to show beside the dates."""
    if not years:
        return "", ""
    listed = "、".join(map(str, years))
    return (f"{listed} 年节假日安排未收录，按周一至周五估算，请人工核对",
            f"holiday calendar for {', '.join(map(str, years))} not available; estimated with Mon-Fri, "
            f"verify by hand")


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

    file_by = add_workdays(published, rules.file_within_workdays, estimate=estimate)
    accept_by = add_workdays(filed, rules.accept_within_workdays, estimate=estimate) if filed else None
    resolve_from = accepted or accept_by
    resolve_by = (add_workdays(resolve_from, rules.resolve_within_workdays, estimate=estimate)
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
        estimated_years=tuple(sorted(set(estimated_years(published, file_by))
                                     | set(estimated_years(filed, accept_by) if filed else ())
                                     | set(estimated_years(resolve_from, resolve_by) if resolve_from else ()))),
    )
