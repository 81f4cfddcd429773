"""docs/design.md states the shipped defaults: its tables must say what the default rulebook says."""

from __future__ import annotations

import re

import pytest

from kpisheet.validators.rulebook.model import Method
from tests.support.paths import REPO_ROOT

DOC = REPO_ROOT / "docs" / "design.md"


def rows(text: str, first_header: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    out = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        out.append([cell.strip() for cell in line.strip("|").split("|")])
    return out


def number(text: str) -> float | None:
    return None if text in ("", "—") else float(text)


def test_the_indicator_table_matches_the_default_rulebook(rulebook):
    table = {r[0]: r for r in rows(DOC.read_text(encoding="utf-8"), "code")}
    assert set(table) == {ind.code for ind in rulebook.indicators}
    for ind in rulebook.indicators:
        row = table[ind.code]
        assert row[1] == ind.name_zh
        users = {r.name_zh for r in rulebook.roles if ind.code in r.weights}
        assert set(re.findall(r"[\u4e00-\u9fff]+专员|售后工程师", row[2])) == users or (
            row[2] == "all three roles" and len(users) == len(rulebook.roles))
        if ind.method in (Method.higher_better, Method.lower_better, Method.count):
            floor, target, challenge = (number(x) for x in row[4].split(" / "))
            assert (floor, target, challenge) == (ind.floor, ind.target, ind.challenge), ind.code
        assert (row[5] == "yes") == ind.mandatory, ind.code


def test_the_role_weights_match(rulebook):
    table = {r[0]: r for r in rows(DOC.read_text(encoding="utf-8"), "role")}
    for role in rulebook.roles:
        stated = dict(re.findall(r"([A-Z_]+) (\d+)", " ".join(table[role.name_zh][1:])))
        assert {k: float(v) for k, v in stated.items()} == role.weights


@pytest.mark.parametrize("words", ["S** ≥ 90 (×1.3)", "at most\n10% S", "within 5 working days", "2 months"])
def test_stated_defaults(words, rulebook):
    text = DOC.read_text(encoding="utf-8")
    assert words.replace("\n", " ") in text.replace("\n", " ")
    assert rulebook.grade_band("S").min == 90 and rulebook.appeals.file_within_workdays == 5


def test_the_readme_links_the_design_inside_the_repository():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/design.md)" in readme and "DESIGN.md" not in readme
    for target in re.findall(r"\]\(([^)#]+)\)", DOC.read_text(encoding="utf-8")):
        if not target.startswith("http"):
            assert (DOC.parent / target).exists(), target
