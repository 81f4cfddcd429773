"""`kpisheet store check`: is the record sound (SQLite's integrity check) and its audit log unbroken."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from kpisheet.xladdin.record import audit, schema as S
from kpisheet.xladdin.record.store import Store, sqlite_integrity


@dataclass
class CheckResult:
    store: str
    kind: str
    schema_version: int
    generation: int
    integrity: list[str] = field(default_factory=list)     # SQLite's complaints (empty: ok)
    audit_entries: int = 0
    chain_break: audit.ChainBreak | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.integrity and self.chain_break is None

    def to_dict(self) -> dict:
        return {"store": self.store, "kind": self.kind, "schema_version": self.schema_version,
                "generation": self.generation, "ok": self.ok, "integrity": self.integrity or ["ok"],
                "audit_entries": self.audit_entries,
                "audit_chain": "ok" if self.chain_break is None else
                f"{self.chain_break.reason_zh} / {self.chain_break.reason_en}",
                "counts": self.counts}


def check_store(store: Store) -> CheckResult:
    integrity = sqlite_integrity(store)
    with store.reading() as conn:
        generation = int(conn.execute(sa.select(S.store.c.generation)).scalar() or 0)
        counts = {t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0)
                  for t in S.ALL_TABLES}
        entries, broken = audit.verify(conn)
    return CheckResult(store.label, store.kind, store.schema_version, generation, integrity, entries, broken, counts)
