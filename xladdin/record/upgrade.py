"""Bringing a record made by an older kpisheet to this version's schema, in place, when it is opened.

Each step adds what its version brought and fills it from what the record
already holds, so the master made from the upgraded record shows what it
showed before. The steps run in one writing transaction (the store row locked
as every writer does), so two desks opening an old record at once upgrade it
once; a failed step leaves the record as it was.
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

from kpisheet.xladdin.record import schema as S
from kpisheet.xladdin.record.receipts import backfill_receipts


def _to_2(conn: sa.Connection) -> None:
    """2: receipts. One receipt per submission, at the time it was received."""
    S.receipts.create(conn, checkfirst=True)
    backfill_receipts(conn)


# version reached -> the step from the one before
STEPS: dict[int, Callable[[sa.Connection], None]] = {2: _to_2}


def can_upgrade(version: int) -> bool:
    """Whether a record of schema ``version`` can be brought to this version in place (1 is the first
    schema kpisheet kept a version for; an older or unknown one is refused as store-older)."""
    return version >= 1 and all(step in STEPS for step in range(version + 1, S.SCHEMA_VERSION + 1))


def upgrade(engine: sa.Engine, kind: str) -> None:
    """Run the steps from the record's version to :data:`S.SCHEMA_VERSION` (nothing when already there)."""
    with engine.connect() as conn:
        conn = conn.execution_options(kpisheet_write=True)   # SQLite: BEGIN IMMEDIATE
        with conn.begin():
            query = sa.select(S.store.c.schema_version).where(S.store.c.id == S.STORE_ROW)
            if kind == "postgresql":
                query = query.with_for_update()
            version = int(conn.execute(query).scalar_one())
            if version >= S.SCHEMA_VERSION:  # another run upgraded it while we waited
                return
            for step in range(version + 1, S.SCHEMA_VERSION + 1):
                STEPS[step](conn)
            conn.execute(sa.update(S.store).where(S.store.c.id == S.STORE_ROW)
                         .values(schema_version=S.SCHEMA_VERSION))
