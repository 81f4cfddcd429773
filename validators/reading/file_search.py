"""The files a batch works on: every file under the paths it was given, and the ones it leaves alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

# What a folder search takes as a possible workbook: anything a spreadsheet program may have saved, so a
# renamed or wrong-format file still gets its finding (file-not-xlsx, file-lock ...). Other files in an
# inbox (a notes.txt, a PDF) are listed as ignored, not as error files.
SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods", ".csv", ".et", ".ett"})


@dataclass(frozen=True)
class InboxScan:
    files: list[Path]     # to validate, each once, in a stable order
    ignored: list[Path]   # files in the folders that are not spreadsheets by name


def scan_inbox(paths: Iterable[str | Path]) -> InboxScan:
    """The files under ``paths`` (folders searched recursively); a file named directly is always taken.

    Raises FileNotFoundError naming the first path that does not exist.
    """
    found: list[Path] = []
    ignored: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = sorted((p for p in path.rglob("*") if p.is_file()), key=lambda p: p.as_posix())
        elif path.exists():
            candidates = [path]
        else:
            raise FileNotFoundError(f"找不到路径 / no such file or folder: {path}")
        for candidate in candidates:
            key = candidate.resolve()
            if key in seen:
                continue
            seen.add(key)
            if path.is_dir() and candidate.suffix.lower() not in SPREADSHEET_SUFFIXES:
                ignored.append(candidate)
            else:
                found.append(candidate)
    return InboxScan(found, ignored)


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files of :func:`scan_inbox` to validate."""
    return scan_inbox(paths).files
