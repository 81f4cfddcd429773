"""`kpisheet actuals check FILE...`: check system exports of actual values before they prefill workbooks.

Exit codes: 0 every file can be imported; 1 problems (each listed with file,
row and column); 2 usage or I/O (no such rulebook/roster, bad period).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table
from rich.text import Text

from kpisheet.validators.actuals import ActualsProblem, actual_files, check_actuals
from kpisheet.validators.errors import EXIT_FINDINGS, UsageError
from kpisheet.xladdin.cli.base import KpisheetGroup
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.inputs import load_roster_option, load_rules_option, period_option


def problems_table(problems: list[ActualsProblem], title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True)
    for header in ("文件 File", "行 Row", "列 Column", "问题 Problem", "怎么改 Fix"):
        table.add_column(header, overflow="fold")
    for p in problems:
        table.add_row(Text(Path(p.file).name), "" if p.row is None else str(p.row), Text(p.column),
                      Text(f"{p.message_zh}\n{p.message_en}"), Text(f"{p.hint_zh}\n{p.hint_en}"))
    return table


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="系统导出的实际值 / actual values exported by source systems", no_args_is_help=True, cls=KpisheetGroup)
    app.add_typer(group, name="actuals")

    @group.command("check")
    def check(
        files: List[Path] = typer.Argument(..., help="实际值文件 .csv/.xlsx（长表或宽表）或文件夹 / actuals files or folders", show_default=False),
        rules: Optional[Path] = typer.Option(None, "--rules", help="规则表 rulebook；默认内置 / default: built-in",
                                             show_default=False),
        roster: Optional[Path] = typer.Option(None, "--roster", help="花名册：核对工号与岗位 / roster, to check IDs and roles",
                                              show_default=False),
        period: Optional[str] = typer.Option(None, "--period", help="考核期间，如 2026-Q4 / appraisal period",
                                             show_default=False),
    ) -> None:
        """检查实际值导入文件，列出每个问题的文件、行和列 / check actuals files: every problem with file, row, column.

        退出码 exit code: 0 可导入 importable; 1 有问题 problems; 2 用法或读写错误 usage or I/O.
        """
        console = make_console()
        canonical = period_option(period)
        rulebook = load_rules_option(rules)
        employees = load_roster_option(roster, rulebook) if roster is not None else None
        if employees is None:
            console.print("未给出花名册：不核对工号和岗位 / no roster given: employee IDs and roles are not checked")
        readable, skipped = actual_files(files)
        for path in skipped:
            console.print(f"跳过 skipped {path}：不是 .csv/.xlsx 数据文件 / not a .csv/.xlsx data file")
        if not readable:
            raise UsageError("没有可检查的 .csv/.xlsx 文件", "no .csv/.xlsx file to check")
        actuals, problems = check_actuals(readable, rulebook, employees, canonical)
        if problems:
            console.print(problems_table(problems, f"实际值有 {len(problems)} 个问题，未导入任何数据 / "
                                                   f"{len(problems)} problem(s); nothing imported"))
            raise typer.Exit(EXIT_FINDINGS)
        console.print(Text(f"✓ {len(readable)} 个文件、{len(actuals)} 个实际值可以导入 / "
                           f"{len(readable)} file(s), {len(actuals)} value(s) can be imported", style="bold green"))
