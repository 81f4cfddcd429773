"""The rulebook as an Excel workbook, for HR to edit in Excel or WPS.

One sheet per table. Row 1 holds the model's field names exactly (the
machine reads these), row 2 a Chinese label for people (skipped on reading
while it still reads as labels), data start on row 3. Scalar sections are
key/value sheets. Lists inside a cell are one item per line (Alt+Enter).

Reading is as strict as the YAML form: unknown sheets, columns and keys are
errors, and every problem, including pydantic's and the cross-field checks',
is reported at its ``sheet!cell``.

Numbers keep 16 significant digits (openpyxl's and xlsxwriter's precision;
Excel itself shows 15), so any number a person typed comes back exactly.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Iterable

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from kpisheet.validators.rulebook.model import (
    Appeals, Category, Comments, Distribution, Eligibility, GradeBand, HolidayYear, Incident, Indicator, Meta,
    Method, Outcomes, Periods, Records, Role, Rulebook, Scoring, Unit, Veto,
)
from kpisheet.validators.rulebook.from_data import rulebook_from_data
from kpisheet.validators.rulebook.problems import (
    RuleProblem, RulebookError, key_path, locate, problems_from_validation,
)

README_SHEET = "说明"
HEADER_ROW, LABEL_ROW, FIRST_DATA_ROW = 1, 2, 3
KV_COLUMNS = ("key", "value", "note_zh")
MAX_ROWS, MAX_COLUMNS = 2000, 60  # far beyond any rulebook; a bigger sheet is a wrong file
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Table:
    """A sheet with one row per list item of the rulebook section at ``path``."""

    sheet: str
    path: tuple[str, ...]
    model: type[BaseModel]
    nested: tuple[str, ...] = ()  # fields kept on their own sheet

    @property
    def columns(self) -> list[str]:
        return [name for name in self.model.model_fields if name not in self.nested]


# Scalar sections: key/value sheets named as the section; `scoring.vetoes` has its own table.
KV_SECTIONS: dict[str, type[BaseModel]] = {
    "meta": Meta, "scoring": Scoring, "distribution": Distribution, "comments": Comments,
    "eligibility": Eligibility, "periods": Periods, "appeals": Appeals, "outcomes": Outcomes,
    "records": Records,
}
KV_NESTED = {"scoring": ("vetoes",)}
TABLES = {
    "categories": Table("categories", ("categories",), Category),
    "roles": Table("roles", ("roles",), Role, ("weights",)),
    "indicators": Table("indicators", ("indicators",), Indicator, ("incidents",)),
    "vetoes": Table("vetoes", ("scoring", "vetoes"), Veto),
    "grades": Table("grades", ("grades",), GradeBand),
    "holidays": Table("holidays", ("holidays",), HolidayYear),
}
# Child tables: each row names its parent by code.
WEIGHTS_SHEET, WEIGHTS_COLUMNS = "weights", ("role", "indicator", "weight")
INCIDENTS_SHEET = "incidents"
INCIDENTS_COLUMNS = ("indicator", *Incident.model_fields)

SHEET_ORDER = (README_SHEET, "meta", "categories", "roles", WEIGHTS_SHEET, "indicators", INCIDENTS_SHEET,
               "scoring", "vetoes", "grades", "distribution", "comments", "eligibility", "periods",
               "appeals", "outcomes", "records", "holidays")
# Sheets a rulebook workbook may leave out (made before they existed); the rest must all be there.
OPTIONAL_SHEETS = ("holidays",)

# Chinese labels for row 2 and the key/value notes; (sheet, field) overrides a plain field name.
LABELS: dict[str | tuple[str, str], str] = {
    "key": "键（勿改）", "value": "值", "note_zh": "说明",
    "code": "代码（字母开头，字母/数字/下划线）", "name_zh": "中文名称", "name_en": "英文名称",
    "id": "规则表编号", "version": "版本号", "department_zh": "部门（中文）", "department_en": "部门（英文）",
    ("categories", "weight"): "类别权重（合计 100）",
    ("roles", "code"): "岗位代码", ("roles", "name_zh"): "岗位名称（花名册用）",
    "role": "岗位代码（roles 表）", "indicator": "指标代码（indicators 表）",
    ("weights", "weight"): "默认权重（每岗位合计 100）",
    ("indicators", "code"): "指标代码", "category": "类别代码（categories 表）",
    "unit": "单位：percent 百分比 / hours 小时 / minutes 分钟 / count 次数 / points 扣分 / rating 1-5分",
    "method": "评分方法：higher_better 越高越好 / lower_better 越低越好 / deduction 扣分 / rating 等级 / count 计数",
    "floor": "底线值（得 0 分；百分比写小数）", "target": "目标值（得 100 分）", "challenge": "挑战值（得封顶分）",
    "weight_min": "最小权重", "weight_max": "最大权重", "editable_targets": "经理可改目标值（TRUE/FALSE）",
    "mandatory": "必选指标（TRUE/FALSE）", "anchors_zh": "等级评分描述（每行一条，Alt+Enter 换行）",
    ("incidents", "code"): "扣分事项代码", "points": "每次扣分",
    ("vetoes", "code"): "一票否决事项代码",
    "grade": "等级", "min": "最低分（含）", "coefficient": "绩效系数",
    "cap": "单项得分封顶", "rating_points": "等级 1-5 对应的分值（每行一个）", "self_weight": "自评计入比例（默认 0）",
    "bonus_per_commendation": "每次表扬加分", "bonus_cap": "加分上限（加在总分上）",
    "indicators_per_role_min": "每个岗位最少指标数", "indicators_per_role_max": "每个岗位最多指标数",
    "decimals": "总分保留小数位（四舍五入）", "veto_grade": "一票否决时的等级",
    "s_max": "S 人数比例上限", "sa_max": "S+A 人数比例上限", "b_min": "B 人数比例下限",
    "cd_min": "C+D 人数比例下限", "cd_max": "C+D 人数比例上限",
    "pool_below": "人数少于此值的团队合并到部门计算", "small_team_max": "小团队人数上限",
    "small_team_s_max": "小团队 S 名额上限", "override_needs_reason": "调整等级须写理由（TRUE/FALSE）",
    "extreme_high": "单项得分达到或高于此值（≥）须写说明", "extreme_low": "单项得分等于或低于此值（≤）须写说明",
    "self_gap": "自评与上级评分相差超过此值须写说明",
    "excluded_statuses": "不参加强制分布的员工状态（每行一个）", "min_months_in_post": "考核期内最少在岗月数",
    "quarter_from_months": "季度由月度汇总的方式（mean 平均）", "year_weights": "年度中各季度的权重（合计 100）",
    "signoff_days_after_end": "考核期结束后几天内须完成签字",
    "file_within_workdays": "公布后几个工作日内可申诉", "accept_within_workdays": "HR 受理时限（工作日）",
    "resolve_within_workdays": "申诉办结时限（工作日）",
    "pip_grades": "需制定改进计划的等级（每行一个）", "pip_months_min": "改进计划最短月数",
    "pip_months_max": "改进计划最长月数", "consecutive_d_review": "连续几次 D 提交 HR 复核",
    "retention_years": "记录保存年限",
    "year": "年份",
    "source": "依据：国务院办公厅通知的名称与文号",
    ("holidays", "holidays"): "放假日（每行一个日期，或范围 2027-02-05..2027-02-11；含假期内的周末）",
    "workdays": "调休上班日（周末上班的日期，每行一个）",
}

SHEET_NOTES: dict[str, str] = {
    "meta": "规则表名称与版本 / name and version",
    "categories": "考核类别与权重 / categories and weights",
    "roles": "岗位 / roles",
    WEIGHTS_SHEET: "岗位 × 指标的默认权重，每行一个 / default weight of each indicator per role",
    "indicators": "考核指标与评分参数 / indicators and scoring parameters",
    INCIDENTS_SHEET: "扣分制指标的扣分事项 / deduction incidents",
    "scoring": "计分参数 / scoring parameters",
    "vetoes": "一票否决事项 / veto events",
    "grades": "等级、分数线与绩效系数 / grade bands and pay coefficients",
    "distribution": "强制分布比例 / forced-distribution quotas",
    "comments": "须写说明的情形 / when a comment is required",
    "eligibility": "参加强制分布的资格 / eligibility",
    "periods": "考核周期与年度权重 / periods and roll-up weights",
    "appeals": "申诉时限 / appeal deadlines",
    "outcomes": "结果运用 / outcomes",
    "records": "记录保存 / records",
    "holidays": "chinesecalendar 尚未收录年份的法定节假日与调休安排（照国务院通知填写）/ official holiday "
                "schedules for years the holiday package does not know yet",
}

_TRUE_WORDS = {"是": True, "否": False, "对": True, "错": False}
_SAFE_SHEET = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def label(sheet: str, name: str) -> str:
    return LABELS.get((sheet, name)) or LABELS.get(name) or name


# --- field kinds ----------------------------------------------------------

def _unwrap(annotation: Any) -> Any:
    """``float | None`` -> float."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _kind(annotation: Any) -> str:
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin is list:
        return "list"
    if origin is dict:
        return "dict"
    if annotation is bool:
        return "bool"
    if annotation is str:
        return "str"
    return "other"


def _is_share(info: FieldInfo) -> bool:
    """Fractions 0..1 (quotas, self weight) show as percentages in Excel."""
    return any(getattr(m, "le", None) == 1 for m in info.metadata)


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _item_type(annotation: Any) -> Any:
    args = typing.get_args(_unwrap(annotation))
    return args[0] if args else Any


def _coerce(value: Any, annotation: Any) -> Any:
    """A cell value into what the field expects, as an HR user would mean it."""
    kind = _kind(annotation)
    if kind == "list":
        if value is None:
            return []
        items = str(value).splitlines() if isinstance(value, str) else [value]
        item_type = _item_type(annotation)
        return [_coerce(item.strip() if isinstance(item, str) else item, item_type)
                for item in items if not (isinstance(item, str) and not item.strip())]
    if kind == "str" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number_text(value)  # a version typed as 2026.1 becomes a number in Excel
    if kind == "bool" and isinstance(value, str) and value.strip() in _TRUE_WORDS:
        return _TRUE_WORDS[value.strip()]
    return value


# --- writing --------------------------------------------------------------

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")
_LABEL_FONT = Font(italic=True, color="595959")
_LABEL_FILL = PatternFill("solid", fgColor="E7E6E6")
_KEY_FILL = PatternFill("solid", fgColor="F2F2F2")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_PERCENT = "0.0##%"


def _cell_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list) and value and all(isinstance(v, dt.date) for v in value):
        return "\n".join(_date_runs(value))
    if isinstance(value, list):
        return "\n".join(_number_text(item) if isinstance(item, (int, float)) else str(item) for item in value)
    return value


def _date_runs(days: list[dt.date]) -> list[str]:
    """Dates as HR reads a notice: consecutive days as one range (2027-02-05..2027-02-11), in order."""
    runs: list[list[dt.date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return [run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()}..{run[-1].isoformat()}" for run in runs]


def _put(ws: Worksheet, row: int, col: int, value: Any, number_format: str | None = None) -> Cell:
    cell = ws.cell(row=row, column=col, value=_cell_value(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"  # text starting with '=' stays text, never a formula
    cell.alignment = _WRAP if isinstance(cell.value, str) and "\n" in cell.value else _TOP
    if number_format and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
        cell.number_format = number_format
    return cell


def _text_width(value: Any) -> float:
    lines = str(_cell_value(value) if value is not None else "").splitlines() or [""]
    return max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) for line in lines)


def _header(ws: Worksheet, sheet: str, columns: Iterable[str]) -> None:
    for col, name in enumerate(columns, start=1):
        head = _put(ws, HEADER_ROW, col, name)
        head.font, head.fill = _HEADER_FONT, _HEADER_FILL
        note = _put(ws, LABEL_ROW, col, label(sheet, name))
        note.font, note.fill, note.alignment = _LABEL_FONT, _LABEL_FILL, _WRAP
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=1)


def _fit_columns(ws: Worksheet, widest: int = 48) -> None:
    for col_cells in ws.iter_cols(min_row=HEADER_ROW, max_row=ws.max_row):
        data = [c.value for c in col_cells if c.row != LABEL_ROW]
        width = max((_text_width(v) for v in data), default=8)
        ws.column_dimensions[col_cells[0].column_letter].width = min(widest, max(10, width + 2))
    ws.row_dimensions[LABEL_ROW].height = 45
    for row in ws.iter_rows(min_row=FIRST_DATA_ROW):
        lines = max((str(c.value).count("\n") + 1 for c in row if isinstance(c.value, str)), default=1)
        if lines > 1:  # neither Excel nor LibreOffice grows a row for written line breaks by itself
            ws.row_dimensions[row[0].row].height = 16 * lines
    # printed for sign-off: landscape, all columns on one page width, header rows on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.print_title_rows = f"{HEADER_ROW}:{LABEL_ROW}"


def _list_validation(ws: Worksheet, column: int, formula: str, prompt: str, rows: int) -> None:
    check = DataValidation(type="list", formula1=formula, allow_blank=True, errorStyle="warning",
                           showErrorMessage=True, error="请从下拉列表中选择 / choose from the list",
                           errorTitle="取值 / value", showInputMessage=True, prompt=prompt)
    letter = get_column_letter(column)
    check.add(f"{letter}{FIRST_DATA_ROW}:{letter}{FIRST_DATA_ROW + rows}")
    ws.add_data_validation(check)


def _choices(values: Iterable[str]) -> str:
    return '"' + ",".join(values) + '"'


def _reference(sheet: str, column: str = "A") -> str:
    return f"{sheet}!${column}${FIRST_DATA_ROW}:${column}${MAX_ROWS}"


def _write_table(ws: Worksheet, table: Table, items: list[BaseModel]) -> None:
    columns = table.columns
    _header(ws, table.sheet, columns)
    for r, item in enumerate(items, start=FIRST_DATA_ROW):
        percent = isinstance(item, Indicator) and item.unit is Unit.percent
        for c, name in enumerate(columns, start=1):
            shown = _PERCENT if percent and name in ("floor", "target", "challenge") else None
            _put(ws, r, c, getattr(item, name), shown)
    room = len(items) + 100
    for c, name in enumerate(columns, start=1):
        info = table.model.model_fields[name]
        if _kind(info.annotation) == "bool":
            _list_validation(ws, c, _choices(("TRUE", "FALSE")), "TRUE 是 / FALSE 否", room)
        elif _unwrap(info.annotation) is Unit:
            _list_validation(ws, c, _choices(u.value for u in Unit), label(table.sheet, name), room)
        elif _unwrap(info.annotation) is Method:
            _list_validation(ws, c, _choices(m.value for m in Method), label(table.sheet, name), room)
        elif table.sheet == "indicators" and name == "category":
            _list_validation(ws, c, _reference("categories"), label(table.sheet, name), room)
    _fit_columns(ws)


def _write_weights(ws: Worksheet, rulebook: Rulebook) -> None:
    _header(ws, WEIGHTS_SHEET, WEIGHTS_COLUMNS)
    r = FIRST_DATA_ROW
    for role in rulebook.roles:
        for code, weight in role.weights.items():
            for c, value in enumerate((role.code, code, weight), start=1):
                _put(ws, r, c, value)
            r += 1
    _list_validation(ws, 1, _reference("roles"), label(WEIGHTS_SHEET, "role"), r + 100)
    _list_validation(ws, 2, _reference("indicators"), label(WEIGHTS_SHEET, "indicator"), r + 100)
    _fit_columns(ws)


def _write_incidents(ws: Worksheet, rulebook: Rulebook) -> None:
    _header(ws, INCIDENTS_SHEET, INCIDENTS_COLUMNS)
    r = FIRST_DATA_ROW
    for ind in rulebook.indicators:
        for incident in ind.incidents:
            values = (ind.code, *(getattr(incident, name) for name in Incident.model_fields))
            for c, value in enumerate(values, start=1):
                _put(ws, r, c, value)
            r += 1
    _list_validation(ws, 1, _reference("indicators"), label(INCIDENTS_SHEET, "indicator"), r + 100)
    _fit_columns(ws)


def _write_kv(ws: Worksheet, sheet: str, section: BaseModel) -> None:
    _header(ws, sheet, KV_COLUMNS)
    r = FIRST_DATA_ROW
    for name, info in type(section).model_fields.items():
        if name in KV_NESTED.get(sheet, ()):
            continue
        value = getattr(section, name)
        rows = ([(f"{name}.{k}", v, f"{label(sheet, name)}：{k}") for k, v in value.items()]
                if _kind(info.annotation) == "dict" else [(name, value, label(sheet, name))])
        for key, item, note in rows:
            _put(ws, r, 1, key).fill = _KEY_FILL
            _put(ws, r, 2, item, "0%" if _is_share(info) else None)
            _put(ws, r, 3, note).font = _LABEL_FONT
            r += 1
    _fit_columns(ws)


def _write_readme(ws: Worksheet, rulebook: Rulebook) -> None:
    lines = [
        (f"{rulebook.meta.name_zh} / {rulebook.meta.name_en}（版本 {rulebook.meta.version}）", True),
        ("这是 kpisheet 的规则表，HR 可在 Excel 或 WPS 中修改后用 `kpisheet rules check 文件.xlsx` 检查。", False),
        ("The kpisheet rulebook; edit it in Excel or WPS, then run `kpisheet rules check FILE.xlsx`.", False),
        ("", False),
        ("填写规则 / How to edit", True),
        ("1. 第 1 行是字段名，程序按它读取，请勿修改；第 2 行是中文说明；数据从第 3 行开始。", False),
        ("   Row 1 holds the field names the program reads (do not change them); row 2 explains them.", False),
        ("2. 一格中的多项（评分描述、员工状态、等级）每行一项，用 Alt+Enter 换行。", False),
        ("   Several items in one cell go one per line (Alt+Enter).", False),
        ("3. 百分比填小数或带 % 号：95% 可写 0.95 或 95%，不要写 95。", False),
        ("   Percentages are fractions: 95% is 0.95 or 95%, never 95.", False),
        ("4. 是/否 填 TRUE/FALSE（也可写 是/否）。空白单元格表示使用默认值。", False),
        ("   Yes/no cells take TRUE/FALSE; an empty cell means the default.", False),
        ("5. 不认识的工作表、列或键都会报错，不会被忽略；错误会指出工作表和单元格。", False),
        ("   Unknown sheets, columns and keys are errors, reported by sheet and cell.", False),
        ("", False),
        ("工作表 / Sheets", True),
    ]
    lines += [(f"{sheet}：{SHEET_NOTES[sheet]}", False) for sheet in SHEET_ORDER if sheet in SHEET_NOTES]
    for r, (text, bold) in enumerate(lines, start=1):
        cell = _put(ws, r, 1, text)
        if bold:
            cell.font = Font(bold=True, size=12 if r == 1 else 11)
    ws.column_dimensions["A"].width = 110


def dump_xlsx(rulebook: Rulebook, path: str | Path) -> None:
    """Write ``rulebook`` as an .xlsx HR can edit; :func:`load_xlsx` reads it back equal."""
    _refuse_unwritable_text(rulebook)
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in SHEET_ORDER:
        ws = wb.create_sheet(sheet)
        if sheet == README_SHEET:
            _write_readme(ws, rulebook)
        elif sheet in TABLES:
            table = TABLES[sheet]
            _write_table(ws, table, _section(rulebook, table.path))
        elif sheet == WEIGHTS_SHEET:
            _write_weights(ws, rulebook)
        elif sheet == INCIDENTS_SHEET:
            _write_incidents(ws, rulebook)
        else:
            _write_kv(ws, sheet, getattr(rulebook, sheet))
    wb.save(path)


def _section(rulebook: Rulebook, path: tuple[str, ...]) -> Any:
    value: Any = rulebook
    for part in path:
        value = getattr(value, part)
    return value


def _refuse_unwritable_text(rulebook: Rulebook) -> None:
    """Text a cell cannot carry back unchanged is refused, never altered on the way.

    Worksheets cannot hold control characters, a carriage return comes back as
    a plain line break, and a list item (one per line) cannot hold a line
    break or edge spaces.
    """
    problems = []

    def refuse(loc: tuple, zh: str, en: str) -> None:
        problems.append(RuleProblem(key_path(loc), zh, en))

    def visit(value: Any, loc: tuple, in_list: bool = False) -> None:
        if isinstance(value, BaseModel):
            for name in type(value).model_fields:
                visit(getattr(value, name), loc + (name,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                visit(item, loc + (i,), in_list=True)
        elif isinstance(value, str):
            if ILLEGAL_CHARACTERS_RE.search(value) or "\r" in value:
                refuse(loc, "文本含有 Excel 无法保存的控制字符", "the text holds control characters Excel cannot store")
            elif in_list and (value != value.strip() or "\n" in value or not value):
                refuse(loc, "该项为空、含换行或首尾空格，无法按“每行一项”写入 Excel",
                       "this item is empty or has a line break or edge spaces; it cannot be written one per line")

    visit(rulebook, ())
    if problems:
        raise RulebookError("xlsx", problems)


# --- reading --------------------------------------------------------------

@dataclass
class _Read:
    """What reading collects: where each key path came from, and the problems."""

    source: str
    problems: list[RuleProblem] = field(default_factory=list)
    places: dict[str, str] = field(default_factory=dict)  # key path -> sheet!cell
    absent: dict[str, set[str]] = field(default_factory=dict)  # sheet -> required columns not there
    unusable: list[str] = field(default_factory=list)  # sheets refused whole (too large)

    def problem(self, where: str, zh: str, en: str) -> None:
        self.problems.append(RuleProblem(where, zh, en))

    def place(self, loc: tuple, where: str) -> None:
        self.places.setdefault(key_path(loc), where)


@dataclass(frozen=True)
class _Row:
    number: int  # 1-based, as Excel shows it
    values: dict[str, tuple[Any, str]]  # field -> (cell value, 'sheet!cell')

    def text(self, name: str) -> str | None:
        """A code cell as text (a code typed as 2026 is still the code '2026')."""
        if name not in self.values:
            return None
        value = self.values[name][0]
        return _number_text(value) if isinstance(value, (int, float)) else str(value).strip()

    def where(self, name: str) -> str:
        return self.values[name][1]


def _ref(sheet: str, row: int, col: int) -> str:
    return f"{_quote(sheet)}!{get_column_letter(col)}{row}"


def _quote(sheet: str) -> str:
    return sheet if _SAFE_SHEET.match(sheet) else f"'{sheet}'"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _close(name: str, known: Iterable[str]) -> str | None:
    match = difflib.get_close_matches(name, list(known), n=1)
    return match[0] if match else None


class _Sheet:
    """One sheet's cells with its header understood; problems go to ``read``."""

    def __init__(self, ws: Worksheet, known: Iterable[str], required: Iterable[str], read: _Read):
        self.name, self.read = ws.title, read
        self.known = list(known)
        self.grid = self._cells(ws)
        self.columns = self._header() if self.grid else {}
        if self.grid:
            self._check_required(required)

    def _cells(self, ws: Worksheet) -> list[tuple[Any, ...]]:
        if ws.max_row > MAX_ROWS or ws.max_column > MAX_COLUMNS:
            self.read.problem(_ref(ws.title, ws.max_row, ws.max_column),
                              f"工作表过大（{ws.max_row} 行 × {ws.max_column} 列），规则表每表最多 "
                              f"{MAX_ROWS} 行、{MAX_COLUMNS} 列；请删除多余内容",
                              f"the sheet is too large ({ws.max_row} rows x {ws.max_column} columns); "
                              f"a rulebook sheet has at most {MAX_ROWS} rows and {MAX_COLUMNS} columns")
            self.read.unusable.append(ws.title)
            return []
        return [tuple(row) for row in ws.iter_rows(values_only=True)]

    def _header(self) -> dict[int, str]:
        """0-based column -> field name; unknown, repeated or missing headers are problems."""
        header = self.grid[0] if self.grid else ()
        found: dict[int, str] = {}
        meant: set[str] = set()
        for c, value in enumerate(header):
            where = _ref(self.name, HEADER_ROW, c + 1)
            if _blank(value):
                if any(len(row) > c and not _blank(row[c]) for row in self.grid[1:]):
                    self.read.problem(where, "该列有数据但第 1 行没有列名", "this column holds data but has no header")
                continue
            name = str(value).strip()
            if name not in self.known:
                close = _close(name, self.known)
                meant.add(close or "")
                self.read.problem(where,
                                  f"未知的列名 {name}（可能拼写错误{f'，是否应为 {close}' if close else ''}）；"
                                  f"可用的列：{', '.join(self.known)}",
                                  f"unknown column {name}{f' (did you mean {close}?)' if close else ''}; "
                                  f"the columns are {', '.join(self.known)}")
            elif name in found.values():
                self.read.problem(where, f"列名 {name} 重复", f"column {name} appears twice")
            else:
                found[c] = name
        # A misspelt header is reported once; the column it meant is then empty on every row.
        self.read.absent.setdefault(self.name, set()).update(meant - set(found.values()) - {""})
        return found

    def _check_required(self, required: Iterable[str]) -> None:
        width = len(self.grid[0]) if self.grid else 0
        for name in required:
            if name not in self.columns.values():
                self.read.absent.setdefault(self.name, set()).add(name)
                self.read.problem(_ref(self.name, HEADER_ROW, width + 1),
                                  f"缺少必填列 {name}（{label(self.name, name)}），请在第 1 行加上",
                                  f"the required column {name} is missing; add it to row 1")

    def rows(self) -> Iterable[_Row]:
        """Each data row that holds anything, skipping the label row while it still reads as labels."""
        start = 2 if len(self.grid) > 1 and self._is_label_row(self.grid[1]) else 1
        for index in range(start, len(self.grid)):
            row = self.grid[index]
            values = {name: (row[c], _ref(self.name, index + 1, c + 1))
                      for c, name in self.columns.items() if c < len(row) and not _blank(row[c])}
            if values:
                yield _Row(index + 1, values)

    def _is_label_row(self, row: tuple) -> bool:
        filled = [(row[c], name) for c, name in self.columns.items() if c < len(row) and not _blank(row[c])]
        return bool(filled) and all(str(v).strip() == label(self.name, name) for v, name in filled)

    def column_of(self, name: str) -> int:
        return next((c + 1 for c, n in self.columns.items() if n == name), len(self.known))


def _required(model: type[BaseModel], columns: Iterable[str]) -> list[str]:
    return [name for name in columns if model.model_fields[name].is_required()]


def _read_table(wb, table: Table, read: _Read) -> list[dict]:
    sheet = _Sheet(wb[table.sheet], table.columns, _required(table.model, table.columns), read)
    read.place(table.path, _ref(table.sheet, HEADER_ROW, 1))
    items = []
    for i, row in enumerate(sheet.rows()):
        loc = table.path + (i,)
        read.place(loc, _ref(table.sheet, row.number, 1))
        item = {}
        for name, (value, where) in row.values.items():
            item[name] = _coerce(value, table.model.model_fields[name].annotation)
            read.place(loc + (name,), where)
        items.append(item)
    return items


def _read_kv(wb, name: str, model: type[BaseModel], read: _Read) -> dict:
    sheet = _Sheet(wb[name], KV_COLUMNS, ("key", "value"), read)
    fields = {f: info for f, info in model.model_fields.items() if f not in KV_NESTED.get(name, ())}
    read.place((name,), _ref(name, HEADER_ROW, 1))
    data: dict[str, Any] = {}
    for row in sheet.rows():
        if "key" not in row.values:
            if "value" in row.values:
                read.problem(row.where("value"), "该值没有对应的键（key 列为空）", "this value has no key (the key cell is empty)")
            continue
        key = row.text("key")
        value_where = row.values["value"][1] if "value" in row.values else \
            _ref(name, row.number, sheet.column_of("value"))
        value = row.values["value"][0] if "value" in row.values else None
        field_name, _, sub = key.partition(".")
        info = fields.get(field_name)
        is_dict = info is not None and _kind(info.annotation) == "dict"
        if info is None or is_dict != bool(sub):
            close = _close(field_name, fields)
            if close:  # reported here once, not again as a missing key
                read.absent.setdefault(name, set()).add(close)
            if close and _kind(fields[close].annotation) == "dict":
                close = f"{close}.{sub or 'Q1'}"
            read.problem(row.where("key"),
                         f"未知的键 {key}（可能拼写错误{f'，是否应为 {close}' if close else ''}）",
                         f"unknown key {key}{f' (did you mean {close}?)' if close else ''}")
            continue
        if (sub in data.get(field_name, {})) if is_dict else (field_name in data):
            read.problem(row.where("key"), f"键 {key} 重复出现，请只保留一行", f"key {key} appears twice; keep one row")
            continue
        if is_dict:
            data.setdefault(field_name, {})[sub] = value
            read.place((name, field_name, sub), value_where)
            read.place((name, field_name), row.where("key"))
        elif value is not None or _kind(info.annotation) == "list":
            data[field_name] = _coerce(value, info.annotation)
            read.place((name, field_name), value_where)
        else:
            # Left out, so pydantic reports a required key as missing, here, and an optional one defaults.
            read.place((name, field_name), value_where)
    return data


def _read_weights(wb, roles: list[dict], read: _Read) -> None:
    sheet = _Sheet(wb[WEIGHTS_SHEET], WEIGHTS_COLUMNS, WEIGHTS_COLUMNS, read)
    by_code: dict[str, int] = {}
    for r, role in enumerate(roles):
        role["weights"] = {}
        by_code.setdefault(str(role.get("code")), r)
    for row in sheet.rows():
        role_code, code = row.text("role"), row.text("indicator")
        first = _ref(WEIGHTS_SHEET, row.number, 1)
        if role_code is None or code is None:
            read.problem(first, "每行须同时填写岗位代码 role 与指标代码 indicator",
                         "each row needs both a role code and an indicator code")
            continue
        r = by_code.get(role_code)
        if r is None:
            read.problem(row.where("role"), f"岗位 {role_code} 不在 roles 表中；请先在 roles 表添加或改正代码",
                         f"role {role_code} is not on the roles sheet; add it there or fix the code")
            continue
        weights = roles[r]["weights"]
        if code in weights:
            read.problem(row.where("indicator"), f"岗位 {role_code} 的指标 {code} 重复出现，请只保留一行",
                         f"indicator {code} appears twice for role {role_code}; keep one row")
            continue
        if "weight" not in row.values:
            read.problem(_ref(WEIGHTS_SHEET, row.number, sheet.column_of("weight")),
                         f"岗位 {role_code} 的指标 {code} 没有填写权重",
                         f"role {role_code}: indicator {code} has no weight")
            continue
        weights[code] = row.values["weight"][0]
        read.place(("roles", r, "weights", code), row.where("weight"))
        read.place(("roles", r, "weights"), first)


def _read_incidents(wb, indicators: list[dict], read: _Read) -> None:
    columns = INCIDENTS_COLUMNS
    sheet = _Sheet(wb[INCIDENTS_SHEET], columns, ("indicator", *_required(Incident, columns[1:])), read)
    by_code: dict[str, int] = {}
    for i, ind in enumerate(indicators):
        by_code.setdefault(str(ind.get("code")), i)
    for row in sheet.rows():
        code = row.text("indicator")
        first = _ref(INCIDENTS_SHEET, row.number, 1)
        i = by_code.get(code) if code is not None else None
        if i is None:
            read.problem(first, f"指标 {code} 不在 indicators 表中" if code else "未填写所属指标代码 indicator",
                         f"indicator {code} is not on the indicators sheet" if code else "the indicator code is missing")
            continue
        incidents = indicators[i].setdefault("incidents", [])
        loc = ("indicators", i, "incidents", len(incidents))
        read.place(loc, first)
        read.place(loc[:-1], first)
        incident = {}
        for name, (value, where) in row.values.items():
            if name != "indicator":
                incident[name] = _coerce(value, Incident.model_fields[name].annotation)
                read.place(loc + (name,), where)
        incidents.append(incident)


def _open(path: Path, source: str):
    try:
        size = path.stat().st_size
    except OSError as error:
        reason = error.strerror or str(error)
        raise RulebookError(source, [RuleProblem(source, f"无法读取文件：{reason}",
                                                 f"cannot read the file: {reason}")], unreadable=True) from None
    if size > MAX_FILE_BYTES:
        raise RulebookError(source, [RuleProblem(source, f"文件过大（{size} 字节），不是规则表",
                                                 f"the file is too large ({size} bytes) to be a rulebook")],
                            unreadable=True)
    try:
        return load_workbook(path, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged, encrypted or non-xlsx file
        reason = (str(error).splitlines() or [""])[0] or type(error).__name__
        raise RulebookError(source, [RuleProblem(source, f"不是有效的 .xlsx 文件：{reason}",
                                                 f"not a valid .xlsx file: {reason}")], unreadable=True) from None


def _sheet_paths(sheet: str) -> re.Pattern:
    """The key paths a sheet's content lives under."""
    if sheet == WEIGHTS_SHEET:
        return re.compile(r"roles\[\d+\]\.weights\b")
    if sheet == INCIDENTS_SHEET:
        return re.compile(r"indicators\[\d+\]\.incidents\b")
    path = ".".join(TABLES[sheet].path) if sheet in TABLES else sheet
    return re.compile(re.escape(path) + r"(?=$|[.\[])")


def load_xlsx(path: str | Path) -> Rulebook:
    """Read a rulebook workbook; raise :class:`RulebookError` with every problem at its sheet!cell."""
    path = Path(path)
    read = _Read(str(path))
    wb = _open(path, read.source)
    names = wb.sheetnames
    for sheet in names:
        if sheet not in SHEET_ORDER:
            read.problem(f"{_quote(sheet)}!A1",
                         f"未知的工作表 {sheet}；规则表只含：{', '.join(SHEET_ORDER)}",
                         f"unknown sheet {sheet}; a rulebook has only: {', '.join(SHEET_ORDER)}")
    missing = [s for s in SHEET_ORDER if s != README_SHEET and s not in OPTIONAL_SHEETS and s not in names]
    for sheet in missing:
        read.problem(sheet, f"缺少工作表 {sheet}（{SHEET_NOTES[sheet]}）",
                     f"the sheet {sheet} is missing ({SHEET_NOTES[sheet].split(' / ')[-1]})")
    data: dict[str, Any] = {}
    for sheet in SHEET_ORDER:
        if sheet not in names:
            continue
        if sheet in KV_SECTIONS:
            data.setdefault(sheet, {}).update(_read_kv(wb, sheet, KV_SECTIONS[sheet], read))
        elif sheet in TABLES:
            table = TABLES[sheet]
            target = data.setdefault("scoring", {}) if table.path == ("scoring", "vetoes") else data
            target[table.path[-1]] = _read_table(wb, table, read)
    for role in data.get("roles", []):
        role["weights"] = {}
    if WEIGHTS_SHEET in names:
        _read_weights(wb, data.get("roles", []), read)
    if INCIDENTS_SHEET in names:
        _read_incidents(wb, data.get("indicators", []), read)
    try:
        return _checked(data, read, missing + read.unusable)
    finally:
        wb.close()


def _checked(data: dict, read: _Read, missing: list[str]) -> Rulebook:
    """pydantic and the cross-field checks, their problems moved to cells and merged with the sheets' own."""
    try:
        if missing:
            # Without a whole sheet the cross-field rules would only echo its absence; structure only.
            try:
                rulebook = Rulebook.model_validate(data)
            except ValidationError as error:
                raise RulebookError(read.source, problems_from_validation(error)) from None
        else:
            rulebook = rulebook_from_data(data, read.source)
    except RulebookError as error:
        hidden = [_sheet_paths(sheet) for sheet in missing]
        kept = [p for p in error.problems if not any(h.match(p.location) for h in hidden)]
        moved = [m for m in map(lambda p: _at_cell(p, read), kept) if m is not None]
        # Whatever was hidden as a consequence is backed by the problem it follows from.
        read.problems += moved or ([] if read.problems else [_at_cell(p, read) or p for p in error.problems])
    if read.problems:
        raise RulebookError(read.source, read.problems)
    return rulebook


def _at_cell(problem: RuleProblem, read: _Read) -> RuleProblem | None:
    where, exact = locate(problem.location, read.places)
    if where is None:
        return problem
    if exact:
        return RuleProblem(where, problem.message_zh, problem.message_en)
    sheet = where.rsplit("!", 1)[0].strip("'")
    if problem.location.rsplit(".", 1)[-1] in read.absent.get(sheet, ()):
        return None  # a value of a missing column: the column is reported once
    return RuleProblem(where, f"{problem.message_zh}（{problem.location}）",
                       f"{problem.message_en} ({problem.location})")
