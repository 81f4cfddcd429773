"""A team workbook made from hostile roster text: text stays text, and the fresh form validates itself.

(The whole cycle in real processes is tests/xladdin/cli/test_text_stays_text.py; these are the
attacks of issue 13 one by one, each small enough to point at what broke.)
"""

from __future__ import annotations

from dataclasses import replace

from openpyxl import load_workbook

from kpisheet.validators.layout import GUIDE, META
from kpisheet.validators.roster import read_roster, teams
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.workbook_templates.team_workbook import build_team_workbook
from tests.support.hostile_roster import DEPARTMENT, formulas_in, hostile_formulas, write_hostile_roster
from tests.support.validate_support import run_file

PERIOD = "2026-Q4"


def hostile_team(tmp_path, team_starts: str):
    rulebook = default_rulebook()
    people = read_roster(write_hostile_roster(tmp_path / "roster.xlsx"), rulebook)
    return next(((d, t), m) for (d, t), m in teams(people).items() if t.startswith(team_starts))


def test_a_department_starting_with_equals_is_text_in_the_guide(tmp_path):
    """Issue 13, Why 9: 填写说明!C6 was the formula HYPERLINK("http://evil", ...)."""
    (department, team), members = hostile_team(tmp_path, "=1+1")
    path = build_team_workbook(tmp_path / "form.xlsx", default_rulebook(), PERIOD, department, team, members)
    assert hostile_formulas(path) == []
    guide = load_workbook(path)[GUIDE]
    texts = [c.value for row in guide.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(DEPARTMENT in text for text in texts)
    assert all(c.data_type != "f" for row in guide.iter_rows() for c in row if c.value and DEPARTMENT in str(c.value))


def test_a_web_address_in_a_team_name_is_not_made_a_link(tmp_path):
    (department, team), members = hostile_team(tmp_path, "http://")
    path = build_team_workbook(tmp_path / "form.xlsx", default_rulebook(), PERIOD, department, team, members)
    book = load_workbook(path)
    assert all(not sheet._hyperlinks for sheet in book.worksheets)  # noqa: SLF001 - openpyxl keeps them here


def test_control_characters_in_a_team_name_do_not_break_the_fresh_form(tmp_path):
    """Issue 13, Why 11: the blank form failed its own validation (template-structure-changed)."""
    (department, team), members = hostile_team(tmp_path, "=1+1")
    assert "\x07" not in team and "\x1b" not in team and team.endswith("华东工程一组")
    path = build_team_workbook(tmp_path / "form.xlsx", default_rulebook(), PERIOD, department, team, members)
    report = run_file(path, phase="goals")
    assert {f.code for f in report.findings} <= {"goal-smart-missing"}, report.findings
    assert report.team == team


def test_control_characters_straight_from_a_program_are_cleaned_on_write_and_on_read(tmp_path):
    """A caller passing raw text (not from a roster file) gets the same identity back from validation."""
    (department, _team), members = hostile_team(tmp_path, "@SUM")
    raw = "客服\x01中心\u202e\r\n"
    path = build_team_workbook(tmp_path / "form.xlsx", default_rulebook(), PERIOD, department, raw,
                               [replace(m, team=raw) for m in members])
    report = run_file(path, phase="goals")
    assert report.team == "客服中心"
    assert {f.code for f in report.findings} <= {"goal-smart-missing"}, report.findings
    meta = load_workbook(path)[META]
    assert meta["B5"].value == "客服中心"


def test_formula_counts_do_not_depend_on_the_roster_text(tmp_path):
    (department, team), members = hostile_team(tmp_path, "-2+3")
    hostile = build_team_workbook(tmp_path / "h.xlsx", default_rulebook(), PERIOD, department, team, members)
    plain = build_team_workbook(tmp_path / "p.xlsx", default_rulebook(), PERIOD, "部门", "组",
                                [replace(m, name="张三", department="部门", team="组") for m in members])
    assert {p: len(f) for p, f in formulas_in(hostile).items()} == {p: len(f) for p, f in formulas_in(plain).items()}
