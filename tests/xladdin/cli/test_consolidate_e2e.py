"""`kpisheet consolidate` end to end on real team workbooks (built, filled, validated in workers)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from tests.support.master_builders import cell_values

from kpisheet.xladdin.master import layout as L
from tests.support.paths import REPO_ROOT

PERIOD = "2026-03"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from kpisheet.xladdin.cli.app import app; app()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory, rulebook):
    from kpisheet.workbook_templates.filler import fill_team_workbook, make_employees
    from kpisheet.workbook_templates.team_workbook import build_team_workbook

    root = tmp_path_factory.mktemp("e2e")
    (root / "inbox").mkdir()
    teams = [("一组", {"formula-injection"}), ("二组", set()), ("三组", {"duplicate-employee"})]
    for i, (team, mistakes) in enumerate(teams):
        people = make_employees(8, seed=i, team=team, prefix=f"T{i}")
        blank = build_team_workbook(root / "blank" / f"{team}.xlsx", rulebook, PERIOD, "售后服务部", team, people)
        fill_team_workbook(blank, root / "inbox" / f"{team}.xlsx", seed=i, mistakes=mistakes, rulebook=rulebook)
    return root


def test_consolidate_real_workbooks(inbox, tmp_path):
    work = tmp_path / "work"
    (work / "inbox").mkdir(parents=True)
    for path in (inbox / "inbox").iterdir():
        (work / "inbox" / path.name).write_bytes(path.read_bytes())
    master = work / "master.xlsx"

    first = run_cli("consolidate", "inbox", "--master", "master.xlsx", "--format", "json", cwd=work)
    assert first.returncode == 1, first.stderr  # the flawed workbook is rejected
    summary = json.loads(first.stdout)
    assert summary["files"]["accepted"] == ["inbox/一组.xlsx", "inbox/二组.xlsx"]
    assert summary["files"]["rejected"] == ["inbox/三组.xlsx"]
    assert summary["counts"]["employees_added"] == 16 and summary["written"]
    book = openpyxl.load_workbook(master)
    assert book.sheetnames == list(L.SHEET_ORDER)
    detail = book[L.DETAIL]
    formula_like = [c for row in detail.iter_rows(min_row=2) for c in row
                    if isinstance(c.value, str) and c.value.startswith("=")]
    assert formula_like and all(c.data_type == "s" for c in formula_like)  # text, never a formula
    issues = book[L.ISSUES]
    assert {issues.cell(r, 1).value for r in range(2, issues.max_row + 1)} == {"inbox/三组.xlsx"}

    values = cell_values(master)
    again = run_cli("consolidate", "inbox", "--master", "master.xlsx", cwd=work)
    assert again.returncode == 1
    assert cell_values(master) == values

    # HR types a calibrated grade and a note; a re-run keeps both
    ws = book[L.SUMMARY]
    head = {str(c.value).split("\n")[0]: c.column for c in ws[1]}
    ws.cell(2, head["校准等级"]).value = "B"
    ws.cell(2, head["调整理由"]).value = "部门复核"
    ws.cell(2, head["HR备注"]).value = "绩效面谈已完成"
    book.save(master)
    rerun = run_cli("consolidate", "inbox", "--master", "master.xlsx", "--format", "json", cwd=work)
    assert rerun.returncode == 1 and json.loads(rerun.stdout)["written"]
    ws = openpyxl.load_workbook(master)[L.SUMMARY]
    assert (ws.cell(2, head["校准等级"]).value, ws.cell(2, head["HR备注"]).value) == ("B", "绩效面谈已完成")
    assert ws.cell(2, head["最终等级"]).value == "B"

    # open in Excel: refused, not a byte changed
    before = hashlib.sha256(master.read_bytes()).hexdigest()
    (work / "~$master.xlsx").write_bytes(b"owner")
    refused = run_cli("consolidate", "inbox", "--master", "master.xlsx", cwd=work)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert hashlib.sha256(master.read_bytes()).hexdigest() == before


def test_master_inside_the_inbox_is_not_a_submission(inbox, tmp_path):
    work = tmp_path / "inbox"
    work.mkdir()
    (work / "二组.xlsx").write_bytes((inbox / "inbox" / "二组.xlsx").read_bytes())
    first = run_cli("consolidate", ".", "--master", "master.xlsx", "--format", "json", cwd=work)
    assert first.returncode == 0, first.stdout + first.stderr
    (work / "二组.xlsx").touch()
    second = run_cli("consolidate", ".", "--master", "master.xlsx", "--format", "json", cwd=work)
    assert second.returncode == 0, second.stdout + second.stderr
    assert json.loads(second.stdout)["files"]["rejected"] == []


SAMPLES = REPO_ROOT / "samples"


@pytest.mark.skipif(not (SAMPLES / "submissions").is_dir(), reason="samples/submissions not built")
def test_shipped_samples_consolidate_as_the_issue_accepts(tmp_path):
    """The issue's acceptance: flawed samples rejected (exit 1), every sheet written, a re-run changes no
    data cell, a formula-looking comment is text, and an open master is refused with its bytes unchanged."""
    args = ("consolidate", str(SAMPLES / "submissions"), "--master", "master.xlsx",
            "--roster", str(SAMPLES / "roster.xlsx"), "--format", "json")
    first = run_cli(*args, cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    result = json.loads(first.stdout)
    assert result["files"]["accepted"] and result["files"]["rejected"]
    master = tmp_path / "master.xlsx"
    book = openpyxl.load_workbook(master)
    assert book.sheetnames == list(L.SHEET_ORDER)
    texts = [c for row in book[L.DETAIL].iter_rows(min_row=2) for c in row
             if isinstance(c.value, str) and c.value.startswith("=")]
    assert all(c.data_type == "s" for c in texts)
    values = cell_values(master)
    second = run_cli(*args, cwd=tmp_path)
    assert second.returncode == 1 and not json.loads(second.stdout)["written"]
    assert cell_values(master) == values
    before = hashlib.sha256(master.read_bytes()).hexdigest()
    (tmp_path / "~$master.xlsx").write_bytes(b"owner")
    assert run_cli(*args, cwd=tmp_path).returncode == 2
    assert hashlib.sha256(master.read_bytes()).hexdigest() == before
