"""`kpisheet addin build [--out DIR]`: the Excel add-in file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console


def register(app: typer.Typer) -> None:
    addin = typer.Typer(help="Excel 加载项 / the Excel add-in", no_args_is_help=True)
    app.add_typer(addin, name="addin")

    @addin.command("build")
    def build(
        out: Path = typer.Option(Path("dist"), "--out", "-o", help="输出文件夹 / output folder"),
        config: Path = typer.Option(None, "--config", "-c",
                                    help='配置文件（"键","值" 每行一项），代替默认设置 / config file ("KEY","VALUE" '
                                         "per line) replacing the defaults"),
    ) -> None:
        """生成 xladdin.xlam 加载项 / build the xladdin.xlam add-in."""
        import xlwings

        from kpisheet.xladdin.addin.build import CONFIG_SHEET, AddinBuildError, build_addin

        console = Console()
        try:
            path = build_addin(out, config=config)
        except AddinBuildError as error:
            console.print(f"[red]加载项生成失败：{error.message_zh}\nAdd-in build failed: {error.message_en}[/red]")
            raise typer.Exit(2) from None
        except OSError as error:
            console.print(f"[red]无法写入 {out}：{error.strerror}\nCannot write {out}: {error.strerror}[/red]")
            raise typer.Exit(2) from None
        console.print(f"已生成加载项 / add-in written: {path}")
        console.print(f"xlwings {xlwings.__version__}：安装的 xlwings 必须是同一版本 / "
                      "the installed xlwings must be this same version")
        console.print(f"设置在工作表 {CONFIG_SHEET} 中（见 docs/addin.md）/ settings are on the {CONFIG_SHEET} sheet "
                      "(see docs/addin.md)")
