"""校验本表 through xlwings' remote engine, on real team workbooks read from disk.

The truth each test compares with is what the command line's engine finds in
the same file (kpisheet.validators.validate.validate_file): the button must mark
exactly those cells, list exactly those findings and link to their cells.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from types import SimpleNamespace

import pytest

import tests.support.xlwings_remote as XR
from kpisheet.validators.reading.safe_read import read_values
from kpisheet.validators.validate import VALIDATED_SHEETS, validate_file, validate_values
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.excel import settings as xl_settings
from kpisheet.xladdin.annotate.copy import COLUMNS, FILLS, RESULTS_SHEET

MISTAKES = ("text-number", "percent-scale", "rating-invalid", "missing-input", "comment-missing", "weight-sum",
            "smart-missing", "signoff-missing", "overwrite-formula", "formula-injection")
ORDER = ("error", "warning", "info")


# every test runs on the remote engine with no settings left from this machine (conftest)
pytestmark = pytest.mark.usefixtures("remote_excel")


@pytest.fixture(scope="module")
def workbooks(soffice, tmp_path_factory, rulebook):
    """(flawed, its manifest, clean): filled team workbooks recalculated by LibreOffice, as Excel would hold them."""
    XR.require_remote_engine()  # before the slow part
    from kpisheet.workbook_templates.filler import fill_team_workbook, make_employees
    from kpisheet.workbook_templates.team_workbook import build_team_workbook
    from kpisheet.xladdin.kit.libreoffice import recalculate

    folder = tmp_path_factory.mktemp("validate")
    blank = build_team_workbook(folder / "blank.xlsx", rulebook, "2026-Q1", "售后服务部", "测试组",
                                make_employees(6, seed=11))
    manifest = fill_team_workbook(blank, folder / "flawed.xlsx", seed=7, mistakes=MISTAKES, rulebook=rulebook)
    flawed = recalculate(folder / "flawed.xlsx", folder / "lo_flawed")
    for seed in range(1, 200):  # the first plain fill the engine finds nothing in
        fill_team_workbook(blank, folder / "clean.xlsx", seed=seed, rulebook=rulebook)
        if not validate_file(folder / "clean.xlsx", rulebook=rulebook).findings:
            break
    clean = recalculate(folder / "clean.xlsx", folder / "lo_clean")
    return flawed, manifest, clean


def by_cell(report) -> dict[tuple[str, str], list]:
    cells = defaultdict(list)
    for f in report.findings:
        if f.sheet and f.cell:
            cells[(f.sheet, f.cell)].append(f)
    return dict(cells)


def values_report(path, rulebook):
    """Validation of the values alone, as the handler reads them through xlwings: not the file's XML, so a
    formula replaced by a value shows as the value that differs (score-total-mismatch), not as
    template-formula-replaced (issue 15)."""
    return validate_values(read_values(path, VALIDATED_SHEETS), source=path.name, rulebook=rulebook,
                           calculated=True)


def hex_fill(severity: str) -> str:
    return "#" + FILLS[severity].lower()


def test_a_flawed_workbook_is_marked_on_exactly_the_flagged_cells(workbooks, handlers, rulebook):
    flawed, manifest, _ = workbooks
    # every kind of mistake the filler made is found (else this test would prove little)
    assert {c.code for c in manifest.expected_findings()} <= {f.code for f in validate_file(flawed, rulebook=rulebook).findings}
    report = values_report(flawed, rulebook)
    assert {f.code for f in report.findings} >= {"score-total-mismatch"}
    flagged = by_cell(report)
    assert len(flagged) >= 8

    done = XR.press(handlers, "validate", flawed)

    assert set(done.fills()) == set(flagged)
    assert set(done.notes()) == set(flagged)
    for cell, found in flagged.items():
        worst = min((f.severity for f in found), key=ORDER.index)
        assert done.fills()[cell] == hex_fill(worst), cell
        note = done.notes()[cell]
        for f in found:
            assert f.code in note and f.message_zh in note and f.message_en in note and f.hint in note

    # 校验结果: annotate's columns, one row per finding in the engine's order, each cell a link
    assert done.added_sheets() == [RESULTS_SHEET]
    rows = done.sheet_rows(RESULTS_SHEET)
    assert [rows[0][i] for i in range(len(COLUMNS))] == [title for title, _ in COLUMNS]
    assert [rows[r][2] for r in range(1, len(report.findings) + 1)] == [f.code for f in report.findings]
    assert len(rows) == len(report.findings) + 1
    expected_links = {(RESULTS_SHEET, f"D{i + 2}"): f"#'{f.sheet}'!{f.cell}"
                      for i, f in enumerate(report.findings) if f.sheet and f.cell}
    assert done.hyperlinks() == expected_links
    # text from the workbook that looks like a formula is written as text
    for row in rows.values():
        for value in row.values():
            assert not (isinstance(value, str) and value.startswith("=")), value

    (alert,) = done.alerts()
    errors = sum(1 for f in report.findings if f.severity == "error")
    assert alert.mode == "critical" and f"发现 {errors} 个错误" in alert.prompt and f"Found {errors} error(s)" in alert.prompt
    assert f"{len(flagged)} 个单元格" in alert.prompt


def test_a_clean_workbook_gets_no_mark_and_a_success_message(workbooks, handlers, rulebook):
    _, _, clean = workbooks
    assert validate_file(clean, rulebook=rulebook).findings == ()
    done = XR.press(handlers, "validate", clean)
    assert done.fills() == {} and done.notes() == {} and done.added_sheets() == []
    (alert,) = done.alerts()
    assert alert.mode == "info" and "校验通过" in alert.prompt and "Validation passed" in alert.prompt


def test_validating_again_gives_corrected_cells_their_own_fill_back(workbooks, handlers, rulebook):
    """A cell marked by the last run and now correct loses the mark; a cell still wrong keeps its recorded colour."""
    flawed, _, clean = workbooks
    report = values_report(flawed, rulebook)  # what the handler sees: values, not the file's formulas
    still_wrong = next(iter(by_cell(report)))
    corrected = ("汇总", "A1")  # never flagged in this file: stands for a cell the manager fixed
    assert corrected not in by_cell(report)
    payload = XR.payload_from_xlsx(flawed)
    header = [title for title, _ in COLUMNS] + ["原底色\nOriginal fill"]
    previous = [header,
                [1, "错误 error", "score-missing", f"{corrected[0]}!{corrected[1]}"] + [""] * 7 + ["#FFF2CC"],
                [2, "错误 error", "x", f"{still_wrong[0]}!{still_wrong[1]}"] + [""] * 7 + ["#ABCDEF"]]
    payload["sheets"].append({"name": RESULTS_SHEET, "values": previous, "pictures": [], "tables": [],
                              "notes": []})
    for sheet in payload["sheets"]:
        if sheet["name"] == corrected[0]:
            sheet["notes"].append({"address": corrected[1]})
    import xlwings as xw

    book = xw.Book(json=copy.deepcopy(payload))
    book.set_mock_caller()
    handlers.on_ribbon("validate")
    done = XR.recorded(book, payload)
    assert done.fills()[corrected] == "#fff2cc"
    deleted = [(name, a["args"][0].replace("$", "")) for a, name in zip(done.actions, done._sheet_at)
               if a["func"] == "deleteNote"]
    assert deleted == [corrected]
    assert corrected not in done.notes() and set(done.notes()) == set(by_cell(report))
    assert done.added_sheets() == []  # the existing list is rewritten
    rows = done.sheet_rows(RESULTS_SHEET)
    kept = {rows[r][3]: rows[r][len(COLUMNS)] for r in rows if r > 0}
    assert kept[f"{still_wrong[0]}!{still_wrong[1]}"] == "#ABCDEF"


def test_validation_takes_roster_and_period_from_the_remembered_master(workbooks, handlers, rulebook, tmp_path):
    from kpisheet.xladdin.master.io import write_master

    _, _, clean = workbooks
    master = tmp_path / "hr" / "汇总表.xlsx"
    master.parent.mkdir()
    data = L.empty_master()
    data.sheets[L.SETTINGS] = L.settings_rows({"period": "2025-Q4"})
    write_master(master, data, rulebook, now=dt.datetime(2026, 1, 5))
    xl_settings.remember_master(master)

    expected = validate_file(clean, rulebook=rulebook, period="2025-Q4")
    assert "team-period-mismatch" in {f.code for f in expected.findings}
    done = XR.press(handlers, "validate", clean)
    assert set(done.notes()) == set(by_cell(expected))
    listed = done.sheet_rows(RESULTS_SHEET)
    assert {listed[r][2] for r in listed if r > 0} == {f.code for f in expected.findings}
    (alert,) = done.alerts()
    assert alert.mode == "critical"


def test_a_broken_remembered_master_is_a_message_not_a_guess(workbooks, handlers, tmp_path):
    _, _, clean = workbooks
    xl_settings.remember_master(tmp_path / "gone" / "汇总表.xlsx")
    done = XR.press(handlers, "validate", clean)
    (alert,) = done.alerts()
    assert alert.mode == "critical" and "不存在" in alert.prompt and "does not exist" in alert.prompt
    assert done.fills() == {} and done.added_sheets() == []


def test_validating_a_workbook_that_is_not_a_team_workbook_says_so(handlers, tmp_path):
    path = XR.one_cell_xlsx(tmp_path / "plain.xlsx", "工号")
    done = XR.press(handlers, "validate", path)
    (alert,) = done.alerts()
    assert "不是考核表" in alert.prompt and "not a team workbook" in alert.prompt
    assert done.fills() == {} and done.added_sheets() == []


# --- sheet protection on desktop Excel (its COM calls, with a stand-in sheet) ---------------


class _ComSheet:
    """What pywin32 exposes of a worksheet: ProtectContents, Unprotect, Protect."""

    def __init__(self, name: str, protected: bool):
        self.name = name
        self.calls: list[tuple] = []
        self.api = SimpleNamespace(ProtectContents=protected,
                                   Unprotect=lambda *a, **k: self.calls.append(("Unprotect", a, k)),
                                   Protect=lambda *a, **k: self.calls.append(("Protect", a, k)))
        self.book = SimpleNamespace(app=SimpleNamespace(engine=SimpleNamespace(name="excel")))


def test_protected_sheets_are_unprotected_while_marking_and_protected_again(handlers, monkeypatch):
    monkeypatch.setattr(handlers.sys, "platform", "win32")
    locked, open_ = _ComSheet("考核评分", True), _ComSheet("汇总", False)
    with handlers.unprotected([locked, open_]):
        assert [c[0] for c in locked.calls] == ["Unprotect"]
    assert [c[0] for c in locked.calls] == ["Unprotect", "Protect"]
    protect = locked.calls[1][2]
    assert protect["Contents"] and protect["AllowFormattingColumns"] and protect["AllowFormattingRows"]
    assert protect["Password"] == ""
    assert open_.calls == []  # an unprotected sheet is left as it was

    with pytest.raises(RuntimeError):
        with handlers.unprotected([locked]):
            raise RuntimeError("marking failed")
    assert [c[0] for c in locked.calls][-1] == "Protect"  # put back even when marking fails
