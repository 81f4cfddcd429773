"""A filled workbook re-saved by LibreOffice reads back to the same inputs and identity."""

from __future__ import annotations

import datetime as dt

import pytest

from kpisheet.validators import layout as L
from kpisheet.validators.roster import read_roster
from kpisheet.validators.reading.submission import TeamWorkbook, load_team_workbook
from kpisheet.workbook_templates.filler import fill_team_workbook
from kpisheet.workbook_templates.team_workbook import build_team_workbook
from kpisheet.xladdin.kit.libreoffice import recalculate

ROSTER = "samples/roster.xlsx"
GOAL_INPUTS = ("employee_id", "code", "weight", "floor", "target", "challenge", "smart")
SCORE_INPUTS = ("employee_id", "code", "actual", "self_rating", "manager", "comment")
SUMMARY_INPUTS = ("employee_id", "commendations", "veto", "manager_sign", "manager_date", "employee_sign",
                  "employee_date", "feedback", "pip_shortfalls", "pip_actions", "pip_owner", "pip_due")
# text a manager might type that a careless re-save could turn into numbers or formulas
TRICKY = {"text-number", "formula-injection", "percent-scale", "rating-invalid", "missing-input"}


@pytest.fixture(scope="module")
def pair(soffice, rulebook, tmp_path_factory):
    """(as filled by openpyxl, as re-saved by LibreOffice), both read by the reader."""
    folder = tmp_path_factory.mktemp("roundtrip")
    everyone = read_roster(ROSTER, rulebook)
    team = [e for e in everyone if e.team == everyone[0].team]
    blank = build_team_workbook(folder / "blank.xlsx", rulebook, "2026-Q4", team[0].department, team[0].team, team)
    filled = folder / "filled.xlsx"
    manifest = fill_team_workbook(blank, filled, seed=21, rulebook=rulebook, boundary=0.2, mistakes=TRICKY,
                                  redistribute=0.5, vary_targets=0.5)
    resaved = recalculate(filled, folder / "lo")
    return load_team_workbook(filled, rulebook), load_team_workbook(resaved, rulebook), manifest


def _inputs(book: TeamWorkbook) -> dict[str, list[tuple]]:
    def row(record, keys):
        return (record.row,) + tuple(_plain(getattr(record, k)) for k in keys)

    return {
        L.GOALS: [row(g, GOAL_INPUTS) for g in book.goals],
        L.SCORES: [row(s, SCORE_INPUTS) for s in book.scores],
        L.SUMMARY: [row(s, SUMMARY_INPUTS) for s in book.summary],
    }


def _plain(value):
    # a date cell may come back as a datetime at midnight: the same day either way
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def test_inputs_read_back_the_same(pair):
    before, after, _ = pair
    assert before.goals and before.scores and before.summary
    for sheet, rows in _inputs(before).items():
        again = _inputs(after)[sheet]
        assert len(again) == len(rows), sheet
        differ = [(a, b) for a, b in zip(rows, again) if a != b]
        assert not differ, f"{sheet}: {differ[:5]}"


def test_identity_reads_back_the_same(pair, rulebook):
    before, after, _ = pair
    assert after.identity == before.identity
    assert after.identity.meta["period"] == "2026-Q4"
    row_map = after.identity.row_map_tuples()
    assert L.structure_fingerprint(rulebook.fingerprint(), row_map) == after.identity.structure_fingerprint


def test_typed_text_stays_text(pair):
    """Full-width digits, '95%' typed as text and comments starting with '=' survive as the text typed."""
    _, after, manifest = pair
    by_cell = {s.ref(key): getattr(s, key) for s in after.scores for key in ("actual", "comment")}
    tricky = [c for c in manifest.changes if c.mistake in ("text-number", "formula-injection")]
    assert len(tricky) >= 6
    for change in tricky:
        assert by_cell[f"{change.sheet}!{change.cell}"] == change.value
