"""The finding catalogue: complete, bilingual, strict about its templates, and documented."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from kpisheet.validators.findings import (
    CATALOGUE, LOCATION_FIELDS, PREFIXES, SEVERITIES, FindingTemplateError, Names, example_finding, make_finding,
    with_names,
)
from tests.support.paths import REPO_ROOT

# issue 4, item 3: these names exactly (plus score-actual-changed for later)
ISSUE_CODES = """
file-unreadable file-encrypted file-wrong-format file-too-large file-has-macros file-lock
template-unknown template-version template-rulebook-mismatch template-structure-changed
goal-weight-sum goal-weight-range goal-target-missing goal-target-order goal-smart-missing
goal-changed-after-approval score-not-number score-percent-scale score-out-of-range score-rating-invalid
score-missing score-comment-required score-total-mismatch team-duplicate-employee team-unknown-employee
team-missing-employee team-wrong-department team-period-mismatch team-signoff-missing
team-distribution-over-quota score-actual-changed
""".split()

JSON_FIELDS = ["code", "severity", "sheet", "cell", "employee_id", "indicator", "employee_name", "indicator_name",
               "value", "expected", "message_zh", "message_en", "hint"]

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_issue_code_is_defined_once_with_a_known_prefix():
    assert set(ISSUE_CODES) <= set(CATALOGUE)
    for code, kind in CATALOGUE.items():
        assert kind.code == code
        assert kind.prefix in PREFIXES, code
        assert kind.severity in SEVERITIES


def test_severities_that_the_json_consumers_rely_on():
    assert CATALOGUE["file-lock"].severity == "warning"
    assert CATALOGUE["score-actual-changed"].severity == "warning"
    assert CATALOGUE["file-has-macros"].severity == "error"
    for code in ("file-unreadable", "file-too-large", "score-not-number", "team-duplicate-employee"):
        assert CATALOGUE[code].severity == "error"


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_templates_are_bilingual_and_use_the_same_placeholders(code):
    kind = CATALOGUE[code]
    names = lambda template: {m for m in re.findall(r"{(\w+)}", template)}  # noqa: E731
    zh, en = names(kind.message_zh), names(kind.message_en)
    # a language-specific parameter comes in pairs: reason_zh / reason_en
    strip = lambda s: {n[:-3] if n.endswith(("_zh", "_en")) else n for n in s}  # noqa: E731
    assert strip(zh) == strip(en), code
    for text in (kind.title_zh, kind.message_zh, kind.hint_zh, kind.description_zh):
        assert CJK.search(text), f"{code}: Chinese text expected in {text!r}"
    for text in (kind.title_en, kind.message_en, kind.hint_en, kind.description_en):
        assert not CJK.search(text.replace("约", "")), f"{code}: English text expected in {text!r}"
    if {"sheet", "cell"} <= zh:
        assert kind.message_zh.startswith("{sheet}!{cell}") and kind.message_en.startswith("{sheet}!{cell}")


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_example_formats_completely(code):
    finding = example_finding(CATALOGUE[code])
    assert finding.code == code and finding.severity == CATALOGUE[code].severity
    for text in (finding.message_zh, finding.message_en, finding.hint):
        assert "{" not in text and "}" not in text and "None" not in text
    assert " / " in finding.hint and CJK.search(finding.hint.split(" / ")[0])
    assert list(finding.to_dict()) == JSON_FIELDS
    json.dumps(finding.to_dict(), ensure_ascii=False)


def test_cell_findings_name_the_cell_in_both_languages():
    finding = make_finding("score-not-number", sheet="考核评分", cell="L7", employee_id="E1003",
                           indicator="CSAT", value="９５", field_zh="实际值", field_en="actual value",
                           problem_zh="含全角数字", problem_en="full-width digits")
    assert finding.message_zh.startswith("考核评分!L7：")
    assert finding.message_en.startswith("考核评分!L7: ")
    assert "E1003" in finding.message_zh and "CSAT" in finding.message_en and "９５" in finding.message_zh
    assert finding.where == "考核评分!L7"
    assert finding.to_dict() == {
        "code": "score-not-number", "severity": "error", "sheet": "考核评分", "cell": "L7",
        "employee_id": "E1003", "indicator": "CSAT", "employee_name": None, "indicator_name": None,
        "value": "９５", "expected": None,
        "message_zh": finding.message_zh, "message_en": finding.message_en, "hint": finding.hint,
    }


def test_file_findings_have_no_location_and_null_fields():
    finding = make_finding("file-encrypted")
    data = finding.to_dict()
    assert [data[k] for k in ("sheet", "cell", "employee_id", "indicator", "employee_name", "indicator_name",
                              "value", "expected")] == [None] * 8
    assert finding.where == ""


def test_unknown_code_fails_loudly():
    with pytest.raises(FindingTemplateError, match="unknown finding code 'score-typo'"):
        make_finding("score-typo")


def test_missing_template_parameter_fails_loudly():
    with pytest.raises(FindingTemplateError, match="needs 'reason_zh'"):
        make_finding("file-unreadable")


def test_missing_location_that_the_template_names_fails_loudly():
    with pytest.raises(FindingTemplateError, match="needs 'cell'"):
        make_finding("score-missing", sheet="考核评分", employee_id="E1", indicator="CSAT",
                     field_zh="实际值", field_en="actual value")


def test_a_parameter_no_template_uses_fails_loudly():
    with pytest.raises(FindingTemplateError, match="does not use"):
        make_finding("file-encrypted", reason_zh="多余")


def test_values_are_shown_as_a_manager_reads_them_and_stored_json_safe():
    finding = make_finding("goal-weight-sum", sheet="目标设定", cell="N7", employee_id="E1", value=95.0, expected=100)
    assert "合计为 95%" in finding.message_zh and "sum to 95%" in finding.message_en
    assert finding.value == 95.0 and finding.expected == 100
    empty = make_finding("goal-weight-sum", sheet="目标设定", cell="N7", employee_id="E1", value=None, expected=100)
    assert "合计为 空%" in empty.message_zh and "sum to empty%" in empty.message_en
    dated = make_finding("team-period-mismatch", sheet="_meta", cell="B3", value=dt.date(2026, 4, 1), expected="2026-Q2")
    assert dated.value == "2026-04-01"
    assert json.loads(json.dumps(dated.to_dict()))["value"] == "2026-04-01"
    nan = make_finding("goal-weight-sum", sheet="目标设定", cell="N7", employee_id="E1", value=float("nan"), expected=100)
    json.dumps(nan.to_dict(), allow_nan=False)


def test_findings_are_frozen_and_hashable():
    finding = make_finding("file-encrypted")
    with pytest.raises(AttributeError):
        finding.code = "file-lock"  # type: ignore[misc]
    assert len({finding, make_finding("file-encrypted")}) == 1


def test_location_fields_are_finding_fields():
    assert set(LOCATION_FIELDS) <= set(JSON_FIELDS)


def test_committed_docs_match_the_catalogue():
    from kpisheet.validators.findings_doc import FINDINGS_DOC, findings_markdown

    committed = REPO_ROOT / FINDINGS_DOC
    assert committed.read_text(encoding="utf-8") == findings_markdown(), (
        "docs/findings.md is stale: run `python -m kpisheet.validators.findings_doc`")


def test_docs_have_a_table_per_prefix_and_every_code():
    from kpisheet.validators.findings_doc import findings_markdown

    text = findings_markdown()
    for prefix, (zh, en) in PREFIXES.items():
        assert f"`{prefix}-`" in text and zh in text and en in text
    for code, kind in CATALOGUE.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{code}` |"))
        example = example_finding(kind)
        assert kind.severity in row and example.hint.replace("|", "\\|") in row
        assert example.message_zh.replace("|", "\\|") in row and example.message_en.replace("|", "\\|") in row


def test_findings_name_the_employee_and_the_indicator_in_both_languages():
    finding = make_finding("score-missing", sheet="考核评分", cell="L7", employee_id="E1003", indicator="CSAT",
                           employee_name="张伟", indicator_names=("客户满意度", "Customer satisfaction"),
                           field_zh="实际值", field_en="actual value")
    assert "员工 E1003 张伟 的指标 客户满意度（CSAT）未填写实际值" in finding.message_zh
    assert "employee E1003 张伟's Customer satisfaction (CSAT) has no actual value" in finding.message_en
    assert (finding.employee_name, finding.indicator_name) == ("张伟", "客户满意度")


def test_names_found_later_are_worded_in_and_the_makers_names_kept():
    bare = make_finding("score-missing", sheet="考核评分", cell="L7", employee_id="E1003", indicator="CSAT",
                        field_zh="实际值", field_en="actual value")
    assert "E1003 的指标 CSAT未填写" in bare.message_zh  # without names: the ID and the code
    names = Names({"E1003": "张伟"}, {"CSAT": ("客户满意度", "Customer satisfaction")})
    named = with_names(bare, names)
    assert named == make_finding("score-missing", sheet="考核评分", cell="L7", employee_id="E1003",
                                 indicator="CSAT", employee_name="张伟",
                                 indicator_names=("客户满意度", "Customer satisfaction"),
                                 field_zh="实际值", field_en="actual value")
    assert "E1003 张伟" in named.message_zh and "客户满意度（CSAT）" in named.message_zh
    assert with_names(named, names) is named
    own = make_finding("team-missing-employee", sheet="汇总", employee_id="E1007", employee_name="王芳")
    assert "王芳" in with_names(own, Names({"E1007": "别名"})).message_zh
    assert with_names(make_finding("file-encrypted"), names).message_zh == make_finding("file-encrypted").message_zh


def test_a_summary_input_is_named_by_its_field_not_as_an_indicator():
    finding = make_finding("score-out-of-range", sheet="汇总", cell="H5", employee_id="E1003", employee_name="张伟",
                           value=-1, expected="0, 1, 2, …", field_zh="表彰次数", field_en="commendations")
    assert "员工 E1003 张伟 的表彰次数为 -1" in finding.message_zh
    assert "employee E1003 张伟's commendations is -1" in finding.message_en


def test_an_optional_parameter_reads_as_nothing_when_left_out():
    finding = make_finding("score-percent-scale", sheet="考核评分", cell="L7", employee_id="E1", indicator="CSAT",
                           value=95, expected="0.95 (95%)", unit_zh="%", unit_en="%", field_zh="实际值",
                           field_en="actual value")
    assert finding.message_zh.endswith("可能应为 0.95 (95%)。")
    assert finding.message_en.endswith("probably meant as 0.95 (95%).")
