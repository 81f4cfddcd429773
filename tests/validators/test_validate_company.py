"""Validation with a company's rulebooks: each workbook is checked and scored by its own department's rules."""

from __future__ import annotations


import openpyxl
import pytest

from kpisheet.validators.layout import META
from kpisheet.validators.roster import read_roster
from kpisheet.validators.rulebook.company_load import load_company
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.validators.validate import validate_file, validate_paths
from kpisheet.validators.checks.template import meta_cell
from kpisheet.workbook_templates.filler import fill_team_workbook
from kpisheet.xladdin.forms.service import write_forms
from tests.support.paths import SAMPLE_COMPANY

PERIOD = "2026-Q4"
# one team per department: engineers, a mixed sales region, testers
TEAMS = {("售后服务部", "技术支持组"), ("销售部", "西部大区"), ("研发中心", "测试二组")}


@pytest.fixture(scope="module")
def company():
    return load_company(SAMPLE_COMPANY)


@pytest.fixture(scope="module")
def roster(company):
    return read_roster(SAMPLE_COMPANY / "roster.xlsx", company)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory, company, roster):
    """One filled workbook per department, each from its department's form, filled by its own rules."""
    forms = tmp_path_factory.mktemp("forms")
    people = [p for p in roster if (p.department, p.team) in TEAMS]
    written = write_forms(company, people, PERIOD, forms)
    inbox = tmp_path_factory.mktemp("inbox")
    for n, form in enumerate(written):
        fill_team_workbook(form.path, inbox / form.path.name, seed=n + 1, rulebook=company.require(form.department),
                           boundary=0, veto_rate=0)
    return inbox


def _by_department(reports):
    return {r.department: r for r in reports}


def test_each_workbook_is_checked_by_its_department_rules(inbox, company, roster):
    reports = _by_department(validate_paths([inbox], rulebook=company, roster=roster, period=PERIOD))
    assert set(reports) == {"售后服务部", "销售部", "研发中心"}
    for department, report in reports.items():
        errors = [f for f in report.findings if f.severity == "error"]
        assert not errors, (department, [(f.code, f.cell, f.message_en) for f in errors])
        rulebook = company.require(department)
        assert report.rulebook_fingerprint == rulebook.fingerprint()
        # every employee scored with the indicators of their own department's role
        for person in report.employees:
            role = rulebook.role_by_name(person.role) or rulebook.role(person.role)
            assert {i.code for i in person.indicators} == set(role.weights)
            assert person.grade in {g.grade for g in rulebook.grades}
    # the sales region holds two roles of the sales rules, none of after-sales'
    codes = {i.code for p in reports["销售部"].employees for i in p.indicators}
    assert {"SALES_REV", "KA_RETAIN"} <= codes and not codes & {"ENG_FIX_RATE", "TS_KB"}


def test_with_one_rulebook_the_other_departments_forms_are_a_rulebook_mismatch(inbox):
    reports = _by_department(validate_paths([inbox], rulebook=default_rulebook(), period=PERIOD))
    assert not any(f.code == "template-rulebook-mismatch" for f in reports["售后服务部"].findings)
    for department in ("销售部", "研发中心"):
        assert "template-rulebook-mismatch" in {f.code for f in reports[department].findings}


def test_a_workbook_whose_department_has_no_rules(inbox, company, tmp_path):
    source = next(inbox.glob("*研发中心*"))
    book = openpyxl.load_workbook(source)
    book[META][meta_cell("department")].value = "财务部"
    book.save(tmp_path / "moved.xlsx")
    report = validate_file(tmp_path / "moved.xlsx", rulebook=company, period=PERIOD)
    assert report.status == "error" and report.department == "财务部"
    (finding,) = [f for f in report.findings if f.code == "template-department-unknown"]
    assert finding.sheet == META and finding.cell == meta_cell("department")
    assert "财务部" in finding.message_zh and "研发中心" in finding.message_zh
    assert not report.employees  # nothing scored without rules


def test_a_single_rulebook_routes_nothing(inbox):
    """A company of one checks every workbook against its one rulebook, as before."""
    one = load_company(None)
    source = next(inbox.glob("*售后服务部*"))
    assert validate_file(source, rulebook=one, period=PERIOD) == validate_file(source, rulebook=default_rulebook(),
                                                                               period=PERIOD)
