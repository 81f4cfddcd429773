"""`kpisheet status [--period P] [--reminders DIR]`: per team, submitted, accepted, rejected (why) or missing.

Exit 0 when every team of the period is accepted, 1 otherwise (and when the
teams a period expects are unknown: consolidate once with --roster, or give
--roster here); 2 usage or I/O.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from kpisheet.validators.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from kpisheet.xladdin.cli.record_options import store_option
from kpisheet.xladdin.kit.console import make_console, write_json
from kpisheet.xladdin.kit.inputs import load_inputs


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status_command(
        master: Optional[Path] = typer.Option(None, "--master", help="HR 汇总表（记录库在其旁边）/ the HR master"),
        store: Optional[str] = store_option(),
        period: Optional[str] = typer.Option(None, "--period", help="考核期间（默认最新）/ period (default: the newest)"),
        roster: Optional[Path] = typer.Option(None, "--roster", help="花名册：本期应提交的团队 / roster: the teams expected"),
        rules: Optional[Path] = typer.Option(None, "--rules", help="规则表 / rulebook (to read --roster)"),
        reminders: Optional[Path] = typer.Option(None, "--reminders",
                                                 help="为未提交或被拒绝的团队各写一份提醒 / write one reminder per team "
                                                      "not yet accepted"),
        output: str = typer.Option("table", "--format", help="table | json"),
    ) -> None:
        """提交情况：各团队已提交、已接受、被拒绝（原因）或未提交 / the submission tracker."""
        from kpisheet.xladdin.master.submission_status import submission_status, write_reminders

        if master is None and store is None:
            raise UsageError("请给出 --master 或 --store", "pass --master or --store")
        if output not in ("table", "json"):
            raise UsageError("--format 只能是 table 或 json", "--format must be table or json")
        rulebook, people, period = load_inputs(rules, roster, period)
        report = submission_status(master, store=store, period=period, roster=people)
        written = write_reminders(report, reminders) if reminders is not None else []
        if output == "json":
            write_json(report.to_dict() | {"reminders": [str(p) for p in written]})
        else:
            _print(report, written)
        raise typer.Exit(EXIT_OK if report.complete else EXIT_FINDINGS)


def _print(report, written) -> None:
    console = make_console()
    deadline = report.deadline.isoformat() if report.deadline else "—"
    table = Table(title=f"提交情况 Submissions {report.period}（截止 deadline {deadline}）", title_justify="left")
    for head in ("部门 Department", "团队 Team", "经理 Manager", "状态 Status", "最后提交 Last", "原因 Why"):
        table.add_column(head, overflow="fold")
    for team in report.teams:
        last = team.last_time.isoformat(" ") if team.last_time else "—"
        style = {"accepted": "green", "rejected": "red", "missing": "yellow"}.get(team.state)
        table.add_row(team.department, team.team, team.manager_name or "—", Text(team.shown, style=style), last,
                      Text(team.why or ""))
    console.print(table)
    if not report.roster_known:
        console.print(Text("本期应提交的团队未知：只列出已提交的团队。请用 --roster 给出花名册 / the teams this period "
                           "expects are unknown: only teams that sent a file are listed; pass --roster",
                           style="yellow"))
    missing = report.missing()
    if missing:
        names = "、".join(f"{t.department}/{t.team}" for t in missing)
        console.print(Text(f"✗ {len(missing)} 个团队未被接受 / {len(missing)} team(s) not accepted: {names}",
                           style="red"))
    else:
        console.print(Text("✓ 全部团队已接受 / every team is accepted", style="green"))
    for path in written:
        console.print(Text(f"  提醒 reminder: {path}"))
