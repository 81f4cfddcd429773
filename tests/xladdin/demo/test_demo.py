"""`kpisheet demo`: the whole cycle on the shipped samples, its outputs, and the folder rules.

The demo runs once per test session (about 20 seconds) and the tests read
what it wrote: the master, the annotated copies, the notices, the add-in.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpisheet.validators.roster import read_roster
from kpisheet.xladdin.demo import cycle as demo
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.cli.app import app
from kpisheet.xladdin.master.io import read_master
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(app, ["demo", str(folder)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return folder, result.output


@pytest.fixture(scope="module")
def master(ran, rulebook):
    return read_master(ran[0] / demo.MASTER_FILE, rulebook)


def test_summary_names_teams_files_grades_and_outputs(ran):
    folder, output = ran
    assert "演示完成 Demo finished" in output and "5 个团队 teams" in output
    # the two slipped Q4 files are rejected with their codes, then accepted after correction
    assert "2026-Q4_售后服务部_华南工程组.xlsx: score-comment-required" in output
    assert "template-formula-replaced" in output and "team-signoff-missing" in output
    assert "最终等级分布与配额" in output and "S ≤ 10%" in output
    for name in (demo.MASTER_FILE, demo.ROSTER_FILE, demo.RULEBOOK_FILE):
        assert str(folder / name) in output


def test_inputs_are_the_shipped_samples(ran, rulebook):
    folder, _ = ran
    sample = read_roster(ROOT / "samples" / "roster.xlsx", rulebook)
    assert read_roster(folder / demo.ROSTER_FILE, rulebook) == sample
    assert (folder / demo.RULEBOOK_FILE).read_text(encoding="utf-8").startswith("meta:")


def test_q3_forms_leave_out_people_hired_after_the_quarter(ran, master):
    q3 = {r["employee_id"] for r in master.rows(L.SUMMARY) if r["period"] == "2026-Q3"}
    q4 = {r["employee_id"] for r in master.rows(L.SUMMARY) if r["period"] == "2026-Q4"}
    assert len(q4) == 60 and q3 < q4
    later = q4 - q3
    assert len(later) == 2  # the 2026-10-19 and 2026-12-01 hires


def test_rejected_files_have_annotated_copies_and_are_accepted_once_corrected(ran, master):
    folder, _ = ran
    statuses = {}
    for row in master.rows(L.SUBMISSIONS):
        statuses.setdefault(Path(row["path"]).name, []).append(row["status"])
    for team in demo.SLIPS:
        name = f"2026-Q4_售后服务部_{team}.xlsx"
        assert sorted(statuses[name]) == sorted([L.SUB_ACCEPTED, L.SUB_REJECTED])
        copy = folder / demo.ANNOTATED_DIR / "2026-Q4" / name
        with zipfile.ZipFile(copy) as archive:
            assert any("comments" in n for n in archive.namelist())  # notes on the flagged cells
        from openpyxl import load_workbook

        assert "校验结果" in load_workbook(copy, read_only=True).sheetnames
    accepted_q4 = {Path(r["path"]).name for r in master.rows(L.SUBMISSIONS)
                   if r["status"] == L.SUB_ACCEPTED and r["period"] == "2026-Q4"}
    assert len(accepted_q4) == 5


def test_appeal_deadlines_count_the_make_up_saturday_and_the_revised_grade_is_final(master):
    (appeal,) = master.rows(L.APPEALS)
    assert appeal["period"] == "2026-Q3"
    # published Friday 2026-10-09; Saturday 10-10 is a make-up working day (调休): 5 working days end Thursday
    assert appeal["file_by"] == dt.date(2026, 10, 15)
    assert appeal["filed_date"] <= appeal["file_by"] and not appeal.get("late_filing")
    person = next(r for r in master.rows(L.SUMMARY)
                  if (r["period"], r["employee_id"]) == ("2026-Q3", appeal["employee_id"]))
    assert person["final_grade"] == appeal["revised_grade"] != person["system_grade"]
    assert appeal["published_date"] == dt.date(2026, 10, 9)  # 申诉 shows the date the clock runs from


def test_the_appellants_notice_is_made_again_with_the_revised_grade(ran, master):
    import openpyxl

    (appeal,) = master.rows(L.APPEALS)
    (path,) = (ran[0] / demo.NOTICES_DIR).glob(f"2026-Q3_{appeal['employee_id']}_*.xlsx")
    values = [c.value for row in openpyxl.load_workbook(path).active.iter_rows() for c in row if c.value]
    assert values[values.index("最终等级 Final grade") + 1].startswith(f"{appeal['revised_grade']} ")


def test_calibration_annual_rollup_and_audit_log(master):
    summary = master.rows(L.SUMMARY)
    assert any(r.get("calibrated_grade") for r in summary)
    annual = master.rows(L.ANNUAL)
    assert {r["year"] for r in annual} == {"2026"} and len(annual) == 60
    assert all(r.get("score_Q3") is not None or r.get("score_Q4") is not None for r in annual)
    actions = {r["action"] for r in master.rows(L.LOG)}
    assert len(actions) >= 4  # submissions, calibration, appeal, annual ...


def test_notices_for_every_q3_employee_and_the_add_in(ran, master):
    folder, _ = ran
    q3 = [r for r in master.rows(L.SUMMARY) if r["period"] == "2026-Q3" and r.get("final_grade")]
    assert len(list((folder / demo.NOTICES_DIR).glob("*.xlsx"))) == len(q3)
    assert (folder / demo.ADDIN_DIR / "xladdin.xlam").is_file()


def test_master_opens_in_libreoffice_and_the_distribution_chart_renders(ran, soffice, tmp_path):
    from kpisheet.xladdin.kit.libreoffice import to_pdf

    pdf = to_pdf(ran[0] / demo.MASTER_FILE, tmp_path)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # the chart's own title and legend are drawn on the 分布 page
    assert "2026-Q4 等级分布 Grade distribution" in text
    assert "S 卓越" in text and "D 不合格" in text


def test_a_non_empty_folder_is_refused_without_force(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["demo", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "不是空的" in result.output and "--force" in result.output
    assert (tmp_path / "mine.txt").read_text() == "keep me" and len(list(tmp_path.iterdir())) == 1


def test_force_removes_only_what_a_demo_wrote(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    (tmp_path / demo.MASTER_FILE).write_bytes(b"old")
    (tmp_path / demo.FORMS_DIR / "2026-Q3").mkdir(parents=True)
    (tmp_path / demo.FORMS_DIR / "2026-Q3" / "old.xlsx").write_bytes(b"old")
    (tmp_path / "backups").mkdir()
    demo.clear_outputs(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_the_default_folder_is_always_new(tmp_path, monkeypatch):
    from kpisheet.xladdin.cli.demo import DEFAULT_DEMO_DIR, _new_default_folder

    monkeypatch.chdir(tmp_path)
    assert _new_default_folder() == Path(DEFAULT_DEMO_DIR)
    (tmp_path / DEFAULT_DEMO_DIR).mkdir()
    assert _new_default_folder() == Path(DEFAULT_DEMO_DIR)  # empty: used
    (tmp_path / DEFAULT_DEMO_DIR / "master.xlsx").write_bytes(b"x")
    assert _new_default_folder() == Path(f"{DEFAULT_DEMO_DIR}-2")


def test_the_demo_roster_is_the_committed_sample_byte_for_byte(tmp_path):
    from kpisheet.xladdin.demo.sample_roster import write_sample_roster

    assert write_sample_roster(tmp_path / "r.xlsx").read_bytes() == (ROOT / "samples" / "roster.xlsx").read_bytes()
