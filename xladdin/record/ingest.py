"""Consolidation into the record: validated files -> submissions, findings and results, in one transaction.

The rules (one copy; the master only shows their outcome):

- A file already in the record (same SHA-256) is not read again: it keeps its
  standing (accepted, rejected, superseded). Copies of one file in an inbox are one
  submission. Every file of the run still gets a receipt (its path, this run's
  time, and the submission holding its bytes; xladdin/record/receipts.py).
- A file is rejected when it has error findings, when its period or team is
  unknown, or when it is not of the period the run is for.
- Of the new files of one team and period, the newest wins (the workbook's own
  saved time, docProps modified; else the file's mtime; then the name); the
  others are superseded. The winner replaces the team's accepted submission
  in the record, which becomes superseded, unless the winner was saved
  *before* it: an older draft arriving in a later run is refused with
  ``team-older-than-accepted`` (HR may pass ``accept_older``, which is logged).
- The accepted file's employees replace their results (key: period and
  employee ID); an employee of the team's previous file missing from the new
  one keeps the row, marked "not in latest file"; a change of total or system
  grade under an HR decision marks the row for review. Nothing is deleted.
- A team's accepted file that is no longer in the inbox marks its rows
  "source missing" (the results stay); they are present again when it returns.

Reports are read one at a time through :class:`Incoming.load`, so the run's
memory does not grow with the number of files.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import sqlalchemy as sa

from kpisheet.validators.findings import make_finding
from kpisheet.validators.report import FileReport
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import UNIT_LABELS, Rulebook

from kpisheet.validators.policy.periods import canonical_text as canonical_period
from kpisheet.xladdin.record import audit, decisions as D, schema as S, words as W
from kpisheet.xladdin.record.receipts import COPY, KNOWN, NEW, Receipt, add_receipts, move_receipts, unseen
from kpisheet.xladdin.record.store import Tx, dumps, shown
from kpisheet.xladdin.record.words import ACCEPTED, REJECTED, STATUS_SHOWN, SUPERSEDED

FINDING_FIELDS = ("code", "severity", "sheet", "cell", "employee_id", "indicator", "value", "expected",
                  "message_zh", "message_en", "hint")


@dataclass
class Incoming:
    """One file of this run, without its heavy parts (employees, findings): ``load()`` brings them."""

    path: str
    label: str
    sha256: str | None
    accepted: bool
    department: str | None
    team: str | None
    period: str | None
    saved_at: dt.datetime | None
    saved_by: str | None
    mtime: dt.datetime | None
    errors: int
    warnings: int
    load: Callable[[], FileReport]
    added: list = field(default_factory=list)   # findings this run adds (older than accepted, ...)
    codes: list = field(default_factory=list)   # its error codes, for the run's summary
    # every finding on the file once the record has taken it (its validation's and this run's), for the
    # caller's report: findings are few, the heavy parts (employees, indicators) stay in the spool
    findings: tuple = ()

    @property
    def group(self) -> tuple:
        return (self.period, self.department or "", self.team or "")

    @property
    def stamp(self) -> dt.datetime:
        return self.saved_at or self.mtime or dt.datetime.min


def saved_time(text: str | None) -> dt.datetime | None:
    """docProps' W3CDTF time ("2026-04-01T09:30:00Z") as local time without zone, or None."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone().replace(tzinfo=None)
    return moment.replace(microsecond=0)


def incoming(report: FileReport, label: str, load: Callable[[], FileReport] | None = None) -> Incoming:
    mtime = dt.datetime.fromtimestamp(report.modified).replace(microsecond=0) if report.modified else None
    return Incoming(report.path, label, report.sha256, report.accepted, report.department, report.team,
                    canonical_period(report.period), saved_time(report.extra.get("saved_at")),
                    report.extra.get("saved_by") or None, mtime, report.count("error"), report.count("warning"),
                    load or (lambda: report))


@dataclass
class IngestOutcome:
    files: dict[str, list[str]]      # accepted / unchanged / rejected / superseded / missing -> labels
    employees: dict[str, int]        # added / updated / unchanged / marked_missing / review
    periods: set[str]                # the periods this run touched
    log: list[dict]                  # 日志 rows appended


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _newest_first(item: Incoming) -> tuple:
    return (item.stamp, item.mtime or dt.datetime.min, os.path.basename(item.path), item.path)


def _rejection(item: Incoming, period: str | None) -> str | None:
    if not item.accepted:
        return f"{item.errors} 个错误 error(s)"
    if not item.period or not item.team:
        return "无法确定期间或团队 period or team unknown"
    if period and item.period != period:
        return f"期间 {item.period} 不是本次的 {period} / not the period of this run"
    return None


# the result fields whose changes 日志 records, with the words it shows (the master passes its own headers)
LOGGED_FIELDS = ("name", "department", "team", "role", "manager", "status", "post_start", "bonus", "veto", "total",
                 "system_grade", "feedback", "pip_shortfalls", "pip_actions", "pip_owner", "pip_due")


class _Run:
    def __init__(self, tx: Tx, rulebook: Rulebook, roster: Mapping[str, Employee] | None,
                 labels: Mapping[str, str], sheet: str):
        self.tx = tx
        self.rulebook = rulebook
        self.roster = roster
        self.sheet = sheet
        self.log: list[dict] = []
        self.files: dict[str, list[str]] = {k: [] for k in ("accepted", "unchanged", "rejected", "superseded",
                                                            "missing")}
        self.employees = dict.fromkeys(("added", "updated", "unchanged", "marked_missing", "review"), 0)
        self.indicators = {i.code: (i.name_zh, UNIT_LABELS[i.unit][0]) for i in rulebook.indicators}
        self.categories = {c.code: c.name_zh for c in rulebook.categories}
        self._detailed: dict[str, set[str]] = {}
        self.logged = [(key, labels.get(key, key)) for key in LOGGED_FIELDS]
        self.logged += [(f"subtotal_{c.code}", labels.get(f"subtotal_{c.code}", c.name_zh)) for c in rulebook.categories]

    def detailed(self, period: str) -> set[str]:
        """The employees with indicator rows in ``period``: read once per run, kept up to date by the caller."""
        if period not in self._detailed:
            i = S.indicators
            self._detailed[period] = set(self.tx.conn.execute(
                sa.select(i.c.employee_id).where(i.c.period == period).distinct()).scalars())
        return self._detailed[period]

    def audit(self, action: str, key: str, column: str, old, new, reason: str, period: str | None = None) -> None:
        self.log.append({"time": self.tx.now, "action": action, "key": key, "column": column,
                         "old": shown(old) or "", "new": shown(new) or "", "reason": reason, "by": self.tx.user,
                         "period": period})


def ingest(tx: Tx, items: Sequence[Incoming], *, rulebook: Rulebook, roster: Mapping[str, Employee] | None = None,
           period: str | None = None, seen: Iterable[str] | None = None, accept_older: bool = False,
           labels: Mapping[str, str] | None = None, sheet: str = "") -> IngestOutcome:
    """Record this run's files; ``seen`` is every SHA-256 in the run's inbox (default: the items').

    ``labels`` name result fields in 日志 (the master's headers); ``sheet`` is the name under which the
    master shows results, for the findings about them."""
    run = _Run(tx, rulebook, roster, labels or {}, sheet)
    conn = tx.conn
    period = canonical_period(period)
    seen = set(seen) if seen is not None else {i.sha256 for i in items if i.sha256}

    known = _known(conn, [i.sha256 for i in items if i.sha256])
    fresh: list[Incoming] = []
    held_periods = set()
    every = list(items)
    items, copies = _one_of_each_content(items)
    holder: dict[int, tuple[int, str]] = {}   # id(item) -> (the submission holding its bytes, receipt kind)
    for item, original in copies:
        run.files["superseded"].append(item.label)
        if item.sha256 in known:  # logged when its content was first received; its receipt says it again
            continue
        run.audit(W.LOG_SUBMISSION, item.label, "状态 status", None, STATUS_SHOWN[SUPERSEDED],
                  f"与 {original.label} 内容完全相同 / the same bytes as {original.label}", item.period)
    for item in items:
        status, held_period, held_id = known.get(item.sha256, (None, None, None)) if item.sha256 else (None,) * 3
        if held_id is not None:
            holder[id(item)] = (held_id, KNOWN)
        if status is None:
            fresh.append(item)
        else:
            run.files["unchanged" if status == ACCEPTED else ("rejected" if status == REJECTED else "superseded")] \
                .append(item.label)
            if status == ACCEPTED and held_period:
                held_periods.add(held_period)

    verdicts: dict[int, tuple[str, str | None]] = {}
    groups: dict[tuple, list[Incoming]] = defaultdict(list)
    for index, item in enumerate(fresh):
        why = _rejection(item, period)
        if why:
            verdicts[index] = (REJECTED, why)
        else:
            groups[item.group].append(item)
    current = _accepted_by_group(conn, {g[0] for g in groups})
    winners: dict[tuple, Incoming] = {}
    position = {id(item): index for index, item in enumerate(fresh)}
    for group, found in groups.items():
        found.sort(key=_newest_first, reverse=True)
        winner, held = found[0], current.get(group)
        if held is not None and winner.stamp < _stamp(held) and not accept_older:
            for item in found:
                item.added.append(make_finding(
                    "team-older-than-accepted", value=item.stamp.isoformat(" "), expected=_stamp(held).isoformat(" "),
                    other=held["path"]))
                verdicts[position[id(item)]] = (REJECTED, f"早于已接受的 {held['path']} / older than the accepted file")
            continue
        if held is not None and winner.stamp < _stamp(held):
            run.audit(W.LOG_ACCEPT_OLDER, winner.label, "状态 status", STATUS_SHOWN[SUPERSEDED], STATUS_SHOWN[ACCEPTED],
                      f"HR 指定 --accept-older：比 {held['path']} 旧 / older than the accepted file, taken on HR's "
                      "word", group[0])
        winners[group] = winner
        verdicts[position[id(winner)]] = (ACCEPTED, None)
        for item in found[1:]:
            verdicts[position[id(item)]] = (SUPERSEDED, f"被 {winner.label} 替代 / superseded by it")

    provided: dict[tuple[str, str], str] = {}
    for index, item in enumerate(fresh):
        status, note = verdicts[index]
        report = item.load()
        item.findings = tuple(report.findings) + tuple(item.added)
        submission = _insert_submission(run, item, report, status, note)
        holder[id(item)] = (submission, NEW)
        if status == ACCEPTED:
            _take_results(run, item, report, submission, current.get(item.group), provided)
        del report
        run.files[{ACCEPTED: "accepted", REJECTED: "rejected", SUPERSEDED: "superseded"}[status]].append(item.label)
        run.audit(W.LOG_SUBMISSION, item.label, "状态 status", None, STATUS_SHOWN[status],
                  note or f"{item.team or ''} {item.period or ''}".strip(), item.period)

    run_periods = {g[0] for g in winners} | held_periods | ({period} if period else set())
    _mark_sources(run, run_periods, seen)
    _touch_periods(run, run_periods)
    if roster:
        record_teams(tx, run_periods, roster)
    audit.append(tx, run.log)
    for item, original in copies:
        holder[id(item)] = (holder[id(original)][0], COPY)
    # every file of the run whose path and content the record does not hold yet is a receipt, by path: the
    # files are validated in parallel, so the order they come in is no order
    receipts = unseen(conn, [Receipt(i.label, i.sha256, *holder[id(i)]) for i in sorted(every, key=lambda i: i.label)])
    if add_receipts(conn, receipts, at=tx.now, by=tx.user, generation=tx.generation) or fresh:
        tx.touch()
    return IngestOutcome(run.files, run.employees, run_periods, run.log)


def _one_of_each_content(items: Sequence[Incoming]) -> tuple[list[Incoming], list[tuple[Incoming, Incoming]]]:
    """(the items with one file per content, [(a copy, the file kept for its bytes)]).

    The record keeps a submission per content (SHA-256): copies of one file in an inbox are one
    submission, the newest of them (as teams' files are ordered), and the others are logged as copies."""
    kept: dict[str, Incoming] = {}
    for item in items:
        if item.sha256 is None:
            continue
        other = kept.get(item.sha256)
        if other is None or _newest_first(item) > _newest_first(other):
            kept[item.sha256] = item
    unique = [i for i in items if i.sha256 is None or kept[i.sha256] is i]
    copies = [(i, kept[i.sha256]) for i in items if i.sha256 is not None and kept[i.sha256] is not i]
    return unique, copies


def _stamp(row: Mapping) -> dt.datetime:
    return row["saved_at"] or row["file_mtime"] or dt.datetime.min


def _known(conn: sa.Connection, shas: list[str]) -> dict[str, tuple[str, str | None, int]]:
    """sha256 -> (status, period, id) of the submission holding those bytes."""
    out = {}
    s = S.submissions
    for chunk in _chunks(sorted(set(shas))):
        for sha, status, held, number in conn.execute(sa.select(s.c.sha256, s.c.status, s.c.period, s.c.id)
                                                      .where(s.c.sha256.in_(chunk))):
            out[sha] = (status, held, number)
    return out


def _accepted_by_group(conn: sa.Connection, periods: set) -> dict[tuple, dict]:
    s = S.submissions
    out = {}
    if not periods:
        return out
    query = sa.select(s.c.id, s.c.path, s.c.period, s.c.department, s.c.team, s.c.saved_at, s.c.file_mtime) \
        .where(s.c.status == ACCEPTED, s.c.period.in_(sorted(periods)))
    for row in conn.execute(query).mappings():
        out[(row["period"], row["department"] or "", row["team"] or "")] = dict(row)
    return out


def _insert_submission(run: _Run, item: Incoming, report: FileReport, status: str, note: str | None) -> int:
    conn = run.tx.conn
    findings = list(report.findings) + list(item.added)
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = sum(1 for f in findings if f.severity == "warning")
    row = {"sha256": item.sha256, "path": item.label, "department": item.department, "team": item.team,
           "period": item.period, "saved_at": item.saved_at, "saved_by": item.saved_by, "file_mtime": item.mtime,
           "received_at": run.tx.now, "received_by": run.tx.user, "status": status, "errors": errors,
           "warnings": warnings, "note": note, "generation": run.tx.generation}
    stale = []
    if item.sha256 is None:  # an unreadable file: one row per path, refreshed (its receipts stay, moved to it)
        stale = conn.execute(sa.select(S.submissions.c.id).where(
            S.submissions.c.sha256.is_(None), S.submissions.c.path == item.label)).scalars().all()
    submission = conn.execute(sa.insert(S.submissions).values(**row).returning(S.submissions.c.id)).scalar_one()
    if stale:
        move_receipts(conn, stale, submission)
        conn.execute(sa.delete(S.submissions).where(S.submissions.c.id.in_(stale)))
    store_findings(conn, submission, findings)
    return submission


def store_findings(conn: sa.Connection, submission: int, findings: Iterable) -> None:
    rows = []
    for finding in findings:
        fields = finding.to_dict() if hasattr(finding, "to_dict") else vars(finding)
        row = {k: fields.get(k) for k in FINDING_FIELDS}
        for k in ("value", "expected", "sheet", "cell", "employee_id", "indicator"):
            row[k] = shown(row[k])
        rows.append({"submission_id": submission, **row})
    for chunk in _chunks(rows):
        conn.execute(sa.insert(S.findings), chunk)


def _role_name(rulebook: Rulebook, role: str | None) -> str | None:
    found = rulebook.role_by_name(role) if role else None
    return found.name_zh if found else role


def _veto_name(rulebook: Rulebook, veto: str | None) -> str | None:
    for item in rulebook.scoring.vetoes:
        if veto in (item.code, item.name_zh, item.name_en):
            return item.name_zh
    return veto


RESULT_COLUMNS = tuple(c.name for c in S.results.columns)


def _result_row(run: _Run, item: Incoming, emp, submission: int, cell: str | None) -> dict:
    rulebook = run.rulebook
    values = {
        "period": item.period, "employee_id": emp.employee_id, "submission_id": submission, "name": emp.name,
        "department": item.department, "team": item.team, "role": _role_name(rulebook, emp.role),
        "subtotals": dumps({c.code: emp.subtotals.get(c.code) for c in rulebook.categories}),
        "bonus": emp.bonus, "veto": _veto_name(rulebook, emp.veto), "total": emp.total, "system_grade": emp.grade,
        "feedback": emp.feedback or None, "pip_shortfalls": emp.pip_shortfalls or None,
        "pip_actions": emp.pip_actions or None, "pip_owner": emp.pip_owner or None, "pip_due": emp.pip_due or None,
        "source_file": item.label, "source_sha256": item.sha256, "source_status": W.SOURCE_PRESENT,
        "source_cell": cell, "updated_at": run.tx.now,
    }
    person = (run.roster or {}).get(emp.employee_id)
    if person is not None:  # without a roster these keep what an earlier run found
        boss = (run.roster or {}).get(person.manager_id) if person.manager_id else None
        values["manager"] = f"{boss.name}（{boss.employee_id}）" if boss else person.manager_id
        values["status"] = person.status
        values["post_start"] = person.post_start
    return values


def _indicator_rows(run: _Run, item: Incoming, emp) -> list[dict]:
    rows = []
    for position, line in enumerate(emp.indicators):
        name, unit = run.indicators.get(line.code, (line.code, None))
        rows.append({
            "period": item.period, "employee_id": emp.employee_id, "code": line.code, "position": position,
            "department": item.department, "team": item.team, "name": emp.name,
            "category": run.categories.get(line.category, line.category), "indicator": name, "unit": unit,
            "weight": line.weight, "floor": line.floor, "target": line.target, "challenge": line.challenge,
            "actual": line.actual, "self_rating": line.self_rating, "manager_rating": line.manager,
            "score": line.score, "weighted": line.weighted, "comment": line.comment or None,
        })
    return rows


def _summary_value(row: Mapping, key: str):
    if key.startswith("subtotal_"):
        import json

        return (json.loads(row.get("subtotals") or "{}") or {}).get(key[len("subtotal_"):])
    return row.get(key)


def _take_results(run: _Run, item: Incoming, report: FileReport, submission: int, held: dict | None,
                  provided: dict) -> None:
    conn, period = run.tx.conn, item.period
    r = S.results
    cells = report.extra.get("summary_cells", {})
    if held is not None:
        conn.execute(sa.update(S.submissions).where(S.submissions.c.id == held["id"])
                     .values(status=SUPERSEDED, note=f"被 {item.label} 替代 / superseded by it"))
        run.files["superseded"].append(held["path"])
        run.audit(W.LOG_SUBMISSION, held["path"], "状态 status", STATUS_SHOWN[ACCEPTED], STATUS_SHOWN[SUPERSEDED],
                  f"被 {item.label} 替代 / superseded by it", period)
    ids = [emp.employee_id for emp in report.employees]
    existing = {}
    for chunk in _chunks(ids):
        for row in conn.execute(sa.select(r).where(r.c.period == period, r.c.employee_id.in_(chunk))).mappings():
            existing[row["employee_id"]] = dict(row)
    hr = D.values_as_of(conn, W.DECISION_SUMMARY, periods=[period]) if existing else {}
    appeals = D.values_as_of(conn, W.DECISION_APPEALS, periods=[period]) if existing else {}
    inserts, updates, detail = [], [], []
    for emp in report.employees:
        key = (period, emp.employee_id)
        if key in provided and provided[key] != item.label:
            run.audit(W.LOG_UPDATE, f"{period}/{emp.employee_id}", "来源文件", provided[key], item.label,
                      make_finding("master-duplicate-employee", sheet=run.sheet, employee_id=emp.employee_id,
                                   period=period, first=provided[key], second=item.label).message_zh, period)
            store_findings(conn, submission, [make_finding(
                "master-duplicate-employee", sheet=run.sheet, employee_id=emp.employee_id, period=period,
                first=provided[key], second=item.label)])
        provided[key] = item.label
        values = _result_row(run, item, emp, submission, cells.get(emp.employee_id))
        before = existing.get(emp.employee_id)
        detail += _indicator_rows(run, item, emp)
        if before is None:
            inserts.append({"manager": None, "status": None, "post_start": None, **values})
            run.employees["added"] += 1
            continue
        merged = {**before, **values}
        label = f"{period}/{emp.employee_id}"
        changed = [(k, zh) for k, zh in run.logged if shown(_summary_value(merged, k)) != shown(_summary_value(before, k))]
        for key_name, zh in changed:
            run.audit(W.LOG_UPDATE, label, zh, _summary_value(before, key_name), _summary_value(merged, key_name),
                      f"来自 from {item.label}", period)
        scored = {"total", "system_grade"} & {k for k, _zh in changed}
        decided = hr.get(key, {})
        if scored and (decided.get("calibrated_grade") or decided.get("appeal_status") or
                       appeals.get(key, {}).get("revised_grade")):
            if before.get("review") != W.REVIEW:
                run.audit(W.LOG_REVIEW, label, "复核标记 review", before.get("review"), W.REVIEW,
                          "校准或申诉结论已存在，系统分数变化 / system score changed under an HR decision", period)
            merged["review"] = W.REVIEW
            run.employees["review"] += 1
        if changed or before.get("source_file") != item.label or before.get("source_status") != W.SOURCE_PRESENT:
            updates.append(merged)
            run.employees["updated"] += 1
        else:
            merged["updated_at"] = before.get("updated_at")
            updates.append(merged)
            run.employees["unchanged"] += 1
    for chunk in _chunks(inserts):
        conn.execute(sa.insert(r), chunk)
    for row in updates:
        conn.execute(sa.update(r).where(r.c.period == period, r.c.employee_id == row["employee_id"])
                     .values({k: row[k] for k in RESULT_COLUMNS if k not in ("period", "employee_id")}))
    # only those who have indicator rows in the period have rows to replace: a first run's thousands of
    # files delete nothing
    detailed = run.detailed(period)
    for chunk in _chunks([i for i in ids if i in detailed]):
        conn.execute(sa.delete(S.indicators).where(S.indicators.c.period == period,
                                                   S.indicators.c.employee_id.in_(chunk)))
    detailed.update(ids)
    for chunk in _chunks(detail, 2000):
        conn.execute(sa.insert(S.indicators), chunk)
    if held is not None:  # the team's previous file held people this one does not
        dropped = conn.execute(sa.select(r.c.employee_id).where(
            r.c.period == period, r.c.submission_id == held["id"])).scalars().all()
        for employee_id in dropped:
            conn.execute(sa.update(r).where(r.c.period == period, r.c.employee_id == employee_id)
                         .values(source_status=W.SOURCE_DROPPED, updated_at=run.tx.now))
            run.audit(W.LOG_SOURCE, f"{period}/{employee_id}", "来源状态", W.SOURCE_PRESENT, W.SOURCE_DROPPED,
                      f"不在 {item.label} 中 / not in the team's latest file", period)
            run.employees["marked_missing"] += 1


def _mark_sources(run: _Run, periods: set, seen: set) -> None:
    """Rows of an accepted file no longer in the inbox are marked missing; present again when it is back."""
    if not periods:
        return
    conn, r, s = run.tx.conn, S.results, S.submissions
    accepted = conn.execute(sa.select(s.c.id, s.c.sha256, s.c.path, s.c.period).where(
        s.c.status == ACCEPTED, s.c.period.in_(sorted(periods)))).mappings().all()
    # the periods' results read once, by submission (one query per submission scanned every result:
    # quadratic in files x people, ~250 s of a 100,000-person consolidation)
    rows_of: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for submission_id, employee_id, status in conn.execute(
            sa.select(r.c.submission_id, r.c.employee_id, r.c.source_status)
            .where(r.c.period.in_(sorted(periods))).order_by(r.c.submission_id, r.c.employee_id)):
        rows_of[submission_id].append((employee_id, status))
    for sub in accepted:
        present = sub["sha256"] in seen
        wanted, other = (W.SOURCE_PRESENT, W.SOURCE_MISSING) if present else (W.SOURCE_MISSING, W.SOURCE_PRESENT)
        flipped = [employee_id for employee_id, status in rows_of.get(sub["id"], ()) if status == other]
        if not present:
            run.files["missing"].append(sub["path"])
        for employee_id in flipped:
            conn.execute(sa.update(r).where(r.c.period == sub["period"], r.c.employee_id == employee_id)
                         .values(source_status=wanted, updated_at=run.tx.now))
            run.audit(W.LOG_SOURCE, f"{sub['period']}/{employee_id}", "来源状态", other, wanted,
                      f"来自 from {sub['path']}" if present else
                      "本期收件箱中没有该团队的有效提交 / no accepted file for the team in this run", sub["period"])
            if not present:
                run.employees["marked_missing"] += 1
        if flipped:
            run.tx.touch()


def _touch_periods(run: _Run, periods: set) -> None:
    conn = run.tx.conn
    for period in sorted(periods):
        row = conn.execute(sa.select(S.periods.c.state).where(S.periods.c.period == period)).first()
        if row is None:
            conn.execute(sa.insert(S.periods).values(period=period, state="scored", last_run=run.tx.generation,
                                                     updated_at=run.tx.now))
        elif row.state == "open":
            conn.execute(sa.update(S.periods).where(S.periods.c.period == period)
                         .values(state="scored", updated_at=run.tx.now))


def record_teams(tx: Tx, periods: Iterable[str], roster: Mapping[str, Employee]) -> None:
    """The roster's teams for ``periods`` (the tracker's list of who should submit), when they changed."""
    from kpisheet.validators.checks.team import team_members
    from kpisheet.validators.policy.periods import PeriodError, parse_period
    from kpisheet.validators.roster import team_managers, teams as roster_teams

    people = list(roster.values())
    groups = roster_teams(people)
    managers = team_managers(people)
    conn = tx.conn
    for period in sorted(periods):
        try:
            parsed = parse_period(period)
        except PeriodError:
            continue
        wanted = {}
        for (department, team), members in groups.items():
            present = team_members(members, department, team, parsed)
            if not present:
                continue
            boss = managers.get((department, team))
            wanted[(department, team)] = {
                "manager_id": boss.employee_id if boss else None, "manager_name": boss.name if boss else None,
                "headcount": len(present)}
        held = {(r.department, r.team): {"manager_id": r.manager_id, "manager_name": r.manager_name,
                                         "headcount": r.headcount}
                for r in conn.execute(sa.select(S.teams).where(S.teams.c.period == period))}
        if held == wanted:
            continue
        conn.execute(sa.delete(S.teams).where(S.teams.c.period == period))
        conn.execute(sa.insert(S.teams), [{"period": period, "department": d, "team": t, **v, "updated_at": tx.now}
                                          for (d, t), v in sorted(wanted.items())])
        tx.touch()
