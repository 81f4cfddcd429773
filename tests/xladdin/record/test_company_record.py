"""The company's consolidation on SQLite and on a real PostgreSQL server gives the same master, cell for cell.

Real team workbooks of the example company's three departments (each validated by its own department's
rules), one consolidation, an HR decision typed into the master, calibration by each department's rules,
and an HR business partner's master restricted to one department, run once with an SQLite record and once
with a fresh database on a real PostgreSQL server (tests/support/postgres.py), at the same moments.
Every cell of every sheet must be equal, hidden _meta included, except the two cells that name the
record itself: _meta's store_id (each record's own identity) and view_id (each master file's own id).
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.apply_calibration import calibrate_master
from kpisheet.xladdin.master.consolidate import ScopeChoice, consolidate, rebuild_master, update_master
from kpisheet.xladdin.master.io import read_master
from tests.support.company_inbox import PERIOD, company_inbox
from tests.support.master_builders import hr_edit

T = [dt.datetime(2027, 1, 5, 9, 0) + dt.timedelta(hours=n) for n in range(6)]
# the cells that name the record and the master file, not their content: allowed to differ
OWN_IDENTITY = ("store_id", "view_id")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return company_inbox(tmp_path_factory.mktemp("company-inbox"))


def every_cell(path) -> dict[str, list[tuple]]:
    """Every cell value of every sheet, hidden ones included; _meta without the record's own identity."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        out = {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    finally:
        book.close()
    out[L.META] = [row for row in out[L.META] if row and row[0] not in OWN_IDENTITY]
    return out


def run_cycle(folder, store: str, company, people, inbox) -> dict[str, dict]:
    """Consolidate, type a decision, calibrate, and make the sales desk's master: each master's cells."""
    folder.mkdir()
    master, sales = folder / "master.xlsx", folder / "sales.xlsx"
    result = consolidate([inbox], master, rulebook=company, roster=people, period=PERIOD, store=store, now=T[0])
    assert result.exit_code == 0, result.to_dict()["rejected"]
    first = next(r for r in read_master(master, company.whole).rows(L.SUMMARY) if r["department"] == "研发中心")
    hr_edit(master, L.SUMMARY, (PERIOD, first["employee_id"]), {"校准等级": "A", "调整理由": "项目交付提前，复核上调"})
    by_id = {p.employee_id: p for p in people}
    update_master(master, company.whole, lambda data: calibrate_master(
        data, company.whole, now=T[1], roster=by_id, period=PERIOD, user="hr"), now=T[1], store=store)
    rebuild_master(sales, company.whole, store=store, scope=ScopeChoice(departments=("销售部",)), now=T[2])
    return {"master": every_cell(master), "sales": every_cell(sales)}


def test_sqlite_and_postgresql_give_identical_company_masters(built, pg_admin_url, tmp_path):
    from tests.support.postgres import fresh_database

    company, people, inbox = built
    sqlite = run_cycle(tmp_path / "sqlite", str(tmp_path / "kpisheet.db"), company, people, inbox)
    postgres = run_cycle(tmp_path / "postgresql", fresh_database(pg_admin_url), company, people, inbox)
    for name in ("master", "sales"):
        assert list(sqlite[name]) == list(postgres[name]), name  # the same sheets in the same order
        for sheet, rows in sqlite[name].items():
            assert rows == postgres[name][sheet], f"{name}: {sheet}"
    # what was compared is the company's whole cycle, not an empty shell
    summary = sqlite["master"][L.SUMMARY]
    departments = {row[3] for row in summary[1:]}
    assert departments == {"售后服务部", "销售部", "研发中心"}
    assert len(sqlite["master"][L.DETAIL]) > 300 and len(sqlite["master"][L.DISTRIBUTION]) > 5
    assert {row[3] for row in sqlite["sales"][L.SUMMARY][1:]} == {"销售部"}
    meta = dict(row[:2] for row in sqlite["master"][L.META])
    assert meta["written_at"] == T[1].strftime("%Y-%m-%d %H:%M:%S")
