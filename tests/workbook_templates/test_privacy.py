"""A team workbook holds only its own team's people, also once filled and re-saved.

The writer's own test covers the fresh workbook; this one follows the file
through a manager's edit (openpyxl) and a LibreOffice re-save, scanning every
part of the zip: sheets (hidden ones included), shared strings, document
properties and anything a program adds on the way.
"""

from __future__ import annotations

import zipfile

import pytest

from kpisheet.validators.roster import read_roster
from kpisheet.workbook_templates.filler import MISTAKES, fill_team_workbook
from kpisheet.workbook_templates.team_workbook import build_team_workbook
from kpisheet.xladdin.kit.libreoffice import recalculate

ROSTER = "samples/roster.xlsx"


def _zip_text(path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "\n".join(archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist())


@pytest.fixture(scope="module")
def roster(rulebook):
    return read_roster(ROSTER, rulebook)


@pytest.mark.parametrize("team_index", [0, 3])
def test_filled_and_resaved_workbooks_hold_only_their_team(soffice, rulebook, roster, tmp_path, team_index):
    team_name = sorted({e.team for e in roster})[team_index]
    members = [e for e in roster if e.team == team_name]
    lead = next(e for e in members if any(m.manager_id == e.employee_id for m in members))
    blank = build_team_workbook(tmp_path / "blank.xlsx", rulebook, "2026-Q4", members[0].department, team_name,
                                members)
    filled = tmp_path / "filled.xlsx"
    # every mistake too: duplicated ids and inserted rows must not drag anyone else in either
    fill_team_workbook(blank, filled, seed=team_index, rulebook=rulebook, mistakes=set(MISTAKES),
                       manager_name=lead.name)
    resaved = recalculate(filled, tmp_path / "lo")

    others = [e for e in roster if e.team != team_name]
    assert others
    for path in (filled, resaved):
        text = _zip_text(path)
        seen_own = {e.employee_id for e in members if e.employee_id in text}
        assert len(seen_own) == len(members), f"{path.name}: the scan must see the team's own people"
        # a short name can sit inside a longer own name; blank out the own names first
        for e in sorted(members, key=lambda e: -len(e.name)):
            text = text.replace(e.name, "□")
        leaked = [f"{e.employee_id} {e.name}" for e in others if e.employee_id in text or e.name in text]
        assert not leaked, f"{path.name} holds other teams' people: {leaked}"
