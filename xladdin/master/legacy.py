"""A master made before the cycle record (or any master's rows) taken into a record, nothing left behind.

HR upgrading from a kpisheet without the record has a master that *is* the
record: its 总表, 指标明细, 提交, 问题, 申诉, 年度, 日志 and 设置 rows are imported
as they stand (results, submissions, findings, HR's cells as decisions, audit
entries with their own times), once, before the master is regenerated from
the record. :func:`merge` uses the same import to run the
consolidation rules on a master's rows held in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Callable, Mapping, Sequence

import sqlalchemy as sa

from kpisheet.validators.report import FileReport
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Rulebook

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.layout import MasterData
from kpisheet.xladdin.master.merge import MergeResult, canonical_period, sheets_differ
from kpisheet.xladdin.master.record_view import (
    PUBLISHED_PREFIX, SHEET_OF_DECISIONS, Scope, load_view, save_derived,
)
from kpisheet.xladdin.master.write_back import display_only, hr_changes, hr_fields, record_settings
from kpisheet.xladdin.record import audit, decisions as D, schema as S, words as W
from kpisheet.xladdin.record.ingest import incoming, ingest
from kpisheet.xladdin.record.receipts import KNOWN, NEW, Receipt, add_receipts
from kpisheet.xladdin.record.store import Tx, dumps, open_store

_STATUS = {W.SUB_ACCEPTED: W.ACCEPTED, W.SUB_REJECTED: W.REJECTED, W.SUB_SUPERSEDED: W.SUPERSEDED,
           W.SUB_WITHDRAWN: W.WITHDRAWN, W.SUB_MISSING: W.ACCEPTED,
           W.SUB_SAME_CONTENT: W.SUPERSEDED}  # a twin whose file is no longer listed does not stand
_RESULT_FIELDS = tuple(c.name for c in S.results.columns if c.name not in ("subtotals", "submission_id",
                                                                            "source_cell"))


def _datetime(value) -> dt.datetime | None:
    return value if isinstance(value, dt.datetime) else None


def import_master(tx: Tx, data: MasterData, rulebook: Rulebook) -> int:
    """Put every row of ``data`` into the (empty for these keys) record; returns the rows taken."""
    conn = tx.conn
    taken = 0
    ids: dict[str, int] = {}
    rows = [row for row in data.rows(L.SUBMISSIONS) if row.get("path")]
    held: dict[int, int] = {}   # id(row) -> the submission holding its bytes
    by_sha: dict[str, int] = {}
    # a row shown as the same content as another file is a receipt of that file's submission: those last
    for row in sorted(rows, key=lambda r: r.get("status") == W.SUB_SAME_CONTENT):
        sha = row.get("sha256")
        if sha and sha not in by_sha:
            by_sha[sha] = conn.execute(sa.select(S.submissions.c.id).where(S.submissions.c.sha256 == sha)).scalar()
        if sha and by_sha[sha] is not None:
            held[id(row)] = by_sha[sha]
            continue
        modified = _datetime(row.get("modified"))
        held[id(row)] = ids[row["path"]] = conn.execute(sa.insert(S.submissions).values(
            sha256=sha, path=row["path"], department=row.get("department"), team=row.get("team"),
            period=canonical_period(row.get("period")), saved_at=None, saved_by=row.get("saved_by"),
            file_mtime=modified, received_at=_datetime(row.get("first_seen")) or tx.now, received_by=None,
            status=_STATUS.get(row.get("status"), W.ACCEPTED), errors=int(row.get("errors") or 0),
            warnings=int(row.get("warnings") or 0), note=row.get("note"), generation=tx.generation)
            .returning(S.submissions.c.id)).scalar_one()
        if sha:
            by_sha[sha] = held[id(row)]
        taken += 1
    made: set[int] = set()
    for row in rows:  # every row is a receipt (a file received in some run), in the sheet's order
        number = held[id(row)]
        add_receipts(conn, [Receipt(row["path"], row.get("sha256"), number, KNOWN if number in made else NEW)],
                     at=_datetime(row.get("first_seen")) or tx.now, by=None, generation=tx.generation)
        made.add(number)
    findings = []
    for row in data.rows(L.ISSUES):
        if row.get("file") in ids:
            findings.append({"submission_id": ids[row["file"]], **{k: _text(row.get(k)) for k in (
                "code", "severity", "sheet", "cell", "employee_id", "indicator", "value", "expected", "message_zh",
                "message_en", "hint")}})
    if findings:
        conn.execute(sa.insert(S.findings), findings)
    by_sha = {sha: i for sha, i in conn.execute(sa.select(S.submissions.c.sha256, S.submissions.c.id))}
    results, periods = [], set()
    for row in data.rows(L.SUMMARY):
        period = canonical_period(row.get("period"))
        if not period or not row.get("employee_id"):
            continue
        values = {k: row.get(k) for k in _RESULT_FIELDS}
        if display_only(values.get("review")):
            values["review"] = None
        values.update(period=period, employee_id=str(row["employee_id"]),
                      submission_id=by_sha.get(row.get("source_sha256")),
                      subtotals=dumps({c.code: row.get(f"subtotal_{c.code}") for c in rulebook.categories}))
        results.append(values)
        periods.add(period)
    if results:
        conn.execute(sa.insert(S.results), results)
    positions: dict[tuple, int] = defaultdict(int)
    detail = []
    for row in data.rows(L.DETAIL):
        key = (canonical_period(row.get("period")), str(row.get("employee_id") or ""))
        if not key[0] or not key[1] or not row.get("code"):
            continue
        detail.append({**{c.key: row.get(c.key) for c in L.DETAIL_COLUMNS}, "period": key[0], "employee_id": key[1],
                       "position": positions[key]})
        positions[key] += 1
    for start in range(0, len(detail), 2000):
        conn.execute(sa.insert(S.indicators), detail[start:start + 2000])
    for sheet in (L.SUMMARY, L.APPEALS, L.ANNUAL):
        extra = data.extra_headers.get(sheet, []) if sheet in (L.SUMMARY, L.APPEALS, L.ANNUAL) else []
        D.record(tx, SHEET_OF_DECISIONS[sheet], hr_changes(sheet, rulebook, {}, data.rows(sheet), extra),
                 source=D.SOURCE_MASTER)
    appeal_hr = set(hr_fields(L.APPEALS, rulebook)) | {"period", "employee_id"}
    for row in data.rows(L.APPEALS):
        period = canonical_period(row.get("period"))
        if period and row.get("employee_id"):
            conn.execute(sa.insert(S.appeals).values(period=period, employee_id=str(row["employee_id"]), updated_at=tx.now,
                                                     row=dumps({c.key: row.get(c.key) for c in L.APPEAL_COLUMNS
                                                                if c.key not in appeal_hr})))
    annual_hr = set(hr_fields(L.ANNUAL, rulebook)) | {"year", "employee_id"}
    for row in data.rows(L.ANNUAL):
        if row.get("year") and row.get("employee_id"):
            conn.execute(sa.insert(S.annual).values(year=str(row["year"]), employee_id=str(row["employee_id"]),
                                                    updated_at=tx.now,
                                                    row=dumps({c.key: row.get(c.key) for c in L.annual_columns(rulebook)
                                                               if c.key not in annual_hr})))
    record_settings(tx, L.settings_rows(), data.rows(L.SETTINGS), source=D.SOURCE_MASTER)
    audit.append(tx, [dict(row) for row in data.rows(L.LOG)])
    for period in sorted(periods):
        published = data.meta.get(PUBLISHED_PREFIX + period)
        conn.execute(sa.insert(S.periods).values(
            period=period, state="published" if published else "scored",
            published=dt.date.fromisoformat(published[:10]) if published else None, updated_at=tx.now))
    if taken or results or data.rows(L.LOG) or data.rows(L.APPEALS):
        tx.touch()
    return taken + len(results)


def _text(value):
    from kpisheet.xladdin.record.store import shown

    return shown(value)


def merge(old: MasterData, reports: Sequence[FileReport], rulebook: Rulebook, *, now: dt.datetime,
                    roster: Mapping[str, Employee] | None = None, period: str | None = None,
                    label: Callable[[str], str] = str, user: str = "") -> MergeResult:
    """The consolidation rules on ``old`` (a master's rows) and ``reports``, through a record in memory."""
    store = open_store("sqlite://")
    try:
        with store.writing(now=now, user=user) as tx:
            import_master(tx, old, rulebook)
            mark = len(old.rows(L.LOG))
            outcome = ingest(tx, [incoming(r, label(r.path)) for r in reports], rulebook=rulebook, roster=roster,
                             period=period, labels={c.key: c.zh for c in L.summary_columns(rulebook)},
                             sheet=L.SUMMARY)
            periods = sorted({canonical_period(r.get("period")) for r in old.rows(L.SUMMARY)} | outcome.periods,
                             key=str)
            from kpisheet.xladdin.master.views import period_sort_key

            periods = tuple(sorted((p for p in periods if p), key=period_sort_key))
            years = tuple(sorted({str(r.get("year")) for r in old.rows(L.ANNUAL) if r.get("year")}))
            view = load_view(tx.conn, rulebook, Scope(periods, years, ""))
            save_derived(tx, view)
            data = view.data
            # the record in memory goes with this function: its 指标明细 rows are held, not read later
            data.sheets[L.DETAIL] = list(data.rows(L.DETAIL))
            data.meta = {**old.meta, **data.meta}
            log_rows = len(data.rows(L.LOG)) - mark
            tx.touch()
    finally:
        store.dispose()
    from kpisheet.xladdin.master.views import distribution_rows

    over = []
    for row in distribution_rows(data.rows(L.SUMMARY), rulebook):
        if row["_breach"] and row["period"] in outcome.periods:
            where = row["department"] if row["level"] == L.LEVEL_DEPARTMENT else f"{row['department']}/{row['team']}"
            over.append(f"{row['period']} {where}: {row['over_quota']}")
    changed = bool(log_rows) or sheets_differ(old, data, rulebook)
    return MergeResult(data, changed, outcome.files, outcome.employees, over, log_rows)
