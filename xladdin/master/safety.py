"""Keeping HR's master safe: refuse when it is open or busy, replace it atomically, keep backups.

- A master open in Excel or WPS (``~$<name>``) or LibreOffice (``.~lock.<name>#``)
  is refused: replacing it under the program would lose HR's unsaved edits.
- One kpisheet run at a time per master, by an OS file lock beside it; a lock
  held by a process that died is released by the OS.
- The new master is written to a temp file in the same folder, flushed to disk
  and renamed over the old one (``os.replace`` is atomic), so a crash at any
  moment leaves either the old master or the new one, never half of one.
- The previous master is copied to ``backups/`` beside it first (the last 10 kept).

``KPISHEET_FAULT`` lets the fault-injection tests stop a run at a named point:
``<point>:kill`` kills the process there, ``<point>:sleep`` touches the file
named by ``KPISHEET_FAULT_MARKER`` and sleeps so the test can kill it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator

from kpisheet.validators.errors import KpisheetError
from kpisheet.validators.reading.file_checks import owner_files
from kpisheet.xladdin.kit.files import copy_atomically, remove_stale_temps, write_atomically
from kpisheet.xladdin.kit.files import temp_path as files_temp_path
from kpisheet.xladdin.kit.run_lock import LockTimeout, lock_file_of, run_lock

BACKUP_DIR = "backups"
KEEP_BACKUPS = 10
FAULT_ENV = "KPISHEET_FAULT"
FAULT_MARKER_ENV = "KPISHEET_FAULT_MARKER"


class MasterBusy(KpisheetError):
    """The master is open in a spreadsheet program or in use by another run."""

    code = "master-busy"
    title_zh, title_en = "汇总表正被使用", "master in use"
    description = "The master is open in Excel, WPS or LibreOffice, or another kpisheet run holds it; nothing is written."


def fault_point(name: str) -> None:
    """A named point where the fault-injection tests may stop the run (no-op otherwise)."""
    wanted = os.environ.get(FAULT_ENV)
    if not wanted:
        return
    point, _, action = wanted.rpartition(":")
    if point != name:
        return
    if action == "sleep":
        marker = os.environ.get(FAULT_MARKER_ENV)
        if marker:
            Path(marker).write_text(name, encoding="utf-8")
        time.sleep(120)
    elif action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)


def open_lock_files(master: Path) -> list[Path]:
    """Lock files that say a spreadsheet program has the master open."""
    return owner_files(Path(master))


def refuse_if_open(master: Path) -> None:
    found = open_lock_files(master)
    if found:
        raise MasterBusy(
            f"汇总表 {master.name} 正在被 Excel/WPS/LibreOffice 打开（发现锁文件 {found[0].name}）；"
            "请先保存并关闭它再运行。若程序已关闭，删除该锁文件即可",
            f"the master {master.name} is open in a spreadsheet program (lock file {found[0].name}); "
            "save and close it, then run again. If no program has it open, delete the lock file")


def lock_path(master: Path) -> Path:
    return lock_file_of(master)


@contextmanager
def master_lock(master: Path, timeout: float = 0) -> Iterator[None]:
    """Hold the master for one run: refuse if it is open or another run holds it."""
    master = Path(master)
    refuse_if_open(master)
    with ExitStack() as held:
        try:
            held.enter_context(run_lock(master, timeout=timeout))
        except LockTimeout:
            raise MasterBusy(
                f"另一个 kpisheet 正在更新汇总表 {master.name}；请等它结束后再运行",
                f"another kpisheet run is updating the master {master.name}; run again when it has finished") from None
        remove_stale_temps(master)
        yield


def backup_pattern(master: Path) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(master.stem)}-\d{{8}}-\d{{6}}(-\d+)?{re.escape(master.suffix)}$")


def backups_of(master: Path) -> list[Path]:
    """The master's backups, oldest first."""
    folder = master.parent / BACKUP_DIR
    if not folder.is_dir():
        return []
    pattern = backup_pattern(master)
    return sorted((p for p in folder.iterdir() if pattern.match(p.name)), key=lambda p: p.name)


def _backup(master: Path, now: dt.datetime) -> Path:
    folder = master.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    target = folder / f"{master.stem}-{stamp}{master.suffix}"
    n = 2
    while target.exists():
        target = folder / f"{master.stem}-{stamp}-{n}{master.suffix}"
        n += 1
    # a copy, not a hard link: a program saving the master in place must not change the backup;
    # written under a temporary name, so a partial backup (a full disk) never carries a backup's name
    copy_atomically(master, target)
    return target


def _prune(master: Path, keep: int) -> None:
    for old in backups_of(master)[:-keep] if keep else backups_of(master):
        old.unlink(missing_ok=True)


def replace_atomically(master: Path, write: Callable[[Path], None], *, now: dt.datetime,
                       keep: int = KEEP_BACKUPS, checkpoint: Callable[[str], None] = fault_point) -> Path | None:
    """Write the new master with ``write(temp_path)`` and swap it in; returns the backup made."""
    master = Path(master)
    made: list[Path] = []

    def backup_then_check() -> None:
        if master.exists():
            made.append(_backup(master, now))
        checkpoint("backed-up")
        refuse_if_open(master)  # HR may have opened it while we were writing

    # a full disk is told with the room the backup needs as well as the new master's
    write_atomically(master, write, before_replace=backup_then_check, checkpoint=checkpoint,
                     extra_space=master.stat().st_size if master.exists() else 0)
    _prune(master, keep)
    return made[0] if made else None


def temp_path(master: Path) -> Path:
    """Where a new master is written before it is swapped in (the atomic writer's temporary file)."""
    return files_temp_path(Path(master))


def install(master: Path, temp: Path, *, now: dt.datetime, keep: int = KEEP_BACKUPS,
            checkpoint: Callable[[str], None] = fault_point) -> Path | None:
    """Swap the finished ``temp`` (at :func:`temp_path`) in for ``master``: synced, the old master backed up,
    renamed in one step; returns the backup made. The record has committed before this is called."""
    master = Path(master)
    if Path(temp) != temp_path(master):
        raise ValueError(f"{temp} is not the temporary file of {master}")
    made: list[Path] = []

    def backup_then_check() -> None:
        if master.exists():
            made.append(_backup(master, now))
        checkpoint("backed-up")
        refuse_if_open(master)

    write_atomically(master, lambda _temp: None, before_replace=backup_then_check, checkpoint=checkpoint)
    _prune(master, keep)
    return made[0] if made else None


def keep_copy(master: Path, now: dt.datetime, tag: str) -> Path:
    """A copy of the master in backups/ that pruning never removes (``<stem>-<tag>-<time>.xlsx``)."""
    folder = master.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    target = folder / f"{master.stem}-{tag}-{stamp}{master.suffix}"
    n = 2
    while target.exists():
        target = folder / f"{master.stem}-{tag}-{stamp}-{n}{master.suffix}"
        n += 1
    copy_atomically(master, target)
    return target
