"""What every `kpisheet` command shares: errors to one bilingual line and an exit code, never a traceback.

Commands raise :class:`~kpisheet.validators.errors.KpisheetError` (or a
subclass) when they cannot go on; :class:`KpisheetGroup` turns it into one
line ``✗ 中文 / English`` on stderr (plus its details and hint) and the error
kind's exit code. Typer's own usage errors (a missing option, an unknown one)
get the same bilingual line and exit 2. Anything unexpected becomes one line
naming a log file that holds the traceback, and exit 2; ``KPISHEET_DEBUG=1``
lets the traceback through for developers.

Commands are listed in the order HR works through a cycle, not alphabetically.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.text import Text
from typer.core import TyperGroup

from kpisheet.validators.errors import EXIT_OK, EXIT_USAGE, KpisheetError
from kpisheet.xladdin.kit.console import make_console, make_streams_safe
from kpisheet.xladdin.kit.crash_log import log_exception
from kpisheet.xladdin.kit.files import as_file_error, os_error_of

DEBUG_ENV = "KPISHEET_DEBUG"

# the order of a cycle: rules -> forms -> actuals -> validate -> consolidate -> status -> calibrate
# -> appeals -> notices -> rollup, then HR's record and tools
WORKFLOW_ORDER = ("init", "rules", "forms", "actuals", "validate", "consolidate", "status", "calibrate",
                  "appeals", "notices", "rollup", "master", "export", "archive", "store", "key", "addin", "demo",
                  "bench")

# Typer's usage errors by class name (its click is vendored and private), in Chinese
_USAGE_ZH = {
    "MissingParameter": "缺少必需的参数或选项",
    "NoSuchOption": "没有这个选项",
    "BadParameter": "参数值无效",
    "BadOptionUsage": "选项用法有误",
    "BadArgumentUsage": "参数用法有误",
}


def report(error: KpisheetError) -> None:
    """Show ``error`` as the CLI shows every error: one line, then its details and hint."""
    console = make_console(stderr=True)
    # soft wrap: one message is one line in a log, however long
    console.print(Text(f"✗ {error.line()}", style="bold red"), soft_wrap=True)
    for line in error.details:
        console.print(Text(f"  {line}"), soft_wrap=True)
    if error.hint():
        console.print(Text(f"  → {error.hint()}", style="yellow"), soft_wrap=True)


def _usage_line(error: typer.TyperException) -> tuple[str, str]:
    kind = type(error).__name__
    english = error.format_message() if hasattr(error, "format_message") else str(error)
    zh = _USAGE_ZH.get(kind, "命令用法有误")
    if kind == "MissingParameter" and getattr(error, "param", None) is not None:
        names = "/".join(error.param.opts) if error.param.opts else error.param.name
        zh = f"缺少必需的{'选项' if error.param.param_type_name == 'option' else '参数'} {names}"
    elif kind == "NoSuchOption" and getattr(error, "option_name", None):
        zh = f"没有选项 {error.option_name}"
    return zh, english


def _command_path(error: typer.TyperException) -> str:
    ctx = getattr(error, "ctx", None)
    return ctx.command_path if ctx is not None else "kpisheet"


class KpisheetGroup(TyperGroup):
    """The top-level command group: workflow order, safe console streams, and one error policy."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(WORKFLOW_ORDER)}
        return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))

    def format_commands(self, ctx: typer.Context, formatter: Any) -> None:
        """Each command with its whole first help paragraph: click would cut it at 80 columns with '...'."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            text = command.short_help or (command.help or "").strip().split("\n\n")[0]
            rows.append((name, " ".join(text.split())))
        if rows:
            with formatter.section("命令 Commands"):
                formatter.write_dl(rows)

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        make_streams_safe()
        code = self._run(args, prog_name or "kpisheet", complete_var, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(self, args: Any, prog_name: str, complete_var: str | None, **extra: Any) -> int:
        try:
            outcome = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            return outcome if isinstance(outcome, int) else EXIT_OK
        except KpisheetError as error:
            report(error)
            return error.exit_code
        except typer.Exit as done:
            return done.exit_code
        except typer.Abort:
            make_console(stderr=True).print(Text("✗ 已中断 / interrupted", style="bold red"))
            return EXIT_USAGE
        except typer.TyperException as error:
            zh, en = _usage_line(error)
            where = _command_path(error)
            report(KpisheetError(zh, en, hint_zh=f"查看用法：{where} --help", hint_en=f"see: {where} --help"))
            return EXIT_USAGE
        except OSError as error:  # a file the command needed could not be read or written
            report(as_file_error(error, Path(error.filename or "?"), writing=False))
            return EXIT_USAGE
        except Exception as error:  # never a traceback for the user
            refused = os_error_of(error)
            if refused is not None:  # a library's wrapper around the OS's refusal (xlsxwriter's FileCreateError)
                report(as_file_error(refused, Path(refused.filename or "?"), writing=False))
                return EXIT_USAGE
            if os.environ.get(DEBUG_ENV):
                raise
            log = log_exception(f"kpisheet {' '.join(map(str, args or sys.argv[1:]))}")
            report(KpisheetError(
                f"内部错误（{type(error).__name__}）：{error}；详细信息已写入 {log}",
                f"internal error ({type(error).__name__}): {error}; the details are in {log}",
                hint_zh="请把该日志文件发给系统管理员", hint_en="please send that log file to your administrator"))
            return EXIT_USAGE
