"""Applying calibration to the master: the forced distribution (kpisheet.validators.policy.calibration) on 总表.

Per period and department (by that department's own rules when the master is a
company's, ``rulebook.rules_of``), the core gets every row as an appraisee: team,
total, system grade, eligibility (probation, long leave, under the minimum
months in post: from the roster when given, else the status and start date the
master already holds) and HR's decision. With a roster, the rows' 员工状态 and
任职开始日期 are brought up to date from it first, and every row's 参与强制分布 /
不参与原因 mark is refreshed by the same rule (consolidation marks from the same
row facts, so a later run without a roster agrees). Who decides what:

- HR's decision is a 校准等级 with a written 调整理由 that kpisheet did not write,
  or a decided appeal's 改定等级. It stands, is never overwritten and counts
  against the quotas.
- kpisheet's own calibration is a 校准等级 whose 调整理由 starts with
  :data:`SYSTEM_TAG`. It is recomputed on every run (a late file may move it),
  written only where it differs from the system grade and cleared when no
  longer needed. HR makes it their own by editing the reason (removing the tag).
- A 校准等级 without a reason is refused by the core (overrides need a written
  justification): it is reported and left exactly as HR typed it.

Every cell kpisheet changes gets a 日志 row; the same master calibrated twice
changes nothing the second time. Final grades and coefficients then follow
consolidation's rule (appeal > calibrated > system).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Mapping

from kpisheet.validators.policy.calibration import Appraisee, Calibration, calibrate, eligibility
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Rulebook

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.appeals import audit_row, refresh_appeals
from kpisheet.xladdin.master.layout import MasterData, clean_value
from kpisheet.xladdin.master.views import employee_of, mark_distribution, parsed_period, period_sort_key
from kpisheet.xladdin.master.merge import canonical_period, grade_text, sheets_differ

SYSTEM_TAG = "【kpisheet 强制分布 forced distribution】"
LOG_CALIBRATION = "校准 calibration"
APPEAL_REASON = "申诉改定 / appeal decided"


@dataclass(frozen=True)
class GradeChange:
    """One 校准等级 cell kpisheet wrote or cleared."""

    period: str
    department: str
    team: str
    employee_id: str
    name: str
    system_grade: str | None
    old: str | None          # 校准等级 before
    new: str | None          # 校准等级 after (None: cleared, the system grade stands)
    reason: str


@dataclass(frozen=True)
class DepartmentResult:
    period: str
    department: str
    result: Calibration
    hr_decisions: int        # HR overrides and decided appeals counted against the quotas


@dataclass
class CalibrateOutcome:
    data: MasterData
    changes: list[GradeChange]
    departments: list[DepartmentResult]
    log_rows: list[dict]
    changed: bool
    ineligible: list[tuple[str, str, str, str]] = field(default_factory=list)  # period, ID, name, why
    unknown_periods: list[str] = field(default_factory=list)


def is_system_reason(reason) -> bool:
    return isinstance(reason, str) and reason.startswith(SYSTEM_TAG)


_ELIGIBILITY_FACTS = (("status", L.TEXT, "员工状态"), ("post_start", L.DATE, "任职开始日期"))
_MARKS = ("in_distribution", "excluded_why")


def _refresh_eligibility(row: dict, person: Employee | None, rulebook: Rulebook, now: dt.datetime, user: str,
                         memo: dict) -> list[dict]:
    """The row's status and start in post from the roster (when it has them) and its 参与强制分布 mark
    by the same rule calibration applies, so that the mark shows why someone is left out; 日志 rows."""
    key = f"{row.get('period')}/{row.get('employee_id')}"
    log = []
    before = dict(row)
    if person is not None:
        for column, kind, zh in _ELIGIBILITY_FACTS:
            value = clean_value(kind, getattr(person, column))
            if value != row.get(column):
                row[column] = value
                log.append(audit_row(now, LOG_CALIBRATION, key, zh, before.get(column), value,
                                     "来自花名册 / from the roster", user))
    mark_distribution(row, rulebook, memo=memo)
    # a first mark (a master older than the column) is filled quietly; a change of standing is logged
    if before.get("in_distribution") and row.get("in_distribution") != before.get("in_distribution"):
        log.append(audit_row(now, LOG_CALIBRATION, key, "参与强制分布", before.get("in_distribution"),
                             row.get("in_distribution"),
                             row.get("excluded_why") or "符合强制分布条件 / eligible for the distribution", user))
    if log or any(row.get(column) != before.get(column) for column in _MARKS):
        row["updated_at"] = now
    return log


def _appraisee(row: dict, appeal_grade: str | None, rulebook: Rulebook, roster, period: str) -> Appraisee:
    eligible, why = eligibility(employee_of(row, roster), period, rulebook)
    calibrated, reason = grade_text(row.get("calibrated_grade")), row.get("override_reason") or ""
    if appeal_grade:
        override, reason = appeal_grade, APPEAL_REASON
    elif calibrated and not is_system_reason(reason):
        override = calibrated
    else:
        override, reason = None, ""
    total = row.get("total")
    return Appraisee(str(row.get("employee_id")), row.get("team") or "",
                     total if isinstance(total, float) else None, grade_text(row.get("system_grade")),
                     eligible, why, override, reason)


def _system_reason(result: Calibration, employee_id: str) -> str:
    steps = [c for c in result.changes if c.employee_id == employee_id and c.rule != "override"]
    return SYSTEM_TAG + "；".join(f"{c.from_grade}→{c.to_grade}：{c.reason_zh} / {c.reason_en}" for c in steps)


def _appeal_grades(appeals: list[dict], rulebook: Rulebook) -> dict[tuple, str]:
    grades = {band.grade for band in rulebook.grades}
    out = {}
    for row in appeals:
        grade = grade_text(row.get("revised_grade"))
        if grade in grades and row.get("employee_id"):
            out[(canonical_period(row.get("period")), str(row["employee_id"]))] = grade
    return out


def calibrate_master(data: MasterData, rulebook: Rulebook, *, now: dt.datetime,
                     roster: Mapping[str, Employee] | None = None, department: str | None = None,
                     period: str | None = None, today: dt.date | None = None, user: str = "") -> CalibrateOutcome:
    """Calibrate every period (or ``period``) and department (or ``department``) of 总表."""
    now = now.replace(microsecond=0)
    period = canonical_period(period)
    summary = [dict(row) for row in data.rows(L.SUMMARY)]
    appeal_grades = _appeal_grades(data.rows(L.APPEALS), rulebook)

    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    unknown: set[str] = set()
    for row in summary:
        if period and row.get("period") != period:
            continue
        if department and (row.get("department") or "") != department:
            continue
        if parsed_period(row.get("period")) is None:
            unknown.add(str(row.get("period")))
            continue
        groups[(row["period"], row.get("department") or "")].append(row)

    changes, departments, log, ineligible = [], [], [], []
    memo: dict = {}
    for (row_period, dept) in sorted(groups, key=lambda k: (period_sort_key(k[0]), k[1])):
        rows = {str(r.get("employee_id")): r for r in groups[(row_period, dept)]}
        rules = rulebook.rules_of(dept)  # a company's department: its own quotas and months in post
        for pid, row in rows.items():
            log += _refresh_eligibility(row, (roster or {}).get(pid), rules, now, user, memo)
        people = [_appraisee(r, appeal_grades.get((row_period, pid)), rules, roster, row_period)
                  for pid, r in rows.items()]
        result = calibrate(rules, people, department=dept)
        departments.append(DepartmentResult(row_period, dept, result,
                                            sum(1 for p in people if p.override_grade and p.eligible)))
        for emp in result.employees:
            row = rows[emp.employee_id]
            if not emp.eligible:
                ineligible.append((row_period, emp.employee_id, row.get("name") or "", emp.marker))
            current, reason = grade_text(row.get("calibrated_grade")), row.get("override_reason")
            if emp.overridden or (current and not is_system_reason(reason)):
                continue  # HR's cell, with or without a reason: never written
            wanted = emp.grade if emp.grade != emp.system_grade else None
            wanted_reason = _system_reason(result, emp.employee_id) if wanted else None
            if (current, reason or None) == (wanted, wanted_reason):
                continue
            row["calibrated_grade"], row["override_reason"] = wanted, wanted_reason
            row["updated_at"] = now
            why = wanted_reason or f"{SYSTEM_TAG}不再需要下调，恢复系统等级 / no longer needed, the system grade stands"
            changes.append(GradeChange(row_period, dept, emp.team, emp.employee_id, row.get("name") or "",
                                       emp.system_grade, current, wanted, why))
            log.append(audit_row(now, LOG_CALIBRATION, f"{row_period}/{emp.employee_id}", "校准等级",
                                 current, wanted, why, user))

    calibrated = MasterData(sheets={**data.sheets, L.SUMMARY: summary, L.LOG: list(data.rows(L.LOG)) + log},
                            meta=data.meta, extra_headers=data.extra_headers, missing_sheets=data.missing_sheets)
    # deadlines and final grades in the same write: appeal > calibrated > system
    appeals = refresh_appeals(calibrated, rulebook, now=now, today=today, user=user)
    return CalibrateOutcome(appeals.data, changes, departments, log + appeals.log_rows,
                            bool(log) or appeals.changed or sheets_differ(data, appeals.data, rulebook),
                            ineligible, sorted(unknown))
