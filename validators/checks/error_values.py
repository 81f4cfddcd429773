"""Error values in input cells: a cell showing #DIV/0!, #N/A, #VALUE! … where a manager's input belongs.

python-calamine reads an error value as an empty cell, so without this check a
#DIV/0! in a self rating would pass as blank and one in an actual would be
reported as missing. The guard notes every error cell of the sheets it scans
(:attr:`kpisheet.validators.reading.guard.GuardedPackage.error_cells`); here the
ones in input columns become ``goal-error-value`` / ``score-error-value`` at
their cell, and any other finding at that same cell (it would only say the
cell is empty) is dropped by :func:`without_findings_at`.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from kpisheet.validators.findings import Finding, make_finding
from kpisheet.validators.layout import GOAL_COLUMNS, GOALS, SCORE_COLUMNS, SCORES, SUMMARY, summary_columns
from kpisheet.validators.reading.submission import TeamWorkbook
from kpisheet.validators.rulebook.model import Rulebook

ErrorCells = Mapping[str, Mapping[str, str]]  # sheet -> A1 -> the error shown

_GOAL_INPUTS = tuple(c for c in GOAL_COLUMNS if c.input)
# the record field behind each input column of 考核评分 (the layout calls the self rating "self")
_SCORE_INPUTS = tuple((c, "self_rating" if c.key == "self" else c.key) for c in SCORE_COLUMNS if c.input)


def check_error_values(book: TeamWorkbook, rulebook: Rulebook, errors: ErrorCells) -> list[Finding]:
    """A finding for each input cell of 目标设定, 考核评分 and 汇总 that shows an error value (named by
    :func:`kpisheet.validators.findings.with_names` like every finding)."""
    if not any(errors.get(sheet) for sheet in (GOALS, SCORES, SUMMARY)):
        return []  # the common case: nothing to look up
    findings: list[Finding] = []
    shown = errors.get(GOALS) or {}
    for row in book.goals if shown else ():
        for column in _GOAL_INPUTS:
            cell = row.address(column.key)
            if cell in shown:
                findings.append(make_finding(
                    "goal-error-value", sheet=GOALS, cell=cell, employee_id=row.employee_id, indicator=row.code,
                    value=shown[cell], field_zh=column.zh, field_en=column.en.lower()))
    shown = errors.get(SCORES) or {}
    for row in book.scores if shown else ():
        for column, key in _SCORE_INPUTS:
            cell = row.address(key)
            if cell in shown:
                findings.append(make_finding(
                    "score-error-value", sheet=SCORES, cell=cell, employee_id=row.employee_id, indicator=row.code,
                    value=shown[cell], field_zh=column.zh, field_en=column.en.lower()))
    shown = errors.get(SUMMARY) or {}
    inputs = [c for c in summary_columns(rulebook) if c.input] if shown else []
    for row in book.summary if shown else ():
        for column in inputs:
            cell = row.address(column.key)
            if cell in shown:
                findings.append(make_finding(
                    "score-error-value", sheet=SUMMARY, cell=cell, employee_id=row.employee_id, value=shown[cell],
                    field_zh=column.zh, field_en=column.en.lower()))
    return findings


def without_findings_at(findings: Iterable[Finding], reported: Iterable[Finding]) -> list[Finding]:
    """``findings`` less those at a cell where an error value is ``reported`` (they would only call it empty)."""
    cells = {(f.sheet, f.cell) for f in reported}
    if not cells:
        return list(findings)
    return [f for f in findings if (f.sheet, f.cell) not in cells or f.code.endswith("-error-value")]
