"""`kpisheet key show|export|import`: HR's signing key, and the same key on a second HR computer.

The key (see :mod:`kpisheet.xladdin.kit.signing_key`) is made by the first
`kpisheet forms`. On a second HR computer, `kpisheet key import` installs a
copy made by `kpisheet key export` on the first; both computers then sign
and verify alike. No command prints the key, only where it is and its id.

Exit codes: 0 done; 2 no key yet, an unreadable or exposed key file, or a
file in the way (without --force).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from kpisheet.xladdin.cli.base import KpisheetGroup
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.signing_key import KeyFileError, export_key, import_key, key_path, load_key

KEY_HELP = "HR 签名密钥文件（默认 KPISHEET_KEY 或 ~/.kpisheet/kpisheet.key）/ HR's signing key file"


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="HR 签名密钥 / HR's signing key: show, export, import", no_args_is_help=True,
                        cls=KpisheetGroup)
    app.add_typer(group, name="key")

    @group.command("show")
    def show(key: Optional[Path] = typer.Option(None, "--key", help=KEY_HELP)) -> None:
        """密钥在哪里、编号是什么（不显示密钥本身）/ where the key is and its id (never the key)."""
        where = key_path(key)
        found = load_key(where)
        console = make_console()
        if found is None:
            console.print(Text(f"还没有签名密钥：{where}（首次运行 kpisheet forms 时创建）/ no signing key yet at {where} "
                               "(the first kpisheet forms makes it)"), soft_wrap=True)
            return
        console.print(Text(f"签名密钥 signing key: {where}\n编号 id: {found.key_id}"), soft_wrap=True)

    @group.command("export")
    def export(target: Path = typer.Argument(..., help="导出到此文件 / write the copy here"),
               key: Optional[Path] = typer.Option(None, "--key", help=KEY_HELP),
               force: bool = typer.Option(False, "--force", help="覆盖已有文件 / overwrite an existing file")) -> None:
        """导出密钥，供第二台 HR 电脑导入 / copy the key for a second HR computer."""
        exported = export_key(key_path(key), target, force=force)
        make_console().print(Text(
            f"✓ 已导出签名密钥（编号 {exported.key_id}）到 {target}。请只经 HR 可控的途径传递，导入后删除此文件。\n"
            f"  exported the signing key (id {exported.key_id}) to {target}. Carry it only by a way HR controls and "
            "delete it once imported.", style="green"), soft_wrap=True)

    @group.command("import")
    def import_(source: Path = typer.Argument(..., help="kpisheet key export 导出的文件 / the exported file"),
                key: Optional[Path] = typer.Option(None, "--key", help=KEY_HELP),
                force: bool = typer.Option(False, "--force", help="替换本机已有的另一把密钥 / replace another key")) -> None:
        """导入另一台 HR 电脑导出的密钥 / install the key exported on another HR computer."""
        if not source.is_file():
            raise KeyFileError(f"找不到密钥文件 {source}", f"no such key file: {source}")
        where = key_path(key)
        installed, replaced = import_key(source, where, force=force)
        note = (f"；替换了编号 {replaced.key_id} 的旧密钥 / replaced the key {replaced.key_id}" if replaced else "")
        make_console().print(Text(f"✓ 已导入签名密钥（编号 {installed.key_id}）到 {where} / imported the signing key "
                                  f"(id {installed.key_id}) into {where}{note}", style="green"), soft_wrap=True)
