"""`kpisheet rules check|export` (to be completed by the foundation work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    rules = typer.Typer(help="规则表 / rulebook: check or export", no_args_is_help=True)
    app.add_typer(rules, name="rules")

    @rules.command("check")
    def check() -> None:
        """检查规则表 / check a rulebook."""
