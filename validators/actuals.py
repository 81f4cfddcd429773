"""Actual values exported by the systems that measure them (tickets, calls, surveys).

Two shapes are read, from .csv or .xlsx:

* long: one row per employee x indicator, columns 工号/employee_id,
  指标/indicator, 期间/period, 实际值/value and optional 来源/source, 备注/note;
* wide: one row per employee, one column per indicator code (optional 期间,
  来源, 备注 and descriptive columns such as 姓名 are allowed).

Values are in the rulebook's unit. A percent indicator takes a fraction (0.95)
or an explicit percentage ("95%"); a bare 95 is refused with a hint, never
guessed, unless the value column states the percent convention in its header
("实际值(%)", "CSAT(%)"): then 95 means 95%.

Every bad row is reported with file, row and column, and nothing is imported
when anything is wrong: :func:`read_actuals` returns all values or raises
:class:`ActualsError` listing every problem.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from kpisheet.validators.layout import col_letter
from kpisheet.validators.policy.periods import PeriodError, parse_period
from kpisheet.validators.reading.file_checks import is_lock_name
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Method, Rulebook, Unit
from kpisheet.validators.errors import KpisheetError

# header (NFKC, lower case, spaces removed, unit marker removed) -> field
_LONG_HEADERS = {
    "工号": "employee_id", "employee_id": "employee_id", "employeeid": "employee_id", "id": "employee_id",
    "指标": "indicator", "指标代码": "indicator", "indicator": "indicator", "code": "indicator",
    "期间": "period", "考核期间": "period", "period": "period",
    "实际值": "value", "value": "value", "actual": "value",
    "来源": "source", "source": "source",
    "备注": "note", "note": "note",
}
# columns a wide export may carry that are not indicators
_DESCRIPTIVE = {"姓名", "name", "部门", "department", "团队", "team", "岗位", "role"}
_PERCENT_MARK = re.compile(r"[(（\[]?\s*[%％]\s*[)）\]]?$")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
MAX_ROWS = 200_000
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Actual:
    """One imported value, normalised to the rulebook unit (a percent as a fraction)."""

    employee_id: str
    indicator: str
    value: float
    source: str
    note: str
    period: str  # canonical, '' when the file does not say
    file: str
    row: int  # 1-based row in the file
    column: str  # the value's column: A1 letter (xlsx) or header name (csv)


@dataclass(frozen=True)
class ActualsProblem:
    """One bad row (or file), where it is and how to fix it."""

    file: str
    row: int | None
    column: str
    code: str
    message_zh: str
    message_en: str
    hint_zh: str
    hint_en: str

    @property
    def location(self) -> str:
        parts = [Path(self.file).name]
        if self.row is not None:
            parts.append(f"第{self.row}行 row {self.row}")
        if self.column:
            parts.append(f"列 column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location}: {self.message_zh} / {self.message_en} — {self.hint_zh} / {self.hint_en}"


class ActualsError(KpisheetError):
    """Actual-value files that cannot be imported; ``problems`` lists every reason."""

    code = "actuals-invalid"
    title_zh, title_en = "实际值文件有问题", "actuals files have problems"
    description = "Exports of actual values that cannot be imported; every problem is listed with file, row and column."

    def __init__(self, problems: list[ActualsProblem]):
        self.problems = problems
        super().__init__(f"实际值文件有 {len(problems)} 个问题，未导入任何数据",
                         f"{len(problems)} problem(s) in the actuals; nothing imported",
                         details=[str(p) for p in problems])


@dataclass(frozen=True)
class Actuals:
    """Imported values by (employee id, indicator code)."""

    values: Mapping[tuple[str, str], Actual]

    def get(self, employee_id: str, indicator: str) -> Actual | None:
        return self.values.get((employee_id, indicator))

    def __len__(self) -> int:
        return len(self.values)


# --- public -----------------------------------------------------------------------------

READABLE = (".csv", ".xlsx", ".xlsm")
# files that live beside exports (a folder's README, the script that made them) and are not data
_NOT_DATA = (".md", ".txt", ".py")


def actual_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """(files to read, files skipped): folders give their .csv/.xlsx files; READMEs and scripts are skipped.

    Any other file is kept, so that a wrong kind of file is reported, not ignored.
    """
    files: list[Path] = []
    skipped: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file())
            files += [p for p in inside if p.suffix.lower() in READABLE and not is_lock_name(p.name)]
            skipped += [p for p in inside if p.suffix.lower() not in READABLE]
        elif path.suffix.lower() in _NOT_DATA:
            skipped.append(path)
        else:
            files.append(path)
    return files, skipped


def read_actuals(paths: Iterable[str | Path], rulebook: Rulebook, roster: Sequence[Employee] | None = None,
                 period: str | None = None) -> Actuals:
    """Every value of the files, checked against the rulebook, roster and period; raises ActualsError."""
    actuals, problems = check_actuals(paths, rulebook, roster, period)
    if problems:
        raise ActualsError(problems)
    return actuals


def check_actuals(paths: Iterable[str | Path], rulebook: Rulebook, roster: Sequence[Employee] | None = None,
                  period: str | None = None) -> tuple[Actuals, list[ActualsProblem]]:
    """The values that passed, and every problem found (the values are unusable when problems exist).

    Folders are read as their .csv/.xlsx files (see :func:`actual_files`).
    Without a roster, employees and roles are not checked. Without ``period``,
    the first period a file names is the one every other row must match.
    """
    paths, _ = actual_files(paths)
    people = {e.employee_id: e for e in roster} if roster is not None else None
    wanted = str(parse_period(period)) if period else ""
    problems: list[ActualsProblem] = []
    found: dict[tuple[str, str], Actual] = {}
    periods = [wanted]  # the appraisal period, or the first one a file names: shared by every file
    for path in paths:
        for item in _file_items(Path(path), rulebook, people, problems, periods):
            key = (item.employee_id, item.indicator)
            first = found.get(key)
            if first is None:
                found[key] = item
            elif abs(first.value - item.value) > TOLERANCE:
                problems.append(ActualsProblem(item.file, item.row, item.column, "duplicate-conflict",
                                    f"{item.employee_id} 的 {item.indicator} 重复且数值不同：{item.value:g}，"
                                    f"另见 {Path(first.file).name} 第{first.row}行的 {first.value:g}",
                                    f"{item.employee_id} {item.indicator} appears twice with different values: "
                                    f"{item.value:g} here, {first.value:g} at {Path(first.file).name} row {first.row}",
                                    "核对源系统，只保留正确的一行", "check the source system and keep the right row"))
    order = {str(Path(p)): i for i, p in enumerate(paths)}
    problems.sort(key=lambda p: (order.get(p.file, len(order)), p.row or 0))
    return Actuals(found), problems


def percent_stated(header: object) -> bool:
    """Whether a column header says its numbers are percentage points ('实际值(%)', 'CSAT %')."""
    return bool(_PERCENT_MARK.search(_clean(header)))


# --- files ------------------------------------------------------------------------------


def _file_items(path: Path, rulebook: Rulebook, people, problems: list[ActualsProblem],
                periods: list[str]) -> list[Actual]:
    name = str(path)
    try:
        rows, letters = _read_rows(path)
    except _Unreadable as error:
        problems.append(ActualsProblem(name, None, "", "file-unreadable", error.message_zh, error.message_en,
                                       "另存为 UTF-8 的 CSV 或 .xlsx 后重试", "save it as UTF-8 CSV or .xlsx and retry"))
        return []
    header_at = next((i for i, (_, values) in enumerate(rows) if any(not _blank(v) for v in values)), None)
    if header_at is None:
        problems.append(ActualsProblem(name, None, "", "empty", "文件没有内容", "the file is empty",
                                       "检查是否选错了文件", "check that this is the right file"))
        return []
    header_row, header = rows[header_at]
    fields = [_LONG_HEADERS.get(_header_key(h)) for h in header]
    if "employee_id" not in fields:
        problems.append(ActualsProblem(name, header_row, "", "no-employee-column",
                                       "表头没有“工号/employee_id”列", "the header has no 工号/employee_id column",
                                       "第一行写表头：工号、指标、期间、实际值（或每个指标代码一列）",
                                       "put a header first: 工号, 指标, 期间, 实际值 (or one column per indicator code)"))
        return []
    context = _Context(name, rulebook, people, problems, letters, periods)
    data = rows[header_at + 1:]
    if "indicator" in fields:
        return _long_items(context, header_row, header, fields, data)
    return _wide_items(context, header_row, header, fields, data)


@dataclass
class _Context:
    file: str
    rulebook: Rulebook
    people: Mapping[str, Employee] | None
    problems: list[ActualsProblem]
    letters: bool  # columns are named by letter (xlsx) or by header (csv)
    periods: list[str]  # [the period every row must match, '' until known]

    def column(self, index: int, header: object) -> str:
        label = _clean(header) or "?"
        return f"{col_letter(index)}（{label}）" if self.letters else f"{index + 1}（{label}）"

    def problem(self, row: int | None, column: str, code: str, zh: str, en: str, hint_zh: str, hint_en: str) -> None:
        self.problems.append(ActualsProblem(self.file, row, column, code, zh, en, hint_zh, hint_en))


def _long_items(ctx: _Context, header_row: int, header, fields, data) -> list[Actual]:
    for need, zh in (("value", "实际值/value"), ("indicator", "指标/indicator")):
        if need not in fields:
            ctx.problem(header_row, "", f"no-{need}-column", f"表头没有“{zh}”列", f"the header has no {zh} column",
                        f"加一列“{zh}”", f"add a {zh} column")
            return []
    col = {f: fields.index(f) for f in set(fields) if f}
    stated = percent_stated(header[col["value"]])
    items = []
    for row_number, values in data:
        if all(_blank(v) for v in values):
            continue
        cell = lambda f: values[col[f]] if f in col and col[f] < len(values) else None  # noqa: E731
        employee_id = _text(cell("employee_id"))
        code = _text(cell("indicator")).upper()
        where = {f: ctx.column(i, header[i]) for f, i in col.items()}
        item = _item(ctx, row_number, where, employee_id, code, cell("value"), stated, _text(cell("period")),
                     "period" in col, _text(cell("source")), _text(cell("note")))
        if item is not None:
            items.append(item)
    return items


def _wide_items(ctx: _Context, header_row: int, header, fields, data) -> list[Actual]:
    known = {ind.code for ind in ctx.rulebook.indicators}
    col = {f: fields.index(f) for f in set(fields) if f}
    indicators: list[tuple[int, str, bool]] = []
    for i, h in enumerate(header):
        if fields[i] or _blank(h):
            continue
        key = _header_key(h)
        if key in _DESCRIPTIVE:
            continue
        code = key.upper()
        if code not in known:
            ctx.problem(header_row, ctx.column(i, h), "unknown-indicator", f"列标题“{_clean(h)}”不是规则表中的指标代码",
                        f"column header '{_clean(h)}' is not an indicator code of the rulebook",
                        f"改为指标代码之一：{', '.join(sorted(known))}", "use one of the rulebook's indicator codes")
            continue
        indicators.append((i, code, percent_stated(h)))
    items = []
    for row_number, values in data:
        if all(_blank(v) for v in values):
            continue
        cell = lambda i: values[i] if i is not None and i < len(values) else None  # noqa: E731
        employee_id = _text(cell(col.get("employee_id")))
        for i, code, stated in indicators:
            raw = cell(i)
            if _blank(raw):
                continue  # not every system measures every indicator of every employee
            where = {f: ctx.column(j, header[j]) for f, j in col.items()}
            where["value"] = where["indicator"] = ctx.column(i, header[i])
            item = _item(ctx, row_number, where, employee_id, code, raw, stated, _text(cell(col.get("period"))),
                         "period" in col, _text(cell(col.get("source"))), _text(cell(col.get("note"))))
            if item is not None:
                items.append(item)
    return items


def _item(ctx: _Context, row: int, where: dict[str, str], employee_id: str, code: str, raw, stated: bool,
          period_text: str, has_period: bool, source: str, note: str) -> Actual | None:
    """One value checked, or None after reporting every problem of it."""
    before = len(ctx.problems)
    rb = ctx.rulebook
    indicator = next((ind for ind in rb.indicators if ind.code == code), None)
    if not employee_id:
        ctx.problem(row, where["employee_id"], "missing-employee", "工号为空", "the employee ID is empty",
                    "填写工号", "enter the employee ID")
    elif ctx.people is not None and employee_id not in ctx.people:
        ctx.problem(row, where["employee_id"], "unknown-employee", f"工号 {employee_id} 不在花名册中",
                    f"employee {employee_id} is not in the roster", "核对工号，或先把该员工加入花名册",
                    "check the ID, or add the employee to the roster first")
    if indicator is None:
        ctx.problem(row, where["indicator"], "unknown-indicator", f"指标代码“{code}”不在规则表中",
                    f"indicator code '{code}' is not in the rulebook",
                    f"改为指标代码之一：{', '.join(i.code for i in rb.indicators)}",
                    "use one of the rulebook's indicator codes")
    elif indicator.method is Method.rating:
        ctx.problem(row, where["indicator"], "rating-indicator", f"{code} 是上级评分指标，不能从系统导入",
                    f"{code} is a manager rating and cannot be imported from a system",
                    "删除这一行；评分由上级在考核表中填写", "delete the row; the manager rates it in the workbook")
        indicator = None
    elif ctx.people is not None and employee_id in ctx.people:
        employee = ctx.people[employee_id]
        role = rb.role_by_name(employee.role)
        if role is not None and code not in role.weights:
            ctx.problem(row, where["indicator"], "indicator-not-in-role",
                        f"{employee_id}（{role.name_zh}）的考核指标中没有 {code}",
                        f"{code} is not an indicator of {employee_id}'s role ({role.name_en})",
                        f"该岗位的指标：{', '.join(role.weights)}", "check the indicator or the employee ID")
    period = ""
    if period_text:
        try:
            period = str(parse_period(period_text))
            if not ctx.periods[0]:
                ctx.periods[0] = period
            elif period != ctx.periods[0]:
                ctx.problem(row, where["period"], "period-mismatch",
                            f"期间 {period} 与考核期间 {ctx.periods[0]} 不一致",
                            f"period {period} differs from the appraisal period {ctx.periods[0]}",
                            "只导入本期间的数据，或用 --period 指定期间",
                            "import only this period's data, or give the period with --period")
        except PeriodError as error:
            ctx.problem(row, where["period"], "bad-period", error.message_zh, error.message_en,
                        "写成 2026-Q4、2026-11、2026-H2 或 2026", "write 2026-Q4, 2026-11, 2026-H2 or 2026")
    elif has_period:
        ctx.problem(row, where["period"], "missing-period", "期间为空", "the period is empty",
                    "填写期间，如 2026-Q4", "enter the period, e.g. 2026-Q4")
    value = _value(ctx, row, where["value"], raw, indicator, stated) if indicator is not None else None
    if len(ctx.problems) > before or value is None:
        return None
    return Actual(employee_id, code, value, source or Path(ctx.file).stem, note, period, ctx.file, row,
                  where["value"])


def _value(ctx: _Context, row: int, column: str, raw, indicator, stated: bool) -> float | None:
    code = indicator.code
    percent = indicator.unit is Unit.percent
    number, typed_percent = _number(raw)
    if number is None:
        shown = "（空）" if _blank(raw) else f"“{raw}”"
        ctx.problem(row, column, "not-a-number", f"{code} 的实际值 {shown} 不是数字",
                    f"{code}: the value {'(empty)' if _blank(raw) else repr(raw)} is not a number",
                    "填写一个数字，如 0.95、95% 或 4.5", "enter a number such as 0.95, 95% or 4.5")
        return None
    if typed_percent and not percent:
        ctx.problem(row, column, "percent-not-allowed", f"{code} 的单位不是百分比，不能写“{raw}”",
                    f"{code} is not measured in percent; '{raw}' cannot be read",
                    f"按规则表单位填写数字（{indicator.unit.value}）", f"enter a number in {indicator.unit.value}")
        return None
    if percent and not typed_percent:
        if stated:
            number = _percent_points(number)
        elif number > 1:
            ctx.problem(row, column, "percent-scale", f"{code} 是百分比指标，{number:g} 大于 1，无法确定是否指 {number:g}%",
                        f"{code} is a percentage and {number:g} is above 1: is it {number:g}%?",
                        f"写成 {number / 100:g} 或 {number:g}%，或在列标题中注明“(%)”表示整列按百分数填写",
                        f"write {number / 100:g} or {number:g}%, or mark the column header '(%)' to say the "
                        "whole column is in percent")
            return None
    low, high = (0.0, 1.0) if percent else (0.0, math.inf)
    if not low <= number <= high:
        shown = f"{number * 100:g}%" if percent else f"{number:g}"
        ctx.problem(row, column, "out-of-domain", f"{code} 的实际值 {shown} 超出取值范围",
                    f"{code}: the value {shown} is outside its range",
                    "百分比须在 0%～100% 之间" if percent else "须为不小于 0 的数字",
                    "a percentage lies between 0% and 100%" if percent else "the value must be 0 or more")
        return None
    if indicator.unit is Unit.count and not float(number).is_integer():
        ctx.problem(row, column, "out-of-domain", f"{code} 是计数指标，{number:g} 不是整数",
                    f"{code} is a count and {number:g} is not a whole number", "填写整数", "enter a whole number")
        return None
    return float(number)


def _number(raw) -> tuple[float | None, bool]:
    """(the number, whether it carried a % sign); text is read after NFKC (full-width digits, ％)."""
    if isinstance(raw, bool):
        return None, False
    if isinstance(raw, (int, float)):
        return (float(raw), False) if math.isfinite(raw) else (None, False)
    if not isinstance(raw, str):
        return None, False
    text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    typed_percent = text.endswith("%")
    body = text[:-1] if typed_percent else text
    if not _NUMBER.fullmatch(body):
        return None, False
    value = float(body)
    return (_percent_points(value) if typed_percent else value), typed_percent


def _percent_points(value: float) -> float:
    # 1.33 / 100 is 0.013300000000000001 in binary; the system meant 0.0133
    return round(value / 100, 12)


# --- reading ----------------------------------------------------------------------------


class _Unreadable(KpisheetError):
    """A file that cannot be read at all; becomes one problem of the ActualsError."""


def _read_rows(path: Path) -> tuple[list[tuple[int, list]], bool]:
    """Rows as (1-based row number, values), and whether columns are named by letter."""
    if not path.is_file():
        raise _Unreadable(f"找不到文件：{path}", f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(path), False
    if suffix in READABLE[1:]:
        return _xlsx_rows(path), True
    raise _Unreadable(f"不支持的文件类型“{suffix}”，只接受 .csv 和 .xlsx",
                      f"unsupported file type '{suffix}': only .csv and .xlsx are read")


def _csv_rows(path: Path) -> list[tuple[int, list]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on a Chinese Windows saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _Unreadable("无法识别文件编码", "the file's text encoding cannot be read")
    rows = []
    reader = csv.reader(text.splitlines())
    try:
        for number, values in enumerate(reader, start=1):
            if number > MAX_ROWS:
                raise _Unreadable(f"超过 {MAX_ROWS} 行", f"more than {MAX_ROWS} rows")
            rows.append((number, values))
    except csv.Error as error:  # a field over csv's size limit, or a stray NUL: not an export of actuals
        limit = csv.field_size_limit()
        raise _Unreadable(f"第 {reader.line_num} 行无法读取：字段超过 {limit} 个字符或含有非法字符（{error}）",
                          f"row {reader.line_num} cannot be read: a field longer than {limit} characters or an "
                          f"illegal character ({error})") from None
    return rows


def _xlsx_rows(path: Path) -> list[tuple[int, list]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on damaged files; all mean "cannot open"
        raise _Unreadable("文件已损坏或不是有效的 xlsx", "the file is damaged or not a valid xlsx") from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # a declared far-corner dimension must not cost anything
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS:
                raise _Unreadable(f"超过 {MAX_ROWS} 行", f"more than {MAX_ROWS} rows")
            rows.append((number, list(values[:200])))
        return rows
    except _Unreadable:
        raise
    except Exception:
        raise _Unreadable("工作表内容已损坏，无法读取", "the sheet's content is damaged and cannot be read") from None
    finally:
        book.close()


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _clean(value) -> str:
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()


def _header_key(value) -> str:
    """'实际值(%)' -> '实际值', 'Employee ID' -> 'employee_id'-like keys: first line, no unit mark, no spaces."""
    first = _clean(value).split("\n", 1)[0]
    first = _PERCENT_MARK.sub("", first).strip()
    key = re.sub(r"\s+", "_", first.lower())
    return key


def _text(value) -> str:
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _clean(value)
