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
from collections import ChainMap
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from kpisheet.validators.checks import (
    actuals as checks_actuals, error_values as checks_error_values, goals as checks_goals, scores as checks_scores,
    team as checks_team, template as checks_template,
)
from kpisheet.validators.findings import Finding, Names, make_finding, with_names
from kpisheet.validators.reading.guard import read_guarded
from kpisheet.validators.layout import ACTUALS
from kpisheet.validators.policy.outcomes import employee_outcomes, recompute
from kpisheet.validators.policy.periods import Period, parse_period
from kpisheet.validators.report import FileReport, status_of
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.reading.submission import REQUIRED_SHEETS, NotATeamWorkbook, read_team_workbook
from kpisheet.validators.reading.workbook_facts import WorkbookFacts, workbook_facts

# the sheets validation reads: the team workbook's own, plus the source-system record when prefilled
VALIDATED_SHEETS = REQUIRED_SHEETS + (ACTUALS,)

PHASES = ("goals", "scoring")

# (department, team, period) -> the approved goals of that workbook, see checks_goals.ApprovedGoals
ApprovedIndex = Mapping[tuple[str, str, str], checks_goals.ApprovedGoals]
RosterArg = Sequence[Employee] | Mapping[str, Employee] | None
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Settings:
    """Everything a check needs besides the file; picklable, sent to every worker."""

    rulebook: Rulebook
    roster: Mapping[str, Employee] | None = None
    period: Period | None = None
    phase: str = "scoring"
    approved: ApprovedIndex | None = None
    cross_file: bool = False  # the batch checks missing roster members across files
    fingerprint: str = ""  # the rulebook's, hashed once for every file
    # the roster's and the rulebook's names for findings, gathered once for every file (a roster of
    # thousands took a millisecond a file to walk)
    names: Names = field(default_factory=Names)

    @classmethod
    def make(cls, rulebook: Rulebook, roster: RosterArg = None, period: str | Period | None = None,
             phase: str = "scoring", approved: ApprovedIndex | None = None, cross_file: bool = False) -> Settings:
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {', '.join(PHASES)}, not {phase!r}")
        if roster is not None and not isinstance(roster, Mapping):
            roster = {e.employee_id: e for e in roster}
        return cls(rulebook, roster, parse_period(period) if period is not None else None, phase, approved,
                   cross_file, rulebook.fingerprint(), finding_names(rulebook, roster))


# --- values -------------------------------------------------------------------------------


def validate_values(values: dict[str, list[list]], *, source: str, rulebook: Rulebook, roster: RosterArg = None,
                    period: str | Period | None = None, phase: str = "scoring",
                    approved_goals: ApprovedIndex | None = None, calculated: bool = True,
                    properties: Mapping[str, str] | None = None, sha256: str | None = None,
                    modified: float | None = None, file_findings: Iterable[Finding] = (),
                    error_cells: checks_error_values.ErrorCells | None = None) -> FileReport:
    """Validate a workbook's cell values (sheet name -> rows from A1, as python-calamine or xlwings give them).

    ``calculated``: whether cached formula results are a spreadsheet program's
    (live values read from Excel are). ``properties``: the kpisheet custom
    document properties, when known. ``file_findings`` come first (e.g.
    file-has-macros from the guard). ``error_cells``: sheet -> cell -> the error
    value it shows (#DIV/0!), for cells a reader gives as empty.
    """
    settings = Settings.make(rulebook, roster, period, phase, approved_goals)
    facts = WorkbookFacts(calculated=calculated, properties=dict(properties or {}))
    return _validate(values, source, settings, facts, sha256, modified, tuple(file_findings), error_cells or {})


def _validate(values, source: str, settings: Settings, facts: WorkbookFacts, sha256, modified,
              file_findings: tuple[Finding, ...], error_cells: checks_error_values.ErrorCells) -> FileReport:
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
    identity_problems = checks_template.check_identity(book.identity, rulebook, settings.fingerprint)
    findings += identity_problems
    if any(f.code in ("template-unknown", "template-version") for f in identity_problems):
        return report(book)
    header_problems = checks_template.check_headers(values, rulebook)
    findings += header_problems
    findings += checks_template.check_meta_consistency(book.identity, facts.properties)
    findings += checks_team.check_period(book.identity, settings.period)
    if header_problems:
        return report(book)  # columns moved: every value below would be misread
    findings += checks_template.check_rows(book)
    shown_errors += checks_error_values.check_error_values(book, rulebook, error_cells)
    findings += shown_errors
    findings += checks_template.check_locked_targets(book, rulebook)
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
        findings += checks_team.check_distribution(book, recomputed, rulebook, settings.roster)
    cells = {}
    for s in book.summary:
        cells.setdefault(s.employee_id, s.address("employee_id"))
    extra = {"summary_cells": cells, "calculated": facts.calculated, "phase": settings.phase}
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


def _approved_for(settings: Settings, book) -> checks_goals.ApprovedGoals | None:
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


def validate_file(path: str | Path, *, rulebook: Rulebook, roster: RosterArg = None,
                  period: str | Period | None = None, phase: str = "scoring",
                  approved_goals: ApprovedIndex | str | Path | None = None) -> FileReport:
    """Guard, read and validate one file in this process (the guard keeps hostile files from the reader).

    ``approved_goals`` is a folder of approved goals-phase workbooks or an
    index made by :func:`kpisheet.validators.approved_goals.load_approved_goals`.
    """
    if isinstance(approved_goals, (str, Path)):
        from kpisheet.validators.approved_goals import load_approved_goals

        approved_goals = load_approved_goals(approved_goals, rulebook=rulebook).index
    settings = Settings.make(rulebook, roster, period, phase, approved_goals)
    return _validate_path(settings, str(path))


def _validate_path(settings: Settings, path: str) -> FileReport:
    """The per-file work of a batch: module level, so worker processes can run it."""
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
    report = _validate(values, path, settings, workbook_facts(package), digest, modified, tuple(verdict.findings),
                       package.error_cells)
    report.extra["kind"] = verdict.detected.kind
    return report


# --- batches ------------------------------------------------------------------------------

# A worker's settings, installed once when the worker starts rather than sent with every file.
# They are pickled once per batch: a roster of thousands takes a noticeable part of a second to
# pickle, and a batch starts a new worker every MAX_TASKS_PER_WORKER files.
_worker_settings: Settings | None = None


def _install_settings(pickled: bytes) -> None:
    global _worker_settings
    _worker_settings = pickle.loads(pickled)


def _validate_in_worker(path: str) -> FileReport:
    return _validate_path(_worker_settings, path)



# What a folder search takes as a possible workbook: anything a spreadsheet program may have saved, so a
# renamed or wrong-format file still gets its finding (file-not-xlsx, file-lock ...). Other files in an
# inbox (a notes.txt, a PDF) are listed as ignored, not as error files.
SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods", ".csv", ".et", ".ett"})


@dataclass(frozen=True)
class InboxScan:
    files: list[Path]     # to validate, each once, in a stable order
    ignored: list[Path]   # files in the folders that are not spreadsheets by name


def scan_inbox(paths: Iterable[str | Path]) -> InboxScan:
    """The files under ``paths`` (folders searched recursively); a file named directly is always taken.

    Raises FileNotFoundError naming the first path that does not exist.
    """
    found: list[Path] = []
    ignored: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = sorted((p for p in path.rglob("*") if p.is_file()), key=lambda p: p.as_posix())
        elif path.exists():
            candidates = [path]
        else:
            raise FileNotFoundError(f"找不到路径 / no such file or folder: {path}")
        for candidate in candidates:
            key = candidate.resolve()
            if key in seen:
                continue
            seen.add(key)
            if path.is_dir() and candidate.suffix.lower() not in SPREADSHEET_SUFFIXES:
                ignored.append(candidate)
            else:
                found.append(candidate)
    return InboxScan(found, ignored)


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files of :func:`scan_inbox` to validate."""
    return scan_inbox(paths).files


def validate_paths(paths: Iterable[str | Path], *, rulebook: Rulebook, roster: RosterArg = None,
                   period: str | Period | None = None, phase: str = "scoring",
                   approved_goals: ApprovedIndex | str | Path | None = None, jobs: int | None = None,
                   progress: Progress | None = None) -> list[FileReport]:
    """Validate every file under ``paths`` in worker processes; reports in file order.

    Cross-file checks follow the per-file ones: an employee in two files of
    one period, and roster members missing from every file of their team.
    ``progress(done, total)`` is called in this process after each file.
    """
    files = find_files(paths)
    if isinstance(approved_goals, (str, Path)):
        from kpisheet.validators.approved_goals import load_approved_goals

        approved_goals = load_approved_goals(approved_goals, rulebook=rulebook, jobs=jobs).index
    settings = Settings.make(rulebook, roster, period, phase, approved_goals, cross_file=True)
    total = len(files)
    if progress is not None:
        progress(0, total)
    reports: dict[str, FileReport] = {}
    done = 0
    if files:
        from kpisheet.validators.reading.safe_read import WorkerFailure, run_isolated

        for path, outcome in run_isolated(_validate_in_worker, files, jobs, initializer=_install_settings,
                                          initargs=(pickle.dumps(settings, pickle.HIGHEST_PROTOCOL),)):
            if isinstance(outcome, WorkerFailure):
                outcome = FileReport(str(path), None, status_of(outcome.findings), findings=outcome.findings,
                                     extra={"worker": outcome.detail})
            reports[str(path)] = outcome
            done += 1
            if progress is not None:
                progress(done, total)
    ordered = [reports[str(path)] for path in files]
    return add_cross_file_findings(ordered, settings.roster, rulebook)


def add_cross_file_findings(reports: list[FileReport], roster: Mapping[str, Employee] | None,
                            rulebook: Rulebook | None = None) -> list[FileReport]:
    """The reports with the cross-file team findings added (see checks_team.cross_file_findings)."""
    files = [checks_team.FileEmployees(r.path, r.period, r.department, r.team, r.extra.get("summary_cells", {}))
             for r in reports if "summary_cells" in r.extra]
    extra = checks_team.cross_file_findings(files, roster)
    out = []
    base: Names | None = None  # the roster's names, gathered once for the batch
    for r in reports:
        more = extra.get(r.path)
        if more:
            # named as the file's own findings are: the names the file gave its people, else the roster's
            base = base or finding_names(rulebook, roster)
            names = Names(ChainMap({e.employee_id: e.name for e in r.employees if e.name}, base.employees),
                          base.indicators)
            more = [with_names(f, names) for f in more]
            findings = _unique(list(r.findings) + more)
            r = replace(r, findings=tuple(findings), status=status_of(findings))
        out.append(r)
    return out

