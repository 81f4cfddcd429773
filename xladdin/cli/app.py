"""The `kpisheet` command line (typer + rich).

Each command group lives in its own ``cmd_*`` module with a ``register(app)``.
"""

from __future__ import annotations

import typer

from kpisheet import __version__

from kpisheet.xladdin.cli import (
    actuals as cmd_actuals, addin as cmd_addin, consolidate as cmd_consolidate, demo as cmd_demo,
    forms as cmd_forms, hr as cmd_hr, rules as cmd_rules, validate as cmd_validate,
)

app = typer.Typer(
    name="kpisheet",
    help="售后服务部员工绩效考核 — after-sales appraisal in Excel: rulebook, team workbooks, validation, consolidation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"kpisheet {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                      help="版本号 / print the version and exit")) -> None:
    """kpisheet: 绩效考核表格工具 / appraisal workbook tool."""


for _module in (cmd_rules, cmd_addin, cmd_forms, cmd_consolidate, cmd_hr, cmd_validate, cmd_demo, cmd_actuals):
    _module.register(app)
