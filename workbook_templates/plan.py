"""Where everything goes in one team workbook, decided once before any sheet is written.

Every sheet writer reads the same plan, so the goals and scores sheets hold
the same employee x indicator rows, the summary refers to the right ranges and
``_meta``'s row map describes exactly what was written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

from kpisheet.validators.actuals import Actual
from kpisheet.validators.layout import FIRST_DATA_ROW
from kpisheet.validators.policy.periods import Period, signoff_window
from kpisheet.validators.names import clean_text
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Indicator, Role, Rulebook
from kpisheet.validators.errors import KpisheetError


class TeamPlanError(KpisheetError):
    """An employee the workbook cannot be laid out for (e.g. an unknown role)."""

    code = "team-plan"
    title_zh, title_en = "无法为该团队生成考核表", "team workbook cannot be laid out"
    description = "A roster entry the team workbook cannot be laid out for (an unknown role, a duplicate ID)."


# what the blank template shows where a team workbook names its period
PLACEHOLDER_PERIOD_LABEL = "（考核期间 period）"


@dataclass(frozen=True)
class EmployeeBlock:
    """One employee's rows: a contiguous run on 目标设定/考核评分, one 汇总 row."""

    employee: Employee
    role: Role
    lines: tuple[tuple[Indicator, float], ...]  # indicator, default weight
    first_row: int  # 0-based, goals and scores
    summary_row: int  # 0-based

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.lines) - 1

    @property
    def codes(self) -> list[str]:
        return [ind.code for ind, _ in self.lines]


@dataclass(frozen=True)
class TeamPlan:
    rulebook: Rulebook
    period: Period | None  # None for the blank template, which is made for no period
    department: str
    team: str
    blocks: tuple[EmployeeBlock, ...]
    deadline: dt.date | None = None
    # 实际值 prefilled from source systems, by (employee id, indicator code); only this team's
    actuals: Mapping[tuple[str, str], Actual] = field(default_factory=dict)

    @property
    def period_code(self) -> str:
        """The period as _meta records it ('2026-Q4'); empty on the blank template."""
        return str(self.period) if self.period else ""

    @property
    def period_label_zh(self) -> str:
        """The period as people read it ('2026年第4季度'), or the blank template's placeholder."""
        return self.period.label_zh if self.period else PLACEHOLDER_PERIOD_LABEL

    @property
    def signoff_window(self) -> tuple[dt.date, dt.date] | None:
        return signoff_window(self.period, self.rulebook) if self.period else None

    @property
    def line_count(self) -> int:
        return sum(len(b.lines) for b in self.blocks)

    @property
    def last_line_row(self) -> int:
        """Last 0-based goals/scores data row (FIRST_DATA_ROW if there is none)."""
        return FIRST_DATA_ROW + max(self.line_count, 1) - 1

    @property
    def last_summary_row(self) -> int:
        return FIRST_DATA_ROW + max(len(self.blocks), 1) - 1

    @property
    def max_lines(self) -> int:
        """Indicator lines the personal form prints: the most any rulebook role has."""
        return max(len(self.rulebook.role_indicators(r.code)) for r in self.rulebook.roles)

    def row_map(self) -> list[tuple[str, int, int, list[str]]]:
        return [(b.employee.employee_id, b.summary_row, b.first_row, b.codes) for b in self.blocks]


def resolve_role(rulebook: Rulebook, employee: Employee) -> Role:
    role = rulebook.role_by_name(employee.role)
    if role is None:
        known = "、".join(f"{r.code}/{r.name_zh}" for r in rulebook.roles)
        raise TeamPlanError(
            f"员工 {employee.employee_id} {employee.name} 的岗位“{employee.role}”不在规则表中（可用：{known}）",
            f"employee {employee.employee_id} {employee.name}: role '{employee.role}' is not in the rulebook")
    return role


def plan_team(rulebook: Rulebook, period: Period | None, department: str, team: str,
              employees: list[Employee], deadline: dt.date | None = None,
              actuals: Mapping[tuple[str, str], Actual] | None = None) -> TeamPlan:
    """Lay out the employees in roster order, each with their role's indicators.

    Of ``actuals`` only the values of this team's quantitative lines are kept:
    a workbook holds no one else's data.
    """
    # the identity as validation will read it back (the roster reader cleans its texts the same way)
    department, team = clean_text(department).strip(), clean_text(team).strip()
    seen: set[str] = set()
    blocks = []
    row = FIRST_DATA_ROW
    for i, employee in enumerate(employees):
        if employee.employee_id in seen:
            raise TeamPlanError(f"工号重复：{employee.employee_id}", f"duplicate employee id {employee.employee_id}")
        seen.add(employee.employee_id)
        role = resolve_role(rulebook, employee)
        lines = tuple(rulebook.role_indicators(role.code))
        blocks.append(EmployeeBlock(employee, role, lines, row, FIRST_DATA_ROW + i))
        row += len(lines)
    mine = {}
    for block in blocks:
        for ind, _ in block.lines:
            found = (actuals or {}).get((block.employee.employee_id, ind.code))
            if found is not None and ind.is_quantitative:
                mine[(block.employee.employee_id, ind.code)] = found
    return TeamPlan(rulebook, period, department, team, tuple(blocks), deadline, mine)
