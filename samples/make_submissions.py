"""Build samples/submissions/: filled team workbooks as managers return them, clean and flawed.

    python samples/make_submissions.py [OUT_DIR]

From samples/roster.xlsx and the default rulebook: each workbook is written by
the templates' writer and filled by the seeded filler, with at most one kind of
mistake, so each flawed file shows its finding plainly. The same seed gives the
same cells (openpyxl stamps the save time, so bytes differ between runs).

Also written:

* ``submissions/expected.json``: for every file, whether it is clean and the
  findings its mistake must cause (code, sheet, cell);
* ``samples/approved_goals/``: the goals-phase workbook HR approved for the
  goal-changed-after-approval sample (kept outside submissions/, beside the
  roster, where ``kpisheet validate`` finds it).

Every file has its own team and period, so the files never collide as one
employee appearing in two files of a period. Most use the 9-person 技术支持组,
which is pooled at department level for the forced distribution: a random fill
of a bigger team almost always grades more people S or A than its own quota.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import openpyxl

from kpisheet.validators import layout as L
from kpisheet.validators.policy.calibration import eligibility, quota
from kpisheet.validators.policy.grading import bands_best_first
from kpisheet.validators.policy.outcomes import recompute
from kpisheet.validators.policy.periods import Period, parse_period
from kpisheet.validators.roster import Employee, read_roster, teams
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.validators.reading.safe_read import read_values
from kpisheet.validators.reading.submission import REQUIRED_SHEETS, read_team_workbook
from kpisheet.workbook_templates.filler import MISTAKES, fill_team_workbook, shift_rows
from kpisheet.workbook_templates.team_workbook import build_team_workbook, team_file_name

SEED = 20260401
HERE = Path(__file__).resolve().parent
ROSTER = HERE / "roster.xlsx"
OUT = HERE / "submissions"
APPROVED = HERE / "approved_goals"
EXPECTED = "expected.json"

SMALL_TEAM = "技术支持组"  # 9 people: pooled for the distribution, so a fill is clean
PERIODS = ([f"2026-{m:02d}" for m in range(1, 13)] + [f"2026-Q{q}" for q in range(1, 5)]
           + ["2026-H1", "2026-H2", "2026"] + [f"2027-{m:02d}" for m in range(1, 13)])
# the filler's mistakes that must cause a finding, each in a workbook of its own
FILLER_MISTAKES = [m for m, (code, _) in MISTAKES.items() if code]
# these need an indicator only the engineers' role has (hours, lower-better)
ENGINEER_MISTAKES = ("out-of-range",)

_GOAL = {c.key: i for i, c in enumerate(L.GOAL_COLUMNS)}
_SUMMARY_ID = 0


class _Slots:
    """Distinct (team, period) pairs, handed out in a fixed order."""

    def __init__(self, groups: dict[str, list[Employee]]):
        self.groups = groups
        self.used: set[tuple[str, str]] = set()

    def take(self, team: str, period: str | None = None) -> tuple[list[Employee], str]:
        for candidate in ([period] if period else PERIODS):
            if (team, candidate) not in self.used:
                self.used.add((team, candidate))
                return self.groups[team], candidate
        raise RuntimeError(f"no free period for {team}")


def make_submissions(out: Path = OUT, approved: Path = APPROVED, roster: Path = ROSTER, seed: int = SEED,
                     rulebook: Rulebook | None = None) -> dict:
    rb = rulebook or default_rulebook()
    people = read_roster(roster, rb)
    groups = {team: members for (_, team), members in teams(people).items()}
    for folder in (out, approved):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    rng = random.Random(seed)
    slots = _Slots(groups)
    work = out / ".blank"
    work.mkdir()
    expected: dict[str, dict] = {}

    def blank(team: str, members: list[Employee], period: str, name: str, rulebook: Rulebook = rb) -> Path:
        return build_team_workbook(work / name, rulebook, period, members[0].department, team, members)

    def target(period: str, team: str, label: str) -> Path:
        stem = team_file_name(period, groups[team][0].department, team)[:-len(".xlsx")]
        return out / f"{stem}_{label}.xlsx"

    def record(path: Path, findings: list[dict], note: str, clean: bool = False) -> None:
        expected[path.name] = {"clean": clean, "note": note,
                               "findings": sorted(findings, key=lambda f: (f["code"], f["sheet"] or "", f["cell"] or ""))}

    # clean: the small team in three periods; one of them with comments that look like formulas
    for period, extra in (("2026-Q4", ()), ("2026-Q3", ("formula-injection",)), ("2026-H2", ())):
        members, period = slots.take(SMALL_TEAM, period)
        path = target(period, SMALL_TEAM, "clean")
        fill_team_workbook(blank(SMALL_TEAM, members, period, path.name), path, seed=rng.randrange(10**6),
                           mistakes=extra)
        record(path, [], "干净的提交 / a clean submission" + ("，说明中含以 = 开头的文字" if extra else ""), clean=True)

    # one file per filler mistake; the wrong period first, so no other file takes the period it claims
    for mistake in sorted(FILLER_MISTAKES, key=lambda m: m != "wrong-period"):
        team = "华东工程一组" if mistake in ENGINEER_MISTAKES else SMALL_TEAM
        members, period = slots.take(team)
        if mistake == "wrong-period":  # the file will claim the same period a year earlier
            slots.used.add((team, str(_year_before(period))))
        path = target(period, team, mistake)
        manifest = fill_team_workbook(blank(team, members, period, path.name), path, seed=rng.randrange(10**6),
                                      mistakes=[mistake])
        record(path, [_intended(c, path) for c in manifest.expected_findings()], MISTAKES[mistake][1])

    _category_weight(slots, blank, target, record, rng, rb)
    _mandatory_missing(slots, blank, target, record, rng, rb)
    _changed_after_approval(slots, blank, target, record, rng, approved)
    _roster_cases(slots, blank, target, record, rng, groups, people)
    _over_quota(slots, blank, target, record, rng, rb, {p.employee_id: p for p in people})
    _rulebook_mismatch(slots, blank, target, record, rng, rb)
    _feedback_missing(slots, blank, target, record, rng)
    _error_values(slots, blank, target, record, rng)
    _foreign_workbook(out, record)
    shutil.rmtree(work)
    # this manifest lies beside the workbooks; validation lists it as ignored (not a spreadsheet), not as a file
    document = {"seed": seed, "roster": "samples/roster.xlsx", "approved_goals": "samples/approved_goals",
                "files": dict(sorted(expected.items()))}
    (out / EXPECTED).write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return document


def _year_before(period: str) -> Period:
    p = parse_period(period)
    return Period(p.kind, p.year - 1, p.index)


def _intended(change, path: Path) -> dict:
    """The finding a filler mistake should cause, where validation reports it.

    A weight sum is reported once per employee on 权重合计 (the sum column of
    the employee's first row): which of the weights is wrong cannot be known.
    """
    sheet, cell = change.sheet, change.cell
    if change.code == "goal-weight-sum":
        book = _book(path)
        first = next(g for g in book.goals if g.employee_id == change.employee_id)
        cell = L.a1(first.row, _GOAL["weight_sum"])
    return {"code": change.code, "sheet": sheet, "cell": cell}


def _book(path: Path):
    return read_team_workbook(read_values(path, REQUIRED_SHEETS), source=str(path), rulebook=default_rulebook())


def _goal_rows(path: Path, employee_id: str):
    return [g for g in _book(path).goals if g.employee_id == employee_id]


def _edit(path: Path, cells: dict[tuple[str, str], object]) -> None:
    book = openpyxl.load_workbook(path)
    for (sheet, cell), value in cells.items():
        book[sheet][cell] = value
    book.calculation.fullCalcOnLoad = True
    book.save(path)


def _category_weight(slots, blank, target, record, rng, rb) -> None:
    """5 points moved from an attitude indicator to a results one: the sum stays 100."""
    members, period = slots.take(SMALL_TEAM)
    path = target(period, SMALL_TEAM, "category-weight")
    fill_team_workbook(blank(SMALL_TEAM, members, period, path.name), path, seed=rng.randrange(10**6))
    employee = members[rng.randrange(len(members))].employee_id
    rows = _goal_rows(path, employee)
    cats = {g.code: rb.indicator(g.code).category for g in rows}
    giver = next(g for g in rows if cats[g.code] == "attitude" and g.weight - 5 >= rb.indicator(g.code).weight_min)
    taker = next(g for g in rows if cats[g.code] == "results" and g.weight + 5 <= rb.indicator(g.code).weight_max)
    _edit(path, {(L.GOALS, giver.address("weight")): giver.weight - 5,
                 (L.GOALS, taker.address("weight")): taker.weight + 5})
    first = {cat: next(g for g in rows if cats[g.code] == cat) for cat in ("results", "attitude")}
    record(path, [{"code": "goal-category-weight", "sheet": L.GOALS, "cell": g.address("weight")}
                  for g in first.values()], "把态度类权重挪给业绩类 / weight moved from attitude to results")


def _feedback_missing(slots, blank, target, record, rng) -> None:
    """The feedback interview record of one employee left empty (the summary sheet marks it missing)."""
    members, period = slots.take(SMALL_TEAM)
    path = target(period, SMALL_TEAM, "feedback-missing")
    fill_team_workbook(blank(SMALL_TEAM, members, period, path.name), path, seed=rng.randrange(10**6))
    employee = members[rng.randrange(len(members))].employee_id
    row = next(s for s in _book(path).summary if s.employee_id == employee)
    _edit(path, {(L.SUMMARY, row.address("feedback")): None})
    record(path, [{"code": "team-feedback-missing", "sheet": L.SUMMARY, "cell": row.address("feedback")}],
           "反馈面谈记录未填 / the feedback interview record left empty")


def _mandatory_missing(slots, blank, target, record, rng, rb) -> None:
    """The rows of a mandatory indicator deleted on both sheets (as Excel deletes rows)."""
    members, period = slots.take(SMALL_TEAM)
    path = target(period, SMALL_TEAM, "mandatory-missing")
    fill_team_workbook(blank(SMALL_TEAM, members, period, path.name), path, seed=rng.randrange(10**6))
    employee = members[rng.randrange(len(members))].employee_id
    rows = _goal_rows(path, employee)
    gone = next(g for g in rows if rb.indicator(g.code).mandatory)
    book = openpyxl.load_workbook(path)
    for sheet in (L.GOALS, L.SCORES):
        shift_rows(book, book[sheet], gone.row + 1, -1)
    book.calculation.fullCalcOnLoad = True
    book.save(path)
    first = _goal_rows(path, employee)[0]
    record(path, [{"code": "goal-mandatory-missing", "sheet": L.GOALS, "cell": first.address("code")},
                  {"code": "template-structure-changed", "sheet": L.GOALS, "cell": f"A{gone.row + 1}"},
                  {"code": "template-structure-changed", "sheet": L.SCORES, "cell": f"A{gone.row + 1}"}],
           f"删除了必选指标 {gone.code} 的行 / the rows of mandatory indicator {gone.code} deleted")


def _changed_after_approval(slots, blank, target, record, rng, approved: Path) -> None:
    """The approved goals-phase workbook, and the scoring-phase one with a target changed since."""
    members, period = slots.take(SMALL_TEAM)
    path = target(period, SMALL_TEAM, "changed-after-approval")
    fill_team_workbook(blank(SMALL_TEAM, members, period, path.name), path, seed=rng.randrange(10**6))
    shutil.copyfile(path, approved / path.name.replace("_changed-after-approval", "_approved"))
    employee = members[rng.randrange(len(members))].employee_id
    row = next(g for g in _goal_rows(path, employee) if g.code == "TS_KB")  # a count target
    _edit(path, {(L.GOALS, row.address("target")): row.target - 1})
    record(path, [{"code": "goal-changed-after-approval", "sheet": L.GOALS, "cell": row.address("target")}],
           "审批后降低了目标值（对照 samples/approved_goals）/ a target lowered after approval")


def _roster_cases(slots, blank, target, record, rng, groups, people) -> None:
    team = SMALL_TEAM
    members, period = slots.take(team)
    newcomer = replace(members[-1], employee_id="SH0999", name="未入册")
    path = target(period, team, "unknown-employee")
    fill_team_workbook(blank(team, members + [newcomer], period, path.name), path, seed=rng.randrange(10**6))
    record(path, [{"code": "team-unknown-employee", "sheet": L.SUMMARY, "cell": f"A{L.FIRST_DATA_ROW + len(members) + 1}"}],
           "表中有花名册里没有的工号 / an ID the roster does not know")

    members, period = slots.take(team)
    path = target(period, team, "missing-employee")
    gone = members[rng.randrange(1, len(members))]
    kept = [m for m in members if m is not gone]
    fill_team_workbook(blank(team, kept, period, path.name), path, seed=rng.randrange(10**6))
    record(path, [{"code": "team-missing-employee", "sheet": L.SUMMARY, "cell": None}],
           f"漏掉了团队成员 {gone.employee_id} / a team member left out")

    members, period = slots.take(team)
    other = next(p for p in people if p.team != team)
    slots.used.add((other.team, period))  # the other team has no file this period
    path = target(period, team, "wrong-department")
    fill_team_workbook(blank(team, members + [other], period, path.name), path, seed=rng.randrange(10**6))
    record(path, [{"code": "team-wrong-department", "sheet": L.SUMMARY, "cell": f"A{L.FIRST_DATA_ROW + len(members) + 1}"}],
           f"把 {other.team} 的 {other.employee_id} 放进了本表 / someone from another team")


def _over_quota(slots, blank, target, record, rng, rb, by_id) -> None:
    """A 14-person team graded as the filler grades: more S than the team's own quota allows.

    Counted as the rulebook counts: eligible staff with a grade (probation and
    staff short in post are left out).
    """
    team = "客服中心"
    members, period = slots.take(team, "2026-Q4")
    path = target(period, team, "over-quota")
    top = bands_best_first(rb)[0].grade
    for _ in range(50):
        fill_team_workbook(blank(team, members, period, path.name), path, seed=rng.randrange(10**6))
        results = recompute(_book(path), rb)
        graded = [r for r in results.values()
                  if r.result.grade and eligibility(by_id[r.employee_id], period, rb)[0]]
        s = [r for r in graded if r.result.grade == top]
        if len(s) > quota(rb.distribution.s_max, len(graded)):
            break
    lowest = min(s, key=lambda r: (r.result.total, [-ord(ch) for ch in r.employee_id]))
    record(path, [{"code": "team-distribution-over-quota", "sheet": L.SUMMARY,
                   "cell": lowest.summary.address("grade")}],
           "S 等级人数超过团队配额（警告）/ more S than the team quota (a warning)")


def _rulebook_mismatch(slots, blank, target, record, rng, rb) -> None:
    """A workbook made from last year's rules (another bonus cap): the fingerprint differs."""
    members, period = slots.take(SMALL_TEAM)
    old = rb.model_copy(update={"scoring": rb.scoring.model_copy(update={"bonus_cap": 3})})
    path = target(period, SMALL_TEAM, "old-rulebook")
    fill_team_workbook(blank(SMALL_TEAM, members, period, path.name, old), path, seed=rng.randrange(10**6),
                       rulebook=old)
    record(path, [{"code": "template-rulebook-mismatch", "sheet": L.META, "cell": "B8"}],
           "用旧规则表生成的考核表 / made from another rulebook")


def _error_values(slots, blank, target, record, rng) -> None:
    """An error value where an input belongs: #DIV/0! in a self rating, #N/A in a weight (pasted from a
    sheet whose lookup failed). A reader takes either for a blank cell."""
    for label, sheet, key, shown, code in (("error-value-score", L.SCORES, "self_rating", "#DIV/0!", "score-error-value"),
                                           ("error-value-goal", L.GOALS, "weight", "#N/A", "goal-error-value")):
        members, period = slots.take(SMALL_TEAM)
        path = target(period, SMALL_TEAM, label)
        fill_team_workbook(blank(SMALL_TEAM, members, period, path.name), path, seed=rng.randrange(10**6))
        book = _book(path)
        rows = book.scores if sheet == L.SCORES else book.goals
        row = rows[rng.randrange(len(rows))]
        _edit(path, {(sheet, row.address(key)): shown})  # openpyxl stores an error code as an error value
        record(path, [{"code": code, "sheet": sheet, "cell": row.address(key)}],
               f"输入单元格显示错误值 {shown} / an input cell shows the error value {shown}")


def _foreign_workbook(out: Path, record) -> None:
    """A spreadsheet kpisheet never made: a manager's own list."""
    path = out / "自制考核表.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "考核"
    sheet.append(["工号", "姓名", "得分"])
    sheet.append(["SH0001", "张伟", 92])
    book.save(path)
    record(path, [{"code": "template-unknown", "sheet": None, "cell": None}],
           "不是 kpisheet 生成的工作簿 / not a kpisheet workbook")


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    approved = out.parent / "approved_goals" if len(sys.argv) > 1 else APPROVED
    doc = make_submissions(out, approved)
    print(f"wrote {len(doc['files']) - 1} workbooks and {EXPECTED} to {out}")
