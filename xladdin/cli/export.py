"""`kpisheet export --period P --format xlsx|csv --out FILE`: a flat table of a period for HR's own pivots."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from kpisheet.validators.errors import UsageError
from kpisheet.xladdin.cli.record_options import store_option
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.inputs import period_option

FORMATS = ("xlsx", "csv")


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export_command(
        period: str = typer.Option(..., "--period", help="考核期间 / period, e.g. 2026-Q4"),
        output: str = typer.Option("xlsx", "--format", help="xlsx | csv"),
        out: Optional[Path] = typer.Option(None, "--out", help="输出文件（默认 export-<期间>.<格式>）/ output file"),
        master: Optional[Path] = typer.Option(None, "--master", help="HR 汇总表（记录库在其旁边）/ the HR master"),
        store: Optional[str] = store_option(),
    ) -> None:
        """导出：一期的扁平明细表，供 HR 自行做透视表 / a flat table of a period for HR's own pivots."""
        from kpisheet.xladdin.master.export_service import export_period

        if output not in FORMATS:
            raise UsageError("--format 只能是 xlsx 或 csv", "--format must be xlsx or csv")
        if master is None and store is None:
            raise UsageError("请给出 --master 或 --store", "pass --master or --store")
        period = period_option(period)
        target = out or Path(f"export-{period}.{output}")
        rows = export_period(period, target, output, master=master, store=store)
        make_console().print(Text(f"✓ 已导出 {rows} 行 exported {rows} rows: {target}", style="green"))
