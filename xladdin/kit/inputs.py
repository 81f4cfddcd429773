"""The inputs many commands and buttons share, loaded one way: --rules, --roster, --period, dates, files.

Each loader returns the loaded thing or raises a
:class:`~kpisheet.validators.errors.KpisheetError` that already says, in both
languages, what is wrong; the faces show it as they show every error. So the
same broken rulebook gives the same message and exit code from every command.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from kpisheet.validators.errors import UsageError
from kpisheet.validators.policy.periods import PeriodError, parse_period
from kpisheet.validators.roster import Employee, read_roster
from kpisheet.validators.rulebook.company import Company
from kpisheet.validators.rulebook.company_load import load_company
from kpisheet.validators.rulebook.model import Rulebook

# dates as HR types them: 2027-01-15, 2027/1/15, 2027.1.15, 2027年1月15日
_DATE = re.compile(r"^\s*(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?\s*$")


def existing_file(path: Path, what_zh: str, what_en: str) -> Path:
    if not path.exists():
        raise UsageError(f"找不到{what_zh}文件 {path}", f"no such {what_en} file: {path}")
    if not path.is_file():
        raise UsageError(f"{path} 不是文件", f"{path} is not a file")
    return path


def load_rules_option(rules: Path | None) -> Rulebook:
    """The rulebook at --rules, or the built-in default; a broken one raises RulebookError (exit 2).

    For a command that works on one department's rules: a company's set of rulebooks with more than
    one department is a usage error that says how to get one department's rules.
    """
    company = load_company_option(rules)
    if len(company.departments) == 1:
        return company.first
    names = "、".join(company.names_zh())
    raise UsageError(
        f"--rules {rules} 是公司规则表（{len(company.departments)} 个部门：{names}），此命令一次只用一个部门的规则；"
        f"请先导出该部门的完整规则：kpisheet rules export 部门.yaml --rules {rules} --department 部门名",
        f"--rules {rules} is a company's set of rulebooks ({len(company.departments)} departments); this command "
        f"takes one department's rules: export them with kpisheet rules export DEPT.yaml --rules {rules} "
        "--department NAME")


def load_company_option(rules: Path | list[Path] | None) -> Company:
    """The rules at --rules as a company: a company file or folder with its departments, or one rulebook
    (a company of one); the built-in default when not given. A broken set raises RulebookError (exit 2).

    The one loader of rules every command goes through.
    """
    paths = [] if rules is None else [rules] if isinstance(rules, Path) else list(rules)
    for path in paths:
        if not path.is_dir():
            existing_file(path, "规则表", "rulebook")
    return load_company(paths)


def load_roster_option(roster: Path, rulebook: Rulebook | Company) -> list[Employee]:
    """The roster at --roster, roles read by each person's department rules; a broken one raises RosterError (exit 2)."""
    existing_file(roster, "花名册", "roster")
    return read_roster(roster, rulebook)


def period_option(period: str | None) -> str | None:
    """--period in its canonical form (2026-Q4), or None when not given; bad text raises PeriodError."""
    if period is None:
        return None
    try:
        return str(parse_period(period))
    except PeriodError as error:
        raise PeriodError(f"--period {period}：{error.message_zh}", f"--period {period}: {error.message_en}") from None


def load_inputs(rules: Path | None, roster: Path | None, period: str | None):
    """(rulebook, roster people or None, canonical period or None) from the options most commands share."""
    rulebook = load_rules_option(rules)
    people = load_roster_option(roster, rulebook) if roster is not None else None
    return rulebook, people, period_option(period)


def load_company_inputs(rules: Path | None, roster: Path | None, period: str | None):
    """(company, roster people or None, canonical period or None): :func:`load_inputs` for a command that
    takes a company's set whole (each file checked by its department's rules, one master across them)."""
    company = load_company_option(rules)
    people = load_roster_option(roster, company) if roster is not None else None
    return company, people, period_option(period)


def department_names(company: Company, names: list[str] | None) -> tuple[str, ...]:
    """--department as the record names departments (the roster's 部门): a company's department by its Chinese
    or English name; with a single rulebook, the names as typed. An unknown one is a usage error."""
    out = []
    for name in names or ():
        name = name.strip()
        if not name:
            raise UsageError("--department 不能为空", "--department cannot be empty")
        if company.single:
            out.append(name)
            continue
        found = company.department(name)
        if found is None:
            known = "、".join(company.names_zh())
            raise UsageError(f"--department {name}：公司规则表中没有这个部门（有：{known}）",
                             f"--department {name}: the company's rulebooks have no such department (they have: "
                             f"{', '.join(d.name_en or d.name_zh for d in company.departments)})")
        out.append(found.name_zh)
    return tuple(dict.fromkeys(out))


def date_option(value: str | None, option: str) -> dt.date | None:
    """A date option as HR types it (2027-01-15, 2027/1/15, 2027年1月15日), or None when not given."""
    if value is None:
        return None
    match = _DATE.match(value)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise UsageError(f"{option} 应为日期，如 2027-01-15 或 2027/1/15，实际为“{value}”",
                     f"{option} must be a date such as 2027-01-15 or 2027/1/15, got {value!r}")
