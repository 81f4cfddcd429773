"""What is wrong with a rulebook, located and bilingual: the problem record, the error, pydantic's errors in Chinese.

Every reader of a rulebook (the YAML and the .xlsx forms, the cross-field
checks) reports through these, so a problem reads the same whichever form
HR edits.
"""

from __future__ import annotations

import difflib
import re
import typing
from dataclasses import dataclass
from typing import Mapping, TypeVar

from pydantic import BaseModel, ValidationError

from kpisheet.validators.errors import KpisheetError
from kpisheet.validators.rulebook.model import Rulebook


@dataclass(frozen=True)
class RuleProblem:
    """One thing wrong with a rulebook: where (key path or sheet!cell) and why."""

    location: str
    message_zh: str
    message_en: str
    line: int | None = None  # 1-based line in a YAML file, when known
    file: str | None = None  # in a company's set of rulebooks: the file (company or department) it is in

    @property
    def where(self) -> str:
        place = f"{self.location} (line {self.line})" if self.line else self.location
        return f"{self.file}: {place}" if self.file else place

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
