"""总表 marks who is out of the forced distribution (DESIGN 1: "excluded ... and marked"):
参与强制分布 是/否 and calibration's own reason, filled at consolidation and refreshed by calibrate."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import openpyxl
import pytest
from tests.support.master_fakes import make_report, team_employees

from kpisheet.validators.policy.calibration import eligibility
from kpisheet.validators.roster import Employee
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.apply_calibration import calibrate_master
from kpisheet.xladdin.master.consolidate import merge_into_master
from kpisheet.xladdin.master.io import read_master
from kpisheet.xladdin.master.legacy import merge

T1 = dt.datetime(2026, 4, 1, 9, 0, 0)
T2 = dt.datetime(2026, 4, 2, 10, 0, 0)
T3 = dt.datetime(2026, 4, 3, 11, 0, 0)
PERIOD = "2026-Q1"
LONG_AGO = dt.date(2020, 1, 1)


def person(employee_id: str, status: str = "正式", post_start: dt.date = LONG_AGO) -> Employee:
    return Employee(employee_id, f"员工{employee_id}", "售后服务部", "一组", "engineer", None, LONG_AGO, post_start,
                    status)


@pytest.fixture
def team(tmp_path, rulebook):
    people = team_employees(rulebook, "A", 12)
    report = make_report(tmp_path / "inbox" / "一组.xlsx", people, team="一组", period=PERIOD, modified=1_000)
    ids = [p.employee_id for p in people]
    roster = {i: person(i) for i in ids}
    roster[ids[0]] = person(ids[0], "试用")
    roster[ids[1]] = person(ids[1], "长假")
    roster[ids[2]] = person(ids[2], post_start=dt.date(2026, 2, 15))  # 1 whole month in the quarter
    return tmp_path, report, ids, roster


def marks(data) -> dict[str, tuple]:
    return {r["employee_id"]: (r["in_distribution"], r["excluded_why"]) for r in data.rows(L.SUMMARY)}


def test_consolidation_marks_probation_leave_and_short_tenure_with_calibrations_reason(team, rulebook):
    _, report, ids, roster = team
    result = merge(L.empty_master(), [report], rulebook, now=T1, roster=roster)
    got = marks(result.data)
    required = rulebook.eligibility.min_months_in_post
    assert got[ids[0]][0] == L.NO and "试用" in got[ids[0]][1] and "probation" in got[ids[0]][1]
    assert got[ids[1]][0] == L.NO and "长假" in got[ids[1]][1] and "long leave" in got[ids[1]][1]
    assert got[ids[2]][0] == L.NO and f"不足 {required} 个月" in got[ids[2]][1]
    assert f"under {required} months" in got[ids[2]][1]
    assert all(got[i] == (L.YES, None) for i in ids[3:])
    for i in ids[:3]:  # the very text calibration gives, not a second copy of the rule
        assert got[i][1] == eligibility(roster[i], PERIOD, rulebook)[1]


def test_the_month_count_comes_from_the_rulebook(team, rulebook):
    _, report, ids, roster = team
    stricter = rulebook.model_copy(update={"eligibility": rulebook.eligibility.model_copy(
        update={"min_months_in_post": 3})})
    roster[ids[3]] = person(ids[3], post_start=dt.date(2026, 1, 20))  # 2 whole months in the quarter
    got = marks(merge(L.empty_master(), [report], stricter, now=T1, roster=roster).data)
    assert got[ids[3]][0] == L.NO and "不足 3 个月" in got[ids[3]][1]
    assert marks(merge(L.empty_master(), [report], rulebook, now=T1, roster=roster).data)[ids[3]][0] == L.YES


def test_without_a_roster_the_rows_status_decides_and_a_rerun_changes_nothing(team, rulebook):
    _, report, ids, roster = team
    first = merge(L.empty_master(), [report], rulebook, now=T1, roster=roster)
    again = merge(first.data, [report], rulebook, now=T2)
    assert not again.changed and marks(again.data) == marks(first.data)
    # HR corrects 员工状态 by hand: the mark follows the row
    row = next(r for r in first.data.rows(L.SUMMARY) if r["employee_id"] == ids[5])
    row["status"] = "试用"
    third = merge(first.data, [report], rulebook, now=T3)
    assert marks(third.data)[ids[5]][0] == L.NO
    assert next(r for r in third.data.rows(L.SUMMARY) if r["employee_id"] == ids[5])["updated_at"] == T3


def test_marks_in_the_file_are_idempotent_and_hr_edits_survive(team, rulebook):
    tmp, report, ids, roster = team
    master = tmp / "master.xlsx"
    merge_into_master(master, [report], rulebook=rulebook, roster=roster, now=T1)
    book = openpyxl.load_workbook(master)
    ws = book[L.SUMMARY]
    headers = [c.value for c in ws[1]]
    assert "参与强制分布\nIn distribution" in headers and "不参与原因\nWhy not in distribution" in headers
    id_col, note_col = headers.index("工号\nID") + 1, headers.index("HR备注\nHR notes") + 1
    r = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, id_col).value == ids[0])
    ws.cell(r, note_col).value = "试用期至 2026-05"
    book.save(master)
    merge_into_master(master, [report], rulebook=rulebook, roster=roster, now=T2)
    before = hashlib.sha256(master.read_bytes()).digest()
    second = merge_into_master(master, [report], rulebook=rulebook, roster=roster, now=T3)
    assert not second.written and hashlib.sha256(master.read_bytes()).digest() == before
    data = read_master(master, rulebook)
    row = next(r for r in data.rows(L.SUMMARY) if r["employee_id"] == ids[0])
    assert row["hr_notes"] == "试用期至 2026-05" and row["in_distribution"] == L.NO and "试用" in row["excluded_why"]


def test_calibrate_refreshes_the_mark_from_the_roster_and_agrees_with_its_exclusions(team, rulebook):
    _, report, ids, roster = team
    data = merge(L.empty_master(), [report], rulebook, now=T1).data  # no roster: everyone marked 是
    assert {m[0] for m in marks(data).values()} == {L.YES}
    outcome = calibrate_master(data, rulebook, now=T2, roster=roster)
    got = marks(outcome.data)
    assert {i for i, m in got.items() if m[0] == L.NO} == set(ids[:3])
    assert {e[1] for e in outcome.ineligible} == set(ids[:3])  # the same people calibration left out
    summary = {r["employee_id"]: r for r in outcome.data.rows(L.SUMMARY)}
    assert summary[ids[0]]["status"] == "试用" and summary[ids[2]]["post_start"] == dt.date(2026, 2, 15)
    assert summary[ids[0]]["updated_at"] == T2
    assert any(row["key"] == f"{PERIOD}/{ids[0]}" and row["column"] == "员工状态" for row in outcome.log_rows)
    # the same calibration twice changes nothing; a later consolidation without a roster keeps the marks
    assert not calibrate_master(outcome.data, rulebook, now=T3, roster=roster).changed
    later = merge(outcome.data, [report], rulebook, now=T3)
    assert marks(later.data) == got


def test_calibrate_logs_a_change_of_standing(team, rulebook):
    _, report, ids, roster = team
    data = merge(L.empty_master(), [report], rulebook, now=T1, roster=roster).data
    roster[ids[0]] = dataclasses.replace(roster[ids[0]], status="正式")  # probation over
    outcome = calibrate_master(data, rulebook, now=T2, roster=roster)
    assert marks(outcome.data)[ids[0]] == (L.YES, None)
    logged = [r for r in outcome.log_rows if r["key"] == f"{PERIOD}/{ids[0]}" and r["column"] == "参与强制分布"]
    assert [(r["old"], r["new"]) for r in logged] == [(L.NO, L.YES)]
