"""The `kpisheet` command line (typer + rich).

Each command group lives in its own module of this package with a
``register(app)``; :mod:`kpisheet.xladdin.cli.base` gives them one error
policy (one bilingual line and an exit code, never a traceback) and lists
them in the order of a cycle.
"""

from __future__ import annotations

import typer

from kpisheet import __version__
from kpisheet.xladdin.cli import actuals, addin, consolidate, demo, forms, hr, key, rules, validate
from kpisheet.xladdin.cli import archive, export, master_cmd, status, store
from kpisheet.xladdin.cli.base import KpisheetGroup

app = typer.Typer(
    name="kpisheet",
    cls=KpisheetGroup,
    help="售后服务部员工绩效考核 — after-sales appraisal in Excel: rulebook, team workbooks, validation, consolidation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: typer's rich help cuts Chinese lines with '…' at 80 columns and shows flags as '<bool>'
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"kpisheet {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                      help="版本号 / print the version and exit")) -> None:
    """kpisheet: 绩效考核表格工具 / appraisal workbook tool."""


for _module in (rules, forms, actuals, validate, consolidate, status, hr, master_cmd, export, archive, store, key, addin,
                demo):
    _module.register(app)
