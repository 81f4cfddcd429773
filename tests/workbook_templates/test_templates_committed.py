"""The committed blank template is exactly what the writer builds today, and holds no one."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from kpisheet.validators import layout as L
from kpisheet.workbook_templates.build_templates import (
    BLANK_TEMPLATE, BUILT, build_blank_template, placeholder_employees,
)


def test_a_fresh_build_equals_the_committed_template(tmp_path):
    committed = BUILT / BLANK_TEMPLATE
    assert committed.is_file(), "run: python -m kpisheet.workbook_templates.build_templates"
    fresh = build_blank_template(tmp_path / BLANK_TEMPLATE)
    if fresh.read_bytes() != committed.read_bytes():
        changed = sorted(name for name, data in _members(fresh).items() if _members(committed).get(name) != data)
        pytest.fail(f"the committed template is stale (changed parts: {changed}); "
                    "rebuild it with: python -m kpisheet.workbook_templates.build_templates")


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_two_builds_are_byte_identical(tmp_path):
    """Fixed document dates and zip timestamps: what makes the comparison above meaningful."""
    first = build_blank_template(tmp_path / "a.xlsx").read_bytes()
    second = build_blank_template(tmp_path / "b.xlsx").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.xlsx") as archive:
        stamps = {info.date_time for info in archive.infolist()}
    assert len(stamps) == 1 and next(iter(stamps))[0] == 1980  # xlsxwriter's fixed stamp, not the clock


def test_the_template_has_one_placeholder_per_role_and_no_period(rulebook):
    book = openpyxl.load_workbook(BUILT / BLANK_TEMPLATE)
    assert tuple(book.sheetnames) == L.SHEET_ORDER
    ids = [book[L.SUMMARY].cell(L.FIRST_DATA_ROW + 1 + i, 1).value for i in range(len(rulebook.roles))]
    assert ids == [e.employee_id for e in placeholder_employees(rulebook)]
    assert all(i.startswith("示例") for i in ids)
    meta = book[L.META]
    values = {meta.cell(i + 1, 1).value: meta.cell(i + 1, 2).value for i in range(len(L.META_KEYS))}
    assert values["period"] in ("", None) and values["rulebook_fingerprint"] == rulebook.fingerprint()
