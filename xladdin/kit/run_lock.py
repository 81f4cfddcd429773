"""One run at a time on a file, and no lock file left behind when the run ends.

The lock is an operating-system lock on a small hidden file beside the
target (``.<name>.kpisheet.lock``), so a run that is killed releases it with
its process. When the run ends the lock file is removed while the lock is
still held; a waiting run that had opened the old file notices that its
file is no longer the one at the path and tries again, so two runs can never
both believe they hold the lock.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from kpisheet.validators.errors import KpisheetError

POLL_SECONDS = 0.05

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def _still_at(fd: int, path: Path) -> bool:
        return path.exists()

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

    def _still_at(fd: int, path: Path) -> bool:
        try:
            return os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False


class LockTimeout(KpisheetError):
    """Another run held the lock for the whole wait (callers say what that means to the user)."""

    def __init__(self, path: Path):
        super().__init__(f"另一个 kpisheet 正在使用 {path.name}", f"another kpisheet run holds {path.name}")


def lock_file_of(target: Path) -> Path:
    return Path(target).with_name(f".{Path(target).name}.kpisheet.lock")


def _acquire(path: Path, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        if _try_lock(fd):
            if _still_at(fd, path):
                return fd
            _unlock(fd)  # locked a file a finishing run had just removed: try the new one
        os.close(fd)
        if time.monotonic() >= deadline:
            raise LockTimeout(path)
        time.sleep(POLL_SECONDS)


def _release(fd: int, path: Path) -> None:
    if os.name == "nt":  # Windows cannot remove an open file: release, then remove if nobody took it
        _unlock(fd)
        os.close(fd)
        try:
            path.unlink()
        except OSError:
            pass
        return
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    _unlock(fd)
    os.close(fd)


@contextmanager
def run_lock(target: str | Path, timeout: float = 0) -> Iterator[Path]:
    """Hold ``target``'s run lock for the body; :class:`LockTimeout` if another run holds it past ``timeout`` s."""
    path = lock_file_of(Path(target))
    fd = _acquire(path, timeout)
    try:
        yield path
    finally:
        _release(fd, path)
