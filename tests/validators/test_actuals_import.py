"""Importing actual values: every bad-row kind at its file/row/column, percent spellings, wide form, the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from kpisheet.validators.actuals import ActualsError, check_actuals, read_actuals
from kpisheet.validators.roster import read_roster
from kpisheet.xladdin.cli.app import app
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
ROSTER = ROOT / "samples" / "roster.xlsx"
ENGINEER, CS_AGENT = "SH0011", "SH0012"  # roles in samples/roster.xlsx


@pytest.fixture(scope="module")
def roster(rulebook):
    return read_roster(ROSTER, rulebook)


def write_csv(path: Path, rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


LONG_HEADER = ["工号", "指标", "期间", "实际值", "来源"]


@pytest.mark.parametrize("row, code, column", [
    ([("SH9999", "ENG_FIX_RATE", "2026-Q4", 0.9, "t")], "unknown-employee", "1（工号）"),
    ([(ENGINEER, "NOPE", "2026-Q4", 0.9, "t")], "unknown-indicator", "2（指标）"),
    ([(ENGINEER, "CS_AHT", "2026-Q4", 5, "t")], "indicator-not-in-role", "2（指标）"),
    ([(ENGINEER, "ENG_FIX_RATE", "2026-Q4", "1.5", "t")], "percent-scale", "4（实际值）"),
    ([(ENGINEER, "ENG_FIX_RATE", "2026-Q4", "130%", "t")], "out-of-domain", "4（实际值）"),
    ([(ENGINEER, "ENG_MTTR", "2026-Q4", "-2", "t")], "out-of-domain", "4（实际值）"),
    ([(ENGINEER, "ENG_MTTR", "2026-Q3", "2", "t")], "period-mismatch", "3（期间）"),
    ([(ENGINEER, "ENG_MTTR", "2026-Q4", "约3", "t")], "not-a-number", "4（实际值）"),
    ([(ENGINEER, "ENG_MTTR", "2026-Q4", "3", "t"), (ENGINEER, "ENG_MTTR", "2026-Q4", "3.5", "t")],
     "duplicate-conflict", "4（实际值）"),
    ([(ENGINEER, "COMP_SKILL", "2026-Q4", "4", "t")], "rating-indicator", "2（指标）"),
])
def test_each_bad_row_kind_is_rejected_with_its_location(tmp_path, rulebook, roster, row, code, column):
    good = (ENGINEER, "ENG_FTFR", "2026-Q4", 0.9, "t")
    path = write_csv(tmp_path / "export.csv", [LONG_HEADER, good, *row])
    with pytest.raises(ActualsError) as caught:
        read_actuals([path], rulebook, roster, "2026-Q4")
    problems = caught.value.problems
    assert [p.code for p in problems] == [code]
    bad = problems[0]
    assert (bad.file, bad.row, bad.column) == (str(path), 2 + len(row), column)
    assert bad.message_zh and bad.message_en and bad.hint_zh and bad.hint_en


def test_nothing_is_half_imported(tmp_path, rulebook, roster):
    good = write_csv(tmp_path / "good.csv", [LONG_HEADER, (ENGINEER, "ENG_FTFR", "2026-Q4", 0.9, "t")])
    bad = write_csv(tmp_path / "bad.csv", [LONG_HEADER, (ENGINEER, "ENG_MTTR", "2026-Q4", "x", "t")])
    assert len(read_actuals([good], rulebook, roster, "2026-Q4")) == 1
    with pytest.raises(ActualsError):
        read_actuals([good, bad], rulebook, roster, "2026-Q4")


def test_identical_duplicates_are_fine(tmp_path, rulebook, roster):
    row = (ENGINEER, "ENG_MTTR", "2026-Q4", 3.5, "tickets")
    a = write_csv(tmp_path / "a.csv", [LONG_HEADER, row, row])
    b = write_csv(tmp_path / "b.csv", [LONG_HEADER, row])
    actuals = read_actuals([a, b], rulebook, roster, "2026-Q4")
    assert len(actuals) == 1
    assert actuals.get(ENGINEER, "ENG_MTTR").value == 3.5


@pytest.mark.parametrize("spelling", [0.95, "0.95", "95%", "９５％", " 95 % "])
def test_percent_spellings_normalise_to_a_fraction(tmp_path, rulebook, roster, spelling):
    path = write_xlsx(tmp_path / "x.xlsx", [["employee_id", "indicator", "period", "value"],
                                            [ENGINEER, "ENG_FIX_RATE", "2026-Q4", spelling]])
    assert read_actuals([path], rulebook, roster, "2026-Q4").get(ENGINEER, "ENG_FIX_RATE").value == pytest.approx(0.95)


def test_percent_column_convention_must_be_stated(tmp_path, rulebook, roster):
    rows = [[ENGINEER, "ENG_FIX_RATE", "2026-Q4", 95]]
    unstated = write_xlsx(tmp_path / "a.xlsx", [["工号", "指标", "期间", "实际值"], *rows])
    stated = write_xlsx(tmp_path / "b.xlsx", [["工号", "指标", "期间", "实际值(%)"], *rows])
    _, problems = check_actuals([unstated], rulebook, roster, "2026-Q4")
    assert [(p.code, p.row, p.column) for p in problems] == [("percent-scale", 2, "D（实际值）")]
    assert "0.95" in problems[0].hint_zh and "95%" in problems[0].hint_zh
    assert read_actuals([stated], rulebook, roster, "2026-Q4").get(ENGINEER, "ENG_FIX_RATE").value == pytest.approx(0.95)


def test_percent_sign_on_a_non_percent_indicator_is_refused(tmp_path, rulebook, roster):
    path = write_csv(tmp_path / "x.csv", [LONG_HEADER, (ENGINEER, "ENG_MTTR", "2026-Q4", "40%", "t")])
    _, problems = check_actuals([path], rulebook, roster, "2026-Q4")
    assert [p.code for p in problems] == ["percent-not-allowed"]


def test_wide_form(tmp_path, rulebook, roster):
    path = write_xlsx(tmp_path / "wide.xlsx", [
        ["工号", "姓名", "CSAT(%)", "CS_AHT", "CS_ANSWER", "BOGUS"],
        [CS_AGENT, "朱德明", 96, 5.5, "93%", None],
        [ENGINEER, "唐芳", 91, None, 0.9, None],
    ])
    actuals, problems = check_actuals([path], rulebook, roster, "2026-Q4")
    found = {(p.code, p.row, p.column) for p in problems}
    assert found == {("unknown-indicator", 1, "F（BOGUS）"), ("indicator-not-in-role", 3, "E（CS_ANSWER）")}
    assert actuals.get(CS_AGENT, "CSAT").value == pytest.approx(0.96)
    assert actuals.get(CS_AGENT, "CS_ANSWER").value == pytest.approx(0.93)
    assert actuals.get(CS_AGENT, "CS_AHT").value == 5.5
    assert actuals.get(ENGINEER, "CSAT").value == pytest.approx(0.91)
    assert actuals.get(CS_AGENT, "CS_AHT").source == "wide"  # no source column: the file's name


def test_gbk_csv_and_english_headers(tmp_path, rulebook, roster):
    path = tmp_path / "calls.csv"
    path.write_bytes("Employee ID,Indicator,Period,Value,Source,备注\nSH0012,CS_AHT,2026年第4季度,6.2,呼叫中心,夜班\n"
                     .encode("gb18030"))
    item = read_actuals([path], rulebook, roster, "2026-Q4").get(CS_AGENT, "CS_AHT")
    assert (item.value, item.source, item.note, item.period) == (6.2, "呼叫中心", "夜班", "2026-Q4")


def test_unreadable_and_headerless_files_are_problems_not_tracebacks(tmp_path, rulebook):
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip")
    headless = write_csv(tmp_path / "h.csv", [["a", "b"], ["1", "2"]])
    _, problems = check_actuals([junk, headless, tmp_path / "gone.csv", tmp_path / "x.ods"], rulebook)
    assert [p.code for p in problems] == ["file-unreadable", "no-employee-column", "file-unreadable",
                                          "file-unreadable"]


def test_cli_check_reports_file_row_and_column(tmp_path):
    path = write_csv(tmp_path / "tickets.csv", [LONG_HEADER, (ENGINEER, "ENG_FIX_RATE", "2026-Q4", "95", "t")])
    runner = CliRunner()
    result = runner.invoke(app, ["actuals", "check", str(path), "--roster", str(ROSTER), "--period", "2026-Q4"])
    assert result.exit_code == 1, result.output
    assert "tickets.csv" in result.output and "4（实际值）" in result.output and "percent" in result.output
    good = write_csv(tmp_path / "ok.csv", [LONG_HEADER, (ENGINEER, "ENG_FIX_RATE", "2026-Q4", "95%", "t")])
    result = runner.invoke(app, ["actuals", "check", str(good), "--roster", str(ROSTER)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["actuals", "check", str(good), "--period", "2026-Q9"])
    assert result.exit_code == 2, result.output
    assert "2026-Q9" in result.output
