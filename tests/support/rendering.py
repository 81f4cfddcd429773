"""Reading what LibreOffice printed: page sizes and the text of each page (poppler's pdfinfo, pdftotext)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.support.environment import require

A4_LANDSCAPE = (841.89, 595.28)
A4_PORTRAIT = (595.28, 841.89)


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    require(path is not None, f"{tool} (poppler-utils)")
    return path


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    out = subprocess.run([poppler("pdfinfo"), "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True,
                         check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", out)]


def page_texts(pdf: Path, count: int | None = None) -> list[str]:
    """The text of each page as laid out (``pdftotext -layout``)."""
    count = len(page_sizes(pdf)) if count is None else count
    tool = poppler("pdftotext")
    return [subprocess.run([tool, "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout for i in range(1, count + 1)]


def is_a4(size: tuple[float, float], landscape: bool) -> bool:
    want = A4_LANDSCAPE if landscape else A4_PORTRAIT
    return abs(size[0] - want[0]) < 2 and abs(size[1] - want[1]) < 2
