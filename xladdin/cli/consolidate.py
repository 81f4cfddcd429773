"""`kpisheet consolidate INBOX... --master FILE`: validate submissions and merge them into HR's master.

Exit codes: 0 every file accepted; 1 some files rejected (the others are
merged); 2 usage or I/O failure, including a master that is open in a
spreadsheet program or held by another run (the master is then untouched).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpisheet.validators.errors import UsageError
from kpisheet.xladdin.cli.record_options import (
    department_option, discard_option, scope_choice, store_option, year_option,
)
from kpisheet.xladdin.kit.console import make_console, write_json
from kpisheet.xladdin.kit.inputs import department_names, load_company_inputs
from kpisheet.xladdin.kit.progress import counting
from kpisheet.xladdin.kit.signing_key import checking_key

FORMATS = ("table", "json")


def check_master_option(master: Path) -> None:
    if master.is_dir():
        raise UsageError(f"--master 是文件夹：{master}；请给出 .xlsx 文件名", f"--master is a folder: {master}")
    if master.suffix.lower() != ".xlsx":
        raise UsageError(f"汇总表应为 .xlsx 文件：{master}", f"the master must be an .xlsx file: {master}")
    if not master.parent.is_dir():
        raise UsageError(f"汇总表所在文件夹不存在：{master.parent}", f"the master's folder does not exist: {master.parent}")


def _print_summary(result, console: Console) -> None:
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
        rules: Optional[Path] = typer.Option(
            None, "--rules", help="规则表 .yaml/.xlsx（默认内置），或公司规则表（文件或文件夹：每个文件按其部门的规则校验，汇总到一张"
            "汇总表）/ a rulebook, or a company's rulebooks (each file checked by its department's rules, one master)"),
        roster: Optional[Path] = typer.Option(None, "--roster", help="花名册 roster.xlsx"),
        period: Optional[str] = typer.Option(None, "--period", help="考核期间，如 2026-03 / period, e.g. 2026-Q1"),
        jobs: Optional[int] = typer.Option(None, "--jobs", min=1, help="并行进程数（默认CPU核数）/ worker processes"),
        output: str = typer.Option("table", "--format", help="table | json"),
        key: Optional[Path] = typer.Option(
            None, "--key", help="HR 签名密钥文件（默认 KPISHEET_KEY 或 ~/.kpisheet/kpisheet.key）/ HR's signing key"),
        store: Optional[str] = store_option(),
        year: Optional[int] = year_option(),
        accept_older: bool = typer.Option(False, "--accept-older",
                                          help="接受比已接受版本更旧的文件（记入日志）/ take a file older than the accepted "
                                               "one (logged)"),
        discard_foreign: bool = discard_option(),
        department: Optional[List[str]] = department_option(),
    ) -> None:
        """汇总：校验收件箱并合并到 HR 汇总表 / validate an inbox and merge it into the HR master."""
        from kpisheet.xladdin.master.consolidate import consolidate

        if output not in FORMATS:
            raise UsageError(f"--format 只能是 {' 或 '.join(FORMATS)}", f"--format must be one of {', '.join(FORMATS)}")
        for path in inbox:
            if not path.exists():
                raise UsageError(f"找不到收件箱路径 {path}", f"no such inbox path: {path}")
        check_master_option(master)
        rulebook, people, period = load_company_inputs(rules, roster, period)
        departments = department_names(rulebook, department)
        signing_key, notice = checking_key(key)
        if notice:
            make_console(stderr=True).print(Text("! " + " / ".join(notice), style="yellow"), soft_wrap=True)
        options = {"store": store, "accept_older": accept_older, "discard_foreign": discard_foreign,
                   "scope": scope_choice(year, None, departments), "signing_key": signing_key}
        if output == "json":
            result = consolidate(inbox, master, rulebook=rulebook, roster=people, period=period, jobs=jobs, **options)
            write_json(result.to_dict())
        else:
            with counting(make_console(stderr=True), "校验 validating") as progress:
                result = consolidate(inbox, master, rulebook=rulebook, roster=people, period=period, jobs=jobs,
                                     progress=progress, **options)
            _print_summary(result, make_console())
        raise typer.Exit(result.exit_code)
