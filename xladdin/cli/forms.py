"""`kpisheet forms`: one team workbook per team of the roster.

Exit codes, as for every kpisheet command: 0 written; 1 the roster or the
rulebook has problems (each listed with its sheet!cell or key); 2 usage or
I/O (no such file, bad period, existing files without --force, cannot write).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from kpisheet.validators.actuals import Actuals, ActualsError, actual_files, read_actuals
from kpisheet.validators.policy.periods import PeriodError, parse_period
from kpisheet.validators.roster import Employee, RosterError, read_roster, teams
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.load import RulebookError, load_rulebook
from kpisheet.workbook_templates.plan import TeamPlanError
from kpisheet.workbook_templates.team_workbook import build_team_workbook, team_file_name

EXIT_PROBLEMS, EXIT_USAGE = 1, 2


def _console() -> Console:
    return Console(width=None if os.isatty(1) else 200, highlight=False)


def _fail(console: Console, zh: str, en: str, code: int = EXIT_USAGE) -> typer.Exit:
    console.print(Text(f"✗ {zh} / {en}", style="bold red"))
    return typer.Exit(code)


def _problems(console: Console, title: str, rows: list[tuple[str, str, str]]) -> typer.Exit:
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("位置 Location", style="cyan", overflow="fold")
    table.add_column("问题 Problem", overflow="fold")
    table.add_column("怎么改 Fix", overflow="fold")
    for where, what, fix in rows:
        table.add_row(Text(where), Text(what), Text(fix))
    console.print(table)
    return typer.Exit(EXIT_PROBLEMS)


def _existing_file(console: Console, path: Path, what_zh: str, what_en: str) -> None:
    if not path.is_file():
        raise _fail(console, f"找不到{what_zh}文件：{path}", f"no such {what_en} file: {path}")


def _load_rules(console: Console, path: Path | None) -> Rulebook:
    if path is not None:
        _existing_file(console, path, "规则表", "rulebook")
    try:
        return load_rulebook(path)
    except RulebookError as error:
        raise _problems(console, f"规则表有 {len(error.problems)} 个问题 / rulebook problems: {error.source}",
                        [(p.where, f"{p.message_zh}\n{p.message_en}", "") for p in error.problems]) from None


def _load_roster(console: Console, path: Path, rulebook: Rulebook) -> list[Employee]:
    _existing_file(console, path, "花名册", "roster")
    try:
        return read_roster(path, rulebook)
    except RosterError as error:
        raise _problems(console, f"花名册有 {len(error.problems)} 个问题 / roster problems: {error.source}",
                        [(p.location, f"{p.message_zh}\n{p.message_en}", f"{p.hint_zh}\n{p.hint_en}")
                         for p in error.problems]) from None


def _write(path: Path, write) -> None:
    """Build beside the target, then rename: an interrupted run leaves no half workbook."""
    handle, temp = tempfile.mkstemp(prefix=".kpisheet-", suffix=".xlsx", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes owner-only files; managers share these
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _load_actuals(console: Console, paths: list[Path], rulebook: Rulebook, employees: list[Employee],
                  period: str) -> Actuals | None:
    if not paths:
        return None
    files, _ = actual_files(paths)
    if not files:
        raise _fail(console, f"--actuals 中没有 .csv/.xlsx 文件：{', '.join(map(str, paths))}",
                    f"no .csv/.xlsx file in --actuals: {', '.join(map(str, paths))}")
    try:
        return read_actuals(files, rulebook, employees, period)
    except ActualsError as error:
        raise _problems(console, f"实际值文件有 {len(error.problems)} 个问题，未生成任何考核表 / "
                                 f"{len(error.problems)} problem(s) in the actuals; no workbook written",
                        [(p.location, f"{p.message_zh}\n{p.message_en}", f"{p.hint_zh}\n{p.hint_en}")
                         for p in error.problems]) from None


def make_forms(roster: Path, period: str, out: Path, rules: Path | None = None, deadline: dt.date | None = None,
               force: bool = False, console: Console | None = None,
               actuals: list[Path] | None = None) -> list[Path]:
    """The command's work, callable from other faces (add-in, demo); raises typer.Exit on failure.

    ``actuals``: files exported by source systems (see kpisheet.validators.actuals) whose
    values prefill 实际值; any problem in them stops the run before anything is written.
    """
    console = console or _console()
    try:
        canonical = str(parse_period(period))
    except PeriodError as error:
        raise _fail(console, error.message_zh, error.message_en) from None
    rulebook = _load_rules(console, rules)
    employees = _load_roster(console, roster, rulebook)
    imported = _load_actuals(console, list(actuals or []), rulebook, employees, canonical)
    groups = teams(employees)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _fail(console, f"无法创建输出目录 {out}：{error.strerror or error}",
                    f"cannot create the output folder {out}: {error.strerror or error}") from None
    targets = {key: out / team_file_name(canonical, *key) for key in groups}
    clashes = [p for p in targets.values() if p.exists()]
    if clashes and not force:
        names = "、".join(p.name for p in clashes[:3]) + (" …" if len(clashes) > 3 else "")
        raise _fail(console, f"{len(clashes)} 个文件已存在（{names}），可能已有人填写；确认要覆盖请加 --force",
                    f"{len(clashes)} file(s) already exist and may hold a manager's entries; add --force to overwrite")
    locked = [p for p in targets.values() if (p.parent / f"~${p.name}").exists()]
    if locked:
        raise _fail(console, f"{locked[0].name} 正在 Excel 中打开，请先关闭", f"{locked[0].name} is open in Excel; close it")
    written = []
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=False)
    with progress:
        task = progress.add_task("生成考核表 writing workbooks", total=len(groups))
        for (department, team), members in groups.items():
            target = targets[(department, team)]
            progress.update(task, description=f"{team}（{len(members)} 人）")
            try:
                _write(target, lambda temp: build_team_workbook(temp, rulebook, canonical, department, team, members,
                                                                deadline=deadline, actuals=imported))
            except TeamPlanError as error:
                raise _fail(console, str(error), f"cannot lay out team {team}", EXIT_PROBLEMS) from None
            except OSError as error:
                raise _fail(console, f"无法写入 {target}：{error.strerror or error}",
                            f"cannot write {target}: {error.strerror or error}") from None
            written.append(target)
            progress.advance(task)
        progress.update(task, description="完成 done")
    table = Table(title=f"已生成 {len(written)} 个团队考核表 / {len(written)} team workbook(s) in {out}",
                  title_justify="left")
    for header in ("部门 Department", "团队 Team", "人数 People", "文件 File"):
        table.add_column(header)
    for (department, team), members in groups.items():
        table.add_row(department, team, str(len(members)), targets[(department, team)].name)
    console.print(table)
    return written


def register(app: typer.Typer) -> None:
    @app.command("forms")
    def forms(
        roster: Path = typer.Option(..., "--roster", help="花名册 roster.xlsx", show_default=False),
        period: str = typer.Option(..., "--period",
                                   help="考核期间 period: 2026-Q4, 2026-11, 2026-H2, 2026（或 2026年第4季度）",
                                   show_default=False),
        out: Path = typer.Option(..., "--out", help="输出目录 output folder", show_default=False),
        rules: Optional[Path] = typer.Option(None, "--rules", help="规则表 rulebook .yaml/.xlsx；默认内置 / default: built-in",
                                             show_default=False),
        deadline: Optional[dt.datetime] = typer.Option(
            None, "--deadline", formats=["%Y-%m-%d"], help="提交截止日期，写入填写说明 / submission deadline, YYYY-MM-DD",
            show_default=False),
        force: bool = typer.Option(False, "--force", help="覆盖已有的考核表 / overwrite existing workbooks"),
        actuals: Optional[list[Path]] = typer.Option(
            None, "--actuals", help="系统导出的实际值文件（可多次给出），预填“实际值” / actuals exported by source "
            "systems (a file or folder, repeatable), prefilled into 实际值", show_default=False),
    ) -> None:
        """按花名册为每个团队生成考核表 / write one team workbook per team of the roster.

        退出码 exit code: 0 已生成 written; 1 花名册或规则表有问题 roster or rulebook problems (listed with
        their cells); 2 用法或读写错误 usage or I/O (missing file, bad period, files exist without --force).
        """
        make_forms(roster, period, out, rules, deadline.date() if deadline else None, force, actuals=actuals)
