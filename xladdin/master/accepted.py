"""Who each team's accepted submission lists: what a file claiming that team must agree with.

Without a roster nothing in a submitted file can be checked against who
really belongs to a team; the team's submission HR already accepted is the
next best witness. Today it is read from the master's 总表 (each row whose
source is the team's accepted file, 源文件状态 = 有效); once the cycle
record (xladdin/record) is the system of record, this one function asks the
record instead, and nothing else changes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from kpisheet.validators.checks.team import AcceptedTeam, AcceptedTeams
from kpisheet.validators.rulebook.model import Rulebook

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.io import read_master
from kpisheet.xladdin.master.layout import MasterData


def accepted_teams(data: MasterData) -> AcceptedTeams:
    """(period, department, team) -> the employees and file of the team's accepted submission in ``data``."""
    members: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    sources: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
    for row in data.rows(L.SUMMARY):
        if row.get("source_status") != L.SOURCE_PRESENT or not row.get("period") or not row.get("employee_id"):
            continue
        key = (str(row["period"]), str(row.get("department") or ""), str(row.get("team") or ""))
        members[key].add(str(row["employee_id"]))
        sources[key][str(row.get("source_file") or "")] += 1
    return {key: AcceptedTeam(sources[key].most_common(1)[0][0], frozenset(ids)) for key, ids in members.items()}


def accepted_submissions(master: Path, rulebook: Rulebook) -> AcceptedTeams:
    """The accepted submissions the master at ``master`` holds (none when there is no master yet).

    Raises :class:`~kpisheet.xladdin.master.io.MasterReadError` for a file that is not a master, before any
    submission is validated.
    """
    master = Path(master)
    if not master.is_file():
        return {}
    return accepted_teams(read_master(master, rulebook))
