"""The commands with a company's rulebooks: forms per department, validation routed, bad input one line and exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from kpisheet.validators.roster import ROSTER_SHEET
from kpisheet.xladdin.cli.app import app
from tests.support.paths import SAMPLE_COMPANY

ROSTER = SAMPLE_COMPANY / "roster.xlsx"


def run(*args: str, key: Path | None = None):
    env = {"COLUMNS": "240", **({"KPISHEET_KEY": str(key)} if key else {})}
    result = CliRunner().invoke(app, list(map(str, args)), env=env)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> Path:
    """HR's signing key for this module's forms (made by the first `kpisheet forms`)."""
    return tmp_path_factory.mktemp("key") / "kpisheet.key"


@pytest.fixture(scope="module")
def forms(tmp_path_factory, key) -> Path:
    out = tmp_path_factory.mktemp("company") / "forms"
    result = run("forms", "--rules", SAMPLE_COMPANY, "--roster", ROSTER, "--period", "2026-Q4", "--out", out,
                 key=key)
    assert result.exit_code == 0, result.output
    assert key.is_file()
    return out


def test_forms_one_per_team_of_every_department(forms):
    names = sorted(p.name for p in forms.glob("*.xlsx"))
    assert len(names) == 21
    assert {n.split("_")[1] for n in names} == {"售后服务部", "销售部", "研发中心"}


def test_validate_routes_each_form_to_its_department(forms, key):
    result = run("validate", forms, "--rules", SAMPLE_COMPANY, "--roster", ROSTER, "--period", "2026-Q4",
                 "--format", "json", key=key)
    assert result.exit_code == 1  # blank forms: inputs are missing, nothing else
    document = json.loads(result.stdout)
    codes = set(document["summary"]["by_code"])
    assert codes <= {"score-missing", "team-signoff-missing", "goal-smart-missing", "team-feedback-missing"}, codes
    assert {f["department"] for f in document["files"]} == {"售后服务部", "销售部", "研发中心"}


def test_validate_a_workbook_of_a_department_without_rules(forms, tmp_path, key):
    source = next(forms.glob("*销售部*"))
    book = openpyxl.load_workbook(source)
    book["_meta"]["B4"].value = "财务部"
    book.save(tmp_path / "x.xlsx")
    result = run("validate", tmp_path / "x.xlsx", "--rules", SAMPLE_COMPANY, "--no-roster", "--details", key=key)
    assert result.exit_code == 1
    assert "template-department-unknown" in result.output and "财务部" in result.output


def test_a_workbook_moved_to_another_department_is_caught_by_its_signature(forms, tmp_path, key):
    """Routing follows _meta's department; a department edited there no longer matches the signature."""
    source = next(forms.glob("*研发中心_测试二组*"))
    book = openpyxl.load_workbook(source)
    book["_meta"]["B4"].value = "销售部"
    book.save(tmp_path / "moved.xlsx")
    result = run("validate", tmp_path / "moved.xlsx", "--rules", SAMPLE_COMPANY, "--no-roster", "--format", "json",
                 key=key)
    assert result.exit_code == 1
    codes = {f["code"] for f in json.loads(result.stdout)["files"][0]["findings"]}
    assert {"template-signature-mismatch", "template-rulebook-mismatch"} <= codes


def test_forms_for_a_roster_department_without_rules_writes_nothing(tmp_path):
    book = openpyxl.load_workbook(ROSTER)
    sheet = book[ROSTER_SHEET]
    sheet["C80"].value = "财务部"
    book.save(tmp_path / "roster.xlsx")
    out = tmp_path / "forms"
    result = run("forms", "--rules", SAMPLE_COMPANY, "--roster", tmp_path / "roster.xlsx", "--period", "2026-Q4",
                 "--out", out)
    assert result.exit_code == 2
    assert "财务部" in result.output and "花名册!C80" in result.output
    assert not out.exists()


def test_forms_with_a_department_overriding_what_it_may_not_writes_nothing(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(SAMPLE_COMPANY, rules, ignore=shutil.ignore_patterns("*.xlsx", "*.py"))
    sales = rules / "departments" / "sales.yaml"
    sales.write_text(sales.read_text(encoding="utf-8").replace(
        "\nroles:\n", "\nappeals:\n  file_within_workdays: 10\n\nroles:\n"), encoding="utf-8")
    out = tmp_path / "forms"
    result = run("forms", "--rules", rules, "--roster", ROSTER, "--period", "2026-Q4", "--out", out)
    assert result.exit_code == 2
    assert "departments/sales.yaml: appeals.file_within_workdays" in result.output
    assert not out.exists()


def test_forms_with_two_departments_claiming_one_team_writes_nothing(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(SAMPLE_COMPANY, rules, ignore=shutil.ignore_patterns("*.xlsx", "*.py"))
    for name, teams in (("sales.yaml", "[渠道销售组]"), ("rd.yaml", "[渠道销售组, 产品组]")):
        path = rules / "departments" / name
        path.write_text(path.read_text(encoding="utf-8").replace("\nroles:\n", f"\nteams: {teams}\n\nroles:\n"),
                        encoding="utf-8")
    out = tmp_path / "forms"
    result = run("forms", "--rules", rules, "--roster", ROSTER, "--period", "2026-Q4", "--out", out)
    assert result.exit_code == 2
    assert "渠道销售组" in result.output and "departments/rd.yaml: teams[0]" in result.output
    assert not out.exists()
