"""`kpisheet rules check|export`: check a rulebook, or write it as YAML or .xlsx.

Exit codes, as for every kpisheet command: 0 fine; 1 the rulebook has
problems (including a file that is not a rulebook at all: binary, not YAML,
not .xlsx); 2 usage or I/O (no such file, unknown suffix, cannot write).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.load import RulebookError, dump_yaml, load_rulebook
from kpisheet.validators.rulebook.xlsx import dump_xlsx

EXIT_PROBLEMS, EXIT_USAGE = 1, 2
YAML_SUFFIXES, XLSX_SUFFIXES = (".yaml", ".yml"), (".xlsx",)


def _console() -> Console:
    # Wide when piped (unless COLUMNS says otherwise), so messages stay on one line in logs.
    piped = not os.isatty(1) and "COLUMNS" not in os.environ
    return Console(width=200 if piped else None, highlight=False)


def _usage_error(console: Console, zh: str, en: str) -> typer.Exit:
    console.print(Text(f"✗ {zh} / {en}", style="bold red"))
    return typer.Exit(EXIT_USAGE)


def _require_file(console: Console, path: Path, what_zh: str) -> None:
    if not path.exists():
        raise _usage_error(console, f"找不到{what_zh}文件 {path}", f"no such file: {path}")
    if not path.is_file():
        raise _usage_error(console, f"{path} 不是文件", f"{path} is not a file")


def _report(console: Console, error: RulebookError) -> typer.Exit:
    if error.unreadable:
        problem = error.problems[0]
        console.print(Text(f"✗ {error.source}: {problem.message_zh} / {problem.message_en}", style="bold red"))
        return typer.Exit(EXIT_PROBLEMS)
    table = Table(title=f"规则表有 {len(error.problems)} 个问题 / {len(error.problems)} rulebook problem(s): "
                        f"{error.source}", title_justify="left", show_lines=True)
    table.add_column("位置 Location", style="cyan", overflow="fold")
    table.add_column("问题", overflow="fold")
    table.add_column("Problem", overflow="fold")
    for problem in error.problems:
        table.add_row(Text(problem.where), Text(problem.message_zh), Text(problem.message_en))
    console.print(table)
    return typer.Exit(EXIT_PROBLEMS)


def _load(console: Console, path: Path | None) -> Rulebook:
    if path is not None:
        _require_file(console, path, "规则表")
    try:
        return load_rulebook(path)
    except RulebookError as error:
        raise _report(console, error) from None


def _summary(rulebook: Rulebook) -> str:
    m = rulebook.meta
    return (f"{m.name_zh} / {m.name_en}（{m.version}）：{len(rulebook.categories)} 类别 categories, "
            f"{len(rulebook.roles)} 岗位 roles, {len(rulebook.indicators)} 指标 indicators, "
            f"{len(rulebook.grades)} 等级 grades")


def _write_atomically(target: Path, write) -> None:
    """Write beside the target, then rename: a failed export never leaves half a file."""
    handle, temp = tempfile.mkstemp(prefix=".kpisheet-", suffix=target.suffix, dir=target.parent)
    os.close(handle)
    try:
        write(Path(temp))
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _export(rulebook: Rulebook, target: Path, source: str) -> None:
    if target.suffix.lower() in XLSX_SUFFIXES:
        _write_atomically(target, lambda temp: dump_xlsx(rulebook, temp))
    else:
        header = (f"# kpisheet rulebook: {rulebook.meta.name_zh} / {rulebook.meta.name_en}\n"
                  f"# exported from {source}; check it with: kpisheet rules check {target.name}\n")
        text = header + dump_yaml(rulebook)
        _write_atomically(target, lambda temp: temp.write_text(text, encoding="utf-8"))


def register(app: typer.Typer) -> None:
    rules = typer.Typer(help="规则表 / rulebook: check or export", no_args_is_help=True)
    app.add_typer(rules, name="rules")

    @rules.command("check")
    def check(
        file: Optional[Path] = typer.Argument(
            None, help="规则表 .yaml/.yml 或 .xlsx；省略则检查内置默认规则 / rulebook file; default: the built-in one",
            show_default=False),
    ) -> None:
        """检查规则表，列出全部问题 / check a rulebook and list every problem.

        退出码 exit code: 0 有效 valid; 1 有问题或不是规则表 problems, or not a rulebook (binary, not YAML,
        not xlsx); 2 文件不存在等用法错误 usage or I/O error (e.g. no such file).
        """
        console = _console()
        rulebook = _load(console, file)
        console.print(Text(f"✓ OK 规则表有效 / rulebook is valid: {file or '内置默认 built-in default'}",
                           style="bold green"))
        console.print(Text(_summary(rulebook)))

    @rules.command("export")
    def export(
        target: Path = typer.Argument(..., help="输出文件 FILE.yaml 或 FILE.xlsx / output file", show_default=False),
        source: Optional[Path] = typer.Option(
            None, "--rules", help="导出此规则表而非内置默认 / export this rulebook instead of the built-in one",
            show_default=False),
        force: bool = typer.Option(False, "--force", help="覆盖已有文件 / overwrite an existing file"),
    ) -> None:
        """导出规则表为 YAML 或 Excel（按扩展名） / write the rulebook as YAML or .xlsx, by the suffix.

        退出码 exit code: 0 已写出 written; 1 源规则表有问题 the source rulebook has problems;
        2 扩展名不对、文件已存在（未加 --force）、无法写入等 usage or I/O error.
        """
        console = _console()
        suffix = target.suffix.lower()
        if suffix not in YAML_SUFFIXES + XLSX_SUFFIXES:
            raise _usage_error(console, f"不支持的扩展名 “{target.suffix or '（无）'}”：请用 .yaml、.yml 或 .xlsx",
                               f"unsupported suffix '{target.suffix}': use .yaml, .yml or .xlsx")
        if target.exists() and not force:
            raise _usage_error(console, f"{target} 已存在；加 --force 覆盖", f"{target} exists; add --force to overwrite")
        if not target.parent.is_dir():
            raise _usage_error(console, f"目录不存在：{target.parent}", f"no such folder: {target.parent}")
        rulebook = _load(console, source)
        try:
            _export(rulebook, target, str(source) if source else "the built-in default")
        except RulebookError as error:
            raise _report(console, error) from None
        except OSError as error:
            reason = error.strerror or str(error)
            raise _usage_error(console, f"无法写入 {target}：{reason}", f"cannot write {target}: {reason}") from None
        console.print(Text(f"✓ 已导出 / exported: {target}", style="bold green"))
        console.print(Text(_summary(rulebook)))
