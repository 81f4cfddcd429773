"""Receipts: every file received, one row per path per run, and the submission that holds its content.

The record reads and judges each content (SHA-256) once: that is the submission.
A receipt says that a file of that path was in the inbox of a run, and how it
related to the content:

- ``new``: the run read this file; its submission was made from it;
- ``known``: the record already held these bytes (from this path or another), so the file was not read again;
- ``copy``: another file of the same run has the same bytes; that one was read, this one points at it.

The master's 提交 sheet lists receipts, so two files with identical bytes are two
rows. A file the record already holds at the same path with the same content is
not received again: a run over an unchanged inbox adds nothing, so it changes
nothing and writes nothing (HR's master and its backups stay as they are).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Sequence

import sqlalchemy as sa

from kpisheet.xladdin.record import schema as S

NEW, KNOWN, COPY = "new", "known", "copy"


@dataclass(frozen=True)
class Receipt:
    path: str
    sha256: str | None
    submission_id: int
    kind: str


def add_receipts(conn: sa.Connection, receipts: Sequence[Receipt], *, at: dt.datetime, by: str | None,
                 generation: int) -> int:
    """Store this run's receipts (in the run's transaction); returns how many."""
    rows = [{"submission_id": r.submission_id, "path": r.path, "sha256": r.sha256, "received_at": at,
             "received_by": by, "generation": generation, "kind": r.kind} for r in receipts]
    for start in range(0, len(rows), 500):
        conn.execute(sa.insert(S.receipts), rows[start:start + 500])
    return len(rows)


def unseen(conn: sa.Connection, receipts: Sequence[Receipt]) -> list[Receipt]:
    """The receipts whose path and content the record does not hold yet (a file without a hash, which
    could not be read, is received each time)."""
    r = S.receipts
    held: set[tuple[str, str]] = set()
    hashes = sorted({x.sha256 for x in receipts if x.sha256})
    for start in range(0, len(hashes), 500):
        query = sa.select(r.c.path, r.c.sha256).where(r.c.sha256.in_(hashes[start:start + 500]))
        held.update((path, sha) for path, sha in conn.execute(query))
    return [x for x in receipts if x.sha256 is None or (x.path, x.sha256) not in held]


def move_receipts(conn: sa.Connection, old: Iterable[int], new: int) -> None:
    """An unreadable file's submission is refreshed each run: its earlier receipts follow it."""
    old = list(old)
    if old:
        conn.execute(sa.update(S.receipts).where(S.receipts.c.submission_id.in_(old)).values(submission_id=new))


def backfill_receipts(conn: sa.Connection) -> None:
    """One ``new`` receipt per submission that has none (a record made before receipts existed)."""
    s, r = S.submissions, S.receipts
    lacking = sa.select(s.c.id, s.c.path, s.c.sha256, s.c.received_at, s.c.received_by, s.c.generation,
                        sa.literal(NEW)).where(~sa.exists().where(r.c.submission_id == s.c.id)).order_by(s.c.id)
    conn.execute(sa.insert(r).from_select(
        ["submission_id", "path", "sha256", "received_at", "received_by", "generation", "kind"], lacking))


def receipt_rows(conn: sa.Connection, periods: Sequence[str], where=sa.true()) -> list[dict]:
    """Each receipt of ``periods`` (and of files whose period is unknown) with its submission, in the order
    received: ``same_as`` is the path of the file whose content it carries when that is another file.
    ``where``: a further condition on the submission (a master restricted to some departments)."""
    s, r = S.submissions, S.receipts
    query = (sa.select(r.c.path.label("receipt_path"), r.c.sha256.label("receipt_sha256"),
                       r.c.received_at.label("receipt_at"), r.c.kind, s)
             .join(s, s.c.id == r.c.submission_id)
             .where(sa.or_(s.c.period.in_(list(periods)), s.c.period.is_(None)), where)
             .order_by(r.c.received_at, r.c.id))
    out = []
    for row in conn.execute(query).mappings():
        item = dict(row)
        item["same_as"] = row["path"] if row["receipt_path"] != row["path"] else None
        out.append(item)
    return out


def same_content_note(other: str, status_shown: str) -> str:
    """说明 of a receipt whose bytes another file carries: that file, and its standing (shown bilingual)."""
    return f"与 {other} 内容完全相同 / the same bytes as {other}：{status_shown}"

