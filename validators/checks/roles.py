"""Role-bound indicators: each employee's indicators are exactly the rulebook's set for their role.

Independent of any fingerprint or signature: a manager who swaps a 技术支持专员's
TS_KB for the customer-service indicator CS_ANSWER (and recomputes every hash
in the file) still has an indicator the role does not have. The role comes
from the roster when the employee is on it (the roster, not the file, says
who does what); without one, from HR's signed row map (HR laid out the
role's set, so the role is the one whose set it is); failing both, from the
岗位 the summary sheet shows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping

from kpisheet.validators.findings import Finding, make_finding
from kpisheet.validators.layout import GOALS
from kpisheet.validators.reading.submission import TeamWorkbook
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Role, Rulebook

_SOURCES = {
    "roster": ("花名册", "per the roster"),
    "signed": ("HR 签名的行映射", "per HR's signed row map"),
    "summary": ("汇总表的岗位栏", "per the summary's role column"),
}


def check_role_indicators(book: TeamWorkbook, rulebook: Rulebook, roster: Mapping[str, Employee] | None = None,
                          *, signed: bool = False) -> list[Finding]:
    """A finding at each indicator cell that is not the employee's role's, and for each of the role's missing.

    ``signed``: the row map verified against HR's signature (so its indicator sets are HR's).
    """
    sets = {role.code: [ind.code for ind, _ in rulebook.role_indicators(role.code)] for role in rulebook.roles}
    indicators = {ind.code: ind for ind in rulebook.indicators}
    entries = {e.employee_id: e for e in book.identity.row_map}
    shown = {s.employee_id: s.role for s in book.summary}
    rows = defaultdict(list)
    for record in (*book.goals, *book.scores):
        if record.code:
            rows[record.employee_id].append(record)
    findings: list[Finding] = []
    for employee_id, records in rows.items():
        found = _role(employee_id, rulebook, sets, roster, entries if signed else None, shown)
        if found is None:
            continue  # an employee nobody can place: the roster and structure checks say so
        role, source = found
        expected = sets[role.code]
        where = dict(employee_id=employee_id, role_zh=role.name_zh, role_en=role.name_en,
                     source_zh=_SOURCES[source][0], source_en=_SOURCES[source][1])
        for record in records:
            if record.code not in expected:
                ind = indicators.get(record.code)
                findings.append(make_finding(
                    "template-indicator-not-in-role", sheet=record.SHEET, cell=record.address("code"),
                    indicator=record.code, name_zh=ind.name_zh if ind else "规则表中没有的指标",
                    name_en=ind.name_en if ind else "not in the rulebook", **where))
        goals = [r for r in records if r.SHEET == GOALS]
        present = {r.code for r in goals}
        anchor = goals[0] if goals else records[0]
        for code in expected:
            if code not in present:
                ind = indicators[code]
                findings.append(make_finding(
                    "template-role-indicator-missing", sheet=anchor.SHEET, cell=anchor.address("code"),
                    indicator=code, name_zh=ind.name_zh, name_en=ind.name_en, **where))
    return findings


def _role(employee_id: str, rulebook: Rulebook, sets: dict[str, list[str]],
          roster: Mapping[str, Employee] | None, entries, shown: dict) -> tuple[Role, str] | None:
    person = (roster or {}).get(employee_id)
    if person is not None and person.role in sets:
        return rulebook.role(person.role), "roster"
    entry = (entries or {}).get(employee_id)
    if entry is not None:
        for code, indicator_set in sets.items():
            if set(indicator_set) == set(entry.codes):
                return rulebook.role(code), "signed"
    text = shown.get(employee_id)
    role = rulebook.role_by_name(text.strip()) if isinstance(text, str) and text.strip() else None
    return (role, "summary") if role is not None else None
