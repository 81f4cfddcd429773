"""One team's appraisal workbook: the Excel form a manager fills in.

    build_team_workbook(path, rulebook, "2026-Q4", "售后服务部", "华东工程一组", employees)

writes the sheets of :data:`kpisheet.validators.layout.SHEET_ORDER` with xlsxwriter.
Formulas carry cached results of what is known when the file is written
(copied weights and targets, sums of default weights, a bonus of 0) and ""
where they depend on inputs still empty, because LibreOffice shows cached
results of an .xlsx without recalculating them. The output is byte-for-byte
reproducible: fixed document dates, and xlsxwriter's fixed zip timestamps.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Mapping

from xlsxwriter import Workbook

from kpisheet import __version__
from kpisheet.validators.actuals import Actual, Actuals
from kpisheet.validators.names import safe_file_name
from kpisheet.validators.policy.periods import parse_period
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.signature import SigningKey

from kpisheet.workbook_templates.actuals_sheet import write_actuals
from kpisheet.workbook_templates.goals_sheet import write_goals
from kpisheet.workbook_templates.guide import write_guide
from kpisheet.workbook_templates.lists_sheet import write_lists
from kpisheet.workbook_templates.meta_sheet import write_meta
from kpisheet.workbook_templates.personal_form import write_personal_form
from kpisheet.workbook_templates.plan import TeamPlan, plan_team
from kpisheet.workbook_templates.scores_sheet import write_scores
from kpisheet.workbook_templates.styles import make_formats, workbook_options
from kpisheet.workbook_templates.summary_sheet import write_summary

# A fixed document date keeps rebuilds byte-identical (the committed template
# is compared with a fresh build).
DOCUMENT_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

def team_file_parts(period: str, department: str, team: str) -> list[str]:
    """What a team workbook's file name is made of (see :func:`kpisheet.validators.names.safe_file_name`)."""
    return [str(parse_period(period)), department or "-", team or "-"]


def team_file_name(period: str, department: str, team: str) -> str:
    """'2026-Q4_售后服务部_华东工程一组.xlsx': sorts by period, then department, then team; safe on any system."""
    return safe_file_name(team_file_parts(period, department, team))


def build_team_workbook(path: str | Path, rulebook: Rulebook, period: str, department: str, team: str,
                        employees: list[Employee], *, deadline: dt.date | None = None,
                        actuals: Actuals | Mapping[tuple[str, str], Actual] | None = None,
                        signing_key: SigningKey | None = None) -> Path:
    """Write one team's workbook to ``path`` and return the path.

    ``actuals`` (see :func:`kpisheet.validators.actuals.read_actuals`) prefill 实际值:
    purple cells with a note naming the source, recorded on a hidden ``_actuals``
    sheet so that validation can flag a later hand edit. ``signing_key`` (HR's) signs the
    workbook's identity and structure (see :mod:`kpisheet.validators.signature`).

    Raises periods.PeriodError for a bad period and plan.TeamPlanError for an
    employee the rulebook cannot place (unknown role, duplicate id).
    """
    if isinstance(actuals, Actuals):
        actuals = actuals.values
    plan = plan_team(rulebook, parse_period(period), department, team, list(employees), deadline, actuals)
    return write_plan(Path(path), plan, signing_key)


def write_plan(path: Path, plan: TeamPlan, signing_key: SigningKey | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook(str(path), workbook_options())
    rb = plan.rulebook
    book.set_properties({
        "title": f"{plan.period_label_zh} {plan.department} {plan.team} 绩效考核表",
        "subject": rb.meta.name_zh,
        "author": "kpisheet",
        "company": plan.department,
        "comments": f"kpisheet {__version__}; rulebook {rb.meta.id} v{rb.meta.version}",
        "created": DOCUMENT_DATE,
    })
    book.set_calc_mode("auto")
    formats = make_formats(book)
    # the order of these calls is layout.SHEET_ORDER
    write_guide(book, formats, plan)
    write_goals(book, formats, plan)
    write_scores(book, formats, plan)
    write_summary(book, formats, plan)
    write_personal_form(book, formats, plan)
    write_lists(book, rb, [b.employee for b in plan.blocks], formats)
    write_meta(book, plan, signing_key)
    if plan.actuals:
        write_actuals(book, plan)
    book.close()
    return path
