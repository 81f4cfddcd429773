"""template- checks: identity, rulebook, columns, rows and locked cells, each at its cell."""

from __future__ import annotations

import tests.support.validate_support as S
from tests.support.validate_support import book
from kpisheet.validators import layout as L
from kpisheet.validators.checks.template import meta_cell
from kpisheet.validators.rulebook.load import default_rulebook


def test_clean_workbook_has_no_template_findings(values, props):
    report = S.run(values, props)
    assert report.findings == ()
    assert report.status == "ok"


def test_a_workbook_without_meta_is_template_unknown(values, props):
    del values[L.META]
    report = S.run(values, props)
    assert S.codes(report) == {"template-unknown"}
    assert "_meta" in report.findings[0].message_zh and report.employees == ()


def test_a_foreign_template_id_is_template_unknown(values, props):
    S.put(values, L.META, meta_cell("template_id"), "someone.else")
    report = S.run(values, props)
    assert S.places(report) == {("template-unknown", L.META, meta_cell("template_id"))}


def test_an_old_template_version(values, props):
    S.put(values, L.META, meta_cell("template_version"), "0")
    report = S.run(values, props)
    assert S.places(report) == {("template-version", L.META, "B2")}
    assert report.findings[0].value == "0" and report.findings[0].expected == L.TEMPLATE_VERSION


def test_another_rulebook_is_a_mismatch_and_checking_goes_on(values, props):
    rb = default_rulebook()
    changed = rb.model_copy(update={"comments": rb.comments.model_copy(update={"extreme_high": 115})})
    report = S.run(values, props, rb=changed)
    assert ("template-rulebook-mismatch", L.META, meta_cell("rulebook_fingerprint")) in S.places(report)
    assert report.employees, "scores are still recomputed with the rulebook given"


def test_a_moved_column_stops_cell_checks(values, props):
    for row in values[L.SCORES]:
        row.insert(3, "")  # a column inserted before 指标代码
    report = S.run(values, props)
    assert S.places(report) == {("template-structure-changed", L.SCORES, "D3")}
    assert "列" in report.findings[0].message_zh


def test_an_indicator_code_changed(values, props):
    goal = book(values).goals[5]
    S.put(values, L.GOALS, goal.address("code"), "CS_TICKET")
    report = S.run(values, props)
    assert ("template-structure-changed", L.GOALS, goal.address("code")) in S.places(report)


def test_an_employee_id_changed_on_the_scores_sheet(values, props):
    row = book(values).scores[3]
    S.put(values, L.SCORES, row.address("employee_id"), "SH9999")
    report = S.run(values, props)
    assert ("template-structure-changed", L.SCORES, row.address("employee_id")) in S.places(report)


def structure_findings(values, props):
    """The template-structure-changed findings a run on ``values`` gives, in order."""
    return [f for f in S.run(values, props).findings if f.code == "template-structure-changed"]


def test_a_deleted_row_is_one_finding_where_it_was(values, props):
    scores = values[L.SCORES]
    at = book(values).scores[10].row
    del scores[at]
    structure = structure_findings(values, props)
    assert [(f.sheet, f.cell) for f in structure] == [(L.SCORES, f"A{at + 1}")]
    assert "删除" in structure[0].message_zh


def test_an_inserted_row_is_one_finding_where_it_is(values, props):
    scores = values[L.SCORES]
    at = book(values).scores[4].row
    employee = scores[at][0]
    scores.insert(at, [employee, "", "", "", "临时加的指标"] + [""] * 12)
    structure = structure_findings(values, props)
    assert [(f.sheet, f.cell) for f in structure] == [(L.SCORES, f"A{at + 1}")]
    assert "插入" in structure[0].message_zh


def test_an_empty_row_inserted_moves_the_rows_below(values, props):
    scores = values[L.SCORES]
    at = book(values).scores[7].row
    scores.insert(at, [""] * 17)
    structure = structure_findings(values, props)
    assert [(f.sheet, f.cell) for f in structure] == [(L.SCORES, f"A{at + 2}")]
    assert "移动" in structure[0].message_zh


def test_a_summary_row_deleted(values, props):
    summary = values[L.SUMMARY]
    at = book(values).summary[2].row
    del summary[at]
    report = S.run(values, props)
    assert ("template-structure-changed", L.SUMMARY, f"A{at + 1}") in S.places(report)


def test_an_edited_row_map_breaks_the_structure_fingerprint(values, props):
    entry = book(values).identity.row_map[0]
    S.put(values, L.META, f"B{entry.meta_row + 1}", entry.summary_row + 1)
    report = S.run(values, props)
    assert ("template-structure-changed", L.META, f"A{entry.meta_row + 1}") in S.places(report)


def test_meta_edited_against_the_document_properties(values, props):
    S.put(values, L.META, meta_cell("team"), "别的组")
    report = S.run(values, props)
    assert ("template-structure-changed", L.META, meta_cell("team")) in S.places(report)


def test_locked_targets_must_stay_the_rulebooks(tmp_path):
    rb = default_rulebook()
    locked = rb.model_copy(update={"indicators": [
        i.model_copy(update={"editable_targets": False}) if i.code == "ENG_MTTR" else i for i in rb.indicators]})
    blank = S.build_blank(tmp_path, rb=locked)
    values, props, _ = S.read(blank)
    goal = next(g for g in book(values).goals if g.code == "ENG_MTTR")
    S.put(values, L.GOALS, goal.address("target"), 5)
    report = S.run(values, props, rb=locked, phase="goals")
    assert ("template-structure-changed", L.GOALS, goal.address("target")) in S.places(report)
    assert "锁定" in next(f for f in report.findings if f.cell == goal.address("target")).message_zh
