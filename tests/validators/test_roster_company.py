"""The roster at company scale: each row read by its own department's rules, any size, problems bounded."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from kpisheet.validators.roster import (
    MAX_LISTED_PROBLEMS, ROSTER_COLUMNS, ROSTER_SHEET, RosterError, read_roster, teams,
)
from kpisheet.validators.rulebook.company_load import load_company
from kpisheet.xladdin.demo.company_roster import company_people, write_company_roster
from tests.support.paths import SAMPLE_COMPANY

COLUMN = {field: openpyxl.utils.get_column_letter(i + 1) for i, field in enumerate(ROSTER_COLUMNS.values())}
ROSTER = SAMPLE_COMPANY / "roster.xlsx"


@pytest.fixture(scope="module")
def company():
    return load_company(SAMPLE_COMPANY)


@pytest.fixture(scope="module")
def people(company):
    return read_roster(ROSTER, company)


def _row(name: str) -> int:
    """The Excel row of the first person of department ``name`` in the sample roster."""
    book = openpyxl.load_workbook(ROSTER, read_only=True)
    for number, row in enumerate(book[ROSTER_SHEET].iter_rows(values_only=True), start=1):
        if row[2] == name:
            return number
    raise AssertionError(name)


def _edited(tmp_path: Path, edits: dict[str, object]) -> Path:
    book = openpyxl.load_workbook(ROSTER)
    for cell, value in edits.items():
        book[ROSTER_SHEET][cell].value = value
    out = tmp_path / "roster.xlsx"
    book.save(out)
    return out


def _problems(path: Path, rules) -> list:
    with pytest.raises(RosterError) as caught:
        read_roster(path, rules)
    assert caught.value.exit_code == 2
    return caught.value.problems


def test_the_sample_roster_is_the_generator_output(tmp_path):
    assert write_company_roster(tmp_path / "r.xlsx").read_bytes() == ROSTER.read_bytes()


def test_each_row_is_read_by_its_department_rules(people, company):
    assert 250 <= len(people) <= 320
    assert Counter(p.department for p in people).keys() == {"售后服务部", "销售部", "研发中心"}
    for person in people:
        rulebook = company.rulebook_for(person.department)
        assert rulebook.role(person.role)  # a role code of the person's own department
    roles = {p.department: set() for p in people}
    for p in people:
        roles[p.department].add(p.role)
    assert roles == {"售后服务部": {"engineer", "cs", "ts"}, "销售部": {"sales_rep", "key_account", "sales_ops"},
                     "研发中心": {"developer", "tester", "product_manager"}}
    # the after-sales department is the single-department sample, person for person
    from kpisheet.validators.roster import read_roster as read
    from tests.support.paths import SAMPLE_ROSTER

    assert [p for p in people if p.department == "售后服务部"] == read(SAMPLE_ROSTER)
    assert len(teams(people)) >= 15


def test_a_department_without_a_rulebook(tmp_path, company):
    row = _row("销售部")
    problems = _problems(_edited(tmp_path, {f"{COLUMN['department']}{row}": "财务部"}), company)
    found = [p for p in problems if p.code == "unknown-department"]
    assert [p.location for p in found] == [f"{ROSTER_SHEET}!{COLUMN['department']}{row}"]
    assert "财务部" in found[0].message_zh and "销售部" in found[0].hint_zh


def test_a_role_of_another_department(tmp_path, company):
    row = _row("研发中心")
    problems = _problems(_edited(tmp_path, {f"{COLUMN['role']}{row}": "售后工程师"}), company)
    (problem,) = [p for p in problems if p.code == "unknown-role"]
    assert problem.location == f"{ROSTER_SHEET}!{COLUMN['role']}{row}"
    assert "研发中心" in problem.message_zh and "软件工程师" in problem.hint_zh


def test_with_one_rulebook_every_department_is_read_by_it(tmp_path, rulebook):
    from tests.support.paths import SAMPLE_ROSTER

    book = openpyxl.load_workbook(SAMPLE_ROSTER)
    book[ROSTER_SHEET][f"{COLUMN['department']}2"].value = "客户服务中心"
    book.save(tmp_path / "r.xlsx")
    assert read_roster(tmp_path / "r.xlsx", rulebook)[0].department == "客户服务中心"


def _claims(tmp_path: Path, sales_teams: str) -> object:
    folder = tmp_path / "rules"
    shutil.copytree(SAMPLE_COMPANY, folder, ignore=shutil.ignore_patterns("*.xlsx", "*.py"))
    sales = folder / "departments" / "sales.yaml"
    sales.write_text(sales.read_text(encoding="utf-8").replace("\nroles:\n", f"\nteams: {sales_teams}\n\nroles:\n"),
                     encoding="utf-8")
    return load_company(folder)


def test_a_team_claimed_by_another_department(tmp_path, people):
    company = _claims(tmp_path, "[华北大区, 华东大区, 华中大区, 华南大区, 西部大区, 渠道销售组, 销售运营组, 客服中心]")
    problems = _problems(ROSTER, company)
    assert {p.code for p in problems} == {"team-claimed-elsewhere"}
    assert len(problems) == sum(1 for p in people if p.team == "客服中心")
    assert "销售部" in problems[0].message_zh and "售后服务部" in problems[0].message_zh


def test_a_team_its_department_does_not_claim(tmp_path, people):
    company = _claims(tmp_path, "[华北大区, 华东大区, 华中大区, 华南大区, 西部大区, 渠道销售组]")
    problems = _problems(ROSTER, company)
    assert {p.code for p in problems} == {"team-not-claimed"}
    assert len(problems) == sum(1 for p in people if p.team == "销售运营组")


def test_no_row_cap_a_large_company_is_read(tmp_path, company):
    """The 20,000-row cap is gone: 25,000 people in about 2,000 teams read whole."""
    path = write_company_roster(tmp_path / "big.xlsx", employees=25_000)
    people = read_roster(path, company)
    assert len(people) == len(company_people(25_000)) >= 24_000
    assert len({p.employee_id for p in people}) == len(people)
    assert 1_800 <= len(teams(people)) <= 2_300


def test_a_file_wrong_in_every_row_lists_the_first_problems_and_counts_the_rest(tmp_path, company):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = ROSTER_SHEET
    sheet.append(list(ROSTER_COLUMNS))
    for n in range(MAX_LISTED_PROBLEMS + 200):
        sheet.append([f"X{n}", "某人", "财务部", "一组", "会计", "X0" if n else None, "2020-01-01", None, "正式"])
    book.save(tmp_path / "r.xlsx")
    problems = _problems(tmp_path / "r.xlsx", company)
    assert len(problems) == MAX_LISTED_PROBLEMS + 1
    assert problems[-1].code == "more-problems" and "200" in problems[-1].message_en
