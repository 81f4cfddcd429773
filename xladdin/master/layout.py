"""HR's master workbook: its sheets and columns, defined once for the writer and the reader.

Every column says who owns it, because that decides what a re-run may touch:

- ``SOURCE``  refreshed from the newest accepted submission of the row's team and period;
- ``DERIVED`` recomputed by consolidation from the rows themselves (final grade, rank, ...);
- ``KEPT``    set by kpisheet at one moment (a review flag, a roll-up flag) and then kept:
              a re-run never clears it, HR may;
- ``HR``      typed by HR and never overwritten by consolidation.

Headers are "中文\\nEnglish" in one cell. The reader finds columns by header,
so HR may reorder them, and a master re-saved by Excel, WPS or LibreOffice
still reads (see :mod:`kpisheet.xladdin.master.io`). Row 0 is the header, data start on
row 1; rows and columns are 0-based like xlsxwriter's.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from kpisheet.validators.policy.grading import bands_best_first
from kpisheet.validators.rulebook.model import Rulebook

# the record's own words (a file's standing, a row's source, audit actions) are shown as stored
from kpisheet.xladdin.record.words import (  # noqa: F401  (re-exported: the master's words in one place)
    LOG_FINAL, LOG_INTEGRITY, LOG_REVIEW, LOG_SOURCE, LOG_SUBMISSION, LOG_UPDATE, REVIEW, SOURCE_DROPPED,
    SOURCE_MISSING, SOURCE_PRESENT, SUB_ACCEPTED, SUB_MISSING, SUB_REJECTED, SUB_SUPERSEDED,
)

MASTER_ID = "kpisheet.master"
# Bump when a column's meaning changes; the reader maps old headers by name anyway.
LAYOUT_VERSION = "1"

# sheet names
SUMMARY = "总表"
PRINT = "打印"  # 总表 laid out for paper, rebuilt on every write (kpisheet.xladdin.master.printout)
DETAIL = "指标明细"
DISTRIBUTION = "分布"
ANALYSIS = "分析"
SUBMISSIONS = "提交"
ISSUES = "问题"
APPEALS = "申诉"
ANNUAL = "年度"
LOG = "日志"
SETTINGS = "设置"
META = "_meta"
SHEET_ORDER = (SUMMARY, PRINT, DETAIL, DISTRIBUTION, ANALYSIS, SUBMISSIONS, ISSUES, APPEALS, ANNUAL, LOG, SETTINGS, META)

HEADER_ROW = 0
FIRST_DATA_ROW = 1

# owners
SOURCE = "source"
DERIVED = "derived"
KEPT = "kept"
HR = "hr"

# kinds: how a value is stored, formatted and read back
TEXT = "text"
PERIOD = "period"      # text; a period Excel turned into a date is read back as YYYY-MM
SCORE = "score"        # 0.00
NUMBER = "number"      # general number
MEASURE = "measure"    # an indicator's floor/target/actual: % when the row's unit is percent
INT = "int"
SHARE = "share"        # 0.0%
DATE = "date"
DATETIME = "datetime"


@dataclass(frozen=True)
class MasterColumn:
    key: str
    zh: str
    en: str
    width: float
    kind: str = TEXT
    owner: str = SOURCE
    fit: bool = True  # widen to the content (hashes and long texts keep their width)

    @property
    def header(self) -> str:
        return f"{self.zh}\n{self.en}"


def _col(key, zh, en, width, kind=TEXT, owner=SOURCE, fit=True) -> MasterColumn:
    return MasterColumn(key, zh, en, width, kind, owner, fit)


# Values kpisheet writes into flag and status cells; later commands filter on them.
YES = "是 yes"
NO = "否 no"
LEVEL_DEPARTMENT = "部门 department"
LEVEL_TEAM = "团队 team"
KIND_INDICATOR = "指标 indicator"
KIND_CATEGORY = "类别 category"

class _NoCategories:
    categories: tuple = ()


_NO_CATEGORIES = _NoCategories()


def summary_columns(rulebook: Rulebook) -> tuple[MasterColumn, ...]:
    """总表: one row per period x employee; one subtotal column per rulebook category."""
    subtotals = tuple(
        _col(f"subtotal_{c.code}", f"{c.name_zh}小计", c.name_en, 10, SCORE) for c in rulebook.categories
    )
    return (
        _col("period", "考核期间", "Period", 10, PERIOD),
        _col("employee_id", "工号", "ID", 10),
        _col("name", "姓名", "Name", 9),
        _col("department", "部门", "Department", 12),
        _col("team", "团队", "Team", 12),
        _col("role", "岗位", "Role", 12),
        _col("manager", "直接上级", "Manager", 14),
        _col("status", "员工状态", "Status", 8),
        _col("post_start", "任职开始日期", "In post since", 12, DATE),
        # DESIGN 1: probation, long leave and under the minimum months in post are out of the forced
        # distribution "and marked": 是/否 and calibration's own reason (kpisheet.validators.policy.calibration.eligibility)
        _col("in_distribution", "参与强制分布", "In distribution", 10, TEXT, DERIVED),
        _col("excluded_why", "不参与原因", "Why not in distribution", 28, TEXT, DERIVED),
        *subtotals,
        _col("bonus", "加分", "Bonus", 7, SCORE),
        _col("veto", "一票否决", "Veto", 12),
        _col("total", "总分", "Total", 8, SCORE),
        _col("system_grade", "系统等级", "System grade", 8),
        _col("calibrated_grade", "校准等级", "Calibrated grade", 10, TEXT, HR),
        _col("override_reason", "调整理由", "Override reason", 24, TEXT, HR),
        _col("final_grade", "最终等级", "Final grade", 8, TEXT, DERIVED),
        _col("coefficient", "绩效系数", "Coefficient", 9, SCORE, DERIVED),
        _col("dept_rank", "部门排名", "Rank in dept", 8, INT, DERIVED),
        _col("pip", "改进计划", "PIP", 8, TEXT, DERIVED),
        _col("consecutive_d", "连续D", "Consecutive D", 10, TEXT, KEPT),
        _col("review", "复核标记", "Review flag", 12, TEXT, KEPT),
        _col("appeal_status", "申诉状态", "Appeal status", 12, TEXT, HR),
        _col("hr_notes", "HR备注", "HR notes", 24, TEXT, HR),
        _col("feedback", "反馈面谈记录", "Feedback interview", 24, fit=False),
        _col("pip_shortfalls", "待改进问题", "PIP shortfalls", 20),
        _col("pip_actions", "改进措施", "PIP actions", 20),
        _col("pip_owner", "辅导人", "PIP owner", 9),
        _col("pip_due", "完成日期", "PIP due", 11),
        _col("source_file", "来源文件", "Source file", 28),
        _col("source_sha256", "文件SHA256", "Source SHA-256", 16, fit=False),
        _col("source_status", "来源状态", "Source status", 16, TEXT, DERIVED),
        _col("updated_at", "更新时间", "Updated at", 18, DATETIME, DERIVED),
    )


SUMMARY_KEY = ("period", "employee_id")


def summary_columns_kept() -> tuple[MasterColumn, ...]:
    """总表's KEPT columns (flags kpisheet sets and HR may clear); they do not depend on the rulebook."""
    return tuple(c for c in summary_columns(_NO_CATEGORIES) if c.owner == KEPT)

DETAIL_COLUMNS: tuple[MasterColumn, ...] = (
    _col("period", "考核期间", "Period", 10, PERIOD),
    _col("employee_id", "工号", "ID", 10),
    _col("name", "姓名", "Name", 9),
    _col("department", "部门", "Department", 12),
    _col("team", "团队", "Team", 12),
    _col("category", "类别", "Category", 9),
    _col("code", "指标代码", "Code", 13),
    _col("indicator", "指标", "Indicator", 20),
    _col("unit", "单位", "Unit", 7),
    _col("weight", "权重%", "Weight %", 8, NUMBER),
    _col("floor", "底线值", "Floor", 9, MEASURE),
    _col("target", "目标值", "Target", 9, MEASURE),
    _col("challenge", "挑战值", "Challenge", 9, MEASURE),
    _col("actual", "实际值", "Actual", 9, MEASURE),
    _col("self_rating", "自评", "Self", 6, NUMBER),
    _col("manager_rating", "上级评分", "Manager", 8, NUMBER),
    _col("score", "指标得分", "Score", 9, SCORE),
    _col("weighted", "加权得分", "Weighted", 9, SCORE),
    _col("comment", "说明/依据", "Evidence / comment", 30, fit=False),
)
DETAIL_KEY = ("period", "employee_id", "code")
PERCENT_UNIT = "%"  # the 单位 text of a percent indicator (kpisheet.validators.rulebook.model.UNIT_LABELS)

SUBMISSION_COLUMNS: tuple[MasterColumn, ...] = (
    _col("path", "文件", "File", 36),
    _col("sha256", "SHA256", "SHA-256", 16, fit=False),
    _col("department", "部门", "Department", 12),
    _col("team", "团队", "Team", 12),
    _col("period", "考核期间", "Period", 10, PERIOD),
    _col("status", "状态", "Status", 14),
    _col("errors", "错误数", "Errors", 7, INT),
    _col("warnings", "警告数", "Warnings", 7, INT),
    _col("first_seen", "首次收到", "First seen", 18, DATETIME),
    _col("modified", "文件修改时间", "File modified", 18, DATETIME),
    _col("saved_by", "保存人", "Saved by", 12),
    _col("note", "说明", "Note", 40, fit=False),
)

ISSUE_COLUMNS: tuple[MasterColumn, ...] = (
    _col("file", "文件", "File", 30),
    _col("code", "代码", "Code", 22),
    _col("severity", "级别", "Severity", 8),
    _col("sheet", "工作表", "Sheet", 10),
    _col("cell", "单元格", "Cell", 7),
    _col("employee_id", "工号", "ID", 10),
    _col("indicator", "指标", "Indicator", 12),
    _col("value", "发现值", "Value", 12),
    _col("expected", "期望值", "Expected", 12),
    _col("message_zh", "说明", "Message (zh)", 40, fit=False),
    _col("message_en", "Message", "Message (en)", 40, fit=False),
    _col("hint", "修改建议", "Fix hint", 36, fit=False),
)

# 申诉: HR records an appeal; kpisheet fills the computed deadlines and flags.
APPEAL_COLUMNS: tuple[MasterColumn, ...] = (
    _col("period", "考核期间", "Period", 10, PERIOD, HR),
    _col("employee_id", "工号", "ID", 10, TEXT, HR),
    _col("name", "姓名", "Name", 9, TEXT, DERIVED),
    _col("published_date", "结果公布日期", "Published", 12, DATE, HR),
    _col("filed_date", "申诉日期", "Filed", 12, DATE, HR),
    _col("reason", "申诉理由", "Reason", 30, TEXT, HR),
    _col("file_by", "申诉截止", "File by", 12, DATE, DERIVED),
    _col("late_filing", "逾期申诉", "Late filing", 9, TEXT, DERIVED),
    _col("accept_by", "受理截止", "Accept by", 12, DATE, DERIVED),
    _col("accepted_date", "受理日期", "Accepted", 12, DATE, HR),
    _col("resolve_by", "处理截止", "Resolve by", 12, DATE, DERIVED),
    _col("resolved_date", "处理完成日期", "Resolved", 12, DATE, HR),
    _col("outcome", "处理结果", "Outcome", 14, TEXT, HR),
    _col("revised_grade", "改定等级", "Revised grade", 9, TEXT, HR),
    _col("handler", "经办人", "Handler", 9, TEXT, HR),
    _col("overdue", "处理逾期", "Overdue", 9, TEXT, DERIVED),
    _col("hr_notes", "HR备注", "HR notes", 24, TEXT, HR),
    # what kpisheet could not compute or wants checked (e.g. deadlines estimated for want of a holiday calendar)
    _col("system_note", "系统提示", "System note", 40, TEXT, DERIVED),
)
APPEAL_KEY = ("period", "employee_id")


def annual_columns(rulebook: Rulebook) -> tuple[MasterColumn, ...]:
    """年度: one row per year x employee; one column per weighted sub-period of the year."""
    parts = tuple(
        _col(f"score_{key}", f"{key}得分", f"{key} score", 8, SCORE, DERIVED) for key in rulebook.periods.year_weights
    )
    return (
        _col("year", "年度", "Year", 7, PERIOD, DERIVED),
        _col("employee_id", "工号", "ID", 10, TEXT, DERIVED),
        _col("name", "姓名", "Name", 9, TEXT, DERIVED),
        _col("department", "部门", "Department", 12, TEXT, DERIVED),
        _col("team", "团队", "Team", 12, TEXT, DERIVED),
        *parts,
        _col("annual_total", "年度得分", "Annual score", 9, SCORE, DERIVED),
        _col("annual_grade", "年度等级", "Annual grade", 8, TEXT, DERIVED),
        _col("d_count", "D次数", "D count", 7, INT, DERIVED),
        _col("consecutive_d", "连续D", "Consecutive D", 10, TEXT, DERIVED),
        _col("pip", "改进计划", "PIP", 8, TEXT, DERIVED),
        _col("hr_notes", "HR备注", "HR notes", 24, TEXT, HR),
        _col("updated_at", "更新时间", "Updated at", 18, DATETIME, DERIVED),
    )


ANNUAL_KEY = ("year", "employee_id")

LOG_COLUMNS: tuple[MasterColumn, ...] = (
    _col("time", "时间", "Time", 18, DATETIME),
    _col("action", "操作", "Action", 16),
    _col("key", "对象", "Key", 22),
    _col("column", "字段", "Column", 12),
    _col("old", "原值", "Old", 14),
    _col("new", "新值", "New", 14),
    _col("reason", "原因", "Reason", 44, fit=False),
    _col("by", "操作人", "By", 10),
)


def distribution_columns(rulebook: Rulebook) -> tuple[MasterColumn, ...]:
    """分布: grade counts and shares per department and team, against the quotas."""
    counts = tuple(_col(f"count_{g.grade}", f"{g.grade}人数", f"{g.grade} count", 7, INT) for g in bands_best_first(rulebook))
    return (
        _col("period", "考核期间", "Period", 10, PERIOD),
        _col("level", "层级", "Level", 13),
        _col("department", "部门", "Department", 12),
        _col("team", "团队", "Team", 12),
        _col("headcount", "人数", "Headcount", 8, INT),
        _col("eligible", "参与分布人数", "In distribution", 10, INT),
        *counts,
        _col("share_top", "最高等级占比", "Top share", 10, SHARE),
        _col("share_top2", "前两等级占比", "Top-2 share", 10, SHARE),
        _col("share_mid", "中间等级占比", "Middle share", 10, SHARE),
        _col("share_low", "后两等级占比", "Bottom share", 10, SHARE),
        _col("pooled", "并入部门计算", "Pooled", 10),
        _col("over_quota", "配额检查", "Quota check", 44, fit=False),
    )


ANALYSIS_COLUMNS: tuple[MasterColumn, ...] = (
    _col("period", "考核期间", "Period", 10, PERIOD),
    _col("level", "层级", "Level", 13),
    _col("department", "部门", "Department", 12),
    _col("team", "团队", "Team", 12),
    _col("kind", "类型", "Kind", 12),
    _col("code", "代码", "Code", 13),
    _col("name", "名称", "Name", 20),
    _col("people", "人数", "People", 6, INT),
    _col("mean", "平均得分", "Mean score", 9, SCORE),
    _col("previous_period", "上期", "Previous period", 10, PERIOD),
    _col("previous_mean", "上期平均", "Previous mean", 9, SCORE),
    _col("change", "变化", "Change", 8, SCORE),
)

# 设置: HR's settings for the add-in's folder buttons (生成表格, 汇总, 校准, 问题清单),
# one row per item, so HR types each path once, in the master itself.
@dataclass(frozen=True)
class SettingItem:
    key: str
    zh: str
    en: str
    note_zh: str
    note_en: str

    @property
    def label(self) -> str:
        return f"{self.zh} {self.en}"

    @property
    def note(self) -> str:
        return f"{self.note_zh} / {self.note_en}"


SETTING_ITEMS: tuple[SettingItem, ...] = (
    SettingItem("inbox", "收件文件夹", "Inbox folder",
                "经理提交的考核表所在文件夹；多个用分号 ; 分隔。相对路径从本汇总表所在文件夹算起",
                "folder(s) holding the submitted team workbooks, separated by ; (relative to this master's folder)"),
    SettingItem("master", "汇总表", "Master file",
                "留空表示本工作簿；也可填另一个汇总表文件", "blank: this workbook; or another master file"),
    SettingItem("roster", "花名册", "Roster file", "花名册 roster.xlsx 的路径", "path of the roster .xlsx"),
    SettingItem("rulebook", "规则表", "Rulebook file",
                "留空使用加载项的规则表（KPISHEET_RULEBOOK 或内置）", "blank: the add-in's rulebook (KPISHEET_RULEBOOK or built-in)"),
    SettingItem("forms_folder", "考核表输出文件夹", "Forms output folder",
                "“生成表格”把各团队考核表写到这里", "生成表格 writes the team workbooks here"),
    SettingItem("period", "考核期间", "Period",
                "如 2026-Q1、2026-03、2026-H1、2026；生成表格、汇总、校准都按此期间",
                "e.g. 2026-Q1, 2026-03, 2026-H1, 2026; used by 生成表格, 汇总 and 校准"),
    SettingItem("deadline", "提交截止日期", "Submission deadline",
                "可留空；写入考核表的填写说明，如 2026-04-10", "optional; printed on the forms' guide, e.g. 2026-04-10"),
    SettingItem("overwrite_forms", "覆盖已有考核表", "Overwrite existing forms",
                "是 / 否（默认否）：输出文件夹里已有同名考核表时是否覆盖",
                "是 yes / 否 no (default no): whether 生成表格 replaces workbooks already in the output folder"),
)

SETTINGS_COLUMNS: tuple[MasterColumn, ...] = (
    _col("item", "设置项", "Setting", 26, TEXT, DERIVED),
    _col("value", "值", "Value", 50, TEXT, HR),
    _col("note", "说明", "Meaning", 70, TEXT, DERIVED, fit=False),
)


def settings_rows(values: dict[str, str] | None = None) -> list[dict]:
    """The 设置 rows of a new master: every item, with ``values`` by item key (blank by default)."""
    values = values or {}
    return [{"item": i.label, "value": values.get(i.key) or None, "note": i.note} for i in SETTING_ITEMS]


# _meta: key in column A, value in column B.
META_KEYS = (
    "master_id",
    "layout_version",
    "rulebook_id",
    "rulebook_version",
    "rulebook_fingerprint",
    "kpisheet_version",
    "created_at",
    "written_at",
    "log_rows",
    # the cycle record this master is a view of: its identity, the generation shown, this view's identity
    "store_id",
    "record_generation",
    "view_id",
    "scope",
)


def sheet_columns(rulebook: Rulebook) -> dict[str, tuple[MasterColumn, ...]]:
    """The columns of every tabular sheet, by sheet name."""
    return {
        SUMMARY: summary_columns(rulebook),
        DETAIL: DETAIL_COLUMNS,
        DISTRIBUTION: distribution_columns(rulebook),
        ANALYSIS: ANALYSIS_COLUMNS,
        SUBMISSIONS: SUBMISSION_COLUMNS,
        ISSUES: ISSUE_COLUMNS,
        APPEALS: APPEAL_COLUMNS,
        ANNUAL: annual_columns(rulebook),
        LOG: LOG_COLUMNS,
        SETTINGS: SETTINGS_COLUMNS,
    }


# Sheets whose rows are read back and carried over a re-run. 分布 and 分析 are
# rebuilt from 总表 and 指标明细 every time, so they are never read.
STORED_SHEETS = (SUMMARY, DETAIL, SUBMISSIONS, ISSUES, APPEALS, ANNUAL, LOG, SETTINGS)


# ---------------------------------------------------------------------------
# The master in memory, and one canonical form per value kind.

@dataclass
class MasterData:
    """The master's stored sheets as rows (dicts keyed by column key).

    A column HR added by hand has no key: its header text is the key, and it is
    written back after kpisheet's own columns (``extra_headers``).
    """

    sheets: dict[str, list[dict]]
    meta: dict[str, str]
    extra_headers: dict[str, list[str]]
    missing_sheets: tuple[str, ...] = ()
    # sheet -> the 0-based sheet row of each row read from a file (to name the cells of a finding)
    positions: dict[str, list[int]] = field(default_factory=dict)
    sheet_names: tuple[str, ...] = ()  # every sheet of the file read (HR's own included)

    def rows(self, sheet: str) -> list[dict]:
        return self.sheets.setdefault(sheet, [])


def empty_master() -> MasterData:
    data = MasterData({name: [] for name in STORED_SHEETS}, {}, {name: [] for name in STORED_SHEETS})
    data.sheets[SETTINGS] = settings_rows()
    return data


_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _number(value) -> float | None:
    """A number from a cell that may hold text ("85.5", "８５", "1,200", "95%")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(format(float(value), ".15g"))  # Excel keeps 15 significant digits
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace(",", "")
        scale = 1.0
        if text.endswith("%"):
            text, scale = text[:-1].strip(), 0.01
        try:
            return float(format(float(text) * scale, ".15g"))
        except ValueError:
            return None
    return None


def _to_datetime(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 2958466:
        moment = _EXCEL_EPOCH + dt.timedelta(days=float(value))  # a date cell that lost its format
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            match = _DATE_TEXT.fullmatch(text)
            if not match:
                return None
            try:
                return dt.datetime(*map(int, match.groups()))
            except ValueError:
                return None
    else:
        return None
    # serial numbers carry float noise: round to the second
    return (moment + dt.timedelta(microseconds=500_000)).replace(microsecond=0)


def clean_value(kind: str, value):
    """The canonical form of a cell value of ``kind``; None for an empty cell.

    Used on values read back (a spreadsheet program may have turned numbers
    into text or dates into serial numbers) and on values about to be written,
    so that comparing the two says exactly whether a cell changed. What cannot
    be read as the kind is kept as it is, so HR's text is never lost.
    """
    if value is None or value == "":
        return None
    if kind in (TEXT, PERIOD):
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            number = float(value)
            return str(int(number)) if number.is_integer() else format(number, ".15g")
        if isinstance(value, dt.date):
            if kind == PERIOD:
                return f"{value.year}-{value.month:02d}"  # Excel took "2026-03" for a date
            return value.isoformat() if not isinstance(value, dt.datetime) else value.date().isoformat()
        return str(value)
    if kind in (SCORE, NUMBER, MEASURE, SHARE):
        number = _number(value)
        return value if number is None else number
    if kind == INT:
        number = _number(value)
        if number is None:
            return value
        return int(number) if number.is_integer() else number
    if kind == DATE:
        moment = _to_datetime(value)
        return value if moment is None else moment.date()
    if kind == DATETIME:
        moment = _to_datetime(value)
        return value if moment is None else moment
    return value


_NUMERIC = frozenset({SCORE, NUMBER, MEASURE, SHARE})
_TEXTUAL = frozenset({TEXT, PERIOD})


_PLANS: dict[int, tuple] = {}


def _plan(columns: tuple[MasterColumn, ...]) -> tuple[tuple[str, str], ...]:
    """(key, kind) per column, cached by identity: hashing the columns per row would cost more
    than cleaning. The tuple is kept in the cache so its id cannot be reused."""
    entry = _PLANS.get(id(columns))
    if entry is None or entry[0] is not columns:
        if len(_PLANS) > 256:
            _PLANS.clear()
        entry = _PLANS[id(columns)] = (columns, tuple((c.key, c.kind) for c in columns))
    return entry[1]


def clean_row(columns: tuple[MasterColumn, ...], row: dict) -> dict:
    """``row`` with every known column in canonical form (other keys kept as they are).

    The common cases (text in a text column, a float in a number column) are
    handled inline: this runs for every row of a 100,000-row master.
    """
    return clean_own_row(columns, dict(row))


def clean_own_row(columns: tuple[MasterColumn, ...], row: dict) -> dict:
    """:func:`clean_row` on a dict the caller has just made and nobody else holds: cleaned in place,
    without the copy (the record's 指标明细 rows are made and cleaned one by one, hundreds of thousands)."""
    out = row
    for key, kind in _plan(columns):
        value = row.get(key)
        kind_of_value = type(value)
        if value is None:
            out[key] = None
        elif kind_of_value is str and kind in _TEXTUAL:
            out[key] = value or None
        elif kind_of_value is float and kind in _NUMERIC:
            out[key] = float(format(value, ".15g"))
        else:
            out[key] = clean_value(kind, value)
    return out
