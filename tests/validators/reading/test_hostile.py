"""Hostile files in a batch with good ones: every file named, nothing escapes, time and memory bounded."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from tests.support import hostile
from tests.support.hostile import HOSTILE
from kpisheet.validators.reading.safe_read import (
    FileRefused, WorkerFailure, WorkerPoolError, read_values, read_workbook, run_isolated,
)


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> tuple[dict[str, Path], list[Path]]:
    """Every hostile file of hostile.HOSTILE plus three good workbooks, in one folder."""
    folder = tmp_path_factory.mktemp("inbox")
    files = hostile.make_all(folder)
    goods = [hostile.good_xlsx(folder, f"good_{i}.xlsx") for i in range(3)]
    return files, goods


def test_a_mixed_batch_names_every_file_and_keeps_good_files_clean(batch):
    files, goods = batch
    seen: list[Path] = []
    results = dict(run_isolated(hostile.guarded_read, [*files.values(), *goods], jobs=2,
                                progress=lambda path, outcome: seen.append(path)))
    assert sorted(seen) == sorted(results) == sorted([*files.values(), *goods])
    for name, path in files.items():
        outcome = results[path]
        assert not isinstance(outcome, WorkerFailure), (name, outcome)
        _, code, reason = HOSTILE[name]
        assert outcome["codes"] == [code], name
        assert outcome["reasons"] == [reason], name
        assert outcome["read"] == (code == "file-has-macros"), name
        assert outcome["seconds"] < 2.0, (name, outcome["seconds"])
    for path in goods:
        assert results[path]["codes"] == [] and results[path]["read"]
    # bounded memory: no worker ever held more than a few hundred MB, bombs included
    assert max(outcome["peak_rss_mb"] for outcome in results.values()) < 300


def test_a_file_at_the_limits_is_read_with_bounded_memory(tmp_path):
    """A sparse sheet whose extent just fits the default cell-area limit: read, and still bounded."""
    from tests.support.hostile import cell_sheet, workbook_parts, write_zip
    from kpisheet.validators.reading.guard import DEFAULT_LIMITS, column_number

    assert 20_000 * column_number("GR") == DEFAULT_LIMITS.max_cells
    cells = '<row r="1"><c r="A1"><v>1</v></c></row><row r="20000"><c r="GR20000"><v>2</v></c></row>'
    at_limit = write_zip(tmp_path / "at_limit.xlsx", workbook_parts(cell_sheet(cells, "A1:GR20000")))
    over = write_zip(tmp_path / "over_limit.xlsx", workbook_parts(cell_sheet(cells.replace("20000", "20001"))))
    results = dict(run_isolated(hostile.guarded_read, [at_limit, over], jobs=2))
    assert results[at_limit]["read"] and results[at_limit]["codes"] == []
    assert results[at_limit]["peak_rss_mb"] < 400
    assert results[over]["reasons"] == ["cells"] and results[over]["codes"] == ["file-too-large"]


def test_the_batch_survives_a_worker_that_dies(batch, tmp_path):
    files, goods = batch
    crash = tmp_path / "CRASH_me.xlsx"
    crash.write_bytes(goods[0].read_bytes())
    paths = [goods[0], crash, files["xls"], goods[1], files["far_corner"], goods[2]]
    results = dict(run_isolated(hostile.abort_on_marker, paths, jobs=2))
    assert sorted(results) == sorted(paths)
    failure = results[crash]
    assert isinstance(failure, WorkerFailure)
    assert [f.code for f in failure.findings] == ["file-unreadable"]
    assert "SIGABRT" in failure.findings[0].message_en and "SIGABRT" in failure.findings[0].message_zh
    for path in goods:
        assert results[path]["codes"] == [] and results[path]["read"]
    assert results[files["xls"]]["codes"] == ["file-wrong-format"]
    assert results[files["far_corner"]]["codes"] == ["file-too-large"]


def test_the_batch_survives_a_real_reader_crash_on_an_unguarded_file(batch):
    """Without the guard, python-calamine may abort on the far-corner file; only that file is lost."""
    files, goods = batch
    paths = [goods[0], files["far_corner_undeclared"], goods[1]]
    results = dict(run_isolated(hostile.unguarded_calamine, paths, jobs=2, timeout=30))
    assert sorted(results) == sorted(paths)
    assert results[goods[0]] == results[goods[1]] > 0
    far = results[files["far_corner_undeclared"]]
    if isinstance(far, WorkerFailure):  # the reader died (or ran out of address space): the file is named
        assert [f.code for f in far.findings] == ["file-unreadable"]


def test_a_hanging_file_times_out_without_stopping_the_batch(batch, tmp_path):
    files, goods = batch
    slow = tmp_path / "SLOW.xlsx"
    slow.write_bytes(goods[0].read_bytes())
    results = dict(run_isolated(hostile.sleep_on_marker, [slow, goods[0], goods[1]], jobs=2, timeout=1.5))
    assert isinstance(results[slow], WorkerFailure)
    assert "timed out" in results[slow].findings[0].message_en and "超时" in results[slow].findings[0].message_zh
    assert results[goods[0]]["read"] and results[goods[1]]["read"]


def test_an_initializer_runs_once_per_worker(batch):
    _, goods = batch
    results = dict(run_isolated(hostile.read_setting, goods, jobs=2, initializer=hostile.remember_setting,
                                initargs=("rulebook-2026",)))
    assert set(results.values()) == {"rulebook-2026"}


def test_a_bug_in_the_per_file_function_is_reported_not_raised(batch):
    _, goods = batch
    results = dict(run_isolated(hostile.raise_value_error, goods[:2], jobs=2))
    for outcome in results.values():
        assert isinstance(outcome, WorkerFailure)
        assert "ValueError" in outcome.findings[0].message_en and "boom" in outcome.detail


def test_workers_that_cannot_start_are_an_environment_error_not_a_file_finding(batch, monkeypatch):
    from pebble import ProcessPool

    from kpisheet.validators.reading import safe_read

    _, goods = batch
    monkeypatch.setattr(safe_read, "_pool", lambda workers, setup, files: ProcessPool(
        max_workers=workers, initializer=hostile.die_at_start, context=safe_read._context()))
    with pytest.raises(WorkerPoolError):
        list(run_isolated(hostile.guarded_read, goods, jobs=2, timeout=20))


def test_stopping_early_does_not_wait_for_the_rest(batch, tmp_path):
    _, goods = batch
    slow = [tmp_path / f"SLOW_{i}.xlsx" for i in range(4)]
    for path in slow:
        path.write_bytes(goods[0].read_bytes())
    started = time.monotonic()
    for path, outcome in run_isolated(hostile.sleep_on_marker, [goods[0], *slow], jobs=1, timeout=30):
        assert path == goods[0]
        break
    assert time.monotonic() - started < 10


def test_a_worker_per_file_overhead_is_small(batch):
    _, goods = batch
    paths = goods * 20
    started = time.monotonic()
    results = list(run_isolated(hostile.guarded_read, paths, jobs=2))
    elapsed = time.monotonic() - started
    assert len(results) == 60 and all(outcome["read"] for _, outcome in results)
    assert elapsed < 15, elapsed


def test_read_workbook_reads_values_from_a1_with_hash_and_visibility(tmp_path):
    import xlsxwriter

    path = tmp_path / "values.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("考核评分")
    sheet.write("B3", 15)
    sheet.write("C3", "约90")
    sheet.write("D4", 0.95)
    book.add_worksheet("_meta").very_hidden()
    book.add_worksheet("_lists").hide()
    book.close()
    result = read_workbook(path)
    assert result.read and result.findings == ()
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.visibility == {"考核评分": "visible", "_meta": "veryHidden", "_lists": "hidden"}
    rows = result.sheets["考核评分"]
    assert rows[2][1] == 15.0 and isinstance(rows[2][1], float)
    assert rows[2][2] == "约90" and rows[3][3] == 0.95 and rows[0][0] == ""
    only = read_values(path, ["_meta", "missing"])
    assert list(only) == ["_meta"]


def test_read_values_refuses_with_the_findings(batch):
    files, _ = batch
    with pytest.raises(FileRefused) as refused:
        read_values(files["far_corner"])
    assert [f.code for f in refused.value.findings] == ["file-too-large"]


def test_a_missing_file_is_a_finding_not_an_exception(tmp_path):
    result = read_workbook(tmp_path / "nowhere.xlsx")
    assert not result.read and [f.code for f in result.findings] == ["file-unreadable"]
    assert result.sha256 is None


def test_a_macro_file_is_flagged_and_still_read(batch):
    files, _ = batch
    result = read_workbook(files["xlsm"])
    assert [f.code for f in result.findings] == ["file-has-macros"]
    assert result.read and result.sheets["考核评分"][0][0] == 42.0


def test_reader_errors_after_the_guard_become_findings(tmp_path):
    # a well-formed zip with a broken sheet: the guard lets it through, the reader fails, the file is named
    from tests.support.hostile import cell_sheet, workbook_parts, write_zip

    path = write_zip(tmp_path / "broken.xlsx", workbook_parts(cell_sheet('<row r="1"><c r="1A"><v>7</v></c></row>')))
    result = read_workbook(path)
    assert not result.read and [f.code for f in result.findings] == ["file-unreadable"]
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_seeded_mutants_of_real_workbooks_never_take_a_worker_or_the_guard_down(tmp_path, rulebook):
    """Every mutant is named by a finding or read; no worker dies, the guard never raises, memory stays bounded."""
    from kpisheet.validators.reading.guard import guard_bytes
    from kpisheet.workbook_templates.filler import fill_team_workbook, make_employees
    from kpisheet.workbook_templates.team_workbook import build_team_workbook

    blank = build_team_workbook(tmp_path / "team.xlsx", rulebook, "2026-Q2", "售后服务部", "测试组",
                                make_employees(6, seed=3))
    filled = tmp_path / "filled.xlsx"
    fill_team_workbook(blank, filled, seed=3)
    folder = tmp_path / "mutants"
    folder.mkdir()
    made = hostile.mutants(filled, folder, 150)
    for path in made:
        data = path.read_bytes()
        for sheets in (None, ("考核评分", "_meta")):
            guard_bytes(data, path.name, sheets=sheets)  # raises nothing, whatever the bytes
    for func in (hostile.guarded_read, hostile.guarded_read_sheets):
        results = dict(run_isolated(func, made, jobs=2))
        failures = {p.name: o.detail for p, o in results.items() if isinstance(o, WorkerFailure)}
        assert not failures, failures
        assert all(o["codes"] or o["read"] for o in results.values())
    assert max(o["peak_rss_mb"] for o in dict(run_isolated(hostile.guarded_read, made[:40], jobs=2)).values()) < 300


def test_a_large_batch_restarts_its_workers_a_few_times_not_every_200_files():
    """A fresh worker unpickles the batch's settings (1.2 s with a 97,000-person roster): a large batch
    replaces each worker about RESTARTS_PER_WORKER times, a small one every MAX_TASKS_PER_WORKER files."""
    from kpisheet.validators.reading import safe_read

    assert safe_read.tasks_per_worker(1000, 2) == safe_read.MAX_TASKS_PER_WORKER
    assert safe_read.tasks_per_worker(8000, 2) == 1000
    assert safe_read.tasks_per_worker(8001, 2) * 2 * safe_read.RESTARTS_PER_WORKER >= 8001
    assert safe_read.tasks_per_worker(1, 0) == safe_read.MAX_TASKS_PER_WORKER
