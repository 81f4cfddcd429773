"""The consolidation service: validate the inbox, merge the accepted files into the master, write it safely.

:func:`consolidate` is what ``kpisheet consolidate`` and the add-in's 汇总 button
call; :func:`merge_into_master` is the part after validation, for callers that
already hold the :class:`~kpisheet.validators.report.FileReport` objects.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence, TypeVar

from kpisheet.validators.reading.file_checks import owner_file_names
from kpisheet.validators.report import FileReport
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.signature import SigningKey

from kpisheet.xladdin.kit.user import current_user
from kpisheet.xladdin.master.accepted import accepted_submissions
from kpisheet.xladdin.master.io import MasterReadError, read_master, write_master
from kpisheet.xladdin.master.layout import MasterData, empty_master
from kpisheet.xladdin.master.safety import (
    BACKUP_DIR, fault_point, master_lock, refuse_if_open, replace_atomically,
)
from kpisheet.xladdin.master.merge import MergeResult, merge

T = TypeVar("T")

# A second run waits this long for the first before it is refused.
LOCK_WAIT_SECONDS = 5.0


@dataclass
class ConsolidationResult:
    master: Path
    merge: MergeResult
    written: bool
    backup: Path | None
    reports: list[FileReport]

    @property
    def exit_code(self) -> int:
        """0 when every file was accepted, 1 when some were rejected."""
        return 1 if self.merge.files["rejected"] else 0

    def to_dict(self) -> dict:
        m = self.merge
        label = path_labeller(self.master)
        return {
            "master": str(self.master),
            "written": self.written,
            "backup": str(self.backup) if self.backup else None,
            "files": {status: sorted(paths) for status, paths in m.files.items()},
            "counts": {
                "files": len(self.reports),
                **{f"files_{status}": len(paths) for status, paths in m.files.items()},
                **{f"employees_{key}": value for key, value in m.employees.items()},
                "log_rows": m.log_rows,
            },
            "over_quota": m.over_quota,
            "rejected": [
                {"path": label(r.path), "errors": r.count("error"), "warnings": r.count("warning"),
                 "codes": sorted({f.code for f in r.findings if f.severity == "error"})}
                for r in self.reports if not r.accepted
            ],
        }


def path_labeller(master: Path) -> Callable[[str], str]:
    """Submission paths as the master shows them: relative to the master's folder when
    inside it, else absolute, so the same inbox gives the same cells whatever folder
    the command ran from."""
    base = master.resolve().parent

    @functools.lru_cache(maxsize=None)  # asked once per employee and finding: resolving costs a system call or more
    def label(path: str) -> str:
        absolute = Path(path).resolve()
        try:
            relative = Path(os.path.relpath(absolute, base))
        except ValueError:  # another drive on Windows
            return absolute.as_posix()
        # inside the master's folder: short and portable; elsewhere: the full path, not a chain of ../
        return absolute.as_posix() if relative.parts[:1] == ("..",) else relative.as_posix()

    return label


def now_local() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def merge_into_master(master: str | Path, reports: Sequence[FileReport], *, rulebook: Rulebook,
                      roster: Sequence[Employee] | Mapping[str, Employee] | None = None,
                      period: str | None = None, now: dt.datetime | None = None,
                      lock_wait: float = LOCK_WAIT_SECONDS) -> ConsolidationResult:
    """Merge validated ``reports`` into the master at ``master`` (created if absent).

    Raises :class:`~kpisheet.xladdin.master.safety.MasterBusy` (open or locked),
    :class:`~kpisheet.xladdin.master.io.MasterReadError` (not a master) or OSError; in
    every case the master's bytes are untouched.
    """
    master = Path(master)
    now = (now or now_local()).replace(microsecond=0)
    if roster is not None and not isinstance(roster, Mapping):
        roster = {person.employee_id: person for person in roster}
    with master_lock(master, timeout=lock_wait):
        exists = master.exists()
        old = read_master(master, rulebook) if exists else empty_master()
        result = merge(old, reports, rulebook, now=now, roster=roster, period=period,
                       label=path_labeller(master), user=current_user())
        backup = None
        if result.changed or not exists:
            backup = replace_atomically(
                master, lambda temp: write_master(temp, result.data, rulebook, now=now, checkpoint=fault_point),
                now=now)
    return ConsolidationResult(master, result, result.changed or not exists, backup, list(reports))


def update_master(master: str | Path, rulebook: Rulebook, change: Callable[[MasterData], T], *,
                  now: dt.datetime | None = None, lock_wait: float = LOCK_WAIT_SECONDS) -> tuple[T, Path | None]:
    """Read the existing master under its lock, apply ``change`` and write the result the safe way.

    For commands that edit the master without submissions (calibrate, rollup,
    appeals, notices). ``change`` returns an object with ``data`` (the new
    :class:`MasterData`) and ``changed``; nothing is written unless it changed.
    Returns (that object, the backup made or None). Raises as
    :func:`merge_into_master`, and MasterReadError when there is no master yet.
    """
    master = Path(master)
    now = (now or now_local()).replace(microsecond=0)
    with master_lock(master, timeout=lock_wait):
        if not master.is_file():
            raise MasterReadError(f"找不到汇总表 {master}：请先运行 kpisheet consolidate 生成汇总表，或检查 --master 路径",
                                  f"no master at {master}: run kpisheet consolidate first, or check --master")
        outcome = change(read_master(master, rulebook))
        backup = None
        if outcome.changed:
            backup = replace_atomically(
                master, lambda temp: write_master(temp, outcome.data, rulebook, now=now, checkpoint=fault_point),
                now=now)
    return outcome, backup


def consolidate(inbox: Sequence[str | Path], master: str | Path, *, rulebook: Rulebook,
                roster: Sequence[Employee] | None = None, period: str | None = None, jobs: int | None = None,
                progress: Callable[[int, int], None] | None = None, now: dt.datetime | None = None,
                lock_wait: float = LOCK_WAIT_SECONDS, signing_key: SigningKey | None = None) -> ConsolidationResult:
    """Validate every file under ``inbox`` (the master's own files excluded) and merge the
    accepted ones into ``master``; ``progress(done, total)`` follows the validation; each file's
    signature is verified with HR's ``signing_key`` when given."""
    from kpisheet.validators.reading.file_search import find_files
    from kpisheet.validators.validate import validate_paths

    master = Path(master)
    refuse_if_open(master)  # before minutes of validation, not after
    files = [path for path in find_files(inbox) if not is_master_file(master, path)]
    # without a roster, the teams' accepted submissions say who belongs where (with one, the roster does)
    accepted = accepted_submissions(master, rulebook) if roster is None else None
    reports = validate_paths(files, rulebook=rulebook, roster=roster, period=period, jobs=jobs, progress=progress,
                             signing_key=signing_key, accepted=accepted)
    return merge_into_master(master, reports, rulebook=rulebook, roster=roster, period=period, now=now,
                             lock_wait=lock_wait)


def is_master_file(master: Path, path: Path) -> bool:
    """The master, its backups, lock and temp files, when the inbox folder also holds the master."""
    master, path = master.resolve(), path.resolve()
    if path == master or path.parent == master.parent / BACKUP_DIR:
        return True
    if path.parent != master.parent:
        return False
    # the master's own temp and lock files (".master.*"), and a spreadsheet program's lock on it
    return (path.name.startswith(f".{master.stem}.") or path.name.startswith(f".{master.name}.")
            or path.name in owner_file_names(master.name))
