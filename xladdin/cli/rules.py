"""`kpisheet rules check|export`: check a rulebook, or write it as YAML or .xlsx.

Exit codes, as for every kpisheet command: 0 fine; 2 the rulebook has
problems (each listed with its key path or sheet!cell; the same error every
command gives for that rulebook), or usage and I/O (no such file, unknown
suffix, an existing file without --force, cannot write).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.text import Text

from kpisheet.validators.errors import UsageError
from kpisheet.validators.rulebook.load import dump_yaml
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.xlsx import dump_xlsx
from kpisheet.xladdin.cli.base import KpisheetGroup
from kpisheet.xladdin.kit.console import make_console
from kpisheet.xladdin.kit.files import write_atomically
from kpisheet.xladdin.kit.inputs import load_rules_option

YAML_SUFFIXES, XLSX_SUFFIXES = (".yaml", ".yml"), (".xlsx",)


def _summary(rulebook: Rulebook) -> str:
    m = rulebook.meta
    return (f"{m.name_zh} / {m.name_en}（{m.version}）：{len(rulebook.categories)} 类别 categories, "
            f"{len(rulebook.roles)} 岗位 roles, {len(rulebook.indicators)} 指标 indicators, "
            f"{len(rulebook.grades)} 等级 grades")


def _export(rulebook: Rulebook, target: Path, source: str) -> None:
    if target.suffix.lower() in XLSX_SUFFIXES:
        write_atomically(target, lambda temp: dump_xlsx(rulebook, temp))
    else:
        header = (f"# kpisheet rulebook: {rulebook.meta.name_zh} / {rulebook.meta.name_en}\n"
                  f"# exported from {source}; check it with: kpisheet rules check {target.name}\n")
        text = header + dump_yaml(rulebook)
        write_atomically(target, lambda temp: temp.write_text(text, encoding="utf-8"))


def register(app: typer.Typer) -> None:
    rules = typer.Typer(help="规则表 / rulebook: check or export", no_args_is_help=True, cls=KpisheetGroup)
    app.add_typer(rules, name="rules")

    @rules.command("check")
    def check(
        file: Optional[Path] = typer.Argument(
            None, help="规则表 .yaml/.yml 或 .xlsx；省略则检查内置默认规则 / rulebook file; default: the built-in one",
            show_default=False),
    ) -> None:
        """检查规则表，列出全部问题 / check a rulebook and list every problem.

        退出码 exit code: 0 有效 valid; 2 有问题、不是规则表或文件不存在 problems (each with its place), not a
        rulebook, or no such file.
        """
        console = make_console()
        rulebook = load_rules_option(file)
        console.print(Text(f"✓ OK 规则表有效 / rulebook is valid: {file or '内置默认 built-in default'}",
                           style="bold green"))
        console.print(Text(_summary(rulebook)))

    @rules.command("export")
    def export(
        target: Path = typer.Argument(..., help="输出文件 FILE.yaml 或 FILE.xlsx / output file", show_default=False),
        source: Optional[Path] = typer.Option(
            None, "--rules", help="导出此规则表而非内置默认 / export this rulebook instead of the built-in one",
            show_default=False),
        force: bool = typer.Option(False, "--force", help="覆盖已有文件 / overwrite an existing file",
                                   show_default=False),
    ) -> None:
        """导出规则表为 YAML 或 Excel（按扩展名） / write the rulebook as YAML or .xlsx, by the suffix.

        退出码 exit code: 0 已写出 written; 2 源规则表有问题、扩展名不对、文件已存在（未加 --force）、无法写入
        the source rulebook has problems, or usage and I/O.
        """
        console = make_console()
        suffix = target.suffix.lower()
        if suffix not in YAML_SUFFIXES + XLSX_SUFFIXES:
            raise UsageError(f"不支持的扩展名 “{target.suffix or '（无）'}”：请用 .yaml、.yml 或 .xlsx",
                             f"unsupported suffix '{target.suffix}': use .yaml, .yml or .xlsx")
        if target.exists() and not force:
            raise UsageError(f"{target} 已存在；加 --force 覆盖", f"{target} exists; add --force to overwrite")
        if not target.parent.is_dir():
            raise UsageError(f"目录不存在：{target.parent}", f"no such folder: {target.parent}")
        rulebook = load_rules_option(source)
        _export(rulebook, target, str(source) if source else "the built-in default")
        console.print(Text(f"✓ 已导出 / exported: {target}", style="bold green"))
        console.print(Text(_summary(rulebook)))
