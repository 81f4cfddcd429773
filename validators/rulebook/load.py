"""Loading and saving the rulebook, with every problem located and bilingual."""

from __future__ import annotations

import difflib
import re
import typing
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Mapping, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.errors import KpisheetError

DEFAULT_RULEBOOK = "default_rulebook.yaml"


@dataclass(frozen=True)
class RuleProblem:
    """One thing wrong with a rulebook: where (key path or sheet!cell) and why."""

    location: str
    message_zh: str
    message_en: str
    line: int | None = None  # 1-based line in a YAML file, when known

    @property
    def where(self) -> str:
        return f"{self.location} (line {self.line})" if self.line else self.location

    def __str__(self) -> str:
        return f"{self.where}: {self.message_zh} / {self.message_en}"


class RulebookError(KpisheetError):
    """A rulebook that cannot be used; ``problems`` lists every reason.

    ``unreadable`` marks a file that is not a rulebook at all (missing, binary,
    not YAML, not .xlsx): its one problem is the whole story.
    """

    code = "rulebook-invalid"
    title_zh, title_en = "规则表有问题", "rulebook has problems"
    description = ("The rulebook cannot be used; every problem is listed with its key path (YAML) or sheet!cell "
                   "(xlsx). Every command that loads a rulebook gives this same error and exit code.")

    def __init__(self, source: str, problems: list[RuleProblem], unreadable: bool = False):
        self.source = source
        self.problems = problems
        self.unreadable = unreadable
        if unreadable and len(problems) == 1:
            super().__init__(f"规则表 {source} 无法读取：{problems[0].message_zh}",
                             f"the rulebook {source} cannot be read: {problems[0].message_en}")
        else:
            super().__init__(f"规则表有 {len(problems)} 个问题：{source}",
                             f"the rulebook has {len(problems)} problem(s): {source}",
                             details=[str(p) for p in problems])


# pydantic error types in Chinese, so HR reads the reason in their language
_ZH = {
    "missing": "缺少必填项",
    "extra_forbidden": "未知的键（可能拼写错误）",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "bool_parsing": "应为 true/false",
    "bool_type": "应为 true/false",
    "string_type": "应为文本",
    "string_pattern_mismatch": "格式不对（只能用字母、数字和下划线，字母开头）",
    "enum": "不是允许的取值",
    "greater_than": "数值太小",
    "greater_than_equal": "数值太小",
    "less_than": "数值太大",
    "less_than_equal": "数值太大",
    "list_type": "应为列表",
    "dict_type": "应为键值表",
    "model_type": "应为键值表",
    "date_type": "应为日期（如 2027-01-01，或范围 2027-02-05..2027-02-11）",
    "date_parsing": "应为日期（如 2027-01-01，或范围 2027-02-05..2027-02-11）",
    "date_from_datetime_parsing": "应为日期（如 2027-01-01，或范围 2027-02-05..2027-02-11）",
    "date_from_datetime_inexact": "应为日期，不带时间",
    "too_short": "至少需要一项",
    "value_error": "取值无效",
}


def key_path(loc: tuple) -> str:
    """('indicators', 3, 'weight_max') -> 'indicators[3].weight_max'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


_PARENT = re.compile(r"(\.[^.\[\]]*|\[\d+\])$")

T = TypeVar("T")


def locate(location: str, places: Mapping[str, T]) -> tuple[T | None, bool]:
    """The place of ``location`` or of its nearest ancestor key path, and whether it was exact.

    ``roles[1].weights.FOO`` falls back to ``roles[1].weights``, then ``roles[1]``.
    """
    path, exact = location, True
    while path:
        if path in places:
            return places[path], exact
        shorter = _PARENT.sub("", path)
        if shorter == path:
            break
        path, exact = shorter, False
    return None, False


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class that holds the key at ``loc`` (for spelling suggestions)."""
    current: object = Rulebook
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            field = current.model_fields.get(part)
            if field is None:
                return None
            current = field.annotation
        elif isinstance(part, int) and typing.get_origin(current) is list:
            current = typing.get_args(current)[0]
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _hint(e: dict) -> tuple[str, str]:
    """A fix for the commonest slips: a misspelt key, a percentage typed as 10 for 0.10."""
    if e["type"] == "extra_forbidden" and e["loc"] and isinstance(e["loc"][-1], str):
        model = _model_at(tuple(e["loc"]))
        close = difflib.get_close_matches(e["loc"][-1], list(model.model_fields), n=1) if model else []
        if close:
            return f"，是否应为 {close[0]}？", f"; did you mean {close[0]}?"
    if e["type"] == "less_than_equal" and (e.get("ctx") or {}).get("le") == 1:
        return "；比例用小数填写（10% 写 0.10）", "; shares are fractions (10% is 0.10)"
    return "", ""


def problems_from_validation(error: ValidationError) -> list[RuleProblem]:
    problems = []
    for e in error.errors():
        hint_zh, hint_en = _hint(e)
        problems.append(RuleProblem(key_path(e["loc"]),
                                    _ZH.get(e["type"], "取值无效") + f"：{e['msg']}{hint_zh}",
                                    e["msg"] + hint_en))
    return problems


def rulebook_from_data(data: object, source: str) -> Rulebook:
    """Validate parsed data: structure first, then every cross-field rule."""
    from kpisheet.validators.rulebook.checks import check_rulebook

    if not isinstance(data, dict):
        found_zh, found_en = {type(None): ("空文件", "an empty file"), str: ("一段文字", "plain text"),
                              list: ("列表", "a list")}.get(type(data), ("单个数值", "a single value"))
        raise RulebookError(source, [RuleProblem("(root)", f"文件内容不是规则表（应为“键: 值”结构，实际是{found_zh}）",
                                                 f"the file does not hold a rulebook mapping (found {found_en})")],
                            unreadable=True)
    try:
        rulebook = Rulebook.model_validate(data)
    except ValidationError as error:
        raise RulebookError(source, problems_from_validation(error)) from None
    problems = check_rulebook(rulebook)
    if problems:
        raise RulebookError(source, problems)
    return rulebook


def load_yaml(path: Path) -> Rulebook:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RulebookError(source, [RuleProblem(source, "不是文本文件（可能是二进制文件，或改了扩展名的 Excel 文件）",
                                                 "not a text file (binary data, or a renamed Excel file?)")],
                            unreadable=True) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise RulebookError(source, [RuleProblem(source, f"无法读取文件：{reason}",
                                                 f"cannot read the file: {reason}")], unreadable=True) from None
    try:
        data, lines, duplicates = _parse_yaml(text)
    except (yaml.YAMLError, RecursionError) as error:  # absurd nesting exhausts PyYAML's recursion
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else source
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RulebookError(source, [RuleProblem(where, f"不是有效的 YAML：{reason}",
                                                 f"not valid YAML: {reason}")], unreadable=True) from None
    try:
        rulebook = rulebook_from_data(data, source)
    except RulebookError as error:
        located = [_with_line(p, lines) for p in duplicates + error.problems]
        raise RulebookError(source, located, error.unreadable) from None
    if duplicates:
        raise RulebookError(source, [_with_line(p, lines) for p in duplicates])
    return rulebook


def _with_line(problem: RuleProblem, lines: Mapping[str, int]) -> RuleProblem:
    if problem.line is not None:
        return problem
    line, _ = locate(problem.location, lines)
    return RuleProblem(problem.location, problem.message_zh, problem.message_en, line)


def _parse_yaml(text: str) -> tuple[object, dict[str, int], list[RuleProblem]]:
    """The data, the line of every key path, and each key given twice in one mapping.

    PyYAML keeps the last of two equal keys without a word; a duplicated key
    in HR's file would silently override the first, so it is reported.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    duplicates: list[RuleProblem] = []

    def walk(node: yaml.Node, loc: tuple) -> None:
        lines[key_path(loc)] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, value_node in node.value:
                # complex keys (lists as keys) never name a rulebook field; keep them hashable
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else key_node.tag
                walk(value_node, loc + (key,))
                lines[key_path(loc + (key,))] = key_node.start_mark.line + 1
                if key in seen:
                    duplicates.append(RuleProblem(key_path(loc + (key,)),
                                                  f"键 {key} 重复出现，后一个会覆盖前一个；请只保留一个",
                                                  f"key {key} appears twice; the second would override the first, "
                                                  f"keep one", key_node.start_mark.line + 1))
                seen.add(key)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, loc + (i,))

    if node is not None:
        walk(node, ())
    return data, lines, duplicates


def load_rulebook(path: str | Path | None = None) -> Rulebook:
    """The rulebook at ``path`` (.yaml/.yml or .xlsx), or the shipped default."""
    if path is None:
        return default_rulebook()
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from kpisheet.validators.rulebook.xlsx import load_xlsx

        return load_xlsx(path)
    return load_yaml(path)


@lru_cache(maxsize=1)
def default_rulebook() -> Rulebook:
    text = resources.files("kpisheet.validators.rulebook.data").joinpath(DEFAULT_RULEBOOK).read_text(encoding="utf-8")
    return rulebook_from_data(yaml.safe_load(text), DEFAULT_RULEBOOK)


def dump_yaml(rulebook: Rulebook) -> str:
    return yaml.safe_dump(rulebook.model_dump(mode="json"), allow_unicode=True, sort_keys=False)
