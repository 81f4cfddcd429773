"""team- checks: people against the roster, period, sign-off window, distribution, and across files."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

import tests.support.validate_support as S
from tests.support.validate_support import only
from kpisheet.validators import layout as L
from kpisheet.validators.checks.template import meta_cell
from kpisheet.validators.report import FileReport
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.validators.reading.submission import read_team_workbook
from kpisheet.validators.validate import add_cross_file_findings


def summary(values):
    return S.book(values).summary


def test_a_duplicate_id_is_reported_at_every_occurrence(values, props):
    rows = summary(values)
    S.put(values, L.SUMMARY, rows[4].address("employee_id"), rows[1].employee_id)
    report = S.run(values, props)
    assert only(report, "team-duplicate-employee") == {(L.SUMMARY, rows[1].address("employee_id")),
                                                       (L.SUMMARY, rows[4].address("employee_id"))}
    assert f"{L.SUMMARY}!{rows[4].address('employee_id')}" in next(
        f for f in report.findings if f.code == "team-duplicate-employee").message_zh


def test_roster_unknown_missing_and_wrong_team(values, props):
    rows = summary(values)
    people = list(S.roster())
    unknown, moved = rows[0].employee_id, rows[2].employee_id
    people = [p for p in people if p.employee_id != unknown]
    people = [replace(p, team="华南工程组") if p.employee_id == moved else p for p in people]
    newcomer = replace(people[0], employee_id="SH0999", name="新同事", department=S.department(), team=S.TEAM,
                       hire_date=dt.date(2025, 6, 1), post_start=dt.date(2025, 6, 1))
    future = replace(newcomer, employee_id="SH0998", hire_date=dt.date(2026, 5, 1), post_start=dt.date(2026, 5, 1))
    report = S.run(values, props, roster=people + [newcomer, future])
    assert only(report, "team-unknown-employee") == {(L.SUMMARY, rows[0].address("employee_id"))}
    assert only(report, "team-wrong-department") == {(L.SUMMARY, rows[2].address("employee_id"))}
    wrong = next(f for f in report.findings if f.code == "team-wrong-department")
    assert wrong.value.endswith("华南工程组") and wrong.expected.endswith(S.TEAM)
    missing = [f for f in report.findings if f.code == "team-missing-employee"]
    assert [(f.employee_id, f.sheet, f.cell) for f in missing] == [("SH0999", L.SUMMARY, None)]
    assert "新同事" in missing[0].message_zh  # hired after the period: not missing


def test_without_a_roster_nobody_is_unknown(values, props):
    assert S.run(values, props, with_roster=False).findings == ()


def test_the_period_being_collected(values, props):
    report = S.run(values, props, period="2026-Q2")
    assert only(report, "team-period-mismatch") == {(L.META, meta_cell("period"))}
    finding = report.findings[0]
    assert (finding.value, finding.expected) == ("2026-Q1", "2026-Q2")
    assert S.run(values, props, period="2026年第1季度").findings == ()


def test_a_period_edited_in_meta_is_caught_by_the_document_properties(values, props):
    S.put(values, L.META, meta_cell("period"), "2025-Q1")
    report = S.run(values, props)
    assert ("team-period-mismatch", L.META, "B3") in S.places(report)
    assert next(f for f in report.findings if f.code == "team-period-mismatch").expected == "2026-Q1"


def test_a_period_that_is_no_period(values, props):
    S.put(values, L.META, meta_cell("period"), "下季度")
    report = S.run(values, props)
    assert ("team-period-mismatch", L.META, "B3") in S.places(report)


@pytest.mark.parametrize("key", ["manager_sign", "employee_sign", "manager_date", "employee_date"])
def test_sign_off_missing(values, props, key):
    row = summary(values)[3]
    S.put(values, L.SUMMARY, row.address(key), "")
    report = S.run(values, props)
    assert only(report, "team-signoff-missing") == {(L.SUMMARY, row.address(key))}


def test_sign_off_dates_inside_the_window_from_the_rulebook(values, props):
    rb = default_rulebook()
    row = summary(values)[0]
    last = dt.date(2026, 3, 31) + dt.timedelta(days=rb.periods.signoff_days_after_end)
    S.put(values, L.SUMMARY, row.address("manager_date"), last)
    S.put(values, L.SUMMARY, row.address("employee_date"), dt.date(2026, 1, 1))
    assert not only(S.run(S.fresh(values), props), "team-signoff-missing")
    S.put(values, L.SUMMARY, row.address("manager_date"), last + dt.timedelta(days=1))
    S.put(values, L.SUMMARY, row.address("employee_date"), dt.date(2025, 12, 31))
    report = S.run(S.fresh(values), props)
    assert only(report, "team-signoff-missing") == {(L.SUMMARY, row.address("manager_date")),
                                                    (L.SUMMARY, row.address("employee_date"))}
    assert "期限" in report.findings[0].message_zh
    S.put(values, L.SUMMARY, row.address("employee_date"), "三月底")
    assert (L.SUMMARY, row.address("employee_date")) in only(S.run(values, props), "team-signoff-missing")


@pytest.mark.parametrize("text", ["2026/1/1", "2026年1月1日", "2026-01-01"])
def test_a_date_kept_as_text_is_flagged_with_the_date_it_means(values, props, text):
    """(Issue 15: a text date used to pass; the form cannot check, sort or compare it.)"""
    row = summary(values)[0]
    S.put(values, L.SUMMARY, row.address("employee_date"), text)
    report = S.run(S.fresh(values), props)
    assert only(report, "team-signoff-missing") == {(L.SUMMARY, row.address("employee_date"))}
    assert "2026-01-01" in next(f for f in report.findings if f.cell == row.address("employee_date")).message_zh


def test_the_goals_phase_needs_no_sign_off(values, props):
    row = summary(values)[3]
    S.put(values, L.SUMMARY, row.address("manager_sign"), "")
    assert S.run(values, props, phase="goals").findings == ()


def test_distribution_over_quota_is_a_warning_at_the_grade_calibration_moves_first(tmp_path):
    """A team of 13 (own quotas: S <= 1, S+A <= 3) where the manager rated everyone top."""
    from kpisheet.workbook_templates.filler import fill_team_workbook

    people = list(S.sample_roster())
    members = S.team_members(S.TEAM, people)
    from kpisheet.workbook_templates.team_workbook import build_team_workbook

    blank = build_team_workbook(tmp_path / "blank.xlsx", default_rulebook(), S.PERIOD, members[0].department,
                                S.TEAM, members)
    fill_team_workbook(blank, tmp_path / "top.xlsx", seed=3)
    values, props, _ = S.read(tmp_path / "top.xlsx")
    book = read_team_workbook(values, source="t", rulebook=default_rulebook())
    goals = {(g.employee_id, g.code): g for g in book.goals}
    for s in book.scores:
        ind = default_rulebook().indicator(s.code)
        if ind.is_rating:
            S.put(values, L.SCORES, s.address("manager"), 5)
            S.put(values, L.SCORES, s.address("self_rating"), 5)
        elif ind.method.value == "deduction":
            S.put(values, L.SCORES, s.address("actual"), 0)
        else:
            S.put(values, L.SCORES, s.address("actual"), goals[(s.employee_id, s.code)].target)
    report = S.run(values, props, roster=people)
    over = [f for f in report.findings if f.code == "team-distribution-over-quota"]
    assert {f.severity for f in over} == {"warning"} and report.status == "warning"
    assert len(over) == 2  # S and S+A
    eligible = [e for e in report.employees if e.grade == "S"]
    assert over[0].sheet == L.SUMMARY and over[0].cell.startswith("K")
    assert over[0].employee_id in {e.employee_id for e in eligible}


def _report(path, period, department, team, cells):
    return FileReport(path, None, "ok", department, team, period, extra={"summary_cells": cells})


def test_one_employee_in_two_files_of_a_period():
    a = _report("in/a.xlsx", "2026-Q1", "售后服务部", "A组", {"SH0001": "A4", "SH0002": "A5"})
    b = _report("in/b.xlsx", "2026-Q1", "售后服务部", "B组", {"SH0002": "A7"})
    c = _report("in/c.xlsx", "2026-Q2", "售后服务部", "A组", {"SH0002": "A4"})
    out = add_cross_file_findings([a, b, c], None)
    dup = {r.path: [(f.sheet, f.cell) for f in r.findings] for r in out}
    assert dup == {"in/a.xlsx": [(L.SUMMARY, "A5")], "in/b.xlsx": [(L.SUMMARY, "A7")], "in/c.xlsx": []}
    assert "b.xlsx" in out[0].findings[0].message_zh and out[0].status == "error"


def test_roster_members_missing_from_every_file_of_their_team():
    people = list(S.roster())
    team = S.team_members()
    half = len(team) // 2
    a = _report("in/a.xlsx", S.PERIOD, team[0].department, S.TEAM,
                {p.employee_id: f"A{4 + i}" for i, p in enumerate(team[:half])})
    b = _report("in/b.xlsx", S.PERIOD, team[0].department, S.TEAM,
                {p.employee_id: f"A{4 + i}" for i, p in enumerate(team[half:-1])})
    out = add_cross_file_findings([a, b], {p.employee_id: p for p in people})
    assert [f.employee_id for f in out[0].findings] == [team[-1].employee_id]
    assert out[0].findings[0].code == "team-missing-employee" and out[1].findings == ()
