"""The sample roster and the roster reader: clean reads, located problems, garbage files."""

from __future__ import annotations

import datetime as dt
import importlib.util
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpisheet.validators.roster import (
    ROSTER_COLUMNS, ROSTER_SHEET, STATUSES, RosterError, parse_date, read_roster, team_managers, teams,
)
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
SAMPLE = ROOT / "samples" / "roster.xlsx"
PERIOD_END = dt.date(2026, 12, 31)  # end of 2026-Q4, the period the sample is made for
COLUMN = {field: openpyxl.utils.get_column_letter(i + 1) for i, field in enumerate(ROSTER_COLUMNS.values())}


@pytest.fixture(scope="module")
def employees(rulebook):
    return read_roster(SAMPLE, rulebook)


def row_of(employees, employee) -> int:
    """Excel row of an employee in the sample: header on row 1, then roster order."""
    return employees.index(employee) + 2


def edited(tmp_path: Path, edits: dict[str, object], name: str = "roster.xlsx", change=None) -> Path:
    """A copy of the sample with cells set (None blanks a cell) and an optional sheet change."""
    book = openpyxl.load_workbook(SAMPLE)
    sheet = book[ROSTER_SHEET]
    if change:
        change(sheet)
    for cell, value in edits.items():
        sheet[cell].value = value
    out = tmp_path / name
    book.save(out)
    return out


def problems_of(path: Path, rulebook):
    with pytest.raises(RosterError) as caught:
        read_roster(path, rulebook)
    problems = caught.value.problems
    assert problems, "a RosterError must carry its problems"
    for problem in problems:  # every problem is usable by a person
        assert problem.location and problem.message_zh and problem.message_en
        assert problem.hint_zh and problem.hint_en and problem.code
    return problems


def at(problems, location: str, code: str):
    found = [p for p in problems if p.location == location and p.code == code]
    assert found, f"no {code} at {location}; got {[(p.location, p.code) for p in problems]}"
    return found[0]


def member(employees, team_index: int = 0):
    """Someone nobody reports to, from the n-th team."""
    managers = {e.manager_id for e in employees}
    team = list(teams(employees))[team_index]
    return next(e for e in teams(employees)[team] if e.employee_id not in managers)


# ------------------------------------------------------------- the sample


def test_sample_reads_clean_with_five_teams_and_all_roles(employees, rulebook):
    assert 55 <= len(employees) <= 65
    grouped = teams(employees)
    assert len(grouped) == 5
    assert {department for department, _ in grouped} == {rulebook.meta.department_zh}
    assert {e.role for e in employees} == {role.code for role in rulebook.roles}
    assert len({e.employee_id for e in employees}) == len(employees)
    assert all(e.employee_id.startswith("SH") and len(e.employee_id) == 6 for e in employees)
    assert len({e.name for e in employees}) == len(employees)
    assert {e.status for e in employees} == set(STATUSES)


def test_sample_has_one_head_and_a_regular_manager_in_every_team(employees):
    heads = [e for e in employees if e.manager_id is None]
    assert len(heads) == 1
    by_id = {e.employee_id: e for e in employees}
    for (_, team), manager in team_managers(employees).items():
        assert manager is not None and manager.team == team and manager.status == "正式"
        members = teams(employees)[(manager.department, team)]
        assert all(e.manager_id == manager.employee_id for e in members if e is not manager)
        # every chain of managers ends at the head
        person, steps = manager, 0
        while person.manager_id:
            person, steps = by_id[person.manager_id], steps + 1
            assert steps < 5
        assert person is heads[0]


def test_sample_has_the_special_cases_of_2026_q4(employees):
    probation = [e for e in employees if e.status == "试用"]
    assert probation
    assert any(e.status == "长假" for e in employees)
    late_hires = [e for e in employees if dt.date(2026, 11, 15) <= e.hire_date <= dt.date(2026, 12, 15)]
    assert late_hires, "someone hired about one month before the end of 2026-Q4"
    movers = [e for e in employees
              if e.post_start > e.hire_date and (PERIOD_END - e.post_start).days < 61 and e.status == "正式"]
    assert movers, "someone who moved post within 2 months of period end"
    assert all(e.post_start >= e.hire_date for e in employees)
    assert all(e.hire_date <= PERIOD_END for e in employees)


def test_sample_looks_like_an_hr_sheet():
    book = openpyxl.load_workbook(SAMPLE)
    sheet = book[ROSTER_SHEET]
    assert [c.value for c in sheet[1]] == list(ROSTER_COLUMNS)
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    for header, field in ROSTER_COLUMNS.items():  # a Chinese character takes two width units
        assert sheet.column_dimensions[COLUMN[field]].width >= 2 * len(header) + 1
    for field in ("hire_date", "post_start"):
        cell = sheet[f"{COLUMN[field]}2"]
        assert isinstance(cell.value, dt.datetime) and cell.number_format == "yyyy-mm-dd"
        assert sheet.column_dimensions[COLUMN[field]].width >= len("2026-12-31") + 1
    assert book.properties.created == dt.datetime(2026, 9, 30, 9, 0, 0)


def _sheet_content(path: Path) -> list[tuple]:
    sheet = openpyxl.load_workbook(path)[ROSTER_SHEET]
    cells = [(c.coordinate, c.value, c.number_format, c.font.bold) for row in sheet.iter_rows() for c in row]
    widths = [(key, dim.width) for key, dim in sorted(sheet.column_dimensions.items())]
    return [*cells, *widths, sheet.freeze_panes, sheet.auto_filter.ref]


def test_make_roster_is_deterministic_and_rebuilds_the_committed_sample(tmp_path):
    spec = importlib.util.spec_from_file_location("make_roster", ROOT / "samples" / "make_roster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path / "one.xlsx")
    module.main(tmp_path / "two.xlsx")
    assert (tmp_path / "one.xlsx").read_bytes() == (tmp_path / "two.xlsx").read_bytes()
    # content rather than bytes against the committed file, so an xlsxwriter upgrade
    # that only reorders XML does not fail; a changed name, date or format does
    assert _sheet_content(tmp_path / "one.xlsx") == _sheet_content(SAMPLE)


def test_team_managers_returns_the_team_lead_for_each_team(employees):
    managers = team_managers(employees)
    assert list(managers) == list(teams(employees))
    for key, manager in managers.items():
        # the lead is first in each team on the sample, as HR lists them
        assert manager is teams(employees)[key][0]


# ---------------------------------------------------------- located problems


def test_duplicate_id_names_both_rows(tmp_path, employees, rulebook):
    first, second = employees[1], member(employees, 1)
    path = edited(tmp_path, {f"A{row_of(employees, second)}": first.employee_id})
    problem = at(problems_of(path, rulebook), f"花名册!A{row_of(employees, second)}", "duplicate-id")
    assert str(row_of(employees, first)) in problem.message_zh and str(row_of(employees, second)) in problem.message_zh
    assert first.employee_id in problem.message_en


def test_unknown_role_lists_the_rulebook_roles(tmp_path, employees, rulebook):
    row = row_of(employees, member(employees))
    problem = at(problems_of(edited(tmp_path, {f"E{row}": "售后经理"}), rulebook), f"花名册!E{row}", "unknown-role")
    assert "售后经理" in problem.message_zh
    assert all(role.name_zh in problem.hint_zh for role in rulebook.roles)


def test_role_by_english_name_or_code_is_stored_as_code(tmp_path, employees, rulebook):
    row_a, row_b = row_of(employees, member(employees, 3)), row_of(employees, member(employees, 4))
    path = edited(tmp_path, {f"E{row_a}": "After-sales engineer", f"E{row_b}": "ts"})
    read = read_roster(path, rulebook)
    assert read[row_a - 2].role == "engineer" and read[row_b - 2].role == "ts"


def test_blank_manager_of_a_member_is_missing_manager(tmp_path, employees, rulebook):
    row = row_of(employees, member(employees, 2))
    problems = problems_of(edited(tmp_path, {f"F{row}": None}), rulebook)
    at(problems, f"花名册!F{row}", "missing-manager")
    assert len(problems) == 1  # the head's own blank cell stays allowed


def test_blank_manager_of_a_team_lead_blames_the_lead_not_the_head(tmp_path, employees, rulebook):
    lead = team_managers(employees)[list(teams(employees))[0]]
    head = next(e for e in employees if e.manager_id is None)
    problems = problems_of(edited(tmp_path, {f"F{row_of(employees, lead)}": None}), rulebook)
    problem = at(problems, f"花名册!F{row_of(employees, lead)}", "missing-manager")
    assert head.employee_id in problem.message_zh
    assert len(problems) == 1


def test_manager_not_on_roster_and_self_manager(tmp_path, employees, rulebook):
    row_a, row_b = row_of(employees, member(employees, 0)), row_of(employees, member(employees, 1))
    own_id = employees[row_b - 2].employee_id
    problems = problems_of(edited(tmp_path, {f"F{row_a}": "SH9999", f"F{row_b}": own_id}), rulebook)
    assert "SH9999" in at(problems, f"花名册!F{row_a}", "unknown-manager").message_zh
    at(problems, f"花名册!F{row_b}", "self-manager")


@pytest.mark.parametrize("text", ["去年三月", "2026-13-01", "2026-02-30", "2026年2月30日", "1899-12-31", "45"])
def test_bad_date_text_is_reported_at_its_cell(tmp_path, employees, rulebook, text):
    row = row_of(employees, member(employees))
    problem = at(problems_of(edited(tmp_path, {f"G{row}": text}), rulebook), f"花名册!G{row}", "bad-date")
    assert "入职日期" in problem.message_zh


def test_post_start_before_hire_is_a_bad_date(tmp_path, employees, rulebook):
    row = row_of(employees, member(employees))
    path = edited(tmp_path, {f"G{row}": dt.datetime(2020, 5, 1), f"H{row}": dt.datetime(2019, 5, 1)})
    at(problems_of(path, rulebook), f"花名册!H{row}", "bad-date")


def test_date_texts_and_serials_hr_types_are_accepted(tmp_path, employees, rulebook):
    rows = [row_of(employees, member(employees, i)) for i in range(4)]
    path = edited(tmp_path, {
        f"G{rows[0]}": "2019/3/1", f"H{rows[0]}": "2026年3月1日",
        f"G{rows[1]}": "2019-03-01", f"H{rows[1]}": "２０２６／３／１",  # full-width, as some IMEs type
        f"G{rows[2]}": 43525, f"H{rows[2]}": None,  # a date that lost its format; blank post = since hiring
        f"G{rows[3]}": "2019.3.1", f"H{rows[3]}": "2026-03-01 00:00:00",
    })
    read = read_roster(path, rulebook)
    for row in rows:
        employee = read[row - 2]
        assert employee.hire_date == dt.date(2019, 3, 1)
        assert employee.post_start == (dt.date(2019, 3, 1) if row == rows[2] else dt.date(2026, 3, 1))


def test_unknown_status_and_blank_required_cell(tmp_path, employees, rulebook):
    row_a, row_b = row_of(employees, member(employees, 0)), row_of(employees, member(employees, 1))
    problems = problems_of(edited(tmp_path, {f"I{row_a}": "在职", f"B{row_b}": None, f"D{row_b}": "  "}), rulebook)
    assert "正式" in at(problems, f"花名册!I{row_a}", "unknown-status").hint_zh
    assert "姓名" in at(problems, f"花名册!B{row_b}", "blank-cell").message_zh
    at(problems, f"花名册!D{row_b}", "blank-cell")


def test_missing_column_names_the_expected_header(tmp_path, rulebook):
    path = edited(tmp_path, {}, change=lambda sheet: sheet.delete_cols(9))  # 状态
    problems = problems_of(path, rulebook)
    problem = at(problems, "花名册!1:1", "missing-column")
    assert "状态" in problem.message_zh and "状态" in problem.hint_zh
    assert len(problems) == 1


def test_every_problem_is_collected_at_once(tmp_path, employees, rulebook):
    rows = [row_of(employees, member(employees, i)) for i in range(5)]
    path = edited(tmp_path, {
        f"A{rows[0]}": employees[-1].employee_id,
        f"E{rows[1]}": "维修工",
        f"F{rows[2]}": "SH9999",
        f"G{rows[3]}": "2026-02-30",
        f"I{rows[4]}": "离职",
    })
    codes = sorted(p.code for p in problems_of(path, rulebook))
    assert codes == sorted(["duplicate-id", "unknown-role", "unknown-manager", "bad-date", "unknown-status"])


def test_header_below_a_title_row_shifts_every_location(tmp_path, employees, rulebook):
    def add_title(sheet):
        sheet.insert_rows(1)
        sheet["A1"] = "售后服务部花名册（2026年12月）"

    row = row_of(employees, member(employees)) + 1
    problems = problems_of(edited(tmp_path, {f"E{row}": "主管"}, change=add_title), rulebook)
    at(problems, f"花名册!E{row}", "unknown-role")
    assert len(read_roster(edited(tmp_path, {}, "titled.xlsx", change=add_title), rulebook)) == len(employees)


def test_columns_in_another_order_and_extra_columns_are_read(tmp_path, employees, rulebook):
    def reshape(sheet):
        sheet.move_range("A1:A61", cols=10)  # 工号 to K; A is left blank
        sheet["L1"] = "手机"  # a column the appraisal does not use
        sheet["L2"] = "13800000000"

    assert read_roster(edited(tmp_path, {}, change=reshape), rulebook) == employees


def test_no_sheet_named_roster_reads_the_first_sheet(tmp_path, employees, rulebook):
    path = edited(tmp_path, {}, change=lambda sheet: setattr(sheet, "title", "Sheet1"))
    assert read_roster(path, rulebook) == employees


def test_header_only_roster_is_an_error(tmp_path, rulebook):
    path = edited(tmp_path, {}, change=lambda sheet: sheet.delete_rows(2, 100))
    assert problems_of(path, rulebook)[0].code == "no-employees"


# ----------------------------------------------------------- garbage files


def _zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


GARBAGE = {
    "csv_renamed.xlsx": lambda p: p.write_text("工号,姓名\nSH0001,张三\n", encoding="utf-8"),
    "empty.xlsx": lambda p: p.write_bytes(b""),
    "old.xls": lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)),
    "plain.zip": lambda p: _zip_with(p, {"readme.txt": b"hello"}),
    "sheet.ods": lambda p: _zip_with(p, {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}),
    "broken_parts.xlsx": lambda p: _zip_with(p, {"xl/workbook.xml": b"<not xml", "[Content_Types].xml": b"??"}),
    "truncated.xlsx": lambda p: p.write_bytes(SAMPLE.read_bytes()[: SAMPLE.stat().st_size // 2]),
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_file_gives_one_clear_roster_error(tmp_path, rulebook, name):
    path = tmp_path / name
    GARBAGE[name](path)
    problems = problems_of(path, rulebook)
    assert len(problems) == 1 and problems[0].code == "file-unreadable"
    assert "xlsx" in problems[0].message_zh + problems[0].hint_zh + problems[0].message_en


def test_missing_file_is_a_roster_error(tmp_path, rulebook):
    problem = problems_of(tmp_path / "nowhere.xlsx", rulebook)[0]
    assert problem.code == "file-unreadable" and "nowhere.xlsx" in problem.location


def test_workbook_without_a_roster_header(tmp_path, rulebook):
    book = openpyxl.Workbook()
    book.active["A1"] = "季度销售报表"
    book.active["B3"] = 12.5
    book.save(tmp_path / "other.xlsx")
    problem = problems_of(tmp_path / "other.xlsx", rulebook)[0]
    assert problem.code == "missing-header" and "工号" in problem.hint_zh


def test_far_corner_cell_does_not_hang_or_crash(tmp_path, employees, rulebook):
    path = edited(tmp_path, {"XFD1048576": "x"})
    assert read_roster(path, rulebook) == employees


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255)),
                      min_size=1, max_size=6))
def test_corrupted_bytes_never_escape_as_another_exception(tmp_path, rulebook, flips):
    data = bytearray(SAMPLE.read_bytes())
    for position, mask in flips:
        data[position % len(data)] ^= mask
    path = tmp_path / "fuzzed.xlsx"
    path.write_bytes(bytes(data))
    try:
        read_roster(path, rulebook)
    except RosterError as error:
        assert error.problems


def test_parse_date_rejects_non_dates():
    assert parse_date(dt.datetime(2026, 3, 1, 8, 30)) == dt.date(2026, 3, 1)
    for value in (True, "", "三月一日", 10**9, -5):
        with pytest.raises(ValueError):
            parse_date(value)


def test_a_pickled_roster_comes_back_field_for_field(employees):
    # workers get the roster pickled; Employee pickles as its constructor's arguments (fast to restore)
    import dataclasses
    import pickle

    back = pickle.loads(pickle.dumps(employees, pickle.HIGHEST_PROTOCOL))
    assert back == employees
    assert [dataclasses.astuple(e) for e in back] == [dataclasses.astuple(e) for e in employees]
    assert any(e.manager_id is None for e in back) and all(isinstance(e.hire_date, dt.date) for e in back)
