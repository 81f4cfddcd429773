"""Appeals: deadlines in Chinese working days across National Day 2026 (with its make-up working
days), late and overdue flags, a decided appeal's revised grade carried into 总表 with a 日志 row,
HR's cells never touched, and the Mon-Fri estimate for years the holiday calendar lacks.

2026 (chinesecalendar): National Day Oct 1-7 off, Sun Sep 20 and Sat Oct 10 worked.
"""

from __future__ import annotations

import datetime as dt

import pytest
from tests.support.master_builders import build_master, digest, hr_edit, rows, run
from tests.support.master_fakes import make_employee

from kpisheet.validators.policy.workdays import (
    CalendarRangeError, add_workdays, appeal_deadlines, estimate_note, estimated_years, is_workday,
    known_years, workdays_between,
)
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.appeals import LATE_ACCEPT, LATE_RESOLVE, published_on
from kpisheet.xladdin.master.io import read_master

D = dt.date
ESTIMATE_ZH = "2027 年节假日安排未收录"  # how 申诉's 系统提示 starts the note for HR
ESTIMATE_EN = "holiday calendar for 2027 not available"


# --- the calendar fallback (kpisheet.validators.policy.workdays) ----------------------------------------

def test_unknown_year_raises_unless_an_estimate_is_asked_for():
    assert known_years()[1] == 2026, "chinesecalendar now knows 2027: revisit the estimate tests"
    with pytest.raises(CalendarRangeError):
        is_workday(D(2027, 1, 4))
    with pytest.raises(CalendarRangeError):
        add_workdays(D(2026, 12, 28), 5)
    assert is_workday(D(2027, 1, 4), estimate=True) is True       # Monday
    assert is_workday(D(2027, 1, 2), estimate=True) is False      # Saturday
    # Dec 29, 30, 31, then Fri Jan 1 2027 (counted: the real holiday is unknown) and Mon Jan 4
    assert add_workdays(D(2026, 12, 28), 5, estimate=True) == D(2027, 1, 4)
    assert workdays_between(D(2026, 12, 28), D(2027, 1, 4), estimate=True) == 5
    # a known year is never estimated: National Day and the make-up Saturday still count right
    assert add_workdays(D(2026, 9, 30), 5, estimate=True) == D(2026, 10, 13)
    assert estimated_years(D(2026, 9, 30), D(2026, 10, 13)) == ()
    assert estimated_years(D(2026, 12, 28), D(2027, 1, 4)) == (2027,)


def test_estimated_deadlines_say_so(rulebook):
    d = appeal_deadlines(D(2026, 12, 28), D(2027, 1, 4), rulebook, estimate=True)
    assert (d.file_by, d.accept_by, d.resolve_by) == (D(2027, 1, 4), D(2027, 1, 7), D(2027, 1, 21))
    assert d.estimated and d.estimated_years == (2027,)
    zh, en = estimate_note(d.estimated_years)
    assert zh.startswith(ESTIMATE_ZH) and "人工核对" in zh and "holidays" in zh
    assert en.startswith(ESTIMATE_EN) and "verify by hand" in en
    exact = appeal_deadlines(D(2026, 9, 30), D(2026, 10, 13), rulebook, estimate=True)
    assert not exact.estimated and estimate_note(exact.estimated_years) == ("", "")
    with pytest.raises(CalendarRangeError):
        appeal_deadlines(D(2026, 12, 28), D(2027, 1, 4), rulebook)


# --- the 申诉 sheet ------------------------------------------------------------------------

PERIOD = "2026-Q3"


@pytest.fixture
def master(tmp_path, rulebook):
    people = [make_employee(rulebook, f"A{i:02d}", f"甲{i}", level=0.7) for i in range(1, 6)]
    return build_master(tmp_path / "master.xlsx", rulebook, {"一组": people}, PERIOD)


def appeal(master, employee_id: str, **values) -> None:
    headers = {"period": "考核期间", "employee_id": "工号", "published": "结果公布日期", "filed": "申诉日期",
               "reason": "申诉理由", "accepted": "受理日期", "resolved": "处理完成日期", "outcome": "处理结果",
               "revised": "改定等级", "handler": "经办人", "notes": "HR备注"}
    row = {"period": PERIOD, "employee_id": employee_id, **values}
    hr_edit(master, L.APPEALS, None, {headers[k]: v for k, v in row.items()})


def appeals_by_id(master, rulebook) -> dict[str, dict]:
    return {r["employee_id"]: r for r in rows(master, rulebook, L.APPEALS)}


HR_KEYS = ("period", "employee_id", "published_date", "filed_date", "reason", "accepted_date", "resolved_date",
           "outcome", "revised_grade", "handler", "hr_notes")


def test_deadlines_across_national_day_and_flags(master, rulebook):
    appeal(master, "A01", published=D(2026, 9, 30), filed=D(2026, 10, 13), reason="客户满意度样本有误")
    appeal(master, "A02", published=D(2026, 9, 30), filed=D(2026, 10, 14), reason="逾期一天")
    appeal(master, "A03", published=D(2026, 9, 30), filed=D(2026, 10, 9), accepted=D(2026, 10, 16),
           reason="受理晚了", handler="李HR")
    hr_before = {pid: {k: r[k] for k in HR_KEYS} for pid, r in appeals_by_id(master, rulebook).items()}

    result = run("appeals", "--master", str(master), "--today", "2026-10-20")
    assert result.exit_code == 0, result.output
    after = appeals_by_id(master, rulebook)
    a01, a02, a03 = after["A01"], after["A02"], after["A03"]
    # published Wed Sep 30: Oct 8, 9, 10 (Sat, make-up), 12, 13
    assert a01["file_by"] == D(2026, 10, 13) and a01["late_filing"] is None
    assert a01["accept_by"] == D(2026, 10, 16)                 # 3 working days after filing
    assert a01["resolve_by"] == D(2026, 10, 30)                # 10 working days after the accept-by date
    assert a01["overdue"] == LATE_ACCEPT                       # Oct 20 and still not accepted
    assert a02["late_filing"] == L.YES
    # filed Fri Oct 9: accept by Oct 10 (Sat, make-up), 12, 13; accepted Oct 16 is late
    assert a03["accept_by"] == D(2026, 10, 13) and a03["overdue"] == LATE_ACCEPT
    assert a03["resolve_by"] == D(2026, 10, 30)                # from the real acceptance, Oct 16
    assert a01["name"] == "甲1" and a01["system_note"] is None
    # HR's cells are exactly as typed
    assert {pid: {k: r[k] for k in HR_KEYS} for pid, r in after.items()} == hr_before
    assert "逾期申诉" in result.output and "A02" in result.output
    log = rows(master, rulebook, L.LOG)
    assert any(e["key"] == f"{PERIOD}/A02" and e["column"] == "逾期申诉" for e in log)

    # a later day moves the resolve clock past its end for an unresolved appeal
    run("appeals", "--master", str(master), "--today", "2026-11-02")
    assert appeals_by_id(master, rulebook)["A01"]["overdue"] == f"{LATE_ACCEPT}；{LATE_RESOLVE}"


def test_publication_date_from_meta_and_missing(master, rulebook):
    appeal(master, "A04", filed=D(2026, 10, 12), reason="未填公布日期")
    run("appeals", "--master", str(master), "--today", "2026-10-12")
    row = appeals_by_id(master, rulebook)["A04"]
    assert row["file_by"] is None and "结果公布日期未知" in row["system_note"]

    result = run("appeals", "--master", str(master), "--period", PERIOD, "--published", "2026-09-30",
                 "--today", "2026-10-12")
    assert result.exit_code == 0, result.output
    data = read_master(master, rulebook)
    assert published_on(data.meta, PERIOD) == D(2026, 9, 30)
    row = appeals_by_id(master, rulebook)["A04"]
    assert row["file_by"] == D(2026, 10, 13) and row["accept_by"] == D(2026, 10, 15) and row["system_note"] is None
    # 申诉 shows the date the clock runs from, and says so in 日志
    assert row["published_date"] == D(2026, 9, 30)
    assert any(e["action"].startswith("结果公布") and e["key"] == PERIOD for e in data.rows(L.LOG))
    assert any(e["key"] == f"{PERIOD}/A04" and e["column"].startswith("结果公布日期") and e["new"] == "2026-09-30"
               for e in data.rows(L.LOG))


def test_a_new_publication_date_moves_the_filled_dates_and_keeps_hrs_own(master, rulebook):
    appeal(master, "A04", filed=D(2026, 10, 12), reason="未填公布日期")
    appeal(master, "A06", published=D(2026, 9, 29), filed=D(2026, 10, 9), reason="HR 自填公布日期")
    assert run("appeals", "--master", str(master), "--period", PERIOD, "--published", "2026-09-30",
               "--today", "2026-10-12").exit_code == 0
    result = run("appeals", "--master", str(master), "--period", PERIOD, "--published", "2026-10-09",
                 "--today", "2026-10-12")
    assert result.exit_code == 0, result.output
    rows_now = appeals_by_id(master, rulebook)
    assert rows_now["A04"]["published_date"] == D(2026, 10, 9)  # followed the period's new date
    assert rows_now["A04"]["file_by"] == D(2026, 10, 15)  # Sat Oct 10 is a make-up working day
    assert rows_now["A06"]["published_date"] == D(2026, 9, 29)  # HR's own date is kept
    again = run("appeals", "--master", str(master), "--today", "2026-10-12")
    assert "无变化" in again.output or "nothing changed" in again.output  # filling is idempotent


def test_revised_grade_is_carried_to_the_final_grade_with_an_audit_row(master, rulebook):
    before = {r["employee_id"]: r for r in rows(master, rulebook)}["A05"]
    assert before["final_grade"] == "B"
    appeal(master, "A05", published=D(2026, 9, 30), filed=D(2026, 10, 12), reason="漏计表彰",
           accepted=D(2026, 10, 14), resolved=D(2026, 10, 27), outcome="申诉成立", revised="a", handler="李HR",
           notes="附件见邮件")
    result = run("appeals", "--master", str(master), "--today", "2026-10-28")
    assert result.exit_code == 0, result.output
    row = {r["employee_id"]: r for r in rows(master, rulebook)}["A05"]
    assert (row["final_grade"], row["coefficient"]) == ("A", rulebook.grade_band("A").coefficient)
    assert row["system_grade"] == "B" and row["calibrated_grade"] is None
    entry = [e for e in rows(master, rulebook, L.LOG) if e["key"] == f"{PERIOD}/A05" and e["column"] == "最终等级"]
    assert len(entry) == 1 and (entry[0]["old"], entry[0]["new"]) == ("B", "A")
    assert "申诉成立" in entry[0]["reason"] and entry[0]["action"].startswith("申诉")
    a05 = appeals_by_id(master, rulebook)["A05"]
    assert (a05["revised_grade"], a05["outcome"], a05["hr_notes"]) == ("a", "申诉成立", "附件见邮件")
    assert a05["overdue"] is None and a05["late_filing"] is None

    # idempotent: nothing to do the second time, not a byte rewritten
    first = digest(master)
    again = run("appeals", "--master", str(master), "--today", "2026-10-28")
    assert again.exit_code == 0 and "无变化" in again.output and digest(master) == first

    # a later calibration keeps the appeal's grade and counts it (an HR decision)
    assert run("calibrate", "--master", str(master), "--today", "2026-10-28").exit_code == 0
    assert {r["employee_id"]: r for r in rows(master, rulebook)}["A05"]["final_grade"] == "A"


def test_unreadable_and_impossible_dates_are_explained(master, rulebook):
    appeal(master, "A01", published=D(2026, 9, 30), filed="十月三日", reason="日期写成中文")
    appeal(master, "A02", published=D(2026, 9, 30), filed=D(2026, 9, 29), reason="早于公布")
    appeal(master, "A09", published=D(2026, 9, 30), filed=D(2026, 10, 8), reason="工号错误", revised="优")
    assert run("appeals", "--master", str(master), "--today", "2026-10-12").exit_code == 0
    after = appeals_by_id(master, rulebook)
    assert "不是日期" in after["A01"]["system_note"] and after["A01"]["filed_date"] == "十月三日"
    assert "早于" in after["A02"]["system_note"] and after["A02"]["file_by"] is None
    assert "总表中没有" in after["A09"]["system_note"] and "不是有效等级" in after["A09"]["system_note"]


def test_q4_appeal_into_2027_is_estimated_and_marked(tmp_path, rulebook):
    master = build_master(tmp_path / "master.xlsx", rulebook,
                          {"一组": [make_employee(rulebook, "A01", "甲1", level=0.7)]}, "2026-Q4")
    hr_edit(master, L.APPEALS, None, {"考核期间": "2026-Q4", "工号": "A01", "结果公布日期": D(2026, 12, 28),
                                      "申诉日期": D(2027, 1, 4), "申诉理由": "年底数据未统计完整"})
    # calibrate refreshes the appeals as well
    result = run("calibrate", "--master", str(master), "--today", "2027-01-05")
    assert result.exit_code == 0, result.output
    row = appeals_by_id(master, rulebook)["A01"]
    assert (row["file_by"], row["accept_by"], row["resolve_by"]) == (D(2027, 1, 4), D(2027, 1, 7), D(2027, 1, 21))
    assert ESTIMATE_ZH in row["system_note"] and ESTIMATE_EN in row["system_note"]
    shown = run("appeals", "--master", str(master), "--today", "2027-01-05")
    assert "估算" in shown.output
