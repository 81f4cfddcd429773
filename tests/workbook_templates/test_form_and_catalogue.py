"""The form and the validator say the same thing about every input.

The slip corpus's shared workbook (one slip per employee over every input
rule of the rulebook: weights, targets, actuals of every unit and method,
ratings, commendations, veto, sign-off, feedback, improvement plan, and
computed cells typed over) is typed through LibreOffice a second time with
each conditional format of the form evaluated by LibreOffice itself beside the
cells: every rule that paints a cell (the error and the missing fills; the
line between employees is decoration) is copied, translated to each cell it
covers, into a spare column of that row. Then, cell by cell over every row of
every employee:

- the form paints a cell  <=>  validation reports a finding at that cell;
- a score shows 输入无效  <=>  the Python engine refuses that line's inputs,
  and validation reports a finding on that row;
- a value the cell's data validation would refuse (it was pasted past it)
  =>  validation reports a finding at that cell.

Left out, each for its reason: findings about cached results
(score-total-mismatch, template-formula-replaced: the form cannot paint a
formula's absence) and the team's distribution (team-distribution-over-quota,
a warning about the team, shown in the distribution block); data validation of
free-text length (a typing limit of the cell, not a catalogue rule).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import openpyxl
import pytest
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import coordinate_from_string, column_index_from_string, get_column_letter

from kpisheet.validators.layout import GOALS, SCORES, SUMMARY, a1
from kpisheet.validators.policy.grading import score_line
from kpisheet.validators.reading.safe_read import read_values
from kpisheet.validators.reading.submission import load_team_workbook, read_team_workbook, to_indicator_lines
from kpisheet.validators.validate import validate_file
from kpisheet.workbook_templates.formulas import INVALID

from tests.support.lo_typing import Entry, Job, run_parallel
from tests.support.slips import PERIOD, corpus_jobs

SHEETS = (GOALS, SCORES, SUMMARY)
HELPER_COLUMN = 60  # spare columns from BI on: far right of every sheet's layout
NOT_ON_THE_FORM = {"score-total-mismatch", "template-formula-replaced", "team-distribution-over-quota"}


def _paints(rule) -> bool:
    fill = rule.dxf.fill if rule.dxf is not None else None
    return fill is not None and any(c is not None and c.rgb not in (None, "00000000")
                                    for c in (fill.bgColor, fill.fgColor))


def _painting_rules(path) -> dict[str, list[tuple[list[str], str]]]:
    """Sheet -> (cells covered, formula relative to the first covered cell) of every painting rule."""
    book = openpyxl.load_workbook(path)
    out = defaultdict(list)
    for sheet in SHEETS:
        for cf in book[sheet].conditional_formatting:
            # the formula is relative to the top-left cell of the rule's ranges (openpyxl keeps them unordered)
            cells = sorted((c for rng in cf.sqref.ranges for c in _cells(str(rng))), key=_position)
            for rule in cf.rules:
                if _paints(rule) and rule.formula:
                    out[sheet].append((cells, rule.formula[0]))
    return out


def _position(cell: str) -> tuple[int, int]:
    col, row = coordinate_from_string(cell)
    return row, column_index_from_string(col)


def _cells(rng: str) -> list[str]:
    first, _, last = rng.partition(":")
    last = last or first
    c1, r1 = coordinate_from_string(first)
    c2, r2 = coordinate_from_string(last)
    return [f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1)
            for c in range(column_index_from_string(c1), column_index_from_string(c2) + 1)]


def _api_formula(formula: str) -> str:
    """Excel syntax to LibreOffice's API syntax (argument separator ';'; the forms' formulas hold no text with commas)."""
    return formula.replace(",", ";")


@pytest.fixture(scope="module")
def walked(soffice, rulebook, tmp_path_factory):
    folder = tmp_path_factory.mktemp("form_walk")
    made = corpus_jobs(rulebook, folder)
    shared = made.jobs[0]
    blank = load_team_workbook(shared.src, rulebook)
    rows_of = defaultdict(set)  # sheet -> the 1-based rows of every employee
    for g in blank.goals:
        rows_of[GOALS].add(g.row + 1)
        rows_of[SCORES].add(g.row + 1)
    for s in blank.summary:
        rows_of[SUMMARY].add(s.row + 1)
    helpers, probes = [], {}  # helper cell -> (sheet, painted cell)
    for sheet, rules in _painting_rules(shared.src).items():
        next_col = defaultdict(lambda: HELPER_COLUMN)
        for cells, formula in rules:
            origin = cells[0]
            for cell in cells:
                row = coordinate_from_string(cell)[1]
                if row not in rows_of[sheet]:
                    continue
                moved = Translator("=" + formula, origin=origin).translate_formula(cell)
                helper = f"{get_column_letter(next_col[row])}{row}"
                next_col[row] += 1
                helpers.append(Entry(sheet, helper, f"=IF({_api_formula(moved[1:])};1;0)"))
                probes[(sheet, helper)] = cell
    evaluated = Job(shared.src, folder / "typed" / "shared_eval.xlsx", shared.entries + helpers,
                    unprotect=SHEETS + shared.unprotect, row_moves=shared.row_moves)
    typed, evaluated_path = run_parallel(folder / "lo", [shared, evaluated], 2, "walk")
    values = read_values(evaluated_path, SHEETS)
    painted = set()
    for (sheet, helper), cell in probes.items():
        col, row = coordinate_from_string(helper)
        found = values[sheet][row - 1][column_index_from_string(col) - 1]
        assert found in (0, 1, 0.0, 1.0), (sheet, helper, cell, found)  # the rule evaluated, no error
        if found == 1:
            painted.add((sheet, cell))
    report = validate_file(typed, rulebook=rulebook, roster=made.people[str(typed)], period=PERIOD)
    return typed, evaluated_path, painted, report, len(probes)


def test_no_decoration_covers_a_painted_cell(walked, rulebook):
    """LibreOffice applies the first conditional format that matches a cell: a decoration (the line above
    each employee) over a painted cell would hide the warning on every employee's first row."""
    typed = walked[0]
    book = openpyxl.load_workbook(typed)
    for sheet in SHEETS:
        painted, decorated = set(), set()
        for cf in book[sheet].conditional_formatting:
            cells = {c for rng in cf.sqref.ranges for c in _cells(str(rng))}
            for rule in cf.rules:
                (painted if _paints(rule) else decorated).update(cells)
        assert not painted & decorated, (sheet, sorted(painted & decorated)[:10])


def test_every_painting_rule_was_evaluated_by_libreoffice(walked):
    _, _, painted, _, probes = walked
    assert probes > 1000 and painted


def test_the_form_paints_exactly_the_cells_validation_reports(walked):
    _, _, painted, report, _ = walked
    reported = {(f.sheet, f.cell) for f in report.findings
                if f.cell and f.sheet in SHEETS and f.code not in NOT_ON_THE_FORM}
    codes = defaultdict(list)
    for f in report.findings:
        codes[(f.sheet, f.cell)].append(f.code)
    only_form = sorted(painted - reported)
    only_validator = sorted((cell, codes[cell]) for cell in reported - painted)
    assert not only_form and not only_validator, f"painted but not reported: {only_form}\n" \
                                                 f"reported but not painted: {only_validator}"


def test_invalid_input_shows_exactly_where_the_engine_refuses_the_inputs(walked, rulebook):
    typed, _, _, report, _ = walked
    book = read_team_workbook(read_values(typed), source=str(typed), rulebook=rulebook)
    goals = {(g.employee_id, g.code): g for g in book.goals}
    reported_rows = {(f.sheet, int("".join(ch for ch in f.cell if ch.isdigit()))) for f in report.findings if f.cell}
    shown, refused = set(), set()
    for s in book.scores:
        goal = goals[(s.employee_id, s.code)]
        line = to_indicator_lines([goal], [s])[0]
        if s.score == INVALID:
            shown.add(s.row)
        result = score_line(rulebook, line)
        # text where the line needs a number is no number to the engine (missing), and 输入无效 on the form
        texts = [name for name in result.missing if name != "weight"
                 and isinstance(getattr(s if name in ("actual", "manager") else goal, name), str)
                 and getattr(s if name in ("actual", "manager") else goal, name).strip()]
        if result.invalid or texts:
            refused.add(s.row)
    assert shown == refused and shown
    for row in shown:
        assert (SCORES, row + 1) in reported_rows or (GOALS, row + 1) in reported_rows, a1(row, 0)


def test_what_data_validation_refuses_is_reported(walked, rulebook):
    typed, _, _, report, _ = walked
    book = openpyxl.load_workbook(typed)
    names = _named_values(book)
    values = read_values(typed, SHEETS)
    reported = {(f.sheet, f.cell) for f in report.findings}
    refused = []
    for sheet in SHEETS:
        for dv in book[sheet].data_validations.dataValidation:
            if dv.type == "textLength":
                continue
            for rng in dv.sqref.ranges:
                for cell in _cells(str(rng)):
                    col, row = coordinate_from_string(cell)
                    rows = values[sheet]
                    c = column_index_from_string(col) - 1
                    value = rows[row - 1][c] if row - 1 < len(rows) and c < len(rows[row - 1]) else ""
                    if not _allowed(dv, value, names):
                        refused.append((sheet, cell, value))
    assert refused  # the corpus pastes past the data validation
    missed = [r for r in refused if (r[0], r[1]) not in reported]
    assert not missed, missed


def _named_values(book) -> dict[str, list]:
    out = {}
    for name, defined in book.defined_names.items():
        for sheet, ref in defined.destinations:
            found = book[sheet][ref.replace("$", "")]
            rows = found if isinstance(found, tuple) else ((found,),)
            out[name] = [c.value for row in rows for c in (row if isinstance(row, tuple) else (row,))]
    return out


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _allowed(dv, value, names) -> bool:
    """Whether the cell's data validation accepts ``value`` as LibreOffice stored it (blank always)."""
    if value in ("", None):
        return True
    if dv.type == "list":
        return str(value) in {str(v) for v in names.get(dv.formula1.lstrip("="), [])}
    if dv.type == "date":
        if not isinstance(value, (dt.date, dt.datetime)):
            return False
        serial = (value.date() if isinstance(value, dt.datetime) else value) - dt.date(1899, 12, 30)
        value = serial.days
    elif not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    if dv.type == "whole" and float(value) != int(value):
        return False
    low, high = _number(dv.formula1), _number(dv.formula2)
    operator = dv.operator or "between"
    return {"between": lambda: low <= value <= high, "greaterThanOrEqual": lambda: value >= low,
            "greaterThan": lambda: value > low, "lessThanOrEqual": lambda: value <= low}[operator]()
