"""Writing and reading the master: round trip, formula injection, tolerance to hand edits, charts, LibreOffice."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import zipfile

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from tests.support.master_fakes import make_employee, make_report, team_employees

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.io import FORMULA_LEADS, MasterReadError, read_master, write_master
from kpisheet.xladdin.master.layout import empty_master
from kpisheet.xladdin.master.legacy import merge
from kpisheet.xladdin.master.merge import sheets_differ

NOW = dt.datetime(2026, 4, 1, 9, 30, 15)
HOSTILE = ('=HYPERLINK("http://x","y")', "=1+1", "+1", "-1", "@SUM(A1)", "\tTAB", "\rCR")


def headers(ws) -> dict[str, int]:
    """Chinese header (first line) -> 1-based column."""
    return {str(c.value).split("\n")[0]: c.column for c in ws[1] if c.value}


@pytest.fixture
def merged(tmp_path, rulebook):
    people = team_employees(rulebook, "A", 10)
    people[0] = make_employee(rulebook, "A000", "员工A0", comment=HOSTILE[0])
    people[1] = make_employee(rulebook, "A001", "=1+1")
    people += [make_employee(rulebook, f"H{i}", "甲", comment=text) for i, text in enumerate(HOSTILE)]
    a = make_report(tmp_path / "in" / "a.xlsx", people, team="一组", period="2026-03")
    b = make_report(tmp_path / "in" / "b.xlsx", team_employees(rulebook, "B", 12, base_level=0.6), team="二组",
                    period="2026-03")
    feb = make_report(tmp_path / "in" / "feb.xlsx", team_employees(rulebook, "B", 12, base_level=0.8),
                      team="二组", period="2026-02")
    return merge(empty_master(), [a, b, feb], rulebook, now=NOW)


def test_round_trip_reads_back_what_was_written(tmp_path, rulebook, merged):
    path = tmp_path / "master.xlsx"
    write_master(path, merged.data, rulebook, now=NOW)
    back = read_master(path, rulebook)
    assert back.missing_sheets == ()
    for sheet in L.STORED_SHEETS:
        assert back.rows(sheet) == merged.data.rows(sheet), sheet
    assert not sheets_differ(back, merged.data, rulebook)
    assert back.meta["master_id"] == L.MASTER_ID and back.meta["rulebook_fingerprint"] == rulebook.fingerprint()
    assert back.rows(L.SUMMARY)[0]["updated_at"] == NOW


def test_text_from_submissions_is_never_a_formula(tmp_path, rulebook, merged):
    path = tmp_path / "master.xlsx"
    write_master(path, merged.data, rulebook, now=NOW)
    book = openpyxl.load_workbook(path)
    found = {}
    for ws in (book[L.SUMMARY], book[L.DETAIL]):
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                # openpyxl leaves the XML escape of a carriage return as it is
                text = cell.value.replace("_x000D_", "\r") if isinstance(cell.value, str) else None
                if text and text.startswith(FORMULA_LEADS):
                    found.setdefault(text, []).append(cell)
    assert set(HOSTILE) <= set(found)
    for text, cells in found.items():
        for cell in cells:
            assert cell.data_type == "s", (text, cell.coordinate)
            assert cell.quotePrefix, cell.coordinate  # Excel keeps it text even after an edit
    back = read_master(path, rulebook)
    assert {r["comment"] for r in back.rows(L.DETAIL)} >= set(HOSTILE)
    assert "=1+1" in {r["name"] for r in back.rows(L.SUMMARY)}
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert all(b"<f>" not in archive.read(n) and b"<f " not in archive.read(n) for n in sheets)


def test_layout_frozen_filtered_formatted_and_meta_hidden(tmp_path, rulebook, merged):
    path = tmp_path / "master.xlsx"
    write_master(path, merged.data, rulebook, now=NOW)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == list(L.SHEET_ORDER)
    summary = book[L.SUMMARY]
    assert summary.freeze_panes == "D2"
    assert summary.auto_filter.ref.startswith("A1:")
    assert summary.cell(1, 1).value == "考核期间\nPeriod"
    cols = headers(summary)
    assert summary.cell(2, cols["总分"]).number_format == "0.00"
    assert summary.cell(2, cols["更新时间"]).number_format == "yyyy-mm-dd hh:mm:ss"
    assert summary.cell(1, cols["校准等级"]).comment is not None
    assert book[L.META].sheet_state == "hidden"
    detail = book[L.DETAIL]
    dcols = headers(detail)
    percent_rows = [r for r in range(2, detail.max_row + 1) if detail.cell(r, dcols["单位"]).value == "%"]
    assert percent_rows and detail.cell(percent_rows[0], dcols["目标值"]).number_format == "0.0%"
    for name in (L.SUBMISSIONS, L.ISSUES, L.APPEALS, L.ANNUAL, L.LOG, L.DISTRIBUTION, L.ANALYSIS):
        assert book[name].freeze_panes == "A2", name


def test_distribution_and_analysis_have_native_charts(tmp_path, rulebook, merged):
    path = tmp_path / "master.xlsx"
    write_master(path, merged.data, rulebook, now=NOW)
    with zipfile.ZipFile(path) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) >= 2
        xml = b"".join(archive.read(n) for n in charts).decode("utf-8")
    assert "percentStacked" in xml and "<c:barDir val=\"bar\"/>" in xml
    book = openpyxl.load_workbook(path)
    dist = book[L.DISTRIBUTION]
    cols = headers(dist)
    latest = [r for r in range(2, dist.max_row + 1) if dist.cell(r, cols["考核期间"]).value == "2026-03"]
    assert {dist.cell(r, cols["层级"]).value for r in latest} == {L.LEVEL_DEPARTMENT, L.LEVEL_TEAM}
    # the chart draws the latest period's rows, labelled by team
    team = get_column_letter(cols["团队"])
    assert f"${team}${latest[0]}:${team}${latest[-1]}" in xml


def test_analysis_compares_with_the_previous_period(tmp_path, rulebook, merged):
    path = tmp_path / "master.xlsx"
    write_master(path, merged.data, rulebook, now=NOW)
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book[L.ANALYSIS].iter_rows(values_only=True))
    head = [str(h).split("\n")[0] for h in rows[0]]
    records = [dict(zip(head, r)) for r in rows[1:]]
    team_b = [r for r in records if r["团队"] == "二组" and r["考核期间"] == "2026-03" and r["代码"] == "CSAT"]
    assert len(team_b) == 1
    row = team_b[0]
    assert row["上期"] == "2026-02"
    assert row["变化"] == pytest.approx(row["平均得分"] - row["上期平均"], abs=0.011)
    assert row["变化"] < 0  # 二组 fell from level 0.8 to 0.6


def test_reader_tolerates_hand_edits(tmp_path, rulebook, merged):
    """Numbers typed as text, dates as serials, columns moved, a column HR added, _meta gone."""
    path = tmp_path / "master.xlsx"
    write_master(path, merged.data, rulebook, now=NOW)
    book = openpyxl.load_workbook(path)
    ws = book[L.SUMMARY]
    cols = headers(ws)
    ws.cell(2, cols["总分"]).value = str(ws.cell(2, cols["总分"]).value)  # number -> text
    ws.cell(2, cols["更新时间"]).number_format = "General"
    ws.cell(2, cols["更新时间"]).value = 46113.39600694444  # the serial Excel keeps when a format is lost
    ws.cell(2, cols["工号"]).value = ws.cell(2, cols["工号"]).value  # unchanged
    ws.insert_cols(3)
    ws.cell(1, 3).value = "部门备注"
    ws.cell(2, 3).value = "重点关注"
    del book[L.META]
    book.save(path)

    back = read_master(path, rulebook)
    assert back.missing_sheets == (L.META,)
    assert back.extra_headers[L.SUMMARY] == ["部门备注"]
    original = merged.data.rows(L.SUMMARY)[0]
    row = back.rows(L.SUMMARY)[0]
    assert row["total"] == original["total"]
    assert row["updated_at"] == dt.datetime(2026, 4, 1, 9, 30, 15)
    assert row["部门备注"] == "重点关注"
    for key in ("period", "employee_id", "name", "final_grade", "dept_rank"):
        assert row[key] == original[key]

    again = merge(back, [], rulebook, now=NOW)
    write_master(path, again.data, rulebook, now=NOW)
    ws = openpyxl.load_workbook(path)[L.SUMMARY]
    cols = headers(ws)
    assert ws.cell(2, cols["部门备注"]).value == "重点关注"  # kept, after kpisheet's columns
    assert cols["部门备注"] == len(L.summary_columns(rulebook)) + 1


def test_excel_turning_ids_and_periods_into_numbers_and_dates_is_undone(rulebook):
    columns = L.summary_columns(rulebook)
    row = L.clean_row(columns, {"employee_id": 10023.0, "period": dt.datetime(2026, 3, 1), "total": "８５.５",
                                "dept_rank": 3.0, "post_start": 45717.0, "bonus": " 1,000 "})
    assert row["employee_id"] == "10023" and row["period"] == "2026-03"
    assert row["total"] == 85.5 and row["dept_rank"] == 3 and row["bonus"] == 1000.0
    assert row["post_start"] == dt.date(2025, 3, 1)
    assert L.clean_value(L.SCORE, "不适用") == "不适用"  # what cannot be read is kept, not lost


def test_not_a_master_is_refused(tmp_path, rulebook):
    other = tmp_path / "other.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.save(other)
    with pytest.raises(MasterReadError) as error:
        read_master(other, rulebook)
    assert "总表" in error.value.message_zh
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(MasterReadError):
        read_master(broken, rulebook)


def test_libreoffice_renders_the_distribution_chart(tmp_path, rulebook, merged, soffice):
    from kpisheet.xladdin.kit.libreoffice import pdf_to_png, to_pdf

    path = tmp_path / "master.xlsx"
    write_master(path, merged.data, rulebook, now=NOW)
    pdf = to_pdf(path, tmp_path / "pdf")
    pages = pdf_to_png(pdf, tmp_path / "pdf" / "page")
    assert pages and all(p.stat().st_size > 0 for p in pages)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "等级分布 Grade distribution" in text  # the chart's title: the chart was drawn
        assert "指标平均得分" in text
