"""Parity at scale through LibreOffice, typed as managers type: workbook formulas = Python engine.

10,440 employee-cases (8 workbooks of 1,305 people, one blank built once and
typed eight ways) are typed into LibreOffice through its own input parsing
("95.13%", "0.9513", "5.125", "2"), recalculated and saved by one soffice
process, read back with python-calamine and compared with the Python engine
scoring the same file's inputs: every indicator score, subtotal, bonus, total,
grade and coefficient must be equal (not close: equal), and every workbook
must validate without an error (a correctly filled workbook is never
rejected). The inputs are the systematic sweeps of
:mod:`tests.support.parity_sweep`: every 2-decimal percentage and duration
over each indicator's scale at the default floor/target/challenge, every exact
tie reachable by typing, other targets on later laps, and totals constructed
exactly at and around every grade boundary.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from decimal import Decimal

import pytest

from kpisheet.validators.layout import VETO_NONE
from kpisheet.validators.policy.grading import score_employee
from kpisheet.validators.policy.rounding import accepts, decimal_value, working
from kpisheet.validators.reading.submission import employee_lines, load_team_workbook, number
from kpisheet.validators.validate import validate_file
from kpisheet.workbook_templates.filler import make_employees
from kpisheet.workbook_templates.team_workbook import build_team_workbook

from tests.support.lo_typing import Job, run_parallel
from tests.support.parity_sweep import boundary_cases, is_tie, sweep, sweep_cases
from tests.support.typed_fill import entries_for

PERIOD = "2026-Q4"
SIGN_DAY = dt.date(2027, 1, 10)
# per workbook, the rulebook's three roles in turn: 8 x 435 = 3,480 cases per role, enough for the longest
# sweep (3,401 values) after the constructed boundary cases (72)
PEOPLE = 1305
WORKBOOKS = 8
MIN_CASES = 10_000
BOUNDARY_PER_TARGET = 3
LIBREOFFICE_PROCESSES = 2  # CI has two cores


@pytest.fixture(scope="module")
def parity(soffice, rulebook, tmp_path_factory):
    started = time.monotonic()
    folder = tmp_path_factory.mktemp("typed_parity")
    people = make_employees(PEOPLE, seed=20, team="平行组", prefix="P")
    blank = build_team_workbook(folder / "blank.xlsx", rulebook, PERIOD, "售后服务部", "平行组", people)
    blank_book = load_team_workbook(blank, rulebook)
    by_role: dict[str, list[str]] = {}
    for person in people:
        by_role.setdefault(person.role, []).append(person.employee_id)
    streams = {}
    for role, ids in by_role.items():
        boundary = boundary_cases(rulebook, role, BOUNDARY_PER_TARGET, seed=len(ids))
        streams[role] = boundary + sweep_cases(rulebook, role, 0, WORKBOOKS * len(ids) - len(boundary))
    jobs, cases = [], []
    for j in range(WORKBOOKS):
        plan = {}
        for role, ids in by_role.items():
            for i, emp in enumerate(ids):
                plan[emp] = streams[role][j * len(ids) + i]
        cases.append(plan)
        entries = entries_for(blank_book, rulebook, {e: c.typed for e, c in plan.items()}, SIGN_DAY)
        jobs.append(Job(blank, folder / "typed" / f"typed{j}.xlsx", entries))
    prepared = time.monotonic()
    saved = run_parallel(folder / "lo", jobs, LIBREOFFICE_PROCESSES, "parity")
    typed = time.monotonic()
    # each workbook on its own (they hold the same people, which a batch would rightly call duplicates)
    with ProcessPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(partial(validate_file, rulebook=rulebook, roster=people, period=PERIOD), saved))
    validated = time.monotonic()
    print(f"\nparity: {WORKBOOKS * PEOPLE} employee-cases; prepare {prepared - started:.0f} s, LibreOffice "
          f"{typed - prepared:.0f} s, validation {validated - typed:.0f} s")
    return saved, cases, reports


def test_at_least_ten_thousand_cases_through_libreoffice(parity):
    saved, cases, _ = parity
    assert sum(len(plan) for plan in cases) >= MIN_CASES
    assert len(saved) == WORKBOOKS


def test_the_workbooks_equal_the_python_engine(parity, rulebook):
    saved, cases, _ = parity
    problems: list[str] = []
    seen: Counter = Counter()
    for path, plan in zip(saved, cases):
        book = load_team_workbook(path, rulebook)
        lines = employee_lines(book)
        score_rows = {(s.employee_id, s.code): s for s in book.scores}
        for row in book.summary:
            emp = row.employee_id
            result = score_employee(rulebook, lines[emp], number(row.commendations), row.veto)
            if not result.complete:
                problems.append(f"{path.name} {emp}: incomplete {result.missing} {result.invalid}")
                continue
            seen["employees"] += 1
            for line in result.lines:
                cell = score_rows[(emp, line.code)]
                seen["indicator ties"] += is_tie(line.exact_raw)
                if number(cell.score) != line.score:
                    problems.append(f"{cell.ref('score')}: sheet {cell.score!r} python {line.score!r} "
                                    f"(exact {line.exact_raw})")
                if not accepts(cell.weighted, line.exact_weighted):
                    problems.append(f"{cell.ref('weighted')}: sheet {cell.weighted!r} python {line.exact_weighted}")
            for code, python in result.subtotals.items():
                if number(row.subtotals[code]) != python:
                    problems.append(f"{row.ref('subtotal_' + code)}: sheet {row.subtotals[code]!r} python {python!r}")
            with working():
                exact_total = sum((ln.exact_weighted for ln in result.lines), Decimal(0)) + decimal_value(result.bonus)
            seen["total ties"] += is_tie(exact_total)
            aim = plan[emp].boundary
            if aim is not None:
                seen["boundaries"] += 1
                if exact_total != aim:
                    problems.append(f"{row.ref('total')}: constructed for {aim}, typed inputs give {exact_total}")
            for key, python in (("bonus", result.bonus), ("total", result.total),
                                ("coefficient", result.coefficient)):
                if number(getattr(row, key)) != python:
                    problems.append(f"{row.ref(key)}: sheet {getattr(row, key)!r} python {python!r}")
            if row.grade != result.grade:
                problems.append(f"{row.ref('grade')}: sheet {row.grade!r} python {result.grade!r} "
                                f"(total {result.total})")
            seen[f"grade {result.grade}"] += 1
            seen["veto"] += row.veto not in ("", VETO_NONE)
            seen["bonus at cap"] += result.bonus == rulebook.scoring.bonus_cap
        if len(problems) > 40:
            break
    print(f"\nparity: {seen['employees']} employees compared, 0 allowed mismatches, {len(problems)} found; exact ties: "
          f"{seen['indicator ties']} indicator scores, {seen['total ties']} totals; {seen['boundaries']} totals built "
          f"on grade boundaries; grades " + ", ".join(f"{b.grade} {seen['grade ' + b.grade]}" for b in rulebook.grades))
    assert not problems, f"{len(problems)} mismatch(es):\n" + "\n".join(problems[:40])
    assert seen["employees"] >= MIN_CASES
    boundary_cases_made = 3 * len({band.min for band in rulebook.grades if band.min > 0}) * 6 * BOUNDARY_PER_TARGET
    assert seen["boundaries"] == boundary_cases_made
    assert seen["indicator ties"] >= 3000 and seen["total ties"] >= 500, dict(seen)
    assert all(seen[f"grade {band.grade}"] for band in rulebook.grades), dict(seen)
    assert seen["veto"] and seen["bonus at cap"], dict(seen)


def test_every_sweep_value_was_typed(parity, rulebook):
    """Each role has enough cases for its longest sweep: every value of every sweep went through LibreOffice."""
    _, cases, _ = parity
    per_role = Counter()
    for plan in cases:
        for case in plan.values():
            per_role[_role_of(rulebook, case.typed.lines)] += 1
    for role in rulebook.roles:
        longest = max(len(sweep(rulebook, ind)) for ind, _ in rulebook.role_indicators(role.code))
        assert per_role[role.code] >= longest, (role.code, per_role[role.code], longest)


def _role_of(rulebook, lines) -> str:
    for role in rulebook.roles:
        if set(role.weights) == set(lines):
            return role.code
    raise AssertionError(f"no role has indicators {sorted(lines)}")


def test_no_correctly_filled_workbook_is_rejected(parity):
    _, _, reports = parity
    errors = [f"{r.path} {f.code} {f.where}: {f.message_en}" for r in reports for f in r.findings
              if f.severity == "error"]
    assert not errors, f"{len(errors)} false rejection(s):\n" + "\n".join(errors[:30])
    assert all(r.status != "error" for r in reports)
