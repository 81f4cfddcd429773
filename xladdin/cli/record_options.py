"""Options every command on the cycle record shares: --store and the periods the master shows.

``--store`` names the record: kpisheet.db beside the master by default, another
SQLite file, or a PostgreSQL URL (``postgresql://user@server/database``) when
several HR desks share one cycle. ``--year`` / ``--period`` choose the periods
the master shows (default: the current appraisal year).
"""

from __future__ import annotations

from typing import List, Optional

import typer

from kpisheet.xladdin.master.consolidate import ScopeChoice

STORE_HELP = ("考核记录库：kpisheet.db 文件或 postgresql:// 地址（默认汇总表旁的 kpisheet.db）/ the cycle record: a "
              "kpisheet.db file or a postgresql:// URL (default: kpisheet.db beside the master)")
YEAR_HELP = "汇总表显示的年度（默认当前考核年度）/ the year the master shows (default: the current appraisal year)"
DISCARD_HELP = ("舍弃汇总表中 kpisheet 无法保留的内容（先在 backups 中保留副本并记入日志）/ drop what kpisheet cannot keep "
                "in the master (a copy is kept in backups/ first, and logged)")
INCOMPLETE_HELP = ("数据不完整时仍继续（记入日志，并在汇总表中标记受影响的行）/ go on although teams or periods are missing "
                   "(logged; the affected rows are marked)")


DEPARTMENT_HELP = ("只显示这些部门（可重复；部门名如花名册，或公司规则表中的英文名）；汇总表中输入的决定写回共享的记录库，不影响其他部门 / "
                   "show only these departments (repeatable): an HR business partner's master; decisions typed in "
                   "it go back into the shared record without touching another department's")


def department_option() -> Optional[List[str]]:
    return typer.Option(None, "--department", help=DEPARTMENT_HELP, show_default=False)


def store_option() -> Optional[str]:
    return typer.Option(None, "--store", help=STORE_HELP)


def year_option() -> Optional[int]:
    return typer.Option(None, "--year", min=2000, max=2100, help=YEAR_HELP)


def discard_option() -> bool:
    return typer.Option(False, "--discard-foreign", help=DISCARD_HELP)


def incomplete_option() -> bool:
    return typer.Option(False, "--allow-incomplete", help=INCOMPLETE_HELP)


def scope_choice(year: int | None, period: str | None, departments: tuple[str, ...] = ()) -> ScopeChoice:
    """The master shows ``period`` when given, else ``year``, else the current appraisal year; only
    ``departments`` when given."""
    return ScopeChoice(year=year, periods=(period,) if period else (), departments=departments)
