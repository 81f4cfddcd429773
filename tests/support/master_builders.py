"""Builders for the HR-command tests: a master built from synthetic submissions, HR's edits, reading it back.

A master is made by the real consolidation from FileReports of
:mod:`tests.support.master_fakes`; HR's edits are typed into it with openpyxl
as a person would in Excel; ``run`` drives the real CLI. No tests live here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from kpisheet.validators.roster import Employee
from kpisheet.xladdin.cli.app import app
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.consolidate import merge_into_master
from kpisheet.xladdin.master.io import read_master
from tests.support.master_fakes import DEPARTMENT, make_report

T0 = dt.datetime(2026, 10, 9, 9, 0, 0)


def build_master(master: Path, rulebook, teams: dict[str, list], period: str, *, roster=None,
                 now: dt.datetime = T0) -> Path:
    """Consolidate one synthetic submission per team into ``master`` (created or updated)."""
    reports = [make_report(master.parent / "inbox" / f"{period}-{team}.xlsx", people, team=team, period=period)
               for team, people in teams.items()]
    merge_into_master(master, reports, rulebook=rulebook, roster=roster, now=now)
    return master


def header_index(ws, zh: str) -> int:
    """1-based column of the header whose Chinese line is ``zh``."""
    for cell in ws[1]:
        if cell.value and str(cell.value).split("\n")[0] == zh:
            return cell.column
    raise AssertionError(f"no column {zh} in {ws.title}")


def hr_edit(master: Path, sheet: str, key: tuple[str, str] | None, values: dict[str, object]) -> None:
    """Type ``values`` (by Chinese header) into the row of (period, ID), or a new row when key is None."""
    book = openpyxl.load_workbook(master)
    ws = book[sheet]
    if key is None:
        row = ws.max_row + 1
    else:
        period_col, id_col = header_index(ws, "考核期间"), header_index(ws, "工号")
        row = next(r for r in range(2, ws.max_row + 1)
                   if ws.cell(r, period_col).value == key[0] and ws.cell(r, id_col).value == key[1])
    for zh, value in values.items():
        ws.cell(row, header_index(ws, zh)).value = value  # ws.cell(r, c, None) would not clear
    book.save(master)


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def rows(master: Path, rulebook, sheet: str = L.SUMMARY) -> list[dict]:
    return read_master(master, rulebook).rows(sheet)


def by_id(master: Path, rulebook, period: str) -> dict[str, dict]:
    return {r["employee_id"]: r for r in rows(master, rulebook) if r["period"] == period}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cell_values(path: Path) -> dict[str, list[tuple]]:
    """Every cell value of every data sheet (all but _meta), as openpyxl reads them."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)]
                for ws in book.worksheets if ws.title != L.META}
    finally:
        book.close()


def person(employee_id: str, team: str, *, status: str = "正式", post_start=dt.date(2020, 1, 1)) -> Employee:
    return Employee(employee_id, f"员工{employee_id}", DEPARTMENT, team, "engineer", None, dt.date(2020, 1, 1),
                    post_start, status)
