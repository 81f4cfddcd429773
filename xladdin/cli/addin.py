"""`kpisheet addin build [--out DIR]`: the Excel add-in file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from kpisheet.xladdin.cli.base import KpisheetGroup
from kpisheet.xladdin.kit.console import make_console


def register(app: typer.Typer) -> None:
    addin = typer.Typer(help="Excel 加载项 / the Excel add-in", no_args_is_help=True, cls=KpisheetGroup)
    app.add_typer(addin, name="addin")

    @addin.command("build")
    def build(
        out: Path = typer.Option(Path("dist"), "--out", "-o", help="输出文件夹 / output folder"),
        config: Optional[Path] = typer.Option(
            None, "--config", "-c", help='配置文件（"键","值" 每行一项），代替默认设置 / config file ("KEY","VALUE" '
                                         "per line) replacing the defaults", show_default=False),
    ) -> None:
        """生成 xladdin.xlam 加载项 / build the xladdin.xlam add-in."""
        from kpisheet.xladdin.addin.build import CONFIG_SHEET, build_addin, xlwings_version

        console = make_console()
        path = build_addin(out, config=config)
        console.print(f"已生成加载项 / add-in written: {path}")
        console.print(f"xlwings {xlwings_version()}：安装的 xlwings 必须是同一版本 / "
                      "the installed xlwings must be this same version")
        console.print(f"设置在工作表 {CONFIG_SHEET} 中（见 docs/addin.md）/ settings are on the {CONFIG_SHEET} sheet "
                      "(see docs/addin.md)")
