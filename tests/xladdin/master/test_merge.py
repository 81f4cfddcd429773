"""The merge rules, in memory: keys, ownership, supersession, missing sources, audit, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.support.master_fakes import FakeFinding, make_employee, make_report, team_employees

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.layout import clean_value, empty_master
from kpisheet.xladdin.master.legacy import merge

T1 = dt.datetime(2026, 4, 1, 9, 0, 0)
T2 = dt.datetime(2026, 4, 2, 9, 0, 0)
T3 = dt.datetime(2026, 4, 3, 9, 0, 0)


def summary_by_key(data):
    return {(r["period"], r["employee_id"]): r for r in data.rows(L.SUMMARY)}


def submissions_by_path(data):
    return {r["path"]: r for r in data.rows(L.SUBMISSIONS)}


@pytest.fixture
def inbox(tmp_path, rulebook):
    """Two teams of March: 一组 (12 people) and 二组 (6)."""
    a = make_report(tmp_path / "a.xlsx", team_employees(rulebook, "A", 12), team="一组", period="2026-03",
                    modified=1_000)
    b = make_report(tmp_path / "b.xlsx", team_employees(rulebook, "B", 6, base_level=0.6), team="二组",
                    period="2026-03", modified=1_000)
    return tmp_path, a, b


def test_new_master_has_one_row_per_period_and_employee(inbox, rulebook):
    _, a, b = inbox
    result = merge(empty_master(), [a, b], rulebook, now=T1)
    rows = summary_by_key(result.data)
    assert len(rows) == 18
    first = rows[("2026-03", "A000")]
    engine = a.employees[0]
    assert (first["total"], first["system_grade"], first["final_grade"]) == (engine.total, engine.grade, engine.grade)
    assert first["team"] == "一组" and first["source_status"] == L.SOURCE_PRESENT
    assert first["updated_at"] == T1
    assert first["coefficient"] == rulebook.grade_band(engine.grade).coefficient
    # one detail row per employee x indicator, in the role's order
    detail = [r for r in result.data.rows(L.DETAIL) if r["employee_id"] == "A000"]
    assert [r["code"] for r in detail] == [i.code for i in engine.indicators]
    assert sorted(result.files["accepted"]) == sorted([a.path, b.path])
    assert result.employees["added"] == 18


def test_rank_in_department_is_competition_ranking(tmp_path, rulebook):
    people = [make_employee(rulebook, f"E{i}", f"员工{i}", level=lvl) for i, lvl in enumerate((0.9, 0.7, 0.9, 0.5))]
    report = make_report(tmp_path / "r.xlsx", people, team="一组", period="2026-03")
    rows = summary_by_key(merge(empty_master(), [report], rulebook, now=T1).data)
    ranks = {k[1]: r["dept_rank"] for k, r in rows.items()}
    assert ranks == {"E0": 1, "E2": 1, "E1": 3, "E3": 4}


def test_second_identical_run_changes_nothing_and_logs_nothing(inbox, rulebook):
    _, a, b = inbox
    first = merge(empty_master(), [a, b], rulebook, now=T1)
    second = merge(first.data, [a, b], rulebook, now=T2)
    assert not second.changed
    assert second.log_rows == 0
    for sheet in L.STORED_SHEETS:
        assert second.data.rows(sheet) == first.data.rows(sheet), sheet
    assert second.files["unchanged"] and not second.files["accepted"]
    # a file the record holds (same SHA-256) is not read again: no employee is even looked at
    assert second.employees == {"added": 0, "updated": 0, "unchanged": 0, "marked_missing": 0, "review": 0}


def test_hr_columns_survive_and_drive_the_final_grade(inbox, rulebook):
    tmp, a, b = inbox
    first = merge(empty_master(), [a, b], rulebook, now=T1)
    row = summary_by_key(first.data)[("2026-03", "B001")]
    row.update(calibrated_grade="a", override_reason="项目贡献突出", hr_notes="见会议纪要", appeal_status="无")
    second = merge(first.data, [a, b], rulebook, now=T2)
    after = summary_by_key(second.data)[("2026-03", "B001")]
    assert (after["calibrated_grade"], after["override_reason"], after["hr_notes"]) == ("a", "项目贡献突出", "见会议纪要")
    assert after["final_grade"] == "A" and after["coefficient"] == rulebook.grade_band("A").coefficient
    assert after["updated_at"] == T2  # its content (final grade) changed
    untouched = summary_by_key(second.data)[("2026-03", "B002")]
    assert untouched["updated_at"] == T1
    finals = [e for e in second.data.rows(L.LOG) if e["action"] == L.LOG_FINAL]
    assert [(e["key"], e["new"]) for e in finals] == [("2026-03/B001", "A")]


def test_corrected_late_file_supersedes_and_is_audited(inbox, rulebook):
    tmp, a, b = inbox
    first = merge(empty_master(), [a, b], rulebook, now=T1)
    summary_by_key(first.data)[("2026-03", "A003")].update(calibrated_grade="B", override_reason="项目贡献")  # HR's
    people = list(a.employees)
    people[3] = make_employee(rulebook, "A003", people[3].name, role=people[3].role, level=0.5)
    corrected = make_report(tmp / "a_v2.xlsx", people, team="一组", period="2026-03", modified=2_000)

    second = merge(first.data, [a, corrected, b], rulebook, now=T2)
    subs = submissions_by_path(second.data)
    assert subs[a.path]["status"] == L.SUB_SUPERSEDED
    assert subs[corrected.path]["status"] == L.SUB_ACCEPTED
    assert second.files["superseded"] == [a.path] and second.files["accepted"] == [corrected.path]
    row = summary_by_key(second.data)[("2026-03", "A003")]
    assert row["total"] == people[3].total != a.employees[3].total
    assert row["source_file"] == corrected.path and row["review"] == L.REVIEW
    assert row["calibrated_grade"] == "B" and row["final_grade"] == "B"
    log = second.data.rows(L.LOG)
    total_change = [e for e in log if e["key"] == "2026-03/A003" and e["column"] == "总分"]
    assert total_change and total_change[0]["old"] == clean_value(L.TEXT, a.employees[3].total)
    assert total_change[0]["new"] == clean_value(L.TEXT, people[3].total)
    assert any(e["action"] == L.LOG_REVIEW and e["key"] == "2026-03/A003" for e in log)
    assert any(e["action"] == L.LOG_SUBMISSION and e["key"] == a.path and e["new"] == L.SUB_SUPERSEDED for e in log)
    # the other eleven of the team are unchanged, with their first time
    others = [r for k, r in summary_by_key(second.data).items() if k[1].startswith("A") and k[1] != "A003"]
    assert {r["updated_at"] for r in others} <= {T1, T2}
    assert sum(1 for r in others if r["source_file"] == corrected.path) == 11

    third = merge(second.data, [a, corrected, b], rulebook, now=T3)
    assert not third.changed and third.log_rows == 0


def test_same_file_replaced_in_place_supersedes_by_hash(inbox, rulebook):
    tmp, a, b = inbox
    first = merge(empty_master(), [a, b], rulebook, now=T1)
    people = list(a.employees)
    people[0] = make_employee(rulebook, "A000", people[0].name, role=people[0].role, level=1.0)
    again = make_report(tmp / "a.xlsx", people, team="一组", period="2026-03", modified=3_000)
    second = merge(first.data, [again, b], rulebook, now=T2)
    statuses = sorted((r["sha256"] == a.sha256, r["status"]) for r in second.data.rows(L.SUBMISSIONS)
                      if r["path"] == a.path)
    assert statuses == [(False, L.SUB_ACCEPTED), (True, L.SUB_SUPERSEDED)]


def test_newest_is_mtime_then_name(tmp_path, rulebook):
    people = team_employees(rulebook, "A", 3)
    changed = [make_employee(rulebook, "A000", "员工A0", level=0.3), *people[1:]]
    x = make_report(tmp_path / "x.xlsx", people, team="一组", period="2026-03", modified=5_000)
    y = make_report(tmp_path / "y.xlsx", changed, team="一组", period="2026-03", modified=5_000)
    for order in ([x, y], [y, x]):
        result = merge(empty_master(), order, rulebook, now=T1)
        assert summary_by_key(result.data)[("2026-03", "A000")]["source_file"] == y.path
    older_y = make_report(tmp_path / "y.xlsx", changed, team="一组", period="2026-03", modified=4_000)
    result = merge(empty_master(), [x, older_y], rulebook, now=T1)
    assert summary_by_key(result.data)[("2026-03", "A000")]["source_file"] == x.path


def test_vanished_source_is_marked_not_deleted(inbox, rulebook):
    tmp, a, b = inbox
    february = make_report(tmp / "feb.xlsx", team_employees(rulebook, "B", 6), team="二组", period="2026-02")
    first = merge(empty_master(), [a, b, february], rulebook, now=T1)
    second = merge(first.data, [a], rulebook, now=T2)  # 二组's March file is gone
    rows = summary_by_key(second.data)
    assert len(rows) == 24
    assert {rows[("2026-03", f"B{i:03d}")]["source_status"] for i in range(6)} == {L.SOURCE_MISSING}
    assert all(rows[("2026-03", f"B{i:03d}")]["total"] == b.employees[i].total for i in range(6))
    assert {rows[("2026-02", f"B{i:03d}")]["source_status"] for i in range(6)} == {L.SOURCE_PRESENT}
    assert submissions_by_path(second.data)[b.path]["status"] == L.SUB_MISSING
    assert second.employees["marked_missing"] == 6
    assert len([r for r in second.data.rows(L.DETAIL) if r["employee_id"].startswith("B")]) == len(
        first.data.rows(L.DETAIL)) - 12 * 8
    # the mark is stable, and it is lifted when the file comes back
    assert not merge(second.data, [a], rulebook, now=T3).changed
    back = merge(second.data, [a, b], rulebook, now=T3)
    assert {summary_by_key(back.data)[("2026-03", f"B{i:03d}")]["source_status"] for i in range(6)} == {
        L.SOURCE_PRESENT}


def test_employee_dropped_from_the_newest_file_is_marked(inbox, rulebook):
    tmp, a, b = inbox
    first = merge(empty_master(), [a, b], rulebook, now=T1)
    smaller = make_report(tmp / "b2.xlsx", list(b.employees[:5]), team="二组", period="2026-03", modified=9_000)
    second = merge(first.data, [a, b, smaller], rulebook, now=T2)
    assert summary_by_key(second.data)[("2026-03", "B005")]["source_status"] == L.SOURCE_DROPPED


def test_rejected_file_contributes_nothing(inbox, rulebook):
    tmp, a, b = inbox
    first = merge(empty_master(), [a, b], rulebook, now=T1)
    bad_people = [make_employee(rulebook, "A000", "员工A0", level=0.1), make_employee(rulebook, "Z001", "新人")]
    error = FakeFinding("score-missing", "error", "考核评分", "L5", "A000", "CSAT", None, "a number",
                        "实际值缺失", "actual value missing", "填写实际值")
    bad = make_report(tmp / "a_bad.xlsx", bad_people, team="一组", period="2026-03", findings=(error,),
                      modified=9_000)
    second = merge(first.data, [a, b, bad], rulebook, now=T2)
    for sheet in (L.SUMMARY, L.DETAIL, L.APPEALS, L.ANNUAL):
        assert second.data.rows(sheet) == first.data.rows(sheet), sheet
    assert submissions_by_path(second.data)[bad.path]["status"] == L.SUB_REJECTED
    assert second.files["rejected"] == [bad.path]
    issues = second.data.rows(L.ISSUES)
    assert [(i["file"], i["code"], i["cell"]) for i in issues] == [(bad.path, "score-missing", "L5")]


def test_appeal_revised_grade_wins(inbox, rulebook):
    _, a, b = inbox
    first = merge(empty_master(), [a, b], rulebook, now=T1)
    summary_by_key(first.data)[("2026-03", "A001")].update(calibrated_grade="C", override_reason="复核")
    first.data.rows(L.APPEALS).append({"period": "2026-03", "employee_id": "A001", "revised_grade": "B",
                                        "outcome": "改判 revised"})
    second = merge(first.data, [a, b], rulebook, now=T2)
    assert summary_by_key(second.data)[("2026-03", "A001")]["final_grade"] == "B"
    [appeal] = second.data.rows(L.APPEALS)
    assert (appeal["period"], appeal["employee_id"], appeal["revised_grade"], appeal["outcome"]) == (
        "2026-03", "A001", "B", "改判 revised")


def test_invalid_calibrated_grade_is_reported_and_ignored(inbox, rulebook):
    _, a, b = inbox
    first = merge(empty_master(), [a, b], rulebook, now=T1)
    summary_by_key(first.data)[("2026-03", "A002")]["calibrated_grade"] = "优"
    second = merge(first.data, [a, b], rulebook, now=T2)
    row = summary_by_key(second.data)[("2026-03", "A002")]
    assert row["calibrated_grade"] == "优" and row["final_grade"] == row["system_grade"]
    issue = [i for i in second.data.rows(L.ISSUES) if i["code"] == "master-grade-invalid"]
    position = [r["employee_id"] for r in second.data.rows(L.SUMMARY)].index("A002")
    column = [c.key for c in L.summary_columns(rulebook)].index("calibrated_grade")
    from kpisheet.validators.layout import a1

    assert [(i["sheet"], i["cell"]) for i in issue] == [(L.SUMMARY, a1(position + 1, column))]


def test_employee_in_two_teams_is_reported(tmp_path, rulebook):
    one = make_report(tmp_path / "1.xlsx", [make_employee(rulebook, "E1", "甲")], team="一组", period="2026-03",
                      modified=1)
    two = make_report(tmp_path / "2.xlsx", [make_employee(rulebook, "E1", "甲", level=0.5)], team="二组",
                      period="2026-03", modified=2)
    result = merge(empty_master(), [one, two], rulebook, now=T1)
    assert summary_by_key(result.data)[("2026-03", "E1")]["team"] == "二组"
    assert [i["code"] for i in result.data.rows(L.ISSUES)] == ["master-duplicate-employee"]


def test_period_filter_rejects_other_periods(inbox, rulebook):
    tmp, a, b = inbox
    april = make_report(tmp / "apr.xlsx", team_employees(rulebook, "C", 2), team="三组", period="2026年4月")
    result = merge(empty_master(), [a, april], rulebook, now=T1, period="2026-03")
    assert {k[0] for k in summary_by_key(result.data)} == {"2026-03"}
    assert result.files["rejected"] == [april.path]


def test_chinese_period_labels_are_one_key(tmp_path, rulebook):
    people = team_employees(rulebook, "A", 2)
    first = merge(empty_master(), [make_report(tmp_path / "a.xlsx", people, team="一组", period="2026年3月")],
                  rulebook, now=T1)
    assert {k[0] for k in summary_by_key(first.data)} == {"2026-03"}
    again = merge(first.data, [make_report(tmp_path / "a.xlsx", people, team="一组", period="2026-03")],
                  rulebook, now=T2)
    assert len(again.data.rows(L.SUMMARY)) == 2


def test_roster_fills_manager_status_and_keeps_them_without_roster(inbox, rulebook):
    from kpisheet.validators.roster import Employee

    _, a, b = inbox
    day = dt.date(2025, 1, 1)
    roster = {"A000": Employee("A000", "员工A0", "售后服务部", "一组", "engineer", "M1", day, dt.date(2026, 3, 1),
                               "试用"),
              "M1": Employee("M1", "王经理", "售后服务部", "一组", "engineer", None, day, day, "正式")}
    first = merge(empty_master(), [a, b], rulebook, now=T1, roster=roster)
    row = summary_by_key(first.data)[("2026-03", "A000")]
    assert (row["manager"], row["status"], row["post_start"]) == ("王经理（M1）", "试用", dt.date(2026, 3, 1))
    second = merge(first.data, [a, b], rulebook, now=T2)
    assert not second.changed


def test_calibrated_grade_without_a_reason_is_pending_not_final(inbox, rulebook):
    _, a, b = inbox
    first = merge(empty_master(), [a, b], rulebook, now=T1)
    row = summary_by_key(first.data)[("2026-03", "B001")]
    system = row["system_grade"]
    row["calibrated_grade"] = "S"  # typed without 调整理由
    second = merge(first.data, [a, b], rulebook, now=T2)
    after = summary_by_key(second.data)[("2026-03", "B001")]
    assert after["calibrated_grade"] == "S" and after["final_grade"] == system
    assert after["coefficient"] == rulebook.grade_band(system).coefficient
    assert after["review"].startswith("待定 pending")
    assert [i["code"] for i in second.data.rows(L.ISSUES)] == ["master-override-pending"]
    # the reason arrives: the grade applies
    summary_by_key(second.data)[("2026-03", "B001")]["override_reason"] = "年度项目负责人"
    third = merge(second.data, [a, b], rulebook, now=T3)
    done = summary_by_key(third.data)[("2026-03", "B001")]
    assert done["final_grade"] == "S" and not done["review"]
