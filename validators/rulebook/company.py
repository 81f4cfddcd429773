"""A company's rules: one company rulebook of shared settings and one rulebook per department.

HR runs every department, and departments differ in their roles and
indicators, not in the grade scale, the pay coefficients or the calendar.
So a company's rules are a set of files:

- the **company rulebook** (``company:`` at its top) holds the settings that
  are the company's: categories, scoring, grades, distribution, comments,
  eligibility, periods, appeals, outcomes, records, holidays; and it declares,
  under ``company.overridable``, which of them a department may set for itself;
- each **department rulebook** holds its ``meta`` (department_zh names the
  roster's 部门), its ``roles`` and ``indicators``, optionally the ``teams`` it
  claims, and only the overrides the company allows.

Each department's effective rules are an ordinary :class:`Rulebook` (the
company's settings with the department's part over them), so every form,
check and score works per department exactly as with one rulebook. A single
rulebook file, such as the shipped after-sales one, is a company of one:
:meth:`Company.of_one`, with every department of the roster routed to it, as
before companies existed.

Loading a set is :mod:`kpisheet.validators.rulebook.company_load`; the
conflicts between departments are :mod:`kpisheet.validators.rulebook.company_checks`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated

from pydantic import Field, PrivateAttr

from kpisheet.validators.errors import KpisheetError
from kpisheet.validators.rulebook.model import Rulebook, Strict

# The sections of a rulebook that are the company's; a department inherits them.
COMPANY_SECTIONS = ("categories", "scoring", "grades", "distribution", "comments", "eligibility", "periods",
                    "appeals", "outcomes", "records", "holidays")
# The sections that are a department's own.
DEPARTMENT_SECTIONS = ("meta", "roles", "indicators")
# A department file may list the roster teams it claims (not part of its Rulebook).
TEAMS_KEY = "teams"
# One grade scale, one coefficient table, one calendar and one appeals and records policy per company:
# HR may not declare these overridable (a master that mixes grade scales could not be calibrated).
NEVER_OVERRIDABLE = ("grades", "periods", "appeals", "records", "holidays")


class CompanyMeta(Strict):
    """The ``company:`` section of a company rulebook."""

    id: Annotated[str, Field(min_length=1)]
    version: str
    name_zh: str
    name_en: str
    # department rulebook files, relative to the company file; none listed: every other YAML file
    # in the company file's folder and below it
    departments: list[str] = []
    # key paths of company settings a department may set for itself, e.g. comments.self_gap or categories
    overridable: list[str] = []


class DepartmentWithoutRules(KpisheetError):
    """A team's department has no rulebook in the company's set."""

    code = "department-without-rules"
    title_zh, title_en = "部门没有规则表", "department without a rulebook"
    description = ("A department named by the roster has no department rulebook in the company's set; nothing was "
                   "written. Add its rulebook (and list it in company.departments) or leave its people out.")

    def __init__(self, department: str, known: list[str], source: str):
        names = "、".join(known)
        super().__init__(f"部门“{department}”在公司规则表 {source} 中没有部门规则表（已有：{names}）；未写出任何文件",
                         f"department '{department}' has no rulebook in {source} (it has: {names}); nothing was written",
                         hint_zh="为该部门添加部门规则表并列入 company.departments，或从花名册中删去其人员",
                         hint_en="add a rulebook for the department to company.departments, or leave its people out")
        self.department = department


class CompanyRulebook(Rulebook):
    """The company's view: its own settings with every department's roles and indicators (what one master
    across departments shows), which knows each department's own rules (:meth:`rules_of`)."""

    _departments: dict = PrivateAttr(default_factory=dict)  # department_key(name) -> that department's Rulebook

    def rules_of(self, department: str) -> Rulebook:
        return self._departments.get(department_key(department or ""), self)

    def knowing(self, departments: "tuple[Department, ...]") -> CompanyRulebook:
        """This view, told each department's rules (by its Chinese and English name)."""
        for department in departments:
            for name in (department.name_zh, department.name_en):
                self._departments.setdefault(department_key(name), department.rulebook)
        return self


def department_key(name: str) -> str:
    """A department's name as compared: full-width forms folded, spaces ignored (' 售后服务部 ' = '售后服务部')."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or ""))


@dataclass(frozen=True)
class Department:
    """One department's effective rules, where they came from, and the teams it claims."""

    rulebook: Rulebook
    source: str = ""
    teams: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()  # the company settings this department sets for itself (key paths)

    @property
    def name_zh(self) -> str:
        return self.rulebook.meta.department_zh

    @property
    def name_en(self) -> str:
        return self.rulebook.meta.department_en

    @cached_property
    def fingerprint(self) -> str:
        return self.rulebook.fingerprint()


@dataclass(frozen=True)
class Company:
    """Every department's rules; ``meta`` is None for a single rulebook (a company of one)."""

    departments: tuple[Department, ...]
    meta: CompanyMeta | None = None
    source: str = ""
    # the company's settings with every department's roles and indicators: what one master across the
    # departments shows (its columns, grade bands, indicator names); None for a company of one
    view: CompanyRulebook | None = field(default=None, repr=False, compare=False)
    _names: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.departments:
            raise ValueError("a company has at least one department")
        for department in self.departments:
            for name in (department.name_zh, department.name_en):
                self._names.setdefault(department_key(name), department)

    @classmethod
    def of_one(cls, rulebook: Rulebook, source: str = "") -> Company:
        """One rulebook as a company: every department and team is routed to it."""
        return cls((Department(rulebook, source),), None, source)

    @property
    def single(self) -> bool:
        """A single rulebook: departments are not told apart (as before company rulebooks existed)."""
        return self.meta is None

    @property
    def first(self) -> Rulebook:
        return self.departments[0].rulebook

    @property
    def whole(self) -> Rulebook:
        """The rules one master across every department shows: the company's view, or the one rulebook."""
        return self.view if self.view is not None else self.first

    def rules_of(self, department: str) -> Rulebook:
        """A department's own rules where it has them (its distribution, eligibility...), else the whole's."""
        return self.whole.rules_of(department)

    @property
    def rulebooks(self) -> tuple[Rulebook, ...]:
        return tuple(d.rulebook for d in self.departments)

    def department(self, name: str) -> Department | None:
        """The department whose rulebook names ``name`` (Chinese or English); a single rulebook takes every one."""
        if self.single:
            return self.departments[0]
        return self._names.get(department_key(name))

    def rulebook_for(self, department: str) -> Rulebook | None:
        found = self.department(department)
        return found.rulebook if found is not None else None

    def require(self, department: str) -> Rulebook:
        """The rules of ``department``; :class:`DepartmentWithoutRules` when it has none."""
        found = self.rulebook_for(department)
        if found is None:
            raise DepartmentWithoutRules(department, self.names_zh(), self.source)
        return found

    def team_owner(self, team: str) -> Department | None:
        """The department that claims ``team`` by name in its ``teams`` list, if any does."""
        for department in self.departments:
            if team in department.teams:
                return department
        return None

    def names_zh(self) -> list[str]:
        return [d.name_zh for d in self.departments]
