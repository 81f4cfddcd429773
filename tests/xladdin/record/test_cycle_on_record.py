"""Issue 12's measured failures, on the demo's real workbooks: the tracker, an incomplete period refused,
an unreasoned 校准等级 never final and never on a notice."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from typer.testing import CliRunner

from tests.support.master_builders import hr_edit

from kpisheet.validators.rulebook.load import load_rulebook
from kpisheet.xladdin.cli.app import app
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.io import read_master

PERIOD = "2026-Q4"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from kpisheet.xladdin.demo.cycle import run_demo

    folder = tmp_path_factory.mktemp("demo")
    run_demo(folder, addin=False, now=dt.datetime(2026, 12, 20, 9, 0))
    return folder


def fresh_copy(demo, tmp_path, keep: int | None = None):
    """The demo's Q4 inbox (corrected files) in a new folder; ``keep`` files only when given."""
    inbox = tmp_path / "inbox"
    files = sorted((demo / "inbox" / PERIOD).glob("*.xlsx"))
    inbox.mkdir()
    for path in files[:keep] if keep else files:
        shutil.copy2(path, inbox / path.name)
    return inbox, files


def test_status_on_the_demo_lists_the_five_teams(demo):
    result = run("status", "--master", str(demo / "master.xlsx"), "--period", PERIOD, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["complete"] and len(report["teams"]) == 5
    assert {t["state"] for t in report["teams"]} == {"accepted"}
    assert all(t["manager_name"] for t in report["teams"])


def test_status_with_one_file_missing_exits_1_naming_the_team(demo, tmp_path):
    inbox, files = fresh_copy(demo, tmp_path, keep=4)
    master = tmp_path / "master.xlsx"
    args = ["--rules", str(demo / "rulebook.yaml"), "--roster", str(demo / "roster.xlsx"), "--period", PERIOD]
    assert run("consolidate", str(inbox), "--master", str(master), *args).exit_code == 0
    reminders = tmp_path / "reminders"
    result = run("status", "--master", str(master), *args, "--reminders", str(reminders))
    assert result.exit_code == 1
    team = files[-1].stem.rsplit("_", 1)[-1]
    assert team in result.output and "未提交 missing" in result.output
    [note] = list(reminders.iterdir())
    assert team in note.name and team in note.read_text(encoding="utf-8")


def test_calibrate_on_one_of_five_teams_exits_1_naming_the_four_missing(demo, tmp_path):
    inbox, files = fresh_copy(demo, tmp_path, keep=1)
    master = tmp_path / "master.xlsx"
    args = ["--rules", str(demo / "rulebook.yaml"), "--roster", str(demo / "roster.xlsx")]
    assert run("consolidate", str(inbox), "--master", str(master), *args, "--period", PERIOD).exit_code == 0
    before = master.read_bytes()
    result = run("calibrate", "--master", str(master), *args, "--period", PERIOD)
    assert result.exit_code == 1
    missing = [path.stem.rsplit("_", 1)[-1] for path in files[1:]]
    assert "4 team(s) missing" in result.output and all(team in result.output for team in missing)
    assert master.read_bytes() == before
    went_on = run("calibrate", "--master", str(master), *args, "--period", PERIOD, "--allow-incomplete")
    assert went_on.exit_code in (0, 1), went_on.output
    data = read_master(master, load_rulebook(demo / "rulebook.yaml"))
    marks = [r["review"] for r in data.rows(L.SUMMARY)]
    assert marks and any(str(m).startswith("数据不完整") for m in marks)
    assert any(e["action"] == "数据不完整 incomplete" for e in data.rows(L.LOG))


def test_an_unreasoned_calibrated_grade_is_pending_not_final_and_on_no_notice(demo, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(demo, work)
    master = work / "master.xlsx"
    rulebook = load_rulebook(work / "rulebook.yaml")
    rows = [r for r in read_master(master, rulebook).rows(L.SUMMARY) if r["period"] == PERIOD]
    target = next(r for r in rows if r["final_grade"] in ("B", "C") and not r.get("calibrated_grade"))
    hr_edit(master, L.SUMMARY, (PERIOD, target["employee_id"]), {"校准等级": "S"})  # no 调整理由
    out = tmp_path / "notices"
    result = run("notices", "--master", str(master), "--rules", str(work / "rulebook.yaml"), "--period", PERIOD,
                 "--out", str(out), "--no-pdf", "--published", "2027-01-08")
    assert result.exit_code == 1 and target["employee_id"] in result.output
    after = {r["employee_id"]: r for r in read_master(master, rulebook).rows(L.SUMMARY) if r["period"] == PERIOD}
    row = after[target["employee_id"]]
    assert row["calibrated_grade"] == "S" and row["final_grade"] == target["final_grade"]
    assert row["coefficient"] == target["coefficient"] and row["review"].startswith("待定 pending")
    written = sorted(p.name for p in out.glob("*.xlsx"))
    assert len(written) == len(rows) - 1 and not any(target["employee_id"] in name for name in written)
