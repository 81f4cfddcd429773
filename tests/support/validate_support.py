"""Shared set-up for the validation tests: one real team workbook, filled clean, read once.

Most check tests edit a copy of the clean workbook's cell values (as
python-calamine returns them) and run :func:`kpisheet.validators.validate.validate_values`
on it: fast, and each test names the exact cell it broke and the cell the
finding must point at. The ``values`` and ``props`` fixtures (tests/conftest.py) hand each test its own copy.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from kpisheet.validators import layout as L
from kpisheet.validators.reading.guard import read_guarded
from kpisheet.validators.report import FileReport
from kpisheet.validators.roster import Employee, read_roster, teams
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.validators.reading.safe_read import read_values
from kpisheet.validators.reading.submission import REQUIRED_SHEETS, read_team_workbook
from kpisheet.validators.validate import validate_values
from kpisheet.validators.reading.workbook_facts import workbook_facts

ROOT = Path(__file__).resolve().parents[2]
ROSTER = ROOT / "samples" / "roster.xlsx"
PERIOD = "2026-Q1"
TEAM = "华东工程一组"  # 13 people, engineers: every method but count
FILL_SEEDS = range(1, 400)


def rulebook():
    return default_rulebook()


@lru_cache(maxsize=1)
def sample_roster() -> tuple[Employee, ...]:
    return tuple(read_roster(ROSTER, default_rulebook()))


@lru_cache(maxsize=1)
def roster() -> tuple[Employee, ...]:
    """The sample roster with TEAM made of 6 engineers and 3 customer-service agents.

    Nine people: every scoring method and both directions of the rate and
    duration indicators, and a team small enough to be pooled at department
    level for the forced distribution (so a clean fill is clean). Members of
    the real team beyond the six are left out of the roster.
    """
    people = list(sample_roster())
    groups = teams(people)
    engineers = next(m for (_, name), m in groups.items() if name == TEAM)
    agents = next(m for m in groups.values() if m[0].role == "cs")
    moved = {e.employee_id: replace(e, department=engineers[0].department, team=TEAM) for e in agents[:3]}
    dropped = {e.employee_id for e in engineers[6:]}
    return tuple(moved.get(e.employee_id, e) for e in people if e.employee_id not in dropped)


def team_members(team: str = TEAM, people=None) -> list[Employee]:
    people = list(people or roster())
    return next(members for (_, name), members in teams(people).items() if name == team)


def department() -> str:
    return team_members()[0].department


def build_blank(folder: Path, team: str = TEAM, period: str = PERIOD, rb=None) -> Path:
    from kpisheet.workbook_templates.team_workbook import build_team_workbook, team_file_name

    members = team_members(team)
    name = team_file_name(period, members[0].department, team)
    return build_team_workbook(folder / name, rb or default_rulebook(), period, members[0].department, team, members)


def fill_clean(blank: Path, out: Path, rb=None) -> tuple[Path, int]:
    """Fill ``blank`` with the first seed that gives a workbook without any finding.

    A random fill often grades more people S or A than the team's quota
    allows (a warning); a manager who keeps to the quota is the clean case.
    """
    from kpisheet.workbook_templates.filler import fill_team_workbook

    rb = rb or default_rulebook()
    people = list(roster())
    for seed in FILL_SEEDS:
        fill_team_workbook(blank, out, seed=seed, rulebook=rb)
        report = run_file(out, rb=rb, roster=people)
        if not report.findings:
            return out, seed
    raise AssertionError("no seed gave a clean workbook")


def run_file(path: Path, rb=None, **kw) -> FileReport:
    from kpisheet.validators.validate import validate_file

    return validate_file(path, rulebook=rb or default_rulebook(), **kw)


def read(path: Path) -> tuple[dict, dict, bool]:
    """(values of the required sheets, kpisheet custom properties, calculated) of a workbook file."""
    values = read_values(path, REQUIRED_SHEETS)
    _, data = read_guarded(path)
    facts = workbook_facts(data)
    return values, facts.properties, facts.calculated


def run(values: dict, properties: dict | None = None, *, calculated: bool = False, rb=None,
        with_roster: bool = True, **kw) -> FileReport:
    kw.setdefault("roster", list(roster()) if with_roster else None)
    return validate_values(values, source="team.xlsx", rulebook=rb or default_rulebook(),
                           properties=properties, calculated=calculated, **kw)


def put(values: dict, sheet: str, cell: str, value) -> None:
    """Set the cell ``cell`` (A1) of ``sheet`` in a values dict, growing rows as needed."""
    row, col = parse_a1(cell)
    rows = values[sheet]
    while len(rows) <= row:
        rows.append([])
    line = rows[row]
    while len(line) <= col:
        line.append("")
    line[col] = value


def get(values: dict, sheet: str, cell: str):
    row, col = parse_a1(cell)
    rows = values[sheet]
    return rows[row][col] if row < len(rows) and col < len(rows[row]) else ""


def parse_a1(cell: str) -> tuple[int, int]:
    letters = "".join(ch for ch in cell if ch.isalpha())
    digits = cell[len(letters):]
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits) - 1, col - 1


def cell_of(columns, key: str, row0: int) -> str:
    return L.a1(row0, L.column_index(columns, key))


def book(values: dict):
    """The team workbook in ``values`` as the reader sees it (default rulebook)."""
    return read_team_workbook(values, source="t", rulebook=default_rulebook())


def only(report: FileReport, code: str) -> set[tuple[str | None, str | None]]:
    """(sheet, cell) of every finding with ``code``."""
    return {(f.sheet, f.cell) for f in report.findings if f.code == code}


def places(report: FileReport) -> set[tuple[str, str | None, str | None]]:
    return {(f.code, f.sheet, f.cell) for f in report.findings}


def codes(report: FileReport) -> set[str]:
    return {f.code for f in report.findings}


def fresh(values: dict) -> dict:
    return copy.deepcopy(values)


_CLEAN: dict[str, tuple[Path, int]] = {}


def clean_workbook(tmp_path_factory) -> tuple[Path, int]:
    """The clean filled workbook of TEAM for PERIOD, made once per test session: (path, seed)."""
    if "clean" not in _CLEAN:
        folder = tmp_path_factory.mktemp("clean")
        blank = build_blank(folder / "blank")
        _CLEAN["clean"] = fill_clean(blank, folder / blank.name)
    return _CLEAN["clean"]
