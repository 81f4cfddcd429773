"""`kpisheet consolidate INBOX... --master FILE`: validate submissions and merge them into HR's master.

Exit codes: 0 every file accepted; 1 some files rejected (the others are
merged); 2 usage or I/O failure, including a master that is open in a
spreadsheet program or held by another run (the master is then untouched).
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from kpisheet.xladdin.kit.inputs import UsageProblem, load_roster_option, load_rules_option, period_option

EXIT_REJECTED, EXIT_USAGE = 1, 2
FORMATS = ("table", "json")


def _stderr() -> Console:
    return Console(stderr=True, width=None if os.isatty(2) else 200, highlight=False)


def _stdout() -> Console:
    return Console(width=None if os.isatty(1) else 200, highlight=False)


def _fail(zh: str, en: str, details: list[str] | None = None) -> typer.Exit:
    console = _stderr()
    console.print(Text(f"✗ {zh} / {en}", style="bold red"))
    for line in details or []:
        console.print(Text(f"  {line}"))
    return typer.Exit(EXIT_USAGE)


def _load_inputs(rules: Path | None, roster: Path | None, period: str | None):
    try:
        rulebook = load_rules_option(rules)
        people = load_roster_option(roster, rulebook) if roster is not None else None
        return rulebook, people, period_option(period)
    except UsageProblem as problem:
        raise _fail(problem.zh, problem.en, problem.details) from None


def _print_summary(result) -> None:
    console = _stdout()
    data = result.to_dict()
    counts = data["counts"]
    files = Table(title=f"汇总结果 Consolidation: {result.master}", title_justify="left")
    for head in ("文件 Files", "接受 accepted", "未变 unchanged", "拒绝 rejected", "被替代 superseded",
                 "源文件缺失 missing"):
        files.add_column(head, justify="right")
    files.add_row(str(counts["files"]), str(counts["files_accepted"]), str(counts["files_unchanged"]),
                  str(counts["files_rejected"]), str(counts["files_superseded"]), str(counts["files_missing"]))
    console.print(files)
    people = Table(title="员工 Employees", title_justify="left")
    for head in ("新增 added", "更新 updated", "未变 unchanged", "标记缺失 marked missing", "待复核 review"):
        people.add_column(head, justify="right")
    people.add_row(*(str(counts[f"employees_{k}"]) for k in ("added", "updated", "unchanged", "marked_missing",
                                                               "review")))
    console.print(people)
    if data["rejected"]:
        rejected = Table(title="被拒绝的文件 Rejected files (见汇总表“问题”工作表 / see sheet 问题)", title_justify="left")
        rejected.add_column("文件 File", overflow="fold")
        rejected.add_column("错误 Errors", justify="right")
        rejected.add_column("代码 Codes", overflow="fold")
        for item in data["rejected"]:
            rejected.add_row(Text(item["path"]), str(item["errors"]), Text(", ".join(item["codes"])))
        console.print(rejected)
    if data["over_quota"]:
        quota = Table(title="超出强制分布配额 Over the distribution quotas", title_justify="left")
        quota.add_column("期间 部门/团队 Period department/team: 检查 check", overflow="fold")
        for line in data["over_quota"]:
            quota.add_row(Text(line))
        console.print(quota)
    if result.written:
        where = f"；备份 backup: {result.backup}" if result.backup else ""
        console.print(Text(f"✓ 已写入汇总表 master written: {result.master}{where}", style="green"))
    else:
        console.print(Text(f"✓ 汇总表无变化，未改写 / nothing changed, master left as it was: {result.master}",
                           style="green"))


def register(app: typer.Typer) -> None:
    @app.command("consolidate")
    def consolidate_command(
        inbox: List[Path] = typer.Argument(..., help="收件箱：提交的表格文件或文件夹 / submitted workbooks or folders"),
        master: Path = typer.Option(..., "--master", help="HR 汇总表（不存在则新建）/ the HR master (created if absent)"),
        rules: Optional[Path] = typer.Option(None, "--rules", help="规则表 .yaml/.xlsx（默认内置）/ rulebook"),
        roster: Optional[Path] = typer.Option(None, "--roster", help="花名册 roster.xlsx"),
        period: Optional[str] = typer.Option(None, "--period", help="考核期间，如 2026-03 / period, e.g. 2026-Q1"),
        jobs: Optional[int] = typer.Option(None, "--jobs", min=1, help="并行进程数（默认CPU核数）/ worker processes"),
        output: str = typer.Option("table", "--format", help="table | json"),
    ) -> None:
        """汇总：校验收件箱并合并到 HR 汇总表 / validate an inbox and merge it into the HR master."""
        if output not in FORMATS:
            raise _fail(f"--format 只能是 {' 或 '.join(FORMATS)}", f"--format must be one of {', '.join(FORMATS)}")
        for path in inbox:
            if not path.exists():
                raise _fail(f"找不到收件箱路径 {path}", f"no such inbox path: {path}")
        if master.is_dir():
            raise _fail(f"--master 是文件夹：{master}；请给出 .xlsx 文件名", f"--master is a folder: {master}")
        if master.suffix.lower() != ".xlsx":
            raise _fail(f"汇总表应为 .xlsx 文件：{master}", f"the master must be an .xlsx file: {master}")
        if not master.parent.is_dir():
            raise _fail(f"汇总表所在文件夹不存在：{master.parent}", f"the master's folder does not exist: {master.parent}")
        rulebook, people, period = _load_inputs(rules, roster, period)
        result = _run(inbox, master, rulebook, people, period, jobs, output)
        if output == "json":
            sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
        else:
            _print_summary(result)
        raise typer.Exit(result.exit_code)


def _run(inbox, master, rulebook, people, period, jobs, output):
    from kpisheet.xladdin.master.consolidate import consolidate
    from kpisheet.xladdin.master.io import MasterReadError
    from kpisheet.xladdin.master.safety import MasterBusy

    try:
        if output != "table":
            return consolidate(inbox, master, rulebook=rulebook, roster=people, period=period, jobs=jobs)
        with _progress_bar() as progress:
            return consolidate(inbox, master, rulebook=rulebook, roster=people, period=period, jobs=jobs,
                               progress=progress)
    except (MasterBusy, MasterReadError) as error:
        raise _fail(error.message_zh, error.message_en) from None
    except ImportError as error:
        raise _fail(f"校验引擎不可用：{error}", f"the validation engine is not available: {error}") from None
    except OSError as error:
        raise _fail(f"读写文件失败：{error}；汇总表未改动", f"file I/O failed: {error}; the master is untouched") from None
    except Exception as error:  # never a traceback for HR; the message names what broke
        if os.environ.get("KPISHEET_DEBUG"):
            raise
        raise _fail(f"内部错误：{type(error).__name__}: {error}；汇总表未改动",
                    f"internal error: {type(error).__name__}: {error}; the master is untouched") from None



@contextmanager
def _progress_bar():
    """A rich progress bar on stderr, fed by validation's progress(done, total)."""
    with Progress(TextColumn("校验 validating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=_stderr(), transient=True) as bar:
        task = bar.add_task("validate", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
