"""template-formula-replaced: every computed cell still holds its formula.

A manager who pastes a total back as a value (or types over the weight shown
on 考核评分) leaves a cell that looks right today and no longer follows the
inputs. Values cannot show it when the number is the same; the sheet XML can
(:mod:`kpisheet.validators.reading.formula_cells`). The cells that must hold a
formula are the layout's formula columns on every row of the row map, where
the writer put one: on 考核评分 the floor/target/challenge copies only where
the scoring method reads them, on 汇总 a subtotal only where the employee has
indicators of its category.
"""

from __future__ import annotations

from typing import Collection, Mapping

from kpisheet.validators.checks.field_names import FIELD_NAMES
from kpisheet.validators.checks.template import TARGETS_READ
from kpisheet.validators.findings import Finding, make_finding
from kpisheet.validators.layout import (
    GOAL_COLUMNS, GOALS, SCORE_COLUMNS, SCORES, SUMMARY, a1, col_letter, summary_columns,
)
from kpisheet.validators.reading.formula_cells import SheetCells
from kpisheet.validators.reading.submission import TeamWorkbook
from kpisheet.validators.rulebook.model import Rulebook

_TARGET_KEYS = ("floor", "target", "challenge")


def formula_columns(rulebook: Rulebook) -> dict[str, tuple[str, ...]]:
    """Sheet -> the letters of its formula columns (what the sheet XML scan needs to look at)."""
    return {sheet: tuple(col_letter(i) for i, c in enumerate(columns) if c.formula)
            for sheet, columns in ((GOALS, GOAL_COLUMNS), (SCORES, SCORE_COLUMNS), (SUMMARY, summary_columns(rulebook)))}


def formula_places(book: TeamWorkbook, rulebook: Rulebook) -> dict[str, list[tuple[int, int, str, str, str | None]]]:
    """Sheet -> (row, column, key, employee id, indicator code) of every cell the writer gave a formula."""
    known = {ind.code: ind for ind in rulebook.indicators}
    goal_cols = [(i, c.key) for i, c in enumerate(GOAL_COLUMNS) if c.formula]
    score_cols = [(i, c.key) for i, c in enumerate(SCORE_COLUMNS) if c.formula]
    summary = [(i, c.key) for i, c in enumerate(summary_columns(rulebook)) if c.formula]
    places: dict[str, list] = {GOALS: [], SCORES: [], SUMMARY: []}
    for entry in book.identity.row_map:
        categories = set()
        for k, code in enumerate(entry.codes):
            row = entry.first_row + k
            ind = known.get(code)
            if ind is None:
                continue  # an unknown code is a structure change, reported by the template checks
            categories.add(ind.category)
            places[GOALS] += [(row, col, key, entry.employee_id, code) for col, key in goal_cols]
            used = TARGETS_READ[ind.method]
            places[SCORES] += [(row, col, key, entry.employee_id, code) for col, key in score_cols
                               if key not in _TARGET_KEYS or key in used]
        places[SUMMARY] += [(entry.summary_row, col, key, entry.employee_id, None) for col, key in summary
                            if not key.startswith("subtotal_") or key[len("subtotal_"):] in categories]
    return places


def check_formulas(book: TeamWorkbook, rulebook: Rulebook, cells: Mapping[str, SheetCells],
                   values: Mapping[str, list[list]], skip: Collection[str] = ()) -> list[Finding]:
    """A finding at each computed cell without a formula, on the sheets whose XML was read.

    ``skip``: sheets whose rows moved (a structure change already reported), where
    the row map no longer says which cell is which.
    """
    categories = {c.code: c for c in rulebook.categories}
    findings = []
    for sheet, places in formula_places(book, rulebook).items():
        found = cells.get(sheet)
        if found is None or sheet in skip:
            continue
        rows = values.get(sheet) or []
        for row, col, key, employee_id, code in places:
            cell = a1(row, col)
            if cell in found.formulas:
                continue
            value = rows[row][col] if row < len(rows) and col < len(rows[row]) else ""
            if key.startswith("subtotal_"):
                category = categories[key[len("subtotal_"):]]
                zh, en = f"{category.name_zh}小计", f"{category.name_en} subtotal"
            else:
                zh, en = FIELD_NAMES[key]
            findings.append(make_finding("template-formula-replaced", sheet=sheet, cell=cell, employee_id=employee_id,
                                         indicator=code, value=None if value == "" else value,
                                         field_zh=zh, field_en=en))
    return findings
