"""`kpisheet master rebuild --master FILE`: regenerate a lost or damaged master from the cycle record.

Every accepted row and every HR decision comes back from the record. A master
still on disk gives its HR edits first, as on every run; one that cannot be
read is set aside in backups/ (``<name>-damaged-<time>.xlsx``) and rebuilt.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.text import Text

from kpisheet.xladdin.cli.consolidate import check_master_option
from kpisheet.xladdin.cli.record_options import (
    department_option, discard_option, scope_choice, store_option, year_option,
)
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.inputs import department_names, load_company_inputs


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="汇总表 / the HR master", no_args_is_help=True)

    @group.command("rebuild")
    def rebuild_command(
        master: Path = typer.Option(..., "--master", help="HR 汇总表 / the HR master (.xlsx)"),
        store: Optional[str] = store_option(),
        year: Optional[int] = year_option(),
        period: Optional[str] = typer.Option(None, "--period", help="只显示该期间 / show this period only"),
        rules: Optional[Path] = typer.Option(None, "--rules", help="规则表，或公司规则表 / rulebook, or a company's "
                                             "rulebooks"),
        discard_foreign: bool = discard_option(),
        department: Optional[List[str]] = department_option(),
    ) -> None:
        """从考核记录库重新生成汇总表（含全部 HR 决定）/ regenerate the master from the record."""
        from kpisheet.xladdin.master.consolidate import rebuild_master

        check_master_option(master)
        company, _people, period = load_company_inputs(rules, None, period)
        run = rebuild_master(master, company.whole, store=store,
                             scope=scope_choice(year, period, department_names(company, department)),
                             discard_foreign=discard_foreign)
        data = run.view.data
        console = make_console()
        console.print(Text(f"✓ 已从记录库重新生成汇总表 master rebuilt from the record: {master}（{run.view.scope.label or '—'}，"
                           f"总表 {len(data.rows('总表'))} 行 rows，记录版本 generation {run.generation}）", style="green"))
        if run.backup:
            console.print(Text(f"  备份 backup: {run.backup}"))

    app.add_typer(group, name="master")
