"""Writing the team workbooks of a roster into a folder: what `kpisheet forms` and the 生成表格 button do.

The faces load the inputs (rulebook, roster, period, actuals) and show the
outcome; this service decides what may be written and writes it, each
workbook atomically. It never overwrites a workbook that a manager may
already have filled unless asked (:class:`FormsExist` otherwise), and never
one that is open in a spreadsheet program (Excel, WPS or LibreOffice).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kpisheet.validators.actuals import Actuals
from kpisheet.validators.errors import KpisheetError
from kpisheet.validators.names import distinct_file_names, inside
from kpisheet.validators.roster import Employee, teams
from kpisheet.validators.rulebook.company import Company
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.signature import SigningKey
from kpisheet.workbook_templates.team_workbook import build_team_workbook, team_file_parts
from kpisheet.xladdin.kit.files import make_output_folder, refuse_if_open, write_atomically


class FormsExist(KpisheetError):
    """Team workbooks of this period are already in the folder and may hold a manager's entries."""

    code = "forms-exist"
    title_zh, title_en = "考核表已存在", "team workbooks exist"
    description = ("Workbooks of the same period and team are already in the output folder; they are overwritten "
                   "only when HR says so (`--force`, or 覆盖已有考核表 = 是 in 设置).")

    def __init__(self, clashes: list[Path]):
        names = "、".join(p.name for p in clashes[:3]) + (" …" if len(clashes) > 3 else "")
        super().__init__(f"{len(clashes)} 个考核表已存在（{names}），可能已有人填写，未覆盖",
                         f"{len(clashes)} team workbook(s) already exist and may hold a manager's entries; "
                         "nothing was overwritten")
        self.clashes = clashes


@dataclass(frozen=True)
class TeamForm:
    department: str
    team: str
    people: int
    path: Path


def plan_forms(employees: list[Employee], period: str, out: Path) -> dict[tuple[str, str], tuple[list[Employee], Path]]:
    """(department, team) -> (members, target file), in roster order; two teams never share a file."""
    grouped = teams(employees)
    names = distinct_file_names([team_file_parts(period, *key) for key in grouped])
    return {key: (members, inside(out, name)) for (key, members), name in zip(grouped.items(), names)}


def write_forms(rules: Rulebook | Company, employees: list[Employee], period: str, out: Path, *,
                deadline: dt.date | None = None, overwrite: bool = False, actuals: Actuals | None = None,
                progress: Callable[[int, int], None] | None = None,
                current: Callable[[str], None] | None = None, signing_key: SigningKey | None = None) -> list[TeamForm]:
    """One team workbook per team of ``employees`` in ``out``, each from its department's rules and signed with
    ``signing_key``; the forms written.

    Everything that could stop the run is checked before the first file is
    written: every team's department has rules (a company's set routes each
    department to its own; one rulebook takes them all), the folder, existing
    workbooks (:class:`FormsExist` unless ``overwrite``) and workbooks open in
    a spreadsheet program.
    """
    company = rules if isinstance(rules, Company) else Company.of_one(rules)
    plan = plan_forms(employees, period, out)
    rulebooks = {key: company.require(key[0]) for key in plan}
    make_output_folder(out)
    clashes = [target for _members, target in plan.values() if target.exists()]
    if clashes and not overwrite:
        raise FormsExist(clashes)
    for _members, target in plan.values():
        refuse_if_open(target)
    written = []
    for n, ((department, team), (members, target)) in enumerate(plan.items(), start=1):
        if current is not None:
            current(f"{team}（{len(members)} 人）")
        write_atomically(target, lambda temp: build_team_workbook(
            temp, rulebooks[department, team], period, department, team, members, deadline=deadline,
            actuals=actuals, signing_key=signing_key))
        written.append(TeamForm(department, team, len(members), target))
        if progress is not None:
            progress(n, len(plan))
    return written
