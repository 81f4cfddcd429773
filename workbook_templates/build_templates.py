"""The committed blank template: a team workbook built from the default rulebook
with one placeholder employee per role and no personal data.

It lets HR and reviewers open the form without running anything, and a test
rebuilds it and compares bytes, so any change to the workbook's design shows up
as a change to this file in review. Regenerate after changing the writer or the
default rulebook:

    python -m kpisheet.workbook_templates.build_templates
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.load import default_rulebook

from kpisheet.workbook_templates.plan import plan_team
from kpisheet.workbook_templates.team_workbook import write_plan

BUILT = Path(__file__).parent / "built"
BLANK_TEMPLATE = "team_template.xlsx"
PLACEHOLDER_TEAM = "（团队 team）"
PLACEHOLDER_DATE = dt.date(2000, 1, 1)


def placeholder_employees(rulebook: Rulebook) -> list[Employee]:
    """One made-up row set per role: ids 示例01.., names saying which role they stand for."""
    return [
        Employee(employee_id=f"示例{i:02d}", name=f"示例（{role.name_zh}）", department=rulebook.meta.department_zh,
                 team=PLACEHOLDER_TEAM, role=role.code, manager_id=None, hire_date=PLACEHOLDER_DATE,
                 post_start=PLACEHOLDER_DATE, status="正式")
        for i, role in enumerate(rulebook.roles, start=1)
    ]


def build_blank_template(path: str | Path, rulebook: Rulebook | None = None) -> Path:
    rulebook = rulebook or default_rulebook()
    plan = plan_team(rulebook, None, rulebook.meta.department_zh, PLACEHOLDER_TEAM,
                     placeholder_employees(rulebook))
    return write_plan(Path(path), plan)


def build_all(folder: Path = BUILT) -> list[Path]:
    return [build_blank_template(folder / BLANK_TEMPLATE)]


if __name__ == "__main__":
    for written in build_all():
        print(f"wrote {written}")
