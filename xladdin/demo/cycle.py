"""The whole appraisal cycle on the shipped samples, start to finish: what `kpisheet demo` runs.

    result = run_demo(folder, reporter)                  one after-sales department
    result = run_demo(folder, reporter, company=True)    the example company: three departments

Two quarters of one after-sales department, in the order they happen:

* 2026-Q3: team workbooks from the sample roster, filled as managers return
  them, validated, consolidated into the master, calibrated; the results are
  published on Friday 2026-10-09, just after National Day, with one notice per
  employee, and one employee appeals: the deadlines count Chinese working
  days, so Saturday 10-10 (a make-up working day, 调休) counts and the
  filing deadline is Thursday 10-15, not Friday 10-16.
* 2026-Q4: two managers make typical slips; their files are rejected with
  annotated copies; they send corrected files, the inbox is consolidated again
  and the quarter calibrated.
* The 2026 annual roll-up, then the Excel add-in (when xlwings' template is
  there).

With ``company=True`` the same story runs for the example company of
``samples/company`` (after-sales, sales and R&D, 278 people in 21 teams): each
team's form is made from its own department's rules, a sales and an R&D
manager make the slips, each file is validated by the rules of the department
its signed identity names, and everything lands in one master and one record,
calibrated by each department's own quotas and months in post (the company
rulebook's pooling). The add-in is the same for every department and is not
built again.

Every step calls the same functions as the commands (forms, filler, validate,
annotate, consolidate, calibrate, appeals, notices, rollup, addin build); this
module only chooses the sample inputs and tells the story.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
import zlib
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from kpisheet.validators.checks.team import team_members
from kpisheet.validators.policy.periods import parse_period
from kpisheet.validators.report import FileReport
from kpisheet.validators.errors import UsageError
from kpisheet.validators.roster import Employee, read_roster, teams
from kpisheet.validators.rulebook.company import Company
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.load import default_rulebook, dump_yaml, load_rulebook

from kpisheet.xladdin.kit.user import current_user
from kpisheet.xladdin.master import layout as L

PERIODS = ("2026-Q3", "2026-Q4")
YEAR = 2026
# Q3 results are published just after National Day; the appeal clock starts there.
PUBLISHED = {"2026-Q3": dt.date(2026, 10, 9)}
SEED = 20261012

# Q4: two managers' typical slips (kpisheet.workbook_templates.filler.MISTAKES); each file is rejected, then corrected.
SLIPS = {
    "华南工程组": ("text-number", "percent-scale", "comment-missing"),
    "客服中心": ("overwrite-formula", "missing-input", "signoff-missing"),
}
SLIP_PERIOD = "2026-Q4"
# The company demo's slips: a sales and an R&D manager (their forms are made from their departments' rules).
COMPANY_SLIPS = {
    "华东大区": ("text-number", "percent-scale", "comment-missing"),
    "算法组": ("overwrite-formula", "missing-input", "signoff-missing"),
}

# What the demo writes into its folder; --force removes exactly these and nothing else.
RULEBOOK_FILE = "rulebook.yaml"
RULES_DIR = "rules"   # the company demo's rulebooks: company.yaml and departments/
ROSTER_FILE = "roster.xlsx"
MASTER_FILE = "master.xlsx"
FORMS_DIR = "forms"
INBOX_DIR = "inbox"
ANNOTATED_DIR = "annotated"
NOTICES_DIR = "notices"
ADDIN_DIR = "addin"


def demo_outputs(folder: Path) -> list[Path]:
    """Every path the demo may create in ``folder`` (the master's backups and lock included)."""
    from kpisheet.xladdin.master.safety import BACKUP_DIR, lock_path

    master = folder / MASTER_FILE
    from kpisheet.xladdin.record.store import STORE_FILE

    names = (RULEBOOK_FILE, RULES_DIR, ROSTER_FILE, MASTER_FILE, FORMS_DIR, INBOX_DIR, ANNOTATED_DIR, NOTICES_DIR,
             ADDIN_DIR, BACKUP_DIR, STORE_FILE, f"{STORE_FILE}-wal", f"{STORE_FILE}-shm")
    return [folder / name for name in names] + [lock_path(master)]


def clear_outputs(folder: Path) -> None:
    """Remove what an earlier demo wrote in ``folder``; anything else there is left alone."""
    for path in demo_outputs(folder):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


# --- progress -----------------------------------------------------------------------------------

Advance = Callable[[], None]


class Reporter(Protocol):
    def step(self, title: str, total: int) -> AbstractContextManager[Advance]:
        """A step of ``total`` units; the context yields a function to call after each unit."""


class Silent:
    """A reporter that shows nothing (tests, library use)."""

    def step(self, title: str, total: int) -> AbstractContextManager[Advance]:
        return nullcontext(lambda: None)


# --- what the demo tells at the end ---------------------------------------------------------------

@dataclass
class Round:
    """One validation and consolidation of a quarter's inbox."""

    label: str
    period: str
    files: int
    accepted: list[str]
    rejected: list[tuple[str, list[str]]]   # (file name, error codes)
    warnings: int
    annotated: list[Path]


@dataclass
class AppealStory:
    period: str
    employee_id: str
    name: str
    published: dt.date
    filed: dt.date
    file_by: dt.date | None
    accept_by: dt.date | None
    resolve_by: dt.date | None
    grade_before: str | None
    grade_after: str | None
    note: str | None


@dataclass
class DemoResult:
    folder: Path
    master: Path
    rulebook: Rulebook                         # the master's: the one rulebook, or the company's view
    departments: list[str]
    teams: int
    employees: dict[str, int]                  # period -> people appraised
    rounds: list[Round] = field(default_factory=list)
    distribution: list[dict] = field(default_factory=list)   # 分布's department rows, per period
    calibration_changes: dict[str, int] = field(default_factory=dict)
    appeal: AppealStory | None = None
    notices: list[Path] = field(default_factory=list)
    annual_employees: int = 0
    flagged: list[str] = field(default_factory=list)         # PIP and consecutive-D flags, as rollup words them
    addin: Path | None = None
    addin_problem: str | None = None
    outputs: list[tuple[str, Path]] = field(default_factory=list)
    seconds: float = 0.0


# --- the cycle ----------------------------------------------------------------------------------

def run_demo(folder: str | Path, reporter: Reporter | None = None, *, now: dt.datetime | None = None,
             jobs: int | None = None, addin: bool = True, company: bool = False) -> DemoResult:
    """Run the cycle into ``folder`` (created; the caller decides whether it may be non-empty); ``company``:
    the example company's three departments instead of the after-sales department alone (no add-in)."""
    started = time.perf_counter()
    reporter = reporter or Silent()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = (now or dt.datetime.now()).replace(microsecond=0)
    user = current_user()

    with reporter.step("规则表与花名册 rulebook and roster", 2) as advance:
        rules = _company_rules(folder / RULES_DIR) if company else _export_rulebook(folder / RULEBOOK_FILE)
        advance()
        people = _company_roster(folder / ROSTER_FILE, rules) if company else _sample_roster(folder / ROSTER_FILE,
                                                                                              rules.first)
        advance()
    rulebook = rules.whole  # what the master shows: the company's settings with every department's indicators
    slip_teams = COMPANY_SLIPS if company else SLIPS
    master = folder / MASTER_FILE
    by_id = {p.employee_id: p for p in people}
    result = DemoResult(folder, master, rulebook, rules.names_zh(), len(teams(people)), {})

    for period in PERIODS:
        roster = _on_payroll(people, period)
        result.employees[period] = len(roster)
        blanks = _forms(folder / FORMS_DIR / period, rules, period, roster, reporter)
        inbox = folder / INBOX_DIR / period
        slips = slip_teams if period == SLIP_PERIOD else {}
        _fill(blanks, inbox, period, slips, reporter)
        first = _validate_and_merge(f"{period} 提交 submissions", inbox, folder / ANNOTATED_DIR / period, master,
                                    rules, roster, period, now, jobs, reporter)
        result.rounds.append(first)
        if first.rejected:
            corrected = {name: blanks[name] for name, _codes in first.rejected if name in blanks}
            _fill(corrected, inbox, period, {}, reporter, title=f"{period} 更正后重交 corrected files")
            result.rounds.append(_validate_and_merge(f"{period} 更正后 after corrections", inbox, None, master,
                                                     rules, roster, period, now, jobs, reporter))
        result.calibration_changes[period] = _calibrate(master, rulebook, by_id, period, now, user, reporter)
        if period in PUBLISHED:
            result.notices = _notices(master, folder / NOTICES_DIR, rulebook, period, PUBLISHED[period], now, user,
                                      reporter)
            result.appeal = _appeal(master, rulebook, period, PUBLISHED[period], now, user, reporter)
            if result.appeal is not None:  # the decided appeal changed a grade: that notice is made again
                _renotify(master, folder / NOTICES_DIR, rulebook, period, PUBLISHED[period], result.appeal.employee_id)

    result.annual_employees, result.flagged = _rollup(master, rulebook, YEAR, now, user, reporter)
    if addin and not company:
        result.addin, result.addin_problem = _addin(folder / ADDIN_DIR, reporter)
    result.distribution = _distribution(master, rulebook)
    result.outputs = _outputs(folder, result)
    result.seconds = time.perf_counter() - started
    return result



def _export_rulebook(target: Path) -> Company:
    """The built-in rulebook written out for HR to read and edit, and read back from that file (a company of one)."""
    target.write_text(dump_yaml(default_rulebook()), encoding="utf-8")
    return Company.of_one(load_rulebook(target), str(target))


def sample_company() -> Path:
    """The example company's rulebooks, samples/company in a clone of kpisheet (they are not installed as
    package data: they are an example HR reads and copies, not kpisheet's own rules)."""
    return Path(__file__).resolve().parents[2] / "samples" / "company"


def _company_rules(target: Path) -> Company:
    """The example company's rulebooks copied into the demo's folder (the company file and its departments)
    for HR to read and edit, and read back from that copy."""
    from kpisheet.validators.rulebook.company_load import load_company

    source = sample_company()
    if not (source / "company.yaml").is_file():
        raise UsageError(f"找不到示例公司的规则表 {source}：公司演示需要 kpisheet 源代码中的 samples/company；"
                         "请在 kpisheet 的源代码目录中按 README 安装后运行",
                         f"the example company's rulebooks are not at {source}: the company demo needs samples/company "
                         "from kpisheet's source; install from a clone as the README says")
    shutil.copytree(source, target, ignore=_not_rules)
    return load_company(target)


def _not_rules(folder: str, names: list[str]) -> list[str]:
    """What copying the sample's rulebooks leaves behind: the roster and its generator (the demo writes its own)."""
    return [name for name in names if not name.endswith(".yaml") and not (Path(folder) / name).is_dir()]


def _sample_roster(target: Path, rulebook: Rulebook) -> list[Employee]:
    from kpisheet.xladdin.demo.sample_roster import write_sample_roster

    return read_roster(write_sample_roster(target), rulebook)


def _company_roster(target: Path, company: Company) -> list[Employee]:
    """The example company's seeded roster (samples/company/roster.xlsx), each row read by its department's rules."""
    from kpisheet.xladdin.demo.company_roster import write_company_roster

    return read_roster(write_company_roster(target), company)


def _on_payroll(people: list[Employee], period: str) -> list[Employee]:
    """The roster as it stood for ``period``: people hired after it ends have no form that quarter."""
    parsed = parse_period(period)
    return [p for (dept, team) in teams(people) for p in team_members(people, dept, team, parsed)]


@dataclass(frozen=True)
class Blank:
    """A team's blank form and the rules it was made from (its department's)."""

    path: Path
    rulebook: Rulebook


def _forms(out: Path, rules: Company, period: str, roster: list[Employee], reporter: Reporter) -> dict[str, Blank]:
    """Each team's form from its own department's rules."""
    from kpisheet.workbook_templates.team_workbook import build_team_workbook, team_file_name

    groups = teams(roster)
    blanks = {}
    with reporter.step(f"{period} 生成考核表 team workbooks", len(groups)) as advance:
        for (department, team), members in groups.items():
            name = team_file_name(period, department, team)
            rulebook = rules.require(department)
            blanks[name] = Blank(build_team_workbook(out / name, rulebook, period, department, team, members),
                                 rulebook)
            advance()
    return blanks


def _seed(period: str, name: str) -> int:
    return SEED + zlib.crc32(f"{period}/{name}".encode("utf-8"))


def _fill(blanks: dict[str, Blank], inbox: Path, period: str, slips: dict[str, tuple[str, ...]],
          reporter: Reporter, title: str | None = None) -> None:
    """Each manager's returned file in ``inbox``; the teams in ``slips`` make those mistakes."""
    from kpisheet.workbook_templates.filler import fill_team_workbook

    inbox.mkdir(parents=True, exist_ok=True)
    with reporter.step(title or f"{period} 经理填写 managers fill in", len(blanks)) as advance:
        for name, blank in blanks.items():
            mistakes = next((m for team, m in slips.items() if f"_{team}." in name), ())
            fill_team_workbook(blank.path, inbox / name, seed=_seed(period, name), mistakes=mistakes,
                               rulebook=blank.rulebook)
            advance()


def _validate_and_merge(label: str, inbox: Path, annotated: Path | None, master: Path, rules: Company,
                        roster: list[Employee], period: str, now: dt.datetime, jobs: int | None,
                        reporter: Reporter) -> Round:
    """Each file validated by its own department's rules (routed by the identity in its _meta), then all of
    them recorded in one master."""
    from kpisheet.validators.reading.file_search import find_files
    from kpisheet.validators.validate import validate_paths

    from kpisheet.xladdin.annotate.batch import annotate_reports
    from kpisheet.xladdin.master.consolidate import merge_into_master

    files = find_files([inbox])
    with reporter.step(f"{label}：校验 validate", len(files)) as advance:
        seen = [0]

        def progress(done: int, total: int) -> None:
            while seen[0] < done:
                seen[0] += 1
                advance()

        reports = validate_paths([inbox], rulebook=rules, roster=roster, period=period, jobs=jobs,
                                 progress=progress)
    flagged = [r for r in reports if r.findings]
    copies: list[Path] = []
    if annotated is not None and flagged:
        with reporter.step(f"{label}：标注问题单元格 annotated copies", len(flagged)) as advance:
            made = annotate_reports(flagged, annotated, jobs=jobs)
            copies = [Path(p) for p in made.values() if p and not p.startswith("!")]
            for _ in flagged:
                advance()
    with reporter.step(f"{label}：汇总 consolidate", 1) as advance:
        merge_into_master(master, reports, rulebook=rules.whole, roster=roster, period=period, now=now)
        advance()
    return Round(label, period, len(reports), [Path(r.path).name for r in reports if r.accepted],
                 [(Path(r.path).name, _error_codes(r)) for r in reports if not r.accepted],
                 sum(r.count("warning") for r in reports), copies)


def _error_codes(report: FileReport) -> list[str]:
    return sorted({f.code for f in report.findings if f.severity == "error"})


def _update(master: Path, rulebook: Rulebook, change):
    from kpisheet.xladdin.master.consolidate import update_master

    outcome, _backup = update_master(master, rulebook, change)
    return outcome


def _calibrate(master: Path, rulebook: Rulebook, roster: dict[str, Employee], period: str, now: dt.datetime,
               user: str, reporter: Reporter) -> int:
    from kpisheet.xladdin.master.apply_calibration import calibrate_master

    with reporter.step(f"{period} 校准 calibrate (强制分布 forced distribution)", 1) as advance:
        outcome = _update(master, rulebook, lambda data: calibrate_master(
            data, rulebook, now=now, roster=roster, period=period, user=user))
        advance()
    return len(outcome.changes)


def _notices(master: Path, out: Path, rulebook: Rulebook, period: str, published: dt.date, now: dt.datetime,
             user: str, reporter: Reporter) -> list[Path]:
    """Record the publication date (the appeal clock starts there) and write one notice per employee."""
    from kpisheet.xladdin.master.appeals import refresh_appeals
    from kpisheet.xladdin.master.notices import build_notices, write_notices

    outcome = _update(master, rulebook, lambda data: refresh_appeals(
        data, rulebook, now=now, user=user, publish=(period, published)))
    notices, _skipped = build_notices(outcome.data, rulebook, period, published)
    with reporter.step(f"{period} 绩效结果通知书 result notices", len(notices)) as advance:
        batch = write_notices(notices, out, rulebook, pdf=False, progress=lambda _done, _total: advance())
    return batch.workbooks


def _renotify(master: Path, out: Path, rulebook: Rulebook, period: str, published: dt.date,
              employee_id: str) -> Path | None:
    """The employee's notice written again from the master as it now stands (the revised grade)."""
    from kpisheet.xladdin.master.io import read_master
    from kpisheet.xladdin.master.notices import build_notices, notice_filename, write_notice

    notices, _skipped = build_notices(read_master(master, rulebook), rulebook, period, published)
    notice = next((n for n in notices if n.employee_id == employee_id), None)
    return write_notice(out / notice_filename(notice), notice, rulebook) if notice else None


def _appellant(summary: list[dict], rulebook: Rulebook, period: str) -> dict | None:
    """The employee who appeals: the first, in 总表 order, with the lowest final grade of the period."""
    from kpisheet.validators.policy.grading import bands_best_first

    grades = [band.grade for band in bands_best_first(rulebook)]
    rows = [r for r in summary if r.get("period") == period and r.get("final_grade") in grades]
    return max(rows, key=lambda r: grades.index(r["final_grade"]), default=None)


def _appeal(master: Path, rulebook: Rulebook, period: str, published: dt.date, now: dt.datetime, user: str,
            reporter: Reporter) -> AppealStory | None:
    """HR records one appeal, decided one grade up; kpisheet computes its deadlines and carries the grade."""
    from kpisheet.validators.policy.grading import bands_best_first
    from kpisheet.validators.policy.workdays import add_workdays

    from kpisheet.xladdin.master.appeals import refresh_appeals

    grades = [band.grade for band in bands_best_first(rulebook)]
    chosen: dict = {}

    def change(data):
        person = _appellant(data.rows(L.SUMMARY), rulebook, period)
        if person is None:
            return refresh_appeals(data, rulebook, now=now, user=user)
        before = person["final_grade"]
        after = grades[max(0, grades.index(before) - 1)]
        filed = add_workdays(published, 3)
        accepted = add_workdays(filed, 2)
        row = {"period": period, "employee_id": person["employee_id"], "filed_date": filed,
               "reason": "客户投诉已查明非本人责任，请求复核客户满意度得分 / the complaint was not my fault",
               "accepted_date": accepted, "resolved_date": add_workdays(accepted, 7),
               "outcome": f"部分支持：等级由 {before} 调整为 {after} / upheld in part", "revised_grade": after,
               "handler": "人力资源部"}
        chosen.update(person=person, before=before, filed=filed)
        appeals = [r for r in data.rows(L.APPEALS)
                   if (r.get("period"), r.get("employee_id")) != (period, person["employee_id"])] + [row]
        edited = L.MasterData(sheets={**data.sheets, L.APPEALS: appeals}, meta=data.meta,
                              extra_headers=data.extra_headers, missing_sheets=data.missing_sheets)
        return refresh_appeals(edited, rulebook, now=now, user=user)

    with reporter.step(f"{period} 申诉 appeal (工作日期限 working-day deadlines)", 1) as advance:
        outcome = _update(master, rulebook, change)
        advance()
    if "person" not in chosen:
        return None
    person = chosen["person"]
    row = next(r for r in outcome.data.rows(L.APPEALS)
               if (r.get("period"), r.get("employee_id")) == (period, person["employee_id"]))
    final = next(r for r in outcome.data.rows(L.SUMMARY)
                 if (r.get("period"), r.get("employee_id")) == (period, person["employee_id"]))
    return AppealStory(period, person["employee_id"], person.get("name") or "", published, chosen["filed"],
                       row.get("file_by"), row.get("accept_by"), row.get("resolve_by"), chosen["before"],
                       final.get("final_grade"), row.get("system_note"))


def _rollup(master: Path, rulebook: Rulebook, year: int, now: dt.datetime, user: str,
            reporter: Reporter) -> tuple[int, list[str]]:
    from kpisheet.xladdin.master.rollup import rollup_master

    with reporter.step(f"{year} 年度汇总 annual roll-up", 1) as advance:
        outcome = _update(master, rulebook, lambda data: rollup_master(data, rulebook, year, now=now, user=user))
        advance()
    return outcome.employees, [f"PIP {line}" for line in outcome.pip] + [f"连续D {line}" for line in outcome.flagged_d]


def _addin(out: Path, reporter: Reporter) -> tuple[Path | None, str | None]:
    from kpisheet.xladdin.addin.build import AddinBuildError, build_addin

    with reporter.step("Excel 加载项 add-in", 1) as advance:
        try:
            path = build_addin(out)
        except AddinBuildError as error:
            return None, f"{error.message_zh} / {error.message_en}"
        except OSError as error:
            return None, f"无法写入 cannot write {out}: {error.strerror or error}"
        finally:
            advance()
    return path, None


def _distribution(master: Path, rulebook: Rulebook) -> list[dict]:
    """分布's department rows (final grades against the quotas), as the master shows them."""
    from kpisheet.xladdin.master.io import read_master
    from kpisheet.xladdin.master.views import distribution_rows

    data = read_master(master, rulebook)
    return [row for row in distribution_rows(data.rows(L.SUMMARY), rulebook) if row["level"] == L.LEVEL_DEPARTMENT]


def _outputs(folder: Path, result: DemoResult) -> list[tuple[str, Path]]:
    rules = (("公司与部门规则表 company and department rulebooks (YAML)", folder / RULES_DIR)
             if (folder / RULES_DIR).is_dir() else ("规则表 rulebook (YAML)", folder / RULEBOOK_FILE))
    out = [rules, ("花名册 roster", folder / ROSTER_FILE),
           ("空白考核表 blank team workbooks", folder / FORMS_DIR),
           ("经理交回的考核表 submissions", folder / INBOX_DIR),
           ("标注问题的副本 annotated copies", folder / ANNOTATED_DIR),
           ("HR 汇总表 master", result.master)]
    if result.notices:
        out.append(("绩效结果通知书 result notices", folder / NOTICES_DIR))
    if result.addin:
        out.append(("Excel 加载项 add-in", result.addin))
    return out
