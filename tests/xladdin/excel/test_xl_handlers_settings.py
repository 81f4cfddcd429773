"""The add-in's settings: the master's 设置 sheet (read from values, kept by consolidation) and the remembered master.

No Excel and no xlwings engine needed: the handlers pass the sheet's values in.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from tests.support.master_builders import build_master
from tests.support.master_fakes import make_employee

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.excel import settings as S
from kpisheet.xladdin.master.io import read_master, write_master


@pytest.fixture(autouse=True)
def _own_config(monkeypatch, tmp_path):
    monkeypatch.setattr(S, "CONFIG_PATH", tmp_path / "home" / ".kpisheet" / "xladdin.conf")
    monkeypatch.delenv(S.MASTER_ENV, raising=False)


def sheet(values: dict[str, object], *, skip: tuple[str, ...] = (), offset: int = 0) -> list[list]:
    """A 设置 sheet as HR might lay it out: header, then one row per item (optionally shifted right)."""
    rows = [[""] * offset + [c.header for c in L.SETTINGS_COLUMNS]]
    for item in L.SETTING_ITEMS:
        if item.key not in skip:
            rows.append([""] * offset + [item.label, values.get(item.key, ""), item.note])
    return rows


def test_items_are_found_by_label_wherever_hr_put_the_columns(tmp_path):
    rows = sheet({"inbox": "收件箱", "period": "2026-Q1"}, offset=2)
    rows.insert(1, ["", "", "备注：本表由 HR 维护", "", ""])  # a stray note row is ignored
    settings = S.parse_settings(rows, workbook="汇总表.xlsx", base=tmp_path)
    assert settings.missing == ()
    assert settings.cells["inbox"] == "D3" and settings.cells["period"] == f"D{3 + 5}"
    assert settings.text("inbox") == "收件箱" and settings.period() == "2026-Q1"


def test_labels_match_in_either_language_and_missing_items_are_listed(tmp_path):
    rows = [["Inbox folder", "in"], ["花名册", "roster.xlsx"], ["  考核期间  Period ", "2026-03"]]
    settings = S.parse_settings(rows, workbook="m.xlsx", base=tmp_path)
    assert settings.path("inbox") == tmp_path / "in" and settings.path("roster") == tmp_path / "roster.xlsx"
    assert settings.period() == "2026-03"
    assert set(settings.missing) == {i.key for i in L.SETTING_ITEMS} - {"inbox", "roster", "period"}
    assert [r[0] for r in S.missing_rows(settings)] == [L.SETTING_ITEMS[i].label for i in range(len(L.SETTING_ITEMS))
                                                        if L.SETTING_ITEMS[i].key in settings.missing]


def test_paths_relative_quoted_and_several_inboxes(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_TEST_ROOT", str(tmp_path / "env"))
    rows = sheet({"inbox": '一组 ; "二组"；$KPI_TEST_ROOT/三组', "roster": f'"{tmp_path / "r.xlsx"}"'})
    settings = S.parse_settings(rows, workbook="m.xlsx", base=tmp_path / "hr")
    assert settings.paths("inbox") == [tmp_path / "hr" / "一组", tmp_path / "hr" / "二组", tmp_path / "env" / "三组"]
    assert settings.path("roster") == tmp_path / "r.xlsx"


def test_a_period_excel_turned_into_a_date_reads_as_the_month(tmp_path):
    for value in (dt.datetime(2026, 3, 1), "2026-03-01", 2026.0):
        settings = S.parse_settings(sheet({"period": value}), workbook="m.xlsx", base=tmp_path)
        assert settings.period() == ("2026" if value == 2026.0 else "2026-03")


def test_errors_name_the_workbook_cell_and_fix(tmp_path):
    settings = S.parse_settings(sheet({"period": "2026-Q5", "deadline": "下周五", "overwrite_forms": "也许"}),
                                workbook="汇总表.xlsx", base=tmp_path)
    with pytest.raises(S.SettingsError) as empty:
        settings.require("inbox")
    assert "汇总表.xlsx" in empty.value.message_zh and "设置!B2" in empty.value.message_zh
    assert "未填写" in empty.value.message_zh and "Inbox folder" in empty.value.message_en
    with pytest.raises(S.SettingsError) as period:
        settings.period()
    assert "设置!B7" in period.value.message_zh and "2026-Q5" in period.value.message_zh + period.value.message_en
    with pytest.raises(S.SettingsError) as deadline:
        settings.deadline()
    assert "设置!B8" in deadline.value.message_zh and "2026-04-10" in deadline.value.message_en
    with pytest.raises(S.SettingsError) as flag:
        settings.flag("overwrite_forms")
    assert "设置!B9" in flag.value.message_zh and "也许" in flag.value.message_zh
    with pytest.raises(S.SettingsError) as missing_file:
        S.parse_settings(sheet({"roster": "无此文件.xlsx"}), workbook="m.xlsx", base=tmp_path).existing_file("roster")
    assert "找不到文件" in missing_file.value.message_zh and str(tmp_path) in missing_file.value.message_zh
    with pytest.raises(S.SettingsError) as missing_folder:
        S.parse_settings(sheet({"inbox": "无此文件夹"}), workbook="m.xlsx", base=tmp_path).existing_folders("inbox")
    assert "找不到文件夹" in missing_folder.value.message_zh and "no such folder" in missing_folder.value.message_en


def test_values_of_the_simple_items(tmp_path):
    settings = S.parse_settings(sheet({"deadline": dt.datetime(2026, 4, 10), "overwrite_forms": "是"}),
                                workbook="m.xlsx", base=tmp_path)
    assert settings.deadline() == dt.date(2026, 4, 10) and settings.flag("overwrite_forms") is True
    blank = S.parse_settings(sheet({"deadline": "２０２６/４/１０"}), workbook="m.xlsx", base=tmp_path)
    assert blank.deadline() == dt.date(2026, 4, 10) and blank.flag("overwrite_forms") is False
    assert blank.period(required=False) is None and blank.roster(None) is None


def test_the_master_is_this_workbook_when_blank(tmp_path):
    own = tmp_path / "汇总表.xlsx"
    assert S.parse_settings(sheet({}), workbook=own.name, base=tmp_path, this_workbook=own).master() == own
    with pytest.raises(S.SettingsError) as unsaved:
        S.parse_settings(sheet({}), workbook="工作簿1", base=None).master()
    assert "还没有保存" in unsaved.value.message_zh and "never been saved" in unsaved.value.message_en
    named = S.parse_settings(sheet({"master": "HR/master.csv"}), workbook="x.xlsx", base=tmp_path)
    with pytest.raises(S.SettingsError) as wrong:
        named.master()
    assert ".xlsx" in wrong.value.message_zh


def test_the_rulebook_is_the_addins_unless_set(tmp_path, rulebook):
    settings = S.parse_settings(sheet({}), workbook="m.xlsx", base=tmp_path)
    assert settings.rulebook().fingerprint() == rulebook.fingerprint() and settings.rulebook_file() is None
    broken = tmp_path / "rules.yaml"
    broken.write_text("meta: [oops\n", encoding="utf-8")
    with pytest.raises(S.SettingsError) as error:
        S.parse_settings(sheet({"rulebook": "rules.yaml"}), workbook="m.xlsx", base=tmp_path).rulebook()
    assert "设置!B5" in error.value.message_zh and "规则表有问题" in error.value.message_zh


def test_the_remembered_master_round_trip_and_the_environment_wins(tmp_path, monkeypatch):
    assert S.remembered_master() is None
    S.CONFIG_PATH.parent.mkdir(parents=True)
    S.CONFIG_PATH.write_text('"Other","x"\n', encoding="utf-8")
    master = tmp_path / "HR" / "汇总表.xlsx"
    S.remember_master(master)
    assert S.remembered_master() == master.resolve()
    S.remember_master(tmp_path / "new.xlsx")
    text = S.CONFIG_PATH.read_text(encoding="utf-8")
    assert '"Other","x"' in text and text.count(S.CONFIG_MASTER_KEY) == 1
    monkeypatch.setenv(S.MASTER_ENV, str(tmp_path / "from-env.xlsx"))
    assert S.remembered_master() == tmp_path / "from-env.xlsx"


# --- the 设置 sheet in the master file ----------------------------------------------------


def test_a_new_master_has_every_item_and_hr_values_survive_consolidation(tmp_path, rulebook):
    master = build_master(tmp_path / "master.xlsx", rulebook,
                          {"一组": [make_employee(rulebook, f"E{i}", f"员工{i}") for i in range(3)]}, "2026-Q1")
    settings = S.read_settings_file(master)
    assert settings.missing == () and all(settings.text(i.key) is None for i in L.SETTING_ITEMS)

    book = openpyxl.load_workbook(master)  # HR fills in the sheet by hand
    ws = book[L.SETTINGS]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == L.SETTING_ITEMS[0].label:
            row[1].value = "收件箱"
        if row[0].value.startswith("考核期间"):
            row[1].value = "2026-Q1"
    book.save(master)

    build_master(master, rulebook, {"二组": [make_employee(rulebook, "F1", "员工F1")]}, "2026-Q1",
                 now=dt.datetime(2026, 10, 10, 9))
    again = S.read_settings_file(master)
    assert again.text("inbox") == "收件箱" and again.period() == "2026-Q1"
    assert {r["employee_id"] for r in read_master(master, rulebook).rows(L.SUMMARY)} == {"E0", "E1", "E2", "F1"}


def test_an_older_master_without_the_sheet_gains_it(tmp_path, rulebook):
    master = build_master(tmp_path / "master.xlsx", rulebook,
                          {"一组": [make_employee(rulebook, "E1", "员工1")]}, "2026-Q1")
    book = openpyxl.load_workbook(master)
    del book[L.SETTINGS]
    book.save(master)
    with pytest.raises(S.SettingsError) as error:
        S.read_settings_file(master)
    assert "没有“设置”工作表" in error.value.message_zh
    build_master(master, rulebook, {"一组": [make_employee(rulebook, "E1", "员工1")]}, "2026-Q1")
    assert S.read_settings_file(master).missing == ()


def test_a_remembered_master_that_is_gone_says_so(tmp_path):
    with pytest.raises(S.SettingsError) as error:
        S.read_settings_file(tmp_path / "gone.xlsx")
    assert "不存在" in error.value.message_zh and str(S.CONFIG_PATH) in error.value.message_zh


def test_a_hostile_file_at_the_remembered_master_is_refused_by_the_guard(tmp_path):
    from tests.support.hostile import far_corner_xlsx

    # its far corner is on the sheet read (a sheet nobody reads is never handed to the reader)
    master = far_corner_xlsx(tmp_path, name="master.xlsx", sheet_name="设置")  # would abort python-calamine unguarded
    before = master.read_bytes()
    with pytest.raises(S.SettingsError) as error:
        S.read_settings_file(master)
    assert "未读取" in error.value.message_zh and "not read" in error.value.message_en
    assert master.read_bytes() == before


def test_settings_rows_round_trip_through_the_writer(tmp_path, rulebook):
    data = L.empty_master()
    data.sheets[L.SETTINGS] = L.settings_rows({"inbox": "=cmd|' /C calc'!A0", "period": "2026-Q1"})
    path = tmp_path / "m.xlsx"
    write_master(path, data, rulebook, now=dt.datetime(2026, 1, 1))
    back = read_master(path, rulebook).rows(L.SETTINGS)
    assert back == data.rows(L.SETTINGS)
    assert openpyxl.load_workbook(path)[L.SETTINGS]["B2"].data_type == "s"  # typed text is never a formula
