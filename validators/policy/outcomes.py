"""Python's own results for every employee of a team workbook, from the inputs only.

Cached formula results in the file are never used here (the checks compare
them with these). Each employee is scored once; the score checks and the
:class:`~kpisheet.validators.report.EmployeeOutcome` records consolidation merges both
read the same :class:`Recomputed`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kpisheet.validators.policy.grading import EmployeeResult, IndicatorLine, LineResult, score_employee
from kpisheet.validators.layout import VETO_NONE
from kpisheet.validators.report import EmployeeOutcome, IndicatorOutcome
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.reading.submission import (
    GoalRow, ScoreRow, SummaryRow, TeamWorkbook, number, to_indicator_lines,
)


@dataclass(frozen=True)
class Recomputed:
    """One employee: their rows as read and the engine's result from their inputs."""

    employee_id: str
    summary: SummaryRow | None
    goals: tuple[GoalRow, ...]
    scores: dict[str, ScoreRow]  # indicator code -> first score row of that code
    result: EmployeeResult
    lines: dict[str, LineResult]  # indicator code -> the engine's line (first of that code)
    inputs: tuple[IndicatorLine, ...] = ()  # the numeric inputs the engine scored, in goals order


def recompute(book: TeamWorkbook, rulebook: Rulebook) -> dict[str, Recomputed]:
    """Every employee (summary rows first, in sheet order, then any only on the goals sheet)."""
    goals: dict[str, list[GoalRow]] = {}
    for g in book.goals:
        goals.setdefault(g.employee_id, []).append(g)
    scores: dict[str, list[ScoreRow]] = {}
    for s in book.scores:
        scores.setdefault(s.employee_id, []).append(s)
    summaries: dict[str, SummaryRow] = {}
    for row in book.summary:
        summaries.setdefault(row.employee_id, row)
    order = list(summaries) + [emp for emp in goals if emp not in summaries]
    out: dict[str, Recomputed] = {}
    for emp in order:
        own_goals = goals.get(emp, [])
        own_scores = scores.get(emp, [])
        summary = summaries.get(emp)
        commendations = number(summary.commendations) if summary else None
        veto = summary.veto if summary else None
        inputs = to_indicator_lines(own_goals, own_scores)
        result = score_employee(rulebook, inputs, commendations, _veto_text(veto))
        by_code: dict[str, ScoreRow] = {}
        for s in own_scores:
            by_code.setdefault(s.code, s)
        lines: dict[str, LineResult] = {}
        for goal, line in zip(own_goals, result.lines):
            lines.setdefault(goal.code, line)
        out[emp] = Recomputed(emp, summary, tuple(own_goals), by_code, result, lines, tuple(inputs))
    return out


def employee_outcomes(recomputed: dict[str, Recomputed], rulebook: Rulebook) -> tuple[EmployeeOutcome, ...]:
    return tuple(_outcome(r, rulebook) for r in recomputed.values())


def _outcome(r: Recomputed, rulebook: Rulebook) -> EmployeeOutcome:
    s = r.summary
    result = r.result
    indicators = []
    for goal, line, given in zip(r.goals, result.lines, r.inputs):
        score_row = r.scores.get(goal.code)
        indicators.append(IndicatorOutcome(
            code=goal.code,
            category=line.category,
            weight=given.weight,
            floor=given.floor,
            target=given.target,
            challenge=given.challenge,
            actual=given.actual,
            self_rating=given.self_rating,
            manager=given.manager,
            score=line.score,
            weighted=line.weighted,
            comment=text(score_row.comment) if score_row else "",
        ))
    role = text(s.role) if s else ""
    known_role = rulebook.role_by_name(role) if role else None
    return EmployeeOutcome(
        employee_id=r.employee_id,
        name=text(s.name) if s else "",
        role=known_role.code if known_role else role,
        subtotals=dict(result.subtotals),
        bonus=result.bonus,
        veto=_veto_text(s.veto) if s else None,
        total=result.total,
        grade=result.grade,
        coefficient=result.coefficient,
        indicators=tuple(indicators),
        feedback=text(s.feedback) if s else "",
        pip_shortfalls=text(s.pip_shortfalls) if s else "",
        pip_actions=text(s.pip_actions) if s else "",
        pip_owner=text(s.pip_owner) if s else "",
        pip_due=text(s.pip_due) if s else "",
        manager_sign=text(s.manager_sign) if s else "",
        employee_sign=text(s.employee_sign) if s else "",
    )


def _veto_text(raw) -> str | None:
    """The veto cell as text; empty and 无 mean none."""
    value = text(raw)
    return None if value in ("", VETO_NONE) else value


def text(raw) -> str:
    """A cell as the text a person reads: '' for empty, 3.0 -> '3', dates as ISO."""
    if raw is None or raw == "":
        return ""
    if isinstance(raw, bool):
        return str(raw).upper()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, (dt.date, dt.time)):
        return raw.isoformat()
    return str(raw).strip()
