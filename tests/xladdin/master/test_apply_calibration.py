"""`kpisheet calibrate` on a real master built from synthetic submissions: quotas, HR decisions,
eligibility, the audit trail and idempotency."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from tests.support.master_builders import T0, build_master, by_id, digest, hr_edit, person, rows, run
from tests.support.master_fakes import DEPARTMENT, make_employee

from kpisheet.validators.policy.calibration import quota
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.apply_calibration import SYSTEM_TAG, calibrate_master
from kpisheet.xladdin.master.io import read_master

# --- fixtures ---------------------------------------------------------------------

PERIOD = "2026-Q3"


@pytest.fixture
def department(rulebook):
    """一组: 12 people, all scoring S; 二组: a team of 4 (small), 3 of them S; 三组: 6 people mixed.
    P01 of 三组 is on probation, P02 joined a month before the quarter ended."""
    big = [make_employee(rulebook, f"A{i:02d}", f"甲{i}", level=1.0 + 0.02 * i) for i in range(12)]
    small = [make_employee(rulebook, f"B{i:02d}", f"乙{i}", level=lvl) for i, lvl in enumerate((1.2, 1.1, 1.05, 0.9))]
    mixed = [make_employee(rulebook, f"C{i:02d}", f"丙{i}", level=lvl)
             for i, lvl in enumerate((0.9, 0.8, 0.7, 0.5))]
    mixed += [make_employee(rulebook, "P01", "试用甲", level=1.2), make_employee(rulebook, "P02", "新人乙", level=1.2)]
    roster = [person(e.employee_id, "一组") for e in big] + [person(e.employee_id, "二组") for e in small]
    roster += [person(e.employee_id, "三组") for e in mixed[:4]]
    roster += [person("P01", "三组", status="试用"), person("P02", "三组", post_start=dt.date(2026, 9, 1))]
    return {"一组": big, "二组": small, "三组": mixed}, roster


@pytest.fixture
def master(tmp_path, rulebook, department):
    teams, roster = department
    return build_master(tmp_path / "master.xlsx", rulebook, teams, PERIOD, roster=roster)


def grade_counts(people: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in people:
        out[row["final_grade"]] = out.get(row["final_grade"], 0) + 1
    return out


def assert_quotas(people: list[dict], rulebook, *, small: bool = False) -> None:
    counts = grade_counts(people)
    n = len(people)
    d = rulebook.distribution
    if small:
        assert counts.get("S", 0) <= d.small_team_s_max
    else:
        assert counts.get("S", 0) <= quota(d.s_max, n), counts
        assert counts.get("S", 0) + counts.get("A", 0) <= quota(d.sa_max, n), counts


# --- tests --------------------------------------------------------------------------

def test_quotas_hold_after_calibrate_and_every_change_is_logged(master, rulebook):
    before = by_id(master, rulebook, PERIOD)
    assert grade_counts(list(before.values()))["S"] >= 15  # the fixture really breaks the quotas
    log_before = len(rows(master, rulebook, L.LOG))

    result = run("calibrate", "--master", str(master))
    assert result.exit_code == 0, result.output
    after = by_id(master, rulebook, PERIOD)
    eligible = [r for pid, r in after.items() if pid not in ("P01", "P02")]
    assert len(eligible) == 20
    assert_quotas(eligible, rulebook)                                              # department pool
    assert_quotas([r for r in eligible if r["team"] == "一组"], rulebook)           # team of >= 10
    assert_quotas([r for r in eligible if r["team"] == "二组"], rulebook, small=True)

    # the excluded keep their system grade and are named in the output
    for pid in ("P01", "P02"):
        assert after[pid]["final_grade"] == after[pid]["system_grade"] == "S"
        assert after[pid]["calibrated_grade"] is None
        assert pid in result.output
    assert "试用" in result.output and "在岗不足" in result.output

    # every moved grade: 校准等级 + kpisheet's reason, final grade and coefficient follow, a 日志 row each
    moved = {pid: r for pid, r in after.items() if r["calibrated_grade"]}
    assert moved
    log = rows(master, rulebook, L.LOG)[log_before:]
    for pid, row in moved.items():
        assert row["override_reason"].startswith(SYSTEM_TAG)
        assert row["final_grade"] == row["calibrated_grade"] != row["system_grade"]
        assert row["coefficient"] == rulebook.grade_band(row["final_grade"]).coefficient
        entries = [e for e in log if e["key"] == f"{PERIOD}/{pid}" and e["column"] == "校准等级"]
        assert len(entries) == 1 and entries[0]["new"] == row["calibrated_grade"]
        assert "名额" in entries[0]["reason"]
    # the output's change table and quota table
    assert "校准等级变更" in result.output and "分布与配额" in result.output


def test_second_run_changes_nothing_and_adds_no_log_row(master, rulebook):
    assert run("calibrate", "--master", str(master)).exit_code == 0
    first_bytes, first_log = digest(master), len(rows(master, rulebook, L.LOG))
    again = run("calibrate", "--master", str(master))
    assert again.exit_code == 0
    assert "无变化" in again.output
    assert digest(master) == first_bytes
    assert len(rows(master, rulebook, L.LOG)) == first_log


def test_hr_decisions_stand_and_count_against_the_quota(master, rulebook):
    # HR keeps A00 (the lowest S of 一组) at S with a reason, and types a grade without a reason for A01
    hr_edit(master, L.SUMMARY, (PERIOD, "A00"), {"校准等级": "S", "调整理由": "重大项目攻关，总经理批准"})
    hr_edit(master, L.SUMMARY, (PERIOD, "A01"), {"校准等级": "A"})
    result = run("calibrate", "--master", str(master))
    assert result.exit_code == 1, result.output           # a refused override needs HR's attention
    assert "A01" in result.output and "理由" in result.output

    after = by_id(master, rulebook, PERIOD)
    assert (after["A00"]["calibrated_grade"], after["A00"]["override_reason"]) == ("S", "重大项目攻关，总经理批准")
    assert after["A00"]["final_grade"] == "S"
    assert (after["A01"]["calibrated_grade"], after["A01"]["override_reason"]) == ("A", None)  # untouched

    # A01's grade without a reason is pending: its final grade stays the system grade until HR resolves it
    assert after["A01"]["final_grade"] == after["A01"]["system_grade"] and after["A01"]["review"].startswith("待定")
    # HR's S took 一组's only S place: the best system S (A11) is moved down
    team = [r for r in after.values() if r["team"] == "一组" and r["employee_id"] != "A01"]
    assert sum(r["final_grade"] == "S" for r in team) == quota(rulebook.distribution.s_max, 12) == 1
    assert after["A11"]["calibrated_grade"] != "S"
    eligible = [r for pid, r in after.items() if pid not in ("P01", "P02", "A01")]
    assert sum(r["final_grade"] == "S" for r in eligible) <= quota(rulebook.distribution.s_max, 20)
    assert "HR 决定" in result.output


def test_kpisheet_calibration_follows_new_scores_but_never_touches_hr(tmp_path, rulebook):
    """A late, corrected file lowers 一组's scores: kpisheet's own demotions are redone, HR's stays."""
    master = tmp_path / "master.xlsx"
    high = [make_employee(rulebook, f"A{i:02d}", f"甲{i}", level=1.0 + 0.02 * i) for i in range(10)]
    build_master(master, rulebook, {"一组": high}, PERIOD)
    assert run("calibrate", "--master", str(master)).exit_code == 0
    hr_edit(master, L.SUMMARY, (PERIOD, "A05"), {"校准等级": "B", "调整理由": "客户投诉核实"})
    assert sum(r["calibrated_grade"] is not None for r in by_id(master, rulebook, PERIOD).values()) == 9

    # the corrected file: everyone but A09 and A08 drops to B
    corrected = [make_employee(rulebook, f"A{i:02d}", f"甲{i}", level={9: 1.2, 8: 1.15}.get(i, 0.7))
                 for i in range(10)]
    build_master(master, rulebook, {"一组": corrected}, PERIOD, now=T0 + dt.timedelta(days=1))
    result = run("calibrate", "--master", str(master))
    assert result.exit_code == 0, result.output
    after = by_id(master, rulebook, PERIOD)
    assert (after["A05"]["calibrated_grade"], after["A05"]["override_reason"]) == ("B", "客户投诉核实")
    # A09 keeps the one S, A08 is moved to A (S+A quota 3 has room), the B's need no calibration any more
    assert after["A09"]["final_grade"] == "S" and after["A09"]["calibrated_grade"] is None
    assert after["A08"]["calibrated_grade"] == "A"
    cleared = [pid for pid, r in after.items() if r["system_grade"] == "B" and pid != "A05"]
    assert cleared and all(after[pid]["calibrated_grade"] is None for pid in cleared)
    log = rows(master, rulebook, L.LOG)
    assert any(e["key"] == f"{PERIOD}/{cleared[0]}" and not e["new"] and "恢复系统等级" in e["reason"] for e in log)


def test_department_and_period_filters(tmp_path, rulebook):
    master = tmp_path / "master.xlsx"
    people = [make_employee(rulebook, f"A{i:02d}", f"甲{i}", level=1.1) for i in range(10)]
    build_master(master, rulebook, {"一组": people}, PERIOD)
    build_master(master, rulebook, {"一组": people}, "2026-Q2")
    assert run("calibrate", "--master", str(master), "--period", "2026年第2季度").exit_code == 0
    assert all(r["calibrated_grade"] is None for r in by_id(master, rulebook, PERIOD).values())
    assert any(r["calibrated_grade"] for r in by_id(master, rulebook, "2026-Q2").values())
    other = run("calibrate", "--master", str(master), "--department", "财务部")
    assert other.exit_code == 0 and "没有符合条件" in other.output
    assert all(r["calibrated_grade"] is None for r in by_id(master, rulebook, PERIOD).values())


def test_in_memory_core_matches_the_command(master, rulebook):
    """calibrate_master is what the command runs: same grades from the same master."""
    data = read_master(master, rulebook)
    outcome = calibrate_master(data, rulebook, now=T0)
    assert run("calibrate", "--master", str(master)).exit_code == 0
    on_disk = by_id(master, rulebook, PERIOD)
    assert {r["employee_id"]: r["final_grade"] for r in outcome.data.rows(L.SUMMARY)} == \
        {pid: r["final_grade"] for pid, r in on_disk.items()}
    assert len(outcome.changes) == sum(1 for r in on_disk.values() if r["calibrated_grade"])


@pytest.mark.parametrize(("args", "says"), [
    (("--master", "nope.xlsx"), "找不到汇总表"),
    (("--master", "{master}", "--period", "2026-Q9"), "--period"),
    (("--master", "{master}", "--roster", "missing.xlsx"), "找不到花名册"),
])
def test_usage_errors_exit_2_without_traceback(master, args, says):
    result = run("calibrate", *(a.format(master=master) for a in args))
    assert result.exit_code == 2
    assert says in result.output and "Traceback" not in result.output


def test_open_master_is_refused_and_untouched(master):
    before = digest(master)
    (master.parent / f"~${master.name}").write_text("")
    result = run("calibrate", "--master", str(master))
    assert result.exit_code == 2 and "打开" in result.output
    assert digest(master) == before


def test_roster_file_decides_eligibility(tmp_path, rulebook):
    """The master was built without a roster; --roster says A09 (the best S) is on long leave."""
    from kpisheet.validators.roster import ROSTER_COLUMNS

    master = tmp_path / "master.xlsx"
    people = [make_employee(rulebook, f"A{i:02d}", f"甲{i}", level=1.0 + 0.02 * i) for i in range(10)]
    build_master(master, rulebook, {"一组": people}, PERIOD)
    roster = tmp_path / "roster.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "花名册"
    ws.append(list(ROSTER_COLUMNS))
    ws.append(["M001", "周经理", DEPARTMENT, "一组", "售后工程师", None, dt.date(2018, 1, 1), None, "正式"])
    for e in people:
        ws.append([e.employee_id, e.name, DEPARTMENT, "一组", "售后工程师", "M001", dt.date(2020, 1, 1), None,
                   "长假" if e.employee_id == "A09" else "正式"])
    book.save(roster)

    result = run("calibrate", "--master", str(master), "--roster", str(roster))
    assert result.exit_code == 0, result.output
    after = by_id(master, rulebook, PERIOD)
    assert after["A09"]["final_grade"] == "S" and after["A09"]["calibrated_grade"] is None
    assert "长假" in result.output
    # nine in the pool: S quota floor(0.9) = 0, S+A floor(2.7) = 2
    pool = [r for pid, r in after.items() if pid != "A09"]
    assert sum(r["final_grade"] == "S" for r in pool) == 0
    assert sum(r["final_grade"] in ("S", "A") for r in pool) == 2
