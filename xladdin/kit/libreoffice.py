"""Headless LibreOffice as a second spreadsheet engine: recalculate, re-save, render.

Used by the tests (formula parity, re-save round trips, rendering) and by
`notices` for PDFs. Each process keeps one private profile whose settings
force a full recalculation on load: by default LibreOffice trusts cached
formula values in .xlsx files (DESIGN.md section 7).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from kpisheet.validators.errors import KpisheetError
from kpisheet.xladdin.kit.run_lock import run_lock

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

TIMEOUT_SECONDS = 180


class LibreOfficeError(KpisheetError):
    """Headless LibreOffice is missing or failed on a file."""

    code = "libreoffice"
    title_zh, title_en = "LibreOffice 出错", "LibreOffice failed"
    description = "LibreOffice (soffice) or pdftoppm is not installed, or failed to convert a file."


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@lru_cache(maxsize=1)
def _profile_dir() -> Path:
    profile = Path(tempfile.gettempdir()) / f"kpisheet-lo-profile-{os.getpid()}"
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
    return profile


def _convert(src: Path, out_dir: Path, target: str) -> Path:
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeError("未安装 LibreOffice（soffice）", "LibreOffice (soffice) is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = _profile_dir()
    cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--convert-to", target, "--outdir", str(out_dir), str(src)]
    # one profile cannot serve two soffice processes at once
    with run_lock(profile, timeout=TIMEOUT_SECONDS):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    ext = target.split(":")[0]
    result = out_dir / f"{src.stem}.{ext}"
    if done.returncode != 0 or not result.exists():
        raise LibreOfficeError(f"LibreOffice 无法转换 {src.name}", f"soffice failed on {src.name}",
                               details=[line for line in (done.stdout.strip(), done.stderr.strip()) if line])
    return result


def recalculate(src: str | Path, out_dir: str | Path) -> Path:
    """Open in LibreOffice, recalculate every formula and save as .xlsx in out_dir."""
    src, out_dir = Path(src), Path(out_dir)
    if src.parent.resolve() == out_dir.resolve():
        raise LibreOfficeError("输出文件夹不能是源文件所在文件夹", "out_dir must differ from the source folder")
    return _convert(src, out_dir, "xlsx:Calc MS Excel 2007 XML")


def to_pdf(src: str | Path, out_dir: str | Path) -> Path:
    return _convert(Path(src), Path(out_dir), "pdf")


def pdf_to_png(pdf: str | Path, prefix: str | Path, dpi: int = 60) -> list[Path]:
    """Render each PDF page to PNG with poppler's pdftoppm."""
    pdf, prefix = Path(pdf), Path(prefix)
    if shutil.which("pdftoppm") is None:
        raise LibreOfficeError("未安装 pdftoppm（poppler-utils）", "pdftoppm (poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(prefix)],
                   check=True, capture_output=True, timeout=TIMEOUT_SECONDS)
    return sorted(prefix.parent.glob(f"{prefix.name}*.png"))
