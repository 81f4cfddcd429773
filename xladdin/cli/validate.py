"""`kpisheet validate PATH...`: check submitted workbooks; a table or JSON; optional annotated copies.

Exit codes: 0 when no file has an error finding, 1 when any has, 2 for a
usage or I/O failure of the command itself (bad option, missing path, broken
rulebook or roster, unwritable annotation folder). Never a traceback.

When ``--roster`` is not given, a ``roster.xlsx`` (or ``花名册.xlsx``) beside
the first PATH or in the folder above it is used, and said so on stderr
(``--no-roster`` turns this off); the same goes for an ``approved_goals``
folder for ``--approved-goals``. HR's working folder keeps them there.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.text import Text

from kpisheet.xladdin.kit.files import make_output_folder
from kpisheet.validators.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from kpisheet.validators.summary import STATUS_WORDS
from kpisheet.xladdin.kit.console import make_console, write_json
from kpisheet.xladdin.kit.inputs import load_company_option, load_roster_option, period_option
from kpisheet.xladdin.kit.progress import counting
from kpisheet.xladdin.kit.signing_key import checking_key

FORMATS = ("table", "json")
ROSTER_NAMES = ("roster.xlsx", "花名册.xlsx")
APPROVED_NAMES = ("approved_goals", "已批准目标")
STATUS_STYLE = {"error": "bold red", "warning": "yellow", "ok": "green"}


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate(
        paths: List[Path] = typer.Argument(..., help="考核表文件或文件夹（递归查找）/ workbooks or folders (searched recursively)"),
        rules: Optional[Path] = typer.Option(
            None, "--rules", help="规则表 .yaml/.xlsx，或公司规则表（文件或文件夹：每个考核表按其部门的规则校验）；默认内置 / "
            "a rulebook, or a company's rulebooks (file or folder: each workbook checked by its department's rules); "
            "default: built in"),
        roster: Optional[Path] = typer.Option(None, "--roster", help="花名册 roster.xlsx"),
        no_roster: bool = typer.Option(False, "--no-roster", help="不查找花名册 / do not look for a roster"),
        period: Optional[str] = typer.Option(None, "--period", help="本次收取的考核期间，如 2026-Q1 / the period being collected"),
        phase: str = typer.Option("scoring", "--phase", help="goals（目标设定阶段）或 scoring（评分阶段）"),
        approved_goals: Optional[Path] = typer.Option(
            None, "--approved-goals", help="已批准的目标设定表所在文件夹 / folder of the approved goals workbooks"),
        output_format: str = typer.Option("table", "--format", help="table 或 json（输出到标准输出）"),
        annotate: Optional[Path] = typer.Option(
            None, "--annotate", help="把标注后的副本写入此文件夹（原文件不变）/ write annotated copies here"),
        jobs: Optional[int] = typer.Option(None, "--jobs", min=1, help="并行进程数（默认 CPU 核数）/ worker processes"),
        details: bool = typer.Option(False, "--details", help="列出每个问题（按员工分组），而不只是摘要 / list every "
                                     "finding, by employee, not only the summary", show_default=False),
        key: Optional[Path] = typer.Option(
            None, "--key", help="HR 签名密钥文件（默认 KPISHEET_KEY 或 ~/.kpisheet/kpisheet.key）/ HR's signing key"),
    ) -> None:
        """校验提交的考核表 / validate submitted team workbooks.

        先列出每个文件的摘要（各类问题的数量和前几个单元格），--details 列出全部问题。
        Each file's summary first (counts by code, the first cells); --details lists every finding.
        """
        err = make_console(stderr=True)
        settings = _inputs(paths, rules, roster, no_roster, period, phase, approved_goals, output_format,
                           annotate, err)
        settings["signing_key"], notice = checking_key(key)
        if notice:
            err.print(Text("! " + " / ".join(notice), style="yellow"), soft_wrap=True)
        reports = _run(paths, settings, jobs, err)
        annotated = _annotate(reports, annotate, jobs, err) if annotate else None
        if output_format == "json":
            write_json(to_json(reports))
        else:
            _table(reports, make_console(), details)
        if annotated is not None:
            _annotation_summary(annotated, annotate, err)
        raise typer.Exit(EXIT_FINDINGS if any(r.status == "error" for r in reports) else EXIT_OK)


# --- inputs -------------------------------------------------------------------------------


def _inputs(paths, rules, roster, no_roster, period, phase, approved, output_format, annotate, err) -> dict:
    from kpisheet.validators.validate import PHASES

    if output_format not in FORMATS:
        raise UsageError(f"--format 只能是 {' 或 '.join(FORMATS)}", f"--format must be one of {', '.join(FORMATS)}")
    if phase not in PHASES:
        raise UsageError(f"--phase 只能是 {' 或 '.join(PHASES)}", f"--phase must be one of {', '.join(PHASES)}")
    for path in paths:
        if not path.exists():
            raise UsageError(f"找不到 {path}", f"no such file or folder: {path}")
    company = load_company_option(rules)
    collecting = period_option(period)
    if roster is None and not no_roster:
        roster = _beside(paths, ROSTER_NAMES, Path.is_file)
        if roster is not None:
            err.print(Text(f"花名册 / roster: {roster}（自动找到；--roster 指定其他，--no-roster 不使用 / found beside "
                           "the submissions; --roster picks another, --no-roster skips it)", style="dim"))
    people = None
    if roster is not None and not no_roster:
        people = load_roster_option(roster, company)
    if approved is None and phase == "scoring":
        approved = _beside(paths, APPROVED_NAMES, Path.is_dir)
        if approved is not None:
            err.print(Text(f"已批准目标 / approved goals: {approved}（自动找到 / found beside the submissions）",
                           style="dim"))
    index = None
    if approved is not None:
        index = _approved(approved, company, err)
    if annotate is not None:
        _check_writable(annotate, paths)
    return {"rulebook": company, "roster": people, "period": collecting, "phase": phase, "approved": index}


def _beside(paths: list[Path], names: tuple[str, ...], kind) -> Path | None:
    """The first ``names`` entry in the first PATH's folder or the folder above it."""
    first = paths[0] if paths[0].is_dir() else paths[0].parent
    for folder in (first, first.parent):
        for name in names:
            candidate = folder / name
            if kind(candidate):
                return candidate
    return None


def _approved(folder: Path, company, err: Console):
    from kpisheet.validators.approved_goals import load_approved_goals

    if not folder.is_dir():
        raise UsageError(f"找不到已批准目标文件夹 {folder}", f"no such approved-goals folder: {folder}")
    load = load_approved_goals(folder, rulebook=company.first)  # read by the company's shared categories
    for path, why in load.problems.items():
        reason = why if isinstance(why, str) else "; ".join(f.message_zh for f in why)
        err.print(Text(f"! 已批准目标中的 {path} 未使用 / not used: {reason}", style="yellow"))
    return load.index


def _check_writable(folder: Path, paths: list[Path]) -> None:
    try:
        make_output_folder(folder)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UsageError(f"无法写入标注文件夹 {folder}（{error.strerror or error}）",
                           f"cannot write to the annotation folder {folder} ({error.strerror or error})") from None
    for path in paths:
        source = path if path.is_dir() else path.parent
        if folder.resolve() == source.resolve():
            raise UsageError("--annotate 文件夹不能是提交文件所在的文件夹（原文件不能被覆盖）",
                               "--annotate must not be the submissions' folder (originals are never overwritten)")


# --- running ------------------------------------------------------------------------------


def _run(paths: list[Path], settings: dict, jobs: int | None, err: Console):
    from kpisheet.validators.reading.file_search import scan_inbox
    from kpisheet.validators.validate import validate_paths

    try:
        scan = scan_inbox(paths)
    except OSError as error:
        raise UsageError(f"无法读取 {error.filename or ''}", f"cannot read {error.filename or error}") from None
    for path in scan.ignored:
        err.print(Text(f"跳过 / ignored: {path}（不是表格文件 / not a spreadsheet file）", style="dim"))
    total = len(scan.files)
    if not total:
        where = "、".join(map(str, paths))
        raise UsageError(f"在 {where} 中没有找到考核表文件（.xlsx）", f"no workbook (.xlsx) found in {where}")
    show = total > 1 and err.is_terminal
    with counting(err, "校验 validating", disable=not show) as progress:
        return validate_paths(paths, rulebook=settings["rulebook"], roster=settings["roster"],
                              period=settings["period"], phase=settings["phase"], approved_goals=settings["approved"],
                              jobs=jobs, progress=progress, signing_key=settings["signing_key"],
                              indicator_lines=False)  # findings are printed, never the lines


def _annotate(reports, folder: Path, jobs: int | None, err: Console) -> dict[str, str | None]:
    """Annotated copies of every readable workbook, made in worker processes; path -> copy (or None)."""
    from kpisheet.xladdin.annotate.batch import annotate_reports

    return annotate_reports(reports, folder, jobs=jobs)


# --- output -------------------------------------------------------------------------------


def to_json(reports) -> dict:
    """The stable JSON document of ``kpisheet validate --format json`` (docs/validate-json.md)."""
    from kpisheet import __version__

    files = []
    by_code: Counter = Counter()
    statuses: Counter = Counter()
    for r in reports:
        statuses[r.status] += 1
        by_code.update(f.code for f in r.findings)
        files.append({"path": r.path, "sha256": r.sha256, "status": r.status, "department": r.department,
                      "team": r.team, "period": r.period, "findings": [f.to_dict() for f in r.findings]})
    return {"kpisheet": __version__, "files": files,
            "summary": {"files": len(reports), "ok": statuses["ok"], "warning": statuses["warning"],
                        "error": statuses["error"], "by_code": dict(sorted(by_code.items()))}}


def _table(reports, out: Console, details: bool) -> None:
    """Per file: its status, counts by code and the first cells; with ``details`` every finding by employee."""
    from kpisheet.validators.summary import batch_lines

    for line in batch_lines(reports, details=details):
        out.print(Text(line, style=_line_style(line)), soft_wrap=True)


def _line_style(line: str) -> str:
    """A file's status line in its colour (the summary's words are plain text, safe on any console)."""
    for status, style in STATUS_STYLE.items():
        if line.startswith(f"[{STATUS_WORDS[status][0]} "):
            return style
    return ""


def _annotation_summary(annotated: dict[str, str | None], folder: Path, err: Console) -> None:
    made = sum(1 for v in annotated.values() if v and not v.startswith("!"))
    err.print(Text(f"已写入 {made} 个标注副本到 {folder} / {made} annotated copies written to {folder}", style="dim"))
    for path, copy in annotated.items():
        if copy is None:
            err.print(Text(f"  - {path}: 无法读取，未生成副本 / unreadable, no copy", style="yellow"))
        elif copy.startswith("!"):
            err.print(Text(f"  - {path}: 未能生成副本 / no copy: {copy[1:]}", style="yellow"))
