"""The approved goals: goals-phase workbooks HR signed off, as the baseline for goal-changed-after-approval.

``kpisheet validate --approved-goals DIR`` points at a folder of the
goals-phase workbooks as approved. Each is read like any submission (guard,
worker process) and indexed by (department, team, period), so a scoring-phase
workbook is compared with the approved one of its own team and period.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from kpisheet.validators.findings import Finding
from kpisheet.validators.reading.file_search import find_files
from kpisheet.validators.reading.guard import read_guarded
from kpisheet.validators.policy.periods import PeriodError, parse_period
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.reading.submission import REQUIRED_SHEETS, NotATeamWorkbook, read_team_workbook

Key = tuple[str, str, str]  # (department, team, period)


@dataclass(frozen=True)
class ApprovedGoalsLoad:
    index: dict[Key, dict[tuple[str, str], dict[str, object]]]
    sources: dict[Key, str] = field(default_factory=dict)  # key -> file it came from
    problems: dict[str, tuple[Finding, ...] | str] = field(default_factory=dict)  # file -> why it was not used


def goals_of(values: dict[str, list[list]], *, source: str, rulebook: Rulebook):
    """(key, {(employee, code): {weight, floor, target, challenge, smart}}) of one workbook's values."""
    book = read_team_workbook(values, source=source, rulebook=rulebook)
    i = book.identity
    try:
        period = str(parse_period(i.period))
    except PeriodError:
        period = i.period
    goals: dict[tuple[str, str], dict[str, object]] = {}
    for g in book.goals:
        goals.setdefault((g.employee_id, g.code), {
            "weight": g.weight, "floor": g.floor, "target": g.target, "challenge": g.challenge, "smart": g.smart})
    return (i.department, i.team, period), goals


def _read_one(rulebook: Rulebook, path: str):
    """("ok", key, goals) or ("refused", findings or reason): plain tuples, sent back from a worker."""
    from kpisheet.validators.reading.safe_read import values_of_guarded

    verdict, data = read_guarded(path, sheets=REQUIRED_SHEETS)
    if not verdict.readable or data is None:
        return ("refused", tuple(verdict.findings))
    values, failure = values_of_guarded(verdict, REQUIRED_SHEETS)
    if failure is not None:
        return ("refused", (failure,))
    try:
        return ("ok",) + goals_of(values, source=path, rulebook=rulebook)
    except NotATeamWorkbook as error:
        return ("refused", f"{error.message_zh} / {error.message_en}")


def load_approved_goals(folder: str | Path, *, rulebook: Rulebook, jobs: int | None = None) -> ApprovedGoalsLoad:
    """Index every workbook under ``folder``; files that are not readable team workbooks are listed in ``problems``.

    Raises FileNotFoundError when ``folder`` does not exist. When two files
    hold the same team and period, the first by path is used.
    """
    from kpisheet.validators.reading.safe_read import WorkerFailure, run_isolated

    files = find_files([folder])
    outcomes = dict(run_isolated(functools.partial(_read_one, rulebook), files, jobs))
    load = ApprovedGoalsLoad({})
    for path in files:
        outcome = outcomes[path]
        if isinstance(outcome, WorkerFailure):
            load.problems[str(path)] = outcome.findings
        elif outcome[0] != "ok":
            load.problems[str(path)] = outcome[1]
        elif outcome[1] in load.index:
            first = load.sources[outcome[1]]
            load.problems[str(path)] = (f"与 {first} 重复（同一团队和期间），未使用 / "
                                        f"duplicates {first} (same team and period), not used")
        else:
            load.index[outcome[1]] = outcome[2]
            load.sources[outcome[1]] = str(path)
    return load
