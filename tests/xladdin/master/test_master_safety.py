"""Master safety in-process: open-file refusal, the run lock, atomic replace, backups."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from kpisheet.xladdin.master.safety import (
    KEEP_BACKUPS, MasterBusy, backups_of, lock_path, master_lock, open_lock_files, replace_atomically,
)

NOW = dt.datetime(2026, 4, 1, 9, 0, 0)


def write_bytes(data: bytes):
    return lambda temp: temp.write_bytes(data)


@pytest.mark.parametrize("lock_name", ["~$master.xlsx", "~$ster.xlsx", ".~lock.master.xlsx#"])
def test_open_in_a_spreadsheet_program_is_refused(tmp_path, lock_name):
    master = tmp_path / "master.xlsx"
    master.write_bytes(b"old")
    (tmp_path / lock_name).write_bytes(b"owner")
    assert open_lock_files(master) == [tmp_path / lock_name]
    with pytest.raises(MasterBusy) as error:
        with master_lock(master):
            pytest.fail("must not get the lock")
    assert lock_name in error.value.message_zh and "close" in error.value.message_en
    assert master.read_bytes() == b"old"


def test_second_holder_is_refused_then_admitted(tmp_path):
    master = tmp_path / "master.xlsx"
    holding, release = threading.Event(), threading.Event()

    def hold():
        with master_lock(master):
            holding.set()
            release.wait(10)

    # the holder is another thread, as a second run would be another process
    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(MasterBusy) as error:
            with master_lock(master, timeout=0.2):
                pytest.fail("must not get the lock")
        assert "another kpisheet run" in error.value.message_en
    finally:
        release.set()
        holder.join()
    with master_lock(master, timeout=0.2):
        assert lock_path(master).exists()
    assert not lock_path(master).exists()  # no lock file is left behind after a run


@pytest.mark.parametrize("lock_name", ["~$master.xlsx", ".~lock.master.xlsx#", ".~master.xlsx"])
def test_the_lock_file_rule_is_the_guards_rule(tmp_path, lock_name):
    """One rule decides both: a lock file beside the master refuses it, and in an inbox it is a file-lock."""
    from kpisheet.validators.reading.file_checks import is_lock_name

    master = tmp_path / "master.xlsx"
    (tmp_path / lock_name).write_bytes(b"owner")
    assert open_lock_files(master) == [tmp_path / lock_name] and is_lock_name(lock_name)


def test_many_runs_at_once_never_hold_the_lock_together(tmp_path):
    """Runs that wait, finish and remove the lock file in a tight loop: never two holders at a time."""
    master = tmp_path / "master.xlsx"
    inside, overlaps = [0], []
    guard = threading.Lock()

    def run():
        for _ in range(30):
            with master_lock(master, timeout=10):
                with guard:
                    inside[0] += 1
                    overlaps.append(inside[0])
                time.sleep(0.002)  # hold the lock a little, so a second holder would be seen
                with guard:
                    inside[0] -= 1

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(overlaps) == 120 and max(overlaps) == 1
    assert not lock_path(master).exists()


def test_replace_keeps_the_previous_version_as_backup(tmp_path):
    master = tmp_path / "master.xlsx"
    assert replace_atomically(master, write_bytes(b"v1"), now=NOW) is None  # nothing to back up yet
    backup = replace_atomically(master, write_bytes(b"v2"), now=NOW)
    assert master.read_bytes() == b"v2"
    assert backup.parent == tmp_path / "backups" and backup.read_bytes() == b"v1"
    assert backup.name == "master-20260401-090000.xlsx"
    second = replace_atomically(master, write_bytes(b"v3"), now=NOW)  # same second: a distinct name
    assert second.name == "master-20260401-090000-2.xlsx" and second.read_bytes() == b"v2"


def test_only_the_last_backups_are_kept(tmp_path):
    master = tmp_path / "master.xlsx"
    other = tmp_path / "other.xlsx"
    replace_atomically(other, write_bytes(b"o1"), now=NOW)
    replace_atomically(other, write_bytes(b"o2"), now=NOW)
    for i in range(KEEP_BACKUPS + 5):
        replace_atomically(master, write_bytes(f"v{i}".encode()), now=NOW + dt.timedelta(minutes=i))
    kept = backups_of(master)
    assert len(kept) == KEEP_BACKUPS
    assert kept[-1].read_bytes() == f"v{KEEP_BACKUPS + 3}".encode()
    assert kept[0].read_bytes() == b"v4"
    assert len(backups_of(other)) == 1  # another master's backups are not touched


def test_failed_write_leaves_master_and_no_temp(tmp_path):
    master = tmp_path / "master.xlsx"
    master.write_bytes(b"old")

    def broken(temp):
        temp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        replace_atomically(master, broken, now=NOW)
    assert master.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.xlsx"]


def test_opened_during_the_write_is_refused_at_the_swap(tmp_path):
    master = tmp_path / "master.xlsx"
    master.write_bytes(b"old")

    def write_while_hr_opens(temp):
        temp.write_bytes(b"new")
        (tmp_path / "~$master.xlsx").write_bytes(b"owner")

    with pytest.raises(MasterBusy):
        replace_atomically(master, write_while_hr_opens, now=NOW)
    assert master.read_bytes() == b"old"
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_stale_temp_of_a_killed_run_is_removed_under_the_lock(tmp_path):
    master = tmp_path / "master.xlsx"
    stale = tmp_path / ".master.4242.tmp.xlsx"
    stale.write_bytes(b"half")
    unrelated = tmp_path / ".masterplan.1.tmp.xlsx"
    unrelated.write_bytes(b"x")
    with master_lock(master):
        pass
    assert not stale.exists() and unrelated.exists()
