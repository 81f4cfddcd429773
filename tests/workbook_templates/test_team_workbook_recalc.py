"""The workbook's own formulas, recalculated by LibreOffice: totals at a grade
boundary, invalid inputs, the team distribution and the personal form's lookups.

(The randomised formula-parity suite over many employees lives with the
filler; this file pins the cases the writer is responsible for.)
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from kpisheet.validators import layout as L
from kpisheet.validators.policy.grading import IndicatorLine, score_employee
from kpisheet.validators.roster import Employee
from kpisheet.validators.reading.submission import load_team_workbook, sheet_values
from kpisheet.workbook_templates import formulas
from kpisheet.workbook_templates.personal_form import HELPER_COL, LINE_COLUMNS, NOT_NEEDED
from kpisheet.workbook_templates.team_workbook import build_team_workbook
from kpisheet.xladdin.kit.libreoffice import recalculate

GOAL = {c.key: i + 1 for i, c in enumerate(L.GOAL_COLUMNS)}
SCORE = {c.key: i + 1 for i, c in enumerate(L.SCORE_COLUMNS)}
DAY = dt.date(2020, 1, 1)
PEOPLE = [Employee("R001", "赵一", "售后服务部", "R组", "engineer", None, DAY, DAY, "正式"),
          Employee("R002", "钱二", "售后服务部", "R组", "cs", None, DAY, DAY, "正式"),
          Employee("R003", "孙三", "售后服务部", "R组", "ts", None, DAY, DAY, "正式")]


def _inputs(rulebook, employee_id: str, code: str) -> dict:
    """R001 hits every target (100), R002 sits halfway (total exactly 60.00, the C
    boundary), R003 like R001 but with CSAT's floor above its target."""
    ind = rulebook.indicator(code)
    if ind.is_rating:
        return {"manager": 5 if employee_id != "R002" else 3, "self": 4}
    if ind.incidents:
        return {"actual": 0}
    if ind.method.value == "count":
        return {"actual": ind.target}
    value = ind.target if employee_id != "R002" else (ind.floor + ind.target) / 2
    return {"actual": value}


@pytest.fixture(scope="module")
def recalculated(soffice, tmp_path_factory, rulebook):
    folder = tmp_path_factory.mktemp("recalc")
    path = build_team_workbook(folder / "in" / "team.xlsx", rulebook, "2026-Q4", "售后服务部", "R组", PEOPLE)
    book = openpyxl.load_workbook(path)
    goals, scores, summary = book[L.GOALS], book[L.SCORES], book[L.SUMMARY]
    lines: dict[str, list[IndicatorLine]] = {}
    for r in range(L.FIRST_DATA_ROW + 1, scores.max_row + 1):
        emp, code = scores.cell(r, SCORE["employee_id"]).value, scores.cell(r, SCORE["code"]).value
        values = _inputs(rulebook, emp, code)
        if emp == "R003" and code == "CSAT":
            goals.cell(r, GOAL["floor"]).value = 0.96
        for key, value in values.items():
            scores.cell(r, SCORE[key]).value = value
        ind = rulebook.indicator(code)
        lines.setdefault(emp, []).append(IndicatorLine(
            code, goals.cell(r, GOAL["weight"]).value, values.get("actual"),
            goals.cell(r, GOAL["floor"]).value, goals.cell(r, GOAL["target"]).value,
            goals.cell(r, GOAL["challenge"]).value, values.get("self"), values.get("manager")))
        assert ind.code == code
    cols = {c.key: i + 1 for i, c in enumerate(L.summary_columns(rulebook))}
    summary.cell(L.FIRST_DATA_ROW + 1, cols["commendations"]).value = 2
    summary.cell(L.FIRST_DATA_ROW + 2, cols["pip_shortfalls"]).value = "一次修复率偏低"
    summary.cell(L.FIRST_DATA_ROW + 2, cols["feedback"]).value = "已面谈"
    book[L.PERSONAL].cell(4, 3).value = "R002"  # the form shows the second employee
    filled = folder / "filled" / "team.xlsx"
    filled.parent.mkdir()
    book.save(filled)
    out = recalculate(filled, folder / "out")
    return out, lines


def test_totals_grades_and_invalid_inputs_match_python(recalculated, rulebook):
    path, lines = recalculated
    book = load_team_workbook(path, rulebook)
    by_id = {s.employee_id: s for s in book.summary}
    commendations = {"R001": 2, "R002": 0, "R003": 0}
    for emp, emp_lines in lines.items():
        expected = score_employee(rulebook, emp_lines, commendations[emp], L.VETO_NONE)
        row = by_id[emp]
        assert (row.total if row.total != "" else None) == expected.total, emp
        assert (row.grade or None) == expected.grade, emp
    assert by_id["R001"].total == 102 and by_id["R001"].grade == "S"
    assert by_id["R002"].total == 60 and by_id["R002"].grade == "C"  # the band's minimum is inclusive
    assert by_id["R003"].total == "" and by_id["R003"].grade == ""
    marks = [s.score for s in book.scores if s.employee_id == "R003" and s.code == "CSAT"]
    assert marks == [formulas.INVALID]
    assert [s.rank for s in book.summary] == [1, 2, ""]


def test_team_distribution_counts_the_grades(recalculated, rulebook):
    path, _ = recalculated
    rows = sheet_values(path, [L.SUMMARY])[L.SUMMARY]
    text = {str(v) for row in rows for v in row}
    block = {row[2]: row for row in rows[L.FIRST_DATA_ROW + len(PEOPLE):] if len(row) > 5 and row[2]}
    assert block["S"][4] == 1 and block["C"][4] == 1 and block["A"][4] == 0
    assert block["S"][5] == pytest.approx(0.5)  # 1 of the 2 graded
    assert block["S+A"][9] == "超出 Over" and block["C+D"][9] == "超出 Over"
    assert "OK" in text


def test_personal_form_shows_the_chosen_employee(recalculated, rulebook):
    path, _ = recalculated
    form = sheet_values(path, [L.PERSONAL])[L.PERSONAL]
    flat = [v for row in form for v in row]
    assert "钱二" in flat and "赵一" not in flat and "客服专员" in flat
    indicators = [ind.name_zh for ind, _ in rulebook.role_indicators("cs")]
    col = next(i for i, (key, *_rest) in enumerate(LINE_COLUMNS) if key == "indicator")
    shown = [row[col] for row in form if len(row) > col and row[col] in indicators]
    assert shown == indicators
    assert 60 in flat and "C" in flat and "一次修复率偏低" in flat and "已面谈" in flat
    assert NOT_NEEDED not in flat
    percent = next(row for row in form if len(row) > col and row[col] == "客户满意度")
    assert percent[col + 2] == "95.0%" and percent[col + 3] == "87.5%"  # target, actual as %
    helpers = [row[HELPER_COL] for row in form if len(row) > HELPER_COL and row[HELPER_COL] != ""]
    assert helpers[:2] == [2, 9]  # summary position, first score position of R002


def test_personal_form_stops_at_the_employee_s_last_indicator(soffice, tmp_path, rulebook):
    """A role with fewer indicators than the form's lines: the spare lines stay
    empty instead of showing the next employee's rows."""
    roles = [r.model_copy(update={"weights": dict(list(r.weights.items())[:5])}) if r.code == "cs" else r
             for r in rulebook.roles]
    short = rulebook.model_copy(update={"roles": roles})
    path = build_team_workbook(tmp_path / "in" / "team.xlsx", short, "2026-Q4", "售后服务部", "R组", PEOPLE)
    book = openpyxl.load_workbook(path)
    book[L.PERSONAL].cell(4, 3).value = "R002"
    (tmp_path / "filled").mkdir()
    book.save(tmp_path / "filled" / "team.xlsx")
    form = sheet_values(recalculate(tmp_path / "filled" / "team.xlsx", tmp_path / "out"), [L.PERSONAL])[L.PERSONAL]
    col = next(i for i, (key, *_rest) in enumerate(LINE_COLUMNS) if key == "indicator")
    cs = [ind.name_zh for ind, _ in short.role_indicators("cs")]
    others = {ind.name_zh for ind, _ in short.role_indicators("ts")} - set(cs)
    shown = [row[col] for row in form if len(row) > col and isinstance(row[col], str) and row[col]]
    assert [s for s in shown if s in cs] == cs and len(cs) == 5
    assert not set(shown) & others
    numbers = [row[0] for row in form if row and isinstance(row[0], (int, float))]
    assert numbers == [1, 2, 3, 4, 5]
