"""samples/actuals: the deliberate problems are reported where the README says, the clean exports import."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from kpisheet.validators.actuals import check_actuals
from kpisheet.validators.roster import read_roster
from kpisheet.xladdin.cli.app import app

from tests.support.paths import SAMPLES

sys.path.insert(0, str(SAMPLES))
from make_actuals import DELIBERATE, build  # noqa: E402


def test_the_deliberate_problems_are_reported_with_file_row_and_column(rulebook):
    roster = read_roster(SAMPLES / "roster.xlsx", rulebook)
    _, problems = check_actuals([SAMPLES / "actuals"], rulebook, roster, "2026-Q4")
    assert sorted((Path(p.file).name, p.row, p.column, p.code) for p in problems) == sorted(DELIBERATE)
    readme = (SAMPLES / "actuals" / "README.md").read_text(encoding="utf-8")
    for name, row, _, _ in DELIBERATE:
        assert f"| `{name}` | {row} |" in readme


def test_the_clean_exports_import_for_every_system(rulebook):
    roster = read_roster(SAMPLES / "roster.xlsx", rulebook)
    actuals, problems = check_actuals([SAMPLES / "actuals_clean"], rulebook, roster, "2026-Q4")
    assert problems == []
    codes = {code for _, code in actuals.values}
    assert {"CSAT", "ENG_FIX_RATE", "ENG_MTTR", "CS_ANSWER", "CS_AHT", "ENG_DOCS"} <= codes


def test_the_committed_samples_are_what_the_script_writes(tmp_path):
    from make_actuals import write

    write(tmp_path)
    for folder in ("actuals", "actuals_clean"):
        for name in build()["clean"]:
            assert (tmp_path / folder / name).read_bytes() == (SAMPLES / folder / name).read_bytes(), name


def test_cli_on_the_samples_folder_glob():
    files = [str(p) for p in sorted((SAMPLES / "actuals").iterdir())]  # what the shell makes of actuals/*
    result = CliRunner().invoke(app, ["actuals", "check", *files, "--roster", str(SAMPLES / "roster.xlsx")])
    assert result.exit_code == 1, result.output
    assert "README.md" in result.output  # skipped, said so
    for name, row, column, _ in DELIBERATE:
        assert name in result.output and column in result.output
