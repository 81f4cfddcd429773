"""A seeded corpus of manager slips, each typed through LibreOffice, with the finding the catalogue names.

Every slip is one thing a manager does wrong (or, with ``code=None``, does
unusually but rightly) to one employee of an otherwise correctly filled team
workbook: a baseline fill that validates clean, graded B, every actual at 75%
of the way from floor to target. :func:`corpus_jobs` makes the typing jobs:
one workbook holds every slip that stays within its employee's cells, and each
slip that moves rows or edits the identity gets a small workbook of its own.
:func:`expected` says, per slip, the sheet and cell where the catalogue's code
must be reported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

from kpisheet.validators.layout import GOALS, META, META_KEYS, SCORES, SUMMARY, a1
from kpisheet.validators.policy.grading import IndicatorLine, score_employee
from kpisheet.validators.reading.submission import TeamWorkbook, load_team_workbook
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Method, Rulebook, Unit
from kpisheet.workbook_templates.team_workbook import build_team_workbook

from tests.support.lo_typing import Entry, Job
from tests.support.typed_fill import EmployeeTyped, Typed, entries_for, typed_number

PERIOD = "2026-Q4"
SIGN_DAY = dt.date(2027, 1, 8)
DEPARTMENT, TEAM = "售后服务部", "差错组"
ROLE_OF = {"engineer": "engineer", "cs": "cs", "ts": "ts"}
BASELINE_SHARE = Decimal("0.75")  # every actual 75% of the way from floor to target: a B overall


def _show(value: Decimal, percent: bool) -> str:
    if percent:
        return format((value * 100).normalize(), "f") + "%"
    return format(value.normalize(), "f")


def baseline(rulebook: Rulebook, role: str, share: Decimal = BASELINE_SHARE) -> EmployeeTyped:
    """A correct fill: actuals ``share`` of the way from floor to target, ratings 3, no deductions."""
    lines = {}
    for ind, _ in rulebook.role_indicators(role):
        if ind.is_rating:
            lines[ind.code] = Typed(manager="3", self_rating="3")
        elif ind.method is Method.deduction:
            lines[ind.code] = Typed(actual="0", self_rating="3")
        elif ind.method is Method.count:
            lines[ind.code] = Typed(actual=_show(Decimal(str(ind.target)) * share, False), self_rating="3")
        else:
            f, t = Decimal(str(ind.floor)), Decimal(str(ind.target))
            lines[ind.code] = Typed(actual=_show(f + (t - f) * share, ind.unit is Unit.percent), self_rating="3")
    return EmployeeTyped(lines=lines)


class Cells:
    """Where one employee's cells are in a blank workbook."""

    def __init__(self, blank: TeamWorkbook, employee_id: str):
        self.employee_id = employee_id
        self._goals = {g.code: g for g in blank.goals if g.employee_id == employee_id}
        self._scores = {s.code: s for s in blank.scores if s.employee_id == employee_id}
        self._summary = next(s for s in blank.summary if s.employee_id == employee_id)
        self.first_row = min(g.row for g in self._goals.values())

    def goal(self, code: str, key: str) -> str:
        return self._goals[code].address(key)

    def score(self, code: str, key: str) -> str:
        return self._scores[code].address(key)

    def summary(self, key: str) -> str:
        return self._summary.address(key)

    def row_of(self, code: str) -> int:
        return self._goals[code].row


@dataclass
class Slip:
    kind: str
    role: str
    # edits the employee's fill and returns extra keystrokes typed after it, and the expected (sheet, cell)
    make: Callable[["Cells", EmployeeTyped, Rulebook], tuple[list[Entry], tuple[str, str]]]
    code: str | None  # the catalogue's code; None: not a slip, the workbook must stay clean there
    own_workbook: bool = False  # moves rows or edits the identity: a workbook of its own
    row_moves: tuple = ()  # (sheet, 0-based row offset from the employee's first row, count) for own workbooks
    pending: str = ""  # why this slip is not caught yet (counted in the catch rate, not failed)


def _actual(code: str, text: str):
    def make(c: Cells, p: EmployeeTyped, rb: Rulebook):
        p.lines[code].actual = text
        return [], (SCORES, c.score(code, "actual"))
    return make


def _rating(code: str, key: str, text: str, comment: str | None = None):
    def make(c: Cells, p: EmployeeTyped, rb: Rulebook):
        setattr(p.lines[code], key, text)
        if comment is not None:
            p.lines[code].comment = comment
        return [], (SCORES, c.score(code, key))
    return make


def _goal(code: str, key: str, text: str, where: str | None = None):
    def make(c: Cells, p: EmployeeTyped, rb: Rulebook):
        setattr(p.lines[code], key, text)
        return [], (GOALS, c.goal(code, where or key))
    return make


def _goal_cleared(code: str, key: str):
    def make(c: Cells, p: EmployeeTyped, rb: Rulebook):
        return [Entry(GOALS, c.goal(code, key), "", "clear")], (GOALS, c.goal(code, key))
    return make


def _summary(key: str, value, expect: str | None = None):
    def make(c: Cells, p: EmployeeTyped, rb: Rulebook):
        setattr(p, key, value)
        return [], (SUMMARY, c.summary(expect or key))
    return make


def _gap_without_comment(c: Cells, p: EmployeeTyped, rb: Rulebook):
    p.lines["COMP_SKILL"] = Typed(manager="4", self_rating="1", comment="")
    return [], (SCORES, c.score("COMP_SKILL", "comment"))


def _extreme_without_comment(c: Cells, p: EmployeeTyped, rb: Rulebook):
    p.lines["CSAT"] = Typed(actual="100%", self_rating="3", comment="")
    return [], (SCORES, c.score("CSAT", "comment"))


def _weights_off_100(c: Cells, p: EmployeeTyped, rb: Rulebook):
    p.lines["ENG_MTTR"].weight = "15"
    return [], (GOALS, a1(c.first_row, _column(GOALS, "weight_sum")))


def _weight_across_categories(c: Cells, p: EmployeeTyped, rb: Rulebook):
    p.lines["CSAT"].weight = "15"  # results 65, attitude 10: still 100 in all
    p.lines["DISC"].weight = "10"
    return [], (GOALS, c.goal("CSAT", "weight"))


def _grade_c_without_plan(c: Cells, p: EmployeeTyped, rb: Rulebook):
    fill = baseline(rb, "engineer", Decimal("0.5"))
    p.lines = fill.lines
    p.plan = False
    return [], (SUMMARY, c.summary("pip_shortfalls"))


def _column(sheet: str, key: str) -> int:
    from kpisheet.validators.layout import GOAL_COLUMNS, SCORE_COLUMNS
    columns = GOAL_COLUMNS if sheet == GOALS else SCORE_COLUMNS
    return next(i for i, col in enumerate(columns) if col.key == key)


def _overwrite(sheet: str, where: Callable[[Cells], str], text: Callable[[Rulebook, EmployeeTyped], str]):
    """A computed cell typed over (the sheet unprotected first, as a manager does)."""
    def make(c: Cells, p: EmployeeTyped, rb: Rulebook):
        cell = where(c)
        return [Entry(sheet, cell, text(rb, p), "type" if text(rb, p) else "clear")], (sheet, cell)
    return make


def _total_formula_edited(c: Cells, p: EmployeeTyped, rb: Rulebook):
    """The total's formula rewritten to add 5 points of the manager's own: a formula, giving another total."""
    cell = c.summary("total")
    parts = [c.summary(f"subtotal_{cat.code}") for cat in rb.categories] + [c.summary("bonus")]
    return [Entry(SUMMARY, cell, "=" + "+".join(parts) + "+5")], (SUMMARY, cell)


def baseline_total(rb: Rulebook, p: EmployeeTyped) -> str:
    """The total the sheet shows for a fill, as the manager would copy it."""
    lines = []
    for ind, weight in rb.role_indicators(_role(rb, p)):
        t = p.lines[ind.code]
        number = lambda text: float(typed_number(text)) if text else None  # noqa: E731
        lines.append(IndicatorLine(ind.code, number(t.weight) or weight, actual=number(t.actual), floor=ind.floor,
                                   target=ind.target, challenge=ind.challenge, manager=number(t.manager),
                                   self_rating=number(t.self_rating)))
    return f"{score_employee(rb, lines, 0, None).total:g}"


def _role(rb: Rulebook, p: EmployeeTyped) -> str:
    return next(r.code for r in rb.roles if set(r.weights) == set(p.lines))


def _rows_moved(sheet: str, offset: int, count: int):
    """Rows deleted (count < 0) or inserted at the employee's row ``offset``: reported at the ID cell of the
    first row that moved (inserted: the row below the new ones; deleted: the row now in the gap)."""
    def make(c: Cells, p: EmployeeTyped, rb: Rulebook):
        row = c.first_row + offset + (count if count > 0 else 0)
        return [], (sheet, a1(row, 0))
    return make


def _code_changed(c: Cells, p: EmployeeTyped, rb: Rulebook):
    cell = c.goal("ENG_FTFR", "code")
    return [Entry(GOALS, cell, "ENG_DOCS", "text")], (GOALS, cell)


def _id_duplicated(c: Cells, p: EmployeeTyped, rb: Rulebook):
    cell = c.summary("employee_id")
    return [Entry(SUMMARY, cell, "S0002", "text")], (SUMMARY, cell)  # the next employee's ID


def _period_edited(c: Cells, p: EmployeeTyped, rb: Rulebook):
    cell = a1(META_KEYS.index("period"), 1)
    return [Entry(META, cell, "2025-Q4", "text")], (META, cell)


SLIPS: tuple[Slip, ...] = (
    # 实际值 (actuals)
    Slip("rate typed as 91 for 91%", "engineer", _actual("CSAT", "91"), "score-percent-scale"),
    Slip("rate typed without % (91.25)", "cs", _actual("CS_ANSWER", "91.25"), "score-percent-scale"),
    Slip("rate of 135%", "engineer", _actual("CSAT", "135%"), "score-out-of-range"),
    Slip("negative rate", "engineer", _actual("ENG_FIX_RATE", "-5%"), "score-out-of-range"),
    Slip("rate a hundred times too small (0.9125%)", "engineer", _actual("CSAT", "0.9125%"), "score-percent-scale"),
    Slip("rate as text with 约", "engineer", _actual("CSAT", "约90%"), "score-not-number"),
    Slip("full-width digits", "ts", _actual("TS_REMOTE", "８１.２５%"), "score-not-number"),
    Slip("rate kept as text (leading apostrophe)", "engineer", _actual("ENG_RESP", "'96%"), "score-not-number"),
    Slip("actual left empty", "engineer", _actual("ENG_FTFR", ""), "score-missing"),
    Slip("hours of 1e12", "engineer", _actual("ENG_MTTR", "1e12"), "score-out-of-range"),
    Slip("negative hours", "engineer", _actual("ENG_MTTR", "-1"), "score-out-of-range"),
    Slip("minutes typed with a unit", "cs", _actual("CS_AHT", "7分钟"), "score-not-number"),
    Slip("count of 1e12", "ts", _actual("TS_KB", "1e12"), "score-out-of-range"),
    Slip("count with a fraction", "ts", _actual("TS_KB", "2.5"), "score-out-of-range"),
    Slip("count with a thousands separator (1,000)", "ts", _actual("TS_KB", "1,000"), "score-out-of-range"),
    Slip("negative deduction", "engineer", _actual("DISC", "-3"), "score-out-of-range"),
    Slip("deduction of 1001 points", "cs", _actual("COMPLY", "1001"), "score-out-of-range"),
    # ratings
    Slip("manager rating 6", "engineer", _rating("COMP_SKILL", "manager", "6"), "score-rating-invalid"),
    Slip("manager rating 3.5", "cs", _rating("COMP_COMM", "manager", "3.5"), "score-rating-invalid"),
    Slip("manager rating as a word", "ts", _rating("TEAM", "manager", "优"), "score-rating-invalid"),
    Slip("manager rating left empty", "ts", _rating("COMP_LEARN", "manager", ""), "score-missing"),
    Slip("self rating 7", "engineer", _rating("COMP_SOLVE", "self_rating", "7"), "score-rating-invalid"),
    Slip("self/manager gap of 3 without a comment", "engineer", _gap_without_comment, "score-comment-required"),
    Slip("extreme score without a comment", "engineer", _extreme_without_comment, "score-comment-required"),
    # 目标设定 (goals)
    Slip("weight above its maximum", "engineer", _goal("CSAT", "weight", "40"), "goal-weight-range"),
    Slip("mandatory indicator weighted 0 (DISC)", "engineer", _goal("DISC", "weight", "0"),
         "goal-mandatory-missing"),
    Slip("optional indicator weighted 0", "engineer", _goal("ENG_MTTR", "weight", "0"), "goal-weight-range"),
    Slip("weight as text", "cs", _goal("CS_FCR", "weight", "十五"), "score-not-number"),
    Slip("weight cleared", "cs", _goal_cleared("CS_AHT", "weight"), "goal-weight-range"),
    Slip("weights not adding up to 100", "engineer", _weights_off_100, "goal-weight-sum"),
    Slip("weight moved to another category", "engineer", _weight_across_categories, "goal-category-weight"),
    Slip("target typed as 95 for 95%", "engineer", _goal("CSAT", "target", "95"), "score-percent-scale"),
    Slip("target of 110%", "cs", _goal("CS_FCR", "target", "110%"), "score-out-of-range"),
    Slip("target equal to the challenge (100%)", "engineer", _goal("CSAT", "target", "100%"), None),
    Slip("floor above the target", "engineer", _goal("ENG_FIX_RATE", "floor", "96%", "target"), "goal-target-order"),
    Slip("challenge below the target", "ts", _goal("TS_REMOTE", "challenge", "80%"), "goal-target-order"),
    Slip("lower-better target above the ceiling", "engineer", _goal("ENG_MTTR", "target", "9", "target"),
         "goal-target-order"),
    Slip("target cleared", "engineer", _goal_cleared("ENG_RESP", "target"), "goal-target-missing"),
    Slip("count target of 0", "ts", _goal("TS_KB", "target", "0"), "score-out-of-range"),
    Slip("SMART description cleared", "cs", _goal_cleared("CSAT", "smart"), "goal-smart-missing"),
    # 汇总 (summary)
    Slip("negative commendations", "engineer", _summary("commendations", "-1"), "score-out-of-range"),
    Slip("commendations left empty", "cs", _summary("commendations", ""), "score-missing"),
    Slip("veto left empty (not 无)", "ts", _summary("veto", ""), "score-missing"),
    Slip("veto not on the list", "engineer", _summary("veto", "不清楚"), "score-out-of-range"),
    Slip("sign-off date typed as text 2027/1/8", "engineer", _summary("manager_date", "2027/1/8"),
         "team-signoff-missing"),
    Slip("sign-off date typed as text 2027年1月8日", "cs", _summary("employee_date", "2027年1月8日"),
         "team-signoff-missing"),
    Slip("sign-off date outside the window", "ts", _summary("manager_date", "2028-03-01"), "team-signoff-missing"),
    Slip("employee did not sign", "engineer", _summary("employee_sign", None), "team-signoff-missing"),
    Slip("feedback record left empty", "cs", _summary("feedback", ""), "team-feedback-missing"),
    Slip("grade C without an improvement plan", "engineer", _grade_c_without_plan, "team-feedback-missing"),
    # computed cells typed over
    Slip("total pasted back as a value (same number)", "engineer",
         _overwrite(SUMMARY, lambda c: c.summary("total"), baseline_total), "template-formula-replaced"),
    Slip("weight shown on 考核评分 typed over (H)", "engineer",
         _overwrite(SCORES, lambda c: c.score("CSAT", "weight"), lambda rb, p: "20"), "template-formula-replaced"),
    Slip("indicator score typed over", "cs",
         _overwrite(SCORES, lambda c: c.score("CSAT", "score"), lambda rb, p: "100"), "template-formula-replaced"),
    Slip("grade typed over", "ts",
         _overwrite(SUMMARY, lambda c: c.summary("grade"), lambda rb, p: "S"), "template-formula-replaced"),
    Slip("total formula edited to add 5 points", "engineer", _total_formula_edited, "score-total-mismatch"),
    Slip("total cleared", "cs",
         _overwrite(SUMMARY, lambda c: c.summary("total"), lambda rb, p: ""), "template-formula-replaced"),
    # unusual but right
    Slip("rate typed as a fraction (0.9125)", "engineer", _actual("CSAT", "0.9125"), None),
    Slip("comment starting with = kept as text", "engineer",
         _rating("COMP_SKILL", "manager", "3", comment="'=面谈后确认"), None),
    # rows and identity
    Slip("a score row deleted", "engineer", _rows_moved(SCORES, 2, -1), "template-structure-changed",
         own_workbook=True, row_moves=((SCORES, 2, -1),)),
    Slip("a row inserted on the scores sheet", "engineer", _rows_moved(SCORES, 2, 1),
         "template-structure-changed", own_workbook=True, row_moves=((SCORES, 2, 1),)),
    Slip("indicator code edited", "engineer", _code_changed, "template-structure-changed", own_workbook=True),
    Slip("another employee's ID typed over", "cs", _id_duplicated, "team-duplicate-employee", own_workbook=True),
    Slip("period edited on the hidden sheet", "engineer", _period_edited, "team-period-mismatch", own_workbook=True),
)


@dataclass
class Corpus:
    jobs: list[Job]
    people: dict[str, list[Employee]]  # workbook path -> its team
    # slip kind -> (saved workbook, employee id, expected sheet, expected cell)
    where: dict[str, tuple[Path, str, str, str]] = field(default_factory=dict)


def _people(prefix: str, roles: list[str]) -> list[Employee]:
    day = dt.date(2020, 1, 1)
    return [Employee(f"{prefix}{i + 1:04d}", f"员工{i + 1}", DEPARTMENT, TEAM, role, None, day, day, "正式")
            for i, role in enumerate(roles)]


def corpus_jobs(rulebook: Rulebook, folder: Path) -> Corpus:
    """Typing jobs for every slip (one shared workbook, plus one per row or identity slip)."""
    corpus = Corpus([], {})
    shared = [slip for slip in SLIPS if not slip.own_workbook]
    # the shared workbook: one employee per slip, then one clean employee per role as a control
    roles = [slip.role for slip in shared] + [r.code for r in rulebook.roles]
    _add(corpus, rulebook, folder, "shared", _people("S", roles), shared)
    for k, slip in enumerate(s for s in SLIPS if s.own_workbook):
        _add(corpus, rulebook, folder, f"own{k}", _people("S", [slip.role] + [r.code for r in rulebook.roles]),
             [slip])
    return corpus


def _add(corpus: Corpus, rulebook: Rulebook, folder: Path, name: str, people: list[Employee],
         slips: list[Slip]) -> None:
    blank_path = build_team_workbook(folder / f"{name}_blank.xlsx", rulebook, PERIOD, DEPARTMENT, TEAM, people)
    blank = load_team_workbook(blank_path, rulebook)
    saved = folder / "typed" / f"{name}.xlsx"
    plan = {p.employee_id: baseline(rulebook, p.role) for p in people}
    extra: list[Entry] = []
    moves = []
    for person, slip in zip(people, slips):
        cells = Cells(blank, person.employee_id)
        more, (sheet, cell) = slip.make(cells, plan[person.employee_id], rulebook)
        extra += more
        for sheet_name, offset, count in slip.row_moves:
            moves.append((sheet_name, cells.first_row + offset, count))
        corpus.where[slip.kind] = (saved, person.employee_id, sheet, cell)
    entries = entries_for(blank, rulebook, plan, SIGN_DAY) + extra
    # a manager lifts the (password-free) protection before typing over a formula or deleting a row
    unprotect = tuple(sorted({e.sheet for e in extra} | {sheet for sheet, _, _ in moves}))
    corpus.jobs.append(Job(blank_path, saved, entries, unprotect=unprotect, row_moves=tuple(moves)))
    corpus.people[str(saved)] = people
