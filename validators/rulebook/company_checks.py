"""Conflicts between the departments of one company: what each department's rulebook is fine alone but not beside another.

- a department (by its Chinese or English name) or a rulebook id given by two rulebooks: files and roster rows
  could not be routed;
- a team claimed by two departments (their ``teams`` lists);
- an indicator code meaning two things: the same code with another name, category, unit or scoring method
  (the master's 分析 compares an indicator across departments by its code; other targets are allowed);
- a role in two departments (by code or Chinese name) with different indicators.

Each problem is at the later file, naming the earlier one; locations are key paths of that file.
"""

from __future__ import annotations

from typing import Iterator, Sequence

from kpisheet.validators.rulebook.company import Department, department_key
from kpisheet.validators.rulebook.model import Indicator
from kpisheet.validators.rulebook.problems import RuleProblem

# what an indicator code means; the thresholds and weights may differ between departments
MEANING_FIELDS = ("name_zh", "name_en", "category", "unit", "method")


def check_departments(departments: Sequence[Department]) -> list[RuleProblem]:
    """Every conflict between ``departments``, in their order."""
    return [*_names(departments), *_teams(departments), *_indicators(departments), *_roles(departments)]


def _at(department: Department, location: str, zh: str, en: str) -> RuleProblem:
    return RuleProblem(location, zh, en, file=department.source)


def _names(departments: Sequence[Department]) -> Iterator[RuleProblem]:
    seen: dict[str, Department] = {}
    ids: dict[str, Department] = {}
    for department in departments:
        meta = department.rulebook.meta
        for field in ("department_zh", "department_en"):
            name = getattr(meta, field)
            first = seen.get(department_key(name))
            if first is not None and first is not department:
                yield _at(department, f"meta.{field}",
                          f"部门“{name}”已由 {first.source} 定义；每个部门只能有一个规则表，否则无法确定考核表和花名册归哪个部门",
                          f"department '{name}' is already defined by {first.source}; a department has one rulebook, "
                          "or workbooks and roster rows could not be routed")
            seen.setdefault(department_key(name), department)
        first = ids.get(meta.id)
        if first is not None:
            yield _at(department, "meta.id", f"规则表编号 {meta.id} 与 {first.source} 相同，请改用不同编号",
                      f"rulebook id {meta.id} is also used by {first.source}; give each its own")
        ids.setdefault(meta.id, department)


def _teams(departments: Sequence[Department]) -> Iterator[RuleProblem]:
    owner: dict[str, Department] = {}
    for department in departments:
        for i, team in enumerate(department.teams):
            first = owner.get(team)
            if first is department:
                yield _at(department, f"teams[{i}]", f"团队“{team}”重复列出", f"team '{team}' is listed twice")
            elif first is not None:
                yield _at(department, f"teams[{i}]",
                          f"团队“{team}”同时被 {first.name_zh}（{first.source}）和 {department.name_zh} 认领；"
                          "一个团队只能属于一个部门",
                          f"team '{team}' is claimed by both {first.name_en} ({first.source}) and "
                          f"{department.name_en}; a team belongs to one department")
            owner.setdefault(team, department)


def _meaning(indicator: Indicator) -> str:
    return (f"“{indicator.name_zh} / {indicator.name_en}”，{indicator.category}，{indicator.unit.value}，"
            f"{indicator.method.value}")


def _indicators(departments: Sequence[Department]) -> Iterator[RuleProblem]:
    first: dict[str, tuple[Department, Indicator]] = {}
    for department in departments:
        for i, indicator in enumerate(department.rulebook.indicators):
            if indicator.code not in first:
                first[indicator.code] = (department, indicator)
                continue
            other, theirs = first[indicator.code]
            differ = [f for f in MEANING_FIELDS if getattr(indicator, f) != getattr(theirs, f)]
            if not differ:
                continue
            yield _at(department, f"indicators[{i}].{differ[0]}",
                      f"指标代码 {indicator.code} 在 {other.name_zh}（{other.source}）中是{_meaning(theirs)}，"
                      f"在此是{_meaning(indicator)}（不同：{', '.join(differ)}）；同一代码必须表示同一指标，请改用新代码",
                      f"indicator code {indicator.code} means {theirs.name_en} ({theirs.category}, {theirs.unit.value}, "
                      f"{theirs.method.value}) in {other.name_en} ({other.source}) but {indicator.name_en} "
                      f"({indicator.category}, {indicator.unit.value}, {indicator.method.value}) here "
                      f"(differs in {', '.join(differ)}); one code must mean one indicator: give this one a new code")


def _roles(departments: Sequence[Department]) -> Iterator[RuleProblem]:
    by_code: dict[str, tuple[Department, object]] = {}
    by_name: dict[str, tuple[Department, object]] = {}
    for department in departments:
        for i, role in enumerate(department.rulebook.roles):
            mine = set(role.weights)
            for index, key in ((by_code, role.code), (by_name, role.name_zh)):
                if key not in index:
                    index[key] = (department, role)
                    continue
                other, theirs = index[key]
                if other is department or set(theirs.weights) == mine:
                    continue
                yield _at(department, f"roles[{i}]",
                          f"岗位 {role.code}（{role.name_zh}）也在 {other.name_zh}（{other.source}，{theirs.code} "
                          f"{theirs.name_zh}）中，但指标不同：那里是 {', '.join(sorted(theirs.weights))}，"
                          f"这里是 {', '.join(sorted(mine))}；同一岗位须用同一组指标，否则请改用不同的代码和名称",
                          f"role {role.code} ({role.name_en}) is also in {other.name_en} ({other.source}, {theirs.code}) "
                          f"with other indicators: {', '.join(sorted(theirs.weights))} there, "
                          f"{', '.join(sorted(mine))} here; one role has one set of indicators, or give it "
                          "another code and name")
                break  # one problem per role, whether its code or its name collided
