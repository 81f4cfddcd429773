"""Attacks on what the readers read, through validation of a real team workbook (issues 13 and 15).

A sheet part stored under a non-XML name outside xl/worksheets/ (the workbook's
relationships point to it and python-calamine follows them), a DOCTYPE in such a
part, a cell listed twice, error values in input cells, and what LibreOffice
itself writes after a manager deletes a row.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

import tests.support.validate_support as S
from tests.support import hostile
from kpisheet.validators import layout as L
from kpisheet.validators.reading.submission import read_team_workbook
from kpisheet.validators.validate import validate_paths


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return S.clean_workbook(tmp_path_factory)[0]


def run(path: Path):
    return S.run_file(path, roster=list(S.roster()))


def found(report) -> set[tuple[str, str | None, str | None]]:
    return {(f.code, f.sheet, f.cell) for f in report.findings}


# --- a sheet part stored anywhere, under any name ---------------------------------------------


def test_a_sheet_part_moved_to_a_non_xml_name_is_followed_and_read_as_before(clean, tmp_path):
    moved = hostile.move_sheet_part(clean, tmp_path / "moved.xlsx", "xl/foo.bin", L.SCORES)
    assert run(moved).findings == ()  # the guard follows the relationship like a reader: same values


def test_a_far_cell_in_a_sheet_part_moved_to_a_non_xml_name_is_refused(clean, tmp_path):
    """The issue's attack: a cell at XFD2500 in the scores sheet stored as xl/foo.bin; python-calamine would
    allocate ~1.3 GB for it. Accepted clean before the guard followed the relationships."""
    moved = hostile.move_sheet_part(clean, tmp_path / "far.xlsx", "xl/foo.bin", L.SCORES, edit=hostile.add_far_cell)
    assert moved.stat().st_size < 100_000
    [report] = validate_paths([moved], rulebook=S.rulebook(), roster=list(S.roster()), jobs=1)
    assert [f.code for f in report.findings] == ["file-too-large"] and report.status == "error"
    finding = report.findings[0]
    assert L.SCORES in finding.message_zh and "xl/foo.bin" in finding.message_en and "16,384" in finding.message_en


def test_a_doctype_in_a_sheet_part_moved_outside_the_sheet_folder_is_refused(clean, tmp_path):
    moved = hostile.move_sheet_part(clean, tmp_path / "dtd.xlsx", "data/sheet.dat", L.GOALS, edit=hostile.add_doctype)
    report = run(moved)
    assert [f.code for f in report.findings] == ["file-unreadable"]
    assert "DOCTYPE" in report.findings[0].message_en and "data/sheet.dat" in report.findings[0].message_en


def test_a_sheet_nobody_reads_is_judged_from_the_directory_alone(clean, tmp_path):
    """A DOCTYPE in the personal-form sheet, which validation never reads, does not stop validation; a reader
    of every part (openpyxl, for the annotated copy) is guarded against it."""
    from kpisheet.validators.reading.guard import guard_file

    edited = hostile.edit_sheet(clean, tmp_path / "unread.xlsx", L.PERSONAL, hostile.add_doctype)
    assert run(edited).findings == ()
    assert guard_file(edited).reasons == ("entities",)


# --- cells listed twice or out of order ----------------------------------------------------


def _duplicate_actual(xml: bytes, ref: str, value: float) -> bytes:
    """The cell ``ref`` listed once more, right after itself, with another value."""
    pattern = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.S)
    cell = pattern.search(xml).group(0)
    return xml.replace(cell, cell + f'<c r="{ref}"><v>{value}</v></c>'.encode(), 1)


def test_a_duplicated_cell_is_refused_as_damaged(clean, tmp_path):
    """Before: the later value won silently (a reader keeps it), changing the score the manager saw."""
    from python_calamine import CalamineWorkbook

    values, _, _ = S.read(clean)
    book = read_team_workbook(values, source="x", rulebook=S.rulebook())
    row = next(s for s in book.scores if isinstance(s.actual, float))
    ref = row.address("actual")
    edited = hostile.edit_sheet(clean, tmp_path / "twice.xlsx", L.SCORES,
                                lambda xml: _duplicate_actual(xml, ref, row.actual / 2))
    unguarded = CalamineWorkbook.from_path(str(edited)).get_sheet_by_name(L.SCORES).to_python(skip_empty_area=False)
    assert unguarded[row.row][L.column_index(L.SCORE_COLUMNS, "actual")] == row.actual / 2  # the attack works
    report = run(edited)
    assert [f.code for f in report.findings] == ["file-cell-order"] and report.status == "error"
    assert ref in report.findings[0].message_en and L.SCORES in report.findings[0].message_zh


# --- error values in input cells ---------------------------------------------------------------


def test_error_values_in_input_cells_are_named_at_their_cells(clean, tmp_path):
    """Before: #DIV/0! in a self rating was a blank and passed; in an actual it was 'score-missing'."""
    values, _, _ = S.read(clean)
    book = read_team_workbook(values, source="x", rulebook=S.rulebook())
    rated = next(s for s in book.scores if s.self_rating != "")
    measured = next(s for s in book.scores if isinstance(s.actual, float) and s.employee_id != rated.employee_id)
    goal = book.goals[3]
    summary = book.summary[1]
    edits = {(L.SCORES, rated.address("self_rating")): "#DIV/0!", (L.SCORES, measured.address("actual")): "#VALUE!",
             (L.GOALS, goal.address("weight")): "#N/A", (L.SUMMARY, summary.address("commendations")): "#REF!"}
    target = tmp_path / "errors.xlsx"
    workbook = openpyxl.load_workbook(clean)
    for (sheet, cell), shown in edits.items():
        workbook[sheet][cell] = shown  # openpyxl writes an error code as an error value (t="e")
    workbook.save(target)
    report = run(target)
    expected = {("score-error-value", L.SCORES, rated.address("self_rating")),
                ("score-error-value", L.SCORES, measured.address("actual")),
                ("goal-error-value", L.GOALS, goal.address("weight")),
                ("score-error-value", L.SUMMARY, summary.address("commendations"))}
    assert expected <= found(report)
    at_error_cells = [f for f in report.findings if (f.sheet, f.cell) in {(s, c) for s, c in edits}]
    assert sorted(f.code for f in at_error_cells) == sorted(code for code, _, _ in expected)  # nothing else there
    shown = {f.cell: f for f in report.findings}
    assert "#DIV/0!" in shown[rated.address("self_rating")].message_zh
    assert rated.employee_id in shown[rated.address("self_rating")].message_en


def test_an_error_value_shown_by_a_formula_typed_into_an_input_cell(clean, tmp_path):
    """As LibreOffice saves it after a manager types =1/0 into 实际值: a formula with a cached error."""
    values, _, _ = S.read(clean)
    book = read_team_workbook(values, source="x", rulebook=S.rulebook())
    row = next(s for s in book.scores if isinstance(s.actual, float))
    ref = row.address("actual")

    def formula(xml: bytes) -> bytes:
        cell = re.search(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', xml, re.S).group(0)
        return xml.replace(cell, f'<c r="{ref}" t="e"><f>1/0</f><v>#DIV/0!</v></c>'.encode(), 1)

    report = run(hostile.edit_sheet(clean, tmp_path / "formula.xlsx", L.SCORES, formula))
    assert ("score-error-value", L.SCORES, ref) in found(report)
    assert not any(f.cell == ref and f.code == "score-missing" for f in report.findings)


# --- what LibreOffice writes after a row is deleted -------------------------------------------


def test_a_row_deleted_in_libreoffice_is_a_structure_change_not_a_large_file(clean, tmp_path, soffice):
    """LibreOffice saves the sheet with an empty row 1048576 and the range A1:Q1048576 (issue 15)."""
    from tests.support.libreoffice_edit import delete_rows

    values, _, _ = S.read(clean)
    book = read_team_workbook(values, source="x", rulebook=S.rulebook())
    victim = book.scores[4]
    edited = delete_rows(clean, tmp_path / "deleted.xlsx", L.SCORES, victim.row + 1)
    parts = hostile.read_parts(edited)
    sheet = parts[hostile.sheet_part(parts, L.SCORES)]
    assert re.search(rb'<dimension ref="A1:[A-Z]+1048576"', sheet) and b'<row r="1048576"' in sheet  # as reported
    report = run(edited)
    codes = {f.code for f in report.findings}
    assert "file-too-large" not in codes
    structure = [f for f in report.findings if f.code == "template-structure-changed"]
    assert structure and {f.sheet for f in structure} == {L.SCORES}
    assert any(f.cell == victim.address("employee_id") for f in structure)
    # a value really typed far away in the same saved file is still refused
    far = hostile.edit_sheet(edited, tmp_path / "far.xlsx", L.SCORES, lambda xml: xml.replace(
        b'<row r="1048576"', b'<row r="1048575"><c r="B1048575"><v>1</v></c></row><row r="1048576"', 1))
    assert [f.code for f in run(far).findings] == ["file-too-large"]


def test_the_reader_is_handed_only_what_the_guard_checked(clean):
    from kpisheet.validators.reading.guard import guard_file
    from kpisheet.validators.validate import VALIDATED_SHEETS

    verdict = guard_file(clean, sheets=VALIDATED_SHEETS)
    with zipfile.ZipFile(io.BytesIO(verdict.package.reader_zip)) as reader:
        names = set(reader.namelist())
    assert names == {"_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml",
                     "xl/styles.xml"} | {f"xl/worksheets/sheet{i}.xml" for i in (2, 3, 4, 7)} or \
        names == {"_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                  "xl/styles.xml"} | {f"xl/worksheets/sheet{i}.xml" for i in (2, 3, 4, 7)}
