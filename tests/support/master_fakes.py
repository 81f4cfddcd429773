"""Builders for the consolidation tests: FileReports as validation makes them.

Employees are scored by the real engine (kpisheet.validators.policy.grading) from inputs made
from a performance level, so totals and grades are the engine's, not typed in.
Each report's file exists on disk with content unique to it, so its SHA-256 is
real. No tests live here.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from kpisheet.validators.policy.grading import IndicatorLine, score_employee
from kpisheet.validators.report import EmployeeOutcome, FileReport, IndicatorOutcome, status_of
from kpisheet.validators.rulebook.model import Method, Rulebook

DEPARTMENT = "售后服务部"


@dataclass(frozen=True)
class FakeFinding:
    code: str
    severity: str
    sheet: str | None = None
    cell: str | None = None
    employee_id: str | None = None
    indicator: str | None = None
    value: object = None
    expected: object = None
    message_zh: str = ""
    message_en: str = ""
    hint: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _inputs(ind, level: float) -> dict:
    """Inputs that put an indicator at ``level`` (1.0 = on target)."""
    if ind.method is Method.rating:
        return {"manager": float(max(1, min(5, round(level * 4.4)))), "self_rating": 4.0}
    if ind.method is Method.deduction:
        return {"actual": float(max(0, round((1 - level) * 40)))}
    if ind.method is Method.count:
        return {"actual": round(ind.target * level, 2), "target": ind.target}
    limits = {"floor": ind.floor, "target": ind.target, "challenge": ind.challenge}
    return {"actual": round(ind.floor + (ind.target - ind.floor) * level, 4), **limits}


def make_employee(rulebook: Rulebook, employee_id: str, name: str, *, role: str = "engineer",
                  level: float = 0.9, comment: str = "", veto: str | None = None) -> EmployeeOutcome:
    lines, comments = [], {}
    for ind, weight in rulebook.role_indicators(role):
        values = _inputs(ind, level)
        lines.append(IndicatorLine(ind.code, weight, **values))
        comments[ind.code] = comment
    result = score_employee(rulebook, lines, commendations=0, veto=veto)
    indicators = tuple(
        IndicatorOutcome(code=line.code, category=res.category, weight=line.weight, floor=line.floor,
                         target=line.target, challenge=line.challenge, actual=line.actual,
                         self_rating=line.self_rating, manager=line.manager, score=res.score,
                         weighted=res.weighted, comment=comments[line.code])
        for line, res in zip(lines, result.lines))
    return EmployeeOutcome(employee_id=employee_id, name=name, role=role, subtotals=result.subtotals,
                           bonus=result.bonus, veto=veto, total=result.total, grade=result.grade,
                           coefficient=result.coefficient, indicators=indicators, feedback=comment)


def make_report(path: Path, employees: list[EmployeeOutcome], *, team: str, period: str,
                department: str = DEPARTMENT, findings: tuple = (), modified: float | None = None) -> FileReport:
    """Write a file standing for the submission and return its report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = json.dumps([team, period, [asdict(e) for e in employees], [f.code for f in findings]],
                         ensure_ascii=False, sort_keys=True).encode("utf-8")
    path.write_bytes(content)
    if modified is not None:
        os.utime(path, (modified, modified))
    return FileReport(path=str(path), sha256=hashlib.sha256(content).hexdigest(), status=status_of(findings),
                      department=department, team=team, period=period, findings=tuple(findings),
                      employees=tuple(employees), modified=path.stat().st_mtime)


def team_employees(rulebook: Rulebook, prefix: str, count: int, *, base_level: float = 0.75,
                   comment: str = "") -> list[EmployeeOutcome]:
    roles = ("engineer", "cs", "ts")
    return [make_employee(rulebook, f"{prefix}{i:03d}", f"员工{prefix}{i}", role=roles[i % 3],
                          level=base_level + 0.04 * (i % 7), comment=comment) for i in range(count)]
