"""`kpisheet validate`: JSON schema, table, exit codes, usage failures, annotated copies, never a traceback."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tests.support.validate_support as S
from kpisheet.xladdin.cli.app import app

ROOT = S.ROOT
DOC = ROOT / "docs" / "validate-json.md"
FILE_KEYS = ["path", "sha256", "status", "department", "team", "period", "findings"]
FINDING_KEYS = ["code", "severity", "sheet", "cell", "employee_id", "indicator", "employee_name", "indicator_name",
                "value", "expected", "message_zh", "message_en", "hint"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A clean workbook, the same with a text number, and a CSV renamed to .xlsx."""
    clean, _ = S.clean_workbook(tmp_path_factory)
    root = tmp_path_factory.mktemp("inbox")
    shutil.copy(clean, root / "clean.xlsx")
    values, props, _ = S.read(clean)
    import openpyxl

    from kpisheet.validators import layout as L
    from kpisheet.validators.checks.template import meta_cell
    from kpisheet.validators.reading.submission import read_team_workbook

    book = read_team_workbook(values, source="x", rulebook=S.rulebook())
    cell = next(s for s in book.scores if s.code == "CSAT").address("actual")
    wb = openpyxl.load_workbook(clean)
    wb[L.SCORES][cell] = "=1+1"  # as a manager's literal text; openpyxl would store a formula...
    wb[L.SCORES][cell].data_type = "s"  # ...so make it the text a manager typed
    # the next quarter's workbook of the same team, so the two files hold different periods
    wb[L.META][meta_cell("period")] = "2026-Q2"
    for prop in wb.custom_doc_props.props:
        if prop.name == L.CUSTOM_PROPERTY_PREFIX + "period":
            prop.value = "2026-Q2"
    wb.save(root / "text.xlsx")
    (root / "export.xlsx").write_text("工号,得分\nSH0001,95\n", encoding="utf-8")
    return root, cell


def run_cli(*args, roster=True):
    extra = ["--roster", str(S.ROSTER)] if roster else ["--no-roster"]
    return CliRunner().invoke(app, ["validate", *map(str, args), *extra])


def test_json_lists_every_file_with_the_documented_fields(folder):
    root, cell = folder
    result = run_cli(root, "--format", "json", roster=False)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == ["kpisheet", "files", "summary"]
    assert [Path(f["path"]).name for f in doc["files"]] == ["clean.xlsx", "export.xlsx", "text.xlsx"]
    for f in doc["files"]:
        assert list(f) == FILE_KEYS
        for finding in f["findings"]:
            assert list(finding) == FINDING_KEYS
    status = {Path(f["path"]).name: f["status"] for f in doc["files"]}
    assert status == {"clean.xlsx": "ok", "export.xlsx": "error", "text.xlsx": "error"}
    text = next(f for f in doc["files"] if f["path"].endswith("text.xlsx"))
    assert [(x["code"], x["cell"], x["value"]) for x in text["findings"]] == [("score-not-number", cell, "=1+1")]
    export = next(f for f in doc["files"] if f["path"].endswith("export.xlsx"))
    assert export["findings"][0]["code"] == "file-wrong-format" and export["department"] is None
    assert doc["summary"] == {"files": 3, "ok": 1, "warning": 0, "error": 2,
                              "by_code": {"file-wrong-format": 1, "score-not-number": 1}}


def test_json_is_utf8_not_escaped(folder):
    root, _ = folder
    result = run_cli(root / "clean.xlsx", "--format", "json", roster=False)
    assert result.exit_code == 0
    assert "售后服务部" in result.stdout and "\\u" not in result.stdout


def test_every_documented_field_is_in_the_schema_doc():
    text = DOC.read_text(encoding="utf-8")
    for key in FILE_KEYS + FINDING_KEYS + ["kpisheet", "summary", "by_code"]:
        assert re.search(rf"\| `{key}`", text) or f"`{key}`" in text, key


def test_table_groups_findings_by_file(folder):
    root, cell = folder
    result = run_cli(root, roster=False)
    assert result.exit_code == 1
    out = result.stdout
    assert out.index("clean.xlsx") < out.index("export.xlsx") < out.index("text.xlsx")
    assert "score-not-number" in out and f"考核评分!{cell}" in out and "file-wrong-format" in out
    assert "通过 1" in out and "ok 1" in out
    # the summary names the cell; the messages come with --details, one block per employee
    assert "--details" in out
    detailed = run_cli(root, "--details", roster=False).stdout
    text = next(f for f in json.loads(run_cli(root, "--format", "json", roster=False).stdout)["files"]
                if f["path"].endswith("text.xlsx"))["findings"][0]
    assert text["message_zh"] in detailed and text["message_en"] in detailed and text["message_zh"] not in out


def test_exit_0_when_only_clean_files(folder):
    root, _ = folder
    assert run_cli(root / "clean.xlsx", roster=False).exit_code == 0


@pytest.mark.parametrize("args, words", [
    (["/no/such/file.xlsx"], "no such file"),
    (["{root}", "--period", "下下季度"], "--period"),
    (["{root}", "--phase", "review"], "--phase"),
    (["{root}", "--format", "xml"], "--format"),
    (["{root}", "--rules", "/no/rules.yaml"], "rulebook"),
    (["{root}", "--approved-goals", "/no/dir"], "approved"),
])
def test_usage_failures_exit_2_without_a_traceback(folder, args, words):
    root, _ = folder
    result = run_cli(*[a.format(root=root) for a in args], roster=False)
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output
    assert result.stdout.strip() == "" or not result.stdout.lstrip().startswith("{")


def test_a_broken_roster_is_a_usage_failure(folder, tmp_path):
    root, _ = folder
    bad = tmp_path / "roster.xlsx"
    bad.write_text("not a roster")
    result = CliRunner().invoke(app, ["validate", str(root), "--roster", str(bad)])
    assert result.exit_code == 2 and "roster" in result.output


def test_the_roster_beside_the_submissions_is_found_and_announced(folder, tmp_path):
    root, _ = folder
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(root / "clean.xlsx", inbox / "clean.xlsx")
    shutil.copy(S.ROSTER, tmp_path / "roster.xlsx")  # the sample roster: the clean file's team differs
    result = CliRunner().invoke(app, ["validate", str(inbox), "--format", "json"])
    assert "roster.xlsx" in result.stderr
    codes = {f["code"] for f in json.loads(result.stdout)["files"][0]["findings"]}
    assert "team-missing-employee" in codes  # the real team has more people than the test team
    quiet = CliRunner().invoke(app, ["validate", str(inbox), "--format", "json", "--no-roster"])
    assert json.loads(quiet.stdout)["files"][0]["findings"] == []


def test_annotate_writes_copies_and_never_touches_the_originals(folder, tmp_path):
    root, cell = folder
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    out = tmp_path / "marked"
    result = run_cli(root, "--annotate", out, roster=False)
    assert result.exit_code == 1
    assert {p.name: p.read_bytes() for p in root.iterdir()} == before
    assert sorted(p.name for p in out.iterdir()) == ["clean.xlsx", "text.xlsx"]
    assert "export.xlsx" in result.stderr  # unreadable: no copy, and it says so
    import openpyxl

    from kpisheet.validators import layout as L

    book = openpyxl.load_workbook(out / "text.xlsx")
    assert book.sheetnames[0] == "校验结果"
    assert "score-not-number" in book[L.SCORES][cell].comment.text


def test_annotate_refuses_the_submissions_folder(folder):
    root, _ = folder
    result = run_cli(root, "--annotate", root, roster=False)
    assert result.exit_code == 2 and "--annotate" in result.output


def test_the_console_script_runs_in_a_fresh_process(folder):
    root, _ = folder
    exe = Path(sys.executable).parent / "kpisheet"
    done = subprocess.run([str(exe), "validate", str(root), "--format", "json", "--no-roster", "--jobs", "2"],
                          capture_output=True, timeout=300)
    assert done.returncode == 1, done.stderr.decode()
    assert len(json.loads(done.stdout.decode("utf-8"))["files"]) == 3
    assert b"Traceback" not in done.stderr
