"""`kpisheet forms`: one team workbook per team of the roster.

Exit codes, as for every kpisheet command: 0 written; 2 usage or I/O (no such
file, a broken rulebook or roster, problems in --actuals, bad period, existing
files without --force, a workbook open in a spreadsheet program, cannot write).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from kpisheet.validators.actuals import actual_files, read_actuals
from kpisheet.validators.errors import UsageError
from kpisheet.xladdin.forms.service import FormsExist, write_forms
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.inputs import date_option, load_company_option, load_roster_option, period_option
from kpisheet.xladdin.kit.progress import progress_bar
from kpisheet.xladdin.kit.signing_key import created_notice, key_path, load_or_create_key


def _actuals(paths: list[Path], rulebook, employees, period: str):
    if not paths:
        return None
    files, _ = actual_files(paths)
    if not files:
        raise UsageError(f"--actuals 中没有 .csv/.xlsx 文件：{', '.join(map(str, paths))}",
                         f"no .csv/.xlsx file in --actuals: {', '.join(map(str, paths))}")
    return read_actuals(files, rulebook, employees, period)


def register(app: typer.Typer) -> None:
    @app.command("forms")
    def forms(
        roster: Path = typer.Option(..., "--roster", help="花名册 roster.xlsx", show_default=False),
        period: str = typer.Option(..., "--period",
                                   help="考核期间 period: 2026-Q4, 2026-11, 2026-H2, 2026（或 2026年第4季度）",
                                   show_default=False),
        out: Path = typer.Option(..., "--out", help="输出目录 output folder", show_default=False),
        rules: Optional[Path] = typer.Option(
            None, "--rules", help="规则表 rulebook .yaml/.xlsx，或公司规则表（文件或文件夹：每个部门用自己的规则）；默认内置 / "
            "a rulebook, or a company's rulebooks (file or folder: each department's forms from its own rules); "
            "default: built-in", show_default=False),
        deadline: Optional[str] = typer.Option(
            None, "--deadline", help="提交截止日期，写入填写说明 / submission deadline, e.g. 2027-01-08", show_default=False),
        force: bool = typer.Option(False, "--force", help="覆盖已有的考核表 / overwrite existing workbooks",
                                   show_default=False),
        actuals: Optional[list[Path]] = typer.Option(
            None, "--actuals", help="系统导出的实际值文件（可多次给出），预填“实际值” / actuals exported by source "
            "systems (a file or folder, repeatable), prefilled into 实际值", show_default=False),
        key: Optional[Path] = typer.Option(
            None, "--key", help="HR 签名密钥文件（默认 KPISHEET_KEY 或 ~/.kpisheet/kpisheet.key，首次使用时创建）/ HR's "
            "signing key (default: KPISHEET_KEY or ~/.kpisheet/kpisheet.key, created on first use)", show_default=False),
    ) -> None:
        """按花名册为每个团队生成考核表 / write one team workbook per team of the roster.

        退出码 exit code: 0 已生成 written; 2 输入有问题或无法写入 an input has problems (listed with its cells),
        files exist without --force, or I/O.
        """
        console = make_console()
        canonical = period_option(period)
        due = date_option(deadline, "--deadline")
        company = load_company_option(rules)
        employees = load_roster_option(roster, company)
        if actuals and not company.single:
            raise UsageError("--actuals 暂不支持公司规则表：请按部门分别生成（kpisheet rules export --department 导出部门规则）",
                             "--actuals does not take a company's rulebooks yet: make each department's forms with "
                             "its own rules (kpisheet rules export --department)")
        imported = _actuals(list(actuals or []), company.first, employees, canonical)
        where = key_path(key)
        signing_key, created = load_or_create_key(where)
        if created:
            make_console(stderr=True).print(Text("! " + " / ".join(created_notice(where, signing_key)), style="yellow"),
                                            soft_wrap=True)
        with progress_bar(console) as bar:
            task = bar.add_task("生成考核表 writing workbooks", total=None)
            try:
                written = write_forms(company, employees, canonical, out, deadline=due, overwrite=force,
                                      actuals=imported, signing_key=signing_key,
                                      progress=lambda done, total: bar.update(task, completed=done, total=total),
                                      current=lambda label: bar.update(task, description=label))
            except FormsExist as error:
                error.hint_zh, error.hint_en = "确认要覆盖请加 --force", "add --force to overwrite them"
                raise
            bar.update(task, description="完成 done")
        table = Table(title=f"已生成 {len(written)} 个团队考核表 / {len(written)} team workbook(s) in {out}",
                      title_justify="left")
        for header in ("部门 Department", "团队 Team", "人数 People", "文件 File"):
            table.add_column(header)
        for form in written:
            table.add_row(form.department, form.team, str(form.people), form.path.name)
        console.print(table)
