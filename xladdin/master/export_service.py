"""The export the faces call: a period's flat table from the record, written atomically as xlsx or csv."""

from __future__ import annotations

from pathlib import Path

from kpisheet.xladdin.kit.files import write_atomically
from kpisheet.xladdin.master.io import SHEET_MAX_ROWS, MasterTooLarge
from kpisheet.xladdin.record.export import period_frame
from kpisheet.xladdin.record.store import open_store

EXPORT_SHEET = "明细 detail"


def export_period(period: str, target: Path, fmt: str, *, master: Path | None = None, store: str | None = None) -> int:
    """Write ``period``'s flat table to ``target`` (xlsx or csv, UTF-8 with a BOM so Excel reads Chinese); rows."""
    opened = open_store(store, master=master, create=False)
    try:
        with opened.reading() as conn:
            frame = period_frame(conn, period)
    finally:
        opened.dispose()
    if fmt == "xlsx" and len(frame) + 1 > SHEET_MAX_ROWS:
        raise MasterTooLarge(f"{period} 有 {len(frame):,} 行，超过工作表上限；请用 --format csv",
                             f"{period} has {len(frame):,} rows, over a worksheet's limit; use --format csv")

    def write(temp: Path) -> None:
        if fmt == "csv":
            frame.to_csv(temp, index=False, encoding="utf-8-sig")
        else:
            with open(temp, "wb") as handle:
                frame.to_excel(handle, index=False, sheet_name=EXPORT_SHEET, engine="xlsxwriter")

    write_atomically(Path(target), write, size_hint=len(frame) * 200)
    return len(frame)
