"""Prefilling 实际值 from source systems, and flagging a manager's later edit (score-actual-changed)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from kpisheet.validators import layout as L
from kpisheet.validators.actuals import Actual, read_actuals
from kpisheet.validators.roster import read_roster, teams
from kpisheet.validators.reading.submission import load_team_workbook
from kpisheet.validators.validate import validate_file
from kpisheet.workbook_templates.filler import fill_team_workbook
from kpisheet.workbook_templates.styles import PREFILLED_FILL, PREFILLED_LEGEND
from kpisheet.workbook_templates.team_workbook import build_team_workbook
from kpisheet.xladdin.cli.app import app
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
ROSTER = ROOT / "samples" / "roster.xlsx"
CLEAN = ROOT / "samples" / "actuals_clean"
PERIOD = "2026-Q4"
ACTUAL_COL = L.column_index(L.SCORE_COLUMNS, "actual") + 1  # openpyxl counts from 1
COMMENT_COL = L.column_index(L.SCORE_COLUMNS, "comment") + 1


@pytest.fixture(scope="module")
def team(rulebook):
    groups = teams(read_roster(ROSTER, rulebook))
    return next((key, members) for key, members in groups.items() if key[1] == "客服中心")


def build(path: Path, rulebook, team, actuals=None) -> Path:
    (department, name), members = team
    return build_team_workbook(path, rulebook, PERIOD, department, name, members, actuals=actuals)


def filled_actuals(path: Path, rulebook) -> dict[tuple[str, str], Actual]:
    """What the filler typed into 实际值, as if a system had exported exactly that."""
    book = load_team_workbook(path, rulebook)
    out = {}
    for s in book.scores:
        if isinstance(s.actual, float) and rulebook.indicator(s.code).is_quantitative:
            out[(s.employee_id, s.code)] = Actual(s.employee_id, s.code, s.actual, "工单系统", "", PERIOD,
                                                  "export.csv", s.row + 1, "D")
    return out


def summary(report) -> set[tuple[str, str | None]]:
    return {(f.code, f.cell) for f in report.findings}


def test_prefilled_cells_carry_value_style_note_and_record(tmp_path, rulebook, team):
    actuals = read_actuals([CLEAN], rulebook, read_roster(ROSTER, rulebook), PERIOD)
    path = build(tmp_path / "t.xlsx", rulebook, team, actuals)
    book = openpyxl.load_workbook(path)
    scores = book[L.SCORES]
    recorded = [row for row in book[L.ACTUALS].iter_rows(values_only=True)]
    assert recorded[0] == L.ACTUALS_HEADER
    members = {e.employee_id for e in team[1]}
    expected = {key: a for key, a in actuals.values.items() if key[0] in members}
    assert len(recorded) - 1 == len(expected) > 0
    for employee_id, code, value, source, _note, where in recorded[1:]:
        assert employee_id in members  # no one else's data
        cell = scores[where.split("!")[1]]
        assert cell.column == ACTUAL_COL
        assert (scores.cell(cell.row, 1).value, scores.cell(cell.row, 4).value) == (employee_id, code)
        assert cell.value == value == expected[(employee_id, code)].value
        assert source == expected[(employee_id, code)].source
        assert cell.fill.fgColor.rgb.endswith(PREFILLED_FILL[1:])
        assert not cell.protection.locked
        assert source in cell.comment.text
    legend = [c.value for row in book[L.GUIDE].iter_rows() for c in row if isinstance(c.value, str)]
    assert any(PREFILLED_LEGEND[0] in text for text in legend)


def test_workbooks_without_actuals_have_no_actuals_sheet(tmp_path, rulebook, team):
    book = openpyxl.load_workbook(build(tmp_path / "t.xlsx", rulebook, team))
    assert L.ACTUALS not in book.sheetnames


def test_importing_the_same_data_twice_changes_nothing(tmp_path, rulebook):
    roster = read_roster(ROSTER, rulebook)
    once = read_actuals([CLEAN], rulebook, roster, PERIOD)
    twice = read_actuals([CLEAN, CLEAN], rulebook, roster, PERIOD)
    assert {k: a.value for k, a in once.values.items()} == {k: a.value for k, a in twice.values.items()}
    (department, name), members = next(iter(teams(roster).items()))
    a = build_team_workbook(tmp_path / "a.xlsx", rulebook, PERIOD, department, name, members, actuals=once)
    b = build_team_workbook(tmp_path / "b.xlsx", rulebook, PERIOD, department, name, members, actuals=twice)
    assert a.read_bytes() == b.read_bytes()


@pytest.fixture(scope="module")
def filled_pair(tmp_path_factory, rulebook, team):
    """The same team filled by the same seed, once as typed by hand and once prefilled with those values."""
    tmp = tmp_path_factory.mktemp("pair")
    plain = fill_team_workbook(build(tmp / "plain.xlsx", rulebook, team), tmp / "plain-filled.xlsx", seed=7,
                               rulebook=rulebook)
    actuals = filled_actuals(Path(plain.target), rulebook)
    prefilled = fill_team_workbook(build(tmp / "pre.xlsx", rulebook, team, actuals), tmp / "pre-filled.xlsx",
                                   seed=7, rulebook=rulebook)
    return Path(plain.target), Path(prefilled.target), actuals


def test_prefilled_workbooks_validate_like_hand_filled_ones(filled_pair, rulebook):
    plain, prefilled, actuals = filled_pair
    assert actuals
    by_hand = validate_file(plain, rulebook=rulebook)
    from_system = validate_file(prefilled, rulebook=rulebook)
    assert summary(from_system) == summary(by_hand)
    assert not any(f.code == "score-actual-changed" for f in from_system.findings)


def _edit(src: Path, dst: Path, cell: str, value, comment: str | None = None) -> None:
    book = openpyxl.load_workbook(src)
    sheet = book[L.SCORES]
    sheet[cell] = value
    if comment is not None:
        sheet.cell(sheet[cell].row, COMMENT_COL).value = comment
    book.save(dst)


def test_a_changed_actual_is_flagged_at_its_cell(filled_pair, rulebook, tmp_path):
    _, prefilled, actuals = filled_pair
    book = load_team_workbook(prefilled, rulebook)
    row = next(s for s in book.scores if (s.employee_id, s.code) in actuals and s.comment == "")
    cell = row.address("actual")
    original = actuals[(row.employee_id, row.code)].value
    changed = tmp_path / "changed.xlsx"
    _edit(prefilled, changed, cell, round(original * 0.9, 4))
    before = summary(validate_file(prefilled, rulebook=rulebook))
    report = validate_file(changed, rulebook=rulebook)
    flagged = [f for f in report.findings if f.code == "score-actual-changed"]
    assert [(f.sheet, f.cell, f.employee_id, f.indicator) for f in flagged] == [
        (L.SCORES, cell, row.employee_id, row.code)]
    assert flagged[0].severity == "warning"
    assert flagged[0].expected == original and flagged[0].value == round(original * 0.9, 4)
    assert "工单系统" in flagged[0].message_zh and "工单系统" in flagged[0].message_en
    assert summary(report) - before - {("score-actual-changed", cell)} <= {
        (f.code, f.cell) for f in report.findings if f.code in ("score-comment-required", "score-total-mismatch")}

    explained = tmp_path / "explained.xlsx"
    _edit(prefilled, explained, cell, round(original * 0.9, 4), "系统漏记两张工单，已核实")
    assert not any(f.code == "score-actual-changed" for f in validate_file(explained, rulebook=rulebook).findings)


def test_prefilled_workbook_survives_a_libreoffice_resave(soffice, filled_pair, rulebook, tmp_path):
    from kpisheet.xladdin.kit.libreoffice import recalculate

    _, prefilled, _ = filled_pair
    resaved = recalculate(prefilled, tmp_path)
    report = validate_file(resaved, rulebook=rulebook)
    assert L.ACTUALS in openpyxl.load_workbook(resaved, read_only=True).sheetnames
    assert not any(f.code == "score-actual-changed" for f in report.findings)


def test_forms_cli_prefills_and_refuses_flawed_actuals(tmp_path, rulebook):
    runner = CliRunner()
    out = tmp_path / "forms"
    args = ["forms", "--roster", str(ROSTER), "--period", PERIOD, "--out", str(out)]
    result = runner.invoke(app, args + ["--actuals", str(ROOT / "samples" / "actuals" / "tickets.csv")])
    assert result.exit_code == 2, result.output
    assert "tickets.csv" in result.output
    assert not list(out.glob("*.xlsx"))  # nothing written from flawed actuals
    result = runner.invoke(app, args + ["--actuals", str(CLEAN)])
    assert result.exit_code == 0, result.output
    values = read_actuals([CLEAN], rulebook, read_roster(ROSTER, rulebook), PERIOD)
    seen = 0
    for path in out.glob("*.xlsx"):
        for s in load_team_workbook(path, rulebook).scores:
            found = values.get(s.employee_id, s.code)
            if found is not None:
                assert s.actual == found.value
                seen += 1
    assert seen == len(values)
