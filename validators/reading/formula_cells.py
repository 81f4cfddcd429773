"""Which cells of a sheet hold a formula, from the sheet's XML: the one thing python-calamine does not tell.

A total pasted back as a value shows the same number as the formula did, so
values alone cannot tell that the formula is gone; the sheet XML can (a
formula cell carries an ``<f>`` element, a typed value does not). Only the
sheets asked for are inflated, from bytes the guard already passed, and
scanned with one regular expression (no DOCTYPE or entity can be in them; a
parser would cost many times the scan). The sheet's name is mapped to its
part through workbook.xml and its relationships, as any reader does.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Iterable, Mapping
from xml.sax.saxutils import unescape

_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet\b([^>]*)>")
_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*["']([^"']*)["']""")
# a cell element of the given columns with its address, and whether its content starts with a formula:
# first as Excel, LibreOffice, WPS and the Python writers write it (no prefix, the address first: a literal
# start the regular-expression engine finds fast), and if that finds no cell, in any form the schema allows
_CELL_USUAL = rb"<c r=\"((?:%s)[0-9]{1,7})\"[^>]*?(/?)>(\s*<f\b)?"
_CELL = rb"<(?:[\w.-]+:)?c\b[^>]*?\br=\"((?:%s)[0-9]{1,7})\"[^>]*?(/?)>(\s*<(?:[\w.-]+:)?f\b)?"
_MAX_PART = 64 * 1024 * 1024  # the guard has bounded every member; this only keeps a broken size out


@dataclass(frozen=True)
class SheetCells:
    """The cells a sheet's XML holds: those with a formula, and those with a value but no formula."""

    formulas: frozenset[str]
    values: frozenset[str]  # present with content (a value, text) and no formula


def formula_cells(data: bytes, columns: Mapping[str, Iterable[str]]) -> dict[str, SheetCells]:
    """Sheet name -> its cells in the given columns (letters), for the named sheets found in the
    package ``data`` (already guarded). Only the columns asked for are collected: the scan stays cheap.

    A sheet that cannot be found or read is left out: nothing is concluded about it.
    """
    found: dict[str, SheetCells] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = {info.filename: info for info in archive.infolist()}
            for name, part in _sheet_parts(archive, parts).items():
                if name in columns and part in parts and parts[part].file_size <= _MAX_PART:
                    letters = sorted(set(columns[name]), key=len, reverse=True)  # AA before A
                    if letters and all(x.isalpha() and x.isupper() for x in letters):
                        alternatives = "|".join(letters).encode("ascii")
                        xml = archive.read(parts[part])
                        cells = _scan(re.compile(_CELL_USUAL % alternatives), xml)
                        if not cells.formulas and not cells.values:
                            cells = _scan(re.compile(_CELL % alternatives), xml)
                        found[name] = cells
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError):
        return found
    return found


def _attributes(raw: bytes) -> dict[bytes, bytes]:
    return {k.split(b":")[-1]: v for k, v in _ATTRIBUTE.findall(raw)}


def _sheet_parts(archive: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo]) -> dict[str, str]:
    """Sheet name -> the zip member holding it."""
    workbook = archive.read(parts["xl/workbook.xml"])
    rels = archive.read(parts["xl/_rels/workbook.xml.rels"])
    targets = {}
    for raw in _RELATIONSHIP.findall(rels):
        a = _attributes(raw)
        target = a.get(b"Target", b"").decode("utf-8", "replace")
        target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        targets[a.get(b"Id", b"")] = target
    names = {}
    for raw in _SHEET.findall(workbook):
        a = _attributes(raw)
        name = unescape(a.get(b"name", b"").decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"})
        part = targets.get(a.get(b"id", b""))
        if part:
            names[name] = part
    return names


def _scan(pattern: re.Pattern, xml: bytes) -> SheetCells:
    formulas, values = set(), set()
    for ref, empty, formula in pattern.findall(xml):
        if formula:
            formulas.add(ref.decode())
        elif not empty:
            values.add(ref.decode())
    return SheetCells(frozenset(formulas), frozenset(values))
