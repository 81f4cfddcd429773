"""xlwings' remote engine as a stand-in for Excel, for driving the ribbon handlers in tests.

A remote book is built from a JSON snapshot of a workbook: here, a real
``.xlsx`` on disk read with python-calamine. Handlers read the snapshot and
their writes are recorded as actions instead of changing it; :class:`Recorded`
answers what was written where (values, fills, notes, sheets, links, alerts).

The remote engine is part of xlwings PRO, free for noncommercial use. The
harness sets ``XLWINGS_LICENSE_KEY=noncommercial`` when the variable is unset and
registers the engine even if xlwings was imported before. Tests call
:func:`require_remote_engine`: they skip with the reason where the engine is
unavailable and fail under CI, where it must run.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from tests.support.environment import require

LICENSE_ENV = "XLWINGS_LICENSE_KEY"
NONCOMMERCIAL = "noncommercial"

_unavailable_reason: list[str] = []


def remote_engine_available() -> bool:
    import xlwings as xw

    if "remote" in [engine.name for engine in xw.engines]:
        return True
    os.environ.setdefault(LICENSE_ENV, NONCOMMERCIAL)
    try:
        from xlwings.pro import _xlremote
    except Exception as error:  # ImportError or xlwings' LicenseError
        _unavailable_reason[:] = [f"{type(error).__name__}: {error}"]
        return False
    xw.engines.add(xw.Engine(impl=_xlremote.engine))
    return True


def require_remote_engine() -> None:
    available = remote_engine_available()
    reason = f" ({_unavailable_reason[0]})" if _unavailable_reason else ""
    require(available, f"xlwings PRO remote engine ({LICENSE_ENV}={NONCOMMERCIAL}){reason}")


# --- building a book ------------------------------------------------------------------


def payload_value(value):
    """A python-calamine cell value as an Office.js client sends it."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00.000Z"
    if isinstance(value, dt.time):  # a bare time is a fraction of a day in Excel
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 86400
    return value


def payload_from_xlsx(path: str | Path, *, client: str = "Office.js") -> dict:
    """The remote-engine snapshot of every sheet of ``path``, values anchored at A1."""
    import xlwings as xw
    from python_calamine import CalamineWorkbook

    path = Path(path)
    book = CalamineWorkbook.from_path(str(path))
    try:
        sheets = []
        for name in book.sheet_names:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            width = max((len(row) for row in rows), default=0)
            values = [[payload_value(v) for v in row] + [""] * (width - len(row)) for row in rows]
            sheets.append({"name": name, "values": values or [[]], "pictures": [], "tables": [], "notes": []})
    finally:
        book.close()
    return {
        "version": xw.__version__,
        "client": client,
        "book": {"name": path.name, "active_sheet_index": 0},
        "names": [],
        "sheets": sheets,
    }


def book_from_xlsx(path: str | Path, *, caller: bool = True, client: str = "Office.js"):
    """A remote ``xw.Book`` of the file; with ``caller``, also what ``xw.Book.caller()`` returns."""
    import xlwings as xw

    require_remote_engine()
    book = xw.Book(json=payload_from_xlsx(path, client=client))
    if caller:
        book.set_mock_caller()
    return book


def one_cell_xlsx(path: Path, a1_text: str) -> Path:
    """A plain workbook on disk (not a team workbook) holding only ``a1_text`` in A1 of its one sheet."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = a1_text
    book.save(path)
    return path


# --- reading back what a handler did -------------------------------------------------


def a1(row: int, col: int) -> str:
    letters, col = "", col + 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


@dataclass(frozen=True)
class Alert:
    prompt: str
    title: str
    buttons: str
    mode: str


class Recorded:
    """The actions a remote book recorded, by sheet name and A1 cell.

    Sheet positions in the actions are replayed against sheet additions,
    deletions and renames, so each action is attributed to the sheet it hit.
    """

    def __init__(self, book, initial_sheets: list[str]):
        self.actions: list[dict] = list(book.json()["actions"])
        self._sheet_at: list[str | None] = []
        names = list(initial_sheets)
        for action in self.actions:
            position = action.get("sheet_position")
            self._sheet_at.append(names[position] if position is not None and position < len(names) else None)
            if action["func"] == "addSheet":
                names.insert(action["args"][0], action["args"][1])
            elif action["func"] == "sheetDelete":
                del names[position]
            elif action["func"] == "setSheetName":
                names[position] = action["args"][0]
        self.sheets = names

    def _cells(self, func: str):
        for action, sheet in zip(self.actions, self._sheet_at):
            if action["func"] == func:
                for r in range(action["row_count"]):
                    for c in range(action["column_count"]):
                        yield action, sheet, action["start_row"] + r, action["start_column"] + c, r, c

    def funcs(self) -> list[str]:
        return [action["func"] for action in self.actions]

    def values(self) -> dict[tuple[str, str], object]:
        """(sheet, A1) -> the last value written there."""
        out = {}
        for action, sheet, row, col, r, c in self._cells("setValues"):
            values = action["values"]
            out[(sheet, a1(row, col))] = values[r][c] if r < len(values) and c < len(values[r]) else None
        return out

    def fills(self) -> dict[tuple[str, str], str]:
        """(sheet, A1) -> fill colour last set on the cell, as lower-case hex ('#ffc7ce')."""
        out = {}
        for action, sheet, row, col, _, _ in self._cells("setRangeColor"):
            out[(sheet, a1(row, col))] = str(action["args"][0]).lower()
        return out

    def notes(self) -> dict[tuple[str, str], str]:
        """(sheet, A1) -> note text last added or set."""
        out = {}
        for action, sheet in zip(self.actions, self._sheet_at):
            if action["func"] in ("addNote", "setNoteText"):
                address = action["args"][0].replace("$", "")
                out[(sheet, address)] = action["args"][1]
        return out

    def hyperlinks(self) -> dict[tuple[str, str], str]:
        out = {}
        for action, sheet, row, col, _, _ in self._cells("addHyperlink"):
            out[(sheet, a1(row, col))] = action["args"][0]
        return out

    def added_sheets(self) -> list[str]:
        return [action["args"][1] for action in self.actions if action["func"] == "addSheet"]

    def alerts(self) -> list[Alert]:
        return [Alert(*action["args"][:4]) for action in self.actions if action["func"] == "alert"]

    def sheet_rows(self, sheet: str) -> dict[int, dict[int, object]]:
        """Values written to one sheet, as {row: {col: value}} (0-based)."""
        out: dict[int, dict[int, object]] = {}
        for action, name, row, col, r, c in self._cells("setValues"):
            if name == sheet:
                out.setdefault(row, {})[col] = action["values"][r][c]
        return out


def recorded(book, path_or_payload) -> Recorded:
    """What ``book`` recorded; sheet names come from the payload (or the file) it was built from."""
    if isinstance(path_or_payload, dict):
        names = [s["name"] for s in path_or_payload["sheets"]]
    else:
        from python_calamine import CalamineWorkbook

        reader = CalamineWorkbook.from_path(str(path_or_payload))
        try:
            names = list(reader.sheet_names)
        finally:
            reader.close()
    return Recorded(book, names)


def press(handlers, button: str, path: str | Path) -> Recorded:
    """Open ``path`` as the calling book, press the ribbon ``button`` and return what the handler wrote."""
    book = book_from_xlsx(path)
    handlers.on_ribbon(button)
    return recorded(book, path)
