"""No writer drops a row: a view that would exceed a worksheet's rows is refused before a byte is written."""

from __future__ import annotations

import datetime as dt

import pytest
from python_calamine import CalamineWorkbook

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.io import SHEET_MAX_ROWS, MasterTooLarge, master_tables, write_tables

NOW = dt.datetime(2026, 4, 1, 9, 0)


def log_rows(n: int) -> list[dict]:
    row = {"time": NOW, "action": "更新 update", "key": "k", "column": "c", "old": "", "new": "", "reason": "",
           "by": ""}
    return [row] * n


def test_a_sheet_at_the_limit_is_written_whole_and_one_more_row_is_refused(tmp_path, rulebook):
    data = L.empty_master()
    data.sheets[L.LOG] = log_rows(SHEET_MAX_ROWS - L.FIRST_DATA_ROW)  # header + rows = exactly the limit
    tables = [t for t in master_tables(data, rulebook) if t.name == L.LOG]
    at_limit = tmp_path / "limit.xlsx"
    write_tables(at_limit, tables, {}, rulebook)
    book = CalamineWorkbook.from_path(str(at_limit))
    assert book.get_sheet_by_name(L.LOG).height == SHEET_MAX_ROWS  # every row is there
    book.close()

    data.sheets[L.LOG] = log_rows(SHEET_MAX_ROWS)
    over = tmp_path / "over.xlsx"
    with pytest.raises(MasterTooLarge) as caught:
        write_tables(over, [t for t in master_tables(data, rulebook) if t.name == L.LOG], {}, rulebook)
    assert caught.value.exit_code == 2 and "1,048,577" in caught.value.message_en and L.LOG in caught.value.message_zh
    assert not over.exists()
