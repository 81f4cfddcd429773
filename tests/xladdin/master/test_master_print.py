"""The master on paper and under HR's hands: the 打印 sheet (a page per team, the columns leadership
reads, A4 landscape, headers repeated), 分析's chart showing every indicator, and a dropdown or
validation on every HR column with empty reasons highlighted. LibreOffice renders where it matters."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import zipfile

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from tests.support.master_fakes import team_employees, make_report
from tests.support.rendering import is_a4, page_sizes, page_texts, poppler
from kpisheet.xladdin.kit.libreoffice import to_pdf
from kpisheet.xladdin.master import hr_inputs
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.io import chart_height, write_master
from kpisheet.xladdin.master.layout import empty_master
from kpisheet.xladdin.master.legacy import merge
from kpisheet.xladdin.master.printout import print_columns, sections

NOW = dt.datetime(2026, 4, 1, 9, 30)


@pytest.fixture(scope="module")
def master(tmp_path_factory, rulebook):
    """Two periods of three teams, one of 70 people (more than a page)."""
    folder = tmp_path_factory.mktemp("print")
    reports = []
    for period in ("2026-02", "2026-03"):
        for team, prefix, count in (("一组", "A", 12), ("二组", "B", 9), ("大组", "C", 70)):
            reports.append(make_report(folder / "in" / f"{period}-{team}.xlsx",
                                       team_employees(rulebook, prefix, count, base_level=0.7), team=team,
                                       period=period))
    data = merge(empty_master(), reports, rulebook, now=NOW).data
    row = data.rows(L.SUMMARY)[0]
    row["calibrated_grade"] = "D" if row["system_grade"] != "D" else "C"  # a decision without its reason
    path = folder / "master.xlsx"
    write_master(path, data, rulebook, now=NOW)
    return path, data


def test_the_print_sheet_follows_the_full_table(master, rulebook):
    path, data = master
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:2] == [L.SUMMARY, L.PRINT]
    assert book[L.SUMMARY].max_column == len(L.summary_columns(rulebook))  # the full table stays for the screen
    ws = book[L.PRINT]
    assert [ws.cell(2, c + 1).value for c in range(len(print_columns(rulebook)))] == \
           [c.header for c in print_columns(rulebook)]
    parts = sections(data.rows(L.SUMMARY), rulebook)
    assert [(p.period, p.team) for p in parts] == [(p, t) for p in ("2026-02", "2026-03") for t in ("一组", "二组", "大组")]
    headings = [r for r in range(3, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith("2026-")]
    assert len(headings) == len(parts)
    assert [b.id for b in ws.row_breaks.brk] == [r - 1 for r in headings[1:]]  # a page per team
    total = 1 + [c.key for c in print_columns(rulebook)].index("total")
    for part, r in zip(parts, headings):
        totals = [ws.cell(r + 1 + i, total).value for i in range(len(part.rows))]
        assert totals == sorted(totals, reverse=True)  # best first
        assert f"{len(part.rows)} 人" in ws.cell(r, 1).value
    assert ws.print_title_rows == "$1:$2" and ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == "9" or str(ws.page_setup.paperSize) == "9"
    assert ws.page_setup.fitToWidth in (None, 1) and not ws.sheet_properties.pageSetUpPr.fitToPage


def test_the_print_sheet_as_libreoffice_prints_it(master, rulebook, tmp_path, soffice):
    path, data = master
    book = openpyxl.load_workbook(path)
    for name in book.sheetnames:
        if name != L.PRINT:
            del book[name]
    book.save(tmp_path / "print.xlsx")
    pdf = to_pdf(tmp_path / "print.xlsx", tmp_path / "pdf")
    sizes = page_sizes(pdf)
    assert all(is_a4(size, landscape=True) for size in sizes)
    texts = page_texts(pdf, len(sizes))
    parts = sections(data.rows(L.SUMMARY), rulebook)
    assert len(texts) == len(parts) + 2  # the two 70-people teams take two pages each; nothing spills right
    for text in texts:
        assert "Notes" in text and "工号" in text  # every column on every page, the header repeated
    starts = [i for i, text in enumerate(texts) if re.search(r"^\s*2026-0[23]\s", text, re.M)]
    assert len(starts) == len(parts)  # one team heading per page at most: page breaks by team
    for part in parts:
        ids = [str(r["employee_id"]) for r in part.rows]
        page = next(t for t in texts if part.heading.split("　")[0].split()[-1] in t and ids[0] in t)
        assert ids[0] in page


def test_every_indicator_label_is_on_the_analysis_chart(master, tmp_path, soffice):
    path, _ = master
    with zipfile.ZipFile(path) as archive:
        bars = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/charts/chart")]
    bar = next(x for x in bars if '<c:barDir val="bar"/>' in x)
    assert '<c:tickLblSkip val="1"/>' in bar
    assert chart_height(19) > chart_height(5) >= 300
    book = openpyxl.load_workbook(path)
    for name in book.sheetnames:
        if name != L.ANALYSIS:
            del book[name]
    book.save(tmp_path / "analysis.xlsx")
    pdf = to_pdf(tmp_path / "analysis.xlsx", tmp_path / "pdf")
    words = _words(pdf, 1)
    table_right = max(x1 for x0, x1, w in words if w in ("Change", "变化"))
    on_chart = {w for x0, x1, w in words if x0 > table_right}
    analysis = book[L.ANALYSIS]
    head = {str(c.value).split("\n")[0]: c.column for c in analysis[1]}
    latest = max(analysis.cell(r, head["考核期间"]).value for r in range(2, analysis.max_row + 1))
    shown = {analysis.cell(r, head["名称"]).value for r in range(2, analysis.max_row + 1)
             if analysis.cell(r, head["考核期间"]).value == latest
             and analysis.cell(r, head["层级"]).value == L.LEVEL_DEPARTMENT
             and analysis.cell(r, head["类型"]).value == L.KIND_INDICATOR}
    assert len(shown) > 10
    for name in shown:  # chart labels may break a long name over two lines: look for its start
        assert any(w.startswith(name[:4]) for w in on_chart), name


def _words(pdf, page: int) -> list[tuple[float, float, str]]:
    out = subprocess.run([poppler("pdftotext"), "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [(float(a), float(b), w) for a, b, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', out)]


def _validation_for(ws, col: int, row: int = 2):
    letter = get_column_letter(col)
    for dv in ws.data_validations.dataValidation:
        if f"{letter}{row}" in dv.sqref:
            return dv
    return None


@pytest.mark.parametrize("sheet", [L.SUMMARY, L.APPEALS, L.ANNUAL, L.SETTINGS])
def test_every_hr_column_has_a_dropdown_or_a_validation(master, rulebook, sheet):
    path, _ = master
    ws = openpyxl.load_workbook(path)[sheet]
    columns = L.sheet_columns(rulebook)[sheet]
    hr = [i + 1 for i, c in enumerate(columns) if c.owner == L.HR]
    assert hr
    for col in hr:
        dv = _validation_for(ws, col)
        assert dv is not None and dv.showInputMessage and dv.prompt, (sheet, columns[col - 1].key)
        if sheet != L.SETTINGS:  # 设置 has its fixed items; elsewhere HR adds rows below the data
            assert _validation_for(ws, col, ws.max_row + hr_inputs.SPARE_ROWS // 2) is not None


def test_grades_come_from_the_rulebook_and_reasons_are_highlighted(master, rulebook):
    path, _ = master
    book = openpyxl.load_workbook(path)
    ws = book[L.SUMMARY]
    head = {str(c.value).split("\n")[0]: c.column for c in ws[1]}
    grade = _validation_for(ws, head["校准等级"])
    assert grade.type == "list" and grade.errorStyle in (None, "stop")
    assert grade.formula1 == '"' + ",".join(b.grade for b in sorted(rulebook.grades, key=lambda b: -b.min)) + '"'
    reason = get_column_letter(head["调整理由"])
    rules = [r for cf in ws.conditional_formatting for r in cf.rules if reason in str(cf.sqref)]
    assert len(rules) == 1
    formula = rules[0].formula[0]
    for column in ("校准等级", "系统等级", "调整理由"):
        assert f"${get_column_letter(head[column])}2" in formula
    appeals = book[L.APPEALS]
    ahead = {str(c.value).split("\n")[0]: c.column for c in appeals[1]}
    assert _validation_for(appeals, ahead["改定等级"]).formula1 == grade.formula1
    assert _validation_for(appeals, ahead["申诉日期"]).type == "date"
    highlighted = {get_column_letter(ahead[c]) for c in ("申诉理由", "申诉日期", "处理完成日期")}
    assert highlighted <= {str(cf.sqref)[0] for cf in appeals.conditional_formatting}
    ids = _validation_for(appeals, ahead["工号"])
    assert ids.type == "list" and ids.formula1.startswith(f"'{L.SUMMARY}'!$B$2:$B$")


def test_validations_survive_a_libreoffice_resave(master, tmp_path, soffice):
    from kpisheet.xladdin.kit.libreoffice import recalculate

    path, _ = master
    again = openpyxl.load_workbook(recalculate(path, tmp_path / "lo"))
    ws = again[L.SUMMARY]
    head = {str(c.value).split("\n")[0]: c.column for c in ws[1]}
    assert _validation_for(ws, head["校准等级"]).type == "list"
    assert again.sheetnames[1] == L.PRINT
