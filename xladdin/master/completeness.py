"""Steps that need a complete period (calibrate, rollup, notices) refuse incomplete data, unless HR says go on.

A period is complete when every team the roster expects for it has an
accepted submission in the record; a year is complete for the roll-up when
each of its weighted sub-periods (Q1..Q4) holds results and each is complete.
Without ``--allow-incomplete`` the step stops with exit 1 and names what is
missing; with it the step goes on, the audit log records HR's choice, and the
master marks the rows of the incomplete periods (复核标记).
"""

from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa

from kpisheet.validators.errors import EXIT_FINDINGS, KpisheetError
from kpisheet.validators.policy.periods import PeriodError, parse_period
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.xladdin.record import audit, schema as S, words as W
from kpisheet.xladdin.record.store import Tx
from kpisheet.xladdin.record.tracker import period_status


class IncompleteData(KpisheetError):
    """A step that needs complete data found teams or periods missing."""

    code = "incomplete-data"
    exit_code = EXIT_FINDINGS
    title_zh, title_en = "数据不完整", "incomplete data"
    description = ("calibrate, rollup and notices need every team of the period accepted (and rollup every "
                   "quarter of the year); the message names what is missing. --allow-incomplete goes on anyway, "
                   "logged, with the affected rows marked in the master.")


def missing_teams(tx: Tx, period: str) -> list[str]:
    status = period_status(tx.conn, period)
    if not status.roster_known:
        return []  # the roster was never given: nothing to compare with (status says so)
    return [f"{t.department}/{t.team}" for t in status.missing()]


def missing_parts(tx: Tx, year: int, rulebook: Rulebook) -> list[str]:
    """The weighted sub-periods of ``year`` with no result at all."""
    held = set(tx.conn.execute(sa.select(S.results.c.period).distinct()).scalars())
    parsed = []
    for text in held:
        try:
            parsed.append(parse_period(text))
        except (PeriodError, ValueError, TypeError):
            continue
    out = []
    for part in rulebook.periods.year_weights:
        try:
            quarter = parse_period(f"{year}-{part}")
        except PeriodError:
            continue
        if not any(p.year == year and (p == quarter or quarter.contains(p) or p.contains(quarter)) and p.kind != "year"
                   for p in parsed):
            out.append(str(quarter))
    return out


def require_complete(tx: Tx, periods: Iterable[str], *, allow: bool, step: str, year: int | None = None,
                     rulebook: Rulebook | None = None) -> list[str]:
    """Refuse (IncompleteData) or, with ``allow``, log and mark; returns what is missing."""
    periods = sorted(set(periods))
    lines, by_period = [], {}
    if year is not None and rulebook is not None:
        absent = missing_parts(tx, year, rulebook)
        if absent:
            lines.append(f"{year} 年缺少 {'、'.join(absent)} 的结果 / no results for {', '.join(absent)}")
    for period in periods:
        teams = missing_teams(tx, period)
        if teams:
            by_period[period] = teams
            lines.append(f"{period} 缺少 {len(teams)} 个团队 / {len(teams)} team(s) missing: {'、'.join(teams)}")
    p = S.periods
    if not lines:
        for period in periods:  # complete now: the mark of an earlier --allow-incomplete goes
            tx.conn.execute(sa.update(p).where(p.c.period == period, p.c.incomplete.is_not(None))
                            .values(incomplete=None, updated_at=tx.now))
        return []
    if not allow:
        raise IncompleteData(f"{step} 需要完整的数据：{'；'.join(lines)}",
                             f"{step} needs complete data: {'; '.join(lines)}",
                             hint_zh="等缺少的团队提交（kpisheet status 列出并可写提醒），或加 --allow-incomplete 继续（记入日志）",
                             hint_en="wait for the missing teams (kpisheet status lists them and writes reminders), or "
                                     "pass --allow-incomplete to go on (logged)",
                             details=lines)
    for period, teams in by_period.items():
        text = "、".join(teams)
        if tx.conn.execute(sa.select(p.c.incomplete).where(p.c.period == period)).scalar() != text:
            tx.conn.execute(sa.update(p).where(p.c.period == period).values(incomplete=text, updated_at=tx.now))
    reason = "；".join(lines)
    last = tx.conn.execute(sa.select(S.audit.c.reason).where(S.audit.c.action == W.LOG_INCOMPLETE,
                                                              S.audit.c.key == step)
                           .order_by(S.audit.c.seq.desc()).limit(1)).scalar()
    if last == reason:
        return lines  # HR's choice for exactly this gap is logged already: a re-run changes nothing
    audit.append(tx, [{"time": tx.now, "action": W.LOG_INCOMPLETE, "key": step, "column": "", "old": "",
                       "new": "--allow-incomplete", "reason": "；".join(lines), "by": tx.user,
                       "period": periods[0] if len(periods) == 1 else None}])
    return lines
