"""Exact half-cent ties typed through LibreOffice: the workbook and Python round them the same way.

48 engineers' 服务响应及时性 (ENG_RESP, floor 90% / target 98%) actuals are typed
into LibreOffice as a manager types them, "95.13%" with an odd last digit:
every one scores exactly x.xx5 in decimal (100 x 0.0513 / 0.08 = 64.125) and
a binary hair below it in LibreOffice's arithmetic. Before the rounding rule,
LibreOffice showed 64.12 where Python computed 64.13 and validation rejected
the correctly filled workbook. Now the file LibreOffice saves validates clean
and every score and total equals the Python engine's.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest

from kpisheet.validators.layout import VETO_NONE
from kpisheet.validators.policy.grading import score_employee
from kpisheet.validators.reading.submission import employee_lines, load_team_workbook, number
from kpisheet.validators.validate import validate_file
from kpisheet.workbook_templates.filler import make_employees
from kpisheet.workbook_templates.team_workbook import build_team_workbook

from tests.support.lo_typing import Job, TypingSession
from tests.support.typed_fill import EmployeeTyped, Typed, entries_for

PERIOD = "2026-Q4"
SIGN_DAY = dt.date(2027, 1, 8)
# 48 typed percentages with an odd last digit, spread over 90.01% .. 97.99%
TIES = [9001 + 2 * round(i * 398 / 47) for i in range(48)]


def _typed(k: int) -> EmployeeTyped:
    """ENG_RESP at the tie; the rest chosen so everyone is graded B (no quota warning)."""
    lines = {
        "CSAT": Typed(actual="95.00%", self_rating="4"),
        "ENG_FIX_RATE": Typed(actual="90.00%", self_rating="3"),
        "ENG_MTTR": Typed(actual="4", self_rating="4"),
        "ENG_FTFR": Typed(actual="90.00%", self_rating="4"),
        "ENG_RESP": Typed(actual=f"{k / 100:.2f}%", self_rating="3"),
        "COMP_SKILL": Typed(manager="2", self_rating="2"),
        "COMP_SOLVE": Typed(manager="2", self_rating="3"),
        "DISC": Typed(actual="0", self_rating="4"),
    }
    return EmployeeTyped(lines=lines, veto=VETO_NONE)


@pytest.fixture(scope="module")
def typed(soffice, rulebook, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ties")
    people = make_employees(len(TIES), seed=15, team="响应组", roles=["engineer"], prefix="T")
    blank = build_team_workbook(folder / "blank.xlsx", rulebook, PERIOD, "售后服务部", "响应组", people)
    plan = {p.employee_id: _typed(k) for p, k in zip(people, TIES)}
    entries = entries_for(load_team_workbook(blank, rulebook), rulebook, plan, SIGN_DAY)
    saved, = TypingSession(folder / "lo").run([Job(blank, folder / "typed.xlsx", entries)])
    return saved, people


def test_every_typed_actual_is_an_exact_tie(typed, rulebook):
    saved, _ = typed
    book = load_team_workbook(saved, rulebook)
    actuals = [number(s.actual) for s in book.scores if s.code == "ENG_RESP"]
    assert actuals == [k / 10000 for k in TIES]  # LibreOffice parsed "95.13%" to 0.9513
    for k in TIES:
        exact = Decimal(100) * (Decimal(k) / 10000 - Decimal("0.9")) / Decimal("0.08")
        assert exact.as_tuple().exponent == -3 and exact.as_tuple().digits[-1] == 5, exact


def test_libreoffice_rounds_each_tie_half_up_like_python(typed, rulebook):
    saved, _ = typed
    book = load_team_workbook(saved, rulebook)
    scores = [number(s.score) for s in book.scores if s.code == "ENG_RESP"]
    expected = [float((Decimal(1250) * (Decimal(k) / 10000 - Decimal("0.9"))).quantize(Decimal("0.01"),
                                                                                     ROUND_HALF_UP))
                for k in TIES]
    assert scores == expected


def test_the_typed_workbook_validates_clean_and_totals_equal_the_engine(typed, rulebook):
    saved, people = typed
    report = validate_file(saved, rulebook=rulebook, roster=people, period=PERIOD)
    assert [f.code + " " + f.where for f in report.findings] == []
    book = load_team_workbook(saved, rulebook)
    lines = employee_lines(book)
    for row in book.summary:
        result = score_employee(rulebook, lines[row.employee_id], number(row.commendations), row.veto)
        assert (number(row.total), row.grade, number(row.coefficient)) == \
            (result.total, result.grade, result.coefficient), row.employee_id
        assert [number(row.subtotals[c]) for c in result.subtotals] == list(result.subtotals.values())
