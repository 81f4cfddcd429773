"""The entry points end to end: every filler mistake at its cell, batches of hostile and foreign files,
LibreOffice re-saves, macro-bearing copies, lock files, outcomes for consolidation."""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import hostile
import tests.support.validate_support as S
from kpisheet.validators import layout as L
from kpisheet.validators.validate import validate_file, validate_paths
from kpisheet.workbook_templates.filler import MISTAKES, fill_team_workbook


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return S.clean_workbook(tmp_path_factory)


@pytest.fixture(scope="module")
def blank(clean, tmp_path_factory):
    return S.build_blank(tmp_path_factory.mktemp("blank"))


def intended(change, path):
    """Where a filler mistake's finding is reported (a weight sum: on the employee's 权重合计 cell)."""
    if change.code != "goal-weight-sum":
        return change.code, change.sheet, change.cell
    values, _, _ = S.read(path)
    from kpisheet.validators.reading.submission import read_team_workbook

    first = next(g for g in read_team_workbook(values, source="x", rulebook=S.rulebook()).goals
                 if g.employee_id == change.employee_id)
    return change.code, L.GOALS, S.cell_of(L.GOAL_COLUMNS, "weight_sum", first.row)


def test_a_clean_workbook_has_no_findings_and_full_outcomes(clean):
    path, _ = clean
    report = S.run_file(path, roster=list(S.roster()))
    assert report.findings == () and report.status == "ok"
    assert report.sha256 and len(report.sha256) == 64 and report.period == S.PERIOD and report.team == S.TEAM
    assert [e.employee_id for e in report.employees] == [p.employee_id for p in S.team_members()]
    for e in report.employees:
        assert e.total is not None and e.grade and e.coefficient and e.name and e.role in ("engineer", "cs")
        assert len(e.indicators) == 8 and all(i.score is not None for i in e.indicators)
        assert set(e.subtotals) == {"results", "competency", "attitude"}


def test_fills_keep_each_categorys_weight(blank, tmp_path):
    """The filler moves weight only within a category, as the rulebook splits it (业绩/能力/态度)."""
    fill_team_workbook(blank, tmp_path / "moved.xlsx", seed=11, redistribute=1.0)
    report = S.run_file(tmp_path / "moved.xlsx", roster=list(S.roster()))
    assert "goal-category-weight" not in S.codes(report) and "goal-weight-sum" not in S.codes(report)


@pytest.mark.parametrize("mistake", [m for m, (code, _) in MISTAKES.items() if code])
def test_each_filler_mistake_is_found_at_its_cell(blank, tmp_path, mistake):
    path = tmp_path / f"{mistake}.xlsx"
    manifest = fill_team_workbook(blank, path, seed=7, mistakes=[mistake])
    report = S.run_file(path, roster=list(S.roster()))
    wanted = {intended(c, path) for c in manifest.expected_findings()}
    assert wanted and wanted <= S.places(report), sorted(S.places(report))
    assert report.status == ("warning" if mistake == "smart-missing" else "error")


def test_formula_like_comments_stay_text_and_are_no_finding(blank, tmp_path):
    path = tmp_path / "injection.xlsx"
    manifest = fill_team_workbook(blank, path, seed=8, mistakes=["formula-injection"])
    report = S.run_file(path, roster=list(S.roster()))
    assert "score-" not in " ".join(S.codes(report))
    comments = {i.comment for e in report.employees for i in e.indicators}
    assert {c.value for c in manifest.changes if c.mistake == "formula-injection"} <= comments


def test_a_macro_bearing_copy_is_flagged_and_still_checked(clean, tmp_path):
    path, _ = clean
    target = tmp_path / "with_macros.xlsm"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    report = S.run_file(target, roster=list(S.roster()))
    assert S.codes(report) == {"file-has-macros"}
    assert report.employees and report.team == S.TEAM


def test_phase_goals_on_a_blank_workbook_needs_only_goal_inputs(blank):
    scoring = S.run_file(blank, roster=list(S.roster()))
    goals = S.run_file(blank, roster=list(S.roster()), phase="goals")
    assert {"score-missing", "team-signoff-missing", "goal-smart-missing"} <= S.codes(scoring)
    assert S.codes(goals) == {"goal-smart-missing"}


def test_a_batch_of_hostile_and_foreign_files_mixed_with_good_ones(clean, tmp_path):
    path, _ = clean
    inbox = tmp_path / "inbox"
    made = hostile.make_all(inbox / "hostile")
    shutil.copy(path, inbox / "good.xlsx")
    hostile.good_xlsx(inbox, "someone_elses.xlsx")  # a real spreadsheet kpisheet never made
    seen = []
    started = time.perf_counter()
    reports = validate_paths([inbox], rulebook=S.rulebook(), roster=list(S.roster()), jobs=2,
                             progress=lambda done, total: seen.append((done, total)))
    elapsed = time.perf_counter() - started
    by_name = {Path(r.path).name: r for r in reports}
    assert len(reports) == len(made) + 2 == len(by_name)
    assert seen[0] == (0, len(reports)) and seen[-1] == (len(reports), len(reports))
    assert by_name["good.xlsx"].status == "ok"
    assert S.codes(by_name["someone_elses.xlsx"]) == {"template-unknown"}
    for name, generated in made.items():
        report = by_name[generated.name]
        expected_code = hostile.HOSTILE[name][1]
        assert expected_code in S.codes(report), (name, S.codes(report))
        assert all(f.code.split("-")[0] in ("file", "template") for f in report.findings), name
    assert elapsed < 2 * len(reports), elapsed  # each hostile file refused in well under two seconds


def test_the_cli_on_a_hostile_folder_exits_1_with_every_file_named(clean, tmp_path):
    path, _ = clean
    inbox = tmp_path / "inbox"
    made = hostile.make_all(inbox)
    shutil.copy(path, inbox / "good.xlsx")
    hostile.good_xlsx(inbox, "someone_elses.xlsx")
    from kpisheet.xladdin.cli.app import app

    result = CliRunner().invoke(app, ["validate", str(inbox), "--format", "json", "--no-roster"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    doc = json.loads(result.stdout)
    assert len(doc["files"]) == len(made) + 2
    for f in doc["files"]:
        if Path(f["path"]).name == "good.xlsx":
            assert f["status"] == "ok"
        else:
            assert f["findings"] and all(x["code"].split("-")[0] in ("file", "template") for x in f["findings"])


def test_a_lock_file_is_reported_and_skipped(clean, tmp_path):
    path, _ = clean
    shutil.copy(path, tmp_path / "team.xlsx")
    lock = hostile.lock_file(tmp_path, of="team.xlsx")
    report = validate_file(lock, rulebook=S.rulebook())
    assert S.codes(report) == {"file-lock"} and report.status == "warning" and report.employees == ()


def test_missing_paths_are_refused_before_any_work(tmp_path):
    with pytest.raises(FileNotFoundError):
        validate_paths([tmp_path / "nope"], rulebook=S.rulebook())


def test_approved_goals_from_a_folder(clean, tmp_path):
    path, _ = clean
    approved = tmp_path / "approved"
    approved.mkdir()
    shutil.copy(path, approved / "approved.xlsx")
    (approved / "notes.txt").write_text("审批记录")
    import openpyxl

    values, _, _ = S.read(path)
    from kpisheet.validators.reading.submission import read_team_workbook

    goal = next(g for g in read_team_workbook(values, source="x", rulebook=S.rulebook()).goals if g.code == "ENG_MTTR")
    book = openpyxl.load_workbook(path)
    book[L.GOALS][goal.address("weight")] = goal.weight  # unchanged
    book[L.GOALS][goal.address("smart")] = "改了目标描述"
    book.save(tmp_path / "now.xlsx")
    report = validate_paths([tmp_path / "now.xlsx"], rulebook=S.rulebook(), approved_goals=approved)[0]
    assert S.places(report) == {("goal-changed-after-approval", L.GOALS, goal.address("smart"))}


def test_a_libreoffice_resave_validates_the_same_and_cached_results_are_compared(soffice, blank, tmp_path):
    from kpisheet.xladdin.kit.libreoffice import recalculate

    people = list(S.roster())
    clean_path, _ = S.fill_clean(blank, tmp_path / "clean.xlsx")
    flawed = tmp_path / "flawed.xlsx"
    fill_team_workbook(blank, flawed, seed=21, mistakes=["overwrite-formula", "text-number", "signoff-missing"])
    for path in (clean_path, flawed):
        before = S.run_file(path, roster=people)
        resaved = recalculate(path, tmp_path / "lo")
        after = S.run_file(resaved, roster=people)
        assert before.extra["calculated"] is False and after.extra["calculated"] is True
        assert S.places(after) == S.places(before), path.name
        assert [(e.employee_id, e.total, e.grade) for e in after.employees] == \
               [(e.employee_id, e.total, e.grade) for e in before.employees]
    # the recalculated file really holds cached results, and every one of them was compared
    values, _, calculated = S.read(tmp_path / "lo" / clean_path.name)
    from kpisheet.validators.reading.submission import read_team_workbook

    book = read_team_workbook(values, source="x", rulebook=S.rulebook())
    assert calculated and all(isinstance(s.total, float) for s in book.summary)
    row = book.summary[2]
    S.put(values, L.SUMMARY, row.address("total"), row.total + 1)
    report = S.run(values, calculated=True)
    assert S.places(report) == {("score-total-mismatch", L.SUMMARY, row.address("total"))}


def test_packed_reports_from_the_workers_are_the_reports_validate_gives(clean, tmp_path):
    # consolidation takes each report packed by its worker: the head it reads while the batch runs, the
    # whole report as bytes it spools; a file the guard refuses comes packed the same way
    from kpisheet.validators.validate import HEAD_EXTRA, ValidationSettings, iter_validate, iter_validate_packed

    path, _ = clean
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(path, inbox / "good.xlsx")
    (inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 not a zip at all")
    files = sorted(inbox.iterdir())
    settings = ValidationSettings.make(S.rulebook(), list(S.roster()), S.PERIOD, cross_file=True)
    whole = {Path(r.path).name: r for r in iter_validate(files, settings, jobs=2)}
    packed = {Path(p.head.path).name: p for p in iter_validate_packed(files, settings, jobs=2)}
    assert set(packed) == set(whole) == {"good.xlsx", "broken.xlsx"}
    for name, p in packed.items():
        report = p.report()
        assert report.findings == whole[name].findings and report.employees == whole[name].employees
        assert (p.errors, p.warnings) == (report.count("error"), report.count("warning"))
        assert p.error_codes == tuple(sorted({f.code for f in report.findings if f.severity == "error"}))
        assert p.head.findings == () and p.head.employees == () and set(p.head.extra) <= set(HEAD_EXTRA)
        assert (p.head.path, p.head.status, p.head.team, p.head.sha256) == (
            report.path, report.status, report.team, report.sha256)
    assert packed["good.xlsx"].errors == 0 and packed["good.xlsx"].head.extra["summary_cells"]
    assert packed["broken.xlsx"].errors >= 1 and packed["broken.xlsx"].head.status == "error"


def test_reports_without_indicator_lines_keep_every_finding_name_and_grade(clean, tmp_path):
    # the validate command asks for reports without the indicator lines: nothing it prints changes
    path, _ = clean
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(path, inbox / "a.xlsx")
    whole = validate_paths([inbox], rulebook=S.rulebook(), roster=list(S.roster()), jobs=1)
    light = validate_paths([inbox], rulebook=S.rulebook(), roster=list(S.roster()), jobs=1, indicator_lines=False)
    assert [r.findings for r in light] == [r.findings for r in whole]
    assert [(e.employee_id, e.name, e.total, e.grade) for e in light[0].employees] == [
        (e.employee_id, e.name, e.total, e.grade) for e in whole[0].employees]
    assert all(e.indicators for e in whole[0].employees) and not any(e.indicators for e in light[0].employees)
