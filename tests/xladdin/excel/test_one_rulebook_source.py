"""A worksheet function in a cell and the buttons of the same workbook grade with the same rulebook."""

from __future__ import annotations

import shutil

import openpyxl
import yaml

import tests.support.validate_support as S
import tests.support.xlwings_remote as XR
from kpisheet.xladdin.excel import udfs
from kpisheet.xladdin.excel.book_settings import rulebook_of
from kpisheet.xladdin.master import layout as M


def strict_rulebook(tmp_path, rulebook):
    """The default rulebook with S needing 95: a total of 92 is S by default and A here."""
    data = rulebook.model_dump(mode="json")
    data["meta"]["id"] = "strict-s"
    for band in data["grades"]:
        if band["grade"] == "S":
            band["min"] = 95
    path = tmp_path / "strict.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path



def test_a_udf_and_validate_use_the_rulebook_of_the_books_settings(tmp_path, tmp_path_factory, rulebook, handlers):
    rules = strict_rulebook(tmp_path, rulebook)
    clean, _ = S.clean_workbook(tmp_path_factory)
    path = tmp_path / "team.xlsx"
    shutil.copy(clean, path)
    book = openpyxl.load_workbook(path)
    sheet = book.create_sheet(M.SETTINGS)
    label = next(item.label for item in M.SETTING_ITEMS if item.key == "rulebook")
    sheet.append([column.header for column in M.SETTINGS_COLUMNS])
    sheet.append([label, str(rules), ""])
    book.save(path)

    remote = XR.book_from_xlsx(path)
    cell = remote.sheets[0].range("A1")
    assert rulebook_of(remote, amend=False).meta.id == "strict-s"
    assert udfs.KPI_GRADE(92, caller=cell) == "A"     # the book's rulebook
    assert udfs.KPI_GRADE(92) == "S"                  # outside any book: the built-in one
    assert "strict-s" in udfs.KPI_RULEBOOK(caller=cell)

    handlers.on_ribbon("validate", remote)
    alert = XR.recorded(remote, path).alerts()[-1]
    assert "规则表 strict-s" in alert.prompt
