"""Ribbon handlers driven through xlwings' remote engine, on workbooks read from disk."""

from __future__ import annotations

import copy
import datetime as dt

import openpyxl
import pytest
import yaml

import tests.support.xlwings_remote as XR
from kpisheet.validators.policy import grading
from kpisheet.validators.layout import (
    RECOMPUTE, SUMMARY, FIRST_DATA_ROW, HEADER_ROW, recompute_columns, summary_columns,
)
from kpisheet.validators.policy.periods import PeriodError
from kpisheet.validators.reading.submission import employee_lines, load_team_workbook, number
from kpisheet.xladdin.kit.crash_log import log_path
from kpisheet.xladdin.excel.rulebook_source import RULEBOOK_ENV


# every test runs on the remote engine with no settings left from this machine (conftest)
pytestmark = pytest.mark.usefixtures("remote_excel")


@pytest.fixture
def small_file(tmp_path):
    """A plain workbook (not a team workbook) with a number, a date, text and a gap."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "数据"
    sheet["A1"], sheet["B1"], sheet["C1"] = "工号", 95.5, dt.date(2026, 12, 28)
    sheet["A3"] = "E001"
    book.create_sheet("其他")["B2"] = 7
    path = tmp_path / "plain.xlsx"
    book.save(path)
    return path


def test_harness_reads_the_file_and_records_a_value_fill_and_note(small_file, handlers):
    book = XR.book_from_xlsx(small_file)
    import xlwings as xw

    caller = xw.Book.caller()
    assert caller.name == "plain.xlsx"
    assert handlers.read_sheet(caller.sheets["数据"]) == [
        ["工号", 95.5, dt.datetime(2026, 12, 28)],
        ["", "", ""],
        ["E001", "", ""],
    ]
    assert handlers.read_sheet(caller.sheets["其他"]) == [["", ""], ["", 7.0]]

    def handler(book):  # a handler's two kinds of write: a block of values, a flagged cell
        sheet = book.sheets["数据"]
        handlers.write_block(sheet, 0, 3, [["结果 / result"], [42.0]])
        handlers.mark_cell(sheet, "B1", "应为 0-1 之间的小数 / must be a fraction 0-1")
        handlers.link_cell(book.sheets["其他"], "A1", "数据", "B1", "数据!B1")

    handlers.ACTIONS["_smoke"] = handler
    try:
        handlers.on_ribbon("_smoke")
    finally:
        del handlers.ACTIONS["_smoke"]
    done = XR.recorded(book, small_file)
    assert done.values() == {("数据", "D1"): "结果 / result", ("数据", "D2"): 42.0}
    assert done.fills() == {("数据", "B1"): handlers.FILL_PROBLEM.lower()}
    assert done.notes() == {("数据", "B1"): "应为 0-1 之间的小数 / must be a fraction 0-1"}
    assert done.hyperlinks() == {("其他", "A1"): "#'数据'!B1"}
    assert done.alerts() == []


def test_unknown_action_becomes_a_message_box(small_file, handlers):
    book = XR.book_from_xlsx(small_file)
    handlers.on_ribbon("no-such-button")
    (alert,) = XR.recorded(book, small_file).alerts()
    assert alert.mode == "critical" and alert.title == handlers.TITLE
    assert "未知的按钮操作" in alert.prompt and "unknown ribbon action" in alert.prompt


def test_recompute_on_a_plain_workbook_says_so_and_writes_nothing(small_file, handlers):
    done = XR.press(handlers, "recompute", small_file)
    (alert,) = done.alerts()
    assert alert.mode == "critical"
    assert "不是考核表" in alert.prompt and "not a team workbook" in alert.prompt
    assert done.values() == {} and done.added_sheets() == []


def test_unexpected_failure_is_a_message_box_and_a_log_entry(small_file, handlers):
    book = XR.book_from_xlsx(small_file)

    def broken(book):
        raise RuntimeError("disk on fire")

    handlers.ACTIONS["_broken"] = broken
    try:
        handlers.on_ribbon("_broken")  # must not raise
    finally:
        del handlers.ACTIONS["_broken"]
    (alert,) = XR.recorded(book, small_file).alerts()
    assert "操作失败" in alert.prompt and "The action failed" in alert.prompt
    assert str(log_path()) in alert.prompt and "Traceback" not in alert.prompt
    log = log_path().read_text(encoding="utf-8")
    assert "Traceback" in log and "disk on fire" in log and "'_broken'" in log


# --- recompute on a real team workbook ------------------------------------------------------


@pytest.fixture(scope="module")
def calculated_team_workbook(soffice, tmp_path_factory):
    """A team workbook as the writer makes it, filled in, and recalculated by LibreOffice."""
    XR.require_remote_engine()  # before the slow part, so a machine without it skips at once
    from kpisheet.validators.rulebook.load import default_rulebook
    from kpisheet.workbook_templates.filler import fill_team_workbook, make_employees
    from kpisheet.workbook_templates.team_workbook import build_team_workbook
    from kpisheet.xladdin.kit.libreoffice import recalculate

    folder = tmp_path_factory.mktemp("recompute")
    blank = build_team_workbook(folder / "blank.xlsx", default_rulebook(), "2026-Q4", "售后服务部", "测试组",
                                make_employees(6, seed=3))
    fill_team_workbook(blank, folder / "filled.xlsx", seed=5)
    return recalculate(folder / "filled.xlsx", folder / "calculated")


def _expected(path, rulebook):
    """What the command line computes from the same file: reader + grading, per employee."""
    team = load_team_workbook(path, rulebook)
    lines = employee_lines(team)
    return {p.employee_id: (grading.score_employee(rulebook, lines[p.employee_id],
                                                   commendations=number(p.commendations), veto=p.veto),
                            number(p.total))
            for p in team.summary}


def _result_rows(done, rulebook):
    keys = [c.key for c in recompute_columns(rulebook)]
    rows = done.sheet_rows(RECOMPUTE)
    assert [rows[HEADER_ROW][i] for i in range(len(keys))] == [c.header for c in recompute_columns(rulebook)]
    return {rows[r][0]: dict(zip(keys, (rows[r][i] for i in range(len(keys)))))
            for r in sorted(rows) if r > HEADER_ROW}


def test_recompute_writes_what_the_engine_computes(calculated_team_workbook, handlers, rulebook):
    done = XR.press(handlers, "recompute", calculated_team_workbook)
    assert done.added_sheets() == [RECOMPUTE]
    got = _result_rows(done, rulebook)
    expected = _expected(calculated_team_workbook, rulebook)
    assert set(got) == set(expected) and len(got) == 6
    for employee, (result, sheet_total) in expected.items():
        row = got[employee]
        assert result.complete
        assert (row["total"], row["grade"], row["coefficient"], row["bonus"]) == (
            result.total, result.grade, result.coefficient, result.bonus)
        assert {c.code: row[f"subtotal_{c.code}"] for c in rulebook.categories} == result.subtotals
        # LibreOffice's formulas and the engine agree to the cent
        assert row["sheet_total"] == sheet_total == result.total
        assert row["difference"] == 0 and row["status"].startswith("一致")
    (alert,) = done.alerts()
    assert alert.mode == "info" and "6 名员工" in alert.prompt and "Recomputed 6 employees" in alert.prompt


def test_recompute_flags_exactly_the_employee_whose_sheet_total_differs(calculated_team_workbook, handlers,
                                                                        rulebook):
    import xlwings as xw

    payload = XR.payload_from_xlsx(calculated_team_workbook)
    summary = next(s for s in payload["sheets"] if s["name"] == SUMMARY)
    total_col = [c.key for c in summary_columns(rulebook)].index("total")
    target_row = summary["values"][FIRST_DATA_ROW + 1]
    tampered_id, original = target_row[0], target_row[total_col]
    target_row[total_col] = original + 1.5  # as if a formula had been typed over
    book = xw.Book(json=copy.deepcopy(payload))
    book.set_mock_caller()
    handlers.on_ribbon("recompute")
    got = _result_rows(XR.recorded(book, payload), rulebook)
    flagged = {emp for emp, row in got.items() if row["difference"] != 0}
    assert flagged == {tampered_id}
    assert got[tampered_id]["difference"] == -1.5 and "differs" in got[tampered_id]["status"]
    (alert,) = XR.recorded(book, payload).alerts()
    assert alert.mode == "critical" and "1 人与表内公式结果不一致" in alert.prompt


def test_recompute_refuses_a_workbook_of_another_rulebook(calculated_team_workbook, handlers, rulebook,
                                                          tmp_path, monkeypatch):
    data = rulebook.model_dump(mode="json")
    data["scoring"]["cap"] = 130
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv(RULEBOOK_ENV, str(other))
    done = XR.press(handlers, "recompute", calculated_team_workbook)
    (alert,) = done.alerts()
    assert alert.mode == "critical" and "规则表" in alert.prompt and "fingerprint" in alert.prompt
    assert done.added_sheets() == []


def test_when_even_the_message_box_fails_the_message_goes_to_stderr(small_file, handlers, monkeypatch, capsys):
    XR.book_from_xlsx(small_file)

    def no_message_box(*args, **kwargs):
        raise RuntimeError("Excel is busy")

    monkeypatch.setattr(handlers, "alert", no_message_box)
    handlers.on_ribbon("recompute")  # must not raise
    err = capsys.readouterr().err
    assert "不是考核表" in err and "not a team workbook" in err and "Traceback" not in err
    assert "Excel is busy" in log_path().read_text(encoding="utf-8")


@pytest.mark.parametrize("error, says", [
    (PermissionError(13, "Permission denied", "/hr/汇总表.xlsx"), ("读写文件失败", "/hr/汇总表.xlsx", "Permission denied")),
    (PeriodError("期间不对", "bad period"), ("期间不对", "bad period")),
])
def test_file_errors_and_core_errors_that_explain_themselves_become_message_boxes(small_file, handlers, error, says):
    book = XR.book_from_xlsx(small_file)

    def failing(book):
        raise error

    handlers.ACTIONS["_failing"] = failing
    try:
        handlers.on_ribbon("_failing")
    finally:
        del handlers.ACTIONS["_failing"]
    (alert,) = XR.recorded(book, small_file).alerts()
    assert alert.mode == "critical" and "Traceback" not in alert.prompt
    for text in says:
        assert text in alert.prompt
