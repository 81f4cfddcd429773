"""The roster: who is appraised, in which team, under which manager.

:func:`read_roster` reads HR's ``roster.xlsx`` (sheet 花名册, or the first
sheet) and either returns every employee or raises :class:`RosterError` with
every problem found, each located at sheet!cell with a fix hint.

What the reader accepts, so HR need not retype a roster exported elsewhere:

- the header may sit in any of the first rows and the columns in any order;
  extra columns are ignored;
- dates as real Excel dates, as date serial numbers, or as text
  ``2026-03-01``, ``2026/3/1``, ``2026.3.1`` or ``2026年3月1日``
  (full-width digits too);
- 岗位 as the rulebook role's Chinese name, English name or code;
- a blank 任职开始日期 means "in this post since hiring";
- a blank 上级工号 only for the department head: in each department, the one
  person with a blank 上级工号 whom others report to.

With a company's rules (:class:`~kpisheet.validators.rulebook.company.Company`),
each row's 岗位 is read by the rules of its 部门: a department without a
rulebook, a role its rulebook does not have, and a team that another
department's rulebook claims are problems at their cells. A single rulebook
reads every row, whatever its 部门, as before.

Any real company's roster is read: rows are streamed from the sheet (the file
is never held as a whole), so memory grows only with the employees returned;
a sheet has at most Excel's 1,048,576 rows. A file with a problem in every row
lists its first problems and counts the rest.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from contextlib import contextmanager
from typing import Iterator

from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel

from kpisheet.validators.names import clean_text
from kpisheet.validators.rulebook.company import Company
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.problems import RuleProblem
from kpisheet.validators.pickled_fields import reduce_by_fields
from kpisheet.validators.errors import KpisheetError

# roster.xlsx header (Chinese as HR types it) -> Employee field
ROSTER_COLUMNS: dict[str, str] = {
    "工号": "employee_id",
    "姓名": "name",
    "部门": "department",
    "团队": "team",
    "岗位": "role",
    "上级工号": "manager_id",
    "入职日期": "hire_date",
    "任职开始日期": "post_start",
    "状态": "status",
}


@dataclass(frozen=True, slots=True)  # slots: a roster of 100,000 people is 100,000 of these
class Employee:
    employee_id: str
    name: str
    department: str
    team: str
    role: str  # rulebook role code, e.g. "engineer"
    manager_id: str | None
    hire_date: dt.date
    post_start: dt.date  # start in the current post (= hire date unless moved)
    status: str  # 正式 / 试用 / 长假

    # every worker of a batch unpickles the whole roster: the default restore took a fresh worker 1.0 s per
    # 100,000 people, as constructor arguments 0.3 s
    __reduce__ = reduce_by_fields


ROSTER_SHEET = "花名册"
STATUSES: tuple[str, ...] = ("正式", "试用", "长假")

# Cells that may be blank; every other column must be filled on every row.
OPTIONAL_FIELDS = frozenset({"manager_id", "post_start"})
DATE_FIELDS = ("hire_date", "post_start")
# texts that repeat down the roster: kept once (a file with inline strings gives every cell its own copy)
_REPEATED_FIELDS = frozenset({"department", "team", "manager_id"})
_HEADER_OF = {field: header for header, field in ROSTER_COLUMNS.items()}

# Bounds that keep a garbage file from costing minutes or gigabytes. The rows
# are not bounded beyond Excel's own limit: they are streamed. A full sheet of
# 1,048,575 employees unpacks to well under the size limit (about 130 bytes a cell).
HEADER_SEARCH_ROWS = 10
MAX_COLUMNS = 200
MAX_UNZIPPED_BYTES = 2 * 1024 ** 3
# Problems listed by a RosterError; more are counted, not listed (a wrong file has one in every cell).
MAX_LISTED_PROBLEMS = 500
# An Excel serial or typed year outside this range is a typo, not a date.
EARLIEST_YEAR, LATEST_YEAR = 1950, 2100


@dataclass(frozen=True, kw_only=True)  # keyword-only: RuleProblem may grow defaulted fields
class RosterProblem(RuleProblem):
    """One thing wrong with a roster, with a stable ``code`` and how to fix it."""

    code: str
    hint_zh: str
    hint_en: str

    def __str__(self) -> str:
        return f"{super().__str__()} — {self.hint_zh} / {self.hint_en}"


class RosterError(KpisheetError):
    """A roster that cannot be used; ``problems`` lists every reason."""

    code = "roster-invalid"
    title_zh, title_en = "花名册有问题", "roster has problems"
    description = "The roster cannot be used; every problem is listed with its sheet, row and column."

    def __init__(self, source: str, problems: list[RosterProblem]):
        self.source = source
        self.problems = problems
        super().__init__(f"花名册有 {len(problems)} 个问题：{source}", f"the roster has {len(problems)} problem(s): {source}",
                         details=[str(p) for p in problems])


# ---------------------------------------------------------------- public API


def read_roster(path: str | Path, rules: Rulebook | Company | None = None) -> list[Employee]:
    """Every employee of the roster at ``path``, in roster order; roles as the codes of each person's department
    rules (one rulebook: the rulebook's roles for everyone). Raises :class:`RosterError` listing the problems."""
    company = _as_company(rules)
    source = str(path)
    problems = _Found()
    with _sheet_rows(Path(path)) as (sheet, rows):
        header_row, columns = _find_header(sheet, rows, problems)
        if header_row is None:
            raise RosterError(source, problems.listed())
        records = _read_records(sheet, rows, header_row, columns, company, problems)
    if not records and not problems:
        problems.append(_problem(
            f"{sheet}!A{header_row + 2}", "no-employees",
            "花名册表头下没有任何员工行", "the roster has no employee rows under its header",
            "在表头下方逐行填写员工", "enter one employee per row under the header"))
    _check_duplicates(sheet, records, columns, problems)
    _check_managers(sheet, records, columns, problems)
    if problems:
        raise RosterError(source, problems.listed())
    return [record.employee for record in records]


def _as_company(rules: Rulebook | Company | None) -> Company:
    if isinstance(rules, Company):
        return rules
    if rules is None:
        from kpisheet.validators.rulebook.load import default_rulebook

        rules = default_rulebook()
    return Company.of_one(rules)


class _Found:
    """The problems found: the first MAX_LISTED_PROBLEMS kept, every one counted."""

    def __init__(self):
        self.kept: list[RosterProblem] = []
        self.count = 0

    def append(self, problem: RosterProblem) -> None:
        self.count += 1
        if len(self.kept) < MAX_LISTED_PROBLEMS:
            self.kept.append(problem)

    def __len__(self) -> int:
        return self.count

    def listed(self) -> list[RosterProblem]:
        out = sorted(self.kept, key=_sheet_order)
        hidden = self.count - len(self.kept)
        if hidden:
            out.append(_problem(
                "…", "more-problems", f"另有 {hidden} 个问题未列出", f"{hidden} more problem(s) not listed",
                "先改正以上问题（或检查是否选错了文件），再运行一次", "fix the ones above (or check this is the right "
                "file) and run again"))
        return out


def teams(employees: list[Employee]) -> dict[tuple[str, str], list[Employee]]:
    """Employees grouped by (department, team), teams and members in roster order."""
    grouped: dict[tuple[str, str], list[Employee]] = {}
    for employee in employees:
        grouped.setdefault((employee.department, employee.team), []).append(employee)
    return grouped


def employees_by_id(employees: list[Employee]) -> dict[str, Employee]:
    return {employee.employee_id: employee for employee in employees}


def team_managers(employees: list[Employee]) -> dict[tuple[str, str], Employee | None]:
    """Each team's manager: the person most of its members report to.

    A team lead is a member of the team and reports upwards, so the count
    excludes a person's own line; the department head is found the same way
    when the head leads a team directly. Ties go to the first in roster order.
    """
    by_id = employees_by_id(employees)
    managers: dict[tuple[str, str], Employee | None] = {}
    for key, members in teams(employees).items():
        votes = Counter(m.manager_id for m in members if m.manager_id and m.manager_id in by_id)
        if not votes:
            managers[key] = None
            continue
        best = max(votes.values())
        managers[key] = next(by_id[m.manager_id] for m in members if votes.get(m.manager_id) == best)
    return managers


def parse_date(value: object) -> dt.date:
    """A roster date cell as a date; ValueError(zh, en) says why it is not one."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            day = from_excel(value).date()
        except (ValueError, OverflowError, TypeError):
            raise ValueError(f"数字 {value} 不是有效的 Excel 日期", f"{value} is not a valid Excel date") from None
    elif isinstance(value, str):
        day = _date_from_text(value)
    else:
        raise ValueError(f"“{value}”不是日期", f"'{value}' is not a date")
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise ValueError(f"{day.isoformat()} 不在 {EARLIEST_YEAR}–{LATEST_YEAR} 年之间，可能输错了",
                         f"{day.isoformat()} is outside {EARLIEST_YEAR}-{LATEST_YEAR}; probably a typo")
    return day


# ------------------------------------------------------------------ reading

_DATE_TEXT = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]?"),
)


def _date_from_text(text: str) -> dt.date:
    cleaned = unicodedata.normalize("NFKC", text).strip()  # full-width digits and slashes
    for pattern in _DATE_TEXT:
        match = pattern.fullmatch(cleaned)
        if match:
            year, month, day = map(int, match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                raise ValueError(f"“{text}”不存在（{year}年没有{month}月{day}日）",
                                 f"'{text}' does not exist on the calendar") from None
    raise ValueError(f"“{text}”不是日期", f"'{text}' is not a date")


def _file_problem(path: Path, zh: str, en: str, hint_zh: str, hint_en: str) -> RosterError:
    return RosterError(str(path), [_problem(path.name, "file-unreadable", zh, en, hint_zh, hint_en)])


def _check_container(path: Path) -> None:
    """Refuse what is not an xlsx, saying what it is, before any parser sees it."""
    save_as = ("在 Excel 或 WPS 中打开，另存为 Excel 工作簿 (.xlsx)", "open it in Excel or WPS and save as Excel Workbook (.xlsx)")
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as error:
        raise _file_problem(path, f"无法读取花名册文件：{error.strerror or error}",
                            f"cannot read the roster file: {error.strerror or error}",
                            "检查路径是否正确、文件是否存在", "check the path and that the file exists") from None
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_problem(path, "这是旧版 .xls 文件或设置了打开密码的文件",
                            "this is an old .xls file or a password-protected workbook",
                            save_as[0] + "，并取消打开密码", save_as[1] + " without a password")
    if not magic.startswith(b"PK"):
        raise _file_problem(path, "不是 xlsx 文件（可能是 CSV、文本或其他格式改了扩展名）",
                            "not an xlsx file (perhaps a CSV, text or other file renamed)", *save_as)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            unzipped = sum(info.file_size for info in archive.infolist())
            mimetype = archive.read("mimetype")[:80] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        raise _file_problem(path, "文件已损坏，无法作为 xlsx 打开", "the file is damaged and cannot be opened as xlsx",
                            "从原始来源重新导出或另存花名册", "export or save the roster again from its source") from None
    if b"opendocument" in mimetype:
        raise _file_problem(path, "这是 ODS（OpenDocument）表格，不是 xlsx", "this is an ODS spreadsheet, not xlsx", *save_as)
    if "xl/workbook.xml" not in names:
        raise _file_problem(path, "这是 zip 文件但不是 Excel 工作簿", "this is a zip file but not an Excel workbook", *save_as)
    if unzipped > MAX_UNZIPPED_BYTES:
        raise _file_problem(path, f"文件解压后超过 {MAX_UNZIPPED_BYTES // 2**20} MB，不像花名册",
                            f"the file unpacks to more than {MAX_UNZIPPED_BYTES // 2**20} MB; not a roster",
                            "只保留花名册工作表后另存", "keep only the roster sheet and save again")


@contextmanager
def _sheet_rows(path: Path) -> Iterator[tuple[str, Iterator[tuple[int, tuple]]]]:
    """The roster sheet's name and its non-blank rows as (Excel row number, values), streamed."""
    from openpyxl import load_workbook

    _check_container(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on damaged files; all mean "cannot open"
        raise _file_problem(path, "文件已损坏或不是有效的 xlsx，无法打开", "the file is damaged or not a valid xlsx",
                            "在 Excel 或 WPS 中打开后另存为 .xlsx", "open it in Excel or WPS and save as .xlsx") from None
    try:
        if not book.worksheets:
            raise _file_problem(path, "工作簿里没有工作表", "the workbook has no worksheet",
                                f"把花名册放在名为“{ROSTER_SHEET}”的工作表中", f"put the roster on a sheet named {ROSTER_SHEET}")
        sheet = book[ROSTER_SHEET] if ROSTER_SHEET in book.sheetnames else book.worksheets[0]
        # The declared dimension may be absent, stale or absurd; read what is there.
        sheet.reset_dimensions()
        # A1 references quote sheet names holding spaces or punctuation
        name = f"'{sheet.title}'" if re.search(r"[^\w]", sheet.title) else sheet.title
        yield name, _non_blank_rows(path, sheet)
    finally:
        book.close()


def _non_blank_rows(path: Path, sheet) -> Iterator[tuple[int, tuple]]:
    # Without a max column, rows come back only as wide as their last cell and gaps as empty rows,
    # so a stray far-corner cell costs next to nothing.
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = values[:MAX_COLUMNS]
            if any(not _is_blank(v) for v in values):
                yield number, values
    except RosterError:
        raise
    except Exception:  # a damaged sheet part surfaces only while iterating
        raise _file_problem(path, "工作表内容已损坏，无法读取", "the sheet's content is damaged and cannot be read",
                            "在 Excel 或 WPS 中打开后另存为 .xlsx", "open it in Excel or WPS and save as .xlsx") from None


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: object) -> str:
    """A cell as HR meant the text: 1001.0 typed as a number is the ID '1001'; invisible
    characters (controls, bidi overrides) removed as the submission reader removes them."""
    if _is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_text(str(value)).strip()


def _header_key(value: object) -> str:
    """'工 号' or '工号\\nID' -> '工号'; header cells are compared on their first line."""
    first_line = _text(value.split("\n", 1)[0] if isinstance(value, str) else value)
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", first_line))


def _find_header(sheet: str, rows: Iterator[tuple[int, tuple]], problems: _Found):
    """(header row number, {field: 0-based column}) or (None, {}) with the problem recorded.

    Reads ``rows`` up to the header row (among the first HEADER_SEARCH_ROWS non-blank ones), so that
    what is left of them are the employees.
    """
    for _, (number, values) in zip(range(HEADER_SEARCH_ROWS), rows):
        keys = [_header_key(v) for v in values]
        if sum(key in ROSTER_COLUMNS for key in keys) < 2:
            continue
        columns: dict[str, int] = {}
        for index, key in enumerate(keys):
            field = ROSTER_COLUMNS.get(key)
            if field is None:
                continue
            if field in columns:
                first = f"{get_column_letter(columns[field] + 1)}{number}"
                problems.append(_problem(
                    f"{sheet}!{get_column_letter(index + 1)}{number}", "duplicate-column",
                    f"列“{key}”出现了两次（另一处在 {first}）", f"column '{key}' appears twice (also at {first})",
                    "删除或改名其中一列", "delete or rename one of them"))
                continue
            columns[field] = index
        for header, field in ROSTER_COLUMNS.items():
            if field not in columns:
                problems.append(_problem(
                    f"{sheet}!{number}:{number}", "missing-column",
                    f"表头缺少列“{header}”", f"the header row lacks the column '{header}' ({field})",
                    f"在第 {number} 行表头中加上“{header}”列并填写", f"add a '{header}' column to header row {number} and fill it"))
        return number, columns
    expected = "、".join(ROSTER_COLUMNS)
    problems.append(_problem(
        f"{sheet}!A1", "missing-header",
        f"前 {HEADER_SEARCH_ROWS} 行中找不到花名册表头", f"no roster header in the first {HEADER_SEARCH_ROWS} rows",
        f"第一行应为表头：{expected}", f"the first row should hold the headers: {expected}"))
    return None, {}


@dataclass(frozen=True, slots=True)
class _Record:
    row: int  # Excel row number
    employee: Employee


class _Cells:
    """Where one row's fields are, made only when a problem names one (most rows have none)."""

    __slots__ = ("sheet", "columns", "number")

    def __init__(self, sheet: str, columns: dict[str, int], number: int):
        self.sheet, self.columns, self.number = sheet, columns, number

    def __getitem__(self, field: str) -> str:
        return f"{self.sheet}!{get_column_letter(self.columns[field] + 1)}{self.number}"


def _read_records(sheet, rows, header_row, columns, company: Company, problems: _Found) -> list[_Record]:
    """Each data row as an employee; rows with a problem are reported, not returned."""
    records = []
    complete = len(columns) == len(ROSTER_COLUMNS)
    repeated: dict[str, str] = {}  # one string object per department, team and manager, however many rows
    for number, values in rows:
        where = _Cells(sheet, columns, number)
        found = len(problems)
        fields: dict[str, object] = {}
        role_text = ""
        for field, index in columns.items():
            value = values[index] if index < len(values) else None
            header = _HEADER_OF[field]
            if _is_blank(value):
                if field not in OPTIONAL_FIELDS:
                    problems.append(_problem(
                        where[field], "blank-cell", f"“{header}”为空", f"'{header}' ({field}) is blank",
                        f"填写第 {number} 行的“{header}”，或删除这一行", f"fill in '{header}' on row {number}, or delete the row"))
                fields[field] = None
            elif field in DATE_FIELDS:
                try:
                    fields[field] = parse_date(value)
                except ValueError as error:
                    zh, en = error.args
                    problems.append(_problem(
                        where[field], "bad-date", f"{header}：{zh}", f"{header} ({field}): {en}",
                        "填写真实日期，如 2026-03-01、2026/3/1 或 2026年3月1日",
                        "enter a real date such as 2026-03-01, 2026/3/1 or 2026年3月1日"))
                    fields[field] = None
            elif field == "role":
                role_text = _text(value)  # read once the department is known: its rules name the roles
                fields[field] = None
            elif field == "status":
                status = _text(value)
                if status not in STATUSES:
                    problems.append(_problem(
                        where[field], "unknown-status", f"状态“{status}”无效", f"status '{status}' is not known",
                        f"改为以下之一：{'、'.join(STATUSES)}", "use one of 正式 (regular), 试用 (probation), 长假 (long leave)"))
                fields[field] = status
            elif field in _REPEATED_FIELDS:
                text = _text(value)
                fields[field] = repeated.setdefault(text, text)
            else:
                fields[field] = _text(value)
        if role_text or fields.get("department"):
            fields["role"] = _role(company, fields, role_text, where, problems)
        hire, post = fields.get("hire_date"), fields.get("post_start")
        if isinstance(hire, dt.date) and isinstance(post, dt.date) and post < hire:
            problems.append(_problem(
                where["post_start"], "bad-date",
                f"任职开始日期 {post} 早于入职日期 {hire}", f"post start {post} is before hire date {hire}",
                "任职开始日期应不早于入职日期；未调岗可留空", "the post start cannot precede the hire date; leave it blank if never moved"))
        if len(problems) == found and complete:
            fields["post_start"] = fields["post_start"] or fields["hire_date"]
            fields["manager_id"] = fields["manager_id"] or None
            records.append(_Record(number, Employee(**fields)))
        elif fields.get("employee_id"):
            # Keep the row for the duplicate and manager checks, which need every ID.
            records.append(_Record(number, _partial(fields)))
    return records


def _role(company: Company, fields: dict, role_text: str, where: _Cells, problems: _Found) -> str | None:
    """The row's role code, read by its department's rules; a department without rules, a role they lack,
    and a team another department claims are problems at their cells."""
    department_name = fields.get("department")
    if "department" in where.columns and department_name:
        department = company.department(department_name)
        if department is None:
            names = "、".join(company.names_zh())
            problems.append(_problem(
                where["department"], "unknown-department", f"部门“{department_name}”没有部门规则表",
                f"department '{department_name}' has no rulebook in the company's rules",
                f"改为以下部门之一：{names}，或为该部门加一个部门规则表（或从花名册中删去其人员）",
                f"use one of: {names}; or add a rulebook for the department (or leave its people out of the roster)"))
            return None
        if not company.single:
            _team_claim(company, department, fields.get("team"), where, problems)
        rulebook = department.rulebook
    elif company.single:
        rulebook = company.first
    else:
        return None  # the blank 部门 is the problem reported
    if not role_text:
        return None  # reported as blank
    role = rulebook.role_by_name(role_text)
    if role is None:
        where_zh = f"{rulebook.meta.department_zh}的规则表" if not company.single else "规则表"
        where_en = f"the rulebook of {rulebook.meta.department_en}" if not company.single else "the rulebook"
        role_names = "、".join(r.name_zh for r in rulebook.roles)
        role_names_en = ", ".join(r.name_en for r in rulebook.roles)
        problems.append(_problem(
            where["role"], "unknown-role", f"岗位“{role_text}”不在{where_zh}中",
            f"role '{role_text}' is not in {where_en}",
            f"改为以下之一：{role_names}", f"use one of: {role_names_en} ({role_names})"))
        return None
    return role.code


def _team_claim(company: Company, department, team, where: _Cells, problems: _Found) -> None:
    if not team or "team" not in where.columns:
        return
    owner = company.team_owner(team)
    if owner is not None and owner is not department:
        problems.append(_problem(
            where["team"], "team-claimed-elsewhere",
            f"团队“{team}”由{owner.name_zh}的规则表认领（{owner.source}），花名册却把它放在{department.name_zh}",
            f"team '{team}' is claimed by the rulebook of {owner.name_en} ({owner.source}) but the roster puts it "
            f"in {department.name_en}",
            "改正此行的部门或团队，或修改规则表中的 teams 列表", "correct this row's department or team, or the "
            "rulebooks' teams lists"))
    elif department.teams and team not in department.teams:
        problems.append(_problem(
            where["team"], "team-not-claimed",
            f"{department.name_zh}的规则表只认领团队 {'、'.join(department.teams)}，不含“{team}”",
            f"the rulebook of {department.name_en} claims only the teams {', '.join(department.teams)}, not '{team}'",
            "改正此行的团队，或把该团队加入部门规则表的 teams 列表", "correct this row's team, or add it to the "
            "department rulebook's teams list"))


def _partial(fields: dict) -> Employee:
    """A placeholder for a row that failed elsewhere; only its IDs and department are used."""
    return Employee(
        employee_id=fields["employee_id"], name=fields.get("name") or "",
        department=fields.get("department") or "", team=fields.get("team") or "", role="",
        manager_id=fields.get("manager_id") or None, hire_date=dt.date.min, post_start=dt.date.min, status="")


def _check_duplicates(sheet, records, columns, problems) -> None:
    if "employee_id" not in columns:
        return
    letter = get_column_letter(columns["employee_id"] + 1)
    first_row: dict[str, int] = {}
    for record in records:
        employee_id = record.employee.employee_id
        if employee_id in first_row:
            first = first_row[employee_id]
            problems.append(_problem(
                f"{sheet}!{letter}{record.row}", "duplicate-id",
                f"工号 {employee_id} 重复：第 {first} 行（{sheet}!{letter}{first}）和第 {record.row} 行",
                f"employee ID {employee_id} is used twice: rows {first} and {record.row}",
                "每人一个工号：改正其中一行的工号，或删除重复的行", "give each person one ID: correct one row's ID or delete the duplicate"))
        else:
            first_row[employee_id] = record.row


def _check_managers(sheet, records, columns, problems) -> None:
    if "manager_id" not in columns or "employee_id" not in columns:
        return
    letter = get_column_letter(columns["manager_id"] + 1)
    known = {record.employee.employee_id for record in records}
    for record in records:
        employee, where = record.employee, f"{sheet}!{letter}{record.row}"
        if employee.manager_id == employee.employee_id:
            problems.append(_problem(
                where, "self-manager", f"上级工号 {employee.manager_id} 是本人", f"{employee.employee_id} is their own manager",
                "填写直接上级的工号", "enter the direct manager's employee ID"))
        elif employee.manager_id and employee.manager_id not in known:
            problems.append(_problem(
                where, "unknown-manager", f"上级工号 {employee.manager_id} 不在花名册中",
                f"manager ID {employee.manager_id} is not on the roster",
                "改为花名册中直接上级的工号，或把上级加入花名册", "use the ID of a manager on this roster, or add the manager to it"))
    _check_heads(sheet, letter, records, problems)


def _reports_under(records: list[_Record]) -> dict[str, list[str]]:
    """Manager ID -> the IDs of their direct reports."""
    children: dict[str, list[str]] = {}
    for record in records:
        if record.employee.manager_id:
            children.setdefault(record.employee.manager_id, []).append(record.employee.employee_id)
    return children


def _people_below(children: dict[str, list[str]], top: str) -> int:
    """How many people report to ``top``, directly or through others (a cycle counts once)."""
    seen, stack = {top}, list(children.get(top, ()))
    while stack:
        person = stack.pop()
        if person not in seen:
            seen.add(person)
            stack.extend(children.get(person, ()))
    return len(seen) - 1


def _check_heads(sheet, letter, records, problems) -> None:
    """Only the department head may leave 上级工号 blank.

    When several people in a department have it blank, the head is the one with
    the most people below them, so a team lead whose line was forgotten is the
    one reported, not the head.
    """
    children = _reports_under(records)
    by_department: dict[str, list[_Record]] = {}
    for record in records:
        by_department.setdefault(record.employee.department, []).append(record)
    for members in by_department.values():
        blank = [r for r in members if not r.employee.manager_id]
        if not blank:
            continue
        below = {id(r): _people_below(children, r.employee.employee_id) for r in blank}
        head = max(blank, key=lambda r: below[id(r)])  # first on ties
        if not below[id(head)] and len(members) > 1:
            head = None  # nobody reports to any of them: none is the head
        for record in blank:
            if record is head:
                continue
            if head:
                because_zh = f"只有部门负责人（第 {head.row} 行，{head.employee.employee_id}）可以不填"
                because_en = f"only the department head (row {head.row}, {head.employee.employee_id}) may leave it blank"
            else:
                because_zh, because_en = "只有有下属的部门负责人可以不填", "only a department head with reports may leave it blank"
            problems.append(_problem(
                f"{sheet}!{letter}{record.row}", "missing-manager",
                f"{record.employee.employee_id} 的上级工号为空：{because_zh}",
                f"{record.employee.employee_id} has no manager ID: {because_en}",
                "填写直接上级（团队负责人）的工号", "enter the ID of the direct manager (team lead)"))


def _sheet_order(problem: RosterProblem) -> tuple[int, int, str]:
    """Problems in the order HR meets them: row by row, left to right."""
    match = re.search(r"!([A-Z]*)(\d+)", problem.location)
    if not match:
        return (0, 0, "")
    letters, row = match.groups()
    return (int(row), len(letters), letters)


def _problem(location: str, code: str, zh: str, en: str, hint_zh: str, hint_en: str) -> RosterProblem:
    return RosterProblem(location=location, message_zh=zh, message_en=en, code=code, hint_zh=hint_zh, hint_en=hint_en)
