"""The per-file summary (counts by code, first cells) and the full list grouped by employee, on real files."""

from __future__ import annotations

import pytest

import tests.support.validate_support as S
from kpisheet.validators.findings import make_finding
from kpisheet.validators.report import FileReport, status_of
from kpisheet.validators.summary import (
    FIRST_CELLS, batch_lines, by_employee, detail_lines, summarise, summary_lines,
)


@pytest.fixture(scope="module")
def blank_report(tmp_path_factory):
    """A form sent back blank: every input missing, one finding per empty cell."""
    blank = S.build_blank(tmp_path_factory.mktemp("blank"))
    return S.run_file(blank, roster=list(S.roster()))


def test_a_blank_form_is_summarised_in_a_few_lines(blank_report):
    assert len(blank_report.findings) > 100  # the issue saw 180
    lines = summary_lines(blank_report)
    codes = {f.code for f in blank_report.findings}
    assert len(lines) == 2 + len(codes) < 15
    summary = summarise(blank_report)
    assert sum(c.count for c in summary.codes) == len(blank_report.findings)
    assert summary.counts["error"] == sum(f.severity == "error" for f in blank_report.findings)
    assert summary.employees == len({f.employee_id for f in blank_report.findings if f.employee_id})
    top = summary.codes[0]
    assert top.severity == "error" and top.count == max(c.count for c in summary.codes if c.severity == "error")
    first = [f.where for f in blank_report.findings if f.code == top.code][:FIRST_CELLS]
    assert top.first == tuple(first) and top.more == top.count - FIRST_CELLS
    line = next(l for l in lines if f" {top.code} " in l)
    assert "、".join(first) in line and f"另 {top.more} 处 / {top.more} more" in line


def test_the_full_list_has_every_finding_once_grouped_by_employee(blank_report):
    groups = by_employee(blank_report.findings)
    assert sorted(id(f) for g in groups for f in g.findings) == sorted(id(f) for f in blank_report.findings)
    ids = [g.employee_id for g in groups]
    assert len(ids) == len(set(ids))
    first_seen = list(dict.fromkeys(f.employee_id for f in blank_report.findings))
    assert [i for i in ids if i] == [i for i in first_seen if i]
    for g in groups:
        sheets = [f.sheet for f in g.findings]
        assert sheets == sorted(sheets, key=["目标设定", "考核评分", "汇总"].index) or g.employee_id is None
    member = next(g for g in groups if g.employee_id)
    assert member.name and member.name in member.label
    text = detail_lines(blank_report)
    assert sum(1 for line in text if line.startswith("    ")) == 4 * len(blank_report.findings)


def test_file_level_findings_come_first_and_a_clean_file_is_one_line():
    people = [make_finding("score-missing", sheet="考核评分", cell=f"L{r}", employee_id=e, employee_name=n,
                           indicator="CSAT", field_zh="实际值", field_en="actual value")
              for r, (e, n) in enumerate([("E2", "乙"), ("E1", "甲"), ("E2", "乙")], start=4)]
    whole = make_finding("team-period-mismatch", sheet="_meta", cell="B3", value="2026-Q1", expected="2026-Q2")
    findings = tuple(people + [whole])
    report = FileReport("t.xlsx", None, status_of(findings), findings=findings)
    groups = by_employee(report.findings)
    assert [(g.employee_id, len(g.findings)) for g in groups] == [(None, 1), ("E2", 2), ("E1", 1)]
    assert groups[1].label.startswith("员工 E2 乙")
    clean = FileReport("ok.xlsx", None, "ok")
    assert summary_lines(clean) == ["[通过 ok] ok.xlsx"]
    lines = batch_lines([report, clean])
    assert lines[-2].startswith("共 2 个文件：通过 1，警告 0，错误 1") and "--details" in lines[-1]
    assert "--details" not in batch_lines([clean])[-1]
    for line in batch_lines([report, clean], details=True):
        line.encode("gbk")  # a Chinese Windows console prints it as it is
