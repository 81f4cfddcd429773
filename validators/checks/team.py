"""team- checks: who is in the workbook, for which period, signed when, graded how.

Per file: duplicate employees, employees the roster does not know or places
in another team, roster members of the team missing, the period against the
one being collected, sign-off present and dated inside the window, and the
team's grade distribution against the quotas (a warning: calibration settles
it by department). Across files of one period (:func:`cross_file_findings`):
one employee in two files, and roster members missing from every file of
their team.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from kpisheet.validators.policy.calibration import eligibility, quota
from kpisheet.validators.checks.numbers import is_blank
from kpisheet.validators.checks.template import meta_cell
from kpisheet.validators.findings import Finding, make_finding
from kpisheet.validators.policy.grading import bands_best_first
from kpisheet.validators.layout import META, SUMMARY
from kpisheet.validators.policy.outcomes import Recomputed
from kpisheet.validators.policy.periods import Period, PeriodError, parse_period, signoff_window
from kpisheet.validators.roster import Employee, parse_date
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.reading.submission import Identity, SummaryRow, TeamWorkbook

_SIGNOFF = (
    ("manager_sign", "manager_date", ("上级签字", "manager sign-off"), ("上级签字日期", "manager sign-off date")),
    ("employee_sign", "employee_date", ("员工签字", "employee sign-off"), ("员工签字日期", "employee sign-off date")),
)


def book_period(identity: Identity) -> Period | None:
    try:
        return parse_period(identity.period)
    except PeriodError:
        return None


# --- one file -----------------------------------------------------------------------------


def check_duplicates(book: TeamWorkbook) -> list[Finding]:
    """Each occurrence of an ID the summary lists more than once, naming the others."""
    cells: dict[str, list[str]] = defaultdict(list)
    for s in book.summary:
        cells[s.employee_id].append(s.address("employee_id"))
    findings = []
    for employee_id, where in cells.items():
        if len(where) < 2:
            continue
        for cell in where:
            others = "、".join(f"{SUMMARY}!{c}" for c in where if c != cell)
            findings.append(make_finding("team-duplicate-employee", sheet=SUMMARY, cell=cell,
                                         employee_id=employee_id, other=others))
    return findings


def check_period(identity: Identity, collecting: Period | None) -> list[Finding]:
    """The workbook's period must be a period, and the one being collected when one is given."""
    cell = meta_cell("period")
    found = book_period(identity)
    if found is None:
        return [make_finding("team-period-mismatch", sheet=META, cell=cell, value=identity.period,
                             expected=str(collecting) if collecting else "2026-Q1 / 2026-03 / 2026-H1 / 2026")]
    if collecting is not None and found != collecting:
        return [make_finding("team-period-mismatch", sheet=META, cell=cell, value=str(found),
                             expected=str(collecting))]
    return []


def check_roster(book: TeamWorkbook, roster: Mapping[str, Employee], *, missing: bool = True) -> list[Finding]:
    """Unknown IDs, people the roster puts in another team and, if ``missing``, team members absent."""
    department, team = book.identity.department, book.identity.team
    findings = []
    present = set()
    for s in book.summary:
        present.add(s.employee_id)
        person = roster.get(s.employee_id)
        where = dict(sheet=SUMMARY, cell=s.address("employee_id"), employee_id=s.employee_id)
        if person is None:
            findings.append(make_finding("team-unknown-employee", **where))
        elif (person.department, person.team) != (department, team):
            findings.append(make_finding("team-wrong-department", value=f"{person.department} / {person.team}",
                                         expected=f"{department} / {team}", **where))
    if missing:
        period = book_period(book.identity)
        for person in team_members(roster.values(), department, team, period):
            if person.employee_id not in present:
                findings.append(missing_employee(person))
    return findings


def team_members(roster: Iterable[Employee], department: str, team: str, period: Period | None) -> list[Employee]:
    """The roster's members of a team who were employed during the period."""
    return [p for p in roster if (p.department, p.team) == (department, team)
            and (period is None or p.hire_date <= period.end)]


def missing_employee(person: Employee) -> Finding:
    return make_finding("team-missing-employee", sheet=SUMMARY, employee_id=person.employee_id,
                        employee_name=person.name)


def check_signoff(book: TeamWorkbook, rulebook: Rulebook) -> list[Finding]:
    period = book_period(book.identity)
    window = signoff_window(period, rulebook) if period else None
    findings = []
    for s in book.summary:
        for sign_key, date_key, sign_names, date_names in _SIGNOFF:
            findings += _signature(s, sign_key, sign_names)
            findings += _date(s, date_key, date_names, window)
    return findings


def _signature(s: SummaryRow, key: str, names: tuple[str, str]) -> list[Finding]:
    if not is_blank(getattr(s, key)):
        return []
    return [make_finding("team-signoff-missing", sheet=SUMMARY, cell=s.address(key), employee_id=s.employee_id,
                         field_zh=names[0], field_en=names[1], problem_zh="为空", problem_en="is empty")]


def _date(s: SummaryRow, key: str, names: tuple[str, str], window) -> list[Finding]:
    raw = getattr(s, key)
    where = dict(sheet=SUMMARY, cell=s.address(key), employee_id=s.employee_id, field_zh=names[0],
                 field_en=names[1])
    if is_blank(raw):
        return [make_finding("team-signoff-missing", problem_zh="为空", problem_en="is empty", **where)]
    if isinstance(raw, str):
        # "2027/1/8" or "2027年1月8日" kept as text: no date the form can check, sort or compare
        try:
            meant = f"，应输入为日期 {parse_date(raw).isoformat()}"
            meant_en = f"; enter it as the date {parse_date(raw).isoformat()}"
        except ValueError:
            meant, meant_en = "", ""
        return [make_finding("team-signoff-missing", value=raw, problem_zh=f"是文本“{raw}”而不是日期{meant}",
                             problem_en=f"is the text '{raw}', not a date{meant_en}", **where)]
    try:
        day = parse_date(raw)
    except ValueError as error:
        zh, en = error.args
        return [make_finding("team-signoff-missing", value=raw, problem_zh=f"不是有效日期（{zh}）",
                             problem_en=f"is not a valid date ({en})", **where)]
    if window is None:
        return []
    first, last = window
    if first <= day <= last:
        return []
    return [make_finding(
        "team-signoff-missing", value=day, expected=f"{first.isoformat()} – {last.isoformat()}",
        problem_zh=f"为 {day.isoformat()}，不在 {first.isoformat()} 至 {last.isoformat()} 的签字期限内",
        problem_en=f"is {day.isoformat()}, outside the sign-off window {first.isoformat()} to {last.isoformat()}",
        **where)]


_FOLLOW_UP = {"feedback": ("反馈面谈记录", "feedback interview record")}
_PIP = {"pip_shortfalls": ("待改进问题", "PIP shortfalls"), "pip_actions": ("改进措施", "PIP actions"),
        "pip_owner": ("辅导人", "PIP coach"), "pip_due": ("完成日期", "PIP due date")}


def check_follow_up(book: TeamWorkbook, recomputed: Mapping[str, Recomputed], rulebook: Rulebook) -> list[Finding]:
    """What the summary sheet marks missing after the scores: the feedback record, and the improvement
    plan of a grade that needs one (the grade the sheet shows, as its formatting reads it)."""
    letters = {band.grade for band in rulebook.grades}
    pip_grades = set(rulebook.outcomes.pip_grades)
    findings = []
    for s in book.summary:
        where = dict(sheet=SUMMARY, employee_id=s.employee_id)
        for key, (zh, en) in _FOLLOW_UP.items():
            if is_blank(getattr(s, key)):
                findings.append(make_finding("team-feedback-missing", cell=s.address(key), field_zh=zh, field_en=en,
                                             reason_zh="", reason_en="", **where))
        shown = s.grade.strip() if isinstance(s.grade, str) else ""
        r = recomputed.get(s.employee_id)
        grade = shown if shown in letters else (r.result.grade if r is not None else None)
        if grade not in pip_grades:
            continue
        for key, (zh, en) in _PIP.items():
            if is_blank(getattr(s, key)):
                findings.append(make_finding(
                    "team-feedback-missing", cell=s.address(key), field_zh=zh, field_en=en,
                    reason_zh=f"（等级 {grade} 须制定绩效改进计划）",
                    reason_en=f" (grade {grade} needs an improvement plan)", **where))
    return findings


def check_distribution(book: TeamWorkbook, recomputed: Mapping[str, Recomputed], rulebook: Rulebook,
                       roster: Mapping[str, Employee] | None) -> list[Finding]:
    """The team's grades (recomputed) against the forced-distribution quotas.

    A team of at least ``pool_below`` people has its own S and S+A quotas; a
    team of ``small_team_max`` or fewer at most ``small_team_s_max`` S; teams
    in between are pooled at department level, which only calibration sees.
    Staff the rulebook excludes (probation, short in post) are not counted.
    """
    d = rulebook.distribution
    period = book_period(book.identity)
    graded = []
    for r in recomputed.values():
        if r.summary is None or r.result.grade is None:
            continue
        person = roster.get(r.employee_id) if roster else None
        if person is not None and period is not None and not eligibility(person, period, rulebook)[0]:
            continue
        graded.append(r)
    n = len(graded)
    if not n:
        return []
    letters = [band.grade for band in bands_best_first(rulebook)]
    limits: list[tuple[tuple[str, ...], int, str]] = []
    if n >= d.pool_below:
        limits.append((tuple(letters[:1]), quota(d.s_max, n), f"{d.s_max:.0%}"))
        limits.append((tuple(letters[:2]), quota(d.sa_max, n), f"{d.sa_max:.0%}"))
    elif n <= d.small_team_max:
        limits.append((tuple(letters[:1]), d.small_team_s_max, f"{d.small_team_s_max} 人 / people"))
    findings = []
    for group, limit, share in limits:
        members = [r for r in graded if r.result.grade in group]
        if len(members) <= limit:
            continue
        # point at the one calibration would move first: the group's lowest grade, lowest total, highest ID
        worst = next(g for g in reversed(group) if any(r.result.grade == g for r in members))
        lowest = min((r for r in members if r.result.grade == worst),
                     key=lambda r: (r.result.total, _neg(r.employee_id)))
        findings.append(make_finding(
            "team-distribution-over-quota", sheet=SUMMARY, cell=lowest.summary.address("grade"),
            employee_id=lowest.employee_id, value=f"{len(members) / n:.0%}",
            expected=f"≤ {limit} ({share})", grade="+".join(group), count=len(members)))
    return findings


def _neg(text: str) -> tuple:
    return tuple(-ord(ch) for ch in text)


# --- across files -------------------------------------------------------------------------


@dataclass(frozen=True)
class FileEmployees:
    """What the cross-file checks need of one validated file."""

    path: str
    period: str | None
    department: str | None
    team: str | None
    cells: Mapping[str, str]  # employee_id -> 汇总 cell of the ID
    rejected: bool = False  # the file has errors of its own: it is refused whatever other files hold


@dataclass(frozen=True)
class AcceptedTeam:
    """One team's accepted submission of one period, as the master (or the record) keeps it."""

    source: str                  # the accepted file, as HR's master names it
    employees: frozenset[str]


# (period, department, team) -> the team's accepted submission before this run
AcceptedTeams = Mapping[tuple[str, str, str], AcceptedTeam]


def cross_file_findings(files: Sequence[FileEmployees], roster: Mapping[str, Employee] | None,
                        accepted: AcceptedTeams | None = None) -> dict[str, list[Finding]]:
    """path -> extra findings: one employee in files of two teams of a period; team members in no file of
    their team; without a roster, a file whose team's accepted submission lists other people.

    Whose file is in error when two teams list one person: the roster says
    (the file of the team the roster does not place them in), else the
    accepted submissions of earlier runs; only when neither knows are both
    files flagged. A file refused for its own errors takes no one from
    another file, and files of one team and period are versions of one
    submission (the newest wins at consolidation), never duplicates.
    """
    extra: dict[str, list[Finding]] = defaultdict(list)
    live = [f for f in files if not f.rejected and f.period]
    _duplicates(live, roster, accepted, extra)
    if roster is None and accepted:
        for f in live:
            finding = _members_differ(f, accepted)
            if finding is not None:
                extra[f.path].append(finding)
    if roster:
        _missing_members(files, roster, extra)
    return extra


def _team(f: FileEmployees) -> tuple[str, str]:
    return (f.department or "", f.team or "")


def _duplicates(live: Sequence[FileEmployees], roster, accepted: AcceptedTeams | None, extra) -> None:
    seen: dict[tuple[str, str], list[FileEmployees]] = defaultdict(list)
    for f in live:
        for employee_id in f.cells:
            seen[(f.period, employee_id)].append(f)
    in_run = {(f.period, *_team(f)) for f in live}
    owners = _accepted_owners(accepted, in_run)
    for (period, employee_id), holders in seen.items():
        teams = {_team(f) for f in holders}
        owner = _owner(employee_id, period, roster, owners)
        if len(teams) < 2 and (owner is None or owner in teams):
            continue  # versions of one team's submission, or nobody else claims the person
        wrong = [f for f in holders if _team(f) != owner] if owner is not None else holders
        for f in wrong:
            others = [f"{_name(o.path)} {SUMMARY}!{o.cells[employee_id]}" for o in holders if _team(o) != _team(f)]
            if owner is not None and owner not in teams:
                others.append(f"{_name(owners[(period, employee_id)][1])}（{owner[0]} / {owner[1]}）")
            extra[f.path].append(make_finding("team-duplicate-employee", sheet=SUMMARY, cell=f.cells[employee_id],
                                              employee_id=employee_id, other="、".join(others)))


def _accepted_owners(accepted: AcceptedTeams | None, in_run: set) -> dict[tuple[str, str], tuple[tuple[str, str], str]]:
    """(period, employee) -> ((department, team), accepted file), for teams this run brings no new file for."""
    owners = {}
    for (period, department, team), submission in (accepted or {}).items():
        if (period, department, team) in in_run:
            continue  # the team's new file in this run speaks for it
        for employee_id in submission.employees:
            owners[(period, employee_id)] = ((department, team), submission.source)
    return owners


def _owner(employee_id: str, period: str, roster, owners) -> tuple[str, str] | None:
    person = (roster or {}).get(employee_id)
    if person is not None:
        return (person.department, person.team)
    known = owners.get((period, employee_id))
    return known[0] if known else None


def _members_differ(f: FileEmployees, accepted: AcceptedTeams) -> Finding | None:
    submission = accepted.get((f.period, f.department or "", f.team or ""))
    if submission is None:
        return None
    present = set(f.cells)
    more, less = sorted(present - submission.employees), sorted(submission.employees - present)
    if not more and not less:
        return None
    zh, en = [], []
    if more:
        zh.append(f"多出 {more[0]}" + (f" 等 {len(more)} 人" if len(more) > 1 else ""))
        en.append(f"{len(more)} more, such as {more[0]}" if len(more) > 1 else f"{more[0]} added")
    if less:
        zh.append(f"缺少 {less[0]}" + (f" 等 {len(less)} 人" if len(less) > 1 else ""))
        en.append(f"{len(less)} missing, such as {less[0]}" if len(less) > 1 else f"{less[0]} missing")
    return make_finding("team-members-differ", sheet=META, cell=meta_cell("team"),
                        value=f"{f.department} / {f.team}", other=_name(submission.source),
                        detail_zh="，".join(zh), detail_en="; ".join(en))


def _missing_members(files: Sequence[FileEmployees], roster: Mapping[str, Employee], extra) -> None:
    """Roster members of a team in no file of their team (one pass over the roster: a thousand teams stay linear)."""
    by_team: dict[tuple[str, str], list[Employee]] = defaultdict(list)
    for person in roster.values():
        by_team[(person.department, person.team)].append(person)
    groups: dict[tuple[str, str, str], list[FileEmployees]] = defaultdict(list)
    for f in files:
        if f.period and f.department is not None and f.team is not None:
            groups[(f.period, f.department, f.team)].append(f)
    for (period_text, department, team), members_files in groups.items():
        try:
            period = parse_period(period_text)
        except PeriodError:
            period = None
        present = {e for f in members_files for e in f.cells}
        first = min(members_files, key=lambda f: f.path)
        for person in team_members(by_team.get((department, team), ()), department, team, period):
            if person.employee_id not in present:
                extra[first.path].append(missing_employee(person))


def _name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]
