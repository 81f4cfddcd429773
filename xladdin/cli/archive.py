"""`kpisheet archive --before YEAR`: results past the retention period move to a dated archive file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from kpisheet.validators.errors import UsageError
from kpisheet.xladdin.cli.record_options import store_option
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.inputs import load_rules_option


def register(app: typer.Typer) -> None:
    @app.command("archive")
    def archive_command(
        before: int = typer.Option(..., "--before", min=1990, max=2100, help="归档此年之前的结果 / archive years before"),
        master: Optional[Path] = typer.Option(None, "--master", help="HR 汇总表（记录库在其旁边）/ the HR master"),
        store: Optional[str] = store_option(),
        out: Optional[Path] = typer.Option(None, "--out", help="归档文件夹（默认记录库旁的 archive）/ archive folder"),
        rules: Optional[Path] = typer.Option(None, "--rules", help="规则表：保存年限 / rulebook: retention years"),
    ) -> None:
        """归档：把超过保存期的结果移到带日期的归档文件 / move results past retention to a dated archive file."""
        from kpisheet.xladdin.record.archive import archive_before
        from kpisheet.xladdin.record.store import open_store

        if master is None and store is None:
            raise UsageError("请给出 --master 或 --store", "pass --master or --store")
        rulebook = load_rules_option(rules)
        opened = open_store(store, master=master, create=False)
        try:
            folder = out or ((opened.path.parent if opened.path else Path.cwd()) / "archive")
            result = archive_before(opened, before, folder, retention_years=rulebook.records.retention_years)
        finally:
            opened.dispose()
        console = make_console()
        if result.file is None:
            console.print(Text(f"✓ 没有 {before} 年之前的结果 / nothing before {before}", style="green"))
            return
        total = sum(result.rows.values())
        console.print(Text(f"✓ 已归档 {total} 行 archived {total} rows ({', '.join(result.periods + result.years)}) → "
                           f"{result.file}", style="green"))
        console.print(Text("  汇总表将在下次运行时按记录库重新生成 / the master is regenerated from the record on the "
                           "next run (or kpisheet master rebuild)"))
