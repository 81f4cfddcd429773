"""Validation entry points: one file's values, one file, or a whole batch of folders.

    validate_values(values, source=..., rulebook=...)   values already read (the add-in, through xlwings)
    validate_file(path, rulebook=...)                   one file, guarded, in this process
    validate_paths(paths, rulebook=...)                 files and folders, in worker processes

Every check collects all it finds (nothing stops at the first problem) and
every file gets a :class:`~kpisheet.validators.report.FileReport`, whatever it holds.
The order of work for one workbook: identity (template-), then the layout
(columns, rows, locked cells), then goal-, score- and team- checks on the
values, with Python's own scores from :mod:`kpisheet.validators.policy.outcomes`. In the
goals phase only the goal-, template- and team-identity checks run.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections import ChainMap
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from kpisheet.validators.checks import (
    actuals as checks_actuals, error_values as checks_error_values, formulas as checks_formulas,
    goals as checks_goals, roles as checks_roles, scores as checks_scores, team as checks_team,
    template as checks_template,
)
from kpisheet.validators.approved_goals import load_approved_goals
from kpisheet.validators.findings import Finding, Names, make_finding, with_names
from kpisheet.validators.reading.file_search import find_files
from kpisheet.validators.reading.guard import read_guarded
from kpisheet.validators.layout import ACTUALS, META
from kpisheet.validators.policy.outcomes import employee_outcomes, recompute
from kpisheet.validators.policy.periods import Period, parse_period
from kpisheet.validators.report import FileReport, status_of
from kpisheet.validators.roster import Employee
from kpisheet.validators.roster_index import RosterIndex
from kpisheet.validators.rulebook.company import Company
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.signature import SigningKey
from kpisheet.validators.reading.submission import (
    REQUIRED_SHEETS, NotATeamWorkbook, read_identity, read_team_workbook,
)
from kpisheet.validators.reading.formula_cells import SheetCells, formula_cells
from kpisheet.validators.reading.workbook_facts import WorkbookFacts, workbook_facts

# the sheets validation reads: the team workbook's own, plus the source-system record when prefilled
VALIDATED_SHEETS = REQUIRED_SHEETS + (ACTUALS,)

PHASES = ("goals", "scoring")


# (department, team, period) -> the approved goals of that workbook, see checks_goals.ApprovedGoals
ApprovedIndex = Mapping[tuple[str, str, str], checks_goals.ApprovedGoals]
# one rulebook, or a company's: each workbook is then checked against its own department's rules
Rules = Rulebook | Company
RosterArg = Sequence[Employee] | Mapping[str, Employee] | None
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ValidationSettings:
    """What one validation run checks every file against (rulebook, roster, period, phase,
    approved goals): everything a check needs besides the file; picklable, sent to every worker."""

    rulebook: Rulebook
    roster: Mapping[str, Employee] | None = None
    period: Period | None = None
    phase: str = "scoring"
    approved: ApprovedIndex | None = None
    cross_file: bool = False  # the batch checks missing roster members across files
    fingerprint: str = ""  # the rulebook's, hashed once for every file
    signing_key: SigningKey | None = None  # HR's: each workbook's signature is verified; None: nothing to verify with
    # a company's departments: each workbook is routed to the rules of the department its _meta names
    company: Company | None = None
    # the roster's and the rulebook's names for findings, gathered once for every file (a roster of
    # thousands took a millisecond a file to walk)
    names: Names = field(default_factory=Names)

    @classmethod
    def make(cls, rulebook: Rules, roster: RosterArg = None, period: str | Period | None = None,
             phase: str = "scoring", approved: ApprovedIndex | None = None, cross_file: bool = False,
             signing_key: SigningKey | None = None) -> ValidationSettings:
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {', '.join(PHASES)}, not {phase!r}")
        if roster is not None and not isinstance(roster, Mapping):
            roster = {e.employee_id: e for e in roster}
        company = None
        if isinstance(rulebook, Company):
            company = None if rulebook.single else rulebook
            for department in rulebook.departments:
                department.fingerprint  # hashed once here, not in every worker
            rulebook = rulebook.first
        return cls(rulebook, roster, parse_period(period) if period is not None else None, phase, approved,
                   cross_file, rulebook.fingerprint(), signing_key, company, finding_names(rulebook, roster))

    def routed(self, values: dict[str, list[list]]) -> tuple[ValidationSettings, Finding | None]:
        """These settings with the rules of the workbook's own department (a company's), or the finding
        saying its department has none. A workbook whose _meta cannot be read goes on as it is: the
        template- checks say why."""
        if self.company is None:
            return self, None
        try:
            identity = read_identity(values.get(META) or [], source="")
        except NotATeamWorkbook:
            return self, None
        department = self.company.department(identity.department)
        if department is None:
            return self, make_finding("template-department-unknown", sheet=META,
                                      cell=checks_template.meta_cell("department"), value=identity.department,
                                      expected="、".join(self.company.names_zh()))
        names = Names(self.names.employees, finding_names(department.rulebook).indicators)
        return replace(self, rulebook=department.rulebook, fingerprint=department.fingerprint, names=names), None


# --- values -------------------------------------------------------------------------------


def validate_values(values: dict[str, list[list]], *, source: str, rulebook: Rules, roster: RosterArg = None,
                    period: str | Period | None = None, phase: str = "scoring",
                    approved_goals: ApprovedIndex | None = None, calculated: bool = True,
                    properties: Mapping[str, str] | None = None, sha256: str | None = None,
                    modified: float | None = None, file_findings: Iterable[Finding] = (),
                    signing_key: SigningKey | None = None,
                    error_cells: checks_error_values.ErrorCells | None = None) -> FileReport:
    """Validate a workbook's cell values (sheet name -> rows from A1, as python-calamine or xlwings give them).

    ``calculated``: whether cached formula results are a spreadsheet program's
    (live values read from Excel are). ``properties``: the kpisheet custom
    document properties, when known. ``file_findings`` come first (e.g.
    file-has-macros from the guard). ``signing_key``: HR's key, to verify the
    workbook's signature with (without one, the signature is not checked).
    ``error_cells``: sheet -> cell -> the error value it shows (#DIV/0!), for
    cells a reader gives as empty.
    """
    settings = ValidationSettings.make(rulebook, roster, period, phase, approved_goals, signing_key=signing_key)
    facts = WorkbookFacts(calculated=calculated, properties=dict(properties or {}))
    return _validate(values, source, settings, facts, sha256, modified, tuple(file_findings), error_cells or {})


def _validate(values, source: str, settings: ValidationSettings, facts: WorkbookFacts, sha256, modified,
              file_findings: tuple[Finding, ...], error_cells: checks_error_values.ErrorCells,
              formulas: Mapping[str, SheetCells] | None = None) -> FileReport:
    """``formulas``: which cells hold formulas, when the file's XML was read (not through xlwings)."""
    settings, unrouted = settings.routed(values)
    rulebook = settings.rulebook
    findings: list[Finding] = list(file_findings)
    shown_errors: list[Finding] = []

    def report(book=None, employees=(), extra=None) -> FileReport:
        names = finding_names(rulebook, book=book, base=settings.names)
        unique = [with_names(f, names) for f in _unique(checks_error_values.without_findings_at(findings, shown_errors))]
        identity = book.identity if book is not None else None
        return FileReport(
            path=source, sha256=sha256, status=status_of(unique),
            department=identity.department if identity else None,
            team=identity.team if identity else None,
            period=_canonical(identity.period) if identity else None,
            findings=tuple(unique), employees=tuple(employees),
            rulebook_fingerprint=identity.rulebook_fingerprint if identity else None,
            modified=modified, extra=extra or {})

    try:
        book = read_team_workbook(values, source=source, rulebook=rulebook)
    except NotATeamWorkbook as error:
        findings.append(make_finding("template-unknown", reason_zh=error.message_zh, reason_en=error.message_en))
        return report()
    if unrouted is not None:
        findings.append(unrouted)
        return report(book)  # no rules to check it against
    identity_problems = checks_template.check_identity(book.identity, rulebook, settings.fingerprint)
    findings += identity_problems
    if any(f.code in ("template-unknown", "template-version") for f in identity_problems):
        return report(book)
    signed = False
    if settings.signing_key is not None:
        check = checks_template.signature_check(book.identity, settings.signing_key)
        findings += checks_template.signature_findings(book.identity, check, settings.signing_key)
        signed = check.valid
    header_problems = checks_template.check_headers(values, rulebook)
    findings += header_problems
    findings += checks_template.check_meta_consistency(book.identity, facts.properties)
    findings += checks_team.check_period(book.identity, settings.period)
    if header_problems:
        return report(book)  # columns moved: every value below would be misread
    row_problems = checks_template.check_rows(book)
    findings += row_problems
    findings += checks_roles.check_role_indicators(book, rulebook, settings.roster, signed=signed)
    shown_errors += checks_error_values.check_error_values(book, rulebook, error_cells)
    findings += shown_errors
    findings += checks_template.check_locked_targets(book, rulebook)
    if formulas is not None:  # read from the sheet XML: a computed cell whose formula was replaced by a value
        findings += checks_formulas.check_formulas(book, rulebook, formulas, values,
                                                   skip={f.sheet for f in row_problems})
    recomputed = recompute(book, rulebook)
    goal_findings = checks_goals.check_goals(book, rulebook, _approved_for(settings, book), recomputed)
    findings += goal_findings
    if settings.phase == "scoring":
        slipped = {(f.employee_id, f.indicator) for f in goal_findings if f.code in checks_scores.SLIPS}
        findings += checks_scores.check_scores(book, rulebook, recomputed, calculated=facts.calculated,
                                               slipped=slipped)
        if ACTUALS in values:  # only workbooks prefilled from source systems carry it
            findings += checks_actuals.check_prefilled(book, values[ACTUALS])
    findings += checks_team.check_duplicates(book)
    if settings.roster is not None:
        findings += checks_team.check_roster(book, settings.roster, missing=not settings.cross_file)
    if settings.phase == "scoring":
        findings += checks_team.check_signoff(book, rulebook)
        findings += checks_team.check_follow_up(book, recomputed, rulebook)
        findings += checks_team.check_distribution(book, recomputed, rulebook, settings.roster)
    findings[:] = _without_echoes(findings)
    cells = {}
    for s in book.summary:
        cells.setdefault(s.employee_id, s.address("employee_id"))
    extra = {"summary_cells": cells, "calculated": facts.calculated, "phase": settings.phase,
             "saved_at": facts.saved_at, "saved_by": facts.saved_by}
    return report(book, employee_outcomes(recomputed, rulebook), extra)


def finding_names(rulebook: Rulebook | None, roster: Mapping[str, Employee] | None = None, book=None, *,
                  base: Names | None = None) -> Names:
    """Names for the findings of one workbook: indicators from the rulebook; employees as the
    workbook's 汇总 names them (what the manager sees beside the cell), else as the roster does.

    ``base``: the roster's and rulebook's names already gathered (:attr:`Settings.names`), so a
    workbook adds only its own.
    """
    if base is None:
        employees = {e.employee_id: e.name for e in (roster or {}).values() if e.name}
        indicators = {ind.code: (ind.name_zh, ind.name_en) for ind in rulebook.indicators} if rulebook else {}
        base = Names(employees, indicators)
    if book is None:
        return base
    own = {s.employee_id: s.name.strip() for s in book.summary if isinstance(s.name, str) and s.name.strip()}
    return Names(ChainMap(own, base.employees), base.indicators)


def _without_echoes(findings: list[Finding]) -> list[Finding]:
    """A cell whose formula was replaced is reported as that, not also as a value that differs."""
    replaced = {(f.sheet, f.cell) for f in findings if f.code == "template-formula-replaced"}
    if not replaced:
        return findings
    return [f for f in findings if not (f.code == "score-total-mismatch" and (f.sheet, f.cell) in replaced)]


def _approved_for(settings: ValidationSettings, book) -> checks_goals.ApprovedGoals | None:
    if settings.approved is None or settings.phase != "scoring":
        return None
    i = book.identity
    return settings.approved.get((i.department, i.team, _canonical(i.period)))


def _canonical(period: str) -> str:
    try:
        return str(parse_period(period))
    except ValueError:
        return period


def _unique(findings: list[Finding]) -> list[Finding]:
    """Each finding once (two checks may reach the same conclusion at the same place)."""
    seen = set()
    out = []
    for f in findings:
        key = (f.code, f.sheet, f.cell, f.employee_id, f.indicator, f.message_en)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


# --- one file -----------------------------------------------------------------------------


def validate_file(path: str | Path, *, rulebook: Rules, roster: RosterArg = None,
                  period: str | Period | None = None, phase: str = "scoring",
                  approved_goals: ApprovedIndex | str | Path | None = None,
                  signing_key: SigningKey | None = None) -> FileReport:
    """Guard, read and validate one file in this process (the guard keeps hostile files from the reader).

    ``approved_goals`` is a folder of approved goals-phase workbooks or an
    index made by :func:`kpisheet.validators.approved_goals.load_approved_goals`.
    """
    if isinstance(approved_goals, (str, Path)):
        approved_goals = load_approved_goals(approved_goals, rulebook=_reading_rules(rulebook)).index
    settings = ValidationSettings.make(rulebook, roster, period, phase, approved_goals, signing_key=signing_key)
    return validate_batch_file(settings, str(path))


def _reading_rules(rules: Rules) -> Rulebook:
    """A rulebook to read workbooks by (its categories name the summary's columns): a company's departments
    share the company's categories, so any department's rules read any workbook."""
    return rules.first if isinstance(rules, Company) else rules


def validate_batch_file(settings: ValidationSettings, path: str) -> FileReport:
    """One file's work in a batch, with the batch's settings: guard, hash, read, every check.

    Module level, so worker processes can run it; the benchmark times it as
    the per-file cost of validation.
    """
    try:
        modified = os.stat(path).st_mtime
    except OSError:
        modified = None
    try:
        verdict, data = read_guarded(path, sheets=VALIDATED_SHEETS)
    except OSError as error:
        reason = error.strerror or str(error)
        finding = make_finding("file-unreadable", reason_zh=f"无法打开文件（{reason}）",
                               reason_en=f"the file cannot be opened ({reason})")
        return FileReport(path, None, status_of([finding]), findings=(finding,), modified=modified)
    digest = hashlib.sha256(data).hexdigest() if data is not None else None
    if not verdict.readable or verdict.package is None:
        return FileReport(path, digest, status_of(verdict.findings), findings=tuple(verdict.findings),
                          modified=modified, extra={"kind": verdict.detected.kind})
    from kpisheet.validators.reading.safe_read import values_of_guarded

    # _actuals is read only where it exists: a workbook without it costs nothing more
    values, failure = values_of_guarded(verdict, VALIDATED_SHEETS)
    if failure is not None:
        findings = tuple(verdict.findings) + (failure,)
        return FileReport(path, digest, status_of(findings), findings=findings, modified=modified,
                          extra={"kind": verdict.detected.kind})
    package = verdict.package
    # read from the package the guard checked (never the original archive), as every reader is
    formulas = formula_cells(package.reader_zip, checks_formulas.formula_columns(settings.rulebook))
    report = _validate(values, path, settings, workbook_facts(package), digest, modified, tuple(verdict.findings),
                       package.error_cells, formulas)
    report.extra["kind"] = verdict.detected.kind
    return report


# --- batches ------------------------------------------------------------------------------

# A worker's settings, installed once when the worker starts rather than sent with every file.
# They are pickled once per batch: a roster of thousands takes a noticeable part of a second to
# pickle, and a batch starts fresh workers as it goes (safe_read.tasks_per_worker).
_worker_settings: ValidationSettings | None = None


def _install_settings(pickled: bytes) -> None:
    global _worker_settings
    _worker_settings = pickle.loads(pickled)


def _validate_in_worker(path: str) -> FileReport:
    return validate_batch_file(_worker_settings, path)


# What a caller that keeps each report on disk reads of it while the batch runs (the cross-file summaries
# and the record's ordering of a team's files); everything else is read back from the report itself.
HEAD_EXTRA = ("saved_at", "saved_by", "summary_cells")


@dataclass(frozen=True)
class PackedReport:
    """One file's report as a worker hands it to a caller that spools reports: the few fields read while
    the batch runs, and the whole report pickled once, in the worker. The calling process never unpickles
    a whole report it does not need yet, which in a batch of thousands took a core's worth of its time
    away from the workers."""

    head: FileReport  # no findings and no employees; ``extra`` only its HEAD_EXTRA keys
    errors: int
    warnings: int
    error_codes: tuple[str, ...]
    blob: bytes  # the whole report, pickled

    def report(self) -> FileReport:
        return pickle.loads(self.blob)


def pack(report: FileReport) -> PackedReport:
    head = replace(report, findings=(), employees=(), extra={
        k: v for k, v in report.extra.items() if k in HEAD_EXTRA})
    return PackedReport(head, report.count("error"), report.count("warning"),
                        tuple(sorted({f.code for f in report.findings if f.severity == "error"})),
                        pickle.dumps(report, pickle.HIGHEST_PROTOCOL))


def without_indicator_lines(report: FileReport) -> FileReport:
    return replace(report, employees=tuple(replace(e, indicators=()) for e in report.employees))


def _validate_without_lines_in_worker(path: str) -> FileReport:
    return without_indicator_lines(validate_batch_file(_worker_settings, path))


def _validate_packed_in_worker(path: str) -> PackedReport:
    return pack(validate_batch_file(_worker_settings, path))


def validate_paths(paths: Iterable[str | Path], *, rulebook: Rules, roster: RosterArg = None,
                   period: str | Period | None = None, phase: str = "scoring",
                   approved_goals: ApprovedIndex | str | Path | None = None, jobs: int | None = None,
                   progress: Progress | None = None, signing_key: SigningKey | None = None,
                   accepted: checks_team.AcceptedTeams | None = None,
                   indicator_lines: bool = True) -> list[FileReport]:
    """Validate every file under ``paths`` in worker processes; reports in file order.

    ``indicator_lines=False``: each employee's outcome comes without its indicator lines (name, results
    and grade stay). What the validate command prints needs none, and they are most of a report: a batch
    of thousands of files then holds a fraction of the memory.

    Cross-file checks follow the per-file ones: an employee in files of two
    teams of one period, roster members missing from every file of their
    team, and (without a roster) files whose team's ``accepted`` submission
    of an earlier run lists other people. ``progress(done, total)`` is called
    in this process after each file.
    """
    files = find_files(paths)
    settings = batch_settings(rulebook, roster, period, phase, approved_goals, jobs, signing_key=signing_key)
    total = len(files)
    if progress is not None:
        progress(0, total)
    reports: dict[str, FileReport] = {}
    work = _validate_in_worker if indicator_lines else _validate_without_lines_in_worker
    for done, report in enumerate(_run_batch(work, files, settings, jobs, lambda r: r), start=1):
        reports[report.path] = report
        if progress is not None:
            progress(done, total)
    ordered = [reports[str(path)] for path in files]
    return add_cross_file_findings(ordered, settings.roster, settings.rulebook, accepted)


def batch_settings(rulebook: Rules, roster: RosterArg = None, period: str | Period | None = None,
                   phase: str = "scoring", approved_goals: ApprovedIndex | str | Path | None = None,
                   jobs: int | None = None, *, signing_key: SigningKey | None = None) -> ValidationSettings:
    """The settings of a batch whose cross-file checks are made after the per-file ones."""
    if isinstance(approved_goals, (str, Path)):
        approved_goals = load_approved_goals(approved_goals, rulebook=_reading_rules(rulebook), jobs=jobs).index
    return ValidationSettings.make(rulebook, roster, period, phase, approved_goals, cross_file=True,
                                   signing_key=signing_key)


def iter_validate(files: Sequence[str | Path], settings: ValidationSettings, *,
                  jobs: int | None = None) -> Iterator[FileReport]:
    """Each file's report as its worker finishes (completion order), without the cross-file findings.

    For callers that keep only a summary of each report (consolidation streams
    them into the cycle record, so its memory does not grow with the files):
    :func:`cross_file_findings` then works from :func:`file_employees` summaries
    and :func:`with_cross_file_findings` adds them to a report.
    """
    yield from _run_batch(_validate_in_worker, files, settings, jobs, lambda report: report)


def iter_validate_packed(files: Sequence[str | Path], settings: ValidationSettings, *,
                         jobs: int | None = None) -> Iterator[PackedReport]:
    """:func:`iter_validate` for callers that spool each report to disk: each comes packed by its worker."""
    yield from _run_batch(_validate_packed_in_worker, files, settings, jobs, pack)


def _run_batch(work: Callable[[str], Any], files: Sequence[str | Path], settings: ValidationSettings,
               jobs: int | None, as_outcome: Callable[[FileReport], Any]) -> Iterator:
    if not files:
        return
    from kpisheet.validators.reading.safe_read import WorkerFailure, run_isolated

    # the roster's file lives as long as the batch (ignore_cleanup_errors: on Windows a worker that has
    # not yet exited may still hold it open; the system's temporary folder is cleaned in time)
    with tempfile.TemporaryDirectory(prefix="kpisheet-roster-", ignore_cleanup_errors=True) as folder:
        pickled = pickle.dumps(with_roster_index(settings, folder), pickle.HIGHEST_PROTOCOL)
        for path, outcome in run_isolated(work, files, jobs, initializer=_install_settings, initargs=(pickled,)):
            if isinstance(outcome, WorkerFailure):
                outcome = as_outcome(FileReport(str(path), None, status_of(outcome.findings),
                                                findings=outcome.findings, extra={"worker": outcome.detail}))
            yield outcome


def with_roster_index(settings: ValidationSettings, folder: str | Path) -> ValidationSettings:
    """``settings`` as a batch's workers get them: the roster and its names are looked up in a SQLite
    file written into ``folder`` (see :mod:`kpisheet.validators.roster_index`), so a worker holds none of
    the roster and its memory does not grow with the company. Checks ask the same questions of it."""
    if settings.roster is None:
        return settings
    index = RosterIndex.write(settings.roster, Path(folder) / "roster.sqlite")
    return replace(settings, roster=index, names=Names(index.names(), settings.names.indicators))


def file_employees(report: FileReport) -> checks_team.FileEmployees | None:
    """What the cross-file checks need of one report (None when it was not read as a team workbook)."""
    if "summary_cells" not in report.extra:
        return None
    return checks_team.FileEmployees(report.path, report.period, report.department, report.team,
                                     report.extra["summary_cells"], rejected=report.status == "error")


def cross_file_findings(files: Sequence[checks_team.FileEmployees], roster: Mapping[str, Employee] | None,
                        accepted: checks_team.AcceptedTeams | None = None) -> dict[str, list[Finding]]:
    """path -> findings one file gets for what other files hold (see checks_team.cross_file_findings)."""
    return checks_team.cross_file_findings(files, roster, accepted)


def with_cross_file_findings(report: FileReport, more: Sequence[Finding], roster: Mapping[str, Employee] | None,
                             rulebook: Rulebook | None = None, *, base: Names | None = None) -> FileReport:
    """``report`` with its cross-file findings added, named as the file's own findings are (the names the
    file gave its people, else the roster's), each once, its status recomputed. ``base``: the roster's
    and rulebook's names when a batch has gathered them once."""
    if not more:
        return report
    own = Names({e.employee_id: e.name for e in report.employees if e.name})
    names = own.merged(base if base is not None else finding_names(rulebook, roster))
    findings = _unique(list(report.findings) + [with_names(f, names) for f in more])
    return replace(report, findings=tuple(findings), status=status_of(findings))


def add_cross_file_findings(reports: list[FileReport], roster: Mapping[str, Employee] | None,
                            rulebook: Rulebook | None = None,
                            accepted: checks_team.AcceptedTeams | None = None) -> list[FileReport]:
    """The reports with the cross-file team findings added (see checks_team.cross_file_findings)."""
    files = [f for f in map(file_employees, reports) if f is not None]
    extra = checks_team.cross_file_findings(files, roster, accepted)
    base = finding_names(rulebook, roster) if extra else None  # the roster walked once for the batch
    return [with_cross_file_findings(r, extra.get(r.path, ()), roster, rulebook, base=base) for r in reports]
