"""`kpisheet rules check|export`: exit codes, located problems, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from kpisheet.validators.rulebook.load import DEFAULT_RULEBOOK, load_rulebook
from kpisheet.xladdin.cli.app import app
from tests.support.paths import REPO_ROOT

DEFAULT_TEXT = (REPO_ROOT / "validators" / "rulebook" / "data" / DEFAULT_RULEBOOK).read_text(encoding="utf-8")


def run(*args: str):
    result = CliRunner().invoke(app, ["rules", *args], env={"COLUMNS": "240"})
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _yaml(tmp_path: Path, text: str, name: str = "rules.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_builtin_default():
    result = run("check")
    assert result.exit_code == 0
    assert "OK" in result.output and "20" in result.output  # the summary counts 20 indicators


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".xlsx"])
def test_export_then_check(tmp_path, suffix, rulebook):
    target = tmp_path / f"r{suffix}"
    assert run("export", str(target)).exit_code == 0
    assert load_rulebook(target) == rulebook
    assert run("check", str(target)).exit_code == 0


def test_export_from_another_rulebook(tmp_path):
    source = _yaml(tmp_path, DEFAULT_TEXT.replace("retention_years: 5", "retention_years: 7"))
    target = tmp_path / "out.xlsx"
    assert run("export", str(target), "--rules", source).exit_code == 0
    assert load_rulebook(target).records.retention_years == 7


def test_export_refuses_to_overwrite_without_force(tmp_path):
    target = tmp_path / "r.yaml"
    target.write_text("HR's edited rules", encoding="utf-8")
    result = run("export", str(target))
    assert result.exit_code == 2 and "--force" in result.output
    assert target.read_text(encoding="utf-8") == "HR's edited rules"
    assert run("export", str(target), "--force").exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("# kpisheet rulebook")


def test_export_unknown_suffix_is_a_usage_error(tmp_path):
    result = run("export", str(tmp_path / "r.json"))
    assert result.exit_code == 2 and ".xlsx" in result.output
    assert not (tmp_path / "r.json").exists()


def test_export_of_a_broken_source_lists_its_problems(tmp_path):
    source = _yaml(tmp_path, DEFAULT_TEXT.replace("  cap: 120", "  cap: 90"))
    result = run("export", str(tmp_path / "out.yaml"), "--rules", source)
    assert result.exit_code == 2 and "scoring.cap" in result.output
    assert not (tmp_path / "out.yaml").exists()


def test_weights_summing_to_90_exit_2_and_name_the_role(tmp_path):
    path = _yaml(tmp_path, DEFAULT_TEXT.replace("TS_REMOTE: 25", "TS_REMOTE: 15"))
    result = run("check", path)
    assert result.exit_code == 2
    assert "roles[2].weights" in result.output and "技术支持专员" in result.output and "90" in result.output


def test_target_below_floor_exit_2_and_name_the_indicator(tmp_path):
    text = DEFAULT_TEXT.replace("    floor: 0.70\n    target: 0.85\n    challenge: 0.95\n",
                                "    floor: 0.70\n    target: 0.65\n    challenge: 0.95\n", 1)  # CS_FCR
    result = run("check", _yaml(tmp_path, text))
    assert result.exit_code == 2
    assert "indicators[8].target" in result.output and "CS_FCR" in result.output


def test_misspelt_key_exit_2_and_name_it(tmp_path):
    result = run("check", _yaml(tmp_path, DEFAULT_TEXT.replace("pip_months_max:", "pip_month_max:")))
    assert result.exit_code == 2
    assert "outcomes.pip_month_max" in result.output and "pip_months_max" in result.output


def test_every_problem_is_listed(tmp_path):
    text = (DEFAULT_TEXT.replace("TS_REMOTE: 25", "TS_REMOTE: 15")
            .replace("s_max: 0.10", "s_max: 0.40")
            .replace("  - {grade: D, min: 0,", "  - {grade: D, min: 10,"))
    result = run("check", _yaml(tmp_path, text))
    assert result.exit_code == 2
    for where in ("roles[2].weights", "distribution.s_max", "grades[4].min"):
        assert where in result.output


@pytest.mark.parametrize("content", [b"\x00\x01\x02\xff\xfe binary \x80", "只是一句话，不是规则表。".encode(),
                                     b"key: [unclosed"])
def test_not_yaml_exit_2_with_one_line(tmp_path, content):
    path = tmp_path / "rules.yaml"
    path.write_bytes(content)
    result = run("check", str(path))
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1


def test_xlsx_problem_is_shown_at_its_cell(tmp_path):
    target = tmp_path / "r.xlsx"
    run("export", str(target))
    wb = load_workbook(target)
    wb["indicators"]["H1"] = "taget"
    wb.save(target)
    result = run("check", str(target))
    assert result.exit_code == 2 and "indicators!H1" in result.output and "target" in result.output


def test_missing_file_and_folder_are_usage_errors(tmp_path):
    result = run("check", str(tmp_path / "absent.yaml"))
    assert result.exit_code == 2 and "absent.yaml" in result.output
    assert run("check", str(tmp_path)).exit_code == 2
    assert run("export", str(tmp_path / "out.yaml"), "--rules", str(tmp_path / "absent.xlsx")).exit_code == 2
    assert run("export", str(tmp_path / "no" / "such" / "dir.yaml")).exit_code == 2


def test_the_installed_command(tmp_path):
    """The acceptance run, through the real console script in a fresh process."""
    exe = shutil.which("kpisheet") or str(Path(sys.executable).with_name("kpisheet"))
    env = {**os.environ, "COLUMNS": "240"}

    def kpisheet(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([exe, "rules", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
        assert "Traceback" not in done.stdout + done.stderr
        return done

    assert kpisheet("check").returncode == 0
    assert kpisheet("export", "r.yaml").returncode == 0
    assert kpisheet("export", "r.xlsx").returncode == 0
    assert kpisheet("check", "r.yaml").returncode == 0
    assert kpisheet("check", "r.xlsx").returncode == 0
    (tmp_path / "junk.yaml").write_bytes(os.urandom(512))
    done = kpisheet("check", "junk.yaml")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and not done.stdout.strip()
    assert kpisheet("check", "nope.yaml").returncode == 2


def test_export_of_text_excel_cannot_hold_is_a_located_problem(tmp_path):
    source = _yaml(tmp_path, DEFAULT_TEXT.replace("department_en: After-sales Service", 'department_en: "After\\x07sales"'))
    result = run("export", str(tmp_path / "out.xlsx"), "--rules", source)
    assert result.exit_code == 2 and "meta.department_en" in result.output
    assert not list(tmp_path.glob("*.xlsx"))  # no half-written file, no temp left behind
