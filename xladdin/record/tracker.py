"""The submission tracker: per team of a period, has it submitted, been accepted, rejected (why), or is it missing.

The teams a period expects come from the roster (given, or the one recorded
by the last consolidation with a roster); without either, only the teams
that sent something are known, and the tracker says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

import sqlalchemy as sa

from kpisheet.validators.roster import Employee
from kpisheet.xladdin.record import schema as S
from kpisheet.xladdin.record.ingest import record_teams
from kpisheet.xladdin.record.store import Store
from kpisheet.xladdin.record.words import ACCEPTED, REJECTED, SUPERSEDED

ACCEPTED_STATE, REJECTED_STATE, SUBMITTED_STATE, MISSING_STATE = "accepted", "rejected", "submitted", "missing"
STATE_SHOWN = {ACCEPTED_STATE: "已接受 accepted", REJECTED_STATE: "已拒绝 rejected",
               SUBMITTED_STATE: "已提交 submitted", MISSING_STATE: "未提交 missing"}


@dataclass
class TeamStatus:
    period: str
    department: str
    team: str
    state: str
    manager_id: str | None = None
    manager_name: str | None = None
    headcount: int | None = None
    last_time: dt.datetime | None = None
    file: str | None = None
    why: str | None = None            # one line: the first error of a rejected file
    codes: list[str] = field(default_factory=list)

    @property
    def shown(self) -> str:
        return STATE_SHOWN[self.state]


@dataclass
class PeriodStatus:
    period: str
    teams: list[TeamStatus]
    deadline: dt.date | None
    roster_known: bool             # the expected teams are known (else only teams that sent something)

    @property
    def complete(self) -> bool:
        return self.roster_known and all(t.state == ACCEPTED_STATE for t in self.teams)

    def missing(self) -> list[TeamStatus]:
        return [t for t in self.teams if t.state != ACCEPTED_STATE]


def _first_error(conn: sa.Connection, submission: int) -> tuple[str | None, list[str]]:
    f = S.findings
    rows = conn.execute(sa.select(f.c.code, f.c.message_zh, f.c.message_en).where(
        f.c.submission_id == submission, f.c.severity == "error").order_by(f.c.id)).all()
    if not rows:
        return None, []
    more = f"（另有 {len(rows) - 1} 个错误 / {len(rows) - 1} more）" if len(rows) > 1 else ""
    return f"{rows[0].message_zh} / {rows[0].message_en}{more}", sorted({r.code for r in rows})


def period_status(conn: sa.Connection, period: str) -> PeriodStatus:
    """Each expected team of ``period`` (the recorded roster's teams, plus any team that sent a file)."""
    t, s = S.teams, S.submissions
    expected = {(r.department, r.team): r for r in conn.execute(sa.select(t).where(t.c.period == period))}
    latest: dict[tuple, Mapping] = {}
    query = sa.select(s).where(s.c.period == period).order_by(s.c.received_at, s.c.id)
    for row in conn.execute(query).mappings():
        key = (row["department"] or "", row["team"] or "")
        held = latest.get(key)
        # the team's standing: its accepted file if any, else its newest file
        if held is None or held["status"] != ACCEPTED or row["status"] == ACCEPTED:
            latest[key] = row
    deadline = conn.execute(sa.select(S.periods.c.deadline).where(S.periods.c.period == period)).scalar() \
        or _settings_deadline(conn, period)
    out = []
    for key in sorted(set(expected) | set(latest)):
        team = expected.get(key)
        row = latest.get(key)
        status = TeamStatus(period, key[0], key[1], MISSING_STATE,
                            team.manager_id if team else None, team.manager_name if team else None,
                            team.headcount if team else None)
        if row is not None:
            status.last_time = row["received_at"]
            status.file = row["path"]
            if row["status"] == ACCEPTED:
                status.state = ACCEPTED_STATE
            elif row["status"] == REJECTED:
                status.state = REJECTED_STATE
                status.why, status.codes = _first_error(conn, row["id"])
                status.why = status.why or row["note"]
            elif row["status"] == SUPERSEDED:
                status.state = SUBMITTED_STATE
        out.append(status)
    return PeriodStatus(period, out, deadline, bool(expected))


def _settings_deadline(conn: sa.Connection, period: str) -> dt.date | None:
    """The deadline HR typed in 设置, when 设置's period is this one."""
    from kpisheet.validators.policy.periods import canonical_text
    from kpisheet.xladdin.record.decisions import values_as_of
    from kpisheet.xladdin.record.words import DECISION_SETTINGS

    values = {k[1]: v.get("value") for k, v in values_as_of(conn, DECISION_SETTINGS).items()}
    if canonical_text(values.get("period")) != period or not values.get("deadline"):
        return None
    try:
        return dt.date.fromisoformat(str(values["deadline"]).strip()[:10])
    except ValueError:
        return None


def status_of(store: Store, period: str, roster: Mapping[str, Employee] | None = None) -> PeriodStatus:
    """The tracker for ``period``; a roster given now is recorded as the period's expected teams."""
    if roster:
        with store.writing() as tx:
            record_teams(tx, [period], roster)
    with store.reading() as conn:
        return period_status(conn, period)


def latest_period(store: Store) -> str | None:
    """The newest period the record holds a file or a team for."""
    from kpisheet.validators.policy.periods import PeriodError, parse_period

    with store.reading() as conn:
        found = set(conn.execute(sa.select(S.submissions.c.period).distinct()).scalars())
        found |= set(conn.execute(sa.select(S.teams.c.period).distinct()).scalars())
    dated = []
    for text in found:
        try:
            parsed = parse_period(text)
        except (PeriodError, ValueError, TypeError):
            continue
        dated.append((parsed.end, parsed.month_count, text))
    return max(dated)[2] if dated else None


def set_deadline(store: Store, period: str, day: dt.date) -> None:
    p = S.periods
    with store.writing() as tx:
        row = tx.conn.execute(sa.select(p.c.deadline).where(p.c.period == period)).first()
        if row is None:
            tx.conn.execute(sa.insert(p).values(period=period, state="open", deadline=day, updated_at=tx.now))
        elif row.deadline != day:
            tx.conn.execute(sa.update(p).where(p.c.period == period).values(deadline=day, updated_at=tx.now))
        else:
            return
        tx.touch()


def reminder_text(status: TeamStatus, deadline: dt.date | None) -> str:
    """One short bilingual reminder for a team that has not been accepted."""
    who = status.manager_name or "经理"
    who_en = status.manager_name or "manager"
    when_zh = f"请于 {deadline.isoformat()} 前" if deadline else "请尽快"
    when_en = f"by {deadline.isoformat()}" if deadline else "as soon as possible"
    if status.state == REJECTED_STATE:
        body_zh = (f"{who}，您好：{status.department} {status.team} {status.period} 的考核表（{status.file}）未通过校验："
                   f"{status.why or '见问题清单'}。{when_zh}修改后重新提交。")
        body_en = (f"Dear {who_en}, the appraisal workbook of {status.team} for {status.period} ({status.file}) was "
                   f"rejected: {status.why or 'see the findings'}. Please correct it and resubmit {when_en}.")
    else:
        body_zh = f"{who}，您好：尚未收到 {status.department} {status.team} {status.period} 的考核表，{when_zh}提交。"
        body_en = (f"Dear {who_en}, we have not yet received the appraisal workbook of {status.team} for "
                   f"{status.period}. Please submit it {when_en}.")
    return f"{body_zh}\n\n{body_en}\n"
