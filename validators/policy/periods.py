"""Appraisal periods (month, quarter, half-year, year) and their roll-ups.

A period is written canonically as ``2026-11``, ``2026-Q4``, ``2026-H2`` or
``2026``; the Chinese forms HR types (``2026年11月``, ``2026年第4季度``,
``2026年下半年``, ``2026年度``) and full-width characters are read too.

Roll-ups follow the policy:

* a quarter is the mean of its months that have a score;
* a half-year is the mean of its quarters that have a score;
* a year is the weighted mean of its quarters with ``rulebook.periods.year_weights``.
  When a quarter has no score its weight is left out and the weights of the
  quarters present are re-normalised, so a year with Q1-Q3 only (25/25/25) is
  the plain mean of those three; a year with no quarter, or only quarters of
  weight 0, has no score (None).

Every roll-up is rounded half-up to ``rulebook.scoring.decimals`` like the
totals it is made of.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Mapping

from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.policy.scoring import round_half_up
from kpisheet.validators.errors import KpisheetError

MONTH, QUARTER, HALF, YEAR = "month", "quarter", "half", "year"
MONTHS_PER = {MONTH: 1, QUARTER: 3, HALF: 6, YEAR: 12}
KIND_ZH = {MONTH: "月份", QUARTER: "季度", HALF: "半年", YEAR: "年度"}
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class PeriodError(KpisheetError, ValueError):
    """Text that is not a period, or a roll-up that cannot be made; says why in Chinese and English."""

    code = "period-invalid"
    title_zh, title_en = "考核期间无效", "invalid period"
    description = "Text that is not an appraisal period (2026-Q4, 2026-11, 2026-H2, 2026), or a roll-up that cannot be made."


@dataclass(frozen=True)
class Period:
    kind: str   # month / quarter / half / year
    year: int
    index: int  # month 1-12, quarter 1-4, half 1-2; 1 for a year

    def __post_init__(self):
        if self.kind not in MONTHS_PER:
            raise PeriodError(f"未知的期间类型 {self.kind}", f"unknown period kind {self.kind}")
        count = 12 // MONTHS_PER[self.kind]
        if not 1 <= self.index <= count or not 1 <= self.year <= 9999:
            raise PeriodError(f"期间超出范围：{self.kind} {self.year} 第{self.index}",
                              f"period out of range: {self.kind} {self.year} #{self.index}")

    @property
    def first_month(self) -> int:
        return (self.index - 1) * MONTHS_PER[self.kind] + 1

    @property
    def last_month(self) -> int:
        return self.first_month + MONTHS_PER[self.kind] - 1

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.first_month, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, self.last_month, calendar.monthrange(self.year, self.last_month)[1])

    @property
    def month_count(self) -> int:
        return MONTHS_PER[self.kind]

    @property
    def months(self) -> tuple[Period, ...]:
        return tuple(Period(MONTH, self.year, m) for m in range(self.first_month, self.last_month + 1))

    @property
    def quarters(self) -> tuple[Period, ...]:
        """The quarters inside a quarter, half or year (empty for a month)."""
        if self.kind == MONTH:
            return ()
        first = (self.first_month - 1) // 3 + 1
        return tuple(Period(QUARTER, self.year, q) for q in range(first, first + self.month_count // 3))

    def contains(self, other: Period | dt.date) -> bool:
        if isinstance(other, Period):
            return self.start <= other.start and other.end <= self.end
        return self.start <= other <= self.end

    @property
    def label_zh(self) -> str:
        if self.kind == MONTH:
            return f"{self.year}年{self.index}月"
        if self.kind == QUARTER:
            return f"{self.year}年第{self.index}季度"
        if self.kind == HALF:
            return f"{self.year}年{'上' if self.index == 1 else '下'}半年"
        return f"{self.year}年度"

    @property
    def label_en(self) -> str:
        if self.kind == MONTH:
            return f"{_EN_MONTHS[self.index - 1]} {self.year}"
        if self.kind == QUARTER:
            return f"{self.year} Q{self.index}"
        if self.kind == HALF:
            return f"{self.year} H{self.index}"
        return str(self.year)

    def __str__(self) -> str:
        if self.kind == MONTH:
            return f"{self.year}-{self.index:02d}"
        if self.kind == QUARTER:
            return f"{self.year}-Q{self.index}"
        if self.kind == HALF:
            return f"{self.year}-H{self.index}"
        return str(self.year)


_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (YEAR, re.compile(r"(\d{4})(?:年度?)?")),
    (QUARTER, re.compile(r"(\d{4})(?:[-/. ]?|年)(?:Q|第)?([1-4])(?:季度|季)?", re.I)),
    (HALF, re.compile(r"(\d{4})(?:[-/. ]?|年)(?:H([12])|(上|下)半年)", re.I)),
    (MONTH, re.compile(r"(\d{4})(?:[-/.]|年)(\d{1,2})月?")),
)

_HELP_ZH = "应为 2026-11（月）、2026-Q4（季度）、2026-H2（半年）或 2026（年）"
_HELP_EN = "expected 2026-11 (month), 2026-Q4 (quarter), 2026-H2 (half-year) or 2026 (year)"


def parse_period(text: str | Period) -> Period:
    """'2026-Q4' | '2026-11' | '2026-H2' | '2026' (or the Chinese labels) -> Period."""
    if isinstance(text, Period):
        return text
    if not isinstance(text, str):
        raise PeriodError(f"考核期间应为文本，实际为 {text!r}；{_HELP_ZH}",
                          f"a period must be text, got {text!r}; {_HELP_EN}")
    cleaned = unicodedata.normalize("NFKC", text).strip()
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(cleaned)
        if not match:
            continue
        if kind == QUARTER and not re.search(r"[Qq第季]", cleaned):
            continue  # "2026-4" is April, not a quarter
        year = int(match.group(1))
        if kind == HALF:
            index = int(match.group(2)) if match.group(2) else (1 if match.group(3) == "上" else 2)
        elif kind == YEAR:
            index = 1
        else:
            index = int(match.group(2))
        try:
            return Period(kind, year, index)
        except PeriodError:
            break
    raise PeriodError(f"无法识别的考核期间“{text}”，{_HELP_ZH}", f"unrecognised period {text!r}; {_HELP_EN}")


def months_of(period: Period | str) -> tuple[Period, ...]:
    return parse_period(period).months


def quarter_of(month: Period | str | dt.date) -> Period:
    """The quarter holding a month (or a date)."""
    if isinstance(month, dt.date):
        return Period(QUARTER, month.year, (month.month - 1) // 3 + 1)
    period = parse_period(month)
    if period.kind != MONTH:
        raise PeriodError(f"{period} 不是{KIND_ZH[MONTH]}", f"{period} is not a month")
    return Period(QUARTER, period.year, (period.index - 1) // 3 + 1)


def signoff_window(period: Period, rulebook: Rulebook) -> tuple[dt.date, dt.date]:
    """Sign-off dates allowed: from the period's first day to ``signoff_days_after_end`` days after its last."""
    return period.start, period.end + dt.timedelta(days=rulebook.periods.signoff_days_after_end)


def _scores_within(scores: Mapping[Period | str, float | None], parent: Period,
                   kind: str) -> dict[Period, float]:
    """The scores of ``parent``'s sub-periods of ``kind`` that have a value; others are ignored."""
    picked: dict[Period, float] = {}
    for key, value in scores.items():
        period = parse_period(key)
        if period.kind == kind and parent.contains(period) and value is not None:
            picked[period] = float(value)
    return picked


def _mean(values: list[float], rulebook: Rulebook) -> float | None:
    if not values:
        return None
    return round_half_up(sum(values) / len(values), rulebook.scoring.decimals)


def _expect(period: Period | str, kind: str) -> Period:
    parsed = parse_period(period)
    if parsed.kind != kind:
        raise PeriodError(f"{parsed} 不是{KIND_ZH[kind]}", f"{parsed} is not a {kind}")
    return parsed


def quarter_score(month_scores: Mapping[Period | str, float | None], quarter: Period | str,
                  rulebook: Rulebook) -> float | None:
    """Mean of the quarter's months that have a score (None when none has)."""
    quarter = _expect(quarter, QUARTER)
    if rulebook.periods.quarter_from_months != "mean":
        raise PeriodError(f"不支持的季度汇总方式 {rulebook.periods.quarter_from_months}",
                          f"unsupported quarter aggregation {rulebook.periods.quarter_from_months}")
    return _mean(list(_scores_within(month_scores, quarter, MONTH).values()), rulebook)


def half_score(quarter_scores: Mapping[Period | str, float | None], half: Period | str,
               rulebook: Rulebook) -> float | None:
    """Mean of the half-year's quarters that have a score (None when none has)."""
    half = _expect(half, HALF)
    return _mean(list(_scores_within(quarter_scores, half, QUARTER).values()), rulebook)


def year_score(quarter_scores: Mapping[Period | str, float | None], year: Period | str,
               rulebook: Rulebook) -> float | None:
    """Weighted mean of the year's quarters with ``periods.year_weights``, re-normalised
    over the quarters that have a score (None when none has, or their weights are all 0)."""
    year = _expect(year, YEAR)
    weights = rulebook.periods.year_weights
    present = _scores_within(quarter_scores, year, QUARTER)
    weighted = 0.0
    weight_sum = 0.0
    for quarter, score in sorted(present.items(), key=lambda item: item[0].index):
        key = f"Q{quarter.index}"
        if key not in weights:
            raise PeriodError(f"规则表 periods.year_weights 缺少 {key}", f"rulebook periods.year_weights lacks {key}")
        weighted += weights[key] * score
        weight_sum += weights[key]
    if weight_sum == 0:
        return None
    return round_half_up(weighted / weight_sum, rulebook.scoring.decimals)


def canonical_text(text) -> str | None:
    """A period as keys use it: '2026年3月' and '2026-03' are one period ("2026-03"); text kpisheet cannot
    read as a period is kept as it is, so it still names something; None for nothing."""
    if text is None or text == "":
        return None
    try:
        return str(parse_period(text))
    except (PeriodError, TypeError, ValueError):
        return str(text)
