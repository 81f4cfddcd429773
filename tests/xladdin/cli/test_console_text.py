"""What a submission or a roster says is printed as text: no rich markup, no terminal escapes, no traceback.

A cell holding ``[/]`` ended `kpisheet validate` with "internal error (MarkupError)"; a cell holding an
ANSI escape (ESC [ 2 J) reached HR's terminal as is. Messages spell such characters out (``\\x1b``).
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.package_edit import put_text_cell
from tests.support.paths import SAMPLES

CLEAN = SAMPLES / "submissions" / "2026-Q4_售后服务部_技术支持组_clean.xlsx"


def test_markup_and_escapes_in_a_cell_are_shown_as_text(tmp_path):
    hostile = put_text_cell(CLEAN, tmp_path / "hostile.xlsx", "考核评分", "L5",
                            "[/] [bold red]x\x1b[2J\u202eRED")
    for details in ((), ("--details",)):
        done = subprocess.run([sys.executable, "-m", "kpisheet", "validate", str(hostile), "--no-roster", *details],
                              capture_output=True, text=True, encoding="utf-8",
                              env={**os.environ, "COLUMNS": "400"})
        assert done.returncode == 1, done.stderr
        out = done.stdout + done.stderr
        assert "internal error" not in out and "Traceback" not in out
        assert "\x1b" not in out and "\u202e" not in out
    assert "[/] [bold red]x\\x1b[2J\\u202eRED" in done.stdout  # the full list quotes the cell, spelled out
