"""Ribbon handlers: the one module that talks to a live workbook through xlwings.

The add-in's VBA callbacks run ``on_ribbon("<action>")`` (see
``addin/RibbonMyAddin.bas``). Each handler takes an ``xw.Book`` (by default
the workbook that pressed the button, ``xw.Book.caller()``), reads whole used
ranges in one call per sheet, hands plain values to the core, and writes the
results back in one call per block. Progress goes to Excel's status bar.

Whatever goes wrong reaches the user as one message box in Chinese and
English; the traceback goes to the log file only (``LOG_PATH``), never to a
window.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Callable

import xlwings as xw

from validators import grading
from validators.layout import HEADER_ROW, RECOMPUTE, recompute_columns
from validators.rulebook import Rulebook
from validators.rulebook_io import RulebookError
from validators.submission import REQUIRED_SHEETS, NotATeamWorkbook, employee_lines, number, read_team_workbook

from .addin_settings import current_rulebook

TITLE = "kpisheet 绩效考核"
LOG_PATH = Path.home() / ".kpisheet" / "xladdin.log"

# fills for flagged and checked cells (hex, as xlwings takes them)
FILL_PROBLEM = "#FFC7CE"
FILL_OK = "#C6EFCE"


class HandlerError(Exception):
    """A problem the user can fix; the message says what and how, in both languages."""

    def __init__(self, message_zh: str, message_en: str):
        super().__init__(f"{message_zh} / {message_en}")
        self.message_zh = message_zh
        self.message_en = message_en


# --- talking to the workbook ----------------------------------------------------


def sheet_names(book: xw.Book) -> list[str]:
    return [sheet.name for sheet in book.sheets]


def read_sheet(sheet: xw.Sheet) -> list[list]:
    """The sheet's values from A1 to the end of its used range, in one read.

    Empty cells are '' and numbers floats, as python-calamine gives them, so
    the same core readers serve files on disk and open workbooks.
    """
    last = sheet.used_range.last_cell
    values = sheet.range((1, 1), (last.row, last.column)).options(ndim=2, empty="").value
    return values or [[]]


def read_sheets(book: xw.Book, names) -> dict[str, list[list]]:
    present = set(sheet_names(book))
    return {name: read_sheet(book.sheets[name]) for name in names if name in present}


def fresh_sheet(book: xw.Book, name: str) -> xw.Sheet:
    """The sheet ``name``, emptied, or a new one at the end of the book."""
    if name in sheet_names(book):
        sheet = book.sheets[name]
        sheet.clear()
        return sheet
    return book.sheets.add(name, after=book.sheets[len(book.sheets) - 1])


def write_block(sheet: xw.Sheet, row: int, col: int, rows: list[list]) -> None:
    """Write a rectangular block at 0-based (row, col) in one call."""
    if rows and rows[0]:
        sheet.range((row + 1, col + 1)).value = rows


def set_status(book: xw.Book, text: str | None) -> None:
    """Show progress on Excel's status bar (None gives it back to Excel)."""
    try:
        book.app.status_bar = text if text is not None else False
    except (NotImplementedError, AttributeError):
        pass  # engines without a status bar (xlwings' remote engine in tests)


def alert(book: xw.Book, message_zh: str, message_en: str, problem: bool = False) -> None:
    book.app.alert(f"{message_zh}\n\n{message_en}", TITLE, buttons="ok", mode="critical" if problem else "info")


def mark_cell(sheet: xw.Sheet, address: str, note: str, fill: str = FILL_PROBLEM) -> None:
    """A fill and a note on one cell: what is wrong there and how to fix it."""
    cell = sheet.range(address)
    cell.color = fill
    existing = cell.note
    if existing is not None:
        existing.text = note
    else:
        cell.add_note(note)


def link_cell(sheet: xw.Sheet, address: str, target_sheet: str, target_cell: str, text: str) -> None:
    """A hyperlink in ``address`` that jumps to ``target_sheet!target_cell`` of the same workbook."""
    escaped = target_sheet.replace("'", "''")
    sheet.range(address).add_hyperlink(f"#'{escaped}'!{target_cell}", text, f"{target_sheet}!{target_cell}")


# --- handlers -----------------------------------------------------------------------


def recompute(book: xw.Book) -> None:
    """重新计算: every employee's scores from the inputs, beside what the sheet's formulas show.

    Writes the 重新计算 sheet (one row per employee: the engine's subtotals,
    bonus, total, grade and coefficient, the sheet's own total and the
    difference) and says how many employees differ or lack inputs.
    """
    rulebook = _rulebook()
    set_status(book, "正在读取考核表… / reading the workbook…")
    book.app.calculate()  # so that the sheet's own totals are current before comparing
    team = _team_workbook(book, rulebook)
    if team.identity.rulebook_fingerprint and team.identity.rulebook_fingerprint != rulebook.fingerprint():
        raise HandlerError(
            f"本表按另一版规则表生成（表内指纹 {team.identity.rulebook_fingerprint}，当前规则表 "
            f"{rulebook.fingerprint()}）。请设置 KPISHEET_RULEBOOK 指向生成本表时的规则表。",
            f"this workbook was made with another rulebook (fingerprint {team.identity.rulebook_fingerprint}, "
            f"the rulebook in force is {rulebook.fingerprint()}). Point KPISHEET_RULEBOOK at the rulebook "
            "the workbook was made with.")
    set_status(book, "正在重新计算… / recomputing…")
    lines = employee_lines(team)
    columns = recompute_columns(rulebook)
    rows = [[c.header for c in columns]]
    differ = incomplete = 0
    for person in team.summary:
        result = grading.score_employee(rulebook, lines.get(person.employee_id, []),
                                        commendations=number(person.commendations), veto=person.veto)
        sheet_total = number(person.total)
        difference = (round(result.total - sheet_total, rulebook.scoring.decimals)
                      if result.total is not None and sheet_total is not None else None)
        if not result.complete:
            incomplete += 1
            status = "缺少或无效输入 / inputs missing or invalid: " + "; ".join(
                [f"{code}.{name}" for code, name in result.missing] + [str(p) for p in result.invalid])
        elif difference:
            differ += 1
            status = "与表内公式结果不一致 / differs from the sheet's formulas"
        else:
            status = "一致 / matches"
        values = {
            "employee_id": person.employee_id,
            "name": person.name,
            **{f"subtotal_{code}": value for code, value in result.subtotals.items()},
            "bonus": result.bonus,
            "veto": "是 / yes" if result.veto else "",
            "total": result.total,
            "grade": result.grade,
            "coefficient": result.coefficient,
            "sheet_total": sheet_total,
            "difference": difference,
            "status": status,
        }
        rows.append([_cell(values.get(c.key)) for c in columns])
    sheet = fresh_sheet(book, RECOMPUTE)
    write_block(sheet, HEADER_ROW, 0, rows)
    write_block(sheet, 0, 0, [[f"重新计算结果（规则表 {rulebook.meta.id} v{rulebook.meta.version}）/ "
                               f"recomputed with rulebook {rulebook.meta.id} v{rulebook.meta.version}"]])
    people = len(team.summary)
    alert(book,
          f"已重新计算 {people} 名员工：{differ} 人与表内公式结果不一致，{incomplete} 人缺少或有无效输入。"
          f"结果见“{RECOMPUTE}”工作表。",
          f"Recomputed {people} employees: {differ} differ from the sheet's formulas, {incomplete} have "
          f"missing or invalid inputs. See the {RECOMPUTE} sheet.",
          problem=bool(differ or incomplete))


def _not_available(name_zh: str, name_en: str) -> Callable[[xw.Book], None]:
    def handler(book: xw.Book) -> None:
        raise HandlerError(f"“{name_zh}”按钮的功能尚未提供，请先用命令行 kpisheet。",
                           f"The {name_en} button is not available yet; use the kpisheet command line for now.")

    return handler


ACTIONS: dict[str, Callable[[xw.Book], None]] = {
    "validate": _not_available("校验本表", "Validate"),
    "recompute": recompute,
    "forms": _not_available("生成表格", "Generate forms"),
    "consolidate": _not_available("汇总", "Consolidate"),
    "calibrate": _not_available("校准", "Calibrate"),
    "findings": _not_available("问题清单", "Findings"),
}


def on_ribbon(action: str, book: xw.Book | None = None) -> None:
    """Run one ribbon action on ``book`` (default: the calling workbook); never raises."""
    try:
        book = book if book is not None else xw.Book.caller()
    except Exception:
        _log_exception(action)
        # Without a workbook there is no message box; xlwings shows stderr instead
        print(f"kpisheet 无法连接到 Excel 工作簿，详见 {LOG_PATH} / kpisheet could not reach the Excel "
              f"workbook; see {LOG_PATH}", file=sys.stderr)
        return
    try:
        handler = ACTIONS.get(action)
        if handler is None:
            raise HandlerError(f"未知的按钮操作“{action}”，请重新生成加载项。",
                               f"unknown ribbon action {action!r}; rebuild the add-in.")
        handler(book)
    except HandlerError as error:
        _tell(book, action, error.message_zh, error.message_en)
    except Exception as error:
        _log_exception(action)
        _tell(book, action, f"操作失败（{type(error).__name__}）。详细信息已写入 {LOG_PATH}，请发给系统管理员。",
              f"The action failed ({type(error).__name__}: {error}). Details were written to {LOG_PATH}; "
              "please send that file to your administrator.")
    finally:
        try:
            set_status(book, None)
        except Exception:  # Excel busy or gone: the status bar resets itself
            _log_exception(action)


def _tell(book: xw.Book, action: str, message_zh: str, message_en: str) -> None:
    """A problem message box; if even that fails, the log and stderr (which xlwings shows) get it."""
    try:
        alert(book, message_zh, message_en, problem=True)
    except Exception:
        _log_exception(action)
        print(f"{message_zh}\n{message_en}", file=sys.stderr)


# --- plumbing ---------------------------------------------------------------------


def _rulebook() -> Rulebook:
    try:
        return current_rulebook()
    except RulebookError as error:
        details = "\n".join(str(p) for p in error.problems[:5])
        raise HandlerError(f"规则表无法使用：{error.source}\n{details}",
                           f"the rulebook cannot be used: {error.source} (details above)") from None


def _team_workbook(book: xw.Book, rulebook: Rulebook):
    values = read_sheets(book, REQUIRED_SHEETS)
    try:
        return read_team_workbook(values, source=book.name, rulebook=rulebook)
    except NotATeamWorkbook as error:
        raise HandlerError(f"当前工作簿不是考核表：{error.reason_zh}",
                           f"the active workbook is not a team workbook: {error.reason_en}") from None


def _cell(value):
    return "" if value is None else value


def _log_exception(action: str) -> None:
    """The traceback of the failure, appended to LOG_PATH (stderr if that cannot be written)."""
    logger = logging.getLogger("kpisheet.xladdin")
    try:
        LOG_PATH.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(LOG_PATH, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    try:
        logger.exception("ribbon action %r failed", action)
    finally:
        logger.removeHandler(handler)
        handler.close()
