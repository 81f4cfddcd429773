"""Notice file names from employee names nobody chose with care: 250 characters, bidi overrides, clashes.

Issue 13, Why 10 and 11: a 250-character employee name ended ``kpisheet notices`` with a
traceback (file name too long), and a right-to-left override stayed in the file name.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

from kpisheet.validators.names import MAX_NAME_BYTES
from kpisheet.xladdin.master.consolidate import merge_into_master
from tests.support.master_fakes import make_employee, make_report

PERIOD = "2026-Q3"
NAMES = {
    "E1001": "张" * 250,
    "E1002": "李\u202eexe.xlsx",
    "E/1003": "王建国",   # two IDs that the file name rules make equal
    "E:1003": "王建国",
    "CON": "赵丽娜",
}


def test_notices_for_long_bidi_and_clashing_names(tmp_path, rulebook):
    master = tmp_path / "master.xlsx"
    people = [make_employee(rulebook, pid, name, level=0.9) for pid, name in NAMES.items()]
    report = make_report(tmp_path / "inbox" / "a.xlsx", people, team="一组", period=PERIOD)
    merge_into_master(master, [report], rulebook=rulebook, now=dt.datetime(2026, 10, 8, 9))
    out = tmp_path / "notices"
    done = subprocess.run([sys.executable, "-m", "kpisheet", "notices", "--master", str(master), "--period", PERIOD,
                           "--out", str(out), "--no-pdf", "--published", "2026-10-09"],
                          capture_output=True, text=True, encoding="utf-8", env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == len(NAMES)  # none written over another
    for name in names:
        assert len(name.encode("utf-8")) <= MAX_NAME_BYTES, name
        assert "\u202e" not in name and "/" not in name and ":" not in name, name
        assert name.endswith("_绩效结果通知书.xlsx"), name
    assert any(name.startswith(f"{PERIOD}_E1001_张张") and "~" in name for name in names)
    assert sum("E-1003" in name for name in names) == 2
