"""`kpisheet rollup`: annual scores computed by hand, PIP and consecutive-D flags (flags only)."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.support.master_builders import build_master, digest, hr_edit, rows, run
from tests.support.master_fakes import make_employee

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.layout import MasterData, clean_row, empty_master
from kpisheet.xladdin.master.rollup import rollup_master

NOW = dt.datetime(2027, 1, 20, 10, 0, 0)


def summary_row(rulebook, period: str, employee_id: str, total: float, grade: str, **extra) -> dict:
    return clean_row(L.summary_columns(rulebook), {
        "period": period, "employee_id": employee_id, "name": f"员工{employee_id}", "department": "售后服务部",
        "team": "一组", "total": total, "system_grade": grade, "final_grade": grade, **extra})


def master_of(rulebook, *rows_: tuple) -> MasterData:
    """A master whose 总表 holds one row per (period, employee_id, total, grade[, {other columns}])."""
    data = empty_master()
    data.sheets[L.SUMMARY] = [summary_row(rulebook, *row[:4], **(row[4] if len(row) > 4 else {})) for row in rows_]
    return data


def annual(data: MasterData, employee_id: str, year: str = "2026") -> dict:
    return next(r for r in data.rows(L.ANNUAL) if r["employee_id"] == employee_id and r["year"] == year)


def with_weights(rulebook, **weights):
    periods = rulebook.periods.model_copy(update={"year_weights": weights})
    return rulebook.model_copy(update={"periods": periods})


@pytest.fixture
def mixed_periods(rulebook):
    """E1: Jan-Mar months (80, 90, 70), a Q2 row (85.5), nothing in Q3, Oct and Nov months (60, 75)
    and a Q4 row (99) that the months override. E2: an H1 row (88) and a Q3 row (70)."""
    return master_of(
        rulebook,
        ("2026-01", "E1", 80, "A"), ("2026-02", "E1", 90, "S"), ("2026-03", "E1", 70, "B"),
        ("2026-Q2", "E1", 85.5, "A"), ("2026-10", "E1", 60, "C"), ("2026-11", "E1", 75, "B"),
        ("2026-Q4", "E1", 99, "S"),
        ("2026-H1", "E2", 88, "A"), ("2026-Q3", "E2", 70, "B"),
    )


def test_annual_scores_by_hand(mixed_periods, rulebook):
    out = rollup_master(mixed_periods, rulebook, 2026, now=NOW)
    e1 = annual(out.data, "E1")
    # Q1 = (80 + 90 + 70) / 3; Q4 = (60 + 75) / 2 from the months, not the Q4 row's 99
    assert (e1["score_Q1"], e1["score_Q2"], e1["score_Q3"], e1["score_Q4"]) == (80.0, 85.5, None, 67.5)
    # equal weights over the three quarters present: (80 + 85.5 + 67.5) / 3 = 77.666... -> 77.67
    assert e1["annual_total"] == 77.67 and e1["annual_grade"] == "B"
    e2 = annual(out.data, "E2")
    # the half-year row stands for Q1 and Q2: (88 + 88 + 70) / 3 = 82
    assert (e2["score_Q1"], e2["score_Q2"], e2["score_Q3"], e2["annual_total"]) == (88.0, 88.0, 70.0, 82.0)
    assert e2["annual_grade"] == "A"
    # E1 had a C in October: PIP listed; no D, no consecutive flag
    assert "2026-10 C" in e1["pip"] and e1["d_count"] == 0 and e1["consecutive_d"] is None
    assert e1["updated_at"] == NOW


def test_year_weights_come_from_the_rulebook(mixed_periods, rulebook):
    weighted = with_weights(rulebook, Q1=10, Q2=20, Q3=30, Q4=40)
    e1 = annual(rollup_master(mixed_periods, weighted, 2026, now=NOW).data, "E1")
    # (10 x 80 + 20 x 85.5 + 40 x 67.5) / (10 + 20 + 40) = 5210 / 70 = 74.428... -> 74.43
    assert e1["annual_total"] == 74.43


@pytest.fixture
def d_history(rulebook):
    return master_of(
        rulebook,
        # E3: Q2 and Q3 D in a row
        ("2026-Q1", "E3", 75, "B"), ("2026-Q2", "E3", 50, "D"), ("2026-Q3", "E3", 55, "D"), ("2026-Q4", "E3", 72, "B"),
        # E4: D in Q1 and Q3, not adjacent
        ("2026-Q1", "E4", 50, "D"), ("2026-Q2", "E4", 75, "B"), ("2026-Q3", "E4", 55, "D"),
        # E5: D in 2025-Q4 and 2026-Q1, across the year end
        ("2025-Q4", "E5", 50, "D"), ("2026-Q1", "E5", 58, "D"),
        # E6: monthly, three D months in a row
        ("2026-05", "E6", 50, "D"), ("2026-06", "E6", 52, "D"), ("2026-07", "E6", 54, "D"),
        # E7: system D but calibrated/appealed to C in Q3: the final grade is what counts
        ("2026-Q2", "E7", 50, "D"),
        ("2026-Q3", "E7", 55, "D", {"final_grade": "C", "calibrated_grade": "C", "override_reason": "x"}),
    )


def flags(data: MasterData) -> dict[tuple, str | None]:
    return {(r["period"], r["employee_id"]): r["consecutive_d"] for r in data.rows(L.SUMMARY)}


def test_consecutive_d_is_flagged_for_hr_review_only(d_history, rulebook):
    out = rollup_master(d_history, rulebook, 2026, now=NOW)
    flagged = {key for key, text in flags(out.data).items() if text}
    assert flagged == {("2026-Q3", "E3"), ("2026-Q1", "E5"), ("2026-06", "E6"), ("2026-07", "E6")}
    text = flags(out.data)[("2026-Q3", "E3")]
    assert "劳动合同法" in text and "art. 40" in text and "不作任何决定" in text
    assert flags(out.data)[("2026-07", "E6")].startswith("连续3期D")
    e3, e4 = annual(out.data, "E3"), annual(out.data, "E4")
    assert "2026-Q3" in e3["consecutive_d"] and e3["d_count"] == 2
    assert e4["consecutive_d"] is None and e4["d_count"] == 2
    assert "2026-Q2 D" in e3["pip"] and "2026-Q3 D" in e3["pip"]
    # nothing but flags: grades are untouched
    before = {(r["period"], r["employee_id"]): r["final_grade"] for r in d_history.rows(L.SUMMARY)}
    assert {(r["period"], r["employee_id"]): r["final_grade"] for r in out.data.rows(L.SUMMARY)} == before
    logged = [r for r in out.data.rows(L.LOG) if r["column"] == "连续D"]
    assert {r["key"] for r in logged} == {"2026-Q3/E3", "2026-Q1/E5", "2026-06/E6", "2026-07/E6"}


def test_review_threshold_comes_from_the_rulebook(d_history, rulebook):
    three = rulebook.model_copy(update={"outcomes": rulebook.outcomes.model_copy(update={"consecutive_d_review": 3})})
    out = rollup_master(d_history, three, 2026, now=NOW)
    assert {key for key, text in flags(out.data).items() if text} == {("2026-07", "E6")}


def test_second_run_is_idempotent_and_a_cleared_flag_stays_cleared(d_history, rulebook):
    first = rollup_master(d_history, rulebook, 2026, now=NOW)
    second = rollup_master(first.data, rulebook, 2026, now=NOW + dt.timedelta(days=1))
    assert not second.changed and second.log_rows == []
    for sheet in (L.SUMMARY, L.ANNUAL, L.LOG):
        assert second.data.rows(sheet) == first.data.rows(sheet)
    # HR reviewed E3 and cleared the flag: a later roll-up does not put it back
    next(r for r in first.data.rows(L.SUMMARY) if (r["period"], r["employee_id"]) == ("2026-Q3", "E3"))[
        "consecutive_d"] = None
    third = rollup_master(first.data, rulebook, 2026, now=NOW + dt.timedelta(days=2))
    assert flags(third.data)[("2026-Q3", "E3")] is None
    assert not [r for r in third.log_rows if r["column"] == "连续D"]


def test_hr_notes_and_other_years_are_kept(mixed_periods, rulebook):
    first = rollup_master(mixed_periods, rulebook, 2026, now=NOW)
    annual(first.data, "E1")["hr_notes"] = "已面谈"
    first.data.rows(L.ANNUAL).append(clean_row(L.annual_columns(rulebook), {"year": "2025", "employee_id": "E1",
                                                                            "annual_total": 66.0}))
    again = rollup_master(first.data, rulebook, 2026, now=NOW)
    assert annual(again.data, "E1")["hr_notes"] == "已面谈"
    assert annual(again.data, "E1", "2025")["annual_total"] == 66.0


def test_cli_rollup_on_a_master(tmp_path, rulebook):
    master = tmp_path / "master.xlsx"
    team = lambda weak: [make_employee(rulebook, "W01", "王弱", level=weak),  # noqa: E731
                         make_employee(rulebook, "G01", "高强", level=1.0)]
    build_master(master, rulebook, {"一组": team(0.4)}, "2026-Q2")
    build_master(master, rulebook, {"一组": team(0.45)}, "2026-Q3")
    summary = {(r["period"], r["employee_id"]): r for r in rows(master, rulebook)}
    assert summary[("2026-Q2", "W01")]["final_grade"] == summary[("2026-Q3", "W01")]["final_grade"] == "D"

    # Q1 and Q4 hold nothing: the roll-up names them and stops unless HR goes on
    refused = run("rollup", "--master", str(master), "--year", "2026")
    assert refused.exit_code == 1 and "2026-Q1" in refused.output and "2026-Q4" in refused.output
    result = run("rollup", "--master", str(master), "--year", "2026", "--allow-incomplete")
    assert result.exit_code == 0, result.output
    assert "no decision is automated" in result.output and "王弱" in result.output
    year = {r["employee_id"]: r for r in rows(master, rulebook, L.ANNUAL)}
    q2, q3 = summary[("2026-Q2", "W01")]["total"], summary[("2026-Q3", "W01")]["total"]
    assert year["W01"]["annual_total"] == round((q2 + q3) / 2 + 1e-9, 2)
    assert year["W01"]["consecutive_d"] and year["G01"]["consecutive_d"] is None
    after = {(r["period"], r["employee_id"]): r for r in rows(master, rulebook)}
    assert after[("2026-Q3", "W01")]["consecutive_d"] and after[("2026-Q2", "W01")]["consecutive_d"] is None

    before = digest(master)
    again = run("rollup", "--master", str(master), "--year", "2026", "--allow-incomplete")
    assert again.exit_code == 0 and "无变化" in again.output and digest(master) == before

    # HR clears the flag after the review (a kept column): the next roll-up leaves it cleared
    hr_edit(master, L.SUMMARY, ("2026-Q3", "W01"), {"连续D": None})
    assert run("rollup", "--master", str(master), "--year", "2026", "--allow-incomplete").exit_code == 0
    assert {(r["period"], r["employee_id"]): r for r in rows(master, rulebook)}[("2026-Q3", "W01")][
        "consecutive_d"] is None
