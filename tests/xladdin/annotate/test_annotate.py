"""Annotated copies: flagged cells filled and noted, a linked 校验结果 sheet, the original untouched."""

from __future__ import annotations

import shutil
from dataclasses import replace

import openpyxl
import pytest

from tests.support import hostile
import tests.support.validate_support as S
from kpisheet.validators import layout as L
from kpisheet.validators.report import FileReport
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


def test_the_results_sheet_lists_every_finding_with_links(flawed, tmp_path):
    path, report = flawed
    book = openpyxl.load_workbook(annotate_copy(path, report.findings, tmp_path / "copy.xlsx"))
    assert book.sheetnames[0] == RESULTS_SHEET and book.active.title == RESULTS_SHEET
    sheet = book[RESULTS_SHEET]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in rows] == [f.code for f in report.findings]
    for number, f in enumerate(report.findings, start=2):
        link = sheet.cell(row=number, column=4)
        if f.cell:
            assert link.value == f"{f.sheet}!{f.cell}"
            assert link.hyperlink.location == f"'{f.sheet}'!{f.cell}"
        else:  # e.g. a roster member missing: listed, nothing to link to
            assert link.hyperlink is None
    assert any(f.cell is None for f in report.findings)


def test_text_from_the_submission_stays_text(tmp_path, flawed):
    path, report = flawed
    tricky = [replace(report.findings[0], value='=HYPERLINK("http://x","y")', expected="=1+1")]
    book = openpyxl.load_workbook(annotate_copy(path, tricky, tmp_path / "copy.xlsx"))
    found = book[RESULTS_SHEET].cell(row=2, column=7)
    assert found.value == '=HYPERLINK("http://x","y")' and found.data_type == "s"
    assert book[RESULTS_SHEET].cell(row=2, column=8).data_type == "s"


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
    assert book[RESULTS_SHEET].max_row == 2


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
    book = openpyxl.load_workbook(annotate_copy(path, [], tmp_path / "copy.xlsx"))
    assert book[RESULTS_SHEET].cell(row=2, column=10).value == "No problems found."
    assert isinstance(FileReport, type)
