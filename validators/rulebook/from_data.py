"""A rulebook from parsed data (the YAML mapping or the .xlsx form's rows): structure, then the cross-field rules."""

from __future__ import annotations

from pydantic import ValidationError

from kpisheet.validators.rulebook.checks import check_rulebook
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.problems import RuleProblem, RulebookError, problems_from_validation


def rulebook_from_data(data: object, source: str) -> Rulebook:
    """Validate parsed data: structure first, then every cross-field rule."""
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
