"""PDFs of many workbooks from one headless LibreOffice run.

``soffice --convert-to pdf a.xlsx b.xlsx ...`` converts every file it is given in one process;
starting LibreOffice is what costs (a second or more each time), so a batch of 60 notices
takes seconds instead of minutes. The run uses a profile of its own, kept between runs in the
temporary folder (making a fresh profile costs LibreOffice another 3-4 s), under a run lock: a
profile cannot serve two LibreOffice processes, and the user's own LibreOffice may be open.

This belongs beside :func:`kpisheet.xladdin.kit.libreoffice.to_pdf` (one file, the kit's shared
recalculating profile); it lives here until the kit grows a batch conversion.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

from kpisheet.validators.errors import KpisheetError
from kpisheet.xladdin.kit.libreoffice import TIMEOUT_SECONDS, find_soffice
from kpisheet.xladdin.kit.run_lock import LockTimeout, run_lock
from kpisheet.xladdin.kit.user import current_user

SECONDS_PER_FILE = 5  # on top of TIMEOUT_SECONDS: a long batch is not a hung one


class PdfBatchError(KpisheetError):
    """LibreOffice is missing, or the batch run failed or hung."""

    code = "pdf-batch"
    title_zh, title_en = "无法生成 PDF", "PDFs could not be made"
    description = "The one LibreOffice run that turns a batch of workbooks (notices) into PDFs failed."


def soffice_available() -> bool:
    return find_soffice() is not None


def convert_to_pdf(sources: Sequence[Path], out_dir: Path) -> dict[Path, Path]:
    """source -> its PDF in ``out_dir``, for every source LibreOffice converted, in one process.

    Files are converted in order; a file LibreOffice skips is simply missing from the result
    (the caller reports it). Sources with the same file name would overwrite each other's PDF and
    are refused.
    """
    soffice = find_soffice()
    if soffice is None:
        raise PdfBatchError("未安装 LibreOffice（soffice）", "LibreOffice (soffice) is not installed")
    stems = [Path(s).stem for s in sources]
    if len(set(stems)) != len(stems):
        raise PdfBatchError("有同名文件，PDF 会互相覆盖", "two sources share a name; their PDFs would overwrite")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    before = {s: _mtime(out_dir / f"{Path(s).stem}.pdf") for s in sources}
    profile = profile_dir()
    cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, sources)]
    budget = TIMEOUT_SECONDS + SECONDS_PER_FILE * len(sources)
    try:
        with run_lock(profile, timeout=budget):
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=budget)
    except subprocess.TimeoutExpired:
        raise PdfBatchError("LibreOffice 生成 PDF 超时", "LibreOffice timed out making the PDFs") from None
    except LockTimeout:
        raise PdfBatchError("另一个 kpisheet 正在用 LibreOffice 生成 PDF，请稍后再试",
                            "another kpisheet run is making PDFs with LibreOffice; try again later") from None
    made = {}
    for source in sources:
        pdf = out_dir / f"{Path(source).stem}.pdf"
        if pdf.exists() and _mtime(pdf) != before[source]:
            made[Path(source)] = pdf
    if not made and sources:
        raise PdfBatchError("LibreOffice 未生成任何 PDF", "LibreOffice made no PDF",
                            details=[line for line in (done.stdout.strip(), done.stderr.strip()) if line])
    return made


def profile_dir() -> Path:
    """This user's LibreOffice profile for PDF batches, in the temporary folder."""
    user = re.sub(r"[^A-Za-z0-9_.-]+", "_", current_user()) or "user"
    return Path(tempfile.gettempdir()) / f"kpisheet-lo-pdf-{user}"


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None
