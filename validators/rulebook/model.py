"""The rulebook: every rule and number of the appraisal, as pydantic models.

Structure errors come from pydantic (every one, with its key path); the
cross-field rules live in :mod:`kpisheet.validators.rulebook.checks` so that a broken
rulebook reports all its problems at once instead of the first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Strict(BaseModel):
    """Unknown keys are errors: a typo must never fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Method(str, Enum):
    higher_better = "higher_better"
    lower_better = "lower_better"
    deduction = "deduction"
    rating = "rating"
    count = "count"


class Unit(str, Enum):
    percent = "percent"
    hours = "hours"
    minutes = "minutes"
    count = "count"
    points = "points"
    rating = "rating"


UNIT_LABELS: dict[Unit, tuple[str, str]] = {
    Unit.percent: ("%", "%"),
    Unit.hours: ("小时", "h"),
    Unit.minutes: ("分钟", "min"),
    Unit.count: ("次/篇", "count"),
    Unit.points: ("扣分", "points"),
    Unit.rating: ("1-5分", "1-5"),
}

METHOD_LABELS: dict[Method, tuple[str, str]] = {
    Method.higher_better: ("越高越好", "higher better"),
    Method.lower_better: ("越低越好", "lower better"),
    Method.deduction: ("扣分制", "deduction"),
    Method.rating: ("等级评分", "rating"),
    Method.count: ("计数", "count"),
}

Code = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=40)]
Weight = Annotated[float, Field(ge=0, le=100)]
Share = Annotated[float, Field(ge=0, le=1)]


class Meta(Strict):
    id: str
    version: str
    name_zh: str
    name_en: str
    department_zh: str
    department_en: str


class Category(Strict):
    code: Code
    name_zh: str
    name_en: str
    weight: Weight


class Role(Strict):
    code: Code
    name_zh: str
    name_en: str
    weights: dict[str, Weight]


class Incident(Strict):
    code: Code
    name_zh: str
    name_en: str
    points: Annotated[float, Field(gt=0)]


class Indicator(Strict):
    code: Code
    name_zh: str
    name_en: str
    category: str
    unit: Unit
    method: Method
    floor: float | None = None
    target: float | None = None
    challenge: float | None = None
    weight_min: Weight = 5
    weight_max: Weight = 30
    editable_targets: bool = False
    mandatory: bool = False
    incidents: list[Incident] = []
    anchors_zh: list[str] = []

    @property
    def is_rating(self) -> bool:
        return self.method is Method.rating

    @property
    def is_quantitative(self) -> bool:
        return self.method is not Method.rating


class Veto(Strict):
    code: Code
    name_zh: str
    name_en: str


class Scoring(Strict):
    cap: Annotated[float, Field(gt=100)] = 120
    rating_points: list[float] = [20, 40, 60, 80, 100]
    self_weight: Share = 0
    bonus_per_commendation: Annotated[float, Field(ge=0)] = 1
    bonus_cap: Annotated[float, Field(ge=0)] = 5
    indicators_per_role_min: Annotated[int, Field(ge=1)] = 4
    indicators_per_role_max: Annotated[int, Field(ge=1)] = 8
    decimals: Annotated[int, Field(ge=0, le=4)] = 2
    vetoes: list[Veto] = []
    veto_grade: str = "D"


class GradeBand(Strict):
    grade: Annotated[str, Field(min_length=1, max_length=2)]
    min: float
    coefficient: Annotated[float, Field(ge=0)]
    name_zh: str
    name_en: str


class Distribution(Strict):
    s_max: Share
    sa_max: Share
    b_min: Share
    cd_min: Share
    cd_max: Share
    pool_below: Annotated[int, Field(ge=1)]
    small_team_max: Annotated[int, Field(ge=1)]
    small_team_s_max: Annotated[int, Field(ge=0)]
    override_needs_reason: bool = True


class Comments(Strict):
    extreme_high: float
    extreme_low: float
    self_gap: Annotated[float, Field(gt=0)]


class Eligibility(Strict):
    excluded_statuses: list[str]
    min_months_in_post: Annotated[int, Field(ge=0)]


class Periods(Strict):
    quarter_from_months: str = "mean"
    year_weights: dict[str, Weight]
    # sign-off window of a team workbook: from the period's first day to this many days after its last
    signoff_days_after_end: Annotated[int, Field(ge=0)] = 15


class Appeals(Strict):
    file_within_workdays: Annotated[int, Field(ge=1)]
    accept_within_workdays: Annotated[int, Field(ge=1)]
    resolve_within_workdays: Annotated[int, Field(ge=1)]


# a date as HR types it: 2027-02-05, 2027-2-5, 2027/2/5, 2027年2月5日
_DAY = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
# "2027-02-05..2027-02-11" (also ~ or 至): every day from the first to the last, both included
_DATE_RANGE = re.compile(rf"^\s*{_DAY}\s*(?:\.\.|~|～|至)\s*{_DAY}\s*$")
_DATE_TEXT = re.compile(rf"^\s*{_DAY}\s*$")
MAX_RANGE_DAYS = 60  # a longer "range" is a typo (a wrong year or month), not a holiday


def expand_dates(items) -> list:
    """A list of dates where an item may be a range of days; other items are left for pydantic to judge."""
    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        if isinstance(item, dt.datetime):
            out.append(item.date() if item.time() == dt.time() else item)  # Excel's dates come as datetimes
            continue
        single = _DATE_TEXT.match(item) if isinstance(item, str) else None
        match = _DATE_RANGE.match(item) if isinstance(item, str) else None
        if single is not None:
            out.append(_day(single.groups()) or item)  # pydantic says why a non-date is not a date
            continue
        if match is None:
            out.append(item)
            continue
        first, last = _day(match.groups()[:3]), _day(match.groups()[3:])
        if first is None or last is None:
            out.append(item)
            continue
        if not 0 <= (last - first).days < MAX_RANGE_DAYS:
            raise ValueError(f"日期范围“{item}”须从早到晚且不超过 {MAX_RANGE_DAYS} 天 / the range {item!r} must "
                             f"run forwards and span fewer than {MAX_RANGE_DAYS} days")
        out += [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return out


def _day(parts) -> dt.date | None:
    try:
        return dt.date(*map(int, parts))
    except ValueError:
        return None


class HolidayYear(Strict):
    """One year's official holiday schedule, as the State Council's notice (国务院办公厅关于 YYYY 年部分节假日
    安排的通知) gives it, for a year the ``chinesecalendar`` package does not know yet.

    ``holidays``: every day off, the weekend days inside a break included; ``workdays``: the make-up
    working days (调休上班) on weekends. A day in neither list is a working day from Monday to
    Friday. Items may be ranges: ``2027-02-05..2027-02-11``.
    """

    year: Annotated[int, Field(ge=2000, le=2100)]
    source: str = ""  # the notice it was copied from, so a reader can check it
    holidays: Annotated[list[dt.date], Field(min_length=1)]
    workdays: list[dt.date] = []

    _ranges = field_validator("holidays", "workdays", mode="before")(expand_dates)


class Outcomes(Strict):
    pip_grades: list[str]
    pip_months_min: Annotated[int, Field(ge=1)]
    pip_months_max: Annotated[int, Field(ge=1)]
    consecutive_d_review: Annotated[int, Field(ge=2)]


class Records(Strict):
    retention_years: Annotated[int, Field(ge=1)]


class Rulebook(Strict):
    meta: Meta
    categories: list[Category]
    roles: list[Role]
    indicators: list[Indicator]
    scoring: Scoring
    grades: list[GradeBand]
    distribution: Distribution
    comments: Comments
    eligibility: Eligibility
    periods: Periods
    appeals: Appeals
    outcomes: Outcomes
    records: Records
    # Official holiday schedules HR adds for years chinesecalendar does not cover (appeal deadlines).
    holidays: list[HolidayYear] = []

    # Lookups. Lists keep the HR-visible order; these give the by-code view.
    def indicator(self, code: str) -> Indicator:
        return _index(self.indicators)[code]

    def role(self, code: str) -> Role:
        return _index(self.roles)[code]

    def category(self, code: str) -> Category:
        return _index(self.categories)[code]

    def role_by_name(self, name: str) -> Role | None:
        """A role by its code, Chinese or English name (rosters use the Chinese one)."""
        for role in self.roles:
            if name in (role.code, role.name_zh, role.name_en):
                return role
        return None

    def role_indicators(self, role_code: str) -> list[tuple[Indicator, float]]:
        """The role's indicators with default weights, in category then rulebook order."""
        role = self.role(role_code)
        order = {c.code: i for i, c in enumerate(self.categories)}
        known = _index(self.indicators)
        picked = [known[code] for code in role.weights if code in known]
        picked.sort(key=lambda ind: order.get(ind.category, len(order)))  # stable: HR's order within a category
        return [(ind, role.weights[ind.code]) for ind in picked]

    def grade_band(self, grade: str) -> GradeBand:
        return {g.grade: g for g in self.grades}[grade]

    def rules_of(self, department: str) -> Rulebook:
        """The rules ``department``'s people are appraised by: a rulebook's own. A company's view
        (:class:`kpisheet.validators.rulebook.company.CompanyRulebook`) answers with the department's, so
        code that shows every department (the master) asks here for a department's distribution and
        eligibility."""
        return self

    def fingerprint(self) -> str:
        """A short, stable hash of the rules: team workbooks carry it.

        The holiday schedule is left out: it only moves HR's appeal deadlines, never a form or a
        score, and adding next year's schedule mid-cycle must not make every submitted workbook
        a rulebook mismatch.
        """
        canonical = json.dumps(self.model_dump(mode="json", exclude={"holidays"}), sort_keys=True,
                               ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _index(items):
    return {item.code: item for item in items}
