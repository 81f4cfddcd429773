"""Ribbon handlers: the one module that talks to a live workbook through xlwings.

The add-in's VBA callbacks run ``on_ribbon("<action>")`` (see
``addin/RibbonMyAddin.bas``). Each handler takes an ``xw.Book`` (by default
the workbook that pressed the button, ``xw.Book.caller()``), reads whole used
ranges in one call per sheet, hands plain values to the same core functions
the command line calls, and writes the results back in one call per block.
Progress goes to Excel's status bar.

The folder buttons (生成表格, 汇总, 校准) take their paths from the 设置 sheet of
HR's master (see :mod:`kpisheet.xladdin.excel.settings`). When the master itself must be
rewritten while it is open in Excel, the handler saves and closes it, lets the
core replace the file, and opens it again.

Whatever goes wrong reaches the user as one message box in Chinese and
English; the traceback goes to the log file only (:mod:`kpisheet.xladdin.kit.crash_log`),
never to a window.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import xlwings as xw

from kpisheet.validators.errors import KpisheetError
from kpisheet.validators.findings import Finding
from kpisheet.validators.layout import HEADER_ROW, RECOMPUTE, recompute_columns
from kpisheet.validators.policy import grading
from kpisheet.validators.reading.submission import (
    REQUIRED_SHEETS, NotATeamWorkbook, employee_lines, number, read_team_workbook,
)
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.xladdin.annotate.copy import COLUMNS as RESULT_COLUMNS
from kpisheet.xladdin.annotate.copy import FILLS, RESULTS_SHEET, SEVERITY_LABELS
from kpisheet.xladdin.excel.book_io import (
    fresh_sheet, literal, own_file, read_sheet, read_sheets, sheet_names, write_block,
)
from kpisheet.xladdin.excel.book_settings import rulebook_from, rulebook_of, settings_of
from kpisheet.xladdin.excel.errors import HandlerError
from kpisheet.xladdin.excel.settings import MasterSettings, SettingsError, remember_master
from kpisheet.xladdin.kit.crash_log import log_exception
from kpisheet.xladdin.kit.files import as_file_error
from kpisheet.xladdin.kit.signing_key import checking_key, created_notice, key_path, load_or_create_key
from kpisheet.xladdin.kit.user import current_user
from kpisheet.xladdin.master import layout as M

TITLE = "kpisheet 绩效考核"

# fills for flagged and checked cells (hex, as xlwings takes them)
FILL_PROBLEM = "#FFC7CE"
FILL_OK = "#C6EFCE"

# 问题清单: the master's findings about the active workbook, listed in it
ISSUES_LIST = "问题清单"
# 校验结果 keeps, beside annotate's columns, each marked cell's fill before it was
# marked, so the next validation can give a corrected cell its own colour back
ORIGINAL_FILL_HEADER = "原底色\nOriginal fill"
_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
SEVERITY_ORDER = ("error", "warning", "info")


# --- talking to the workbook ----------------------------------------------------


def _app(target) -> xw.App:
    """The Excel application of a book (or the app itself: a handler may have closed its book)."""
    return target if isinstance(target, xw.App) else target.app


def set_status(target, text: str | None) -> None:
    """Show progress on Excel's status bar (None gives it back to Excel); ``target`` is a book or its app."""
    try:
        _app(target).status_bar = text if text is not None else False
    except (NotImplementedError, AttributeError):
        pass  # engines without a status bar (xlwings' remote engine in tests)


def alert(target, message_zh: str, message_en: str, problem: bool = False) -> None:
    _app(target).alert(f"{message_zh}\n\n{message_en}", TITLE, buttons="ok", mode="critical" if problem else "info")


def mark_cell(sheet: xw.Sheet, address: str, note: str, fill: str = FILL_PROBLEM) -> None:
    """A fill and a note on one cell: what is wrong there and how to fix it."""
    cell = sheet.range(address)
    cell.color = fill
    existing = cell.note
    if existing is not None:
        existing.text = note
    else:
        cell.add_note(note)


def unmark_cell(sheet: xw.Sheet, address: str, fill: str | None) -> None:
    """Undo :func:`mark_cell`: the cell's own fill back (None: no fill) and the note gone."""
    cell = sheet.range(address)
    cell.color = fill
    existing = cell.note
    if existing is not None:
        existing.delete()


def cell_fill(sheet: xw.Sheet, address: str) -> str | None:
    """The cell's fill as '#RRGGBB', or None (no fill, or an engine that cannot tell)."""
    try:
        colour = sheet.range(address).color
    except Exception:  # the remote engine cannot read colours back
        return None
    return xw.utils.rgb_to_hex(*colour) if colour else None


def link_cell(sheet: xw.Sheet, address: str, target_sheet: str, target_cell: str, text: str) -> None:
    """A hyperlink in ``address`` that jumps to ``target_sheet!target_cell`` of the same workbook."""
    escaped = target_sheet.replace("'", "''")
    sheet.range(address).add_hyperlink(f"#'{escaped}'!{target_cell}", text, f"{target_sheet}!{target_cell}")


@contextmanager
def unprotected(sheets: Sequence[xw.Sheet]) -> Iterator[None]:
    """Lift the team workbook's sheet protection (no password) while marking, then put it back.

    Desktop Excel refuses fills and notes on locked cells of a protected sheet.
    Windows goes through COM, macOS through AppleScript; other engines (the
    remote engine of the tests) have no protection to lift.
    """
    lifted = [sheet for sheet in sheets if _unprotect(sheet)]
    try:
        yield
    finally:
        for sheet in lifted:
            _protect(sheet)


def _desktop(sheet: xw.Sheet) -> bool:
    return sheet.book.app.engine.name == "excel"


def _unprotect(sheet: xw.Sheet) -> bool:
    """Unprotect ``sheet`` if it is protected; whether it was."""
    if not _desktop(sheet):
        return False
    api = sheet.api
    if sys.platform == "darwin":
        if not api.protect_contents.get():
            return False
        api.unprotect()
    else:
        if not api.ProtectContents:
            return False
        api.Unprotect()
    return True


def _protect(sheet: xw.Sheet) -> None:
    """Protect as the template does: contents locked, columns and rows may be resized, no password."""
    try:
        if sys.platform == "darwin":
            sheet.api.protect_worksheet(contents=True, allow_formatting_columns=True, allow_formatting_rows=True)
        else:
            sheet.api.Protect(Password="", Contents=True, AllowFormattingColumns=True, AllowFormattingRows=True)
    except Exception:  # the marks are made; a sheet left unprotected is a guard rail down, not data lost
        log_exception(f"re-protect {sheet.name}")


# --- findings on cells and in a list ----------------------------------------------------------


def fill_of(severity: str) -> str:
    return "#" + FILLS.get(severity, FILLS["info"])


def worst(findings: Sequence) -> str:
    return min((f.severity for f in findings), key=lambda s: SEVERITY_ORDER.index(s) if s in SEVERITY_ORDER else 9)


def note_text(findings: Sequence) -> str:
    """The note of one flagged cell: every finding there, in Chinese and English, with its fix."""
    return "\n\n".join(f"【{SEVERITY_LABELS.get(f.severity, f.severity)}】{f.code}\n{f.message_zh}\n{f.message_en}"
                       f"\n→ {f.hint}" for f in findings)


def flagged_cells(findings: Sequence, present: set[str]) -> dict[tuple[str, str], list]:
    """(sheet, A1) -> the findings at that cell, for cells of sheets the workbook has."""
    cells: dict[tuple[str, str], list] = defaultdict(list)
    for f in findings:
        if f.sheet in present and f.cell and _A1.match(str(f.cell)):
            cells[(f.sheet, str(f.cell).replace("$", ""))].append(f)
    return dict(cells)


def result_rows(findings: Sequence, original_fills: dict[tuple[str, str], str | None]) -> list[list]:
    """The 校验结果 / 问题清单 rows: annotate's columns, then the marked cell's original fill."""
    rows = [[title for title, _width in RESULT_COLUMNS] + [ORIGINAL_FILL_HEADER]]
    for n, f in enumerate(findings, start=1):
        where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or "")
        key = (f.sheet, str(f.cell or "").replace("$", ""))
        rows.append([literal(v) for v in (n, SEVERITY_LABELS.get(f.severity, f.severity), f.code, where,
                                           f.employee_id, f.indicator, f.value, f.expected, f.message_zh,
                                           f.message_en, f.hint, original_fills.get(key) or "")])
    return rows


def previous_marks(rows: list[list]) -> dict[tuple[str, str], str | None]:
    """The cells an earlier 校验结果 sheet marked, with the fill each had before: (sheet, A1) -> fill."""
    if not rows or not rows[0]:
        return {}
    header = [str(h) for h in rows[0]]
    where_title = RESULT_COLUMNS[3][0]
    if where_title not in header:
        return {}
    where_at = header.index(where_title)
    fill_at = header.index(ORIGINAL_FILL_HEADER) if ORIGINAL_FILL_HEADER in header else None
    marks: dict[tuple[str, str], str | None] = {}
    for cells in rows[1:]:
        where = str(cells[where_at]) if where_at < len(cells) else ""
        sheet, _, cell = where.rpartition("!")
        if sheet and _A1.match(cell):
            fill = cells[fill_at] if fill_at is not None and fill_at < len(cells) else ""
            marks[(sheet, cell)] = fill if isinstance(fill, str) and fill.startswith("#") else None
    return marks


def _write_list(book: xw.Book, name: str, findings: Sequence, original_fills: dict, linkable: set[str]) -> xw.Sheet:
    """The findings as a sheet of ``book``, each cell reference a link to its cell."""
    sheet = fresh_sheet(book, name)
    rows = result_rows(findings, original_fills)
    if not findings:
        rows.append([""] * 8 + ["未发现问题。", "No problems found."] + [""] * (len(rows[0]) - 10))
    write_block(sheet, 0, 0, rows)
    where_col = 3
    for r, f in enumerate(findings, start=1):
        if f.sheet in linkable and f.cell and _A1.match(str(f.cell)):
            link_cell(sheet, f"D{r + 1}", f.sheet, str(f.cell).replace("$", ""), rows[r][where_col])
    for col, (_title, width) in enumerate(RESULT_COLUMNS):
        sheet.range((1, col + 1)).column_width = width
    sheet.range((1, len(RESULT_COLUMNS) + 1)).column_hidden = True  # the original fills are for kpisheet
    sheet.activate()
    return sheet


# --- settings ----------------------------------------------------------------------


@contextmanager
def _master_released(book: xw.Book, master: Path) -> Iterator[None]:
    """Let the core replace ``master``: if it is this very workbook, save and close it, and reopen it after.

    Excel keeps a lock file beside an open workbook (and Windows keeps the file
    itself locked), so the master cannot be rewritten under Excel's feet.
    """
    own = own_file(book)
    if own is None or own.resolve() != master.resolve():
        yield
        return
    app = book.app
    book.save()  # HR's edits in the master are part of what the core reads
    book.close()
    try:
        yield
    finally:
        try:
            app.books.open(str(master))
        except Exception:
            log_exception(f"reopen {master}")


# --- handlers -----------------------------------------------------------------------


def validate(book: xw.Book) -> None:
    """校验本表: validate the workbook as it stands in Excel and highlight it in place.

    Every flagged cell gets a fill by severity and a note (Chinese, English,
    fix); the 校验结果 sheet lists every finding with a link to its cell. A cell
    marked by an earlier run and now correct gets its own fill back.
    """
    from kpisheet.validators.validate import VALIDATED_SHEETS, validate_values

    settings = settings_of(book, required=False)
    rulebook = rulebook_from(settings)
    roster = settings.roster(rulebook) if settings else None
    period = settings.period(required=False) if settings else None
    set_status(book, "正在读取考核表… / reading the workbook…")
    book.app.calculate()  # cached totals current before they are compared
    values = read_sheets(book, VALIDATED_SHEETS)
    set_status(book, "正在校验… / validating…")
    signing_key, no_key = checking_key()
    report = validate_values(values, source=book.name, rulebook=rulebook, roster=roster, period=period,
                             calculated=True, signing_key=signing_key)
    unknown = next((f for f in report.findings if f.code == "template-unknown"), None)
    if unknown is not None:
        raise HandlerError(f"当前工作簿不是考核表：{unknown.message_zh}",
                           f"the active workbook is not a team workbook: {unknown.message_en}")

    names = sheet_names(book)
    previous = previous_marks(read_sheet(book.sheets[RESULTS_SHEET])) if RESULTS_SHEET in names else {}
    previous = {key: fill for key, fill in previous.items() if key[0] in names}
    flagged = flagged_cells(report.findings, set(names) - {RESULTS_SHEET})
    set_status(book, f"正在标出 {len(flagged)} 个单元格… / marking {len(flagged)} cells…")
    originals: dict[tuple[str, str], str | None] = {}
    touched = sorted({sheet for sheet, _ in flagged} | {sheet for sheet, _ in previous})
    with unprotected([book.sheets[name] for name in touched]):
        for (sheet, cell), fill in previous.items():
            if (sheet, cell) not in flagged:
                unmark_cell(book.sheets[sheet], cell, fill)
        for (sheet, cell), found in flagged.items():
            key = (sheet, cell)
            originals[key] = previous[key] if key in previous else cell_fill(book.sheets[sheet], cell)
            mark_cell(book.sheets[sheet], cell, note_text(found), fill_of(worst(found)))
    if report.findings or RESULTS_SHEET in names:
        _write_list(book, RESULTS_SHEET, report.findings, originals, set(names))

    counts = Counter(f.severity for f in report.findings)
    rules = f"规则表 {rulebook.meta.id} v{rulebook.meta.version}"
    if no_key:  # said with the result, once: what this validation did not check
        rules = f"{rules}；{no_key[0]} / {no_key[1]}"
    if not report.findings:
        alert(book, f"校验通过：未发现问题（{rules}）。", f"Validation passed: no problems found ({rules}).")
        return
    alert(book,
          f"发现 {counts['error']} 个错误、{counts['warning']} 个警告、{counts['info']} 个提示，已在 {len(flagged)} 个单元格上"
          f"标出（红：错误，黄：警告，蓝：提示；鼠标停在单元格上可看说明）。完整列表见“{RESULTS_SHEET}”工作表，"
          f"点位置可跳到该单元格。（{rules}）",
          f"Found {counts['error']} error(s), {counts['warning']} warning(s) and {counts['info']} note(s), marked on "
          f"{len(flagged)} cell(s) (red: error, yellow: warning, blue: note; hover for the note). The full list with "
          f"links to the cells is on the {RESULTS_SHEET} sheet. ({rules})",
          problem=bool(counts["error"]))


def recompute(book: xw.Book) -> None:
    """重新计算: every employee's scores from the inputs, beside what the sheet's formulas show.

    Writes the 重新计算 sheet (one row per employee: the engine's subtotals,
    bonus, total, grade and coefficient, the sheet's own total and the
    difference) and says how many employees differ or lack inputs.
    """
    rulebook = rulebook_of(book)
    set_status(book, "正在读取考核表… / reading the workbook…")
    book.app.calculate()  # so that the sheet's own totals are current before comparing
    team = _team_workbook(book, rulebook)
    if team.identity.rulebook_fingerprint and team.identity.rulebook_fingerprint != rulebook.fingerprint():
        raise HandlerError(
            f"本表按另一版规则表生成（表内指纹 {team.identity.rulebook_fingerprint}，当前规则表 "
            f"{rulebook.fingerprint()}）。请把汇总表“设置”中的规则表（或 KPISHEET_RULEBOOK）指向生成本表时的规则表。",
            f"this workbook was made with another rulebook (fingerprint {team.identity.rulebook_fingerprint}, "
            f"the rulebook in force is {rulebook.fingerprint()}). Point the rulebook of the master's 设置 (or "
            "KPISHEET_RULEBOOK) at the rulebook the workbook was made with.")
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


def forms(book: xw.Book) -> None:
    """生成表格: one team workbook per team of the roster, as `kpisheet forms` writes them (the same service)."""
    from kpisheet.xladdin.forms.service import FormsExist, write_forms

    settings = settings_of(book)
    rulebook = settings.rulebook()
    roster = settings.roster(rulebook, required=True)
    period = settings.period()
    out = settings.folder("forms_folder")
    set_status(book, f"正在生成 {period} 考核表… / writing the team workbooks for {period}…")
    where = key_path()
    signing_key, created = load_or_create_key(where)
    try:
        written = write_forms(rulebook, roster, period, out, deadline=settings.deadline(),
                              overwrite=settings.flag("overwrite_forms"), signing_key=signing_key)
    except FormsExist as error:
        error.hint_zh = f"如确认覆盖，请把{settings.where('overwrite_forms')}改为“是”"
        error.hint_en = f"to overwrite them, set {settings.where_en('overwrite_forms')} to 是 (yes)"
        raise
    _remember_safely(settings)
    names = "\n".join(f"• {form.path.name}" for form in written[:12])
    if len(written) > 12:
        names += f"\n… 共 {len(written)} 个"
    made_zh, made_en = created_notice(where, signing_key) if created else ("", "")
    alert(book, f"已生成 {len(written)} 个团队考核表（{period}），保存在：\n{out}\n{names}" + (f"\n{made_zh}" if created else ""),
          f"Wrote {len(written)} team workbook(s) for {period} into {out}." + (f" {made_en}" if created else ""))


def consolidate(book: xw.Book) -> None:
    """汇总: validate the inbox and merge the accepted workbooks into the master, as `kpisheet consolidate`."""
    from kpisheet.xladdin.master.consolidate import consolidate as run_consolidation

    settings = settings_of(book)
    inbox = settings.existing_folders("inbox")
    master = settings.master()
    rulebook = settings.rulebook()
    roster = settings.roster(rulebook)
    period = settings.period(required=False)
    existed = master.is_file()
    settings_here = M.SETTINGS in sheet_names(book)
    app = book.app
    shown = [-1]

    def progress(done: int, total: int) -> None:
        step = max(1, total // 50)
        if done == total or done - shown[0] >= step:
            shown[0] = done
            set_status(app, f"正在校验收到的考核表 {done}/{total}… / validating submissions {done}/{total}…")

    set_status(app, "正在汇总… / consolidating…")
    with _master_released(book, master):
        result = run_consolidation(inbox, master, rulebook=rulebook, roster=roster, period=period, progress=progress,
                                   signing_key=checking_key()[0])
        if not existed and settings_here and result.written:
            _copy_settings(settings, master, rulebook)
    _remember_safely(settings, master)
    alert(app, *_consolidation_summary(result), problem=bool(result.merge.files["rejected"]))


def calibrate(book: xw.Book) -> None:
    """校准: the forced distribution on the master, as `kpisheet calibrate --period <设置 period>`."""
    from kpisheet.xladdin.master.apply_calibration import calibrate_master
    from kpisheet.xladdin.master.consolidate import update_master

    settings = settings_of(book)
    master = settings.master()
    if not master.is_file():
        raise HandlerError(f"找不到汇总表 {master}：请先点“汇总”生成汇总表，或检查{settings.where('master')}",
                           f"no master at {master}: press 汇总 first, or check {settings.where_en('master')}")
    rulebook = settings.rulebook()
    roster = settings.roster(rulebook)
    by_id = {person.employee_id: person for person in roster} if roster else None
    period = settings.period(required=False)
    app = book.app
    user = current_user()
    set_status(app, "正在校准… / calibrating…")
    with _master_released(book, master):
        outcome, backup = update_master(master, rulebook, lambda data: calibrate_master(
            data, rulebook, now=dt.datetime.now(), roster=by_id, period=period, user=user))
    _remember_safely(settings, master)
    zh, en, attention = _calibration_summary(outcome, master, backup, period)
    alert(app, zh, en, problem=attention)


def findings(book: xw.Book) -> None:
    """问题清单: the findings about the active workbook.

    In the master: its 问题 sheet, activated, with counts. In any other
    workbook: the master's findings about this file, listed on a 问题清单
    sheet with links to the cells; without any, the last 校验结果.
    """
    names = sheet_names(book)
    if M.ISSUES in names and M.SUMMARY in names:
        rows = read_sheet(book.sheets[M.ISSUES])
        severity_at = _header_at(rows, M.ISSUE_COLUMNS, "severity")
        counts = Counter(r[severity_at] for r in rows[1:] if severity_at is not None and severity_at < len(r)
                         and r[severity_at])
        book.sheets[M.ISSUES].activate()
        alert(book, f"汇总表“{M.ISSUES}”工作表：上次汇总的 {counts['error']} 个错误、{counts['warning']} 个警告、"
                    f"{counts['info']} 个提示，按文件列出。",
              f"The master's {M.ISSUES} sheet: {counts['error']} error(s), {counts['warning']} warning(s) and "
              f"{counts['info']} note(s) of the last consolidation, by file.")
        return
    settings = settings_of(book, required=False)
    if settings is not None:
        master = settings.master()
        if master.is_file():
            found = _master_findings(master, settings.rulebook(), book)
            if found:
                _write_list(book, ISSUES_LIST, found, {}, set(names))
                counts = Counter(f.severity for f in found)
                alert(book, f"汇总表 {master.name} 记录了本工作簿的 {len(found)} 个问题（{counts['error']} 个错误），"
                            f"见“{ISSUES_LIST}”工作表，点位置可跳到该单元格。",
                      f"The master {master.name} records {len(found)} finding(s) about this workbook "
                      f"({counts['error']} error(s)); see the {ISSUES_LIST} sheet, with links to the cells.",
                      problem=bool(counts["error"]))
                return
    if RESULTS_SHEET in names:
        rows = read_sheet(book.sheets[RESULTS_SHEET])
        book.sheets[RESULTS_SHEET].activate()
        listed = sum(1 for r in rows[1:] if r and r[0] not in ("", None))
        alert(book, f"汇总表中没有本工作簿的问题记录；上次校验的 {listed} 个问题见“{RESULTS_SHEET}”工作表。",
              f"The master records nothing about this workbook; the last validation's {listed} finding(s) are on "
              f"the {RESULTS_SHEET} sheet.")
        return
    raise HandlerError("没有本工作簿的问题记录：汇总表中没有，也还没有校验过。请先点“校验本表”。",
                       "No findings are recorded for this workbook, neither in the master nor by a validation. "
                       "Press 校验本表 first.")


ACTIONS: dict[str, Callable[[xw.Book], None]] = {
    "validate": validate,
    "recompute": recompute,
    "forms": forms,
    "consolidate": consolidate,
    "calibrate": calibrate,
    "findings": findings,
}


BUTTON_PREFIX = "kpisheet"


def action_of(control_id: str) -> str:
    """The handler a ribbon button runs: button "kpisheetValidate" runs "validate" (see customUI.xml)."""
    if control_id.startswith(BUTTON_PREFIX) and len(control_id) > len(BUTTON_PREFIX):
        rest = control_id[len(BUTTON_PREFIX):]
        return rest[0].lower() + rest[1:]
    return control_id


def on_ribbon(action: str, book: xw.Book | None = None) -> None:
    """Run one ribbon action on ``book`` (default: the calling workbook); never raises.

    ``action`` is a handler name ("validate") or the id of the pressed button
    ("kpisheetValidate"), as the add-in's one VBA callback passes it.
    """
    action = action_of(action)
    try:
        book = book if book is not None else xw.Book.caller()
        app = book.app
    except Exception:
        log = log_exception(f"ribbon action {action!r}")
        # Without a workbook there is no message box; xlwings shows stderr instead
        print(f"kpisheet 无法连接到 Excel 工作簿，详见 {log} / kpisheet could not reach the Excel "
              f"workbook; see {log}", file=sys.stderr)
        return
    try:
        handler = ACTIONS.get(action)
        if handler is None:
            raise HandlerError(f"未知的按钮操作“{action}”，请重新生成加载项。",
                               f"unknown ribbon action {action!r}; rebuild the add-in.")
        handler(book)
    except KpisheetError as error:
        _tell(app, action, *_told(error))
    except OSError as error:
        log_exception(f"ribbon action {action!r}")
        told = as_file_error(error, Path(error.filename or "?"), writing=False)
        _tell(app, action, f"{told.message_zh}。请检查文件夹是否存在、是否有写入权限、文件是否正被其他程序打开。",
              f"{told.message_en}. Check that the folder exists, that you may write there and that no other "
              "program holds the file open.")
    except Exception as error:
        log = log_exception(f"ribbon action {action!r}")
        _tell(app, action, f"操作失败（{type(error).__name__}）。详细信息已写入 {log}，请发给系统管理员。",
              f"The action failed ({type(error).__name__}: {error}). Details were written to {log}; "
              "please send that file to your administrator.")
    finally:
        try:
            set_status(app, None)
        except Exception:  # Excel busy or gone: the status bar resets itself
            log_exception(f"ribbon {action}: status bar")


def _told(error: KpisheetError) -> tuple[str, str]:
    """The message box text of an error: its message, its details and its hint, in each language."""
    zh, en = error.message_zh, error.message_en
    if error.details:
        listed = "\n".join(f"• {line}" for line in error.details[:8])
        more = len(error.details) - 8
        if more > 0:
            listed += f"\n… 另有 {more} 个 / {more} more"
        zh, en = f"{zh}\n{listed}", f"{en} (details above)"
    if error.hint_zh or error.hint_en:
        zh, en = f"{zh}\n→ {error.hint_zh}", f"{en}\n→ {error.hint_en}"
    return zh, en


def _tell(app, action: str, message_zh: str, message_en: str) -> None:
    """A problem message box; if even that fails, the log and stderr (which xlwings shows) get it."""
    try:
        alert(app, message_zh, message_en, problem=True)
    except Exception:
        log_exception(f"ribbon {action}: message box")
        print(f"{message_zh}\n{message_en}", file=sys.stderr)


# --- plumbing ---------------------------------------------------------------------


def _team_workbook(book: xw.Book, rulebook: Rulebook):
    values = read_sheets(book, REQUIRED_SHEETS)
    try:
        return read_team_workbook(values, source=book.name, rulebook=rulebook)
    except NotATeamWorkbook as error:
        raise HandlerError(f"当前工作簿不是考核表：{error.message_zh}",
                           f"the active workbook is not a team workbook: {error.message_en}") from None


def _cell(value):
    return "" if value is None else value


def _remember_safely(settings: MasterSettings, master: Path | None = None) -> None:
    """Remember the master whose 设置 HR just used, for buttons pressed in other workbooks."""
    try:
        remember_master(master if master is not None else settings.master())
    except SettingsError:
        pass  # no master yet: nothing to remember


def _copy_settings(settings: MasterSettings, master: Path, rulebook: Rulebook) -> None:
    """A master just created from another workbook's 设置 gets those settings, paths made absolute."""
    from kpisheet.xladdin.master.consolidate import update_master

    values = {}
    for item in M.SETTING_ITEMS:
        if item.key == "master":
            continue  # in the master itself, blank means the master
        if item.key in ("inbox",):
            values[item.key] = ";".join(str(p) for p in settings.paths(item.key)) or None
        elif item.key in ("roster", "rulebook", "forms_folder"):
            path = settings.path(item.key)
            values[item.key] = str(path) if path else None
        else:
            values[item.key] = settings.text(item.key)

    @dataclass
    class _Change:
        data: M.MasterData
        changed: bool

    def change(data: M.MasterData) -> _Change:
        rows = M.settings_rows(values)
        return _Change(M.MasterData({**data.sheets, M.SETTINGS: rows}, data.meta, data.extra_headers,
                                    data.missing_sheets), data.rows(M.SETTINGS) != rows)

    update_master(master, rulebook, change)


def _master_findings(master: Path, rulebook: Rulebook, book: xw.Book) -> list[Finding]:
    """The master's 问题 rows about ``book``'s file, as findings."""
    from kpisheet.xladdin.master.consolidate import path_labeller
    from kpisheet.xladdin.master.io import read_master

    own = own_file(book)
    label = path_labeller(master)(str(own)) if own is not None else None
    out = []
    for row in read_master(master, rulebook).rows(M.ISSUES):
        file = str(row.get("file") or "")
        if (file == label) if label is not None else (Path(file).name == book.name):
            out.append(Finding(row.get("code") or "", row.get("severity") or "info", row.get("sheet"),
                               row.get("cell"), row.get("employee_id"), row.get("indicator"), row.get("value"),
                               row.get("expected"), row.get("message_zh") or "", row.get("message_en") or "",
                               row.get("hint") or ""))
    return out


def _header_at(rows: list[list], columns, key: str) -> int | None:
    """Column index of ``key`` in the header row of a master sheet read through xlwings."""
    wanted = next(c for c in columns if c.key == key)
    for i, cell in enumerate(rows[0] if rows else []):
        if isinstance(cell, str) and cell.split("\n")[0].strip() in (wanted.zh, wanted.header):
            return i
    return None


def _consolidation_summary(result) -> tuple[str, str]:
    data = result.to_dict()
    n = data["counts"]
    zh = (f"汇总完成：收到 {n['files']} 个文件，接受 {n['files_accepted']}、未变 {n['files_unchanged']}、"
          f"拒绝 {n['files_rejected']}、被替代 {n['files_superseded']}、源文件缺失 {n['files_missing']}；"
          f"员工新增 {n['employees_added']}、更新 {n['employees_updated']}、待复核 {n['employees_review']}。")
    en = (f"Consolidated {n['files']} file(s): {n['files_accepted']} accepted, {n['files_unchanged']} unchanged, "
          f"{n['files_rejected']} rejected, {n['files_superseded']} superseded, {n['files_missing']} missing; "
          f"employees {n['employees_added']} added, {n['employees_updated']} updated, {n['employees_review']} to "
          "review.")
    if data["rejected"]:
        names = "、".join(Path(item["path"]).name for item in data["rejected"][:5])
        zh += f"\n被拒绝的文件（问题见汇总表“{M.ISSUES}”工作表）：{names}"
        en += f"\nRejected files (see the master's {M.ISSUES} sheet): {names}"
    if data["over_quota"]:
        lines = "\n".join(f"• {line}" for line in data["over_quota"][:5])
        zh += f"\n超出强制分布配额（点“校准”处理）：\n{lines}"
        en += "\nOver the distribution quotas (press 校准): see the lines above."
    if result.written:
        zh += f"\n已写入汇总表：{result.master}" + (f"（备份：{result.backup}）" if result.backup else "")
        en += f"\nMaster written: {result.master}" + (f" (backup: {result.backup})" if result.backup else "")
    else:
        zh += f"\n汇总表无变化，未改写：{result.master}"
        en += f"\nNothing changed; the master was left as it was: {result.master}"
    return zh, en


def _calibration_summary(outcome, master: Path, backup: Path | None, period: str | None) -> tuple[str, str, bool]:
    scope_zh = f"{period} " if period else "全部期间 "
    scope_en = f"{period}" if period else "every period"
    if not outcome.departments:
        return (f"汇总表中没有 {scope_zh}的记录，未校准。请检查“设置”中的考核期间，或先点“汇总”。",
                f"The master holds no rows for {scope_en}; nothing was calibrated. Check the period in 设置, or "
                "press 汇总 first.", True)
    zh = f"校准完成（{scope_zh.strip()}）：{len(outcome.changes)} 个校准等级有变更，见汇总表“{M.SUMMARY}”和“{M.LOG}”工作表。"
    en = (f"Calibrated ({scope_en}): {len(outcome.changes)} calibrated grade(s) changed; see the master's "
          f"{M.SUMMARY} and {M.LOG} sheets.")
    notes = [(n.message_zh, n.message_en) for d in outcome.departments for n in d.result.problems]
    notes += [(n.message_zh, n.message_en) for d in outcome.departments for n in d.result.warnings]
    if notes:
        zh += "\n需要 HR 处理：\n" + "\n".join(f"• {z}" for z, _ in notes[:6])
        en += "\nFor HR to look at:\n" + "\n".join(f"• {e}" for _, e in notes[:6])
    if outcome.ineligible:
        zh += f"\n{len(outcome.ineligible)} 人不参与强制分布（试用期、长假或在岗不足）。"
        en += f"\n{len(outcome.ineligible)} people are outside the distribution (probation, leave or too new)."
    if outcome.changed:
        zh += f"\n已写入汇总表：{master}" + (f"（备份：{backup}）" if backup else "")
        en += f"\nMaster written: {master}" + (f" (backup: {backup})" if backup else "")
    else:
        zh += "\n汇总表无变化，未改写。"
        en += "\nNothing changed; the master was left as it was."
    attention = any(d.result.problems or any(w.code == "calibration-quota-unreachable" for w in d.result.warnings)
                    for d in outcome.departments)
    return zh, en, attention


