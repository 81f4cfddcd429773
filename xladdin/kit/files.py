"""Writing a file so that a reader never sees half of it, and refusing to write under a program's feet.

Every file kpisheet writes for people (team workbooks, exports, the master,
notices, annotated copies) goes through :func:`write_atomically`: the new
content is written to a hidden temporary file beside the target, flushed to
disk, given the target's permissions, and renamed over the target in one
step. A crash, a kill or a full disk at any point leaves the old file as it
was. Which lock files mean "open in a spreadsheet program" is decided in one
place, :func:`kpisheet.validators.reading.file_checks.owner_files`.
"""

from __future__ import annotations

import errno
import gc
import os
import re
import shutil
import stat
import sys
import traceback
from pathlib import Path
from typing import Callable

from kpisheet.validators.errors import KpisheetError
from kpisheet.validators.reading.file_checks import owner_files


class FileInUse(KpisheetError):
    """The target is open in Excel, WPS or LibreOffice: replacing it would lose unsaved edits."""

    code = "file-in-use"
    title_zh, title_en = "文件正被打开", "file is open"
    description = ("The file to be written is open in Excel, WPS or LibreOffice (its lock file is beside it); "
                   "nothing is written until it is closed.")

    def __init__(self, target: Path, lock: Path):
        super().__init__(f"{target.name} 正在被 Excel/WPS/LibreOffice 打开（发现锁文件 {lock.name}）；请先保存并关闭它",
                         f"{target.name} is open in a spreadsheet program (lock file {lock.name}); save and close it "
                         "first",
                         hint_zh="若程序已关闭，删除该锁文件即可", hint_en="if no program has it open, delete the lock file")
        self.target, self.lock = target, lock


class TargetReadOnly(KpisheetError, OSError):
    """The target exists and is read-only: kpisheet does not silently replace it."""

    code = "file-read-only"
    title_zh, title_en = "文件为只读", "file is read-only"
    description = "The file to be replaced is marked read-only; kpisheet refuses rather than replacing it silently."

    def __init__(self, target: Path):
        super().__init__(f"{target} 是只读文件，未改动；如需更新，请先取消只读属性",
                         f"{target} is read-only and was left untouched; clear its read-only flag to update it")
        self.target = target


class DiskFull(KpisheetError, OSError):
    """The disk filled up while writing; the old file is untouched and the temporary file removed."""

    code = "disk-full"
    title_zh, title_en = "磁盘已满", "disk full"
    description = "The disk (or quota) of the target folder is full; the previous file is byte-identical."

    def __init__(self, folder: Path, needed: int | None):
        free = _free_space(folder)
        need_zh = f"，约需 {_size(needed)}" if needed else ""
        need_en = f"; about {_size(needed)} are needed" if needed else ""
        words_zh, words_en = no_space_words(folder)
        super().__init__(f"{words_zh}{need_zh}；原文件未改动", f"{words_en}{need_en}; the previous file is untouched",
                         hint_zh="清理磁盘空间后重新运行", hint_en="free some space and run again")
        self.folder, self.needed, self.free = folder, needed, free


def no_space_words(folder: Path) -> tuple[str, str]:
    """How a full disk is told, everywhere kpisheet writes: the folder and the space left in it."""
    free = _free_space(folder)
    free_zh = f"（剩余 {_size(free)}）" if free is not None else ""
    free_en = f" ({_size(free)} free)" if free is not None else ""
    return f"磁盘空间不足，无法写入文件夹 {folder}{free_zh}", f"no space left to write in {folder}{free_en}"


class CannotWrite(KpisheetError, OSError):
    """The operating system refused the write (permissions, a missing folder, a name too long)."""

    code = "file-write-failed"
    title_zh, title_en = "无法写入文件", "cannot write a file"
    description = "The operating system refused to write a file; the message names it and says why."

    def __init__(self, target: Path, error: OSError):
        reason = error.strerror or str(error)
        super().__init__(f"无法写入 {target}：{reason}", f"cannot write {target}: {reason}")
        self.target = target


def _size(size: int) -> str:
    """A size as people read it: '48 KB', '2.5 MB'."""
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} KB"
    return f"{size / 1_000_000:.1f} MB"


def _free_space(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def refuse_if_open(target: Path) -> None:
    """Raise :class:`FileInUse` when a spreadsheet program's lock file sits beside ``target``."""
    found = owner_files(Path(target))
    if found:
        raise FileInUse(Path(target), found[0])


def refuse_if_read_only(target: Path) -> None:
    """Raise :class:`TargetReadOnly` for an existing file whose owner may not write it.

    The permission bits decide, not ``os.access``: root may write anything,
    yet HR marked the file read-only on purpose.
    """
    try:
        mode = Path(target).stat().st_mode
    except FileNotFoundError:
        return
    if not mode & stat.S_IWUSR:
        raise TargetReadOnly(Path(target))


def temp_path(target: Path) -> Path:
    """The hidden temporary file a run writes before renaming it over ``target``."""
    return target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")


def remove_stale_temps(target: Path) -> None:
    """Temporary files of ``target`` left by a killed run (call it while holding the target's run lock)."""
    pattern = re.compile(rf"^\.{re.escape(target.stem)}\.\d+\.tmp{re.escape(target.suffix)}$")
    for path in target.parent.glob(f".{target.stem}.*.tmp{target.suffix}"):
        if pattern.match(path.name):
            path.unlink(missing_ok=True)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # Windows cannot open a directory; NTFS journals the rename
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _take_over_attributes(temp: Path, target: Path, like: Path | None) -> None:
    """The new file keeps the old one's permission bits (a 0600 master stays 0600) and, as root, its owner.

    A new file takes them from ``like`` when given (a backup is as private as
    its master), else the default for new files.
    """
    try:
        old = target.stat()
    except FileNotFoundError:
        if like is None:
            os.chmod(temp, _default_mode())
            return
        old = like.stat()
    os.chmod(temp, stat.S_IMODE(old.st_mode))
    if hasattr(os, "chown") and os.geteuid() == 0 and (old.st_uid, old.st_gid) != (0, 0):
        try:
            os.chown(temp, old.st_uid, old.st_gid)
        except OSError:
            pass  # a file system without owners (e.g. a mounted share): the mode is what matters


def write_atomically(target: str | Path, write: Callable[[Path], None], *,
                     before_replace: Callable[[], None] | None = None,
                     checkpoint: Callable[[str], None] = lambda name: None,
                     size_hint: int | None = None, extra_space: int = 0,
                     attributes_from: Path | None = None) -> None:
    """Write ``target`` through ``write(temp)`` and rename it into place; all or nothing.

    ``before_replace`` runs after the temporary file is complete and synced,
    just before the rename (the master takes its backup there). ``checkpoint``
    names the steps for the fault-injection tests. A full disk becomes
    :class:`DiskFull`, other OS refusals :class:`CannotWrite`; in every case
    the old file is untouched and the temporary file removed. The space a
    full disk lacked is told as the new file's size (``size_hint``, else what
    was written or the old file's size) plus ``extra_space`` (the master's
    backup).
    """
    target = Path(target)
    refuse_if_read_only(target)
    refuse_if_open(target)
    temp = temp_path(target)
    try:
        write(temp)
        checkpoint("written")
        fsync_file(temp)
        checkpoint("synced")
        _take_over_attributes(temp, target, attributes_from)
        if before_replace is not None:
            before_replace()
        refuse_if_open(target)  # a program may have opened it while we were writing
        os.replace(temp, target)
        fsync_dir(target.parent)
        checkpoint("replaced")
    except BaseException as error:
        refused = os_error_of(error)
        if refused is not None:
            _close_abandoned_files(error)
            size_hint = max(size_hint or 0, _size_of(temp), _size_of(target)) + extra_space
        temp.unlink(missing_ok=True)
        # a full disk anywhere in the step (the backup too) is told once, for the whole step and with
        # the space free now that the temporary file is gone
        if refused is not None and (not isinstance(error, KpisheetError) or isinstance(error, DiskFull)):
            raise as_file_error(refused, target, size_hint) from None
        raise


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def os_error_of(error: BaseException) -> OSError | None:
    """The operating system's refusal behind ``error``: itself, or what a writer wrapped
    (xlsxwriter raises FileCreateError from the OSError of a full disk)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError):
            return error
        wrapped = error.args[0] if error.args and isinstance(error.args[0], OSError) else None
        error = wrapped or error.__cause__ or error.__context__
    return None


def _close_abandoned_files(error: BaseException) -> None:
    """Close, now and quietly, what a writer left open when the OS refused it.

    xlsxwriter's zip file stays referenced by the failed call's frames; left
    alone, Python closes it much later, the close fails again on the full
    disk and prints an eight-line "Exception ignored" traceback. Clearing the
    finished frames closes it here, where its second failure is expected.
    """
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _unraisable: None
    try:
        seen: set[int] = set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            traceback.clear_frames(error.__traceback__)
            error = error.__cause__ or error.__context__
        gc.collect()
    finally:
        sys.unraisablehook = hook


class FileAccessFailed(KpisheetError, OSError):
    """A file could not be read or written, where the caller cannot tell which (a command's last resort)."""

    code = "file-access-failed"
    title_zh, title_en = "读写文件失败", "file access failed"
    description = "The operating system refused to read or write a file a command needed; the message names it."

    def __init__(self, target: Path, error: OSError):
        reason = error.strerror or str(error)
        super().__init__(f"读写文件失败：{target}：{reason}", f"reading or writing {target} failed: {reason}")
        self.target = target


def as_file_error(error: OSError, target: Path, size_hint: int | None = None, *,
                  writing: bool = True) -> KpisheetError:
    """An OSError met on ``target`` as the bilingual error a user reads (``writing``: we know it was a write)."""
    if isinstance(error, DiskFull) or error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        needed = size_hint
        if needed is None and target.exists():
            needed = target.stat().st_size
        return DiskFull(target.parent, needed)
    return CannotWrite(target, error) if writing else FileAccessFailed(target, error)


def make_output_folder(folder: Path) -> Path:
    """``folder`` made (with its parents) for output, or the bilingual cannot-write error naming it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise as_file_error(error, folder, writing=True) from error
    return folder


def copy_atomically(source: Path, target: Path) -> None:
    """A byte copy of ``source`` at ``target`` that never exists half-written under its real name."""
    write_atomically(target, lambda temp: shutil.copy2(source, temp), size_hint=source.stat().st_size,
                     attributes_from=source)
