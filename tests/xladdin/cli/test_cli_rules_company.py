"""`kpisheet rules check|export` on a company's set of rulebooks: one summary, or every problem at its file; exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpisheet.validators.rulebook.company_load import load_company
from kpisheet.validators.rulebook.load import load_rulebook
from kpisheet.xladdin.cli.app import app
from tests.support.paths import SAMPLE_COMPANY


def run(*args: str):
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "240"})
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture()
def company_dir(tmp_path) -> Path:
    target = tmp_path / "company"
    shutil.copytree(SAMPLE_COMPANY, target, ignore=shutil.ignore_patterns("*.xlsx", "*.py"))
    return target


@pytest.mark.parametrize("args", [[str(SAMPLE_COMPANY)], [str(SAMPLE_COMPANY / "company.yaml")],
                                  [str(SAMPLE_COMPANY / "company.yaml"), str(SAMPLE_COMPANY / "departments" / "rd.yaml")]])
def test_check_the_sample_company(args):
    result = run("rules", "check", *args)
    assert result.exit_code == 0, result.output
    for name in ("售后服务部", "销售部", "研发中心", "overrides: categories", "eligibility.min_months_in_post"):
        assert name in result.output


def test_check_reports_every_problem_of_the_set_with_its_file(company_dir):
    rd = company_dir / "departments" / "rd.yaml"
    rd.write_text(rd.read_text(encoding="utf-8").replace(
        "eligibility:\n", "grades:\n  - {grade: S, min: 95, coefficient: 1.5, name_zh: 卓越, name_en: Outstanding}\n"
                          "eligibility:\n"), encoding="utf-8")
    sales = company_dir / "departments" / "sales.yaml"
    sales.write_text(sales.read_text(encoding="utf-8").replace("\nroles:\n", "\nteams: [客服中心]\n\nroles:\n"),
                     encoding="utf-8")
    after = company_dir / "departments" / "aftersales.yaml"
    after.write_text(after.read_text(encoding="utf-8").replace("\nroles:\n", "\nteams: [客服中心]\n\nroles:\n"),
                     encoding="utf-8")
    result = run("rules", "check", str(company_dir))
    assert result.exit_code == 2
    assert "departments/rd.yaml: grades (line 14)" in result.output  # the override HR may not make, at its line
    assert "departments/sales.yaml: teams[0]" in result.output and "客服中心" in result.output  # claimed twice
    assert "✓" not in result.output


def test_a_department_file_alone_exits_2_with_the_way_to_check_it(company_dir):
    result = run("rules", "check", str(company_dir / "departments" / "sales.yaml"))
    assert result.exit_code == 2 and "company" in result.output


def test_export_one_department_whole(company_dir, tmp_path):
    target = tmp_path / "sales.yaml"
    result = run("rules", "export", str(target), "--rules", str(company_dir), "--department", "销售部")
    assert result.exit_code == 0, result.output
    assert load_rulebook(target) == load_company(company_dir).rulebook_for("销售部")


@pytest.mark.parametrize("department, words", [(None, "--department"), ("财务部", "财务部")])
def test_export_from_a_company_needs_one_of_its_departments(company_dir, tmp_path, department, words):
    extra = ["--department", department] if department else []
    result = run("rules", "export", str(tmp_path / "x.yaml"), "--rules", str(company_dir), *extra)
    assert result.exit_code == 2 and words in result.output
    assert not (tmp_path / "x.yaml").exists()


def test_a_one_department_command_given_a_company_says_how_to_get_one(company_dir, tmp_path):
    """Commands that work on one department's rules (actuals, calibrate, rollup...) refuse a company set, exit 2."""
    from tests.support.paths import SAMPLES

    result = run("actuals", "check", str(SAMPLES / "actuals_clean"), "--rules", str(company_dir))
    assert result.exit_code == 2 and "rules export" in result.output
