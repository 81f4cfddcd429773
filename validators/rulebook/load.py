"""Loading the rulebook (its YAML form, the .xlsx form, or the shipped default) and saving it as YAML.

Every problem is located (key path and line) and bilingual; the records
and the error are in :mod:`kpisheet.validators.rulebook.problems`.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Mapping

import yaml

from kpisheet.validators.rulebook.from_data import rulebook_from_data
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.problems import RuleProblem, RulebookError, key_path, locate

DEFAULT_RULEBOOK = "default_rulebook.yaml"


def load_yaml(path: Path) -> Rulebook:
    source = str(path)
    data, lines, duplicates = read_yaml(path)
    try:
        rulebook = rulebook_from_data(data, source)
    except RulebookError as error:
        located = [with_line(p, lines) for p in duplicates + error.problems]
        raise RulebookError(source, located, error.unreadable) from None
    if duplicates:
        raise RulebookError(source, [with_line(p, lines) for p in duplicates])
    return rulebook


def read_yaml(path: Path) -> tuple[object, dict[str, int], list[RuleProblem]]:
    """A YAML rulebook file's data, the line of every key path, and each key given twice.

    A file that cannot be read or is not YAML raises :class:`RulebookError` (unreadable).
    """
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
        return _parse_yaml(text)
    except (yaml.YAMLError, RecursionError) as error:  # absurd nesting exhausts PyYAML's recursion
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else source
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RulebookError(source, [RuleProblem(where, f"不是有效的 YAML：{reason}",
                                                 f"not valid YAML: {reason}")], unreadable=True) from None


def with_line(problem: RuleProblem, lines: Mapping[str, int]) -> RuleProblem:
    """``problem`` with the YAML line of its key path (or of the nearest key above it)."""
    if problem.line is not None:
        return problem
    line, _ = locate(problem.location, lines)
    return replace(problem, line=line)


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
        # imported here: the .xlsx form needs openpyxl (~0.15 s to import), which a YAML rulebook does not
        from kpisheet.validators.rulebook.xlsx import load_xlsx

        return load_xlsx(path)
    return load_yaml(path)


@lru_cache(maxsize=1)
def default_rulebook() -> Rulebook:
    text = resources.files("kpisheet.validators.rulebook.data").joinpath(DEFAULT_RULEBOOK).read_text(encoding="utf-8")
    return rulebook_from_data(yaml.safe_load(text), DEFAULT_RULEBOOK)


def dump_yaml(rulebook: Rulebook) -> str:
    return yaml.safe_dump(rulebook.model_dump(mode="json"), allow_unicode=True, sort_keys=False)
