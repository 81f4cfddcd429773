"""The `kpisheet` command line (typer + rich).

Each command group lives in its own ``cmd_*`` module with a ``register(app)``.
"""

from __future__ import annotations

import typer

from . import cmd_actuals, cmd_addin, cmd_consolidate, cmd_demo, cmd_forms, cmd_hr, cmd_rules, cmd_validate

app = typer.Typer(
    name="kpisheet",
    help="售后服务部员工绩效考核 — after-sales appraisal in Excel: rulebook, team workbooks, validation, consolidation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """kpisheet: 绩效考核表格工具 / appraisal workbook tool."""


for _module in (cmd_rules, cmd_addin, cmd_forms, cmd_consolidate, cmd_hr, cmd_validate, cmd_demo, cmd_actuals):
    _module.register(app)
