"""Editing an xlsx package by hand, as a program other than kpisheet (or an attacker) would write it.

openpyxl refuses control characters in cells, so a cell holding one is put
into the sheet XML directly, escaped as Excel escapes it (``_x0007_``).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str:
    workbook = archive.read("xl/workbook.xml").decode("utf-8")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    match = re.search(rf'<sheet [^>]*name="{re.escape(escape(sheet))}"[^>]*r:id="(rId\d+)"', workbook)
    assert match, f"no sheet {sheet}"
    target = re.search(rf'<Relationship [^>]*Id="{match.group(1)}"[^>]*Target="([^"]+)"', rels)
    if target is None:
        target = re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{match.group(1)}"', rels)
    name = target.group(1).lstrip("/")
    return name if name.startswith("xl/") else f"xl/{name}"


def excel_escaped(text: str) -> str:
    """``text`` as Excel stores it in XML: control characters as _xHHHH_."""
    return "".join(f"_x{ord(ch):04X}_" if ord(ch) < 32 and ch not in "\t\n\r" else ch for ch in escape(text))


def put_text_cell(source: Path, target: Path, sheet: str, cell: str, text: str) -> Path:
    """A copy of ``source`` with ``sheet!cell`` holding ``text`` as an inline string."""
    with zipfile.ZipFile(source) as archive:
        part = _sheet_part(archive, sheet)
        parts = {info: archive.read(info.filename) for info in archive.infolist()}
    xml = next(data for info, data in parts.items() if info.filename == part).decode("utf-8")
    new_cell = f'<c r="{cell}" t="inlineStr"><is><t xml:space="preserve">{excel_escaped(text)}</t></is></c>'
    pattern = re.compile(rf'<c r="{cell}"(?:[^>]*/>|[^>]*>.*?</c>)', re.S)
    xml, count = pattern.subn(lambda _m: new_cell, xml, count=1)
    assert count == 1, f"{sheet}!{cell} not found"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts.items():
            out.writestr(info, xml.encode("utf-8") if info.filename == part else data)
    return target
