"""Annotated copies: flagged cells filled and noted, a linked 校验结果 sheet, the original untouched."""

from __future__ import annotations

import shutil
from dataclasses import replace

import openpyxl
import pytest

from tests.support import hostile
import tests.support.validate_support as S
from kpisheet.validators import layout as L
from kpisheet.validators.summary import by_employee
from kpisheet.xladdin.kit.libreoffice import to_pdf
from tests.support.rendering import is_a4, page_sizes, page_texts
from kpisheet.workbook_templates.filler import fill_team_workbook
from kpisheet.xladdin.annotate.copy import RESULTS_SHEET, AnnotateError, annotate_copy
from kpisheet.xladdin.annotate.batch import annotate_reports, copy_names


ROSTER_PLUS_ONE = list(S.roster()) + [replace(S.team_members()[0], employee_id="SH0998", name="新同事")]


@pytest.fixture(scope="module")
def flawed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("annotate")
    blank = S.build_blank(folder / "blank")
    path = folder / "flawed.xlsx"
    fill_team_workbook(blank, path, seed=5, mistakes=["text-number", "weight-sum", "formula-injection"])
    report = S.run_file(path, roster=ROSTER_PLUS_ONE)  # a team member the workbook lacks
    return path, report


def test_flagged_cells_are_filled_and_noted_in_both_languages(flawed, tmp_path):
    path, report = flawed
    out = annotate_copy(path, report.findings, tmp_path / "copy.xlsx")
    book = openpyxl.load_workbook(out)
    located = [f for f in report.findings if f.cell]
    assert located
    for f in located:
        cell = book[f.sheet][f.cell]
        assert cell.fill.fill_type == "solid" and cell.fill.start_color.rgb.endswith("FFC7CE" if
                                                                                    f.severity == "error" else "FFEB9C")
        assert f.message_zh in cell.comment.text and f.message_en in cell.comment.text and f.code in cell.comment.text


def header_row(sheet) -> int:
    """The 1-based row of the findings table's header (its first cell is '#')."""
    return next(r for r in range(1, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == "#")


def listed(sheet) -> list[tuple[int, tuple]]:
    """(row, values) of every finding row: those numbered in the first column."""
    start = header_row(sheet) + 1
    return [(r, tuple(c.value for c in sheet[r])) for r in range(start, sheet.max_row + 1)
            if isinstance(sheet.cell(row=r, column=1).value, int)]


def test_the_results_sheet_lists_every_finding_by_employee_with_links(flawed, tmp_path):
    path, report = flawed
    book = openpyxl.load_workbook(annotate_copy(path, report.findings, tmp_path / "copy.xlsx"))
    assert book.sheetnames[0] == RESULTS_SHEET and book.active.title == RESULTS_SHEET
    sheet = book[RESULTS_SHEET]
    rows = listed(sheet)
    grouped = [f for group in by_employee(report.findings) for f in group.findings]
    assert [values[-1] for _, values in rows] == [f.code for f in grouped]  # one row per finding, by employee
    assert [values[0] for _, values in rows] == list(range(1, len(grouped) + 1))
    for (r, values), f in zip(rows, grouped):
        link = sheet.cell(row=r, column=3)
        assert f.message_en.split(": ", 1)[-1] in values[5] and f.message_zh.split("：", 1)[-1] in values[5]
        if f.employee_id:
            assert values[3] == f"{f.employee_id} {f.employee_name}"
        if f.cell:
            assert link.value == f"{f.sheet}!{f.cell}"
            assert link.hyperlink.location == f"'{f.sheet}'!{f.cell}"
        else:  # e.g. a roster member missing: listed, nothing to link to
            assert link.hyperlink is None
    assert any(f.cell is None for f in report.findings)
    # each employee's heading sits right above their first finding
    headings = [r for r in range(header_row(sheet) + 1, sheet.max_row + 1)
                if str(sheet.cell(row=r, column=1).value or "").startswith(("员工 ", "整个文件"))]
    assert len(headings) == len(by_employee(report.findings))
    for r in headings:
        assert isinstance(sheet.cell(row=r + 1, column=1).value, int)


def test_the_summary_says_how_to_fix_each_kind_once(flawed, tmp_path):
    path, report = flawed
    sheet = openpyxl.load_workbook(annotate_copy(path, report.findings, tmp_path / "copy.xlsx"))[RESULTS_SHEET]
    above = "\n".join(str(sheet.cell(row=r, column=1).value or "") for r in range(1, header_row(sheet)))
    assert "flawed.xlsx" in above
    for code in {f.code for f in report.findings}:
        hint = next(f.hint for f in report.findings if f.code == code)
        assert f"（{code}） ×" in above and hint in above
    for _, values in listed(sheet):
        assert "How to fix" not in values[5]


def test_rows_are_tall_enough_and_the_sheet_prints_a4_landscape_across(flawed, tmp_path):
    path, report = flawed
    sheet = openpyxl.load_workbook(annotate_copy(path, report.findings, tmp_path / "copy.xlsx"))[RESULTS_SHEET]
    top = header_row(sheet)
    assert sheet.row_dimensions[top].height >= 30  # two header lines, never drawn over the first row
    for r, values in listed(sheet):
        lines = values[5].count("\n") + 1
        assert sheet.row_dimensions[r].height >= lines * 13.5
    assert sheet.freeze_panes == f"A{top + 1}" and sheet.print_title_rows == f"${top}:${top}"
    assert sheet.page_setup.orientation == "landscape" and str(sheet.page_setup.paperSize) == "9"
    assert 60 <= sheet.page_setup.scale < 100


def test_text_from_the_submission_stays_text(tmp_path, flawed):
    path, report = flawed
    tricky = [replace(report.findings[0], employee_id='=HYPERLINK("http://x","y")', employee_name=None,
                      indicator="=1+1", indicator_name=None)]
    sheet = openpyxl.load_workbook(annotate_copy(path, tricky, tmp_path / "copy.xlsx"))[RESULTS_SHEET]
    (r, values), = listed(sheet)
    assert values[3] == '=HYPERLINK("http://x","y")' and sheet.cell(row=r, column=4).data_type == "s"
    assert values[4] == "=1+1" and sheet.cell(row=r, column=5).data_type == "s"


def test_the_results_sheet_as_libreoffice_prints_it(flawed, tmp_path, soffice):
    """Rendered by LibreOffice: A4 landscape pages, the column headers on every page, no employee
    heading left alone at the foot of a page, every finding's place printed."""
    blank = next((flawed[0].parent / "blank").glob("*.xlsx"))
    report = S.run_file(blank, roster=list(S.roster()))  # a blank form: 180 findings, many pages
    copy = annotate_copy(blank, report.findings, tmp_path / "copy.xlsx")
    book = openpyxl.load_workbook(copy)
    for name in book.sheetnames[1:]:
        del book[name]
    book.save(tmp_path / "results.xlsx")
    pdf = to_pdf(tmp_path / "results.xlsx", tmp_path / "pdf")
    sizes = page_sizes(pdf)
    assert len(sizes) > 3 and all(is_a4(size, landscape=True) for size in sizes)
    texts = page_texts(pdf, len(sizes))
    assert "校验结果 Validation results" in texts[0]
    for text in texts:
        assert "Severity" in text and "Problem" in text  # the repeated header
        body = [line for line in text.splitlines() if line.strip() and "第 " not in line]
        assert "Employee：" not in body[-1] and "findings" not in body[-1], body[-1]
    printed = "\n".join(texts)
    for f in report.findings:
        if f.cell:
            assert f"{f.sheet}!{f.cell}" in printed


def test_the_original_is_untouched_and_the_copy_keeps_the_workbook(flawed, tmp_path):
    path, report = flawed
    before = path.read_bytes()
    out = annotate_copy(path, report.findings, tmp_path / "copy.xlsx")
    assert path.read_bytes() == before
    original, copy = openpyxl.load_workbook(path), openpyxl.load_workbook(out)
    assert copy.sheetnames[1:] == original.sheetnames
    for name in (L.GOALS, L.SCORES, L.SUMMARY):
        assert copy[name].protection.sheet == original[name].protection.sheet is True
        assert len(copy[name].data_validations.dataValidation) == len(original[name].data_validations.dataValidation)
    assert set(copy.defined_names) == set(original.defined_names)
    assert copy[L.META].sheet_state == original[L.META].sheet_state
    assert {p.name: p.value for p in copy.custom_doc_props.props} == \
           {p.name: p.value for p in original.custom_doc_props.props}
    again = S.run_file(out, roster=ROSTER_PLUS_ONE)
    assert S.places(again) == S.places(report)  # the copy validates the same


def test_annotating_a_copy_again_replaces_the_list(flawed, tmp_path):
    path, report = flawed
    first = annotate_copy(path, report.findings, tmp_path / "one.xlsx")
    second = annotate_copy(first, report.findings[:1], tmp_path / "two.xlsx")
    book = openpyxl.load_workbook(second)
    assert book.sheetnames.count(RESULTS_SHEET) == 1
    assert len(listed(book[RESULTS_SHEET])) == 1


def test_refusals(flawed, tmp_path):
    path, report = flawed
    with pytest.raises(AnnotateError):
        annotate_copy(path, report.findings, path)
    with pytest.raises(AnnotateError):
        annotate_copy(hostile.csv_renamed(tmp_path), [], tmp_path / "out" / "x.xlsx")


def test_a_batch_copies_readable_files_only_and_numbers_name_clashes(flawed, tmp_path):
    path, report = flawed
    inbox = tmp_path / "inbox"
    (inbox / "a").mkdir(parents=True)
    (inbox / "b").mkdir()
    shutil.copy(path, inbox / "a" / "team.xlsx")
    shutil.copy(path, inbox / "b" / "team.xlsx")
    empty = hostile.empty_file(inbox)
    from kpisheet.validators.validate import validate_paths

    reports = validate_paths([inbox], rulebook=S.rulebook(), jobs=2)
    names = copy_names(reports, tmp_path / "out")
    assert sorted(p.name for p in names.values()) == ["team.xlsx", "team_2.xlsx"]
    made = annotate_reports(reports, tmp_path / "out", jobs=2)
    assert made[str(empty)] is None
    assert sorted(v.rsplit("/", 1)[-1] for v in made.values() if v) == ["team.xlsx", "team_2.xlsx"]
    for copy in (tmp_path / "out").iterdir():
        assert openpyxl.load_workbook(copy).sheetnames[0] == RESULTS_SHEET


def test_a_report_without_findings_gets_a_note_saying_so(flawed, tmp_path):
    path, _ = flawed
    sheet = openpyxl.load_workbook(annotate_copy(path, [], tmp_path / "copy.xlsx"))[RESULTS_SHEET]
    assert "No problems found." in sheet.cell(row=2, column=1).value and not listed(sheet)


def test_a_control_character_in_a_submitted_cell_does_not_stop_the_copy(tmp_path, tmp_path_factory):
    """Issue 13, Why 11: a finding quoting a value with a control character raised IllegalCharacterError."""
    from tests.support.package_edit import put_text_cell

    clean, _seed = S.clean_workbook(tmp_path_factory)
    bad = put_text_cell(clean, tmp_path / "bad.xlsx", L.SCORES, "L5", "9\x075\u202e")
    report = S.run_file(bad)
    assert [(f.code, f.cell) for f in report.findings] == [("score-not-number", "L5")]
    book = openpyxl.load_workbook(annotate_copy(bad, report.findings, tmp_path / "copy.xlsx"))
    ((_row, values),) = listed(book[RESULTS_SHEET])
    assert values[-1] == "score-not-number" and "\x07" not in values[5]
    assert "\x07" not in book[L.SCORES]["L5"].comment.text
