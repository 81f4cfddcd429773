"""What a command changed in the master's rows, written back into the cycle record.

Commands (calibrate, appeals, rollup, notices) stay pure functions from one
:class:`MasterData` to the next; :func:`persist` compares the two and stores
the difference: HR-owned cells as decisions (who, when, from where), the
system columns of 总表 in ``results``, 申诉's and 年度's computed rows, the
new 日志 rows in the hash-chained audit log, and publication dates in
``periods``. :func:`hr_changes` is the same comparison for HR's edits read
from a master on disk.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Mapping

import sqlalchemy as sa

from kpisheet.validators.rulebook.model import Rulebook

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.layout import MasterData
from kpisheet.xladdin.master.merge import canonical_period, grade_text
from kpisheet.xladdin.master.record_view import (
    DERIVED_SUMMARY, HR_SUMMARY, INCOMPLETE_MARK, PUBLISHED_PREFIX,
)
from kpisheet.xladdin.master.merge import PENDING_MARK
from kpisheet.xladdin.record import audit, decisions as D, schema as S, words as W
from kpisheet.xladdin.record.store import Tx, dumps

# 总表 system columns a command may change (calibrate brings status and start in post from the roster)
SYSTEM_SUMMARY = ("status", "post_start", "consecutive_d", "review") + DERIVED_SUMMARY


def _key(sheet: str, row: Mapping) -> tuple[str, str]:
    if sheet == L.ANNUAL:
        return (str(row.get("year") or ""), str(row.get("employee_id") or ""))
    if sheet == L.SETTINGS:
        return ("", str(row.get("_item") or row.get("item") or ""))
    return (canonical_period(row.get("period")) or "", str(row.get("employee_id") or ""))


def hr_fields(sheet: str, rulebook: Rulebook, extra: Iterable[str] = ()) -> list[str]:
    """The fields of ``sheet`` HR owns (columns HR added to the sheet as extra:<header>)."""
    columns = L.sheet_columns(rulebook)[sheet]
    own = [c.key for c in columns if c.owner == L.HR]
    if sheet == L.APPEALS:
        own = [k for k in own if k not in ("period", "employee_id")]
    return own + [D.EXTRA_PREFIX + header for header in extra]


def _cell(row: Mapping, field: str):
    return row.get(field[len(D.EXTRA_PREFIX):] if field.startswith(D.EXTRA_PREFIX) else field)


def hr_changes(sheet: str, rulebook: Rulebook, before: Mapping[tuple, Mapping], rows: Iterable[Mapping],
               extra: Iterable[str] = ()) -> list[tuple[tuple, str, str | None, str]]:
    """[(key, field, value, state)]: HR's cells in ``rows`` that differ from ``before`` (by key, as text).

    A 校准等级 without its 调整理由 is ``pending``; when only the reason changes, the grade is
    stored again with its new state, so the history says when it came into force."""
    fields = hr_fields(sheet, rulebook, extra)
    out = []
    for row in rows:
        key = _key(sheet, row)
        old = before.get(key, {})
        changed = {f: D.text(_cell(row, f)) for f in fields if D.text(_cell(row, f)) != D.text(_cell(old, f))}
        if sheet == L.SUMMARY and "override_reason" in changed and "calibrated_grade" not in changed \
                and D.text(row.get("calibrated_grade")):
            changed["calibrated_grade"] = D.text(row.get("calibrated_grade"))
        for field, value in changed.items():
            state = D.APPLIED
            if sheet == L.SUMMARY and field == "calibrated_grade" and grade_text(value) \
                    and not D.text(row.get("override_reason")):
                state = D.PENDING
            out.append((key, field, value, state))
    return out


def _by_key(sheet: str, rows: Iterable[Mapping]) -> dict[tuple, Mapping]:
    out = {}
    for row in rows:
        out.setdefault(_key(sheet, row), row)
    return out


def display_only(value) -> bool:
    """复核标记 texts the view shows but the record does not store (they follow other facts)."""
    return isinstance(value, str) and (value == PENDING_MARK or value.startswith(INCOMPLETE_MARK.split("：")[0]))


def _json_row(row: Mapping, columns, hr: Iterable[str]) -> str:
    skip = set(hr)
    return dumps({c.key: row.get(c.key) for c in columns if c.key not in skip})


def persist(tx: Tx, before: MasterData, after: MasterData, rulebook: Rulebook, *,
            source: str = D.SOURCE_COMMAND) -> bool:
    """Store what changed from ``before`` to ``after``; returns whether anything did."""
    conn = tx.conn
    written = 0
    # 总表: HR's cells as decisions, system columns in results
    old_summary = _by_key(L.SUMMARY, before.rows(L.SUMMARY))
    extra = after.extra_headers.get(L.SUMMARY, [])
    written += D.record(tx, W.DECISION_SUMMARY,
                        hr_changes(L.SUMMARY, rulebook, old_summary, after.rows(L.SUMMARY), extra), source=source)
    r = S.results
    for row in after.rows(L.SUMMARY):
        key = _key(L.SUMMARY, row)
        old = old_summary.get(key)
        if old is None:
            continue
        values = {k: row.get(k) for k in SYSTEM_SUMMARY
                  if row.get(k) != old.get(k) and not (k == "review" and (display_only(row.get(k))
                                                                          or display_only(old.get(k))))}
        if values:
            values["updated_at"] = row.get("updated_at") if isinstance(row.get("updated_at"), dt.datetime) else tx.now
            conn.execute(sa.update(r).where(r.c.period == key[0], r.c.employee_id == key[1]).values(**values))
            written += 1
    # 申诉: HR's cells as decisions, the computed columns as the appeal's row
    old_appeals = _by_key(L.APPEALS, before.rows(L.APPEALS))
    extra = after.extra_headers.get(L.APPEALS, [])
    written += D.record(tx, W.DECISION_APPEALS,
                        hr_changes(L.APPEALS, rulebook, old_appeals, after.rows(L.APPEALS), extra), source=source)
    appeal_hr = hr_fields(L.APPEALS, rulebook)
    for row in after.rows(L.APPEALS):
        key = _key(L.APPEALS, row)
        if not key[0] or not key[1]:
            continue
        text = _json_row(row, L.APPEAL_COLUMNS, appeal_hr + ["period", "employee_id"])
        old = old_appeals.get(key)
        if old is not None and _json_row(old, L.APPEAL_COLUMNS, appeal_hr + ["period", "employee_id"]) == text:
            continue
        written += _upsert(conn, S.appeals, {"period": key[0], "employee_id": key[1]},
                           {"row": text, "updated_at": tx.now})
    # 年度: computed rows; HR's notes as decisions
    annual_columns = L.annual_columns(rulebook)
    old_annual = _by_key(L.ANNUAL, before.rows(L.ANNUAL))
    written += D.record(tx, W.DECISION_ANNUAL,
                        hr_changes(L.ANNUAL, rulebook, old_annual, after.rows(L.ANNUAL)), source=source)
    annual_hr = hr_fields(L.ANNUAL, rulebook) + ["year", "employee_id"]
    for row in after.rows(L.ANNUAL):
        key = _key(L.ANNUAL, row)
        text = _json_row(row, annual_columns, annual_hr)
        old = old_annual.get(key)
        if old is not None and _json_row(old, annual_columns, annual_hr) == text:
            continue
        written += _upsert(conn, S.annual, {"year": key[0], "employee_id": key[1]}, {"row": text, "updated_at": tx.now})
    # 设置
    written += record_settings(tx, before.rows(L.SETTINGS), after.rows(L.SETTINGS), source=source)
    # 日志: rows the command appended
    new_log = after.rows(L.LOG)[len(before.rows(L.LOG)):]
    written += audit.append(tx, new_log)
    # publication dates
    for name, value in after.meta.items():
        if name.startswith(PUBLISHED_PREFIX) and value != before.meta.get(name):
            written += _publish(tx, name[len(PUBLISHED_PREFIX):], value)
    if written:
        tx.touch()
    return bool(written)


def record_settings(tx: Tx, before: Iterable[Mapping], after: Iterable[Mapping], *, source: str,
                    master_by: str | None = None) -> int:
    """设置 values that changed, as decisions keyed by the setting's item key."""
    labels = {item.label: item.key for item in L.SETTING_ITEMS}
    old = {labels.get(str(r.get("item") or "").strip()): r.get("value") for r in before}
    changes = []
    for row in after:
        item = labels.get(str(row.get("item") or "").strip())
        if item is not None and D.text(row.get("value")) != D.text(old.get(item)):
            changes.append((("", item), "value", D.text(row.get("value")), D.APPLIED))
    return D.record(tx, W.DECISION_SETTINGS, changes, source=source, master_by=master_by)


def _publish(tx: Tx, period: str, value: str) -> int:
    day = dt.date.fromisoformat(str(value)[:10])
    p = S.periods
    row = tx.conn.execute(sa.select(p.c.state).where(p.c.period == period)).first()
    if row is None:
        tx.conn.execute(sa.insert(p).values(period=period, state="published", published=day, updated_at=tx.now))
    else:
        state = row.state if W.PERIOD_STATES.index(row.state) >= W.PERIOD_STATES.index("published") else "published"
        tx.conn.execute(sa.update(p).where(p.c.period == period).values(published=day, state=state,
                                                                          updated_at=tx.now))
    return 1


def advance_period(tx: Tx, periods: Iterable[str], state: str) -> None:
    """Move ``periods`` forward to ``state`` (never back)."""
    p = S.periods
    for period in periods:
        row = tx.conn.execute(sa.select(p.c.state).where(p.c.period == period)).first()
        if row is None:
            tx.conn.execute(sa.insert(p).values(period=period, state=state, updated_at=tx.now))
            tx.touch()
        elif W.PERIOD_STATES.index(row.state) < W.PERIOD_STATES.index(state):
            tx.conn.execute(sa.update(p).where(p.c.period == period).values(state=state, updated_at=tx.now))
            tx.touch()


def _upsert(conn: sa.Connection, table: sa.Table, key: dict, values: dict) -> int:
    where = sa.and_(*(table.c[k] == v for k, v in key.items()))
    if conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar():
        conn.execute(sa.update(table).where(where).values(**values))
    else:
        conn.execute(sa.insert(table).values(**key, **values))
    return 1


def summary_hr_fields() -> tuple[str, ...]:
    return HR_SUMMARY
