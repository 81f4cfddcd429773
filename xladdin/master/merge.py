"""The merge rules: validated submissions + the existing master -> the new master.

Pure: no file is read or written here, and the run's time comes in as ``now``.

- The key of 总表 is (period, employee ID). Each team and period takes its
  newest accepted submission (file mtime, then name: deterministic); an older
  one is recorded in 提交 as superseded. A rejected file contributes nothing.
- Columns are refreshed or kept by their owner (:mod:`kpisheet.xladdin.master.layout`):
  HR's columns are never written; a change of total or system grade under an
  HR decision (校准等级, an appeal) flags the row for review and goes to 日志.
- Nothing is deleted: a row whose source is gone is marked.
- Same inputs, same master: ``updated at`` moves only when the row's content
  changes, 提交 keeps each file's first-seen time, and 日志 gets rows only for
  changes. :attr:`MergeResult.changed` says whether anything differs at all.
"""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Mapping, Sequence

from kpisheet.validators.findings import make_finding
from kpisheet.validators.layout import a1
from kpisheet.validators.report import FileReport
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import UNIT_LABELS, Rulebook

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.layout import MasterData, clean_row, clean_value
from kpisheet.xladdin.master.views import distribution_rows, mark_distribution, parsed_period, period_sort_key


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
    if text is None or text == "":
        return None
    period = parsed_period(text)
    return str(period) if period else str(text)


def grade_text(value) -> str | None:
    """A grade as HR may type it (' a ', 'Ａ') -> 'A'."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().upper()
    return text or None


def _text(value) -> str:
    """A value as 日志 shows it."""
    shown = clean_value(L.TEXT, value)
    return "" if shown is None else shown


def _sub_key(sha256, path) -> str:
    return sha256 if sha256 else f"path:{path}"


def _newest_first_key(report: FileReport) -> tuple:
    return (report.modified or 0.0, os.path.basename(report.path), report.path)


@dataclass
class _Run:
    """What this run knows, filled step by step."""

    rulebook: Rulebook
    now: dt.datetime
    user: str
    label: Callable[[str], str]
    log: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)

    def audit(self, action: str, key: str, column: str, old, new, reason: str) -> None:
        self.log.append({"time": self.now, "action": action, "key": key, "column": column,
                         "old": _text(old), "new": _text(new), "reason": reason, "by": self.user})

    def issue(self, code: str, **where) -> None:
        """A 问题 row about the master itself, worded by the finding catalogue (no file: the master)."""
        self.issues.append({**make_finding(code, **where).to_dict(), "file": None})


# --- submissions ---------------------------------------------------------------

def _rejection(report: FileReport, period: str | None) -> str | None:
    if not report.accepted:
        return f"{report.count('error')} 个错误 error(s)"
    if not report.period or not report.team:
        return "无法确定期间或团队 period or team unknown"
    if period and canonical_period(report.period) != period:
        return f"期间 {report.period} 不是本次的 {period} / not the period of this run"
    return None


def _group(period, department, team) -> tuple:
    return (canonical_period(period), department or "", team or "")


def _classify(reports: Sequence[FileReport], period: str | None):
    """-> (winners by group, superseded [(report, winner)], rejected [(report, why)])."""
    rejected, candidates = [], defaultdict(list)
    for report in reports:
        why = _rejection(report, period)
        if why:
            rejected.append((report, why))
        else:
            candidates[_group(report.period, report.department, report.team)].append(report)
    winners, superseded = {}, []
    for group, found in candidates.items():
        found.sort(key=_newest_first_key, reverse=True)
        winners[group] = found[0]
        superseded += [(report, found[0]) for report in found[1:]]
    return winners, superseded, rejected


def _submission_row(report: FileReport, status: str, note: str | None, old: dict | None, run: _Run) -> dict:
    modified = dt.datetime.fromtimestamp(report.modified).replace(microsecond=0) if report.modified else None
    return {
        **(old or {}),
        "path": run.label(report.path),
        "sha256": report.sha256,
        "department": report.department,
        "team": report.team,
        "period": canonical_period(report.period),
        "status": status,
        "errors": report.count("error"),
        "warnings": report.count("warning"),
        "first_seen": (old or {}).get("first_seen") or run.now,
        "modified": modified,
        "note": note,
    }


def _merge_submissions(old_rows: list[dict], reports: Sequence[FileReport], winners, superseded, rejected,
                       run_periods: set, run: _Run) -> tuple[list[dict], dict[str, list[str]]]:
    by_key = {_sub_key(r.get("sha256"), r.get("path")): r for r in old_rows}
    verdict: dict[str, tuple[FileReport, str, str | None]] = {}
    priority = {L.SUB_ACCEPTED: 0, L.SUB_SUPERSEDED: 1, L.SUB_REJECTED: 2}
    for report in winners.values():
        verdict[_sub_key(report.sha256, run.label(report.path))] = (report, L.SUB_ACCEPTED, None)
    for report, winner in superseded:
        key = _sub_key(report.sha256, run.label(report.path))
        note = f"被 {run.label(winner.path)} 替代 / superseded by it"
        if key not in verdict or priority[verdict[key][1]] > priority[L.SUB_SUPERSEDED]:
            verdict[key] = (report, L.SUB_SUPERSEDED, note)
    for report, why in rejected:
        verdict.setdefault(_sub_key(report.sha256, run.label(report.path)), (report, L.SUB_REJECTED, why))

    files: dict[str, list[str]] = {k: [] for k in ("accepted", "unchanged", "rejected", "superseded", "missing")}
    rows = [dict(r) for r in old_rows]
    index = {_sub_key(r.get("sha256"), r.get("path")): i for i, r in enumerate(rows)}
    winner_by_group = {g: run.label(w.path) for g, w in winners.items()}
    order = sorted(verdict.items(), key=lambda kv: _newest_first_key(kv[1][0]))
    for key, (report, status, note) in order:
        old = by_key.get(key)
        row = clean_row(L.SUBMISSION_COLUMNS, _submission_row(report, status, note, old, run))
        old_status = (old or {}).get("status")
        if status == L.SUB_ACCEPTED:
            files["unchanged" if old_status == L.SUB_ACCEPTED else "accepted"].append(row["path"])
        else:
            files["superseded" if status == L.SUB_SUPERSEDED else "rejected"].append(row["path"])
        if old_status != status:
            reason = note or f"{report.team or ''} {canonical_period(report.period) or ''}".strip()
            run.audit(L.LOG_SUBMISSION, row["path"], "状态 status", old_status, status, reason)
        if key in index:
            rows[index[key]] = row
        else:
            index[key] = len(rows)
            rows.append(row)

    # files seen before and not in this run
    for key, i in index.items():
        if key in verdict:
            continue
        row = rows[i]
        if row.get("status") != L.SUB_ACCEPTED:
            continue
        group = _group(row.get("period"), row.get("department"), row.get("team"))
        if group in winners:
            status, note = L.SUB_SUPERSEDED, f"被 {winner_by_group[group]} 替代 / superseded by it"
            files["superseded"].append(row.get("path"))
        elif group[0] in run_periods:
            status, note = L.SUB_MISSING, "不在本次收件箱 / not in this run's inbox"
            files["missing"].append(row.get("path"))
        else:
            continue
        run.audit(L.LOG_SUBMISSION, row.get("path") or key, "状态 status", row.get("status"), status, note)
        rows[i] = {**row, "status": status, "note": note}
    return rows, files


# --- 总表 ------------------------------------------------------------------------

def _role_name(rulebook: Rulebook, role: str | None) -> str | None:
    found = rulebook.role_by_name(role) if role else None
    return found.name_zh if found else role


def _veto_name(rulebook: Rulebook, veto: str | None) -> str | None:
    for item in rulebook.scoring.vetoes:
        if veto in (item.code, item.name_zh, item.name_en):
            return item.name_zh
    return veto


def _source_values(report: FileReport, emp, rulebook: Rulebook, roster: Mapping[str, Employee] | None,
                   run: _Run) -> dict:
    values = {
        "period": canonical_period(report.period),
        "employee_id": emp.employee_id,
        "name": emp.name,
        "department": report.department,
        "team": report.team,
        "role": _role_name(rulebook, emp.role),
        **{f"subtotal_{c.code}": emp.subtotals.get(c.code) for c in rulebook.categories},
        "bonus": emp.bonus,
        "veto": _veto_name(rulebook, emp.veto),
        "total": emp.total,
        "system_grade": emp.grade,
        "feedback": emp.feedback,
        "pip_shortfalls": emp.pip_shortfalls,
        "pip_actions": emp.pip_actions,
        "pip_owner": emp.pip_owner,
        "pip_due": emp.pip_due,
        "source_file": run.label(report.path),
        "source_sha256": report.sha256,
        "source_status": L.SOURCE_PRESENT,
    }
    person = (roster or {}).get(emp.employee_id)
    if person is not None:  # without a roster these keep what an earlier run found
        boss = (roster or {}).get(person.manager_id) if person.manager_id else None
        values["manager"] = f"{boss.name}（{boss.employee_id}）" if boss else person.manager_id
        values["status"] = person.status
        values["post_start"] = person.post_start
    return values


@dataclass(frozen=True)
class _Names:
    """Rulebook lookups made once per merge (the detail sheet asks them per indicator row)."""

    indicators: dict
    categories: dict

    @classmethod
    def of(cls, rulebook: Rulebook) -> "_Names":
        return cls({i.code: (i.name_zh, UNIT_LABELS[i.unit][0]) for i in rulebook.indicators},
                   {c.code: c.name_zh for c in rulebook.categories})


def _detail_rows(report: FileReport, emp, names: _Names) -> list[dict]:
    period = canonical_period(report.period)
    rows = []
    for line in emp.indicators:
        name, unit = names.indicators.get(line.code, (line.code, None))
        rows.append(clean_row(L.DETAIL_COLUMNS, {
            "period": period, "employee_id": emp.employee_id, "name": emp.name,
            "department": report.department, "team": report.team,
            "category": names.categories.get(line.category, line.category), "code": line.code,
            "indicator": name, "unit": unit, "weight": line.weight, "floor": line.floor, "target": line.target,
            "challenge": line.challenge, "actual": line.actual, "self_rating": line.self_rating,
            "manager_rating": line.manager, "score": line.score, "weighted": line.weighted,
            "comment": line.comment,
        }))
    return rows


def _has_hr_decision(row: dict, appeal_grade: str | None) -> bool:
    return bool(row.get("calibrated_grade") or row.get("appeal_status") or appeal_grade)


def _appeal_grades(appeals: Iterable[dict]) -> dict[tuple, str]:
    """A decided appeal's revised grade, by (period, employee ID): it overrides the final grade."""
    out = {}
    for row in appeals:
        grade = grade_text(row.get("revised_grade"))
        if grade and row.get("employee_id"):
            out[(canonical_period(row.get("period")), str(row["employee_id"]))] = grade
    return out


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


def _summary_sort_key(row: dict) -> tuple:
    return (period_sort_key(row.get("period")), row.get("department") or "", row.get("team") or "",
            str(row.get("employee_id") or ""))


def _derive(rows: list[dict], appeal_grades: dict, rulebook: Rulebook, columns, run: _Run) -> None:
    grades = {g.grade for g in rulebook.grades}
    calibrated_col = [c.key for c in columns].index("calibrated_grade")
    for position, row in enumerate(rows):
        key = (row.get("period"), row.get("employee_id"))
        calibrated = grade_text(row.get("calibrated_grade"))
        if calibrated and calibrated not in grades:
            run.issue("master-grade-invalid", sheet=L.SUMMARY,
                      cell=a1(L.FIRST_DATA_ROW + position, calibrated_col), employee_id=row.get("employee_id"),
                      value=row.get("calibrated_grade"), expected="/".join(g.grade for g in rulebook.grades))
            calibrated = None
        appeal = appeal_grades.get(key)
        if appeal and appeal not in grades:
            appeal = None
        final = appeal or calibrated or row.get("system_grade")
        row["final_grade"] = final
        row["coefficient"] = rulebook.grade_band(final).coefficient if final in grades else None
        row["pip"] = L.YES if final in rulebook.outcomes.pip_grades else None
    _rank(rows)


def derive_final_grades(rows: list[dict], appeals: Iterable[dict], rulebook: Rulebook, *, now: dt.datetime,
                        user: str = "") -> list[dict]:
    """Final grade, coefficient, PIP and rank of 总表 ``rows`` (in place) by consolidation's rule,
    for commands that change 校准等级 or 申诉 outside a merge; returns 问题-style issue rows."""
    run = _Run(rulebook, now.replace(microsecond=0), user, str)
    _derive(rows, _appeal_grades(appeals), rulebook, L.summary_columns(rulebook), run)
    return run.issues


def _merge_summary(old: MasterData, winners: dict, roster, appeal_grades, run_periods: set, run: _Run,
                   detail_out: dict) -> tuple[list[dict], dict[str, int]]:
    rulebook = run.rulebook
    columns = L.summary_columns(rulebook)
    blank = {c.key: None for c in columns}
    old_rows: dict[tuple, dict] = {}
    doubles = []  # a second row HR made with the same key: kept as it is, never merged into
    for r in old.rows(L.SUMMARY):
        key = (r.get("period"), r.get("employee_id"))
        if key in old_rows:
            doubles.append(r)
            run.issue("master-duplicate-row", sheet=L.SUMMARY, employee_id=key[1], period=key[0])
        else:
            old_rows[key] = r
    rows = {key: dict(r) for key, r in old_rows.items()}
    provider: dict[tuple, FileReport] = {}
    names = _Names.of(rulebook)

    for report in sorted(winners.values(), key=_newest_first_key):
        for emp in report.employees:
            key = (canonical_period(report.period), emp.employee_id)
            if key in provider:
                run.issue("master-duplicate-employee", sheet=L.SUMMARY, employee_id=emp.employee_id, period=key[0],
                          first=run.label(provider[key].path), second=run.label(report.path))
            provider[key] = report
            rows[key] = {**rows.get(key, blank), **_source_values(report, emp, rulebook, roster, run)}
            detail_out[key] = _detail_rows(report, emp, names)

    # 参与强制分布 by calibration's rule from the status and start in post the row shows: a roster,
    # here or at calibrate, has already put its own into the row, so a later run without one agrees
    memo: dict = {}
    for row in rows.values():
        mark_distribution(row, rulebook, memo=memo)
    for key, row in rows.items():
        if key in provider:
            continue
        group = _group(row.get("period"), row.get("department"), row.get("team"))
        if group in winners:
            row["source_status"] = L.SOURCE_DROPPED
        elif group[0] in run_periods:
            row["source_status"] = L.SOURCE_MISSING

    # review: a system value changed under an HR decision
    counts = dict.fromkeys(("added", "updated", "unchanged", "marked_missing", "review"), 0)
    for key, row in rows.items():
        before = old_rows.get(key)
        if before is None or key not in provider:
            continue
        changed = [c for c in ("total", "system_grade")
                   if clean_value(L.SCORE if c == "total" else L.TEXT, row.get(c)) != before.get(c)]
        if changed and _has_hr_decision(before, appeal_grades.get(key)):
            if row.get("review") != L.REVIEW:
                run.audit(L.LOG_REVIEW, f"{key[0]}/{key[1]}", "复核标记 review", row.get("review"), L.REVIEW,
                          "校准或申诉结论已存在，系统分数变化 / system score changed under an HR decision")
            row["review"] = L.REVIEW
            counts["review"] += 1

    ordered = sorted(rows.values(), key=_summary_sort_key)
    _derive(ordered, appeal_grades, rulebook, columns, run)

    compared = [c for c in columns if c.owner != L.HR and c.key != "updated_at"]
    logged = {c.key for c in columns if c.owner == L.SOURCE} | {"source_status", "final_grade"}
    quiet = {"source_file", "source_sha256"}  # the submission's own 日志 row names the file
    out = []
    for row in ordered:
        row = clean_row(columns, row)
        key = (row.get("period"), row.get("employee_id"))
        before = old_rows.get(key)
        if before is None:
            row["updated_at"] = run.now
            counts["added"] += 1
            out.append(row)
            continue
        diffs = [c for c in compared if row.get(c.key) != before.get(c.key)]
        if diffs:
            row["updated_at"] = run.now
            missing_now = any(c.key == "source_status" for c in diffs) and row.get("source_status") != L.SOURCE_PRESENT
            counts["marked_missing" if missing_now else "updated"] += 1
            for c in diffs:
                if c.key in logged and c.key not in quiet:
                    action = {"source_status": L.LOG_SOURCE, "final_grade": L.LOG_FINAL}.get(c.key, L.LOG_UPDATE)
                    source = provider.get(key)
                    reason = (f"来自 from {run.label(source.path)}" if source else
                              "本期收件箱中没有该团队的有效提交 / no accepted file for the team in this run")
                    if c.key == "final_grade":
                        reason = "最终等级 = 申诉改定 > 校准等级 > 系统等级 / appeal > calibrated > system"
                    run.audit(action, f"{key[0]}/{key[1]}", c.zh, before.get(c.key), row.get(c.key), reason)
        elif key in provider:
            counts["unchanged"] += 1
        out.append(row)
    return out + [clean_row(columns, r) for r in doubles], counts


def _merge_detail(old_rows: list[dict], summary: list[dict], fresh: dict[tuple, list[dict]]) -> list[dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in old_rows:
        groups[(row.get("period"), row.get("employee_id"))].append(row)
    groups.update(fresh)
    out, placed = [], set()
    for row in summary:
        key = (row.get("period"), row.get("employee_id"))
        out += groups.get(key, [])
        placed.add(key)
    for key in sorted((k for k in groups if k not in placed), key=lambda k: (period_sort_key(k[0]), str(k[1]))):
        out += groups[key]
    return out


# --- 问题 --------------------------------------------------------------------------

def _finding_row(report: FileReport, finding, run: _Run) -> dict:
    fields = finding.to_dict() if hasattr(finding, "to_dict") else vars(finding)
    row = {c.key: fields.get(c.key) for c in L.ISSUE_COLUMNS}
    row["file"] = run.label(report.path)
    return clean_row(L.ISSUE_COLUMNS, row)


# --- the whole merge ------------------------------------------------------------

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


def _check_log_kept(old: MasterData, run: _Run) -> None:
    """日志 is append-only: fewer rows than the last write recorded means someone deleted some."""
    try:
        recorded = int(float(old.meta.get("log_rows") or ""))
    except ValueError:
        return
    found = len(old.rows(L.LOG))
    if found < recorded:
        run.audit(L.LOG_INTEGRITY, L.LOG, "行数 rows", recorded, found,
                  "日志行被删除，日志只可追加；原有记录见 backups 文件夹中的备份 / "
                  "audit rows were deleted; the log is append-only, see the backups folder")
        run.issue("master-log-shortened", sheet=L.LOG, value=found, expected=recorded)


def merge(old: MasterData, reports: Sequence[FileReport], rulebook: Rulebook, *, now: dt.datetime,
          roster: Mapping[str, Employee] | None = None, period: str | None = None,
          label: Callable[[str], str] = str, user: str = "") -> MergeResult:
    """Merge this run's validated ``reports`` into ``old`` (the master as read, or empty)."""
    run = _Run(rulebook, now.replace(microsecond=0), user, label)
    _check_log_kept(old, run)
    period = canonical_period(period)
    winners, superseded, rejected = _classify(reports, period)
    run_periods = {group[0] for group in winners} | ({period} if period else set())

    submissions, files = _merge_submissions(old.rows(L.SUBMISSIONS), reports, winners, superseded, rejected,
                                            run_periods, run)
    appeal_grades = _appeal_grades(old.rows(L.APPEALS))
    fresh_detail: dict[tuple, list[dict]] = {}
    summary, employees = _merge_summary(old, winners, roster, appeal_grades, run_periods, run, fresh_detail)
    detail = _merge_detail(old.rows(L.DETAIL), summary, fresh_detail)

    issues = [_finding_row(r, f, run) for r in sorted(reports, key=lambda r: r.path) for f in r.findings]
    issues += [clean_row(L.ISSUE_COLUMNS, row) for row in run.issues]

    new = MasterData(
        sheets={
            L.SUMMARY: summary,
            L.DETAIL: detail,
            L.SUBMISSIONS: submissions,
            L.ISSUES: issues,
            L.APPEALS: list(old.rows(L.APPEALS)),
            L.ANNUAL: list(old.rows(L.ANNUAL)),
            L.LOG: list(old.rows(L.LOG)) + [clean_row(L.LOG_COLUMNS, row) for row in run.log],
            # HR's settings for the add-in: kept as HR typed them (an older master without the sheet gets it)
            L.SETTINGS: L.settings_rows() if L.SETTINGS in old.missing_sheets else list(old.rows(L.SETTINGS)),
        },
        meta={**old.meta, **master_meta(rulebook)},
        extra_headers={k: list(v) for k, v in old.extra_headers.items()},
    )
    wanted = master_meta(rulebook)
    changed = (bool(run.log) or bool(old.missing_sheets) or any(old.meta.get(k) != v for k, v in wanted.items())
               or sheets_differ(old, new, rulebook))

    over = []
    for row in distribution_rows(summary, rulebook):
        if row["_breach"] and row["period"] in run_periods:
            where = row["department"] if row["level"] == L.LEVEL_DEPARTMENT else f"{row['department']}/{row['team']}"
            over.append(f"{row['period']} {where}: {row['over_quota']}")
    return MergeResult(new, changed, files, employees, over, len(run.log))
