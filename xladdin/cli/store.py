"""`kpisheet store check|backup`: the cycle record's health, and a consistent copy of an SQLite record.

``check`` exits 0 when SQLite's integrity check passes and the audit log's
hash chain holds, 1 when an audit entry was removed or edited, 2 when the
record cannot be read (damaged, foreign).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from kpisheet.validators.errors import EXIT_FINDINGS, UsageError
from kpisheet.xladdin.cli.record_options import store_option
from kpisheet.xladdin.kit.console import make_console, write_json


def _open(master: Path | None, store: str | None):
    from kpisheet.xladdin.record.store import open_store

    if master is None and store is None:
        raise UsageError("请给出 --master 或 --store", "pass --master or --store")
    return open_store(store, master=master, create=False)


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="考核记录库 / the cycle record", no_args_is_help=True)

    @group.command("check")
    def check_command(
        master: Optional[Path] = typer.Option(None, "--master", help="HR 汇总表（记录库在其旁边）/ the HR master"),
        store: Optional[str] = store_option(),
        output: str = typer.Option("table", "--format", help="table | json"),
    ) -> None:
        """检查记录库：完整性与审计日志哈希链 / integrity and the audit log's hash chain."""
        from kpisheet.xladdin.record.check import check_store

        opened = _open(master, store)
        try:
            result = check_store(opened)
        finally:
            opened.dispose()
        if output == "json":
            write_json(result.to_dict())
        else:
            console = make_console()
            table = Table(title=f"考核记录库 Cycle record: {result.store}", title_justify="left")
            table.add_column("项目 Item")
            table.add_column("结果 Result", overflow="fold")
            data = result.to_dict()
            table.add_row("类型 kind", result.kind)
            table.add_row("结构版本 schema", str(result.schema_version))
            table.add_row("记录版本 generation", str(result.generation))
            table.add_row("完整性 integrity", "; ".join(data["integrity"]))
            table.add_row("审计日志 audit log", f"{result.audit_entries} 条 entries: {data['audit_chain']}")
            for name, count in result.counts.items():
                table.add_row(f"  {name}", str(count))
            console.print(table)
            style = "green" if result.ok else "red"
            console.print(Text("✓ 记录库完好 / the record is sound" if result.ok else
                               "✗ 记录库有问题 / the record has problems", style=style))
        if result.integrity:
            from kpisheet.xladdin.record.errors import StoreDamaged

            raise StoreDamaged(f"考核记录库 {result.store} 未通过完整性检查：{'; '.join(result.integrity[:3])}",
                               f"the record {result.store} fails its integrity check: {'; '.join(result.integrity[:3])}")
        raise typer.Exit(0 if result.ok else EXIT_FINDINGS)

    @group.command("backup")
    def backup_command(
        out: Path = typer.Argument(..., help="备份文件 / the backup file (.db)"),
        master: Optional[Path] = typer.Option(None, "--master", help="HR 汇总表（记录库在其旁边）/ the HR master"),
        store: Optional[str] = store_option(),
    ) -> None:
        """备份 SQLite 记录库（可在使用中进行）/ a consistent copy of an SQLite record, even while in use."""
        from kpisheet.xladdin.record.store import backup_sqlite

        if out.exists():
            raise UsageError(f"{out} 已存在，未覆盖", f"{out} exists and was not replaced")
        opened = _open(master, store)
        try:
            backup_sqlite(opened, out)
        finally:
            opened.dispose()
        make_console().print(Text(f"✓ 已备份 backed up: {out}", style="green"))

    app.add_typer(group, name="store")
