"""The consolidation service on real files: idempotency, HR edits (openpyxl and LibreOffice),
crashes at every stage of the write (kill -9 in a subprocess), concurrent runs, lock files, the CLI."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pytest
from tests.support.master_builders import cell_values, digest, header_index, hr_edit
from tests.support.master_fakes import FakeFinding, make_employee, make_report, team_employees

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.consolidate import merge_into_master
from kpisheet.xladdin.master.io import read_master
from kpisheet.xladdin.master.safety import FAULT_ENV, FAULT_MARKER_ENV, MasterBusy, backups_of
from tests.support.paths import REPO_ROOT

T1 = dt.datetime(2026, 4, 1, 9, 0, 0)
T2 = dt.datetime(2026, 4, 2, 10, 0, 0)
T3 = dt.datetime(2026, 4, 3, 11, 0, 0)


def row_of(ws, employee_id: str) -> int:
    col = header_index(ws, "工号")
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, col).value == employee_id)


@pytest.fixture
def inbox(tmp_path, rulebook):
    a = make_report(tmp_path / "inbox" / "一组.xlsx", team_employees(rulebook, "A", 12, comment="=1+1"),
                    team="一组", period="2026-03", modified=1_000)
    b = make_report(tmp_path / "inbox" / "二组.xlsx", team_employees(rulebook, "B", 10, base_level=0.6),
                    team="二组", period="2026-03", modified=1_000)
    return tmp_path, [a, b]


def test_second_identical_run_changes_no_cell_and_no_byte(inbox, rulebook):
    tmp, reports = inbox
    master = tmp / "master.xlsx"
    first = merge_into_master(master, reports, rulebook=rulebook, now=T1)
    assert first.written and first.exit_code == 0
    before, values = digest(master), cell_values(master)
    second = merge_into_master(master, reports, rulebook=rulebook, now=T2)
    assert not second.written and second.merge.log_rows == 0
    assert digest(master) == before and cell_values(master) == values
    assert second.merge.files["unchanged"] == ["inbox/一组.xlsx", "inbox/二组.xlsx"]
    # paths are relative to the master, whatever folder the run starts in
    cwd = os.getcwd()
    try:
        os.chdir(tmp / "inbox")
        assert not merge_into_master(master, reports, rulebook=rulebook, now=T3).written
    finally:
        os.chdir(cwd)


def test_the_streamed_detail_is_fingerprinted_as_written_and_read_back_alike(inbox, rulebook):
    """指标明细 is streamed from the record into the writer, its fingerprint taken in the same walk: it is
    the fingerprint of the rows in the file, and the run's result still reads the rows after the run."""
    import json

    import sqlalchemy as sa

    from kpisheet.xladdin.master.master_edits import table_digest
    from kpisheet.xladdin.record import schema as S
    from kpisheet.xladdin.record.store import open_store

    tmp, reports = inbox
    master = tmp / "master.xlsx"
    result = merge_into_master(master, reports, rulebook=rulebook, now=T1)
    detail = result.merge.data.rows(L.DETAIL)  # read again from the record, after the run's transaction
    assert len(detail) == len(list(detail)) == len(read_master(master, rulebook).rows(L.DETAIL)) > 0
    assert detail[:3] == list(detail)[:3] and detail[-1] == list(detail)[-1]
    store = open_store(None, master=master)
    try:
        with store.reading() as conn:
            recorded = json.loads(conn.execute(sa.select(S.masters.c.digests)).scalars().one())
    finally:
        store.dispose()
    columns = L.sheet_columns(rulebook)[L.DETAIL]
    assert recorded[L.DETAIL] == table_digest(L.DETAIL, columns, read_master(master, rulebook).rows(L.DETAIL))
    assert recorded[L.DETAIL] == table_digest(L.DETAIL, columns, detail)


def test_rewrite_caused_by_an_hr_edit_changes_only_that_row(inbox, rulebook):
    tmp, reports = inbox
    master = tmp / "master.xlsx"
    merge_into_master(master, reports, rulebook=rulebook, now=T1)
    book = openpyxl.load_workbook(master)
    ws = book[L.SUMMARY]
    r = row_of(ws, "B003")
    ws.cell(r, header_index(ws, "校准等级")).value = "S"
    ws.cell(r, header_index(ws, "调整理由")).value = "季度攻坚项目负责人"
    note = ws.cell(r, header_index(ws, "HR备注"))
    note.value = "=HR 手填"
    note.data_type = "s"  # typed as text ('=HR 手填 in Excel), not a formula
    book.save(master)
    edited = cell_values(master)
    result = merge_into_master(master, reports, rulebook=rulebook, now=T2)
    assert result.written
    after = cell_values(master)
    for sheet in (L.DETAIL, L.SUBMISSIONS, L.ISSUES, L.APPEALS, L.ANNUAL):
        assert after[sheet] == edited[sheet], sheet
    summary_before, summary_after = edited[L.SUMMARY], after[L.SUMMARY]
    changed = [(i, j) for i, (x, y) in enumerate(zip(summary_before, summary_after))
               for j, (u, v) in enumerate(zip(x, y)) if u != v]
    head = [str(h).split("\n")[0] for h in summary_after[0]]
    b3 = r - 1
    # the edited row's final grade, coefficient, PIP flag and time; ranks do not move (totals did not)
    assert {head[j] for i, j in changed if i == b3} <= {"最终等级", "绩效系数", "改进计划", "更新时间"}
    assert {i for i, _ in changed} == {b3}
    row = dict(zip(head, summary_after[b3]))
    assert (row["校准等级"], row["最终等级"], row["HR备注"]) == ("S", "S", "=HR 手填")
    assert row["更新时间"] == T2
    log = after[L.LOG]
    # HR's edits read into the record (one entry), then the final grade that moved
    assert [entry[1] for entry in log[len(edited[L.LOG]):]] == ["HR决定 decision", L.LOG_FINAL]


def test_hr_edits_survive_a_corrected_file_and_flag_review(inbox, rulebook):
    tmp, (a, b) = inbox
    master = tmp / "master.xlsx"
    merge_into_master(master, [a, b], rulebook=rulebook, now=T1)
    hr_edit(master, L.SUMMARY, ("2026-03", "A004"),
            {"校准等级": "A", "调整理由": "客户表扬信三封", "HR备注": "已面谈", "申诉状态": "无"})

    people = list(a.employees)
    people[4] = make_employee(rulebook, "A004", people[4].name, role=people[4].role, level=0.55)
    late = make_report(tmp / "inbox" / "一组_更正.xlsx", people, team="一组", period="2026-03", modified=5_000)
    result = merge_into_master(master, [a, b, late], rulebook=rulebook, now=T2)
    assert result.merge.files["superseded"] == ["inbox/一组.xlsx"]
    data = read_master(master, rulebook)
    row = next(x for x in data.rows(L.SUMMARY) if x["employee_id"] == "A004")
    assert (row["calibrated_grade"], row["override_reason"], row["hr_notes"], row["appeal_status"]) == (
        "A", "客户表扬信三封", "已面谈", "无")
    assert row["total"] == people[4].total and row["review"] == L.REVIEW and row["final_grade"] == "A"
    log = data.rows(L.LOG)
    assert any(e["key"] == "2026-03/A004" and e["column"] == "总分" and e["time"] == T2 for e in log)
    assert any(e["action"] == L.LOG_REVIEW and e["key"] == "2026-03/A004" for e in log)
    statuses = {x["path"]: x["status"] for x in data.rows(L.SUBMISSIONS)}
    assert statuses == {"inbox/一组.xlsx": L.SUB_SUPERSEDED, "inbox/二组.xlsx": L.SUB_ACCEPTED,
                        "inbox/一组_更正.xlsx": L.SUB_ACCEPTED}
    # HR clears the review flag; a further identical run leaves it cleared
    hr_edit(master, L.SUMMARY, ("2026-03", "A004"), {"复核标记": None})
    merge_into_master(master, [a, b, late], rulebook=rulebook, now=T3)
    row = next(x for x in read_master(master, rulebook).rows(L.SUMMARY) if x["employee_id"] == "A004")
    assert row["review"] is None


def test_master_resaved_by_libreoffice_still_merges(inbox, rulebook, soffice):
    from kpisheet.xladdin.kit.libreoffice import recalculate

    tmp, reports = inbox
    master = tmp / "master.xlsx"
    merge_into_master(master, reports, rulebook=rulebook, now=T1)
    hr_edit(master, L.SUMMARY, ("2026-03", "A002"), {"校准等级": "C", "调整理由": "复核后下调",
                                                     "HR备注": "LibreOffice 中修改"})
    resaved = recalculate(master, tmp / "lo")
    master.write_bytes(resaved.read_bytes())
    sheets = openpyxl.load_workbook(master, read_only=True)
    assert sheets[L.META].sheet_state == "hidden"

    result = merge_into_master(master, reports, rulebook=rulebook, now=T2)
    data = read_master(master, rulebook)
    row = next(x for x in data.rows(L.SUMMARY) if x["employee_id"] == "A002")
    assert (row["calibrated_grade"], row["hr_notes"], row["final_grade"]) == ("C", "LibreOffice 中修改", "C")
    assert result.merge.employees["added"] == 0 and len(data.rows(L.SUMMARY)) == 22
    assert result.merge.files["unchanged"] == ["inbox/一组.xlsx", "inbox/二组.xlsx"]
    untouched = next(x for x in data.rows(L.SUMMARY) if x["employee_id"] == "B007")
    assert untouched["updated_at"] == T1  # LibreOffice's re-save changed no content
    again = merge_into_master(master, reports, rulebook=rulebook, now=T3)
    assert not again.written


def test_rejected_file_changes_no_result_cell(inbox, rulebook):
    tmp, reports = inbox
    master = tmp / "master.xlsx"
    merge_into_master(master, reports, rulebook=rulebook, now=T1)
    before = cell_values(master)
    error = FakeFinding("goal-weight-sum", "error", "目标设定", "I12", "A001", None, 90, 100,
                        "权重合计 90，应为 100", "weights sum to 90, not 100", "调整权重")
    bad = make_report(tmp / "inbox" / "一组_错.xlsx", [make_employee(rulebook, "A001", "员工A1", level=0.2)],
                      team="一组", period="2026-03", findings=(error,), modified=9_000)
    result = merge_into_master(master, [*reports, bad], rulebook=rulebook, now=T2)
    assert result.exit_code == 1 and result.merge.files["rejected"] == ["inbox/一组_错.xlsx"]
    after = cell_values(master)
    for sheet in (L.SUMMARY, L.DETAIL, L.DISTRIBUTION, L.ANALYSIS):
        assert after[sheet] == before[sheet], sheet
    assert after[L.ISSUES][1][:3] == ("inbox/一组_错.xlsx", "goal-weight-sum", "error")


def test_lock_file_refuses_and_leaves_the_bytes(inbox, rulebook):
    tmp, (a, b) = inbox
    master = tmp / "master.xlsx"
    merge_into_master(master, [a], rulebook=rulebook, now=T1)
    before = digest(master)
    (tmp / "~$master.xlsx").write_bytes(b"HR")
    with pytest.raises(MasterBusy):
        merge_into_master(master, [a, b], rulebook=rulebook, now=T2)
    assert digest(master) == before and not backups_of(master)


def test_backups_hold_previous_versions(inbox, rulebook):
    tmp, (a, b) = inbox
    master = tmp / "master.xlsx"
    merge_into_master(master, [a], rulebook=rulebook, now=T1)
    first = digest(master)
    result = merge_into_master(master, [a, b], rulebook=rulebook, now=T2)
    assert result.backup is not None and digest(result.backup) == first
    assert read_master(result.backup, rulebook).rows(L.SUMMARY)  # a real, readable master


# --- in a subprocess: kill -9 at each stage, concurrent runs --------------------

RUNNER = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.support.master_fakes import make_report, team_employees
    from kpisheet.validators.rulebook.load import default_rulebook
    from kpisheet.xladdin.master.consolidate import merge_into_master
    from kpisheet.xladdin.master.safety import MasterBusy

    # guarded: the master is read in a worker process, which imports this script as its main module
    if __name__ == "__main__":
        rulebook = default_rulebook()
        folder, level, wait = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
        inbox = folder / f"inbox-{{level}}"
        reports = [
            make_report(inbox / "a.xlsx", team_employees(rulebook, "A", 12, base_level=level), team="一组",
                        period="2026-03", modified=1_000 + level * 1_000),
            make_report(inbox / "b.xlsx", team_employees(rulebook, "B", 8), team="二组", period="2026-03",
                        modified=1_000),
        ]
        try:
            merge_into_master(folder / "master.xlsx", reports, rulebook=rulebook, lock_wait=wait)
        except MasterBusy as error:
            print(error.message_en)
            sys.exit(2)
""")


def run_consolidation(folder: Path, level: float, *, wait: float = 5.0, fault: str | None = None,
                      marker: Path | None = None) -> subprocess.Popen:
    script = folder / "runner.py"
    if not script.exists():
        script.write_text(RUNNER.format(root=str(REPO_ROOT)), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in (FAULT_ENV, FAULT_MARKER_ENV)}
    if fault:
        env[FAULT_ENV] = fault
    if marker:
        env[FAULT_MARKER_ENV] = str(marker)
    return subprocess.Popen([sys.executable, str(script), str(folder), str(level), str(wait)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def a000_total(master: Path, rulebook) -> float:
    return next(r["total"] for r in read_master(master, rulebook).rows(L.SUMMARY) if r["employee_id"] == "A000")


def expected_total(rulebook, level: float) -> float:
    return team_employees(rulebook, "A", 12, base_level=level)[0].total


@pytest.fixture
def first_master(tmp_path, rulebook):
    process = run_consolidation(tmp_path, 0.7)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    master = tmp_path / "master.xlsx"
    assert a000_total(master, rulebook) == expected_total(rulebook, 0.7)
    return master


@pytest.mark.parametrize("point", ["sheet:总表", "sheet:日志", "closing", "written", "synced", "backed-up"])
def test_killed_during_the_write_leaves_the_old_master(first_master, rulebook, point):
    folder = first_master.parent
    before = digest(first_master)
    process = run_consolidation(folder, 0.95, fault=f"{point}:kill")
    process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL
    assert digest(first_master) == before
    assert a000_total(first_master, rulebook) == expected_total(rulebook, 0.7)  # intact and readable

    process = run_consolidation(folder, 0.95)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert a000_total(first_master, rulebook) == expected_total(rulebook, 0.95)
    assert not [p.name for p in folder.iterdir() if ".tmp" in p.name]  # the killed run's temp is gone


def test_killed_right_after_the_swap_leaves_the_new_master(first_master, rulebook):
    process = run_consolidation(first_master.parent, 0.95, fault="replaced:kill")
    process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL
    assert a000_total(first_master, rulebook) == expected_total(rulebook, 0.95)


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never reached the fault point"
        time.sleep(0.05)


def test_kill_minus_9_from_outside_mid_write(first_master, rulebook):
    folder = first_master.parent
    before = digest(first_master)
    marker = folder / "reached"
    process = run_consolidation(folder, 0.95, fault="sheet:指标明细:sleep", marker=marker)
    wait_for(marker, process)  # rows of two sheets streamed, the workbook not yet closed
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert digest(first_master) == before
    assert a000_total(first_master, rulebook) == expected_total(rulebook, 0.7)


def test_a_second_run_is_refused_while_the_first_holds_the_master(first_master, rulebook):
    folder = first_master.parent
    before = digest(first_master)
    marker = folder / "reached"
    holder = run_consolidation(folder, 0.95, fault="written:sleep", marker=marker)
    try:
        wait_for(marker, holder)
        second = run_consolidation(folder, 0.8, wait=0.5)
        out, _ = second.communicate(timeout=120)
        assert second.returncode == 2 and "another kpisheet run" in out
        assert digest(first_master) == before
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    assert digest(first_master) == before
    third = run_consolidation(folder, 0.8)
    _, err = third.communicate(timeout=120)
    assert third.returncode == 0, err
    assert a000_total(first_master, rulebook) == expected_total(rulebook, 0.8)


def test_two_runs_started_together_leave_a_consistent_master(first_master, rulebook):
    folder = first_master.parent
    runs = [run_consolidation(folder, level, wait=60) for level in (0.8, 0.9)]
    codes = [run.wait(timeout=180) for run in runs]
    for run in runs:
        run.communicate()
    assert codes == [0, 0]  # one waited for the other
    data = read_master(first_master, rulebook)
    team_a = [r for r in data.rows(L.SUMMARY) if r["team"] == "一组"]
    assert len(team_a) == 12 and len({r["source_sha256"] for r in team_a}) == 1
    # the team's one accepted file (shown 源文件缺失 when the later run's inbox did not hold it); the other
    # run's file is superseded (it was newer) or rejected (older than the accepted one)
    accepted = [s for s in data.rows(L.SUBMISSIONS)
                if s["team"] == "一组" and s["status"] in (L.SUB_ACCEPTED, L.SUB_MISSING)]
    assert len(accepted) == 1 and accepted[0]["sha256"] == team_a[0]["source_sha256"]
    assert a000_total(first_master, rulebook) in (expected_total(rulebook, 0.8), expected_total(rulebook, 0.9))


# --- the command line ---------------------------------------------------------

def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from kpisheet.xladdin.cli.app import app; app()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_refuses_an_open_master_with_exit_2(inbox, rulebook):
    tmp, reports = inbox
    master = tmp / "master.xlsx"
    merge_into_master(master, reports, rulebook=rulebook, now=T1)
    before = digest(master)
    (tmp / "~$master.xlsx").write_bytes(b"HR")
    done = run_cli("consolidate", "inbox", "--master", "master.xlsx", cwd=tmp)
    assert done.returncode == 2
    assert "~$master.xlsx" in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert digest(master) == before


@pytest.mark.parametrize("args, says", [
    (["inbox", "--master", "m.xlsx", "--format", "xml"], "--format"),
    (["inbox", "--master", "m.xlsx", "--period", "三月份"], "--period"),
    (["nowhere", "--master", "m.xlsx"], "nowhere"),
    (["inbox", "--master", "m.csv"], ".xlsx"),
    (["inbox", "--master", "no/such/dir/m.xlsx"], "folder"),
])
def test_cli_usage_errors_exit_2_without_traceback(inbox, args, says):
    tmp, _ = inbox
    done = run_cli("consolidate", *args, cwd=tmp)
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert not (tmp / "m.xlsx").exists()


def test_paths_are_shown_relative_inside_the_master_folder_else_absolute(tmp_path):
    from kpisheet.xladdin.master.consolidate import path_labeller

    label = path_labeller(tmp_path / "hr" / "master.xlsx")
    assert label(str(tmp_path / "hr" / "inbox" / "a.xlsx")) == "inbox/a.xlsx"
    outside = tmp_path / "elsewhere" / "b.xlsx"
    assert label(str(outside)) == outside.resolve().as_posix()
