"""Calibration against the forced distribution (强制分布): pure, deterministic.

Input: one department's appraisees with their total, system grade, eligibility
and optional HR override. Output: the calibrated grade of each, every change
with its reason, the ties found at cut lines, warnings and refused inputs.

The rules, all numbers from ``rulebook.distribution``; grades are the
rulebook's bands best first, so "S", "A", "B" below are the first, second and
third band and "C+D" the rest:

* The pool is the eligible appraisees with a grade. Ineligible staff
  (probation, long leave, too short in post) keep their grade, stay out of
  every count and are marked.
* Quotas are floor(share x headcount), so a quota is never exceeded:
  S <= s_max, S+A <= sa_max.
* Distribution groups: the whole department always (this pools the teams of
  fewer than ``pool_below`` people at department level), and each team of at
  least ``pool_below`` people on its own as well.
* A team of ``small_team_max`` people or fewer has at most ``small_team_s_max`` S.
* Excess S go down to A and then excess S+A go down from A to B, the lowest
  totals first; ties are broken by total (high first) then employee id
  (ascending), and every tie straddling a cut line is reported.
* An HR override with a reason (when ``override_needs_reason``) stands: it is
  never demoted and counts against the quotas. Without a reason it is refused
  and reported, and the system grade is calibrated instead.
* ``b_min`` and ``cd_min``/``cd_max`` are guidance: unmet, they give a warning;
  no grade is ever moved to meet them.

Team size means the team's members in the pool (eligible, graded).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Sequence

from kpisheet.validators.policy.grading import bands_best_first
from kpisheet.validators.policy.periods import Period, parse_period
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.errors import KpisheetError

DEPARTMENT = "department"
TEAM = "team"
RULE_OVERRIDE = "override"
RULE_S_MAX = "s_max"
RULE_SA_MAX = "sa_max"
RULE_SMALL_TEAM = "small_team_s_max"

# English for the roster statuses HR uses; any other status is shown as typed
_STATUS_EN = {"试用": "on probation", "长假": "on long leave", "正式": "regular"}


class CalibrationError(KpisheetError):
    """The rulebook cannot drive a calibration (fewer than three grade bands)."""

    code = "calibration-rules"
    title_zh, title_en = "规则表无法用于校准", "rulebook cannot drive calibration"
    description = "The forced distribution needs at least three grade bands in the rulebook."


@dataclass(frozen=True)
class Appraisee:
    """One department member as calibration sees them."""

    employee_id: str
    team: str
    total: float | None
    grade: str | None                 # the system grade from the scoring engine
    eligible: bool = True
    ineligible_reason: str = ""       # e.g. "试用期 / on probation"
    override_grade: str | None = None  # HR's grade, if HR set one
    override_reason: str = ""


@dataclass(frozen=True)
class GradeChange:
    employee_id: str
    from_grade: str
    to_grade: str
    rule: str      # override / small_team_s_max / s_max / sa_max
    group: str     # the group whose quota moved the grade ("" for an override)
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class TieReport:
    """Equal totals on both sides of a cut line: who kept the grade and who did not."""

    group: str
    rule: str
    grade: str
    total: float | None
    kept: tuple[str, ...]
    demoted: tuple[str, ...]
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class Note:
    """A warning or a refused input."""

    code: str
    message_zh: str
    message_en: str
    employee_id: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class GroupQuota:
    """One distribution group after calibration, for the distribution sheet."""

    name: str
    kind: str                 # department / team
    headcount: int
    s_limit: int
    sa_limit: int | None      # None for a small team, which has only the S limit
    counts: dict[str, int]


@dataclass(frozen=True)
class CalibratedEmployee:
    employee_id: str
    team: str
    total: float | None
    system_grade: str | None
    grade: str | None         # after calibration
    eligible: bool
    marker: str = ""          # why the employee is out of the distribution, if they are
    overridden: bool = False


@dataclass(frozen=True)
class Calibration:
    employees: tuple[CalibratedEmployee, ...]
    changes: tuple[GradeChange, ...]
    ties: tuple[TieReport, ...]
    warnings: tuple[Note, ...]
    problems: tuple[Note, ...]
    groups: tuple[GroupQuota, ...] = field(default=())

    @property
    def grades(self) -> dict[str, str | None]:
        return {e.employee_id: e.grade for e in self.employees}


def quota(share: float, headcount: int) -> int:
    """floor(share x headcount), in decimal so 0.3 x 10 is 3, never 2 by binary error."""
    return math.floor(Decimal(repr(share)) * headcount)


def _rank_key(person: Appraisee) -> tuple[float, str]:
    total = person.total if person.total is not None else -math.inf
    return (-total, person.employee_id)


@dataclass(frozen=True)
class _Group:
    name: str
    kind: str
    members: tuple[Appraisee, ...]


class _Run:
    """The state of one calibration: grades as they move, and everything reported."""

    def __init__(self, rulebook: Rulebook, department: str):
        bands = bands_best_first(rulebook)
        if len(bands) < 3:
            raise CalibrationError("强制分布至少需要三个等级", "the forced distribution needs at least three grades")
        self.rules = rulebook.distribution
        self.top, self.second, self.middle = (b.grade for b in bands[:3])
        self.low = tuple(b.grade for b in bands[3:])
        self.order = tuple(b.grade for b in bands)
        self.known = set(self.order)
        self.department = department or "部门 / department"
        self.grade: dict[str, str | None] = {}
        self.fixed: set[str] = set()
        self.changes: list[GradeChange] = []
        self.ties: list[TieReport] = []
        self.warnings: list[Note] = []
        self.problems: list[Note] = []

    def move(self, person: Appraisee, to: str, rule: str, group: str, zh: str, en: str) -> None:
        self.changes.append(GradeChange(person.employee_id, self.grade[person.employee_id], to, rule, group, zh, en))
        self.grade[person.employee_id] = to

    def cap(self, group: _Group, counted: set[str], limit: int, demotable: str, to: str, rule: str) -> None:
        """At most ``limit`` of ``group`` in ``counted``; move the lowest ``demotable`` ones to ``to``."""
        holders = [p for p in group.members if self.grade[p.employee_id] in counted]
        if len(holders) <= limit:
            return
        movable = sorted((p for p in holders if p.employee_id not in self.fixed
                          and self.grade[p.employee_id] == demotable), key=_rank_key)
        room = limit - (len(holders) - len(movable))
        label = "+".join(sorted(counted, key=lambda g: g != self.top))
        if room < 0:
            self.warnings.append(Note(
                "calibration-quota-unreachable",
                f"{group.name}：{label} 名额为 {limit}，但 HR 调整或更高等级已占 {len(holders) - len(movable)} 人，"
                f"无法靠下调 {demotable} 满足；请复核 HR 调整",
                f"{group.name}: the {label} quota is {limit} but HR overrides or higher grades already take "
                f"{len(holders) - len(movable)}; demoting {demotable} cannot meet it, review the overrides",
                group=group.name))
            room = 0
        kept, demoted = movable[:room], movable[room:]
        share = self.rules.s_max if rule == RULE_S_MAX else self.rules.sa_max
        for person in demoted:
            if rule == RULE_SMALL_TEAM:
                zh = (f"{group.name} 为 {self.rules.small_team_max} 人及以下的小团队，最多 {limit} 个 {self.top}；"
                      f"按总分排序未进入名额")
                en = (f"{group.name} is a team of {self.rules.small_team_max} or fewer, allowed at most {limit} "
                      f"{self.top}; ranked outside the quota by total")
            else:
                zh = (f"{group.name} 的 {label} 名额为 {limit}（{share:.0%} × {len(group.members)} 人，向下取整）；"
                      f"按总分排序未进入名额")
                en = (f"{group.name} allows {limit} {label} ({share:.0%} of {len(group.members)}, rounded down); "
                      f"ranked outside the quota by total")
            self.move(person, to, rule, group.name, zh, en)
        self._report_tie(group, rule, demotable, kept, demoted)

    def _report_tie(self, group: _Group, rule: str, grade: str,
                    kept: Sequence[Appraisee], demoted: Sequence[Appraisee]) -> None:
        if not kept or not demoted or kept[-1].total != demoted[0].total:
            return
        total = kept[-1].total
        kept_ids = tuple(p.employee_id for p in kept if p.total == total)
        demoted_ids = tuple(p.employee_id for p in demoted if p.total == total)
        self.ties.append(TieReport(
            group.name, rule, grade, total, kept_ids, demoted_ids,
            f"{group.name}：总分 {total} 并列于 {grade} 名额线，按工号顺序保留 {'、'.join(kept_ids)}，"
            f"下调 {'、'.join(demoted_ids)}；如需调整请由 HR 填写调整等级和理由",
            f"{group.name}: total {total} is tied at the {grade} cut line; by employee id "
            f"{', '.join(kept_ids)} kept and {', '.join(demoted_ids)} moved down; HR may override with a reason"))


def _check_overrides(run: _Run, people: Iterable[Appraisee], needs_reason: bool) -> None:
    for person in people:
        wanted = (person.override_grade or "").strip()
        if not wanted:
            continue
        pid = person.employee_id
        if wanted not in run.known:
            run.problems.append(Note(
                "calibration-override-grade",
                f"HR 调整等级“{wanted}”不是规则表中的等级（{'、'.join(run.order)}），未采用",
                f"HR override grade {wanted!r} is not a rulebook grade; not applied", pid))
            continue
        reason = (person.override_reason or "").strip()
        if needs_reason and not reason:
            run.problems.append(Note(
                "calibration-override-reason",
                f"HR 调整为 {wanted} 未填写书面理由，未采用；请在调整理由栏写明依据",
                f"HR override to {wanted} has no written reason and was refused; write the justification", pid))
            continue
        run.fixed.add(pid)
        if wanted != run.grade[pid]:
            run.move(person, wanted, RULE_OVERRIDE, "", f"HR 调整：{reason}", f"HR override: {reason}")


def _groups(run: _Run, pool: Sequence[Appraisee]) -> tuple[list[_Group], list[_Group]]:
    """(teams of at least pool_below, small teams of small_team_max or fewer), each sorted by name."""
    teams: dict[str, list[Appraisee]] = {}
    for person in pool:
        teams.setdefault(person.team, []).append(person)
    large, small = [], []
    for name in sorted(teams):
        members = tuple(sorted(teams[name], key=_rank_key))
        if len(members) >= run.rules.pool_below:
            large.append(_Group(name, TEAM, members))
        if len(members) <= run.rules.small_team_max:
            small.append(_Group(name, TEAM, members))
    return large, small


def _guidance(run: _Run, group: _Group) -> None:
    n = len(group.members)
    if not n:
        return
    grades = [run.grade[p.employee_id] for p in group.members]
    b_share = grades.count(run.middle) / n
    cd_share = sum(grades.count(g) for g in run.low) / n
    r = run.rules
    low_label = "+".join(run.low) or "-"
    if b_share < r.b_min:
        run.warnings.append(Note(
            "calibration-b-min",
            f"{group.name}：{run.middle} 占 {b_share:.0%}，低于指导比例 {r.b_min:.0%}（仅提示，不调整等级）",
            f"{group.name}: {run.middle} is {b_share:.0%}, under the guideline {r.b_min:.0%} (advice only)",
            group=group.name))
    if run.low and not r.cd_min <= cd_share <= r.cd_max:
        run.warnings.append(Note(
            "calibration-cd-range",
            f"{group.name}：{low_label} 占 {cd_share:.0%}，不在指导区间 {r.cd_min:.0%}–{r.cd_max:.0%}"
            f"（仅提示，不调整等级）",
            f"{group.name}: {low_label} is {cd_share:.0%}, outside the guideline {r.cd_min:.0%}-{r.cd_max:.0%} "
            f"(advice only)", group=group.name))


def _summary(run: _Run, group: _Group, s_limit: int, sa_limit: int | None) -> GroupQuota:
    counts = {g: 0 for g in run.order}
    for person in group.members:
        counts[run.grade[person.employee_id]] += 1
    return GroupQuota(group.name, group.kind, len(group.members), s_limit, sa_limit, counts)


def calibrate(rulebook: Rulebook, appraisees: Sequence[Appraisee], department: str = "") -> Calibration:
    """Apply the forced distribution to one department; the same people in any order give the same result."""
    run = _Run(rulebook, department)
    rules = run.rules

    by_id: dict[str, list[Appraisee]] = {}
    for person in appraisees:
        by_id.setdefault(person.employee_id, []).append(person)
    people: list[Appraisee] = []
    for pid in sorted(by_id):
        if len(by_id[pid]) > 1:
            run.problems.append(Note("calibration-duplicate",
                                     f"工号 {pid} 出现 {len(by_id[pid])} 次，未参与校准；请去掉重复行",
                                     f"employee {pid} appears {len(by_id[pid])} times and was not calibrated; "
                                     f"remove the duplicate", pid))
            continue
        person = by_id[pid][0]
        if person.grade not in run.known:
            run.problems.append(Note("calibration-no-grade",
                                     f"工号 {pid} 没有有效的系统等级（{person.grade!r}），未参与校准；请先补全评分",
                                     f"employee {pid} has no valid system grade ({person.grade!r}) and was not "
                                     f"calibrated; complete the scores first", pid))
        people.append(person)
        run.grade[pid] = person.grade

    graded = [p for p in people if p.grade in run.known]
    _check_overrides(run, graded, rules.override_needs_reason)
    pool = sorted((p for p in graded if p.eligible), key=_rank_key)

    department_group = _Group(run.department, DEPARTMENT, tuple(pool))
    large, small = _groups(run, pool)
    quota_groups = [*large, department_group]
    top, second = run.top, run.second
    if 0 < len(pool) < rules.pool_below:
        run.warnings.append(Note(
            "calibration-small-pool",
            f"{run.department} 参与强制分布的只有 {len(pool)} 人（少于 {rules.pool_below}），名额向下取整：{top} 最多 "
            f"{quota(rules.s_max, len(pool))} 人，{top}+{second} 最多 {quota(rules.sa_max, len(pool))} 人",
            f"{run.department} has only {len(pool)} people in the distribution (under {rules.pool_below}); quotas "
            f"round down: at most {quota(rules.s_max, len(pool))} {top} and {quota(rules.sa_max, len(pool))} "
            f"{top}+{second}", group=run.department))

    for group in small:
        run.cap(group, {top}, rules.small_team_s_max, top, second, RULE_SMALL_TEAM)
    for group in quota_groups:
        run.cap(group, {top}, quota(rules.s_max, len(group.members)), top, second, RULE_S_MAX)
    for group in quota_groups:
        run.cap(group, {top, second}, quota(rules.sa_max, len(group.members)), second, run.middle, RULE_SA_MAX)
    for group in quota_groups:
        _guidance(run, group)

    summaries = [_summary(run, g, quota(rules.s_max, len(g.members)), quota(rules.sa_max, len(g.members)))
                 for g in quota_groups]
    summaries += [_summary(run, g, rules.small_team_s_max, None) for g in small]
    employees = tuple(
        CalibratedEmployee(p.employee_id, p.team, p.total, p.grade, run.grade[p.employee_id], p.eligible,
                           "" if p.eligible else (p.ineligible_reason or "不参与强制分布 / not in the distribution"),
                           p.employee_id in run.fixed)
        for p in people)
    return Calibration(employees, tuple(run.changes), tuple(run.ties), tuple(run.warnings),
                       tuple(run.problems), tuple(summaries))


def months_in_post(post_start: dt.date, period: Period | str) -> int:
    """Whole calendar months in post between max(post_start, period start) and the period's end."""
    period = parse_period(period)
    start = max(post_start, period.start)
    after_end = period.end + dt.timedelta(days=1)
    if start >= after_end:
        return 0
    months = (after_end.year - start.year) * 12 + after_end.month - start.month
    return months - (after_end.day < start.day)


def eligibility(employee: Employee, period: Period | str, rulebook: Rulebook) -> tuple[bool, str]:
    """(eligible, reason): excluded statuses (probation, long leave), or too short in post.

    "Under ``min_months_in_post`` months in post during the period" is capped
    at the period's own length, so someone in post for a whole month is
    eligible in a monthly appraisal.
    """
    period = parse_period(period)
    rules = rulebook.eligibility
    status = (employee.status or "").strip()
    if status in rules.excluded_statuses:
        return False, f"状态为{status}，不参与强制分布 / {_STATUS_EN.get(status, status)}, not in the distribution"
    required = min(rules.min_months_in_post, period.month_count)
    months = months_in_post(employee.post_start, period)
    if months < required:
        return False, (f"本期在岗不足 {required} 个月（{months} 个月），不参与强制分布 / "
                       f"under {required} months in post during the period ({months}), not in the distribution")
    return True, ""
