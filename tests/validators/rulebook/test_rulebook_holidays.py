"""Holiday schedules HR copies into the rulebook for years chinesecalendar does not know yet:
read from YAML and Excel (ranges allowed), checked for consistency with every problem located, and
used by the working-day arithmetic in place of a Monday-to-Friday estimate."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
import yaml

from kpisheet.validators.policy.workdays import (
    HolidaySchedules, add_workdays, appeal_deadlines, is_workday, known_years,
)
from kpisheet.validators.rulebook.from_data import rulebook_from_data
from kpisheet.validators.rulebook.load import dump_yaml, load_rulebook
from kpisheet.validators.rulebook.problems import RulebookError
from kpisheet.validators.rulebook.xlsx import dump_xlsx, load_xlsx
from tests.support.paths import REPO_ROOT

D = dt.date
EXAMPLE = REPO_ROOT / "samples" / "holidays" / "2027_EXAMPLE_NOT_OFFICIAL.yaml"


def with_holidays(rulebook, section) -> dict:
    data = rulebook.model_dump(mode="json")
    data["holidays"] = section
    return data


def yaml_rulebook(tmp_path, rulebook, section) -> tuple:
    path = tmp_path / "rulebook.yaml"
    path.write_text(dump_yaml(rulebook).replace("holidays: []\n", "") + yaml.safe_dump({"holidays": section},
                                                                                        allow_unicode=True),
                    encoding="utf-8")
    return path


def test_the_example_is_labelled_and_loads_from_a_yaml_rulebook(tmp_path, rulebook):
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "EXAMPLE" in text and "非官方" in text and "NOT the official" in text
    path = tmp_path / "rulebook.yaml"
    path.write_text(dump_yaml(rulebook).replace("holidays: []\n", "") + text, encoding="utf-8")
    loaded = load_rulebook(path)
    (year,) = loaded.holidays
    assert year.year == 2027 and "非官方" in year.source
    assert D(2027, 2, 5) in year.holidays and D(2027, 2, 12) in year.holidays  # a range, both ends in
    assert len(year.holidays) == 3 + 8 + 3 + 5 + 1 + 1 + 7
    assert loaded.fingerprint() == rulebook.fingerprint()  # forms made before stay valid


def test_a_supplied_year_decides_working_days_and_deadlines(rulebook):
    assert not 2027 <= known_years()[1], "chinesecalendar now knows 2027: pick a later year for this test"
    data = with_holidays(rulebook, [{"year": 2027, "holidays": ["2027-01-01..2027-01-03"],
                                     "workdays": ["2027-01-09"]}])
    supplied = rulebook_from_data(data, "t")
    schedules = HolidaySchedules.of(supplied)
    assert is_workday(D(2027, 1, 1), schedules=schedules) is False        # a Friday off
    assert is_workday(D(2027, 1, 9), schedules=schedules) is True         # a make-up Saturday
    assert is_workday(D(2027, 1, 4), schedules=schedules) is True
    assert add_workdays(D(2026, 12, 28), 5, schedules=schedules) == D(2027, 1, 5)  # no CalendarRangeError
    d = appeal_deadlines(D(2026, 12, 28), None, supplied, estimate=True)
    assert d.file_by == D(2027, 1, 5) and not d.estimated  # Dec 29-31, then Jan 4 and 5: New Year is off
    guessed = appeal_deadlines(D(2026, 12, 28), None, rulebook, estimate=True)
    assert guessed.file_by == D(2027, 1, 4) and guessed.estimated_years == (2027,)


def test_the_rulebook_wins_over_the_package_for_the_years_it_lists(rulebook):
    assert is_workday(D(2026, 6, 1)) is True  # a Monday in the package's 2026
    data = with_holidays(rulebook, [{"year": 2026, "holidays": ["2026-06-01"]}])
    assert is_workday(D(2026, 6, 1), schedules=HolidaySchedules.of(rulebook_from_data(data, "t"))) is False


BROKEN = [{"year": 2027,
           "holidays": ["2027-01-01", "2026-12-31", "2027-02-06", "2027-01-01"],
           "workdays": ["2027-02-06", "2027-02-08", "2027-02-20"]},
          {"year": 2027, "holidays": ["2027-10-01"]}]


def test_inconsistent_schedules_are_reported_each_at_its_place(tmp_path, rulebook):
    with pytest.raises(RulebookError) as info:
        load_rulebook(yaml_rulebook(tmp_path, rulebook, BROKEN))
    problems = {p.location: p for p in info.value.problems}
    assert "2026-12-31 不在 2027 年内" in problems["holidays[0].holidays[1]"].message_zh
    assert "重复" in problems["holidays[0].holidays[3]"].message_zh
    assert "同时列为放假日和调休上班日" in problems["holidays[0].workdays[0]"].message_zh
    assert "星期一" in problems["holidays[0].workdays[1]"].message_zh  # 2027-02-08 is a Monday
    assert "holidays[0].workdays[2]" not in problems  # a Saturday make-up day is fine
    assert "出现两次" in problems["holidays[1].year"].message_zh
    assert all(p.line for p in info.value.problems)  # YAML problems carry their line
    assert len(info.value.problems) == 5


@pytest.mark.parametrize("section, where, words", [
    ([{"year": 2027, "holidays": ["2027-02-30"]}], "holidays[0].holidays[0]", "应为日期"),
    ([{"year": 2027, "holidays": ["2027-03-01..2027-01-01"]}], "holidays[0].holidays", "须从早到晚"),
    ([{"year": 2027, "holidays": []}], "holidays[0].holidays", "至少需要一项"),
    ([{"year": 2027, "holidays": ["2027-01-01"], "days": ["2027-01-02"]}], "holidays[0].days", "未知的键"),
])
def test_malformed_entries_are_refused_in_chinese(tmp_path, rulebook, section, where, words):
    with pytest.raises(RulebookError) as info:
        load_rulebook(yaml_rulebook(tmp_path, rulebook, section))
    assert [p.location for p in info.value.problems] == [where]
    assert words in info.value.problems[0].message_zh


def test_the_excel_rulebook_carries_the_schedule_as_ranges(tmp_path, rulebook):
    example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["holidays"]
    supplied = rulebook_from_data(with_holidays(rulebook, example), "t")
    path = tmp_path / "rulebook.xlsx"
    dump_xlsx(supplied, path)
    sheet = openpyxl.load_workbook(path)["holidays"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(3, header.index("holidays") + 1).value
    assert cell.splitlines()[:2] == ["2027-01-01..2027-01-03", "2027-02-05..2027-02-12"]
    assert load_xlsx(path) == supplied


def test_an_excel_problem_is_located_at_its_cell_and_an_old_workbook_without_the_sheet_loads(tmp_path, rulebook):
    path = tmp_path / "rulebook.xlsx"
    dump_xlsx(rulebook_from_data(with_holidays(rulebook, [{"year": 2027, "holidays": ["2027-01-01"]}]), "t"), path)
    book = openpyxl.load_workbook(path)
    sheet = book["holidays"]
    header = [c.value for c in sheet[1]]
    column = header.index("workdays") + 1
    sheet.cell(3, column).value = "2027-01-01"
    book.save(path)
    with pytest.raises(RulebookError) as info:
        load_xlsx(path)
    (problem,) = info.value.problems
    assert problem.location.startswith(f"holidays!{openpyxl.utils.get_column_letter(column)}3")
    assert "同时列为放假日和调休上班日" in problem.message_zh
    del book["holidays"]
    book.save(path)
    assert load_xlsx(path) == rulebook
