"""The YAML form: round trip, and every error located by key path and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.load import DEFAULT_RULEBOOK, dump_yaml, load_rulebook, load_yaml
from kpisheet.validators.rulebook.problems import RulebookError, locate
from tests.support.paths import REPO_ROOT

DEFAULT_TEXT = (REPO_ROOT / "validators" / "rulebook" / "data" / DEFAULT_RULEBOOK).read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, needle: str, start: int = 0) -> int:
    """1-based line of the first occurrence of ``needle`` at or after line ``start``."""
    lines = text.splitlines()
    return next(n for n in range(start, len(lines)) if needle in lines[n]) + 1


def _error(path: Path) -> RulebookError:
    with pytest.raises(RulebookError) as caught:
        load_rulebook(path)
    return caught.value


def test_round_trip_equals_the_model(rulebook, tmp_path):
    path = _write(tmp_path, dump_yaml(rulebook))
    again = load_yaml(path)
    assert again == rulebook
    assert again.fingerprint() == rulebook.fingerprint()
    # HR's order of a role's indicators survives (team workbooks list them in it)
    assert [list(r.weights) for r in again.roles] == [list(r.weights) for r in rulebook.roles]


def test_round_trip_of_an_edited_rulebook(rulebook, tmp_path):
    data = rulebook.model_dump(mode="json")
    data["meta"]["name_zh"] = "=不是公式"
    data["indicators"][0]["target"] = 0.7 + 0.2          # 0.8999999999999999: no short decimal form
    data["eligibility"]["excluded_statuses"] = []
    edited = Rulebook.model_validate(data)
    assert load_yaml(_write(tmp_path, dump_yaml(edited))) == edited


def test_misspelt_key_is_named_with_its_path_line_and_a_suggestion(tmp_path):
    text = DEFAULT_TEXT.replace("    target: 0.90\n", "    taget: 0.90\n", 1)  # ENG_FTFR, indicators[3]
    error = _error(_write(tmp_path, text))
    (problem,) = error.problems
    assert problem.location == "indicators[3].taget"
    assert problem.line == _line_of(text, "taget:")
    assert "target" in problem.message_en and "target" in problem.message_zh
    assert not error.unreadable


def test_misspelt_section_key(tmp_path):
    text = DEFAULT_TEXT.replace("distribution:\n", "distrbution:\n")
    locations = {p.location for p in _error(_write(tmp_path, text)).problems}
    assert locations == {"distrbution", "distribution"}  # unknown key, and the real one missing


def test_weights_summing_to_90_name_the_role_and_line(tmp_path):
    text = DEFAULT_TEXT.replace("CSAT: 15, CS_ANSWER: 10", "CSAT: 5, CS_ANSWER: 10")  # the cs role
    problems = _error(_write(tmp_path, text)).problems
    sums = [p for p in problems if "sum to 90" in p.message_en]
    assert len(sums) == 1 and sums[0].location == "roles[1].weights"
    assert "客服专员" in sums[0].message_zh and "cs" in sums[0].message_en
    assert sums[0].line == _line_of(text, "CSAT: 5, CS_ANSWER")


def test_target_below_floor_names_the_indicator(tmp_path):
    start = _line_of(DEFAULT_TEXT, "code: CS_ANSWER")
    lines = DEFAULT_TEXT.splitlines(keepends=True)
    target_line = _line_of(DEFAULT_TEXT, "target:", start)
    lines[target_line - 1] = "    target: 0.80\n"  # floor is 0.85
    problems = _error(_write(tmp_path, "".join(lines))).problems
    assert [(p.location, p.line) for p in problems] == [("indicators[6].target", target_line)]
    assert "CS_ANSWER" in problems[0].message_en and "呼叫响应率" in problems[0].message_zh


def test_duplicate_key_is_not_silently_overridden(tmp_path):
    text = DEFAULT_TEXT.replace("  cap: 120\n", "  cap: 120\n  cap: 150\n")
    (problem,) = _error(_write(tmp_path, text)).problems
    assert problem.location == "scoring.cap"
    assert problem.line == _line_of(text, "cap: 150")


@pytest.mark.parametrize("content, reason", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary junk \x80\x81", "not a text file"),
    ("这不是规则表，只是一句话。This is just a sentence.".encode(), "mapping"),
    (b"meta: [unclosed\n  - x: y: z\n", "not valid YAML"),
    (b"", "mapping"),
    (b"PK\x03\x04" + bytes(range(256)), "not a text file"),
])
def test_not_yaml_at_all_gives_one_one_line_reason(tmp_path, content, reason):
    path = tmp_path / "rules.yaml"
    path.write_bytes(content)
    error = _error(path)
    assert error.unreadable and len(error.problems) == 1
    assert reason in error.problems[0].message_en
    assert "\n" not in str(error.problems[0])


def test_missing_file_is_an_unreadable_error(tmp_path):
    error = _error(tmp_path / "absent.yaml")
    assert error.unreadable and "cannot read" in error.problems[0].message_en


def test_shipped_default_parses_as_plain_yaml():
    # the single source of defaults stays plain YAML that any tool can read
    assert isinstance(yaml.safe_load(DEFAULT_TEXT), dict)


def test_locate_falls_back_to_the_nearest_ancestor():
    places = {"roles[1]": "R", "roles[1].weights": "W"}
    assert locate("roles[1].weights", places) == ("W", True)
    assert locate("roles[1].weights.CSAT", places) == ("W", False)
    assert locate("roles[1].name_zh", places) == ("R", False)
    assert locate("grades[0].min", places) == (None, False)
