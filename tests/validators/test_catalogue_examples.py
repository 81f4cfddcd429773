"""Each finding kind's example in docs/findings.md is what validation really says.

For every code a workbook, roster or file check produces, a scenario makes
the documented situation happen on a real team workbook (employees E1003
engineer, E1004 customer service, E1005 technical support, filled correctly
and then slipped once) and the finding validation makes must equal the
catalogue's example: code, sheet, cell, employee, indicator, value, expected
and both messages. The master- codes come from consolidating HR's master, not
from reading a workbook, and are tested there (tests/xladdin/master).
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import InvalidOperation

import pytest

from kpisheet.validators import layout as L
from kpisheet.validators.findings import CATALOGUE, example_finding
from kpisheet.validators.reading.safe_read import read_values
from kpisheet.validators.reading.submission import read_team_workbook
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.company_load import load_company
from kpisheet.validators.signature import SigningKey
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.validators.validate import validate_file, validate_values
from kpisheet.workbook_templates.team_workbook import build_team_workbook

import tests.support.hostile as H
from tests.support.paths import SAMPLE_COMPANY
from tests.support.slips import baseline
from tests.support.typed_fill import entries_for, typed_number

PERIOD = "2026-Q2"
DAY = dt.date(2020, 1, 1)
SIGN_DAY = dt.date(2026, 7, 5)
TEAM = ("售后服务部", "工程一组")
PEOPLE = [Employee("E1003", "张伟", *TEAM, "engineer", None, DAY, DAY, "正式"),
          Employee("E1004", "李娜", *TEAM, "cs", None, DAY, DAY, "正式"),
          Employee("E1005", "王强", *TEAM, "ts", None, DAY, DAY, "正式")]
ROSTER = list(PEOPLE)
ABSENT = Employee("E1007", "王芳", *TEAM, "cs", None, DAY, DAY, "正式")
FIELDS = ("code", "sheet", "cell", "employee_id", "indicator", "value", "expected", "message_zh", "message_en")
FROM_MASTER = {"master-grade-invalid", "master-duplicate-row", "master-duplicate-employee", "master-log-shortened",
               "master-override-pending"}
# found by consolidation against the cycle record (a team's accepted submission of an earlier run), not by
# reading one workbook: tests/xladdin/master/test_team_identity.py and tests/xladdin/record/test_record.py
FROM_CONSOLIDATION = {"team-members-differ", "team-older-than-accepted"}


def _typed_value(entry):
    if entry.how == "clear":
        return ""
    if entry.how == "text":
        return entry.text
    try:
        return dt.date.fromisoformat(entry.text)
    except ValueError:
        pass
    try:
        number = typed_number(entry.text)
    except (InvalidOperation, ValueError):
        return entry.text
    return float(number) if number is not None else ""


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """(path of the blank, values of the correctly filled workbook, its team workbook)."""
    rb = default_rulebook()
    folder = tmp_path_factory.mktemp("examples")
    blank = build_team_workbook(folder / "examples.xlsx", rb, PERIOD, *TEAM, PEOPLE)
    values = read_values(blank)
    book = read_team_workbook(values, source="x", rulebook=rb)
    plan = {p.employee_id: baseline(rb, p.role) for p in PEOPLE}
    plan["E1004"].lines["COMP_COMM"].manager = "4"  # one A, so the team is not all B
    for entry in entries_for(book, rb, plan, SIGN_DAY):
        _put(values, entry.sheet, entry.cell, _typed_value(entry))
    return blank, values, book


def _put(values, sheet, cell, value):
    col = 0
    letters = "".join(ch for ch in cell if ch.isalpha())
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    row = int(cell[len(letters):]) - 1
    rows = values[sheet]
    while len(rows) <= row:
        rows.append([])
    while len(rows[row]) < col:
        rows[row].append("")
    rows[row][col - 1] = value


def _run(values, **kw):
    kw.setdefault("roster", ROSTER)
    kw.setdefault("period", PERIOD)
    kw.setdefault("rulebook", default_rulebook())
    return validate_values(values, source="examples.xlsx", calculated=False, **kw)


def _cell(book, employee, code, key):
    sheet_rows = book.goals if key in ("weight", "floor", "target", "challenge", "smart", "code") else book.scores
    row = next(r for r in sheet_rows if r.employee_id == employee and r.code == code)
    return row.address(key)


def _summary(book, employee, key):
    return next(s for s in book.summary if s.employee_id == employee).address(key)


def _slip(values, book, code):
    """Make the documented situation of ``code``; returns the report."""
    v = copy.deepcopy(values)
    put = lambda sheet, cell, value: _put(v, sheet, cell, value)  # noqa: E731
    if code == "template-unknown":
        del v[L.META]
    elif code == "template-version":
        put(L.META, "B2", "0")
    elif code == "template-rulebook-mismatch":
        put(L.META, "B7", "2025.2")
        put(L.META, "B8", "3f9c2b7e01d4a5c6")
    elif code == "template-structure-changed":
        put(L.GOALS, _cell(book, "E1003", "ENG_FTFR", "code"), "ENG_DOCS")
    elif code == "goal-weight-sum":
        put(L.GOALS, _cell(book, "E1003", "ENG_MTTR", "weight"), 5)
    elif code == "goal-weight-range":
        put(L.GOALS, _cell(book, "E1003", "ENG_MTTR", "weight"), 40)
    elif code == "goal-target-missing":
        put(L.GOALS, _cell(book, "E1003", "ENG_MTTR", "target"), "")
    elif code == "goal-target-order":
        put(L.GOALS, _cell(book, "E1003", "ENG_MTTR", "floor"), 4)
        put(L.GOALS, _cell(book, "E1003", "ENG_MTTR", "target"), 8)
    elif code == "goal-smart-missing":
        put(L.GOALS, _cell(book, "E1003", "ENG_MTTR", "smart"), "")
    elif code == "goal-category-weight":
        put(L.GOALS, _cell(book, "E1003", "CSAT", "weight"), 5)
        put(L.GOALS, _cell(book, "E1003", "DISC", "weight"), 20)
    elif code == "goal-mandatory-missing":
        put(L.GOALS, _cell(book, "E1003", "DISC", "weight"), 0)
    elif code == "score-not-number":
        put(L.SCORES, _cell(book, "E1003", "CSAT", "actual"), "约90")
    elif code == "score-percent-scale":
        put(L.SCORES, _cell(book, "E1003", "CSAT", "actual"), 95)
    elif code == "score-out-of-range":
        put(L.SCORES, _cell(book, "E1003", "CSAT", "actual"), 1.35)
    elif code == "score-rating-invalid":
        put(L.SCORES, _cell(book, "E1003", "COMP_SKILL", "manager"), 4.5)
    elif code == "score-missing":
        put(L.SCORES, _cell(book, "E1003", "CSAT", "actual"), "")
    elif code == "score-comment-required":
        put(L.SCORES, _cell(book, "E1003", "COMP_SKILL", "self_rating"), 1)
        put(L.SCORES, _cell(book, "E1003", "COMP_SKILL", "manager"), 4)
    elif code == "score-total-mismatch":
        put(L.SUMMARY, _summary(book, "E1003", "total"), 95)
    elif code == "score-actual-changed":
        put(L.SCORES, _cell(book, "E1003", "CSAT", "actual"), 0.97)
        v[L.ACTUALS] = [list(L.ACTUALS_HEADER), ["E1003", "CSAT", 0.91, "survey", "",
                                                _cell(book, "E1003", "CSAT", "actual")]]
    elif code == "team-duplicate-employee":
        put(L.SUMMARY, _summary(book, "E1005", "employee_id"), "E1003")
    elif code == "team-unknown-employee":
        put(L.SUMMARY, _summary(book, "E1005", "employee_id"), "E9999")
    elif code == "team-missing-employee":
        return _run(v, roster=ROSTER + [ABSENT])  # in the roster's team, not in the workbook
    elif code == "team-wrong-department":
        moved = Employee("E1004", "李娜", "售后服务部", "客服二组", "cs", None, DAY, DAY, "正式")
        return _run(v, roster=[moved if p.employee_id == "E1004" else p for p in ROSTER])
    elif code == "goal-changed-after-approval":
        put(L.GOALS, _cell(book, "E1003", "ENG_MTTR", "weight"), 15)
        approved = {(g.employee_id, g.code): {"weight": g.weight, "floor": g.floor, "target": g.target,
                                              "challenge": g.challenge, "smart": g.smart}
                    for g in read_team_workbook(values, source="x", rulebook=default_rulebook()).goals}
        return _run(v, approved_goals={(*TEAM, PERIOD): approved})
    elif code == "team-period-mismatch":
        return _run(v, period="2026-Q3")
    elif code == "team-signoff-missing":
        put(L.SUMMARY, _summary(book, "E1003", "employee_date"), dt.date(2026, 7, 20))
    elif code == "team-feedback-missing":
        put(L.SUMMARY, _summary(book, "E1003", "feedback"), "")
    elif code == "team-distribution-over-quota":
        raise NotImplementedError
    elif code in ("goal-error-value", "score-error-value"):
        sheet, cell = ((L.GOALS, _cell(book, "E1003", "ENG_MTTR", "weight")) if code == "goal-error-value"
                       else (L.SCORES, _cell(book, "E1003", "CSAT", "self_rating")))
        put(sheet, cell, "")  # a reader gives an error cell as empty; the guard names the error it shows
        return _run(v, error_cells={sheet: {cell: "#N/A" if code == "goal-error-value" else "#DIV/0!"}})
    elif code == "template-not-signed":
        return _run(v, signing_key=SigningKey.generate())  # HR has a key; this workbook was not made with it
    elif code == "template-signature-mismatch":
        return _signed_then_changed(book)
    elif code in ("template-indicator-not-in-role", "template-role-indicator-missing"):
        # the roster says 王强 is customer service; the workbook gives him technical support's indicators
        moved = Employee("E1005", "王强", *TEAM, "cs", None, DAY, DAY, "正式")
        return _run(v, roster=[moved if p.employee_id == "E1005" else p for p in ROSTER])
    elif code == "template-department-unknown":
        put(L.META, "B4", "财务部")
        return _run(v, rulebook=load_company(SAMPLE_COMPANY))
    return _run(v)


def _signed_then_changed(book):
    """A workbook made with HR's key whose _meta row of 张伟 was edited after signing."""
    import tempfile
    from pathlib import Path

    key = SigningKey.generate()
    with tempfile.TemporaryDirectory() as folder:
        blank = build_team_workbook(Path(folder) / "signed.xlsx", default_rulebook(), PERIOD, *TEAM, PEOPLE,
                                    signing_key=key)
        values = read_values(blank)
    entry = next(e for e in read_team_workbook(values, source="x", rulebook=default_rulebook()).identity.row_map
                 if e.employee_id == "E1003")
    row = values[L.META][entry.meta_row]
    row[3] = ",".join(reversed(str(row[3]).split(",")))  # the indicator list re-ordered after signing
    return _run(values, signing_key=key)


def _file_slip(tmp_path, code):
    if code == "file-unreadable":
        return validate_file(H.truncated_xlsx(tmp_path), rulebook=default_rulebook())
    if code == "file-encrypted":
        return validate_file(H.encrypted_xlsx(tmp_path), rulebook=default_rulebook())
    if code == "file-wrong-format":
        return validate_file(H.xls_renamed(tmp_path), rulebook=default_rulebook())
    if code == "file-too-large":
        return validate_file(H.far_corner_xlsx(tmp_path), rulebook=default_rulebook())
    if code == "file-has-macros":
        return validate_file(H.xlsm_renamed(tmp_path), rulebook=default_rulebook())
    if code == "file-cell-order":
        return validate_file(H.duplicated_cell_xlsx(tmp_path), rulebook=default_rulebook())
    if code == "file-lock":
        return validate_file(H.lock_file(tmp_path, of="考核表_售后一组.xlsx"), rulebook=default_rulebook())
    raise KeyError(code)


WORKBOOK_CODES = [c for c in CATALOGUE if c.split("-")[0] in ("template", "goal", "score", "team")
                  and c not in ("template-formula-replaced", "team-distribution-over-quota")
                  and c not in FROM_CONSOLIDATION]
BIG_TEAM = [Employee(f"E{1003 + i}", f"员工{i}", *TEAM, "engineer", None, DAY, DAY, "正式") for i in range(12)]
FILE_CODES = [c for c in CATALOGUE if c.startswith("file-")]


def test_every_code_has_its_example_tested():
    tested = set(WORKBOOK_CODES) | set(FILE_CODES) | FROM_MASTER | FROM_CONSOLIDATION | {"template-formula-replaced",
                                                                     "team-distribution-over-quota"}
    assert tested == set(CATALOGUE)


def _matching(report, want):
    found = [f for f in report.findings if f.code == want.code and (f.sheet, f.cell) == (want.sheet, want.cell)]
    assert found, f"{want.code}: found only {[(f.code, f.where, f.value, f.expected) for f in report.findings]}"
    return found[0]


@pytest.mark.parametrize("code", WORKBOOK_CODES)
def test_the_workbook_examples_are_what_validation_says(example, code):
    _, values, book = example
    want = example_finding(CATALOGUE[code])
    got = _matching(_slip(values, book, code), want)
    fields = FIELDS
    if code == "template-rulebook-mismatch":  # the default rulebook's fingerprint moves with every rule change
        fields = ("code", "sheet", "cell", "value")
        assert got.expected.startswith("aftersales-default 2026.1 (")
    assert {k: getattr(got, k) for k in fields} == {k: getattr(want, k) for k in fields}


def test_the_correct_fill_is_clean(example):
    _, values, _ = example
    assert _run(copy.deepcopy(values)).findings == ()


@pytest.mark.parametrize("code", FILE_CODES)
def test_the_file_examples_are_what_validation_says(tmp_path, code):
    """The hostile files of tests/support/hostile.py, through the guard."""
    want = example_finding(CATALOGUE[code])
    got = next(f for f in _file_slip(tmp_path, code).findings if f.code == code)
    assert {k: getattr(got, k) for k in FIELDS} == {k: getattr(want, k) for k in FIELDS}


def test_the_formula_replaced_example_is_what_validation_says(example, tmp_path):
    """A total pasted back as a value: only a file shows it (its sheet XML), so the example's file is written."""
    import openpyxl

    blank, values, book = example
    workbook = openpyxl.load_workbook(blank)
    for sheet in (L.GOALS, L.SCORES, L.SUMMARY):
        rows = values[sheet]
        for r, row in enumerate(rows[L.FIRST_DATA_ROW:], start=L.FIRST_DATA_ROW):
            for c, value in enumerate(row):
                cell = workbook[sheet].cell(r + 1, c + 1)
                if value not in ("", None) and cell.data_type != "f" and cell.value != value:
                    cell.value = value
    workbook[L.SUMMARY][_summary(book, "E1003", "total")] = 75  # the total it showed, pasted as a number
    workbook.save(tmp_path / "pasted.xlsx")
    report = validate_file(tmp_path / "pasted.xlsx", rulebook=default_rulebook(), roster=ROSTER, period=PERIOD)
    want = example_finding(CATALOGUE["template-formula-replaced"])
    got = _matching(report, want)
    assert {k: getattr(got, k) for k in FIELDS} == {k: getattr(want, k) for k in FIELDS}


def test_the_distribution_example_is_what_validation_says(tmp_path):
    """Twelve engineers, three of them S: over the S quota of 10% (one person)."""
    rb = default_rulebook()
    blank = build_team_workbook(tmp_path / "big.xlsx", rb, PERIOD, *TEAM, BIG_TEAM)
    values = read_values(blank)
    book = read_team_workbook(values, source="x", rulebook=rb)
    from decimal import Decimal

    plan = {p.employee_id: baseline(rb, p.role, Decimal(1) if i < 3 else Decimal("0.75"))
            for i, p in enumerate(BIG_TEAM)}
    for entry in entries_for(book, rb, plan, SIGN_DAY):
        _put(values, entry.sheet, entry.cell, _typed_value(entry))
    report = _run(values, roster=BIG_TEAM)
    want = example_finding(CATALOGUE["team-distribution-over-quota"])
    got = next(f for f in report.findings if f.code == want.code)
    assert {k: getattr(got, k) for k in FIELDS} == {k: getattr(want, k) for k in FIELDS}
