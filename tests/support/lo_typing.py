"""Typing into workbooks through LibreOffice itself, many workbooks in one soffice run.

A manager types ``95.13%`` into a cell and LibreOffice's input parser turns it
into the number 0.9513; a manager pastes a value over a formula; a manager
types a date as text. Writing numbers with openpyxl skips all of that, so the
tests that claim "typed as a person types" go through here instead.

One headless soffice process runs a small StarBasic macro (installed in a
private profile, no python-uno needed) over a job file: open a workbook,
enter text into cells, save it as .xlsx, next workbook. Starting soffice costs
seconds; entering a cell costs microseconds, so thousands of employees cost
one start.

How a cell is entered (:class:`Entry.how`):

- ``type``  the text goes through LibreOffice's input parsing, as typed into
  the cell (``XCell.setFormula``: "95.13%" -> 0.9513 shown as a percent,
  "2027/1/8" stays text in the en-US locale, "=..." is a formula). Like a
  paste, it is not stopped by the cell's data validation.
- ``key``   the text is entered through the spreadsheet view's own
  ``.uno:EnterString`` command, the path of a key press followed by Enter
  (the cell's number format applies; an input the cell's validation refuses
  would open a dialog, so only valid input is keyed).
- ``text``  the text is stored as text, as a paste of text or a leading
  apostrophe does.
- ``clear`` the cell is emptied (Delete key).

Sheets are protected without a password; ``unprotect`` lifts that first, as a
manager does before overwriting a locked formula cell. Rows can be deleted or
inserted as in the row header's context menu.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from kpisheet.xladdin.kit.libreoffice import find_soffice

HOWS = ("type", "key", "text", "clear")
TIMEOUT_SECONDS = 1500  # a whole batch; CI machines are slower than they look

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

_LIBRARY = "KpiTyping"

# The macro reads the job file line by line (tab-separated, UTF-8):
#   OPEN <url> | UNPROTECT <sheet> | DELETEROWS <sheet> <row0> <count> | INSERTROWS <sheet> <row0> <count>
#   <HOW> <sheet> <cell> <text> | STORE <url> | END
# and writes one line per failure to the log, then DONE. It stops at END, not at the stream's
# end of file, and drops line ends itself: TextInputStream.readLine() returns the last line with its
# line feed.
_MODULE = r"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Typing" script:language="StarBasic">
Option Explicit

Sub RunJobs(sJobs As String, sLog As String)
  Dim oSFA As Object, oIn As Object, oOut As Object, oText As Object, oLog As Object
  Dim oDoc As Object, sLine As String, parts() As String, nLine As Long, nEmpty As Long
  oSFA = createUnoService("com.sun.star.ucb.SimpleFileAccess")
  oText = createUnoService("com.sun.star.io.TextInputStream")
  oText.setInputStream(oSFA.openFileRead(sJobs))
  oText.setEncoding("UTF-8")
  If oSFA.exists(sLog) Then oSFA.kill(sLog)
  oLog = createUnoService("com.sun.star.io.TextOutputStream")
  oLog.setOutputStream(oSFA.openFileWrite(sLog))
  oLog.setEncoding("UTF-8")
  nLine = 0
  nEmpty = 0
  Do
    sLine = WithoutLineEnd(oText.readLine())
    nLine = nLine + 1
    If sLine = "END" Then Exit Do
    If Len(sLine) = 0 Then nEmpty = nEmpty + 1 Else nEmpty = 0
    If nEmpty &gt; 1000 Then
      oLog.writeString("the job file ends without END" &amp; Chr(10))
      Exit Do
    End If
    If Len(sLine) &gt; 0 Then
      parts = Split(sLine, Chr(9))
      On Error GoTo Failed
      Select Case parts(0)
        Case "OPEN"
          oLog.writeString("# " &amp; GetSystemTicks() &amp; " open" &amp; Chr(10))
          oDoc = OpenHidden(parts(1))
          oDoc.enableAutomaticCalculation(False)
          &apos; no row-height fitting, undo recording or redraw after each entry: a cell then costs
          &apos; microseconds instead of milliseconds on a sheet of thousands of rows
          oDoc.IsAdjustHeightEnabled = False
          oDoc.UndoManager.lock()
          oDoc.lockControllers()
          oDoc.addActionLock()
          oLog.writeString("# " &amp; GetSystemTicks() &amp; " opened" &amp; Chr(10))
        Case "UNPROTECT"
          oDoc.Sheets.getByName(parts(1)).unprotect("")
        Case "DELETEROWS"
          oDoc.Sheets.getByName(parts(1)).Rows.removeByIndex(CLng(parts(2)), CLng(parts(3)))
        Case "INSERTROWS"
          oDoc.Sheets.getByName(parts(1)).Rows.insertByIndex(CLng(parts(2)), CLng(parts(3)))
        Case "type"
          oDoc.Sheets.getByName(parts(1)).getCellRangeByName(parts(2)).setFormula(Unescaped(parts(3)))
        Case "type*"
          oDoc.Sheets.getByName(parts(1)).getCellRangeByName(parts(2)).setFormulaArray(Column(parts))
        Case "text*"
          oDoc.Sheets.getByName(parts(1)).getCellRangeByName(parts(2)).setDataArray(Column(parts))
        Case "text"
          oDoc.Sheets.getByName(parts(1)).getCellRangeByName(parts(2)).setString(Unescaped(parts(3)))
        Case "clear"
          oDoc.Sheets.getByName(parts(1)).getCellRangeByName(parts(2)).clearContents(1023)
        Case "key"
          KeyIn(oDoc, parts(1), parts(2), Unescaped(parts(3)))
        Case "STORE"
          oLog.writeString("# " &amp; GetSystemTicks() &amp; " typed" &amp; Chr(10))
          oDoc.removeActionLock()
          oDoc.unlockControllers()
          oDoc.UndoManager.unlock()
          oDoc.IsAdjustHeightEnabled = True
          oDoc.enableAutomaticCalculation(True)
          oDoc.calculateAll()
          oLog.writeString("# " &amp; GetSystemTicks() &amp; " calculated" &amp; Chr(10))
          StoreXlsx(oDoc, parts(1))
          oLog.writeString("# " &amp; GetSystemTicks() &amp; " stored" &amp; Chr(10))
          oDoc.close(True)
          oDoc = Nothing
      End Select
      GoTo Next_
Failed:
      oLog.writeString("line " &amp; nLine &amp; ": " &amp; Error$ &amp; Chr(9) &amp; sLine &amp; Chr(10))
      Resume Next_
Next_:
      On Error GoTo 0
    End If
  Loop
  oText.closeInput()
  oLog.writeString("DONE" &amp; Chr(10))
  oLog.closeOutput()
End Sub

Function OpenHidden(sUrl As String) As Object
  Dim args(0) As New com.sun.star.beans.PropertyValue
  args(0).Name = "Hidden" : args(0).Value = True
  OpenHidden = StarDesktop.loadComponentFromURL(sUrl, "_blank", 0, args())
End Function

Sub StoreXlsx(oDoc As Object, sUrl As String)
  Dim args(1) As New com.sun.star.beans.PropertyValue
  args(0).Name = "FilterName" : args(0).Value = "Calc MS Excel 2007 XML"
  args(1).Name = "Overwrite" : args(1).Value = True
  oDoc.storeToURL(sUrl, args())
End Sub

Sub KeyIn(oDoc As Object, sSheet As String, sCell As String, sText As String)
  Dim oCtl As Object, oDisp As Object
  Dim args(0) As New com.sun.star.beans.PropertyValue
  oCtl = oDoc.getCurrentController()
  oCtl.setActiveSheet(oDoc.Sheets.getByName(sSheet))
  oCtl.select(oDoc.Sheets.getByName(sSheet).getCellRangeByName(sCell))
  oDisp = createUnoService("com.sun.star.frame.DispatchHelper")
  args(0).Name = "StringName" : args(0).Value = sText
  oDisp.executeDispatch(oCtl.getFrame(), ".uno:EnterString", "", 0, args())
End Sub

Function Column(parts() As String) As Variant
  &apos; the values after sheet and range, one per row of a one-column range
  Dim aRows() As Variant, i As Long, n As Long
  n = UBound(parts) - 2
  ReDim aRows(n - 1)
  For i = 0 To n - 1
    aRows(i) = Array(Unescaped(parts(i + 3)))
  Next i
  Column = aRows()
End Function

Function WithoutLineEnd(s As String) As String
  &apos; readLine keeps the line feed of a file's last line
  Do While Len(s) &gt; 0 And (Right(s, 1) = Chr(10) Or Right(s, 1) = Chr(13))
    s = Left(s, Len(s) - 1)
  Loop
  WithoutLineEnd = s
End Function

Function Unescaped(s As String) As String
  Unescaped = Replace(Replace(s, "\n", Chr(10)), "\t", Chr(9))
End Function
</script:module>
"""

_LIBRARY_INDEX = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="{_LIBRARY}" library:readonly="false" library:passwordprotected="false">
 <library:element library:name="Typing"/>
</library:library>
"""

_DIALOG_INDEX = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="{_LIBRARY}" library:readonly="false" library:passwordprotected="false"/>
"""


def _container(kind: str, libraries: Sequence[str]) -> str:
    rows = "\n".join(
        f' <library:library library:name="{name}" library:link="false"/>' for name in libraries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:libraries PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "libraries.dtd">
<library:libraries xmlns:library="http://openoffice.org/2000/library" xmlns:xlink="http://www.w3.org/1999/xlink">
{rows}
</library:libraries>
"""


@dataclass(frozen=True)
class Entry:
    """One cell entry: ``text`` as the manager's keys would produce it, entered ``how`` (see the module)."""

    sheet: str
    cell: str
    text: str = ""
    how: str = "type"

    def __post_init__(self) -> None:
        if self.how not in HOWS:
            raise ValueError(f"how must be one of {HOWS}, not {self.how!r}")
        if "\t" in self.text or "\n" in self.text or "\r" in self.text:
            raise ValueError("tabs and line breaks cannot be typed into a cell here")


@dataclass
class Job:
    """One workbook: opened from ``src``, edited in order, saved (recalculated) to ``dst``."""

    src: Path
    dst: Path
    entries: list[Entry] = field(default_factory=list)
    unprotect: tuple[str, ...] = ()
    # (sheet, first 0-based row, count): negative count deletes, positive inserts; applied after the entries
    row_moves: tuple[tuple[str, int, int], ...] = ()

    def lines(self) -> Iterable[str]:
        yield f"OPEN\t{Path(self.src).resolve().as_uri()}"
        for sheet in self.unprotect:
            yield f"UNPROTECT\t{sheet}"
        for run in _runs(self.entries):
            first = run[0]
            if len(run) == 1:
                yield f"{first.how}\t{first.sheet}\t{first.cell}\t{first.text}"
            else:  # a column of cells in one call: the same input parsing, far fewer calls
                last = _split(run[-1].cell)
                cells = f"{first.cell}:{last[0]}{last[1]}"
                yield "\t".join([f"{first.how}*", first.sheet, cells] + [e.text for e in run])
        for sheet, row, count in self.row_moves:
            yield f"{'DELETEROWS' if count < 0 else 'INSERTROWS'}\t{sheet}\t{row}\t{abs(count)}"
        yield f"STORE\t{Path(self.dst).resolve().as_uri()}"


_A1 = re.compile(r"([A-Z]+)([0-9]+)")
_BULK = ("type", "text")  # hows a one-column range can take in one call (setFormulaArray, setDataArray)


def _split(cell: str) -> tuple[str, int]:
    m = _A1.fullmatch(cell)
    if not m:
        raise ValueError(f"not a cell address: {cell!r}")
    return m.group(1), int(m.group(2))


def _runs(entries: Sequence[Entry]) -> Iterable[list[Entry]]:
    """Consecutive entries of one bulk kind going down one column, row after row, as one run."""
    run: list[Entry] = []
    for e in entries:
        if run:
            prev = run[-1]
            col, row = _split(e.cell)
            pcol, prow = _split(prev.cell)
            if e.how == prev.how and e.how in _BULK and e.sheet == prev.sheet and col == pcol and row == prow + 1:
                run.append(e)
                continue
            yield run
        run = [e]
    if run:
        yield run


class TypingError(RuntimeError):
    """LibreOffice is missing, or refused an entry, or did not write a workbook (test machinery, not a product error)."""


class TypingSession:
    """A private LibreOffice profile with the typing macro installed; :meth:`run` types a batch."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder or tempfile.mkdtemp(prefix="kpisheet-lo-typing-"))
        self.profile = self.folder / "profile"
        self._install()

    def _install(self) -> None:
        """A fresh profile first (LibreOffice's first start writes its own macro library list), then ours."""
        user = self.profile / "user"
        basic = user / "basic"
        if not (basic / "script.xlc").exists():
            soffice = find_soffice()
            if soffice is None:
                raise TypingError("LibreOffice (soffice) is not installed")
            user.mkdir(parents=True, exist_ok=True)
            # before the first start, which adds its own settings to the file
            (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
            subprocess.run([soffice, f"-env:UserInstallation={self.profile.as_uri()}", "--headless",
                            "--terminate_after_init"], capture_output=True, timeout=TIMEOUT_SECONDS)
        library = basic / _LIBRARY
        library.mkdir(parents=True, exist_ok=True)
        (library / "Typing.xba").write_text(_MODULE, encoding="utf-8")
        (library / "script.xlb").write_text(_LIBRARY_INDEX, encoding="utf-8")
        (library / "dialog.xlb").write_text(_DIALOG_INDEX, encoding="utf-8")
        (basic / "script.xlc").write_text(_container("script", ["Standard", _LIBRARY]), encoding="utf-8")
        (basic / "dialog.xlc").write_text(_container("dialog", ["Standard", _LIBRARY]), encoding="utf-8")

    def run(self, jobs: Sequence[Job], name: str = "batch") -> list[Path]:
        """Type every job in one soffice process; the saved workbooks, in job order.

        Raises :class:`TypingError` naming every entry LibreOffice refused
        and every workbook it did not write.
        """
        soffice = find_soffice()
        if soffice is None:
            raise TypingError("LibreOffice (soffice) is not installed")
        for job in jobs:
            Path(job.dst).parent.mkdir(parents=True, exist_ok=True)
            Path(job.dst).unlink(missing_ok=True)
        script = self.folder / f"{name}.jobs"
        log = self.folder / f"{name}.log"
        script.write_text("\n".join([line for job in jobs for line in job.lines()] + ["END", ""]), encoding="utf-8")
        log.unlink(missing_ok=True)
        call = f'macro:///{_LIBRARY}.Typing.RunJobs("{script.as_uri()}","{log.as_uri()}")'
        cmd = [soffice, f"-env:UserInstallation={self.profile.as_uri()}", "--headless", "--norestore", call]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        report = log.read_text(encoding="utf-8") if log.exists() else ""
        missing = [str(job.dst) for job in jobs if not Path(job.dst).exists()]
        # lines starting with # are the macro's timings; a failed line is shown up to its first 200 characters
        failures = [line[:200] for line in report.splitlines()
                    if line and line != "DONE" and not line.startswith("#")]
        if done.returncode != 0 or "DONE" not in report or failures or missing:
            raise TypingError(
                f"typing through LibreOffice failed (exit {done.returncode}): {failures[:10]} "
                f"not written: {missing[:5]} {done.stdout[-500:]} {done.stderr[-500:]}".strip())
        return [Path(job.dst) for job in jobs]


def run_parallel(folder: str | Path, jobs: Sequence[Job], processes: int = 2, name: str = "batch") -> list[Path]:
    """The jobs shared out between ``processes`` soffice processes (one profile each), run at once:
    on a machine with that many cores the wall time divides accordingly. Each process opens its own
    copy of a source workbook (LibreOffice locks a file it has open)."""
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    folder = Path(folder)
    sessions, shares = [], []
    for i in range(processes):
        session = TypingSession(folder / f"session{i}")
        copies: dict[Path, Path] = {}
        share = []
        for job in jobs[i::processes]:
            src = Path(job.src)
            if src not in copies:
                copies[src] = session.folder / "sources" / f"{len(copies)}_{src.name}"
                copies[src].parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, copies[src])
            share.append(Job(copies[src], job.dst, job.entries, job.unprotect, job.row_moves))
        sessions.append(session)
        shares.append(share)
    with ThreadPoolExecutor(max_workers=processes) as pool:
        list(pool.map(lambda pair: pair[0].run(pair[1], name), zip(sessions, shares)))
    return [Path(job.dst) for job in jobs]
