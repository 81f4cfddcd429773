"""The master is read through the pre-read guard: a hostile or broken file at the master's path
is refused with a bilingual message and exit 2, never a crash, and its bytes stay as they were."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.hostile import far_corner_xlsx, truncated_xlsx

from kpisheet.xladdin.master.io import MasterReadError, read_master


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from kpisheet.xladdin.cli.app import app; app()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_far_corner_master_is_refused_before_calamine_sees_it(tmp_path, rulebook):
    master = far_corner_xlsx(tmp_path, name="master.xlsx")
    with pytest.raises(MasterReadError) as error:
        read_master(master, rulebook)
    assert "XFD1048576" in error.value.message_zh and "XFD1048576" in error.value.message_en
    assert "backups" in error.value.message_zh and "untouched" in error.value.message_en


def test_truncated_master_is_refused_with_the_guard_reason(tmp_path, rulebook):
    master = truncated_xlsx(tmp_path)
    with pytest.raises(MasterReadError) as error:
        read_master(master, rulebook)
    assert "未读取" in error.value.message_zh and "not read" in error.value.message_en


@pytest.mark.parametrize("command", [["consolidate", "inbox", "--master", "master.xlsx"],
                                     ["calibrate", "--master", "master.xlsx"],
                                     ["rollup", "--master", "master.xlsx", "--year", "2026"],
                                     ["appeals", "--master", "master.xlsx"]])
def test_cli_on_a_far_corner_master_exits_2_and_leaves_it_alone(tmp_path, command):
    (tmp_path / "inbox").mkdir()
    master = far_corner_xlsx(tmp_path, name="master.xlsx")
    before = digest(master)
    done = run_cli(*command, cwd=tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 2, out  # a SIGABRT in calamine would be -6
    assert "master.xlsx" in done.stderr and "安全限制" in done.stderr and "safety limits" in done.stderr
    assert "Traceback" not in out
    assert digest(master) == before
    assert not (tmp_path / "backups").exists()  # nothing was replaced
