"""The master is read through the pre-read guard: a hostile or broken file at the master's path
is refused with a bilingual message and exit 2, never a crash, and its bytes stay as they were."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.hostile import add_far_cell, far_corner_xlsx, move_sheet_part, truncated_xlsx

from kpisheet.xladdin.master.io import MasterReadError, read_master


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from kpisheet.xladdin.cli.app import app; app()", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_far_corner_master_is_refused_before_calamine_sees_it(tmp_path, rulebook):
    master = far_corner_xlsx(tmp_path, name="master.xlsx", sheet_name="总表")
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
    master = far_corner_xlsx(tmp_path, name="master.xlsx", sheet_name="总表")
    before = digest(master)
    done = run_cli(*command, cwd=tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 2, out  # a SIGABRT in calamine would be -6
    assert "master.xlsx" in done.stderr and "安全限制" in done.stderr and "safety limits" in done.stderr
    assert "Traceback" not in out
    assert digest(master) == before
    assert not (tmp_path / "backups").exists()  # nothing was replaced


def moved_far_corner_master(folder: Path, rulebook) -> Path:
    """A real master whose 总表 is stored as xl/foo.bin and holds a value at XFD1048576: before the guard
    followed the relationships, ``consolidate`` and ``calibrate`` aborted on it (a 549 GB allocation, exit 134)."""
    import datetime as dt

    from kpisheet.xladdin.master import layout as L
    from kpisheet.xladdin.master.io import write_master

    real = folder / "real_master.xlsx"
    write_master(real, L.empty_master(), rulebook, now=dt.datetime(2026, 11, 27, 9, 0))
    master = move_sheet_part(real, folder / "master.xlsx", "xl/foo.bin", L.SUMMARY,
                             edit=lambda xml: add_far_cell(xml, "XFD1048576"))
    real.unlink()
    return master


@pytest.mark.parametrize("command", [["consolidate", "inbox", "--master", "master.xlsx"],
                                     ["calibrate", "--master", "master.xlsx"]])
def test_cli_on_a_master_with_a_moved_far_sheet_part_exits_2_with_one_line(tmp_path, rulebook, command):
    (tmp_path / "inbox").mkdir()
    master = moved_far_corner_master(tmp_path, rulebook)
    before = digest(master)
    done = run_cli(*command, cwd=tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 2, out  # an abort in calamine would be -6 (134 through a shell)
    assert "Traceback" not in out and "memory allocation" not in out and "panicked" not in out
    message = " ".join(done.stderr.split())  # one message, however the console wraps it
    assert done.stderr.count("✗") == 1, out
    for part in ("XFD1048576", "xl/foo.bin", "总表", "安全限制", "safety limits", "master.xlsx"):
        assert part in message, (part, out)
    assert digest(master) == before
    assert not (tmp_path / "backups").exists()


def test_the_master_is_read_in_a_worker_process(tmp_path, rulebook, monkeypatch):
    """Even a file the guard passes is read away from this process: the read runs in a worker."""
    import os

    import kpisheet.validators.reading.safe_read as safe_read
    from kpisheet.xladdin.master import layout as L
    from kpisheet.xladdin.master.io import guarded_master_read

    master = moved_far_corner_master(tmp_path, rulebook)
    seen = []
    run_isolated = safe_read.run_isolated

    def spying(func, paths, *args, **kwargs):
        seen.append((func.__name__, [str(p) for p in paths], os.getpid()))
        return run_isolated(func, paths, *args, **kwargs)

    monkeypatch.setattr(safe_read, "run_isolated", spying)
    with pytest.raises(MasterReadError):
        guarded_master_read(master, (L.SUMMARY,))
    assert seen and seen[0][1] == [str(master)]
