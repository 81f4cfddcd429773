"""The master as a view of the cycle record: the record's rows for the periods HR works on, as MasterData.

:func:`load_view` reads one scope (a year, or chosen periods; every department,
or only those an HR business partner works on) and derives what
the record does not store as such: HR's current decisions laid over the
results, final grades, coefficients, ranks and distribution marks (by the one
rule in :mod:`kpisheet.xladdin.master.merge`), the pending-override flag and
the rows of an incomplete period. :func:`save_derived` writes the derived
values back to ``results`` when they moved, with a 日志 entry for a final
grade that changed, so that the record answers questions (export, status,
pandas) without the master.

Rows are sorted in SQL with byte-order collation, so that SQLite and
PostgreSQL give the same master.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from typing import Callable, ContextManager, Iterable, Iterator, Sequence

import pandas as pd
import sqlalchemy as sa

from kpisheet.validators.policy.periods import PeriodError, parse_period
from kpisheet.validators.rulebook.model import Rulebook

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.appeals import final_grade_reason
from kpisheet.xladdin.master.layout import MasterData, clean_own_row, clean_row
from kpisheet.xladdin.master.merge import (
    PENDING_MARK, appeal_grades, derive_rows, is_pending, master_meta, summary_sort_key,
)
from kpisheet.xladdin.master.views import analysis_rows, mark_distribution, period_sort_key
from kpisheet.xladdin.record import audit, decisions as D, schema as S, words as W
from kpisheet.xladdin.record.receipts import receipt_rows, same_content_note
from kpisheet.xladdin.record.store import Tx

PUBLISHED_PREFIX = "published:"
INCOMPLETE_MARK = "数据不完整 incomplete：{teams} 未提交，HR 以 --allow-incomplete 继续 / went on without them"

# 总表 columns kept in the record's results table (HR's are decisions; subtotals are one JSON column)
HR_SUMMARY = ("calibrated_grade", "override_reason", "appeal_status", "hr_notes")
DERIVED_SUMMARY = ("in_distribution", "excluded_why", "final_grade", "coefficient", "dept_rank", "pip")
# the kinds of value the record's rows (总表, 分析's indicator lines) share when they repeat; numbers are
# small and mostly distinct
_SHARED_KINDS = frozenset({str, dt.date, dt.datetime})
SAVE_BATCH = 5000  # derived values written back per executemany
SHEET_OF_DECISIONS = {L.SUMMARY: W.DECISION_SUMMARY, L.APPEALS: W.DECISION_APPEALS, L.ANNUAL: W.DECISION_ANNUAL,
                      L.SETTINGS: W.DECISION_SETTINGS}


@dataclass(frozen=True)
class Scope:
    """What a master shows: the periods (canonical), the years of its 年度 rows and, for an HR business
    partner's master, the departments (none: every department)."""

    periods: tuple[str, ...]
    years: tuple[str, ...]
    label: str
    departments: tuple[str, ...] = ()

    def to_json(self) -> str:
        shown = {"periods": list(self.periods), "years": list(self.years)}
        if self.departments:  # a master of every department keeps the JSON it had before departments existed
            shown["departments"] = list(self.departments)
        return json.dumps(shown, ensure_ascii=False)

    def holds(self, department: str | None) -> bool:
        return not self.departments or department in self.departments


def _year_of(period: str) -> int | None:
    try:
        return parse_period(period).year
    except (PeriodError, ValueError, TypeError):
        return None


def known_periods(conn: sa.Connection) -> list[str]:
    found = set(conn.execute(sa.select(S.periods.c.period)).scalars())
    found |= set(conn.execute(sa.select(S.results.c.period).distinct()).scalars())
    return sorted(found, key=period_sort_key)


def scope_for(conn: sa.Connection, *, year: int | None = None, periods: Sequence[str] | None = None,
              hint: Iterable[str] = (), departments: Sequence[str] = ()) -> Scope:
    """``periods`` when given; else every period of ``year``; else of the year of the newest period the
    record holds (or of ``hint``, the periods this run touched): the current appraisal year. ``departments``
    restricts the master to those departments (as the record names them, 部门)."""
    departments = tuple(sorted(set(departments)))
    if periods:
        chosen = tuple(sorted({str(p) for p in periods}, key=period_sort_key))
        years = tuple(sorted({str(y) for p in chosen if (y := _year_of(p))}))
        return _scope(chosen, years, "、".join(chosen), departments)
    held = known_periods(conn)
    if year is None:
        years = [y for p in list(hint) + held if (y := _year_of(p))]
        year = max(years) if years else None
    if year is None:
        return _scope((), (), "", departments)
    chosen = tuple(p for p in held if _year_of(p) == year)
    for p in hint:
        if _year_of(p) == year and p not in chosen:
            chosen += (p,)
    return _scope(tuple(sorted(chosen, key=period_sort_key)), (str(year),), str(year), departments)


def _scope(periods: tuple[str, ...], years: tuple[str, ...], label: str, departments: tuple[str, ...]) -> Scope:
    if departments:
        label = f"{label}（{'、'.join(departments)}）"
    return Scope(periods, years, label, departments)


def _in_departments(column, scope: Scope, *, unknown: bool = False):
    """A WHERE clause keeping the scope's departments (all when it names none); ``unknown``: rows with no
    department too (a file too broken to name its team belongs to no department, and its sender must see it)."""
    if not scope.departments:
        return sa.true()
    kept = column.in_(scope.departments)
    return sa.or_(kept, column.is_(None)) if unknown else kept


def ordered(conn: sa.Connection, column):
    """ORDER BY in byte order on every server (PostgreSQL's default collation follows the locale)."""
    return sa.collate(column, "C") if conn.dialect.name == "postgresql" else column


@dataclass
class View:
    data: MasterData
    scope: Scope
    issues: list[dict] = field(default_factory=list)            # 问题 rows about the master itself
    stored: dict[tuple, dict] = field(default_factory=dict)     # derived values as the record holds them

    def read_later_from(self, connect: Callable[[], ContextManager[sa.Connection]]) -> None:
        """Once the run's transaction is over, the rows read on demand (指标明细) come from ``connect()``."""
        for rows in self.data.sheets.values():
            if isinstance(rows, DetailRows):
                rows.rebind(connect)


def _summary_rows(conn: sa.Connection, rulebook: Rulebook, scope: Scope) -> tuple[list[dict], dict, list[str]]:
    r = S.results
    hr = D.values_as_of(conn, W.DECISION_SUMMARY, periods=scope.periods)
    rows, stored, extra = [], {}, []
    query = sa.select(r).where(r.c.period.in_(scope.periods), _in_departments(r.c.department, scope))
    # Each value held once however many rows repeat it (a period, a team, its manager, its file and hash,
    # a grade, the time of the run): as fetched, every row brings its own copies, most of 总表's memory.
    shared: dict = {}
    once = shared.setdefault
    for record in conn.execute(query):
        row = {k: once(v, v) if v.__class__ in _SHARED_KINDS else v for k, v in zip(record._fields, record)}
        subtotals = json.loads(row.pop("subtotals") or "{}")
        for category in rulebook.categories:
            row[f"subtotal_{category.code}"] = subtotals.get(category.code)
        key = (row["period"], row["employee_id"])
        stored[key] = {k: row.get(k) for k in DERIVED_SUMMARY}
        for name, value in hr.get(key, {}).items():
            if name.startswith(D.EXTRA_PREFIX):
                header = name[len(D.EXTRA_PREFIX):]
                row[header] = value
                if header not in extra:
                    extra.append(header)
            else:
                row[name] = value
        rows.append(row)
    rows.sort(key=summary_sort_key)
    keys = [c.key for c in L.summary_columns(rulebook)] + extra
    for n, row in enumerate(rows):  # in place: a period's rows are not held twice
        rows[n] = {k: row.get(k) for k in keys}
    return rows, stored, extra


def _appeal_rows(conn: sa.Connection, scope: Scope) -> tuple[list[dict], list[str]]:
    held = {(r.period, r.employee_id): json.loads(r.row) for r in
            conn.execute(sa.select(S.appeals).where(S.appeals.c.period.in_(scope.periods)))}
    hr = D.values_as_of(conn, W.DECISION_APPEALS, periods=scope.periods)
    keys = set(held) | set(hr)
    if scope.departments:  # 申诉 rows carry no department: an appeal is the department's whose employee files it
        r = S.results
        keys &= {(row.period, row.employee_id) for row in conn.execute(
            sa.select(r.c.period, r.c.employee_id).where(r.c.period.in_(scope.periods),
                                                         _in_departments(r.c.department, scope)))}
    rows, extra = [], []
    for key in sorted(keys, key=lambda k: (period_sort_key(k[0]), k[1])):
        row = {"period": key[0], "employee_id": key[1], **held.get(key, {})}
        for name, value in hr.get(key, {}).items():
            if name.startswith(D.EXTRA_PREFIX):
                name = name[len(D.EXTRA_PREFIX):]
                if name not in extra:
                    extra.append(name)
            row[name] = value
        rows.append(clean_row(L.APPEAL_COLUMNS, row))
    return rows, extra


def _annual_rows(conn: sa.Connection, rulebook: Rulebook, scope: Scope) -> list[dict]:
    hr = D.values_as_of(conn, W.DECISION_ANNUAL, periods=scope.years)
    rows = []
    for record in conn.execute(sa.select(S.annual).where(S.annual.c.year.in_(scope.years))):
        row = {**json.loads(record.row), "year": record.year, "employee_id": record.employee_id}
        row.update(hr.get((record.year, record.employee_id), {}))
        if scope.holds(row.get("department")):
            rows.append(clean_row(L.annual_columns(rulebook), row))
    rows.sort(key=lambda r: (str(r.get("year")), r.get("department") or "", r.get("team") or "",
                             str(r.get("employee_id"))))
    return rows


class DetailRows(Sequence[dict]):
    """指标明细 for the scope, in 总表's order (period, department, team, ID), each employee's indicators in
    their form order: read from the record each time the rows are walked, never all held.

    指标明细 is the master's largest sheet (one row per person and indicator, about seven a person): a
    company's period holds hundreds of thousands of rows, which as dicts took more memory than the rest of
    the master together. The writer walks them once, in a streaming query, and the master's fingerprint is
    taken in the same walk (:meth:`watch`).
    ``connect()`` gives the connection to read from: the run's own transaction while it lasts (the rows it
    has just written are not committed yet), then :meth:`rebind` points it to a fresh read of the record.
    """

    BATCH = 5000  # rows fetched at a time: a server-side cursor on PostgreSQL, SQLite's own stepping

    def __init__(self, scope: Scope, connect: Callable[[], ContextManager[sa.Connection]]) -> None:
        self._scope, self._connect, self._count = scope, connect, None
        self._watcher: Callable[[dict], None] | None = None

    def rebind(self, connect: Callable[[], ContextManager[sa.Connection]]) -> None:
        self._connect, self._count = connect, None

    def watch(self, watcher: Callable[[dict], None] | None) -> None:
        """Show every row the next walks over all rows yield to ``watcher`` too (the master's fingerprint
        is taken as the writer writes, not by reading the rows a second time); slices are not shown.
        The rows shown are already in canonical form (:func:`clean_own_row` of 指标明细's columns)."""
        self._watcher = watcher

    def _queries(self, conn: sa.Connection):
        i = S.indicators
        for period in self._scope.periods:
            yield (sa.select(*(i.c[k] for k in _DETAIL_KEYS))
                   .where(i.c.period == period, _in_departments(i.c.department, self._scope))
                   .order_by(ordered(conn, i.c.department), ordered(conn, i.c.team), ordered(conn, i.c.employee_id),
                             i.c.position))

    def __iter__(self) -> Iterator[dict]:
        watcher = self._watcher
        for row in self._read():
            if watcher is not None:
                watcher(row)
            yield row

    def _read(self) -> Iterator[dict]:
        with self._connect() as conn:
            for query in self._queries(conn):
                with conn.execute(query.execution_options(yield_per=self.BATCH)) as result:
                    for row in result:
                        yield clean_own_row(L.DETAIL_COLUMNS, dict(zip(_DETAIL_KEYS, row)))

    def __len__(self) -> int:
        if self._count is None:
            i = S.indicators
            with self._connect() as conn:
                self._count = conn.execute(sa.select(sa.func.count()).select_from(i).where(
                    i.c.period.in_(self._scope.periods), _in_departments(i.c.department, self._scope))).scalar_one()
        return self._count

    def __getitem__(self, index):
        if isinstance(index, slice):
            with closing(self._read()) as rows:  # a sample: the query is closed, not left half read
                return list(itertools.islice(rows, *index.indices(len(self))))
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        with closing(self._read()) as rows:
            return next(itertools.islice(rows, index % len(self), None))


_DETAIL_KEYS = [c.key for c in L.DETAIL_COLUMNS]


def submission_rows(conn: sa.Connection, scope: Scope) -> list[dict]:
    """One row per receipt (file path x run) with the standing of the submission holding its bytes."""
    res = S.results
    gone = set(conn.execute(sa.select(res.c.submission_id).where(
        res.c.period.in_(scope.periods), res.c.source_status == W.SOURCE_MISSING).distinct()).scalars())
    rows = []
    for r in receipt_rows(conn, scope.periods, _in_departments(S.submissions.c.department, scope, unknown=True)):
        status = W.SUB_MISSING if r["status"] == W.ACCEPTED and r["id"] in gone else \
            W.STATUS_SHOWN.get(r["status"], r["status"])
        if r["same_as"]:
            status, note = W.SUB_SAME_CONTENT, same_content_note(r["same_as"], status)
        else:
            note = r["note"]
        rows.append(clean_row(L.SUBMISSION_COLUMNS, {
            "path": r["receipt_path"], "sha256": r["receipt_sha256"], "department": r["department"],
            "team": r["team"], "period": r["period"], "status": status, "errors": r["errors"],
            "warnings": r["warnings"], "first_seen": r["receipt_at"], "modified": r["saved_at"] or r["file_mtime"],
            "saved_by": r["saved_by"], "note": note}))
    return rows


def issue_rows(conn: sa.Connection, scope: Scope) -> list[dict]:
    """The findings of every file of the scope that stands (accepted or rejected), by file."""
    s, f = S.submissions, S.findings
    query = (sa.select(s.c.path, f).join(f, f.c.submission_id == s.c.id)
             .where(sa.or_(s.c.period.in_(scope.periods), s.c.period.is_(None)),
                    s.c.status.in_((W.ACCEPTED, W.REJECTED)), _in_departments(s.c.department, scope, unknown=True))
             .order_by(ordered(conn, s.c.path), f.c.id))
    return [clean_row(L.ISSUE_COLUMNS, {**{c.key: r[c.key] for c in L.ISSUE_COLUMNS if c.key in r}, "file": r["path"]})
            for r in conn.execute(query).mappings()]


def settings_rows(conn: sa.Connection) -> list[dict]:
    values = {key[1]: fields.get("value") for key, fields in D.values_as_of(conn, W.DECISION_SETTINGS).items()}
    return L.settings_rows(values)


def incomplete_periods(conn: sa.Connection, periods: Iterable[str]) -> dict[str, str]:
    return {r.period: r.incomplete for r in conn.execute(
        sa.select(S.periods.c.period, S.periods.c.incomplete).where(
            S.periods.c.period.in_(list(periods)), S.periods.c.incomplete.is_not(None)))}


def load_view(conn: sa.Connection, rulebook: Rulebook, scope: Scope, *, detail: bool = True) -> View:
    """The master's stored sheets for ``scope`` from the record, derived columns computed."""
    summary, stored, extra_summary = _summary_rows(conn, rulebook, scope)
    appeals, extra_appeals = _appeal_rows(conn, scope)
    memo: dict = {}
    for row in summary:
        mark_distribution(row, rulebook, memo=memo)
    issues = derive_rows(summary, appeal_grades(appeals), rulebook)
    incomplete = incomplete_periods(conn, scope.periods)
    for row in summary:
        if is_pending(row):
            row["review"] = PENDING_MARK
        elif row.get("period") in incomplete and not row.get("review"):
            row["review"] = INCOMPLETE_MARK.format(teams=incomplete[row["period"]])
    columns = L.summary_columns(rulebook)
    for n, row in enumerate(summary):  # in place, as above
        summary[n] = clean_row(columns, row)
    meta = {**master_meta(rulebook)}
    for r in conn.execute(sa.select(S.periods.c.period, S.periods.c.published).where(
            S.periods.c.period.in_(scope.periods), S.periods.c.published.is_not(None))):
        meta[PUBLISHED_PREFIX + r.period] = r.published.isoformat()
    data = MasterData(
        sheets={
            L.SUMMARY: summary,
            L.DETAIL: DetailRows(scope, lambda: nullcontext(conn)) if detail else [],
            L.SUBMISSIONS: submission_rows(conn, scope),
            L.ISSUES: issue_rows(conn, scope) + [clean_row(L.ISSUE_COLUMNS, i) for i in issues],
            L.APPEALS: appeals,
            L.ANNUAL: _annual_rows(conn, rulebook, scope),
            L.LOG: [clean_row(L.LOG_COLUMNS, row) for row in _log_rows(conn, scope)],
            L.SETTINGS: settings_rows(conn),
        },
        meta=meta,
        extra_headers={**{name: [] for name in L.STORED_SHEETS}, L.SUMMARY: extra_summary, L.APPEALS: extra_appeals},
    )
    if detail:
        data.sheets[L.ANALYSIS] = analysis_rows(indicator_frame(conn, scope), rulebook)
    return View(data, scope, issues, stored)


def indicator_frame(conn: sa.Connection, scope: Scope) -> pd.DataFrame:
    """The scope's indicator rows as a DataFrame read from the record (the input of 分析).

    Read in batches, each text held once however many rows repeat it (a period, a department, a team, an
    ID on seven rows): as fetched, every row brings its own copies, which made this frame several times
    larger than its numbers."""
    i = S.indicators
    columns = ("period", "department", "team", "employee_id", "code", "category", "weight", "score")
    query = sa.select(*(i.c[c] for c in columns)).where(i.c.period.in_(scope.periods),
                                                       _in_departments(i.c.department, scope))
    texts: dict[str, str] = {}
    once = texts.setdefault
    values: list[list] = [[] for _ in columns]
    for row in conn.execute(query.execution_options(yield_per=DetailRows.BATCH)):
        for kept, value in zip(values, row):
            kept.append(once(value, value) if value.__class__ in _SHARED_KINDS else value)
    return pd.DataFrame(dict(zip(columns, values)), columns=list(columns))


def _log_rows(conn: sa.Connection, scope: Scope) -> list[dict]:
    """日志 of the scope's periods; in a master of some departments, without the entries about another
    department's employee (key period/ID) or file (key its path)."""
    rows = audit.log_rows(conn, scope.periods)
    if not scope.departments:
        return rows
    r, s = S.results, S.submissions
    others = {f"{row.period}/{row.employee_id}" for row in conn.execute(
        sa.select(r.c.period, r.c.employee_id).where(r.c.period.in_(scope.periods),
                                                     sa.not_(r.c.department.in_(scope.departments))))}
    others |= set(conn.execute(sa.select(s.c.path).where(sa.not_(s.c.department.in_(scope.departments)))).scalars())
    return [row for row in rows if row.get("key") not in others]


def save_derived(tx: Tx, view: View) -> int:
    """Write derived 总表 values that moved back into ``results``; 日志 for each final grade that changed."""
    r = S.results
    log, changed, moved = [], 0, []
    appeals = {(a.get("period"), a.get("employee_id")): a for a in view.data.rows(L.APPEALS)}
    for row in view.data.rows(L.SUMMARY):
        key = (row.get("period"), row.get("employee_id"))
        before = view.stored.get(key)
        if before is None:
            continue
        values = {k: row.get(k) for k in DERIVED_SUMMARY}
        if values == before:
            continue
        if before.get("final_grade") is not None and values["final_grade"] != before["final_grade"]:
            action, reason = final_grade_reason(row, appeals.get(key))
            log.append({"time": tx.now, "action": action, "key": f"{key[0]}/{key[1]}", "column": "最终等级",
                        "old": before["final_grade"], "new": values["final_grade"], "reason": reason, "by": tx.user})
        row["updated_at"] = tx.now
        moved.append({"key_period": key[0], "key_employee": key[1], **values, "updated_at": tx.now})
        view.stored[key] = values
        changed += 1
    # one statement run for many rows (a first consolidation moves every row): not a round trip per person
    update = sa.update(r).where(r.c.period == sa.bindparam("key_period"),
                                r.c.employee_id == sa.bindparam("key_employee"))
    for start in range(0, len(moved), SAVE_BATCH):
        tx.conn.execute(update, moved[start:start + SAVE_BATCH])
    if log:
        audit.append(tx, log)
        view.data.sheets[L.LOG] = view.data.rows(L.LOG) + [clean_row(L.LOG_COLUMNS, row) for row in log]
    if changed:
        tx.touch()
    return changed


def stale_kind(meta: dict, store_id: str, generation: int) -> str | None:
    """Why a master read from disk is not the view of the record's current state (None: it is)."""
    if meta.get("store_id") and meta.get("store_id") != store_id:
        return "foreign"
    try:
        shown = int(float(meta.get("record_generation") or ""))
    except ValueError:
        return "legacy"
    return None if shown == generation else "stale"
