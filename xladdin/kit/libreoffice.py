"""Headless LibreOffice as a second spreadsheet engine: recalculate, re-save, render, make PDFs.

Used by the tests (formula parity, re-save round trips, rendering) and by
`notices` for PDFs. Starting LibreOffice is what costs (a second or more a
start, 3-4 s more with a fresh profile), so :func:`convert` hands one process
every file of a batch, and the profile is kept between runs: one per user in
the temporary folder, whose settings force a full recalculation on load (by
default LibreOffice trusts cached formula values in .xlsx files; DESIGN.md
section 7). A profile cannot serve two LibreOffice processes at once, so every
run holds the profile's run lock.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

from kpisheet.validators.errors import KpisheetError
from kpisheet.xladdin.kit.run_lock import LockTimeout, run_lock
from kpisheet.xladdin.kit.user import current_user

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

TIMEOUT_SECONDS = 180
SECONDS_PER_FILE = 5  # on top of TIMEOUT_SECONDS: a long batch is not a hung one
XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"


class LibreOfficeError(KpisheetError):
    """Headless LibreOffice is missing or failed on a file."""

    code = "libreoffice"
    title_zh, title_en = "LibreOffice 出错", "LibreOffice failed"
    description = ("LibreOffice (soffice) or pdftoppm is not installed, or a conversion (re-save, PDF) failed, hung "
                   "or found LibreOffice busy with another kpisheet run.")


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def profile_dir() -> Path:
    """This user's LibreOffice profile, kept in the temporary folder between runs, recalculating on load."""
    user = re.sub(r"[^A-Za-z0-9_.-]+", "_", current_user()) or "user"
    profile = Path(tempfile.gettempdir()) / f"kpisheet-lo-profile-{user}"
    settings = profile / "user" / "registrymodifications.xcu"
    if not settings.is_file():
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(_RECALC_ALWAYS, encoding="utf-8")
    return profile


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def convert(sources: Sequence[str | Path], out_dir: str | Path, target: str) -> dict[Path, Path]:
    """source -> its converted file in ``out_dir``, for every source LibreOffice converted, in one process.

    ``target`` is LibreOffice's --convert-to argument ("pdf", :data:`XLSX_FILTER`). A
    file LibreOffice skips is missing from the result (the caller reports it); if it
    converted none, :class:`LibreOfficeError`. Sources with one file name would
    overwrite each other's output and are refused.
    """
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeError("未安装 LibreOffice（soffice）", "LibreOffice (soffice) is not installed")
    sources = [Path(s) for s in sources]
    if len({s.stem for s in sources}) != len(sources):
        raise LibreOfficeError("有同名文件，转换结果会互相覆盖", "two sources share a name; their outputs would overwrite")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = target.split(":")[0]
    outputs = {s: out_dir / f"{s.stem}.{ext}" for s in sources}
    before = {s: _mtime(output) for s, output in outputs.items()}
    profile = profile_dir()
    cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--convert-to", target, "--outdir", str(out_dir), *map(str, sources)]
    budget = TIMEOUT_SECONDS + SECONDS_PER_FILE * len(sources)
    try:
        with run_lock(profile, timeout=budget):
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=budget)
    except subprocess.TimeoutExpired:
        raise LibreOfficeError("LibreOffice 转换超时", "LibreOffice timed out converting the files") from None
    except LockTimeout:
        raise LibreOfficeError("另一个 kpisheet 正在使用 LibreOffice，请稍后再试",
                               "another kpisheet run is using LibreOffice; try again later") from None
    made = {s: output for s, output in outputs.items() if output.exists() and _mtime(output) != before[s]}
    if sources and not made:
        names = "、".join(s.name for s in sources[:3])
        raise LibreOfficeError(f"LibreOffice 无法转换 {names}", f"soffice converted none of {names}",
                               details=[line for line in (done.stdout.strip(), done.stderr.strip()) if line])
    return made


def recalculate(src: str | Path, out_dir: str | Path) -> Path:
    """Open in LibreOffice, recalculate every formula and save as .xlsx in out_dir."""
    src, out_dir = Path(src), Path(out_dir)
    if src.parent.resolve() == out_dir.resolve():
        raise LibreOfficeError("输出文件夹不能是源文件所在文件夹", "out_dir must differ from the source folder")
    return convert([src], out_dir, XLSX_FILTER)[src]


def to_pdf(src: str | Path, out_dir: str | Path) -> Path:
    return convert([Path(src)], out_dir, "pdf")[Path(src)]


def pdf_to_png(pdf: str | Path, prefix: str | Path, dpi: int = 60) -> list[Path]:
    """Render each PDF page to PNG with poppler's pdftoppm."""
    pdf, prefix = Path(pdf), Path(prefix)
    if shutil.which("pdftoppm") is None:
        raise LibreOfficeError("未安装 pdftoppm（poppler-utils）", "pdftoppm (poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(prefix)],
                   check=True, capture_output=True, timeout=TIMEOUT_SECONDS)
    return sorted(prefix.parent.glob(f"{prefix.name}*.png"))
