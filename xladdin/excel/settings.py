"""Where the add-in's folder buttons find their paths: the 设置 sheet of HR's master.

HR types each path once, in the master's 设置 sheet (items defined in
:data:`kpisheet.xladdin.master.layout.SETTING_ITEMS`). A button pressed in the master
reads the sheet as it stands in Excel; a button pressed in any other workbook
(a team workbook from the inbox, say) reads the 设置 sheet of the master the
add-in was last used with, which the add-in remembers in :data:`CONFIG_PATH`
(or the one named by the environment variable :data:`MASTER_ENV`).

Pure Python, no xlwings: the handlers pass the sheet's values in, so this
module is tested without Excel.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from kpisheet.validators.policy.periods import PeriodError, parse_period
from kpisheet.validators.roster import Employee, RosterError, read_roster
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.load import RulebookError, load_rulebook

from kpisheet.xladdin.excel.rulebook_source import current_rulebook, rulebook_path
from kpisheet.xladdin.master.layout import (
    DATE, PERIOD, SETTING_ITEMS, SETTINGS, TEXT, SettingItem, clean_value,
)
from kpisheet.validators.errors import KpisheetError

MASTER_ENV = "KPISHEET_MASTER"
CONFIG_PATH = Path.home() / ".kpisheet" / "xladdin.conf"
CONFIG_MASTER_KEY = "KPISHEET_MASTER"

ITEMS: dict[str, SettingItem] = {item.key: item for item in SETTING_ITEMS}
_YES = {"是", "y", "yes", "true", "1", "覆盖", "是 yes"}
_NO = {"否", "n", "no", "false", "0", "", "否 no"}
_MONTH_START = re.compile(r"^(\d{4})-(\d{2})-01$")


class SettingsError(KpisheetError):
    """A setting is missing or wrong; the message names the workbook, the cell and the fix."""

    code = "settings"
    title_zh, title_en = "设置有误", "settings problem"
    description = "An item of the master's 设置 sheet is missing or wrong; the message names the cell and the fix."


def _normal(text) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(text)).split()).lower()


def _label_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for item in SETTING_ITEMS:
        for form in (item.label, item.zh, item.en, item.key, f"{item.zh}\n{item.en}"):
            forms.setdefault(_normal(form), item.key)
    return forms


_FORMS = _label_forms()


def _a1(row: int, col: int) -> str:
    letters, col = "", col + 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


@dataclass
class MasterSettings:
    """The 设置 sheet of one workbook, read: raw values and where each sits."""

    workbook: str                    # the workbook's name, for messages
    base: Path | None                # the folder relative paths start from
    this_workbook: Path | None       # the workbook's own file (None: never saved)
    raw: dict[str, object] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)  # key -> A1 of the value cell
    missing: tuple[str, ...] = ()    # item keys without a row

    # --- where a value sits, for messages ---------------------------------------------

    def where(self, key: str) -> str:
        item = ITEMS[key]
        cell = self.cells.get(key)
        place = f"{SETTINGS}!{cell}" if cell else SETTINGS
        return f"“{self.workbook}”的 {place}（{item.zh} {item.en}）"

    def where_en(self, key: str) -> str:
        item = ITEMS[key]
        cell = self.cells.get(key)
        place = f"{SETTINGS}!{cell}" if cell else SETTINGS
        return f"{place} ({item.en}) of {self.workbook}"

    def _error(self, key: str, zh: str, en: str) -> SettingsError:
        return SettingsError(f"{self.where(key)}：{zh}", f"{self.where_en(key)}: {en}")

    # --- values ----------------------------------------------------------------------

    def text(self, key: str) -> str | None:
        value = self.raw.get(key)
        if isinstance(value, str):
            value = value.strip()
        return clean_value(TEXT, value)

    def _path(self, text: str) -> Path:
        text = text.strip().strip('"').strip("'").strip()  # Explorer's 复制为路径 adds quotes
        path = Path(os.path.expandvars(os.path.expanduser(text)))
        if not path.is_absolute() and self.base is not None:
            path = self.base / path
        return path

    def path(self, key: str) -> Path | None:
        text = self.text(key)
        return self._path(text) if text else None

    def paths(self, key: str) -> list[Path]:
        text = self.text(key) or ""
        return [self._path(part) for part in re.split(r"[;；\n]", text) if part.strip()]

    def require(self, key: str) -> str:
        text = self.text(key)
        if not text:
            item = ITEMS[key]
            raise self._error(key, f"未填写。请在“{item.zh}”一行的“值”列填写：{item.note_zh}",
                              f"is empty. Fill in the Value of the row {item.en}: {item.note_en}")
        return text

    def existing_file(self, key: str) -> Path:
        self.require(key)
        path = self.path(key)
        if not path.is_file():
            raise self._error(key, f"找不到文件 {path}。请检查路径（相对路径从 {self.base} 算起）",
                              f"no such file: {path}. Check the path (relative paths start at {self.base})")
        return path

    def existing_folders(self, key: str) -> list[Path]:
        self.require(key)
        folders = self.paths(key)
        for folder in folders:
            if not folder.is_dir():
                raise self._error(key, f"找不到文件夹 {folder}。请检查路径（相对路径从 {self.base} 算起）",
                                  f"no such folder: {folder}. Check the path (relative paths start at {self.base})")
        return folders

    def folder(self, key: str) -> Path:
        """A folder to write into: it may not exist yet, but must be a folder if it does."""
        self.require(key)
        folder = self.path(key)
        if folder.exists() and not folder.is_dir():
            raise self._error(key, f"{folder} 是文件，不是文件夹", f"{folder} is a file, not a folder")
        return folder

    def master(self) -> Path:
        """The master file: the 汇总表 setting, or this workbook when blank."""
        path = self.path("master")
        if path is None:
            if self.this_workbook is None:
                raise self._error("master", "留空表示本工作簿，但本工作簿还没有保存过。请先保存本工作簿，或填写汇总表文件路径",
                                  "blank means this workbook, which has never been saved. Save it first, or give "
                                  "the master's path")
            path = self.this_workbook
        if path.suffix.lower() != ".xlsx":
            raise self._error("master", f"汇总表应为 .xlsx 文件：{path}", f"the master must be an .xlsx file: {path}")
        if not path.parent.is_dir():
            raise self._error("master", f"汇总表所在文件夹不存在：{path.parent}",
                              f"the master's folder does not exist: {path.parent}")
        return path

    def period(self, required: bool = True) -> str | None:
        value = self.raw.get("period")
        if isinstance(value, (dt.date, dt.datetime)):
            value = f"{value.year}-{value.month:02d}"  # Excel took "2026-03" for a date
        text = clean_value(PERIOD, value.strip() if isinstance(value, str) else value)
        if not text:
            if required:
                self.require("period")
            return None
        match = _MONTH_START.match(text)
        if match:  # a month Excel turned into a date, written back as text
            text = f"{match.group(1)}-{match.group(2)}"
        try:
            return str(parse_period(text))
        except PeriodError as error:
            raise self._error("period", error.message_zh, error.message_en) from None

    def deadline(self) -> dt.date | None:
        value = self.raw.get("deadline")
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = self.text("deadline")
        if not text:
            return None
        day = clean_value(DATE, text)  # 2026-04-10, 2026/4/10, 2026年4月10日, full-width digits too
        if not isinstance(day, dt.date):
            raise self._error("deadline", f"应为日期，如 2026-04-10，实际为“{text}”",
                              f"must be a date such as 2026-04-10, got {text!r}")
        return day

    def flag(self, key: str) -> bool:
        text = _normal(self.text(key) or "")
        if text in _YES:
            return True
        if text in _NO:
            return False
        raise self._error(key, f"应填“是”或“否”，实际为“{self.text(key)}”", f"must be 是 (yes) or 否 (no), got {self.text(key)!r}")

    # --- what the values name ------------------------------------------------------------

    def rulebook_file(self) -> Path | None:
        """The rulebook file in force: the setting, else the add-in's (KPISHEET_RULEBOOK), else None (built-in)."""
        if self.text("rulebook"):
            return self.existing_file("rulebook")
        env = rulebook_path()
        return Path(env) if env else None

    def rulebook(self) -> Rulebook:
        if not self.text("rulebook"):
            return addin_rulebook()
        path = self.existing_file("rulebook")
        try:
            return load_rulebook(path)
        except RulebookError as error:
            raise self._error("rulebook", f"规则表有问题：\n{_problem_lines(error.problems)}",
                              f"the rulebook has problems (listed above): {path}") from None

    def roster(self, rulebook: Rulebook, required: bool = False) -> list[Employee] | None:
        if not self.text("roster"):
            if required:
                self.require("roster")
            return None
        path = self.existing_file("roster")
        try:
            return read_roster(path, rulebook)
        except RosterError as error:
            raise self._error("roster", f"花名册有问题：\n{_problem_lines(error.problems)}",
                              f"the roster has problems (listed above): {path}") from None


def addin_rulebook() -> Rulebook:
    """The add-in's own rulebook (KPISHEET_RULEBOOK or the built-in one)."""
    try:
        return current_rulebook()
    except RulebookError as error:
        raise SettingsError(f"规则表无法使用：{error.source}\n{_problem_lines(error.problems)}",
                            f"the rulebook cannot be used: {error.source} (details above)") from None


def _problem_lines(problems, limit: int = 8) -> str:
    lines = [f"• {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"… 另有 {len(problems) - limit} 个 / {len(problems) - limit} more")
    return "\n".join(lines)


# --- reading the sheet -----------------------------------------------------------------


def parse_settings(rows: list[list], *, workbook: str, base: Path | None,
                   this_workbook: Path | None = None) -> MasterSettings:
    """The items found in the 设置 sheet's values (rows from A1).

    A row is an item when one of its cells holds an item's label (Chinese,
    English, both, or the key); its value is the next cell to the right, so
    HR may add columns on the left or notes on the right.
    """
    settings = MasterSettings(workbook, base, this_workbook)
    for r, cells in enumerate(rows):
        for c, cell in enumerate(cells):
            if not isinstance(cell, str) or not cell.strip():
                continue
            key = _FORMS.get(_normal(cell))
            if key is None:
                continue
            if key not in settings.cells:
                settings.raw[key] = cells[c + 1] if c + 1 < len(cells) else None
                settings.cells[key] = _a1(r, c + 1)
            break
    settings.missing = tuple(item.key for item in SETTING_ITEMS if item.key not in settings.cells)
    return settings


def missing_rows(settings: MasterSettings) -> list[list[str]]:
    """[label, "", note] rows for the items the sheet lacks, to append below it."""
    return [[ITEMS[key].label, "", ITEMS[key].note] for key in settings.missing]


def read_settings_file(master: Path) -> MasterSettings:
    """The 设置 sheet of the master file at ``master`` (read from disk, not from Excel)."""
    from kpisheet.xladdin.master.io import MasterReadError, guarded_master_read

    if not master.is_file():
        raise SettingsError(
            f"加载项记住的汇总表 {master} 不存在。请打开汇总表后在其中点按钮，或修改 {CONFIG_PATH}",
            f"the master the add-in remembers, {master}, does not exist. Open the master and press the button "
            f"there, or edit {CONFIG_PATH}")
    try:
        read = guarded_master_read(master, (SETTINGS,))
    except MasterReadError as error:
        raise SettingsError(error.message_zh, error.message_en) from None
    if SETTINGS not in read.sheets:
        raise SettingsError(f"汇总表 {master.name} 没有“{SETTINGS}”工作表。请打开汇总表后在其中点按钮",
                            f"the master {master.name} has no {SETTINGS} sheet. Open the master and press "
                            "the button there")
    rows = read.sheets[SETTINGS]
    return parse_settings(rows, workbook=master.name, base=master.parent, this_workbook=master)


# --- the add-in's memory: which master -------------------------------------------------------


def remembered_master() -> Path | None:
    """The master named by KPISHEET_MASTER, else the one in the add-in's config file."""
    named = os.environ.get(MASTER_ENV, "").strip()
    if named:
        return Path(os.path.expandvars(os.path.expanduser(named)))
    try:
        text = CONFIG_PATH.read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        values = re.findall(r'"([^"]*)"', line)
        if len(values) >= 2 and values[0].strip().upper() == CONFIG_MASTER_KEY and values[1].strip():
            return Path(os.path.expandvars(os.path.expanduser(values[1].strip())))
    return None


def remember_master(master: Path) -> None:
    """Note ``master`` in the config file, for buttons pressed in other workbooks; best effort."""
    master = master.resolve()
    if remembered_master() == master:
        return
    try:
        lines = CONFIG_PATH.read_text(encoding="utf-8").splitlines() if CONFIG_PATH.is_file() else []
    except OSError:
        lines = []
    kept = [line for line in lines if not re.match(rf'\s*"{CONFIG_MASTER_KEY}"', line, re.IGNORECASE)]
    kept.append(f'"{CONFIG_MASTER_KEY}","{master}"')
    try:
        CONFIG_PATH.parent.mkdir(parents=True, exist_ok=True)
        CONFIG_PATH.write_text("\n".join(kept) + "\n", encoding="utf-8")
    except OSError:
        pass  # the buttons still work in the master itself
