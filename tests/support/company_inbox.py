"""A small company inbox for the record's tests: a few teams of each example department, forms made from each
department's own rules (samples/company) and filled by the filler. No tests live here."""

from __future__ import annotations

from pathlib import Path

from kpisheet.validators.roster import Employee, read_roster
from kpisheet.validators.rulebook.company import Company
from kpisheet.validators.rulebook.company_load import load_company
from kpisheet.workbook_templates.filler import fill_team_workbook
from kpisheet.xladdin.forms.service import write_forms
from tests.support.paths import SAMPLE_COMPANY

PERIOD = "2026-Q4"
# two teams of sales and of R&D, one of after-sales: every department, few people (the smallest teams)
TEAMS = (("销售部", "西部大区"), ("销售部", "华中大区"), ("研发中心", "测试二组"), ("研发中心", "基础架构组"),
         ("售后服务部", "技术支持组"))


def company_inbox(folder: Path, period: str = PERIOD) -> tuple[Company, list[Employee], Path]:
    """(the sample company's rules, the chosen teams' people, the inbox of their filled workbooks)."""
    company = load_company(SAMPLE_COMPANY)
    people = [p for p in read_roster(SAMPLE_COMPANY / "roster.xlsx", company) if (p.department, p.team) in TEAMS]
    forms = write_forms(company, people, period, folder / "forms")
    inbox = folder / "inbox"
    inbox.mkdir(parents=True)
    for n, form in enumerate(forms):
        fill_team_workbook(form.path, inbox / form.path.name, seed=20261203 + n,
                           rulebook=company.require(form.department))
    return company, people, inbox
