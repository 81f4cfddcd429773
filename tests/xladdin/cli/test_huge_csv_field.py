"""Issue 13, Why 10: a CSV field over 131,072 characters ended `actuals check` and `forms --actuals`
with a traceback (csv's field limit). Now it is a problem of that file, one line, exit 1 / 2."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import SAMPLE_ROSTER


def kpisheet(*args, cwd):
    return subprocess.run([sys.executable, "-m", "kpisheet", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", env={**os.environ, "COLUMNS": "200"})


def test_a_huge_csv_field_is_a_problem_of_its_file_not_a_traceback(tmp_path):
    huge = tmp_path / "huge.csv"
    huge.write_text("工号,指标,期间,实际值\nSH0001,CSAT,2026-Q4," + "9" * 140_000 + "\n", encoding="utf-8")
    check = kpisheet("actuals", "check", huge, "--roster", SAMPLE_ROSTER, "--period", "2026-Q4", cwd=tmp_path)
    assert check.returncode == 1, check.stderr
    assert "第 2 行无法读取" in check.stdout and "131072" in check.stdout
    forms = kpisheet("forms", "--roster", SAMPLE_ROSTER, "--period", "2026-Q4", "--out", tmp_path / "forms",
                     "--actuals", huge, cwd=tmp_path)
    assert forms.returncode == 2 and forms.stderr.startswith("✗ "), forms.stderr
    for done in (check, forms):
        assert "Traceback" not in done.stdout + done.stderr and "internal error" not in done.stderr
    assert not (tmp_path / "forms").exists() or not list((tmp_path / "forms").iterdir())
