"""One master across a company's departments: each department calibrated and marked by its own rules."""

from __future__ import annotations

import datetime as dt

import pytest

from kpisheet.validators.rulebook.company_load import load_company
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.apply_calibration import calibrate_master
from kpisheet.xladdin.master.views import distribution_rows
from tests.support.paths import SAMPLE_COMPANY

PERIOD = "2026-Q4"
NOW = dt.datetime(2027, 1, 10, 9, 0)
MOVED = dt.date(2026, 10, 16)  # 2.5 months in post at the period end: the company's 2 months, not R&D's 3


@pytest.fixture(scope="module")
def company():
    return load_company(SAMPLE_COMPANY)


def _row(department: str, team: str, n: int, total: float, grade: str, post_start=dt.date(2020, 1, 1)) -> dict:
    return {"period": PERIOD, "department": department, "team": team, "employee_id": f"{department[:1]}{n:03d}",
            "name": f"员工{n}", "total": total, "system_grade": grade, "final_grade": grade, "status": "正式",
            "post_start": post_start}


def _master(rows: list[dict]) -> L.MasterData:
    data = L.empty_master()
    data.sheets[L.SUMMARY] = rows
    return data


def _department(department: str, team: str) -> list[dict]:
    """Twelve people of one team, four graded S (over the 10% cap), one of them moved post 2.5 months ago."""
    rows = [_row(department, team, n, 95.0 - n, "S") for n in range(4)]
    rows += [_row(department, team, n, 75.0 - n / 10, "B") for n in range(4, 12)]
    rows[0]["post_start"] = MOVED
    return rows


def test_each_department_is_calibrated_by_its_own_months_in_post(company):
    data = _master(_department("研发中心", "平台研发组") + _department("销售部", "华东大区"))
    outcome = calibrate_master(data, company.whole, now=NOW)
    marks = {(r["department"], r["employee_id"]): r for r in outcome.data.rows(L.SUMMARY)}
    moved_rd, moved_sales = marks[("研发中心", "研000")], marks[("销售部", "销000")]
    assert moved_rd["in_distribution"] == L.NO and "3" in moved_rd["excluded_why"]
    assert moved_sales["in_distribution"] == L.YES
    by_department = {d.department: d.result for d in outcome.departments}
    # R&D: the moved person keeps S outside the count; 11 counted, 1 S allowed: two of the other three go down
    # sales: 12 counted, 1 S allowed: three of four go down
    demoted = {dept: sum(1 for c in result.changes if c.rule != "override") for dept, result in by_department.items()}
    assert demoted["销售部"] > demoted["研发中心"]


def test_with_one_rulebook_everyone_has_the_same_months(rulebook):
    data = _master(_department("研发中心", "平台研发组"))
    outcome = calibrate_master(data, rulebook, now=NOW)
    moved = next(r for r in outcome.data.rows(L.SUMMARY) if r["employee_id"] == "研000")
    assert moved["in_distribution"] == L.YES  # two months is the built-in rule


def test_distribution_sheet_counts_by_each_department_rules(company):
    rows = _department("研发中心", "平台研发组") + _department("销售部", "华东大区")
    counted = {(r["department"], r["level"]): r["eligible"] for r in distribution_rows(rows, company.whole)}
    assert counted[("研发中心", L.LEVEL_DEPARTMENT)] == 11 and counted[("销售部", L.LEVEL_DEPARTMENT)] == 12
