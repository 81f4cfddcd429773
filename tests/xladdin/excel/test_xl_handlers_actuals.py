"""校验本表 on a workbook prefilled from source systems: a changed actual is marked like the CLI finds it."""

from __future__ import annotations


import openpyxl
import pytest

import tests.support.xlwings_remote as XR
from kpisheet.validators import layout as L
from kpisheet.validators.actuals import read_actuals
from kpisheet.validators.roster import read_roster, teams
from kpisheet.validators.validate import validate_file
from kpisheet.workbook_templates.team_workbook import build_team_workbook
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
PERIOD = "2026-Q4"

pytestmark = pytest.mark.usefixtures("remote_excel")


def test_a_changed_prefilled_actual_is_marked_by_the_button(handlers, rulebook, tmp_path):
    roster = read_roster(ROOT / "samples" / "roster.xlsx", rulebook)
    actuals = read_actuals([ROOT / "samples" / "actuals_clean"], rulebook, roster=roster, period=PERIOD)
    (department, team), members = next((k, m) for k, m in teams(roster).items() if k[1] == "客服中心")
    prefilled = build_team_workbook(tmp_path / "prefilled.xlsx", rulebook, PERIOD, department, team, members,
                                    actuals=actuals)

    book = openpyxl.load_workbook(prefilled)
    sheet = book[L.SCORES]
    actual_col = L.column_index(L.SCORE_COLUMNS, "actual") + 1
    cell = next(c for c in sheet.iter_rows(min_row=L.FIRST_DATA_ROW + 1, min_col=actual_col, max_col=actual_col)
                for c in c if isinstance(c.value, float))
    cell.value = round(cell.value * 0.9, 4)
    changed = tmp_path / "changed.xlsx"
    book.save(changed)

    report = validate_file(changed, rulebook=rulebook)
    flagged = [f for f in report.findings if f.code == "score-actual-changed"]
    assert [(f.sheet, f.cell) for f in flagged] == [(L.SCORES, cell.coordinate)]

    done = XR.press(handlers, "validate", changed)
    assert (L.SCORES, cell.coordinate) in done.fills()
    assert flagged[0].message_zh in done.notes()[(L.SCORES, cell.coordinate)]
