"""The attacks of issue 13 on real team workbooks, as a careful manager with Excel (openpyxl here) makes them.

Each function reads a genuine workbook and writes the forged one beside it;
every hash a reader could recompute is recomputed (the structure fingerprint
in ``_meta`` and in the document properties), so only what kpisheet keeps
out of the file (HR's key, the roster, the accepted submission) can tell.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.packaging.custom import StringProperty

from kpisheet.validators import layout as L
from kpisheet.validators.reading.submission import read_identity
from kpisheet.validators.rulebook.model import Rulebook

_GOAL = {c.key: i + 1 for i, c in enumerate(L.GOAL_COLUMNS)}
_SCORE = {c.key: i + 1 for i, c in enumerate(L.SCORE_COLUMNS)}


def _identity(book):
    return read_identity([list(r) for r in book[L.META].iter_rows(values_only=True)], source="forgery")


def _meta_row(key: str) -> int:
    return L.META_KEYS.index(key) + 1


def _set_property(book, key: str, value: str) -> None:
    name = L.CUSTOM_PROPERTY_PREFIX + key
    props = book.custom_doc_props
    for prop in list(props.props):
        if prop.name == name:
            props.props.remove(prop)
    props.append(StringProperty(name=name, value=value))


def _refingerprint(book) -> None:
    """Recompute the (unkeyed) structure fingerprint, as anyone can, into _meta and the properties."""
    identity = _identity(book)
    fingerprint = L.structure_fingerprint(identity.rulebook_fingerprint, identity.row_map_tuples())
    book[L.META].cell(_meta_row("structure_fingerprint"), 2).value = fingerprint
    _set_property(book, "structure_fingerprint", fingerprint)


def forge_indicator(source: Path, target: Path, rulebook: Rulebook, employee_id: str, old: str, new: str,
                    actual: float | None = None) -> Path:
    """Why 1: one employee's indicator ``old`` becomes ``new`` on both sheets and in the row map, with the new
    indicator's rulebook targets (so the locked-target check is satisfied) and every hash recomputed."""
    book = openpyxl.load_workbook(source)
    entry = next(e for e in _identity(book).row_map if e.employee_id == employee_id)
    row = entry.first_row + entry.codes.index(old) + 1
    ind = rulebook.indicator(new)
    goals, scores = book[L.GOALS], book[L.SCORES]
    for sheet, columns in ((goals, _GOAL), (scores, _SCORE)):
        sheet.cell(row, columns["code"]).value = new
        sheet.cell(row, columns["indicator"]).value = ind.name_zh
    for key in ("floor", "target", "challenge"):
        goals.cell(row, _GOAL[key]).value = getattr(ind, key)
    if actual is not None:
        scores.cell(row, _SCORE["actual"]).value = actual
    meta = book[L.META]
    meta.cell(entry.meta_row + 1, 4).value = ",".join(new if c == old else c for c in entry.codes)
    _refingerprint(book)
    book.save(target)
    return target


def impersonate(source: Path, target: Path, department: str, team: str) -> Path:
    """Why 3: the file claims another team: _meta and the document properties both edited."""
    book = openpyxl.load_workbook(source)
    meta = book[L.META]
    meta.cell(_meta_row("department"), 2).value = department
    meta.cell(_meta_row("team"), 2).value = team
    _set_property(book, "department", department)
    _set_property(book, "team", team)
    book.save(target)
    return target


def list_someone_else(source: Path, target: Path, employee_id: str, stolen_id: str, *,
                      everywhere: bool = True) -> Path:
    """Why 2: ``employee_id``'s rows are relabelled ``stolen_id`` (another team's person). ``everywhere``: on every
    sheet and in the row map, hashes recomputed; else only on the summary (a broken structure as well)."""
    book = openpyxl.load_workbook(source)
    summary_cols = {c.key: i + 1 for i, c in enumerate(L.summary_columns(_rulebook()))}
    sheets = [(book[L.SUMMARY], summary_cols["employee_id"])]
    if everywhere:
        sheets += [(book[L.GOALS], _GOAL["employee_id"]), (book[L.SCORES], _SCORE["employee_id"]),
                   (book[L.META], 1)]
    for sheet, column in sheets:
        for row in range(1, sheet.max_row + 1):
            cell = sheet.cell(row, column)
            if cell.value == employee_id:
                cell.value = stolen_id
    if everywhere:
        _refingerprint(book)
    book.save(target)
    return target


def drop_signature(source: Path, target: Path) -> Path:
    """The signature cell emptied (a downgrade: 'an old, unsigned form')."""
    book = openpyxl.load_workbook(source)
    meta = book[L.META]
    meta.cell(L.META_SIGNATURE_ROW + 1, L.META_SIGNATURE_COLUMN + 1).value = None
    meta.cell(L.META_SIGNATURE_ROW + 1, L.META_SIGNATURE_COLUMN).value = None
    book.save(target)
    return target


def _rulebook() -> Rulebook:
    from kpisheet.validators.rulebook.load import default_rulebook

    return default_rulebook()
