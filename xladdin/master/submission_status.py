"""The submission tracker as the faces ask for it (`kpisheet status`, the ribbon's 提交情况 button).

    report = submission_status(master, period="2026-Q4")      # the record beside the master
    report.teams -> [TeamStatus(department, team, state, manager_name, last_time, why, ...)]
    report.complete -> every expected team accepted
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Sequence

from kpisheet.validators.errors import UsageError
from kpisheet.validators.roster import Employee
from kpisheet.xladdin.kit.files import write_atomically
from kpisheet.xladdin.record.store import open_store
from kpisheet.xladdin.record.tracker import PeriodStatus, TeamStatus, latest_period, reminder_text, status_of


@dataclasses.dataclass
class StatusReport(PeriodStatus):
    store: str = ""

    def to_dict(self) -> dict:
        return {"period": self.period, "store": self.store, "complete": self.complete,
                "roster_known": self.roster_known,
                "deadline": self.deadline.isoformat() if self.deadline else None,
                "teams": [{**{k: v for k, v in dataclasses.asdict(t).items() if k != "last_time"},
                           "last_time": t.last_time.isoformat(" ") if t.last_time else None, "shown": t.shown}
                          for t in self.teams]}


def submission_status(master: Path | None, *, store: str | None = None, period: str | None = None,
                      roster: Sequence[Employee] | None = None) -> StatusReport:
    """Per team of ``period`` (default: the newest the record knows): accepted, rejected (why), submitted,
    missing. The record is ``store``, else kpisheet.db beside ``master``; it must exist."""
    opened = open_store(store, master=master, create=False)
    try:
        period = period or latest_period(opened)
        if period is None:
            raise UsageError("考核记录库中还没有任何期间：请先运行 kpisheet consolidate，或用 --period 指定",
                             "the record holds no period yet: run kpisheet consolidate first, or pass --period")
        people = {p.employee_id: p for p in roster} if roster else None
        found = status_of(opened, period, people)
        return StatusReport(found.period, found.teams, found.deadline, found.roster_known, opened.label)
    finally:
        opened.dispose()


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def reminder_name(team: TeamStatus) -> str:
    parts = (team.period, team.department, team.team, "提醒")
    return "_".join(_UNSAFE.sub("-", p).strip(" .") for p in parts if p) + ".txt"


def write_reminders(report: PeriodStatus, folder: Path) -> list[Path]:
    """One UTF-8 reminder text per team not yet accepted, in ``folder``; the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for team in report.missing():
        target = folder / reminder_name(team)
        text = reminder_text(team, report.deadline)
        write_atomically(target, lambda temp, text=text: temp.write_text(text, encoding="utf-8"))
        written.append(target)
    return written
