"""HR's decisions: every cell HR owns in the master (总表's 校准等级, 调整理由, 申诉状态, HR备注, the
申诉 rows, 年度's notes, 设置, and any column HR added to those sheets), kept as history.

A decision is one row: which cell (sheet, period, employee ID, field), its new
value, who (the OS user of the run, and the master's lastModifiedBy when it
was read from the master), when, from where (the master, a kpisheet command
such as calibrate, or kpisheet itself) and the record's generation. Nothing is
updated or deleted: the current value of a cell is its newest decision, and
its value as a given master showed it is the newest decision at or before
that master's generation (:func:`values_as_of`), which is how HR's edits in a
master that another run has since overtaken are told apart from that run's.

A 校准等级 without its 调整理由 is stored with state ``pending``: the view shows
it as typed, but it never becomes the final grade and stops the employee's
notice (:data:`PENDING`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Mapping

import sqlalchemy as sa

from kpisheet.xladdin.record import schema as S
from kpisheet.xladdin.record.store import Tx, shown

APPLIED = "applied"
PENDING = "pending"

SOURCE_MASTER = "master"        # read from HR's master before it was regenerated
SOURCE_KPISHEET = "kpisheet"    # written by kpisheet itself (calibrate's forced distribution)
SOURCE_COMMAND = "command"      # given to a command (an appeal recorded by `kpisheet appeals`, the demo)

EXTRA_PREFIX = "extra:"         # a column HR added: field "extra:<its header>"

Key = tuple[str, str]            # (period or year, employee ID); ("", item) for 设置


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def values_as_of(conn: sa.Connection, sheet: str, generation: int | None = None,
                 periods: Iterable[str] | None = None) -> dict[Key, dict[str, str | None]]:
    """{(period, employee ID): {field: value}} of ``sheet``: the newest decision per cell, at or before
    ``generation`` when given; ``periods`` limits the rows (None: all)."""
    d = S.decisions
    newest = (sa.select(sa.func.max(d.c.id).label("id"))
              .where(d.c.sheet == sheet)
              .group_by(d.c.period, d.c.employee_id, d.c.field))
    if generation is not None:
        newest = newest.where(d.c.generation <= generation)
    if periods is not None:
        newest = newest.where(d.c.period.in_(list(periods)))
    query = sa.select(d.c.period, d.c.employee_id, d.c.field, d.c.value, d.c.state).where(
        d.c.id.in_(newest.scalar_subquery()))
    out: dict[Key, dict[str, str | None]] = defaultdict(dict)
    for row in conn.execute(query):
        out[(row.period, row.employee_id)][row.field] = row.value
    return dict(out)


def record(tx: Tx, sheet: str, changes: Iterable[tuple[Key, str, str | None, str]], *, source: str,
           master_by: str | None = None) -> int:
    """Store ``changes`` = [((period, employee ID), field, value, state)] as new decisions."""
    rows = [{"sheet": sheet, "period": key[0] or "", "employee_id": key[1] or "", "field": field, "value": value,
             "state": state, "made_by": tx.user, "master_by": master_by, "made_at": tx.now, "source": source,
             "generation": tx.generation}
            for key, field, value, state in changes]
    for chunk in _chunks(rows):
        tx.conn.execute(sa.insert(S.decisions), chunk)
    if rows:
        tx.touch()
    return len(rows)


def text(value) -> str | None:
    """A cell value as a decision stores it: text, or None for an empty cell."""
    return shown(value)


def changed_cells(before: Mapping[Key, Mapping[str, str | None]], rows: Iterable[tuple[Key, Mapping]],
                  fields: Iterable[str]) -> list[tuple[Key, str, str | None]]:
    """[(key, field, new value)] where ``rows`` differ from ``before`` in ``fields`` (values as text)."""
    fields = list(fields)
    out = []
    for key, row in rows:
        old = before.get(key, {})
        for field in fields:
            new = text(row.get(field))
            if new != text(old.get(field)):
                out.append((key, field, new))
    return out
