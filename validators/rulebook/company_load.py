"""Loading a company's rulebooks: the company file, its department files, their overrides, every problem located.

    load_company(paths)     a folder, a company file (+ department files), one rulebook file, or nothing

What a department file may set of the company's settings is what the
company file declares under ``company.overridable`` (a key path such as
``comments.self_gap``, or a whole section such as ``categories``); any other
company setting it gives with a different value is a problem at its key path
and line. A value equal to the company's is not an override (so a rulebook
written before the company file, holding a copy of the settings, still
loads as long as the copy agrees). Lists are replaced whole, mappings merged
key by key.

Each problem names its file: a problem in the company's settings is reported
once, at the company file, however many departments inherit it; a problem in
what a department wrote (its roles, indicators, overrides) at the department
file. The cross-department conflicts come from
:mod:`kpisheet.validators.rulebook.company_checks`.
"""

from __future__ import annotations

import copy
import os
import typing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Sequence

from pydantic import BaseModel, ValidationError

from kpisheet.validators.rulebook.company import (
    COMPANY_SECTIONS, DEPARTMENT_SECTIONS, NEVER_OVERRIDABLE, TEAMS_KEY, Company, CompanyMeta, CompanyRulebook,
    Department,
)
from kpisheet.validators.rulebook.company_checks import check_departments
from kpisheet.validators.rulebook.from_data import rulebook_from_data
from kpisheet.validators.rulebook.load import default_rulebook, load_rulebook, read_yaml, with_line
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.problems import (
    RuleProblem, RulebookError, key_path, locate, problems_from_validation,
)

COMPANY_KEY = "company"
YAML_SUFFIXES = (".yaml", ".yml")
BUILT_IN = "内置默认 built-in default"


@dataclass
class RulesFile:
    """One parsed YAML file of the set."""

    path: Path
    label: str  # as problems name it: relative to the company file's folder
    data: object
    lines: dict[str, int]
    duplicates: list[RuleProblem]

    def located(self, problem: RuleProblem) -> RuleProblem:
        return replace(with_line(problem, self.lines), file=self.label)


def load_company(paths: Sequence[str | Path] | str | Path | None = None) -> Company:
    """The company's rules from ``paths``; a broken set raises :class:`RulebookError` listing every problem.

    - nothing: the built-in after-sales rulebook, a company of one;
    - one rulebook file (.yaml/.yml/.xlsx) that is not a company file: that rulebook, a company of one;
    - a company file: it and its departments (listed under ``company.departments``, else every other
      YAML file in its folder and below);
    - a folder: the company file in it and its departments;
    - a company file and department files: those departments (with any the company file lists).
    """
    if paths is None or isinstance(paths, (str, Path)):
        paths = [] if paths is None else [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        return Company.of_one(default_rulebook(), BUILT_IN)
    if len(paths) == 1 and paths[0].is_file() and not _is_company_file(paths[0]):
        return Company.of_one(_single_rulebook(paths[0]), str(paths[0]))
    return _load_set(paths)


# --- which files --------------------------------------------------------------------------


def _is_company_file(path: Path) -> bool:
    if path.suffix.lower() not in YAML_SUFFIXES:
        return False
    try:
        with path.open("r", encoding="utf-8") as handle:
            head = handle.read(64 * 1024)
    except (OSError, UnicodeDecodeError):
        return False
    # a top-level `company:` key; cheap, and read_yaml decides for real later
    return any(line.rstrip().startswith(f"{COMPANY_KEY}:") for line in head.splitlines())


def _yaml_files(folder: Path) -> list[Path]:
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root) / n for n in sorted(names)
                  if Path(n).suffix.lower() in YAML_SUFFIXES and not n.startswith(".")]
    return found


def _single_rulebook(path: Path) -> Rulebook:
    """One rulebook file; a department file alone is told to come with its company file."""
    if path.suffix.lower() in YAML_SUFFIXES:
        data, _lines, _dups = read_yaml(path)
        # most company settings absent: a department's file, not a rulebook missing a section or two
        absent = [s for s in COMPANY_SECTIONS if s != "holidays" and s not in data] if isinstance(data, dict) else []
        if len(absent) > len(COMPANY_SECTIONS) // 2 and any(s in data for s in ("roles", "indicators")):
            raise RulebookError(str(path), [RuleProblem(
                "(root)",
                "这是部门规则表（只有岗位和指标），缺少公司统一设置；请与公司规则表一起检查，例如 "
                "kpisheet rules check 公司规则表所在文件夹",
                "this is a department rulebook (roles and indicators only) without the company's settings; "
                "check it together with its company rulebook, e.g. kpisheet rules check FOLDER")])
    return load_rulebook(path)


def _load_set(paths: list[Path]) -> Company:
    files: list[Path] = []
    candidates: list[Path] = []
    for path in paths:
        if path.is_dir():
            candidates += _yaml_files(path)
        elif path.is_file():
            files.append(path)
            candidates.append(path)
        else:
            raise RulebookError(str(path), [RuleProblem(str(path), "文件或文件夹不存在", "no such file or folder")],
                                unreadable=True)
    companies = list({p.resolve(): p for p in candidates if _is_company_file(p)}.values())
    if len(companies) != 1:
        where = "、".join(map(str, paths))
        if not companies:
            zh = f"{where} 中没有公司规则表（以 company: 开头的 YAML 文件）"
            en = f"no company rulebook (a YAML file with a top-level company: section) in {where}"
        else:
            zh = f"{where} 中有 {len(companies)} 个公司规则表（{'、'.join(map(str, companies))}），只能有一个"
            en = f"{len(companies)} company rulebooks in {where} ({', '.join(map(str, companies))}); there must be one"
        raise RulebookError(where, [RuleProblem("(root)", zh, en)], unreadable=True)
    company_path = companies[0]
    return _load(company_path, [f for f in files if f.resolve() != company_path.resolve()])


def _label(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _read(path: Path, base: Path) -> RulesFile:
    data, lines, duplicates = read_yaml(path)
    return RulesFile(path, _label(path, base), data, lines, duplicates)


# --- the set ------------------------------------------------------------------------------


def _load(company_path: Path, given: list[Path]) -> Company:
    base = company_path.parent
    company = _read(company_path, base)
    problems: list[RuleProblem] = [company.located(p) for p in company.duplicates]
    meta, settings = _company_part(company, problems)
    department_paths = _department_paths(company, meta, given, problems)
    departments: list[Department] = []
    files: list[RulesFile] = []
    for path in department_paths:
        if path.suffix.lower() not in YAML_SUFFIXES:
            problems.append(RuleProblem("(root)", "部门规则表须为 YAML 文件（.yaml/.yml）",
                                        "a department rulebook must be a YAML file (.yaml/.yml)",
                                        file=_label(path, base)))
            continue
        try:
            file = _read(path, base)
        except RulebookError as error:
            problems += [replace(p, file=_label(path, base)) for p in error.problems]
            continue
        department = _department(file, company, settings, meta, problems)
        if department is not None:
            departments.append(department)
            files.append(file)
    by_label = {f.label: f for f in files}
    for problem in check_departments(departments):
        problems.append(by_label[problem.file].located(problem) if problem.file in by_label else problem)
    order = [company.label] + [_label(path, base) for path in department_paths]
    view = None
    if meta is not None and departments:
        try:
            view = company_view(meta, settings, departments)
        except ValidationError as error:  # a company setting every department overrides, broken in the company file
            problems += [company.located(p) for p in problems_from_validation(error)]
    problems = _unique(problems, order)
    if problems:
        raise RulebookError(str(company_path), problems)
    return Company(tuple(departments), meta, str(company_path), view)


def _company_part(company: RulesFile, problems: list[RuleProblem]) -> tuple[CompanyMeta | None, dict]:
    """The company section as a model, and the settings' raw data."""
    data = company.data
    if not isinstance(data, dict):
        problems.append(company.located(RuleProblem("(root)", "公司规则表内容应为“键: 值”结构",
                                                    "the company rulebook must be a mapping of keys")))
        return None, {}
    for key in data:
        if key == COMPANY_KEY or key in COMPANY_SECTIONS:
            continue
        if key in DEPARTMENT_SECTIONS:
            zh = f"{key} 属于部门规则表，不能写在公司规则表中"
            en = f"{key} belongs in a department rulebook, not in the company rulebook"
        else:
            zh, en = f"未知的键 {key}（公司规则表可有：company、{'、'.join(COMPANY_SECTIONS)}）", \
                f"unknown key {key} (a company rulebook holds company and {', '.join(COMPANY_SECTIONS)})"
        problems.append(company.located(RuleProblem(str(key), zh, en)))
    meta = None
    try:
        meta = CompanyMeta.model_validate(data.get(COMPANY_KEY) or {})
    except ValidationError as error:
        problems += [company.located(replace(p, location=f"{COMPANY_KEY}.{p.location}" if p.location != "(root)"
                                             else COMPANY_KEY)) for p in problems_from_validation(error)]
    if meta is not None:
        for i, declared in enumerate(meta.overridable):
            why = _overridable_problem(declared)
            if why:
                problems.append(company.located(RuleProblem(f"{COMPANY_KEY}.overridable[{i}]", *why)))
    return meta, {k: v for k, v in data.items() if k in COMPANY_SECTIONS}


def _overridable_problem(declared: str) -> tuple[str, str] | None:
    """Why ``declared`` cannot be overridable (not a company setting, or one the company must hold once)."""
    parts = declared.split(".")
    if parts[0] in NEVER_OVERRIDABLE:
        return (f"{declared} 不能由部门自行设置：全公司只有一套等级、系数、期间、申诉时限、档案期限和节假日",
                f"{declared} cannot be a department's own: the company has one grade scale, coefficient table, "
                "calendar, appeal process and retention")
    if parts[0] not in COMPANY_SECTIONS or not _names_a_field(parts):
        return (f"{declared} 不是公司规则表中的设置（可写如 comments.self_gap 或 categories）",
                f"{declared} is not a setting of the company rulebook (write e.g. comments.self_gap or categories)")
    return None


def _names_a_field(parts: list[str]) -> bool:
    current: object = Rulebook
    for part in parts:
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return False
        current = current.model_fields[part].annotation
        if typing.get_origin(current) is typing.Annotated:
            current = typing.get_args(current)[0]
    return True


def _department_paths(company: RulesFile, meta: CompanyMeta | None, given: list[Path],
                      problems: list[RuleProblem]) -> list[Path]:
    """The departments the company file lists (else every other YAML file beside it and below), and ``given``."""
    base = company.path.parent
    listed: list[Path] = []
    for i, name in enumerate(meta.departments if meta else []):
        path = base / name
        if not path.is_file():
            problems.append(company.located(RuleProblem(f"{COMPANY_KEY}.departments[{i}]",
                                                        f"找不到部门规则表 {name}", f"no department rulebook {name}")))
        else:
            listed.append(path)
    if meta is not None and not meta.departments:
        listed = [p for p in _yaml_files(base) if p.resolve() != company.path.resolve()]
    chosen: dict[Path, Path] = {}
    for path in listed + given:
        chosen.setdefault(path.resolve(), path)
    if not chosen and meta is not None and not meta.departments:
        problems.append(company.located(RuleProblem(
            f"{COMPANY_KEY}.departments", "没有任何部门规则表：请在 company.departments 中列出，或放在公司规则表旁",
            "no department rulebook: list them under company.departments or put them beside the company file")))
    return list(chosen.values())


# --- one department ---------------------------------------------------------------------


def _leaves(value: object, path: tuple) -> Iterator[tuple[tuple, object]]:
    """Every leaf of a YAML value with its key path; a list or a scalar is one leaf."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, path + (key,))
    else:
        yield path, value


_MISSING = object()


def _at(data: object, path: tuple) -> object:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _put(data: dict, path: tuple, value: object) -> None:
    for part in path[:-1]:
        if not isinstance(data.get(part), dict):
            data[part] = {}
        data = data[part]
    data[path[-1]] = copy.deepcopy(value)


def _covered(path: tuple, declared: list[str]) -> bool:
    parts = [str(p) for p in path]
    return any(parts[:len(d.split("."))] == d.split(".") for d in declared)


def _department(file: RulesFile, company: RulesFile, settings: dict, meta: CompanyMeta | None,
                problems: list[RuleProblem]) -> Department | None:
    data = file.data
    found = [file.located(p) for p in file.duplicates]
    if not isinstance(data, dict):
        problems.append(file.located(RuleProblem("(root)", "部门规则表内容应为“键: 值”结构",
                                                 "a department rulebook must be a mapping of keys")))
        return None
    declared = meta.overridable if meta else []
    merged = copy.deepcopy(settings)
    overrides: list[str] = []
    for section in COMPANY_SECTIONS:
        if section not in data:
            continue
        for path, value in _leaves(data[section], (section,)):
            if _at(settings, path) == value:
                continue  # a copy of the company's own value: not an override
            if not _covered(path, declared):
                allowed = "、".join(declared) or "无 none"
                theirs_zh, theirs_en = _company_value(company, path, _at(settings, path))
                found.append(file.located(RuleProblem(
                    key_path(path),
                    f"公司规则表不允许部门自行设置 {key_path(path)}（{theirs_zh}）；允许设置的只有：{allowed}",
                    f"the company rulebook does not let a department set {key_path(path)} ({theirs_en}); "
                    f"overridable: {', '.join(declared) or 'none'}")))
                continue
            _put(merged, path, value)
            overrides.append(key_path(path))
    teams = _teams(data.get(TEAMS_KEY, []), file, found)
    for key, value in data.items():
        if key not in COMPANY_SECTIONS and key != TEAMS_KEY:
            merged[key] = value  # meta, roles, indicators, or an unknown key pydantic reports
    if "categories" in overrides:
        found += _category_codes(file, merged.get("categories"), settings.get("categories"))
    try:
        rulebook = rulebook_from_data(merged, file.label)
    except RulebookError as error:
        for problem in error.problems:
            found.append(_attributed(problem, file, company, overrides))
        rulebook = None
    problems += found
    if found or rulebook is None:
        return None
    return Department(rulebook, file.label, teams, tuple(overrides))


def _company_value(company: RulesFile, path: tuple, value: object) -> tuple[str, str]:
    """Where or what the company's own setting is, for a department told it may not change it."""
    if value is _MISSING:
        return "公司未设置此项", "the company does not set it"
    if isinstance(value, (list, dict)):
        line, _ = locate(key_path(path), company.lines)
        where = f"{company.label} line {line}" if line else company.label
        return f"公司的设置见 {where}", f"the company's is at {where}"
    return f"公司的值为 {value}", f"the company's value is {value}"


def _teams(value: object, file: RulesFile, found: list[RuleProblem]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        found.append(file.located(RuleProblem(TEAMS_KEY, "teams 应为团队名称列表（与花名册“团队”列一致）",
                                              "teams must be a list of team names (as the roster's 团队 column)")))
        return ()
    return tuple(t.strip() for t in value)


def _category_codes(file: RulesFile, mine: object, company: object) -> list[RuleProblem]:
    """A department may weigh the categories differently, but they stay the company's: codes, names and
    order (the master's columns and its 分析 compare categories across departments)."""
    def identity(items):
        return [(c.get("code"), c.get("name_zh"), c.get("name_en")) for c in items if isinstance(c, dict)] \
            if isinstance(items, list) else []

    if identity(mine) == identity(company):
        return []
    shown = ", ".join(f"{code} {zh}" for code, zh, _en in identity(company))
    return [file.located(RuleProblem(
        "categories", f"部门可调整类别权重，但类别的代码、名称及顺序须与公司一致：{shown}",
        f"a department may change category weights, but the codes, names and their order must be the "
        f"company's: {shown}"))]


def _touches(location: str, paths: list[str]) -> bool:
    """Whether ``location`` is one of ``paths``, inside one, or holds one."""
    for path in paths:
        for a, b in ((location, path), (path, location)):
            if a == b or a.startswith(b + ".") or a.startswith(b + "["):
                return True
    return False


def _attributed(problem: RuleProblem, file: RulesFile, company: RulesFile, overrides: list[str]) -> RuleProblem:
    """A problem of the merged rules, at the file that wrote the value: the company's settings unless overridden."""
    section = problem.location.split(".")[0].split("[")[0]
    if section in COMPANY_SECTIONS and not _touches(problem.location, overrides):
        return company.located(problem)
    return file.located(problem)


def _unique(problems: list[RuleProblem], order: list[str]) -> list[RuleProblem]:
    """Each problem once (a company setting's problem is found again in every department), the company file's
    first, then each department file's in the set's order."""
    seen: set = set()
    out = []
    for p in problems:
        key = (p.file, p.location, p.message_en)
        if key not in seen:
            seen.add(key)
            out.append(p)
    rank = {label: i for i, label in enumerate(order)}
    return sorted(out, key=lambda p: rank.get(p.file, len(rank)))  # stable within a file


def company_view(meta: CompanyMeta, settings: dict, departments: Sequence[Department]) -> CompanyRulebook:
    """The company's own settings with every department's roles and indicators, each code once (the
    conflict checks made sure one code means one thing): the rules one master across departments shows.

    Not a rulebook any form is made from, so the cross-field checks of a single rulebook (each role's
    weights against the company's category weights) do not apply to it; its structure is checked.
    """
    roles: dict[str, object] = {}
    indicators: dict[str, object] = {}
    for department in departments:
        for role in department.rulebook.roles:
            roles.setdefault(role.code, role.model_dump(mode="json"))
        for indicator in department.rulebook.indicators:
            indicators.setdefault(indicator.code, indicator.model_dump(mode="json"))
    data = {**copy.deepcopy(settings), "roles": list(roles.values()), "indicators": list(indicators.values()),
            "meta": {"id": meta.id, "version": meta.version, "name_zh": meta.name_zh, "name_en": meta.name_en,
                     "department_zh": "全公司", "department_en": "Company-wide"}}
    return CompanyRulebook.model_validate(data).knowing(tuple(departments))
