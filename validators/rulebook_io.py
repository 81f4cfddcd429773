"""Loading and saving the rulebook, with every problem located and bilingual."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from .rulebook import Rulebook

DEFAULT_RULEBOOK = "default_rulebook.yaml"


@dataclass(frozen=True)
class RuleProblem:
    """One thing wrong with a rulebook: where (key path or sheet!cell) and why."""

    location: str
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message_zh} / {self.message_en}"


class RulebookError(Exception):
    """A rulebook that cannot be used; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[RuleProblem]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(map(str, problems)))


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
}


def key_path(loc: tuple) -> str:
    """('indicators', 3, 'weight_max') -> 'indicators[3].weight_max'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def problems_from_validation(error: ValidationError) -> list[RuleProblem]:
    return [
        RuleProblem(key_path(e["loc"]), _ZH.get(e["type"], "取值无效") + f"：{e['msg']}", e["msg"])
        for e in error.errors()
    ]


def rulebook_from_data(data: object, source: str) -> Rulebook:
    """Validate parsed data: structure first, then every cross-field rule."""
    from .rulebook_checks import check_rulebook

    if not isinstance(data, dict):
        raise RulebookError(source, [RuleProblem("(root)", "文件内容不是规则表（应为键值结构）",
                                                 "the file does not hold a rulebook mapping")])
    try:
        rulebook = Rulebook.model_validate(data)
    except ValidationError as error:
        raise RulebookError(source, problems_from_validation(error)) from None
    problems = check_rulebook(rulebook)
    if problems:
        raise RulebookError(source, problems)
    return rulebook


def load_yaml(path: Path) -> Rulebook:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RulebookError(str(path), [RuleProblem(str(path), f"无法读取文件：{error}",
                                                    f"cannot read the file: {error}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RulebookError(str(path), [RuleProblem(where, f"不是有效的 YAML：{reason}",
                                                    f"not valid YAML: {reason}")]) from None
    return rulebook_from_data(data, str(path))


def load_rulebook(path: str | Path | None = None) -> Rulebook:
    """The rulebook at ``path`` (.yaml/.yml or .xlsx), or the shipped default."""
    if path is None:
        return default_rulebook()
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from .rulebook_xlsx import load_xlsx

        return load_xlsx(path)
    return load_yaml(path)


@lru_cache(maxsize=1)
def default_rulebook() -> Rulebook:
    text = resources.files("validators.data").joinpath(DEFAULT_RULEBOOK).read_text(encoding="utf-8")
    return rulebook_from_data(yaml.safe_load(text), DEFAULT_RULEBOOK)


def dump_yaml(rulebook: Rulebook) -> str:
    return yaml.safe_dump(rulebook.model_dump(mode="json"), allow_unicode=True, sort_keys=False)
