"""The roster: who is appraised, in which team, under which manager.

Reading ``roster.xlsx`` with located errors is completed by the templates work;
the record below is the interface every other module uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# roster.xlsx header (Chinese as HR types it) -> Employee field
ROSTER_COLUMNS: dict[str, str] = {
    "工号": "employee_id",
    "姓名": "name",
    "部门": "department",
    "团队": "team",
    "岗位": "role",
    "上级工号": "manager_id",
    "入职日期": "hire_date",
    "任职开始日期": "post_start",
    "状态": "status",
}


@dataclass(frozen=True)
class Employee:
    employee_id: str
    name: str
    department: str
    team: str
    role: str  # rulebook role code, e.g. "engineer"
    manager_id: str | None
    hire_date: dt.date
    post_start: dt.date  # start in the current post (= hire date unless moved)
    status: str  # 正式 / 试用 / 长假
