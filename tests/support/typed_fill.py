"""What a manager types into a team workbook, as keystrokes for :mod:`tests.support.lo_typing`.

The tests decide the inputs (an actual as "95.13%", a rating as "4", a date as
"2027-01-08"); this turns them into cell entries on the sheets of a blank
team workbook, adds what a careful manager adds around them (a SMART text on
every goal, a comment wherever the rulebook requires one, sign-off names and
dates inside the window, feedback), and orders the entries column by column
so that LibreOffice takes each column's run in one call.

Nothing here computes what the workbook should show: the tests read the file
LibreOffice saved and score its inputs with the Python engine. The one
prediction made here is whether a comment is required, from the text typed,
so that a correctly filled workbook is complete.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Mapping

from kpisheet.validators.layout import GOALS, SCORES, SUMMARY, VETO_NONE
from kpisheet.validators.policy.grading import IndicatorLine, score_employee, score_line
from kpisheet.validators.reading.submission import TeamWorkbook, number
from kpisheet.validators.rulebook.model import Rulebook

from tests.support.lo_typing import Entry


@dataclass
class Typed:
    """One employee x indicator as typed. Empty strings are left untouched; ``comment`` None means
    "write one if the rulebook requires it"; goal fields are typed over the defaults only when given."""

    actual: str = ""
    manager: str = ""
    self_rating: str = ""
    comment: str | None = None
    weight: str = ""
    floor: str = ""
    target: str = ""
    challenge: str = ""


@dataclass
class EmployeeTyped:
    lines: dict[str, Typed] = field(default_factory=dict)  # indicator code -> typed
    commendations: str = "0"
    veto: str = VETO_NONE
    manager_sign: str = "刘经理"
    manager_date: str | None = ""  # "" -> a day inside the sign-off window, typed as ISO; None -> left empty
    employee_sign: str | None = ""  # "" -> the employee's name; None -> left empty
    employee_date: str | None = ""
    feedback: str = "面谈已完成，员工认可考核结果，下期重点改进短板指标。"
    plan: bool | None = None  # the improvement plan: None -> typed when the grade needs one; False -> never


def typed_number(text: str) -> Decimal | None:
    """What LibreOffice's input parsing makes of text we type (en-US): "95.13%" -> 0.9513
    (decimal.InvalidOperation for text it keeps as text)."""
    body = text.strip()
    if not body:
        return None
    if body.endswith("%"):
        return Decimal(body[:-1]) / 100
    return Decimal(body)


def entries_for(blank: TeamWorkbook, rulebook: Rulebook, people: Mapping[str, EmployeeTyped],
                sign_day: dt.date) -> list[Entry]:
    """Every keystroke of the fill, column by column. ``blank`` is the unfilled workbook as read."""
    by_employee_goals = {(g.employee_id, g.code): g for g in blank.goals}
    goals_of: dict[str, list] = {}
    for g in blank.goals:
        goals_of.setdefault(g.employee_id, []).append(g)
    columns: dict[tuple[str, str], list[Entry]] = {}

    def put(sheet: str, key: str, cell: str, text: str, how: str = "type") -> None:
        # typing nothing over a prefilled cell (veto 无, commendations 0) is the Delete key
        columns.setdefault((sheet, key), []).append(Entry(sheet, cell, text, how if text else "clear"))

    for g in blank.goals:
        person = people.get(g.employee_id)
        if person is None:
            continue
        typed = person.lines.get(g.code, Typed())
        for key in ("weight", "floor", "target", "challenge"):
            if getattr(typed, key):
                put(GOALS, key, g.address(key), getattr(typed, key))
        ind = rulebook.indicator(g.code)
        put(GOALS, "smart", g.address("smart"), f"本期{ind.name_zh}达到目标值，按系统月度报表与上级评定为准", "text")
    for s in blank.scores:
        person = people.get(s.employee_id)
        if person is None:
            continue
        typed = person.lines.get(s.code, Typed())
        for key in ("actual", "manager", "self_rating"):
            if getattr(typed, key):
                put(SCORES, key, s.address(key), getattr(typed, key))
        comment = typed.comment
        if comment is None and _comment_required(rulebook, typed, by_employee_goals[(s.employee_id, s.code)]):
            comment = "有系统报表与面谈记录为证，已与员工确认"
        if comment:
            put(SCORES, "comment", s.address("comment"), comment, "text")
    for row in blank.summary:
        person = people.get(row.employee_id)
        if person is None:
            continue
        if person.plan is not False and \
                _grade(rulebook, person, goals_of.get(row.employee_id, [])) in rulebook.outcomes.pip_grades:
            # the improvement plan a C or D needs
            put(SUMMARY, "pip_shortfalls", row.address("pip_shortfalls"), "得分偏低的指标未达目标", "text")
            put(SUMMARY, "pip_actions", row.address("pip_actions"), "每周复盘；参加专项培训", "text")
            put(SUMMARY, "pip_owner", row.address("pip_owner"), person.manager_sign or "刘经理", "text")
            put(SUMMARY, "pip_due", row.address("pip_due"), (sign_day + dt.timedelta(days=90)).isoformat())
        put(SUMMARY, "commendations", row.address("commendations"), person.commendations)
        put(SUMMARY, "veto", row.address("veto"), person.veto)
        put(SUMMARY, "manager_sign", row.address("manager_sign"), person.manager_sign, "text")
        put(SUMMARY, "manager_date", row.address("manager_date"), _or(person.manager_date, sign_day.isoformat()))
        put(SUMMARY, "employee_sign", row.address("employee_sign"), _or(person.employee_sign, str(row.name)), "text")
        put(SUMMARY, "employee_date", row.address("employee_date"), _or(person.employee_date, sign_day.isoformat()))
        put(SUMMARY, "feedback", row.address("feedback"), person.feedback, "text")
    return [entry for run in columns.values() for entry in run]


def _or(given: str | None, default: str) -> str:
    """'' means the default, None means nothing (the cell left empty)."""
    if given is None:
        return ""
    return given or default


def _grade(rulebook: Rulebook, person: EmployeeTyped, goals) -> str | None:
    """The grade the typed inputs give (None while incomplete), to know whether a plan is needed."""
    lines = [_line(person.lines.get(g.code, Typed()), g) for g in goals]
    veto = None if person.veto in ("", VETO_NONE) else person.veto
    return score_employee(rulebook, lines, _float(person.commendations), veto).grade


def _line(typed: Typed, goal) -> IndicatorLine:
    return IndicatorLine(
        code=goal.code,
        weight=_given(typed.weight, goal.weight),
        actual=_float(typed.actual),
        floor=_given(typed.floor, goal.floor),
        target=_given(typed.target, goal.target),
        challenge=_given(typed.challenge, goal.challenge),
        self_rating=_float(typed.self_rating),
        manager=_float(typed.manager),
    )


def _comment_required(rulebook: Rulebook, typed: Typed, goal) -> bool:
    c = rulebook.comments
    own, boss = _float(typed.self_rating), _float(typed.manager)
    if own is not None and boss is not None and abs(own - boss) > c.self_gap:
        return True
    score = score_line(rulebook, _line(typed, goal)).score
    return score is not None and (score >= c.extreme_high or score <= c.extreme_low)


def _float(text: str) -> float | None:
    try:
        value = typed_number(text)
    except ArithmeticError:  # not a number as typed (a slip): the engine sees no number either
        return None
    return float(value) if value is not None else None


def _given(text: str, default) -> float | None:
    return _float(text) if text else number(default)
