"""A person's edit made by LibreOffice itself: rows deleted through Calc's own API, then saved as .xlsx.

Headless LibreOffice runs a Basic macro from a private profile
(``macro:///Standard.KpisheetEdit.DeleteRows(...)``): it opens the workbook,
lifts the sheet protection (the forms are protected without a password, as a
manager would lift it with 工具 → 保护工作表), removes the rows with
``Rows.removeByIndex`` (what 删除行 does) and stores the document with the
"Calc MS Excel 2007 XML" filter, as 文件 → 保存 does for an .xlsx. What is
saved is therefore exactly what LibreOffice writes after a row deletion.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from kpisheet.xladdin.kit.libreoffice import TIMEOUT_SECONDS, LibreOfficeError, find_soffice

_MODULE = "KpisheetEdit"
_BASIC = """Sub DeleteRows(inUrl As String, outUrl As String, sheetName As String, firstRow As String, rowCount As String)
  Dim logUrl As String
  logUrl = outUrl & ".log"
  On Error GoTo Failed
  Dim args(0) As New com.sun.star.beans.PropertyValue
  args(0).Name = "Hidden"
  args(0).Value = True
  doc = StarDesktop.loadComponentFromURL(inUrl, "_blank", 0, args())
  sheet = doc.Sheets.getByName(sheetName)
  If sheet.isProtected() Then sheet.unprotect("")
  sheet.Rows.removeByIndex(CLng(firstRow), CLng(rowCount))
  Dim out(0) As New com.sun.star.beans.PropertyValue
  out(0).Name = "FilterName"
  out(0).Value = "Calc MS Excel 2007 XML"
  doc.storeToURL(outUrl, out())
  doc.close(True)
  WriteLog(logUrl, "done")
  StarDesktop.terminate()
  Exit Sub
Failed:
  WriteLog(logUrl, "error " & Err & ": " & Error$ & " at line " & Erl)
  StarDesktop.terminate()
End Sub

Sub WriteLog(logUrl As String, message As String)
  Dim n As Integer
  n = FreeFile
  Open ConvertFromURL(logUrl) For Output As #n
  Print #n, message
  Close #n
End Sub
"""
_LIBRARY_LIST = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:libraries PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "libraries.dtd">
<library:libraries xmlns:library="http://openoffice.org/2000/library" xmlns:xlink="http://www.w3.org/1999/xlink">
 <library:library library:name="Standard" xlink:href="$(USER)/basic/Standard/{kind}.xlb/" xlink:type="simple" library:link="false"/>
</library:libraries>
"""
_LIBRARY = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="Standard" library:readonly="false" library:passwordprotected="false">{elements}</library:library>
"""
_SCRIPT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="{name}" script:language="StarBasic">{code}</script:module>
"""


def _profile(folder: Path, soffice: str) -> Path:
    """A private profile whose Standard library holds the macro (LibreOffice makes the profile on first start)."""
    profile = folder / "lo-edit-profile"
    if not (profile / "user").exists():
        # a first start creates the profile (and would overwrite a library written before it)
        subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                        "--terminate_after_init"], capture_output=True, timeout=TIMEOUT_SECONDS)
    basic = profile / "user" / "basic"
    standard = basic / "Standard"
    standard.mkdir(parents=True, exist_ok=True)
    (basic / "script.xlc").write_text(_LIBRARY_LIST.format(kind="script"), encoding="utf-8")
    (basic / "dialog.xlc").write_text(_LIBRARY_LIST.format(kind="dialog"), encoding="utf-8")
    (standard / "script.xlb").write_text(_LIBRARY.format(elements=f'<library:element library:name="{_MODULE}"/>'),
                                         encoding="utf-8")
    (standard / "dialog.xlb").write_text(_LIBRARY.format(elements=""), encoding="utf-8")
    (standard / f"{_MODULE}.xba").write_text(_SCRIPT.format(name=_MODULE, code=escape(_BASIC)), encoding="utf-8")
    return profile


def delete_rows(source: Path, target: Path, sheet: str, first_row: int, count: int = 1) -> Path:
    """Delete ``count`` rows of ``sheet`` from ``first_row`` (1-based, as on screen) in LibreOffice; save as ``target``."""
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeError("未安装 LibreOffice（soffice）", "LibreOffice (soffice) is not installed")
    target = Path(target)
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="kpisheet-lo-edit-") as work:
        profile = _profile(Path(work), soffice)
        log = Path(f"{target}.log")
        arguments = ",".join(f'"{a}"' for a in (Path(source).resolve().as_uri(), target.resolve().as_uri(), sheet,
                                                 str(first_row - 1), str(count)))
        done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                               f"macro:///Standard.{_MODULE}.DeleteRows({arguments})"],
                              capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        outcome = log.read_text(encoding="utf-8", errors="replace").strip() if log.exists() else ""
        log.unlink(missing_ok=True)
    if outcome != "done" or not target.exists():
        why = outcome or done.stderr.strip()
        raise LibreOfficeError(f"LibreOffice 未能删除行：{why}", f"LibreOffice did not delete the rows: {why}")
    return target
