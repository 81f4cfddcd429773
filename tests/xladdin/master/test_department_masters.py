"""One record, several HR desks: a master restricted to some departments (--department), and the decisions typed
in it merged back into the shared record without touching another department's.

Real team workbooks of the example company (each made and checked by its department's rules), a real SQLite
record shared by the masters, the masters edited as HR would (openpyxl), and the CLI for --department.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil

import openpyxl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from kpisheet.xladdin.cli.app import app
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.consolidate import ScopeChoice, consolidate, rebuild_master
from kpisheet.xladdin.master.io import read_master
from kpisheet.xladdin.master.master_edits import MasterHoldsForeign
from kpisheet.xladdin.record import decisions as D, schema as S, words as W
from kpisheet.xladdin.record.store import open_store
from tests.support.company_inbox import PERIOD, company_inbox
from tests.support.master_builders import hr_edit
from tests.support.paths import SAMPLE_COMPANY

T = [dt.datetime(2027, 1, 5, 9, 0) + dt.timedelta(hours=n) for n in range(8)]
SALES, RD = "销售部", "研发中心"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return company_inbox(tmp_path_factory.mktemp("company-inbox"))


@pytest.fixture
def desks(built, tmp_path):
    """The sales desk's master made by consolidating the inbox, the R&D desk's by `master rebuild --department`
    through the CLI, both on one shared record."""
    company, people, inbox = built
    store = str(tmp_path / "shared" / "kpisheet.db")
    (tmp_path / "shared").mkdir()
    sales, rd = tmp_path / "sales" / "master.xlsx", tmp_path / "rd" / "master.xlsx"
    sales.parent.mkdir()
    rd.parent.mkdir()
    result = consolidate([inbox], sales, rulebook=company, roster=people, period=PERIOD, store=store, now=T[0],
                         scope=ScopeChoice(departments=(SALES,)))
    assert result.exit_code == 0, result.to_dict()["rejected"]
    cli = CliRunner().invoke(app, ["master", "rebuild", "--master", str(rd), "--rules", str(SAMPLE_COMPANY),
                                   "--department", "R&D Center", "--store", store], env={"COLUMNS": "200"})
    assert cli.exit_code == 0, cli.output
    return company, store, sales, rd


def summary(master, company) -> dict[str, dict]:
    return {r["employee_id"]: r for r in read_master(master, company.whole).rows(L.SUMMARY) if r["period"] == PERIOD}


def sheet_values(master, sheet: str) -> list[tuple]:
    book = openpyxl.load_workbook(master, read_only=True)
    try:
        return [tuple(row) for row in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()


def other_grade(grade: str) -> str:
    return "C" if grade != "C" else "B"


def test_each_desks_master_shows_only_its_departments(desks):
    company, _store, sales, rd = desks
    for master, department in ((sales, SALES), (rd, RD)):
        data = read_master(master, company.whole)
        assert {r["department"] for r in data.rows(L.SUMMARY)} == {department}
        assert {r["department"] for r in data.rows(L.DETAIL)} == {department}
        assert {r["department"] for r in data.rows(L.SUBMISSIONS)} == {department}
        assert data.meta["scope"].endswith(f"（{department}）")
        for sheet in (L.DISTRIBUTION, L.ANALYSIS):  # derived sheets: read as HR sees them
            header = sheet_values(master, sheet)[0]
            column = next(i for i, v in enumerate(header) if str(v).startswith("部门"))
            shown = {row[column] for row in sheet_values(master, sheet)[1:] if row[column]}
            assert shown == {department}, sheet
    # the two desks' masters together hold every employee of the two departments, once
    everyone = summary(sales, company) | summary(rd, company)
    assert len(everyone) == len(summary(sales, company)) + len(summary(rd, company))


def test_decisions_from_two_restricted_masters_both_reach_the_record_and_a_full_master(desks, tmp_path):
    company, store, sales, rd = desks
    xs = next(iter(summary(sales, company).values()))
    yf = next(iter(summary(rd, company).values()))
    xs_grade, yf_grade = other_grade(xs["final_grade"]), other_grade(yf["final_grade"])
    hr_edit(sales, L.SUMMARY, (PERIOD, xs["employee_id"]),
            {"校准等级": xs_grade, "调整理由": "销售部 HRBP 复核客户回款", "HR备注": "销售部复核"})
    hr_edit(rd, L.SUMMARY, (PERIOD, yf["employee_id"]), {"校准等级": yf_grade, "调整理由": "研发中心 HRBP 复核项目交付"})
    scope = {SALES: ScopeChoice(departments=(SALES,)), RD: ScopeChoice(departments=(RD,))}
    rebuild_master(sales, company.whole, store=store, scope=scope[SALES], now=T[1])
    # the R&D master is now a generation behind the record: its edits are still exactly HR's
    rebuild_master(rd, company.whole, store=store, scope=scope[RD], now=T[2])
    # and the sales desk's next run (its master shows no R&D row) leaves R&D's decision alone
    rebuild_master(sales, company.whole, store=store, scope=scope[SALES], now=T[3])

    assert summary(sales, company)[xs["employee_id"]]["final_grade"] == xs_grade
    assert yf["employee_id"] not in summary(sales, company)
    assert summary(rd, company)[yf["employee_id"]]["final_grade"] == yf_grade

    opened = open_store(store)
    try:
        d = S.decisions
        with opened.reading() as conn:
            made = conn.execute(sa.select(d.c.employee_id, d.c.field, d.c.value, d.c.state)
                                .where(d.c.sheet == W.DECISION_SUMMARY, d.c.source == D.SOURCE_MASTER)
                                .order_by(d.c.id)).all()
    finally:
        opened.dispose()
    assert sorted(made) == sorted([
        (xs["employee_id"], "calibrated_grade", xs_grade, "applied"),
        (xs["employee_id"], "override_reason", "销售部 HRBP 复核客户回款", "applied"),
        (xs["employee_id"], "hr_notes", "销售部复核", "applied"),
        (yf["employee_id"], "calibrated_grade", yf_grade, "applied"),
        (yf["employee_id"], "override_reason", "研发中心 HRBP 复核项目交付", "applied"),
    ])  # each stored once: no desk's later run wrote them again or cleared them

    full = tmp_path / "all" / "master.xlsx"
    full.parent.mkdir()
    rebuild_master(full, company.whole, store=store, now=T[4])
    rows = summary(full, company)
    assert {r["department"] for r in rows.values()} == {"售后服务部", SALES, RD}
    assert (rows[xs["employee_id"]]["calibrated_grade"], rows[xs["employee_id"]]["final_grade"],
            rows[xs["employee_id"]]["hr_notes"]) == (xs_grade, xs_grade, "销售部复核")
    assert (rows[yf["employee_id"]]["calibrated_grade"], rows[yf["employee_id"]]["final_grade"]) == (yf_grade,
                                                                                                      yf_grade)


def test_another_departments_row_typed_into_a_restricted_master_is_refused(desks):
    company, store, sales, rd = desks
    yf = next(iter(summary(rd, company).values()))
    hr_edit(sales, L.SUMMARY, None, {"考核期间": PERIOD, "工号": yf["employee_id"], "姓名": yf["name"],
                                     "部门": RD, "团队": yf["team"], "校准等级": "S", "调整理由": "不该在这里"})
    before = hashlib.sha256(sales.read_bytes()).hexdigest()
    with pytest.raises(MasterHoldsForeign) as refused:
        rebuild_master(sales, company.whole, store=store, scope=ScopeChoice(departments=(SALES,)), now=T[1])
    assert yf["employee_id"] in refused.value.message_en
    assert hashlib.sha256(sales.read_bytes()).hexdigest() == before
    full = sales.parent / "full.xlsx"
    rebuild_master(full, company.whole, store=store, now=T[2])
    assert summary(full, company)[yf["employee_id"]].get("calibrated_grade") is None


def test_an_appeal_typed_for_another_departments_employee_is_refused(desks):
    company, store, sales, rd = desks
    yf = next(iter(summary(rd, company).values()))
    hr_edit(sales, L.APPEALS, None, {"考核期间": PERIOD, "工号": yf["employee_id"], "申诉日期": dt.date(2027, 1, 6),
                                     "申诉理由": "不该在销售部的表里"})
    before = hashlib.sha256(sales.read_bytes()).hexdigest()
    with pytest.raises(MasterHoldsForeign) as refused:
        rebuild_master(sales, company.whole, store=store, scope=ScopeChoice(departments=(SALES,)), now=T[1])
    assert f"{yf['employee_id']}) is an employee of {RD}" in refused.value.message_en
    assert hashlib.sha256(sales.read_bytes()).hexdigest() == before
    # typed in the R&D desk's master, the same appeal is R&D's to record
    hr_edit(rd, L.APPEALS, None, {"考核期间": PERIOD, "工号": yf["employee_id"], "申诉日期": dt.date(2027, 1, 6),
                                  "申诉理由": "请求复核"})
    rebuild_master(rd, company.whole, store=store, scope=ScopeChoice(departments=(RD,)), now=T[2])
    assert [a["employee_id"] for a in read_master(rd, company.whole).rows(L.APPEALS)] == [yf["employee_id"]]


def test_an_unknown_department_is_one_line_and_exit_2(desks, tmp_path):
    _company, store, _sales, _rd = desks
    target = tmp_path / "x" / "master.xlsx"
    target.parent.mkdir()
    result = CliRunner().invoke(app, ["master", "rebuild", "--master", str(target), "--rules", str(SAMPLE_COMPANY),
                                      "--department", "财务部", "--store", store], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "财务部" in result.output and "售后服务部、销售部、研发中心" in result.output
    assert "Traceback" not in result.output and not target.exists()


def test_a_restricted_master_rebuilt_whole_shows_every_department(desks, tmp_path):
    company, store, sales, _rd = desks
    copy = tmp_path / "copy" / "master.xlsx"
    copy.parent.mkdir()
    shutil.copy2(sales, copy)
    rebuild_master(copy, company.whole, store=store, now=T[1])  # no --department: every department again
    assert {r["department"] for r in summary(copy, company).values()} == {"售后服务部", SALES, RD}


def test_calibrate_takes_the_companys_rulebooks_and_pools_each_department_by_its_own(desks, tmp_path):
    company, store, _sales, _rd = desks
    full = tmp_path / "all" / "master.xlsx"
    full.parent.mkdir()
    rebuild_master(full, company.whole, store=store, now=T[1])
    result = CliRunner().invoke(app, ["calibrate", "--master", str(full), "--rules", str(SAMPLE_COMPANY),
                                      "--period", PERIOD, "--store", store, "--allow-incomplete"],
                                env={"COLUMNS": "200"})
    assert result.exit_code in (0, 1), result.output  # 1: a quota no calibration can reach, named
    rows = summary(full, company)
    by_department: dict[str, list[dict]] = {}
    for row in rows.values():
        by_department.setdefault(row["department"], []).append(row)
    # each department is one pool, its S share within its own quota (10% of those counted, at least one)
    for department, people in by_department.items():
        counted = [r for r in people if r["in_distribution"] == L.YES]
        quota = max(1, int(company.require(department).distribution.s_max * len(counted)))
        assert sum(1 for r in counted if r["final_grade"] == "S") <= quota, department
    assert any(r.get("calibrated_grade") for r in rows.values())
