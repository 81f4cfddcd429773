"""The audit log: append-only, each entry chained to the one before by its hash.

An entry's hash is SHA-256 over the previous entry's hash and the entry's own
fields, so editing or removing an entry breaks the chain at that point; the
newest hash and the number of entries are also kept in ``kpisheet_store``, so
removing the last entries is detected as well (``kpisheet store check``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Iterable

import sqlalchemy as sa

from kpisheet.validators.policy.periods import PeriodError, parse_period

from kpisheet.xladdin.record import schema as S
from kpisheet.xladdin.record.store import GENESIS, Tx, dumps

FIELDS = ("at", "action", "period", "key", "column_name", "old", "new", "reason", "by_user", "generation")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat(" ")
    return str(value)


def entry_hash(previous: str, entry: dict) -> str:
    payload = dumps([previous] + [_text(entry.get(name)) for name in FIELDS])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def period_of_key(key) -> str | None:
    """The period a 日志 key names ("2026-Q3/E0001" -> "2026-Q3"); None when it names none."""
    head = str(key or "").split("/", 1)[0]
    if not head:
        return None
    try:
        return str(parse_period(head))
    except (PeriodError, ValueError):
        return None


def append(tx: Tx, rows: Iterable[dict]) -> int:
    """Append 日志-shaped rows (time, action, key, column, old, new, reason, by) to the chain."""
    rows = list(rows)
    if not rows:
        return 0
    conn = tx.conn
    head, count = conn.execute(sa.select(S.store.c.audit_head, S.store.c.audit_count)).one()
    entries = []
    for row in rows:
        entry = {
            "at": (row.get("time") or tx.now).replace(microsecond=0) if isinstance(row.get("time"), dt.datetime)
            else tx.now,
            "action": str(row.get("action") or ""),
            "period": row.get("period") or period_of_key(row.get("key")),
            "key": _text(row.get("key")), "column_name": _text(row.get("column")), "old": _text(row.get("old")),
            "new": _text(row.get("new")), "reason": _text(row.get("reason")),
            "by_user": _text(row.get("by")) if row.get("by") is not None else tx.user,
            "generation": tx.generation,
        }
        entry["prev_hash"] = head
        entry["hash"] = head = entry_hash(head, entry)
        entries.append(entry)
    conn.execute(sa.insert(S.audit), entries)
    conn.execute(sa.update(S.store).where(S.store.c.id == S.STORE_ROW)
                 .values(audit_head=head, audit_count=count + len(entries)))
    tx.touch()
    return len(entries)


@dataclass(frozen=True)
class ChainBreak:
    seq: int | None
    reason_zh: str
    reason_en: str


def verify(conn: sa.Connection) -> tuple[int, ChainBreak | None]:
    """(entries checked, the first break or None)."""
    head, count = conn.execute(sa.select(S.store.c.audit_head, S.store.c.audit_count)).one()
    previous, seen = GENESIS, 0
    columns = [S.audit.c[name] for name in FIELDS] + [S.audit.c.seq, S.audit.c.prev_hash, S.audit.c.hash]
    for row in conn.execute(sa.select(*columns).order_by(S.audit.c.seq)).mappings():
        seen += 1
        if row["prev_hash"] != previous:
            return seen, ChainBreak(row["seq"], f"第 {row['seq']} 条之前的日志被删除或改动",
                                    f"an entry before #{row['seq']} was removed or edited")
        if entry_hash(previous, dict(row)) != row["hash"]:
            return seen, ChainBreak(row["seq"], f"第 {row['seq']} 条日志被改动", f"entry #{row['seq']} was edited")
        previous = row["hash"]
    if seen != count or previous != head:
        return seen, ChainBreak(None, f"日志应有 {count} 条，现有 {seen} 条：最后的日志被删除",
                                f"the log should hold {count} entries and holds {seen}: the last ones were removed")
    return seen, None


def log_rows(conn: sa.Connection, periods: Iterable[str] | None = None) -> list[dict]:
    """The entries as 日志 rows, oldest first: of ``periods`` and those about no period, or all."""
    query = sa.select(S.audit).order_by(S.audit.c.seq)
    if periods is not None:
        query = query.where(sa.or_(S.audit.c.period.in_(list(periods)), S.audit.c.period.is_(None)))
    return [{"time": r["at"], "action": r["action"], "key": r["key"], "column": r["column_name"], "old": r["old"] or "",
             "new": r["new"] or "", "reason": r["reason"], "by": r["by_user"]}
            for r in conn.execute(query).mappings()]
