"""What a workbook's package says about itself, beyond its cells: was it calculated, and its identity properties.

Cached formula results are only worth comparing when a spreadsheet program
calculated them. openpyxl and xlsxwriter write ``fullCalcOnLoad="1"`` (and
openpyxl keeps no cached values at all); Excel in manual mode may save stale
ones. The custom document properties carry the identity of ``_meta`` through
any re-save (see :mod:`kpisheet.validators.layout`).

Only small parts are read (workbook.xml, docProps), as the guard already
inflated and checked them (:class:`kpisheet.validators.reading.guard.GuardedPackage`):
no DOCTYPE or entity declaration can be in them, so plain regular expressions
over their text are safe and much cheaper than a parser.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import unescape

from kpisheet.validators.layout import CUSTOM_PROPERTY_PREFIX
from kpisheet.validators.names import clean_text
from kpisheet.validators.reading.guard import GuardedPackage

_CALC_PR = re.compile(rb"<(?:[\w.-]+:)?calcPr\b([^>]*)>")
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*["']([^"']*)["']""")
_APPLICATION = re.compile(rb"<(?:[\w.-]+:)?Application>([^<]*)<")
_PROPERTY = re.compile(
    rb"""<(?:[\w.-]+:)?property\b[^>]*?\bname\s*=\s*["']([^"']*)["'][^>]*>\s*<(?:[\w.-]+:)?lpwstr>([^<]*)<""")
# docProps/core.xml: when and by whom the workbook was last saved (orders two drafts of one team)
_MODIFIED = re.compile(rb"<(?:[\w.-]+:)?modified\b[^>]*>([^<]*)<")
_MODIFIED_BY = re.compile(rb"<(?:[\w.-]+:)?lastModifiedBy\b[^>]*>([^<]*)<")
_MAX_PART = 4 * 1024 * 1024  # these parts are a few KB; anything bigger is not read
# Writers that never calculate formulas: their cached results are placeholders.
_NON_CALCULATING = (b"openpyxl", b"xlsxwriter")


@dataclass(frozen=True)
class WorkbookFacts:
    calculated: bool  # cached formula results were computed by a spreadsheet program
    application: str = ""
    properties: dict[str, str] = field(default_factory=dict)  # kpisheet custom properties, prefix removed
    saved_at: str = ""     # docProps/core.xml dcterms:modified, as written (W3CDTF, usually UTC "...Z")
    saved_by: str = ""     # docProps/core.xml cp:lastModifiedBy


def workbook_facts(source: GuardedPackage | bytes) -> WorkbookFacts:
    """Facts from a guarded package (or an xlsx archive's bytes); unknown facts default to 'not calculated'."""
    if isinstance(source, GuardedPackage):
        workbook, app, custom, core = (part[:_MAX_PART] for part in (source.workbook, source.app, source.custom,
                                                                      source.core))
    else:
        try:
            with zipfile.ZipFile(io.BytesIO(source)) as archive:
                parts = {info.filename: info for info in archive.infolist()}
                workbook = _part(archive, parts, "xl/workbook.xml")
                app = _part(archive, parts, "docProps/app.xml")
                custom = _part(archive, parts, "docProps/custom.xml")
                core = _part(archive, parts, "docProps/core.xml")
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return WorkbookFacts(calculated=False)
    match = _APPLICATION.search(app)
    application = match.group(1) if match else b""
    return WorkbookFacts(
        calculated=_calculated(workbook, application),
        application=_text(application),
        properties=_properties(custom),
        saved_at=_first(_MODIFIED, core),
        saved_by=_first(_MODIFIED_BY, core),
    )


def saved_by_of(path) -> tuple[str, str]:
    """(saved at, saved by) from docProps/core.xml of the package at ``path`` ('' when unknown)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = {info.filename: info for info in archive.infolist()}
            core = _part(archive, parts, "docProps/core.xml")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "", ""
    return _first(_MODIFIED, core), _first(_MODIFIED_BY, core)


def _first(pattern: re.Pattern[bytes], part: bytes) -> str:
    match = pattern.search(part)
    return _text(match.group(1)) if match else ""


def _part(archive: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], name: str) -> bytes:
    info = parts.get(name)
    if info is None or info.file_size > _MAX_PART:
        return b""
    return archive.read(info)


def _calculated(workbook: bytes, application: bytes) -> bool:
    if any(writer in application.lower() for writer in _NON_CALCULATING):
        return False
    match = _CALC_PR.search(workbook)
    attributes = {k.split(b":")[-1]: v for k, v in _ATTRIBUTE.findall(match.group(1))} if match else {}
    if attributes.get(b"fullCalcOnLoad", b"").lower() in (b"1", b"true"):
        return False  # the writer asked the next program to calculate: nothing cached is a result
    if attributes.get(b"calcMode", b"").lower() == b"manual":
        return False  # saved without recalculating: results may be stale
    return True


def _properties(custom: bytes) -> dict[str, str]:
    found = {}
    for name, value in _PROPERTY.findall(custom):
        key = _text(name)
        if key.startswith(CUSTOM_PROPERTY_PREFIX):
            found[key[len(CUSTOM_PROPERTY_PREFIX):]] = _text(value)
    return found


def _text(raw: bytes) -> str:
    # identities are compared with _meta's, which the submission reader cleans the same way
    return clean_text(unescape(raw.decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"})).strip()
