"""One error policy in every command: the same broken input gives the same line and exit code everywhere,
an unexpected failure is one line naming a log file, and a Chinese Windows console never breaks a command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpisheet.xladdin.cli.app import app
from kpisheet.xladdin.kit.crash_log import log_path
from tests.support.paths import REPO_ROOT, SAMPLE_ROSTER, SAMPLES

RUNNER = CliRunner()
PERIOD = "2026-Q4"


@pytest.fixture(scope="module")
def broken_rulebook(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / "broken.yaml"
    path.write_text("meta:\n  id: x\nscoring: [unclosed\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    """An existing file at --master, for the commands that refuse a missing master before anything else."""
    path = tmp_path_factory.mktemp("hr") / "master.xlsx"
    path.write_bytes(b"not read: the rulebook fails first")
    return path


def commands(tmp, master, rules):
    """Every command that loads a rulebook, with the rest of its arguments valid."""
    out = str(tmp / "out")
    return {
        "rules check": ["rules", "check", str(rules)],
        "rules export": ["rules", "export", str(tmp / "r.yaml"), "--rules", str(rules)],
        "forms": ["forms", "--roster", str(SAMPLE_ROSTER), "--period", PERIOD, "--out", out, "--rules", str(rules)],
        "actuals check": ["actuals", "check", str(SAMPLES / "actuals_clean"), "--rules", str(rules)],
        "validate": ["validate", str(SAMPLES / "submissions"), "--rules", str(rules)],
        "consolidate": ["consolidate", str(SAMPLES / "submissions"), "--master", str(tmp / "new.xlsx"),
                        "--rules", str(rules)],
        "calibrate": ["calibrate", "--master", str(master), "--rules", str(rules)],
        "rollup": ["rollup", "--master", str(master), "--year", "2026", "--rules", str(rules)],
        "appeals": ["appeals", "--master", str(master), "--rules", str(rules)],
        "notices": ["notices", "--master", str(master), "--period", PERIOD, "--out", out, "--rules", str(rules)],
    }


def first_line(output: str) -> str:
    return output.strip().splitlines()[0]


def test_a_broken_rulebook_gives_one_message_and_exit_2_from_every_command(tmp_path, master, broken_rulebook):
    seen = {}
    for name, args in commands(tmp_path, master, broken_rulebook).items():
        result = RUNNER.invoke(app, args)
        assert result.exit_code == 2, (name, result.output)
        assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception,
                                                                                              SystemExit), name
        seen[name] = first_line(result.output)
    assert len(set(seen.values())) == 1, seen
    line = next(iter(seen.values()))
    assert line.startswith("✗ ") and "规则表" in line and "rulebook" in line and str(broken_rulebook) in line


def test_an_unexpected_failure_is_one_line_with_the_log_and_exit_2_in_every_command(tmp_path, master, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("something nobody expected")

    # the rulebook loader every command goes through, and the two commands that load none
    monkeypatch.setattr("kpisheet.xladdin.kit.inputs.load_company", explode)
    monkeypatch.setattr("kpisheet.xladdin.demo.cycle.run_demo", explode)
    monkeypatch.setattr("kpisheet.xladdin.addin.build.build_addin", explode)
    rules = SAMPLES.parent / "validators" / "rulebook" / "data" / "default_rulebook.yaml"
    cases = dict(commands(tmp_path, master, rules))
    cases["demo"] = ["demo", str(tmp_path / "demo")]
    cases["addin build"] = ["addin", "build", "--out", str(tmp_path / "addin")]
    for name, args in cases.items():
        result = RUNNER.invoke(app, args)
        assert result.exit_code == 2, (name, result.output)
        lines = result.output.strip().splitlines()
        assert "Traceback" not in result.output, name
        assert lines[0].startswith("✗ 内部错误（RuntimeError）") and "internal error (RuntimeError)" in lines[0], name
        assert str(log_path()) in lines[0], name
    logged = log_path().read_text(encoding="utf-8")
    assert logged.count("Traceback") == len(cases) and "something nobody expected" in logged


def test_a_missing_option_is_bilingual_like_every_other_error():
    result = RUNNER.invoke(app, ["forms", "--period", PERIOD])
    assert result.exit_code == 2
    assert first_line(result.output) == "✗ 缺少必需的选项 --roster / Missing option '--roster'."
    assert "kpisheet forms --help" in result.output and "╭" not in result.output


def test_commands_are_listed_in_the_order_of_a_cycle():
    result = RUNNER.invoke(app, ["--help"])
    listed = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.startswith("  ")
              and not line.startswith("   ")]
    cycle = ["rules", "forms", "actuals", "validate", "consolidate", "calibrate", "appeals", "notices", "rollup"]
    assert [name for name in listed if name in cycle] == cycle


def test_help_shows_flags_as_flags_and_is_not_cut():
    result = RUNNER.invoke(app, ["forms", "--help"], env={"COLUMNS": "80"})
    assert "--force " in result.output and "<bool>" not in result.output
    overview = RUNNER.invoke(app, ["--help"], env={"COLUMNS": "80"}).output.split("Commands:")[1]
    assert "…" not in overview and "..." not in overview
    assert "write one team workbook per team of the roster" in " ".join(overview.split())


def test_version_from_the_module_and_the_script():
    from kpisheet import __version__

    done = subprocess.run([sys.executable, "-m", "kpisheet", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"kpisheet {__version__}"


# --- a Chinese Windows console: GBK, output redirected ----------------------------------------


def gbk_run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "gbk"}
    return subprocess.run([sys.executable, "-m", "kpisheet", *args], capture_output=True, env=env, cwd=cwd,
                          timeout=600)


def test_validate_json_is_utf8_and_exits_1_on_a_gbk_console():
    done = gbk_run("validate", str(SAMPLES / "submissions"), "--format", "json")
    assert done.returncode == 1, done.stderr.decode("gbk", "replace")
    document = json.loads(done.stdout.decode("utf-8"))  # UTF-8 whatever the console
    assert document["summary"]["error"] > 0
    assert b"Traceback" not in done.stderr


def test_the_table_degrades_symbols_instead_of_crashing_on_gbk():
    done = gbk_run("validate", str(SAMPLES / "submissions"))
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    text = done.stdout.decode("gbk")
    assert "错误" in text and "✗" not in text


def test_rules_check_with_lang_c():
    env = {**os.environ, "LANG": "C", "LC_ALL": "C"}
    done = subprocess.run([sys.executable, "-m", "kpisheet", "rules", "check"], capture_output=True, env=env,
                          timeout=120)
    assert done.returncode == 0 and b"Traceback" not in done.stderr


def test_demo_runs_on_a_gbk_console(tmp_path):
    done = gbk_run("demo", str(tmp_path / "demo"), cwd=REPO_ROOT)
    assert done.returncode == 0, done.stdout.decode("gbk", "replace")[-2000:]
    assert b"Traceback" not in done.stdout + done.stderr


def test_validate_on_an_empty_folder_is_a_usage_error(tmp_path):
    result = RUNNER.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2 and "没有找到考核表" in result.output and "no workbook" in result.output


def test_a_text_file_in_the_inbox_is_ignored_not_an_error_file(tmp_path):
    import shutil

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    clean = sorted((SAMPLES / "submissions").glob("*.xlsx"))[0]
    shutil.copy(clean, inbox / clean.name)
    (inbox / "notes.txt").write_text("经理备注", encoding="utf-8")
    result = RUNNER.invoke(app, ["validate", str(inbox), "--format", "json"])
    document = json.loads(result.stdout[result.stdout.index("{"):])
    assert [Path(f["path"]).name for f in document["files"]] == [clean.name]
    assert "notes.txt" in result.output and "ignored" in result.output
