"""The rules that turn 总表 rows into final grades, and ``merge``: validated files + a master in memory -> the new master.

Pure: no file is read or written here, and the run's time comes in as ``now``.

- Final grade = a decided appeal's revised grade, else HR's 校准等级 when it has
  its 调整理由, else the system grade. A 校准等级 without a reason is *pending*:
  it is shown as typed, flagged in 复核标记 and never becomes the final grade.
- Rank in department per period by total (1, 2, 2, 4).

The consolidation rules themselves (keys, supersession, older drafts, missing
sources, review flags) live once, in the cycle record
(:mod:`kpisheet.xladdin.record.ingest`); :func:`merge` runs them on a record in
memory made from ``old``, for callers that hold a master's rows rather than a
record (tests, one-off tools).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from kpisheet.validators.findings import make_finding
from kpisheet.validators.layout import a1
from kpisheet.validators.policy.periods import canonical_text
from kpisheet.validators.rulebook.model import Rulebook

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.layout import MasterData
from kpisheet.xladdin.master.views import period_sort_key

# 复核标记 of a row whose 校准等级 waits for its reason (shown, not stored: it goes when the reason comes)
PENDING_MARK = "待定 pending：校准等级缺少调整理由 / calibrated grade without a reason"


@dataclass
class MergeResult:
    data: MasterData
    changed: bool
    files: dict[str, list[str]]            # accepted / unchanged / rejected / superseded / missing -> file labels
    employees: dict[str, int]              # added / updated / unchanged / marked_missing / review
    over_quota: list[str]                  # "period 部门[/团队]: breaches"
    log_rows: int = 0


@lru_cache(maxsize=4096)
def canonical_period(text) -> str | None:
    """'2026年3月' and '2026-03' are one period: keys use the canonical form."""
    return canonical_text(text)


def grade_text(value) -> str | None:
    """A grade as HR may type it (' a ', 'Ａ') -> 'A'."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().upper()
    return text or None


def is_pending(row: Mapping) -> bool:
    """A 校准等级 typed without its 调整理由: stored, shown, never applied."""
    return bool(grade_text(row.get("calibrated_grade"))) and not str(row.get("override_reason") or "").strip()


def appeal_grades(appeals: Iterable[dict]) -> dict[tuple, str]:
    """A decided appeal's revised grade, by (period, employee ID): it overrides the final grade."""
    out = {}
    for row in appeals:
        grade = grade_text(row.get("revised_grade"))
        if grade and row.get("employee_id"):
            out[(canonical_period(row.get("period")), str(row["employee_id"]))] = grade
    return out


def derive_rows(rows: list[dict], appeal_grades_by_key: dict, rulebook: Rulebook) -> list[dict]:
    """Final grade, coefficient, PIP and rank of 总表 ``rows`` (in place, in their order);
    returns 问题-style rows about what HR typed (a grade that is not one, a pending override)."""
    grades = {g.grade for g in rulebook.grades}
    keys = [c.key for c in L.summary_columns(rulebook)]
    calibrated_col = keys.index("calibrated_grade")
    issues = []
    for position, row in enumerate(rows):
        key = (row.get("period"), row.get("employee_id"))
        cell = a1(L.FIRST_DATA_ROW + position, calibrated_col)
        calibrated = grade_text(row.get("calibrated_grade"))
        if calibrated and calibrated not in grades:
            issues.append(make_finding("master-grade-invalid", sheet=L.SUMMARY, cell=cell,
                                       employee_id=row.get("employee_id"), value=row.get("calibrated_grade"),
                                       expected="/".join(g.grade for g in rulebook.grades)).to_dict())
            calibrated = None
        if calibrated and is_pending(row):
            calibrated = None
        appeal = appeal_grades_by_key.get(key)
        if appeal and appeal not in grades:
            appeal = None
        final = appeal or calibrated or row.get("system_grade")
        if is_pending(row) and grade_text(row.get("calibrated_grade")) in grades:
            issues.append(make_finding("master-override-pending", sheet=L.SUMMARY, cell=cell,
                                       employee_id=row.get("employee_id"), value=row.get("calibrated_grade"),
                                       expected=final or "—").to_dict())
        row["final_grade"] = final
        row["coefficient"] = rulebook.grade_band(final).coefficient if final in grades else None
        row["pip"] = L.YES if final in rulebook.outcomes.pip_grades else None
    _rank(rows)
    return [{**issue, "file": None} for issue in issues]


def derive_final_grades(rows: list[dict], appeals: Iterable[dict], rulebook: Rulebook, *, now: dt.datetime,
                        user: str = "") -> list[dict]:
    """Final grade, coefficient, PIP and rank of 总表 ``rows`` (in place) by consolidation's rule,
    for commands that change 校准等级 or 申诉 outside a merge; returns 问题-style issue rows."""
    return derive_rows(rows, appeal_grades(appeals), rulebook)


def summary_sort_key(row: dict) -> tuple:
    return (period_sort_key(row.get("period")), row.get("department") or "", row.get("team") or "",
            str(row.get("employee_id") or ""))


def _rank(rows: list[dict]) -> None:
    """Rank in department per period by total, highest first; ties share a rank (1, 2, 2, 4)."""
    groups = defaultdict(list)
    for row in rows:
        groups[(row.get("period"), row.get("department"))].append(row)
    for members in groups.values():
        totals = sorted((r["total"] for r in members if isinstance(r.get("total"), float)), reverse=True)
        first = {}
        for i, total in enumerate(totals):
            first.setdefault(total, i + 1)
        for row in members:
            row["dept_rank"] = first.get(row.get("total")) if isinstance(row.get("total"), float) else None


def _comparable(rows: list[dict], keys: list[str]) -> Counter:
    """The rows as a multiset of value tuples: equal whatever order HR sorted them in."""
    return Counter(tuple(row.get(k) for k in keys) for row in rows)


def sheets_differ(old: MasterData, new: MasterData, rulebook: Rulebook) -> bool:
    """Whether any stored sheet holds different rows (order aside: HR may sort by hand)."""
    columns = L.sheet_columns(rulebook)
    for sheet in L.STORED_SHEETS:
        keys = [c.key for c in columns[sheet]] + list(new.extra_headers.get(sheet, []))
        if _comparable(old.rows(sheet), keys) != _comparable(new.rows(sheet), keys):
            return True
    return False


def master_meta(rulebook: Rulebook) -> dict[str, str]:
    """The _meta values that, when they differ, mean the master must be rewritten."""
    return {"master_id": L.MASTER_ID, "layout_version": L.LAYOUT_VERSION, "rulebook_id": rulebook.meta.id,
            "rulebook_version": rulebook.meta.version, "rulebook_fingerprint": rulebook.fingerprint()}
