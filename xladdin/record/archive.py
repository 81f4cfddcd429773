"""`kpisheet archive --before YEAR`: results past the retention period leave the record for a dated archive file.

The policy keeps records five years (``records.retention_years`` in the
rulebook). Everything of the periods before ``YEAR`` (results, indicator
rows, submissions with their findings and receipts, HR's decisions, appeals, the 年度 rows)
is first copied into a new SQLite file with the record's own tables,
``kpisheet-archive-before-YEAR-<date>.db``, read back and counted; only then is
it removed from the record, in one transaction, with an audit entry. A year
still inside the retention period is refused. The audit log itself is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from kpisheet.validators.errors import UsageError
from kpisheet.validators.policy.periods import PeriodError, parse_period
from kpisheet.xladdin.kit.files import write_atomically
from kpisheet.xladdin.record import audit, schema as S, words as W
from kpisheet.xladdin.record.errors import StoreError
from kpisheet.xladdin.record.store import Store, open_store

# the tables whose rows belong to a period (or a year), with the column that names it
_BY_PERIOD = ((S.results, "period"), (S.indicators, "period"), (S.decisions, "period"), (S.appeals, "period"),
              (S.teams, "period"), (S.periods, "period"))


@dataclass
class ArchiveResult:
    file: Path | None
    periods: list[str]
    years: list[str]
    rows: dict[str, int] = field(default_factory=dict)


def _old_periods(conn: sa.Connection, before: int) -> list[str]:
    found = set(conn.execute(sa.select(S.results.c.period).distinct()).scalars())
    found |= set(conn.execute(sa.select(S.periods.c.period)).scalars())
    found |= {p for p in conn.execute(sa.select(S.submissions.c.period).distinct()).scalars() if p}
    out = []
    for text in found:
        try:
            if parse_period(text).year < before:
                out.append(text)
        except (PeriodError, ValueError, TypeError):
            continue
    return sorted(out)


def archive_before(store: Store, before: int, folder: Path, *, retention_years: int,
                   today: dt.date | None = None) -> ArchiveResult:
    today = today or dt.date.today()
    newest_allowed = today.year - retention_years
    if before > newest_allowed:
        raise UsageError(
            f"--before {before} 会移走保存期内的结果：制度要求保存 {retention_years} 年，今年可归档 {newest_allowed} 年"
            f"（不含）之前的结果，即 --before 最大为 {newest_allowed}",
            f"--before {before} would move results still inside the {retention_years}-year retention period; this "
            f"year the latest allowed is --before {newest_allowed}")
    with store.reading() as conn:
        periods = _old_periods(conn, before)
        years = sorted({y for y in conn.execute(sa.select(S.annual.c.year).distinct()).scalars()
                        if str(y).isdigit() and int(y) < before})
    if not periods and not years:
        return ArchiveResult(None, [], [])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"kpisheet-archive-before-{before}-{today.strftime('%Y%m%d')}.db"
    n = 2
    while target.exists():
        target = folder / f"kpisheet-archive-before-{before}-{today.strftime('%Y%m%d')}-{n}.db"
        n += 1
    counts: dict[str, int] = {}
    ids: list[int] = []

    def write(temp: Path) -> None:
        copy = open_store(temp)
        try:
            _copy_out(store, copy, periods, years, counts, ids)
        finally:
            copy.dispose()

    write_atomically(target, write)
    with store.writing() as tx:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            tx.conn.execute(sa.delete(S.findings).where(S.findings.c.submission_id.in_(chunk)))
            tx.conn.execute(sa.delete(S.receipts).where(S.receipts.c.submission_id.in_(chunk)))
        tx.conn.execute(sa.delete(S.indicators).where(S.indicators.c.period.in_(periods)))
        tx.conn.execute(sa.delete(S.results).where(S.results.c.period.in_(periods)))
        tx.conn.execute(sa.delete(S.submissions).where(S.submissions.c.period.in_(periods)))
        for table, column in _BY_PERIOD:
            if table not in (S.results, S.indicators):
                tx.conn.execute(sa.delete(table).where(table.c[column].in_(periods)))
        tx.conn.execute(sa.delete(S.decisions).where(S.decisions.c.sheet == W.DECISION_ANNUAL,
                                                     S.decisions.c.period.in_(years)))
        tx.conn.execute(sa.delete(S.annual).where(S.annual.c.year.in_(years)))
        audit.append(tx, [{"time": tx.now, "action": W.LOG_ARCHIVE, "key": f"before {before}", "column": "",
                           "old": f"{sum(counts.values())} 行 rows", "new": target.name,
                           "reason": f"保存期 {retention_years} 年已满 / past the {retention_years}-year retention: "
                                     f"{', '.join(periods + years)}", "by": tx.user}])
        tx.touch()
    return ArchiveResult(target, periods, years, counts)


def _copy_out(store: Store, copy: Store, periods: list[str], years: list[str], counts: dict[str, int],
              ids: list[int]) -> None:
    """Every row of ``periods`` and ``years`` into ``copy``, then read back and counted."""
    with store.reading() as conn, copy.writing() as out:
        # submissions first: results point at them
        subs = [dict(r) for r in conn.execute(sa.select(S.submissions).where(
            S.submissions.c.period.in_(periods))).mappings()]
        _insert(out, S.submissions, subs, counts)
        ids.extend(s["id"] for s in subs)
        found = []
        for start in range(0, len(ids), 500):
            found += [dict(r) for r in conn.execute(sa.select(S.findings).where(
                S.findings.c.submission_id.in_(ids[start:start + 500]))).mappings()]
        _insert(out, S.findings, found, counts)
        held = []
        for start in range(0, len(ids), 500):
            held += [dict(r) for r in conn.execute(sa.select(S.receipts).where(
                S.receipts.c.submission_id.in_(ids[start:start + 500]))).mappings()]
        _insert(out, S.receipts, held, counts)
        for table, column in _BY_PERIOD:
            rows = [dict(r) for r in conn.execute(sa.select(table).where(table.c[column].in_(periods))).mappings()]
            _insert(out, table, rows, counts)
        rows = [dict(r) for r in conn.execute(sa.select(S.decisions).where(
            S.decisions.c.sheet == W.DECISION_ANNUAL, S.decisions.c.period.in_(years))).mappings()]
        _insert(out, S.decisions, rows, counts)
        rows = [dict(r) for r in conn.execute(sa.select(S.annual).where(S.annual.c.year.in_(years))).mappings()]
        _insert(out, S.annual, rows, counts)
        out.touch()
    with copy.reading() as check:  # read back before anything leaves the record
        for name, count in counts.items():
            held = check.execute(sa.select(sa.func.count()).select_from(S.metadata.tables[name])).scalar()
            if held < count:
                raise StoreError(f"归档文件校验失败：{name} 应有 {count} 行，只有 {held} 行；记录库未改动",
                                 f"the archive file check failed: {name} should hold {count} rows and holds "
                                 f"{held}; the record is untouched")


def _insert(tx, table: sa.Table, rows: list[dict], counts: dict[str, int]) -> None:
    for start in range(0, len(rows), 1000):
        tx.conn.execute(sa.insert(table), rows[start:start + 1000])
    counts[table.name] = counts.get(table.name, 0) + len(rows)
