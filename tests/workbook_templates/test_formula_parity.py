"""The workbook's Excel formulas equal the Python engine, through a real second engine.

Team workbooks are built by the writer, filled by the seeded filler (typical
values and boundary cases), recalculated by headless LibreOffice, read back
with python-calamine, and every indicator score, weighted score, subtotal,
bonus, total, grade and coefficient is compared with
``kpisheet.validators.policy.grading.score_employee`` on the inputs read from the same file.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import openpyxl
import pytest

from kpisheet.validators import layout as L
from kpisheet.validators.policy.grading import score_employee
from kpisheet.validators.reading.submission import TeamWorkbook, employee_lines, load_team_workbook, number
from kpisheet.workbook_templates.filler import fill_team_workbook, make_employees
from kpisheet.workbook_templates.team_workbook import build_team_workbook
from kpisheet.xladdin.kit.libreoffice import recalculate

TOLERANCE = 0.01
MIN_CASES = 1000

# (employees, fill options): typical fills, then more and more edge cases
TEAMS = [
    (130, dict(boundary=0.0, redistribute=0.3, vary_targets=0.3, veto_rate=0.02)),
    (130, dict(boundary=0.1, redistribute=0.3, vary_targets=0.3, veto_rate=0.03)),
    (130, dict(boundary=0.2, redistribute=0.5, vary_targets=0.5, veto_rate=0.05)),
    (130, dict(boundary=0.3, redistribute=0.5, vary_targets=0.5, veto_rate=0.05)),
    (130, dict(boundary=0.5, redistribute=0.5, vary_targets=0.5, veto_rate=0.05)),
    (130, dict(boundary=0.7, redistribute=1.0, vary_targets=1.0, veto_rate=0.1)),
    (130, dict(boundary=1.0, redistribute=1.0, vary_targets=1.0, veto_rate=0.1)),
    (130, dict(boundary=0.4, redistribute=0.0, vary_targets=0.0, veto_rate=0.0)),
]
# inputs that leave an employee without a total: both engines must agree on which
BROKEN = (40, dict(boundary=0.2, mistakes={"missing-input", "rating-invalid", "target-order", "target-missing",
                                           "weight-sum", "text-number", "out-of-range"}))


@dataclass(frozen=True)
class Case:
    filled: Path
    book: TeamWorkbook  # as LibreOffice computed it


def _prepare(folder: Path, index: int, size: int, options: dict, rulebook) -> Path:
    employees = make_employees(size, seed=1000 + index, team=f"第{index}组", prefix=f"P{index}")
    blank = build_team_workbook(folder / f"blank{index}.xlsx", rulebook, "2026-Q4", "售后服务部",
                                f"第{index}组", employees)
    filled = folder / f"filled{index}.xlsx"
    fill_team_workbook(blank, filled, seed=index, rulebook=rulebook, **options)
    return filled


def _recalculated(folder: Path, teams, rulebook) -> list[Case]:
    # build and fill the next workbook in a thread while LibreOffice (a separate
    # process) recalculates the previous one
    with ThreadPoolExecutor(max_workers=1) as pool:
        futures = [pool.submit(_prepare, folder, i, size, options, rulebook)
                   for i, (size, options) in enumerate(teams)]
        cases = []
        for future in futures:
            filled = future.result()
            computed = recalculate(filled, folder / f"lo_{filled.stem}")
            cases.append(Case(filled, load_team_workbook(computed, rulebook)))
    return cases


@pytest.fixture(scope="module")
def cases(soffice, rulebook, tmp_path_factory) -> list[Case]:
    return _recalculated(tmp_path_factory.mktemp("parity"), TEAMS, rulebook)


@pytest.fixture(scope="module")
def broken(soffice, rulebook, tmp_path_factory) -> Case:
    folder = tmp_path_factory.mktemp("parity_broken")
    return _recalculated(folder, [BROKEN], rulebook)[0]


def _close(python: float | None, sheet) -> bool:
    value = number(sheet)
    return python is not None and value is not None and abs(python - value) <= TOLERANCE + 1e-9


def _compare(case: Case, rulebook) -> tuple[int, list[str]]:
    """(employees compared, one line per disagreement with the cell, inputs and both values)."""
    book = case.book
    lines = employee_lines(book)
    scores = {(s.employee_id, s.code): s for s in book.scores}
    problems: list[str] = []
    compared = 0
    for row in book.summary:
        emp = row.employee_id
        result = score_employee(rulebook, lines[emp], number(row.commendations), row.veto)
        assert result.complete, f"{case.filled.name} {emp}: the filler left {result.missing or result.invalid}"
        compared += 1
        for line, outcome in zip(lines[emp], result.lines):
            cell = scores[(emp, line.code)]
            for key, python in (("score", outcome.score), ("weighted", outcome.weighted)):
                if not _close(python, getattr(cell, key)):
                    problems.append(_explain(case, cell.ref(key), python, getattr(cell, key), line))
        if len(problems) > 30:
            break  # a systematic fault: the first ones tell the story
        for code, python in result.subtotals.items():
            if not _close(python, row.subtotals[code]):
                problems.append(_explain(case, row.ref(f"subtotal_{code}"), python, row.subtotals[code]))
        for key, python in (("bonus", result.bonus), ("total", result.total), ("coefficient", result.coefficient)):
            if not _close(python, getattr(row, key)):
                problems.append(_explain(case, row.ref(key), python, getattr(row, key),
                                         f"commendations={row.commendations!r} veto={row.veto!r}"))
        if result.grade != row.grade:
            problems.append(_explain(case, row.ref("grade"), result.grade, row.grade,
                                     f"total={result.total} veto={row.veto!r}"))
    return compared, problems


def _explain(case: Case, ref: str, python, sheet, inputs=None) -> str:
    """Enough to tell whether the formula or the engine is wrong: the formula text as written."""
    sheet_name, cell = ref.split("!")
    formula = _formulas(case.filled)[sheet_name][cell].value
    return f"{case.filled.name} {ref}: python={python!r} sheet={sheet!r} inputs={inputs} formula={formula}"


@lru_cache(maxsize=2)
def _formulas(path: Path):
    return openpyxl.load_workbook(path)


def test_formulas_equal_the_python_engine(cases, rulebook):
    total_compared, problems = 0, []
    for case in cases:
        compared, found = _compare(case, rulebook)
        total_compared += compared
        problems += found
    assert total_compared >= MIN_CASES
    assert not problems, f"{len(problems)} disagreement(s):\n" + "\n".join(problems[:30])


def test_the_cases_include_the_boundaries(cases, rulebook):
    """The comparison above only means something if the edges were really in it."""
    seen = Counter()
    top = len(rulebook.scoring.rating_points)
    bonus_cap_count = rulebook.scoring.bonus_cap / rulebook.scoring.bonus_per_commendation
    for case in cases:
        book = case.book
        goals = {(g.employee_id, g.code): g for g in book.goals}
        for s in book.scores:
            g, ind = goals[(s.employee_id, s.code)], rulebook.indicator(s.code)
            if ind.is_rating:
                seen[f"rating {int(number(s.manager))}"] += 1
                continue
            actual = number(s.actual)
            for name in ("floor", "target", "challenge"):
                seen[f"{ind.method.value} at {name}"] += actual == number(getattr(g, name))
            score = number(s.score)
            seen["score 0"] += score == 0
            seen["score at cap"] += score == rulebook.scoring.cap
            seen["deduction over 100"] += ind.method.value == "deduction" and actual > 100
            seen["count over cap"] += ind.method.value == "count" and score == rulebook.scoring.cap
        for row in book.summary:
            seen["veto"] += row.veto not in ("", L.VETO_NONE)
            seen["bonus over cap"] += number(row.commendations) > bonus_cap_count
            seen[f"grade {row.grade}"] += 1
    wanted = ["rating 1", f"rating {top}", "score 0", "score at cap", "deduction over 100", "count over cap",
              "veto", "bonus over cap"]
    wanted += [f"{m} at {n}" for m in ("higher_better", "lower_better") for n in ("floor", "target", "challenge")]
    wanted += [f"grade {band.grade}" for band in rulebook.grades]
    missing = [w for w in wanted if not seen[w]]
    assert not missing, f"never exercised: {missing}; seen {dict(seen)}"


def test_incomplete_or_invalid_inputs_leave_no_total_in_either_engine(broken, rulebook):
    book = broken.book
    lines = employee_lines(book)
    without_total = 0
    for row in book.summary:
        result = score_employee(rulebook, lines[row.employee_id], number(row.commendations), row.veto)
        if result.complete:
            assert _close(result.total, row.total), _explain(broken, row.ref("total"), result.total, row.total)
            assert result.grade == row.grade
        else:
            without_total += 1
            assert number(row.total) is None, _explain(broken, row.ref("total"), None, row.total,
                                                       result.missing or [str(p) for p in result.invalid])
            assert row.grade not in {band.grade for band in rulebook.grades}
    assert without_total >= 4
