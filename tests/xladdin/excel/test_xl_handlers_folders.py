"""生成表格, 汇总, 校准 and 问题清单 through xlwings' remote engine, with the settings in a master's 设置 sheet.

Each folder button must leave on disk what the command line leaves for the
same inputs: the tests run both on twin folders and compare the files.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path

import pytest
from tests.support.master_builders import build_master, person
from tests.support.master_fakes import make_employee
from typer.testing import CliRunner

import tests.support.xlwings_remote as XR
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.excel import settings as xl_settings
from kpisheet.xladdin.cli.app import app
from kpisheet.xladdin.master.io import read_master, write_master
from tests.support.paths import REPO_ROOT

ROSTER = REPO_ROOT / "samples" / "roster.xlsx"
PERIOD = "2026-Q1"
# columns holding the moment a run happened: the CLI and the button run seconds apart
MOMENTS = {"updated_at", "first_seen", "time"}


# every test runs on the remote engine with no settings left from this machine (conftest)
pytestmark = pytest.mark.usefixtures("remote_excel")


def cli(*args: str):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def settings_workbook(path: Path, rulebook) -> Path:
    """An HR workbook holding a 设置 sheet: an empty master as consolidation writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_master(path, L.empty_master(), rulebook, now=dt.datetime(2026, 1, 5, 9))
    return path


def with_settings(payload: dict, values: dict[str, object]) -> dict:
    """The payload with HR's values typed into the 设置 sheet's Value column."""
    payload = copy.deepcopy(payload)
    sheet = next(s for s in payload["sheets"] if s["name"] == L.SETTINGS)
    labels = {item.label: item.key for item in L.SETTING_ITEMS}
    for row in sheet["values"][1:]:
        key = labels.get(row[0])
        if key in values:
            row[1] = values[key]
    return payload


def open_book(payload: dict):
    import xlwings as xw

    book = xw.Book(json=copy.deepcopy(payload))
    book.set_mock_caller()
    return book


def comparable(master: Path, rulebook, skip=(L.SETTINGS,)) -> dict[str, list]:
    """Every stored sheet of a master, rows without the run's moments, in a stable order."""
    data = read_master(master, rulebook)
    out = {}
    for sheet in L.STORED_SHEETS:
        if sheet in skip:
            continue
        rows = [{k: v for k, v in row.items() if k not in MOMENTS} for row in data.rows(sheet)]
        out[sheet] = sorted(rows, key=repr)
    return out


# --- 生成表格 ---------------------------------------------------------------------------


def test_forms_writes_what_the_cli_writes(handlers, rulebook, tmp_path):
    hr = settings_workbook(tmp_path / "hr" / "汇总表.xlsx", rulebook)
    values = {"roster": str(ROSTER), "period": PERIOD, "forms_folder": str(tmp_path / "button"),
              "deadline": dt.datetime(2026, 4, 10), "master": str(hr)}
    book = open_book(with_settings(XR.payload_from_xlsx(hr), values))
    handlers.on_ribbon("forms")
    done = XR.recorded(book, hr)
    (alert,) = done.alerts()
    assert alert.mode == "info", alert.prompt

    result = cli("forms", "--roster", ROSTER, "--period", PERIOD, "--out", tmp_path / "cli", "--deadline", "2026-04-10")
    assert result.exit_code == 0, result.output
    made = sorted(p.name for p in (tmp_path / "cli").glob("*.xlsx"))
    assert made and sorted(p.name for p in (tmp_path / "button").glob("*.xlsx")) == made
    for name in made:
        assert (tmp_path / "button" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    assert f"已生成 {len(made)} 个团队考核表" in alert.prompt and f"Wrote {len(made)} team workbook(s)" in alert.prompt
    assert xl_settings.remembered_master() == hr.resolve()


def test_forms_keeps_existing_workbooks_unless_the_setting_says_overwrite(handlers, rulebook, tmp_path):
    hr = settings_workbook(tmp_path / "hr" / "汇总表.xlsx", rulebook)
    out = tmp_path / "forms"
    values = {"roster": str(ROSTER), "period": PERIOD, "forms_folder": str(out)}
    open_book(with_settings(XR.payload_from_xlsx(hr), values))
    handlers.on_ribbon("forms")
    first = sorted(out.glob("*.xlsx"))[0]
    first.write_bytes(b"a manager's work")

    book = open_book(with_settings(XR.payload_from_xlsx(hr), values))
    handlers.on_ribbon("forms")
    (alert,) = XR.recorded(book, hr).alerts()
    assert alert.mode == "critical" and "已存在" in alert.prompt and "设置!B9" in alert.prompt
    assert first.read_bytes() == b"a manager's work"

    book = open_book(with_settings(XR.payload_from_xlsx(hr), {**values, "overwrite_forms": "是"}))
    handlers.on_ribbon("forms")
    (alert,) = XR.recorded(book, hr).alerts()
    assert alert.mode == "info" and first.read_bytes().startswith(b"PK")


def test_forms_without_a_roster_or_period_names_the_cell(handlers, rulebook, tmp_path):
    hr = settings_workbook(tmp_path / "hr" / "汇总表.xlsx", rulebook)
    book = open_book(with_settings(XR.payload_from_xlsx(hr), {"period": PERIOD, "forms_folder": str(tmp_path)}))
    handlers.on_ribbon("forms")
    (alert,) = XR.recorded(book, hr).alerts()
    assert alert.mode == "critical" and "设置!B4" in alert.prompt and "未填写" in alert.prompt
    assert "Roster file" in alert.prompt and "Traceback" not in alert.prompt

    book = open_book(with_settings(XR.payload_from_xlsx(hr), {"roster": str(ROSTER), "period": "2026-Q9",
                                                              "forms_folder": str(tmp_path)}))
    handlers.on_ribbon("forms")
    (alert,) = XR.recorded(book, hr).alerts()
    assert alert.mode == "critical" and "设置!B7" in alert.prompt


# --- 汇总 -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inbox_files(tmp_path_factory, rulebook) -> list[Path]:
    """Two real team workbooks, filled: 一组 clean enough to be accepted, 二组 with an invalid rating (rejected)."""
    from kpisheet.workbook_templates.filler import fill_team_workbook, make_employees
    from kpisheet.workbook_templates.team_workbook import build_team_workbook

    folder = tmp_path_factory.mktemp("inbox")
    files = []
    for team, prefix, mistakes in (("一组", "A", ()), ("二组", "B", ("rating-invalid",))):
        blank = build_team_workbook(folder / f"blank-{prefix}.xlsx", rulebook, PERIOD, "售后服务部", team,
                                    make_employees(5, seed=len(files) + 1, team=team, prefix=prefix))
        target = folder / "submitted" / f"{PERIOD}_{team}.xlsx"
        target.parent.mkdir(exist_ok=True)
        fill_team_workbook(blank, target, seed=3, mistakes=mistakes, rulebook=rulebook)
        files.append(target)
    return files


def twin_inbox(root: Path, files: list[Path]) -> Path:
    inbox = root / "inbox"
    inbox.mkdir(parents=True)
    for f in files:
        shutil.copy2(f, inbox / f.name)  # same bytes, same mtime: the same 提交 rows
    return inbox


def test_consolidate_makes_the_master_the_cli_makes(handlers, rulebook, tmp_path, inbox_files):
    cli_inbox = twin_inbox(tmp_path / "cli", inbox_files)
    result = cli("consolidate", cli_inbox, "--master", tmp_path / "cli" / "master.xlsx", "--period", PERIOD)
    assert result.exit_code == 1, result.output  # one file rejected

    button_inbox = twin_inbox(tmp_path / "button", inbox_files)
    master = tmp_path / "button" / "master.xlsx"
    hr = settings_workbook(tmp_path / "hr" / "设置.xlsx", rulebook)
    book = open_book(with_settings(XR.payload_from_xlsx(hr), {"inbox": str(button_inbox), "master": str(master),
                                                              "period": PERIOD}))
    handlers.on_ribbon("consolidate")
    (alert,) = XR.recorded(book, hr).alerts()
    assert alert.mode == "critical"  # a file was rejected
    assert "接受 1" in alert.prompt and "拒绝 1" in alert.prompt and "1 accepted" in alert.prompt
    assert f"{PERIOD}_二组.xlsx" in alert.prompt and str(master) in alert.prompt

    ours, theirs = comparable(master, rulebook), comparable(tmp_path / "cli" / "master.xlsx", rulebook)
    assert ours == theirs
    assert len(ours[L.SUMMARY]) == 5 and ours[L.ISSUES]
    # the new master carries the settings it was made with, so HR types them only once
    copied = xl_settings.read_settings_file(master)
    assert copied.paths("inbox") == [button_inbox] and copied.period() == PERIOD and copied.text("master") is None
    assert xl_settings.remembered_master() == master.resolve()


def test_consolidate_from_the_master_itself_and_again_changes_nothing(handlers, rulebook, tmp_path, inbox_files):
    inbox = twin_inbox(tmp_path / "hr", inbox_files)
    master = tmp_path / "hr" / "汇总表.xlsx"
    cli("consolidate", inbox, "--master", master, "--period", PERIOD)
    before = master.read_bytes()
    book = open_book(with_settings(XR.payload_from_xlsx(master), {"inbox": str(inbox), "master": str(master),
                                                                  "period": PERIOD}))
    handlers.on_ribbon("consolidate")
    (alert,) = XR.recorded(book, master).alerts()
    assert "汇总表无变化" in alert.prompt and "Nothing changed" in alert.prompt
    assert master.read_bytes() == before


def test_consolidate_refuses_a_master_open_in_excel(handlers, rulebook, tmp_path, inbox_files):
    inbox = twin_inbox(tmp_path / "hr", inbox_files)
    master = tmp_path / "hr" / "汇总表.xlsx"
    cli("consolidate", inbox, "--master", master, "--period", PERIOD)
    before = master.read_bytes()
    (master.parent / f"~${master.name}").write_bytes(b"lock")
    book = open_book(with_settings(XR.payload_from_xlsx(master), {"inbox": str(inbox), "master": str(master)}))
    handlers.on_ribbon("consolidate")
    (alert,) = XR.recorded(book, master).alerts()
    assert alert.mode == "critical" and "Traceback" not in alert.prompt
    assert "打开" in alert.prompt and "open" in alert.prompt
    assert master.read_bytes() == before


def test_consolidate_errors_are_message_boxes(handlers, rulebook, tmp_path):
    hr = settings_workbook(tmp_path / "hr" / "汇总表.xlsx", rulebook)
    payload = XR.payload_from_xlsx(hr)
    for values, says in (({"master": str(hr)}, "设置!B2"),                                    # no inbox
                         ({"inbox": str(tmp_path / "无此文件夹"), "master": str(hr)}, "找不到文件夹"),
                         ({"inbox": str(tmp_path)}, "还没有保存")):                           # remote book: no file
        book = open_book(with_settings(payload, values))
        handlers.on_ribbon("consolidate")
        done = XR.recorded(book, payload)
        (alert,) = done.alerts()
        assert alert.mode == "critical" and says in alert.prompt, alert.prompt
        assert "Traceback" not in alert.prompt and done.values() == {}


def test_a_workbook_without_settings_gets_a_settings_sheet_to_fill_in(handlers, tmp_path):
    path = XR.one_cell_xlsx(tmp_path / "工作簿1.xlsx", "HR")
    done = XR.press(handlers, "consolidate", path)
    assert done.added_sheets() == [L.SETTINGS]
    rows = done.sheet_rows(L.SETTINGS)
    assert [rows[r][0] for r in sorted(rows)] == [L.SETTINGS_COLUMNS[0].header] + [i.label for i in L.SETTING_ITEMS]
    (alert,) = done.alerts()
    assert "已为您添加" in alert.prompt and "was added" in alert.prompt


def test_a_settings_sheet_missing_items_gets_them_appended(handlers, rulebook, tmp_path):
    hr = settings_workbook(tmp_path / "hr" / "汇总表.xlsx", rulebook)
    payload = XR.payload_from_xlsx(hr)
    sheet = next(s for s in payload["sheets"] if s["name"] == L.SETTINGS)
    sheet["values"] = [row for row in sheet["values"] if not str(row[0]).startswith("收件文件夹")]
    book = open_book(payload)
    handlers.on_ribbon("consolidate")
    done = XR.recorded(book, payload)
    appended = len(sheet["values"])  # 0-based row index just below the sheet
    assert done.sheet_rows(L.SETTINGS)[appended][0] == L.SETTING_ITEMS[0].label
    (alert,) = done.alerts()
    assert f"设置!B{appended + 1}" in alert.prompt and "未填写" in alert.prompt


# --- 校准 -------------------------------------------------------------------------------------


CAL_PERIOD = "2026-Q3"


@pytest.fixture
def twin_masters(tmp_path, rulebook) -> tuple[Path, Path]:
    """Two identical masters whose department breaks the quotas: 12 people all scoring S, plus a small team."""
    big = [make_employee(rulebook, f"A{i:02d}", f"甲{i}", level=1.0 + 0.02 * i) for i in range(12)]
    small = [make_employee(rulebook, f"B{i:02d}", f"乙{i}", level=lvl) for i, lvl in enumerate((1.2, 1.1, 0.7))]
    roster = [person(e.employee_id, "一组") for e in big] + [person(e.employee_id, "二组") for e in small]
    a = build_master(tmp_path / "a" / "master.xlsx", rulebook, {"一组": big, "二组": small}, CAL_PERIOD, roster=roster)
    b = tmp_path / "b" / "master.xlsx"
    shutil.copytree(a.parent, b.parent)  # the master with its cycle record (kpisheet.db) beside it
    return a, b


def test_calibrate_changes_the_master_as_the_cli_does(handlers, rulebook, tmp_path, twin_masters):
    a, b = twin_masters
    log_before = len(read_master(b, rulebook).rows(L.LOG))
    result = cli("calibrate", "--master", a, "--period", CAL_PERIOD)
    assert result.exit_code in (0, 1), result.output
    book = open_book(with_settings(XR.payload_from_xlsx(b), {"master": str(b), "period": CAL_PERIOD}))
    handlers.on_ribbon("calibrate")
    (alert,) = XR.recorded(book, b).alerts()
    assert "校准完成" in alert.prompt and "Calibrated" in alert.prompt

    theirs, ours = comparable(a, rulebook, skip=()), comparable(b, rulebook, skip=())
    assert ours == theirs
    moved = [r for r in ours[L.SUMMARY] if r["calibrated_grade"]]
    assert moved, "the fixture breaks the quotas, so calibration must move grades"
    assert f"{len(moved)} 个校准等级有变更" in alert.prompt
    assert len(read_master(b, rulebook).rows(L.LOG)) >= log_before + len(moved)  # a 日志 row per moved grade


def test_calibrate_without_a_master_says_press_consolidate_first(handlers, rulebook, tmp_path):
    hr = settings_workbook(tmp_path / "hr" / "设置.xlsx", rulebook)
    missing = tmp_path / "hr" / "无.xlsx"
    book = open_book(with_settings(XR.payload_from_xlsx(hr), {"master": str(missing)}))
    handlers.on_ribbon("calibrate")
    (alert,) = XR.recorded(book, hr).alerts()
    assert alert.mode == "critical" and "找不到汇总表" in alert.prompt and "汇总" in alert.prompt
    assert not missing.exists()


# --- 问题清单 ---------------------------------------------------------------------------------


def test_findings_of_a_rejected_workbook_are_listed_in_it_with_links(handlers, rulebook, tmp_path, inbox_files):
    inbox = twin_inbox(tmp_path / "hr", inbox_files)
    master = tmp_path / "hr" / "汇总表.xlsx"
    cli("consolidate", inbox, "--master", master, "--period", PERIOD)
    xl_settings.remember_master(master)
    rejected = inbox / f"{PERIOD}_二组.xlsx"
    recorded_rows = [r for r in read_master(master, rulebook).rows(L.ISSUES) if r["file"].endswith(rejected.name)]
    assert recorded_rows

    done = XR.press(handlers, "findings", rejected)
    assert done.added_sheets() == [handlers.ISSUES_LIST]
    rows = done.sheet_rows(handlers.ISSUES_LIST)
    assert [rows[r][2] for r in sorted(rows) if r > 0] == [r["code"] for r in recorded_rows]
    links = {cell: target for (sheet, cell), target in done.hyperlinks().items() if sheet == handlers.ISSUES_LIST}
    assert links == {f"D{i + 2}": f"#'{r['sheet']}'!{r['cell']}" for i, r in enumerate(recorded_rows)
                     if r["sheet"] and r["cell"]}
    assert done.fills() == {}  # listing, not marking
    (alert,) = done.alerts()
    assert f"{len(recorded_rows)} 个问题" in alert.prompt


def test_findings_in_the_master_show_its_issues_sheet(handlers, rulebook, tmp_path, inbox_files):
    inbox = twin_inbox(tmp_path / "hr", inbox_files)
    master = tmp_path / "hr" / "汇总表.xlsx"
    cli("consolidate", inbox, "--master", master, "--period", PERIOD)
    issues = read_master(master, rulebook).rows(L.ISSUES)
    errors = sum(1 for r in issues if r["severity"] == "error")
    done = XR.press(handlers, "findings", master)
    assert done.added_sheets() == [] and done.values() == {}
    activated = [a["args"] for a in done.actions if a["func"] == "activateSheet"]
    assert activated == [[L.SHEET_ORDER.index(L.ISSUES)]]
    (alert,) = done.alerts()
    assert f"{errors} 个错误" in alert.prompt


def test_findings_without_any_record_asks_for_a_validation(handlers, tmp_path, inbox_files):
    done = XR.press(handlers, "findings", inbox_files[0])
    (alert,) = done.alerts()
    assert alert.mode == "critical" and "校验本表" in alert.prompt and done.added_sheets() == []


# --- the master open in Excel (desktop): saved, closed for the core, opened again ----------------


class _DesktopBook:
    """What the handler uses of a desktop workbook whose file is the master."""

    def __init__(self, path: Path, calls: list):
        self.fullname = str(path)
        self.name = path.name
        self._calls = calls
        self.app = type("App", (), {"books": type("Books", (), {"open": lambda _self, p: calls.append(("open", p))})()})()

    def save(self):
        self._calls.append(("save", self.fullname))

    def close(self):
        self._calls.append(("close", self.fullname))


def test_the_open_master_is_saved_closed_and_reopened_around_the_write(handlers, tmp_path):
    master = tmp_path / "汇总表.xlsx"
    master.write_bytes(b"master")
    calls: list = []
    book = _DesktopBook(master, calls)
    with handlers._master_released(book, master):
        calls.append(("core", None))
    assert calls == [("save", str(master)), ("close", str(master)), ("core", None), ("open", str(master))]

    calls.clear()
    with pytest.raises(RuntimeError):
        with handlers._master_released(book, master):
            raise RuntimeError("the core failed")
    assert calls[-1] == ("open", str(master))  # HR gets the master back even when the run failed

    calls.clear()
    other = _DesktopBook(tmp_path / "设置.xlsx", calls)
    (tmp_path / "设置.xlsx").write_bytes(b"x")
    with handlers._master_released(other, master):
        calls.append(("core", None))
    assert calls == [("core", None)]  # another workbook is left open
