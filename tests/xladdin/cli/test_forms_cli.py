"""`kpisheet forms`: one workbook per team, clear messages and exit codes on bad input."""

from __future__ import annotations


from importlib import resources

import openpyxl
import pytest
from typer.testing import CliRunner

from kpisheet.validators import layout as L
from kpisheet.validators.rulebook.load import DEFAULT_RULEBOOK
from kpisheet.validators.roster import read_roster, teams
from kpisheet.xladdin.cli.app import app
from tests.support.paths import REPO_ROOT

ROSTER = REPO_ROOT / "samples" / "roster.xlsx"
runner = CliRunner()


def forms(*args: str):
    result = runner.invoke(app, ["forms", *args])
    # never a traceback: only typer's own exit
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_one_workbook_per_team_of_the_roster(tmp_path, rulebook):
    out = tmp_path / "out"
    result = forms("--roster", str(ROSTER), "--period", "2026-Q4", "--out", str(out), "--deadline", "2027-01-10")
    assert result.exit_code == 0, result.output
    groups = teams(read_roster(ROSTER, rulebook))
    written = sorted(p.name for p in out.glob("*.xlsx"))
    assert written == sorted(f"2026-Q4_{dept}_{team}.xlsx" for dept, team in groups)
    for (dept, team), members in groups.items():
        book = openpyxl.load_workbook(out / f"2026-Q4_{dept}_{team}.xlsx")
        assert tuple(book.sheetnames) == L.SHEET_ORDER
        ids = [book[L.SUMMARY].cell(L.FIRST_DATA_ROW + 1 + i, 1).value for i in range(len(members))]
        assert ids == [m.employee_id for m in members]
        guide = "\n".join(str(c.value) for row in book[L.GUIDE].iter_rows() for c in row if c.value)
        assert "2027-01-10" in guide
    assert "已生成" in result.output


def test_existing_workbooks_are_kept_unless_forced(tmp_path):
    out = tmp_path / "out"
    assert forms("--roster", str(ROSTER), "--period", "2026-11", "--out", str(out)).exit_code == 0
    first = next(out.glob("*.xlsx"))
    first.write_bytes(b"a manager's work")
    again = forms("--roster", str(ROSTER), "--period", "2026-11", "--out", str(out))
    assert again.exit_code == 2 and "--force" in again.output
    assert first.read_bytes() == b"a manager's work"
    assert forms("--roster", str(ROSTER), "--period", "2026-11", "--out", str(out), "--force").exit_code == 0
    assert first.read_bytes().startswith(b"PK")


@pytest.mark.parametrize("period", ["2026-Q5", "Q4", "2026-13", ""])
def test_a_bad_period_is_a_usage_error(tmp_path, period):
    result = forms("--roster", str(ROSTER), "--period", period, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "考核期间" in result.output and "2026-Q4" in result.output
    assert not (tmp_path / "o").exists()


def test_a_missing_roster_or_rulebook_is_a_usage_error(tmp_path):
    result = forms("--roster", str(tmp_path / "none.xlsx"), "--period", "2026-Q4", "--out", str(tmp_path))
    assert result.exit_code == 2 and "找不到花名册" in result.output
    result = forms("--roster", str(ROSTER), "--period", "2026-Q4", "--out", str(tmp_path),
                   "--rules", str(tmp_path / "none.yaml"))
    assert result.exit_code == 2 and "找不到规则表" in result.output


def test_roster_problems_are_listed_with_their_cells(tmp_path):
    book = openpyxl.load_workbook(ROSTER)
    ws = book.worksheets[0]
    header = next(r for r in range(1, 10) if any(c.value == "工号" for c in ws[r]))
    id_col = next(c.column for c in ws[header] if c.value == "工号")
    role_col = next(c.column for c in ws[header] if c.value == "岗位")
    ws.cell(header + 2, id_col).value = ws.cell(header + 1, id_col).value
    ws.cell(header + 3, role_col).value = "飞行员"
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    result = forms("--roster", str(bad), "--period", "2026-Q4", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    letter = openpyxl.utils.get_column_letter(role_col)
    assert f"{letter}{header + 3}" in result.output and "飞行员" in result.output
    assert not list((tmp_path / "o").glob("*.xlsx"))


def test_rulebook_problems_are_listed(tmp_path):
    text = resources.files("kpisheet.validators.rulebook.data").joinpath(DEFAULT_RULEBOOK).read_text(encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(text.replace("  cap: 120", "  capp: 120"), encoding="utf-8")
    result = forms("--roster", str(ROSTER), "--period", "2026-Q4", "--out", str(tmp_path / "o"),
                   "--rules", str(rules))
    assert result.exit_code == 2
    assert "capp" in result.output
