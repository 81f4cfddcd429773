"""Hostile and foreign files for the guard and batch tests, generated small into a folder.

Every generator takes a directory and returns the path it wrote. The bombs
are a few hundred KB on disk however far they inflate; nothing here is
committed. ``HOSTILE`` maps a name to (generator, expected finding code,
expected guard reason) for the batch tests.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
from pathlib import Path
from typing import Callable, Iterable

MB = 1024 * 1024

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">'


def good_xlsx(directory: Path, name: str = "good.xlsx") -> Path:
    """An ordinary small workbook (xlsxwriter): two sheets of text, numbers and formulas."""
    import xlsxwriter

    path = Path(directory) / name
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("考核评分")
    sheet.write_row(0, 0, ["工号", "指标", "实际值", "得分"])
    for row in range(1, 40):
        sheet.write_row(row, 0, [f"E{1000 + row}", "CSAT", 0.9 + row / 1000])
        sheet.write_formula(row, 3, f"=C{row + 1}*100", None, (0.9 + row / 1000) * 100)
    book.add_worksheet("汇总").write(0, 0, "总分")
    book.close()
    return path


def workbook_parts(sheet_xml: bytes, shared_strings: bytes | None = None, *,
                   content_types_extra: str = "", main_type: str | None = None,
                   sheet_name: str = "考核评分") -> dict[str, bytes]:
    """The parts of a minimal one-sheet xlsx, written by hand."""
    main_type = main_type or "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    sst_type = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                'officedocument.spreadsheetml.sharedStrings+xml"/>') if shared_strings is not None else ""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main_type}"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            f'officedocument.spreadsheetml.worksheet+xml"/>{sst_type}{content_types_extra}</Types>').encode(),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>').encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><sheets>'
            f'<sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>').encode(),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            + ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
               'relationships/sharedStrings" Target="sharedStrings.xml"/>' if shared_strings is not None else "")
            + "</Relationships>").encode(),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
    return parts


def write_zip(path: Path, parts: dict[str, bytes | Callable[[], Iterable[bytes]]], level: int = 6) -> Path:
    """A deflated zip; a part given as a callable is streamed chunk by chunk (for bombs)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, content in parts.items():
            if callable(content):
                with archive.open(name, "w") as out:
                    for chunk in content():
                        out.write(chunk)
            else:
                archive.writestr(name, content)
    return path


def cell_sheet(cells: str, dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f"{SHEET_HEAD}{dim}<sheetData>{cells}</sheetData></worksheet>".encode()


def far_corner_xlsx(directory: Path, declare: bool = True, name: str = "far_corner.xlsx",
                    sheet_name: str = "考核评分") -> Path:
    """Cells A1 and XFD1048576: a few KB that make python-calamine allocate ~512 GB and abort."""
    cells = ('<row r="1"><c r="A1"><v>1</v></c></row>'
             '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>')
    return write_zip(Path(directory) / name, workbook_parts(
        cell_sheet(cells, "A1:XFD1048576" if declare else "A1"), sheet_name=sheet_name))


def whitespace_bomb(directory: Path, inflated_mb: int = 64, name: str = "whitespace_bomb.xlsx") -> Path:
    """A sheet padded with whitespace: ~64 MB inflated from a few hundred KB (ratio ~1000:1)."""
    def content() -> Iterable[bytes]:
        yield SHEET_HEAD.encode() + b"<sheetData>"
        for _ in range(inflated_mb):
            yield b" " * MB
        yield b"</sheetData></worksheet>"
    return write_zip(Path(directory) / name, workbook_parts(b"") | {"xl/worksheets/sheet1.xml": content})


def dense_cells_bomb(directory: Path, inflated_mb: int = 96) -> Path:
    """Rows of numeric cells without r attributes, repeated: millions of cells from a few hundred KB."""
    row = b"<row>" + b'<c t="n"><v>1</v></c>' * 100 + b"</row>"
    block = row * (MB // len(row))

    def content() -> Iterable[bytes]:
        yield SHEET_HEAD.encode() + b"<sheetData>"
        for _ in range(inflated_mb):
            yield block
        yield b"</sheetData></worksheet>"
    return write_zip(Path(directory) / "dense_cells_bomb.xlsx", workbook_parts(b"") | {"xl/worksheets/sheet1.xml": content})


def unreferenced_cells_flood(directory: Path, rows: int = 2_400) -> Path:
    """360,000 cells without r in rows that all restart at r="1": a tiny extent, a long placement scan.

    Compressed only ~100:1, so the ratio limit does not catch it.
    """
    row = b'<row r="1">' + b'<c t="n"><v>7</v></c>' * 150 + b"</row>"

    def content() -> Iterable[bytes]:
        yield SHEET_HEAD.encode() + b"<sheetData>"
        for _ in range(rows // 100):
            yield row * 100
        yield b"</sheetData></worksheet>"
    return write_zip(Path(directory) / "unreferenced_cells_flood.xlsx",
                     workbook_parts(b"") | {"xl/worksheets/sheet1.xml": content}, level=1)


def lying_sizes_xlsx(directory: Path, inflated_mb: int = 48, declared: int = 1000) -> Path:
    """A sheet that declares ``declared`` bytes in both zip headers but inflates to ``inflated_mb`` MB."""
    path = whitespace_bomb(directory, inflated_mb, name="honest_sizes.xlsx")
    target = Path(directory) / "lying_sizes.xlsx"
    data = bytearray(path.read_bytes())
    path.unlink()
    patch_declared_size(data, "xl/worksheets/sheet1.xml", declared)
    target.write_bytes(bytes(data))
    return target


def patch_declared_size(data: bytearray, member: str, size: int) -> None:
    """Overwrite a member's uncompressed size in its local header and its central-directory entry."""
    name = member.encode()
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    end = data.rfind(b"PK\x05\x06")
    offset = struct.unpack_from("<I", data, end + 16)[0]
    while data[offset:offset + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, offset + 28)
        if bytes(data[offset + 46:offset + 46 + name_len]) == name:
            struct.pack_into("<I", data, offset + 24, size)
            return
        offset += 46 + name_len + extra_len + comment_len
    raise KeyError(member)


_LAUGHS = b"".join(
    b'<!ENTITY lol%d "%s">' % (level, b"".join(b"&lol%d;" % (level - 1) for _ in range(10)) if level else b"lol")
    for level in range(10))


def billion_laughs_xlsx(directory: Path) -> Path:
    """Nested entities in sharedStrings.xml: 10^9 'lol's for a parser that expands them."""
    sst = (b'<?xml version="1.0"?><!DOCTYPE sst [' + _LAUGHS + b']><sst xmlns="' + NS_MAIN.encode()
           + b'" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>')
    sheet = cell_sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', "A1")
    return write_zip(Path(directory) / "billion_laughs.xlsx", workbook_parts(sheet, sst))


def external_entity_xlsx(directory: Path) -> Path:
    """An external entity in sharedStrings.xml that would read a local file."""
    sst = (b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><sst xmlns="'
           + NS_MAIN.encode() + b'" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>')
    sheet = cell_sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', "A1")
    return write_zip(Path(directory) / "external_entity.xlsx", workbook_parts(sheet, sst))


def encrypted_xlsx(directory: Path) -> Path:
    """A good workbook encrypted with an open password (Office agile encryption, msoffcrypto-tool)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    source = good_xlsx(directory, "plain_for_encryption.xlsx")
    target = Path(directory) / "encrypted.xlsx"
    with source.open("rb") as plain, target.open("wb") as out:
        OOXMLFile(plain).encrypt("kpi-2026", out)
    source.unlink()
    return target


def biff8_workbook_stream() -> bytes:
    """A minimal BIFF8 workbook globals stream: BOF, EOF."""
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x2775, 0x07CD, 0, 0x0206)
    return bof + struct.pack("<HH", 0x000A, 0)


def xls_renamed(directory: Path) -> Path:
    """A legacy .xls (OLE2 compound file with a BIFF8 Workbook stream) saved as .xlsx."""
    from kpisheet.xladdin.addin.compound_file import build

    path = Path(directory) / "legacy_xls.xlsx"
    path.write_bytes(build({("Workbook",): biff8_workbook_stream()}))
    return path


def xlsb_renamed(directory: Path) -> Path:
    """An .xlsb: a zip whose workbook part is xl/workbook.bin (enough to classify)."""
    return write_zip(Path(directory) / "binary_xlsb.xlsx", {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                               b'2006/content-types"><Override PartName="/xl/workbook.bin" ContentType="application/'
                               b'vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>',
        "xl/workbook.bin": b"\x83\x01\x00\x84\x01\x00",
        "xl/worksheets/sheet1.bin": b"\x81\x01\x00",
    })


def ods_renamed(directory: Path) -> Path:
    """An OpenDocument spreadsheet by hand: 'mimetype' stored first, then content.xml."""
    path = Path(directory) / "opendocument.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", b'<?xml version="1.0"?><office:document-content xmlns:office='
                                        b'"urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>',
                         zipfile.ZIP_DEFLATED)
    return path


def csv_renamed(directory: Path) -> Path:
    path = Path(directory) / "export_csv.xlsx"
    path.write_text("工号,姓名,实际值\nE1001,张伟,0.95\nE1002,李娜,0.91\n", encoding="utf-8-sig")
    return path


def truncated_xlsx(directory: Path) -> Path:
    """A good workbook cut in half, as an interrupted copy leaves it."""
    source = good_xlsx(directory, "whole_for_truncation.xlsx")
    data = source.read_bytes()
    source.unlink()
    path = Path(directory) / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def empty_file(directory: Path) -> Path:
    path = Path(directory) / "empty.xlsx"
    path.write_bytes(b"")
    return path


def xlsm_renamed(directory: Path) -> Path:
    """A macro-bearing workbook: xl/vbaProject.bin and the macro-enabled content type."""
    sheet = cell_sheet('<row r="1"><c r="A1"><v>42</v></c></row>', "A1")
    parts = workbook_parts(sheet, main_type="application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                           content_types_extra='<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>')
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    return write_zip(Path(directory) / "macros.xlsm", parts)


def lock_file(directory: Path, of: str = "good.xlsx") -> Path:
    """Excel's owner file for ``of``: a length byte, the user name padded to 54 bytes, then UTF-16."""
    user = b"zhangwei"
    wide = "zhangwei".encode("utf-16-le")
    content = bytes([len(user)]) + user.ljust(53, b" ") + b"\x08\x00" + wide + b" \x00" * ((110 - len(wide)) // 2)
    path = Path(directory) / f"~${of}"
    path.write_bytes(content)
    return path


def random_binary(directory: Path, size: int = 4096) -> Path:
    data = random.Random(2026).randbytes(size)
    path = Path(directory) / "random.xlsx"
    path.write_bytes(b"\x13\x37" + data[2:])  # never a zip or OLE signature by chance
    return path


def sheet_part(parts: dict[str, bytes], sheet: str | int) -> str:
    """The member holding a sheet (by name, or by position from 1), found through the workbook's relationships."""
    import re

    workbook = parts["xl/workbook.xml"].decode()
    entries = re.findall(r'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"', workbook)
    rel_id = entries[sheet - 1][1] if isinstance(sheet, int) else next(r for name, r in entries if name == sheet)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'<Relationship\b[^>]*?Id="{rel_id}"[^>]*?Target="([^"]*)"', rels) or \
        re.search(rf'<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="{rel_id}"', rels)
    name = target.group(1)
    return name.lstrip("/") if name.startswith("/") else f"xl/{name}"


def read_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def edit_sheet(source: Path, target: Path, sheet: str | int, edit: Callable[[bytes], bytes]) -> Path:
    """``source`` with one sheet's XML passed through ``edit``, written to ``target``."""
    parts = read_parts(source)
    name = sheet_part(parts, sheet)
    parts[name] = edit(parts[name])
    return write_zip(target, parts)


def move_sheet_part(source: Path, target: Path, new_name: str = "xl/foo.bin", sheet: str | int = 1,
                    edit: Callable[[bytes], bytes] = lambda xml: xml) -> Path:
    """``source`` with one sheet's part stored at ``new_name`` (the workbook's relationship follows it) and
    its XML passed through ``edit``: a reader follows the relationship, a guard that looks only at
    xl/worksheets/*.xml does not."""
    import re

    parts = read_parts(source)
    old = sheet_part(parts, sheet)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    relative = new_name[len("xl/"):] if new_name.startswith("xl/") else "/" + new_name
    old_relative = re.escape(old[len("xl/"):])
    rels, count = re.subn(rf'Target="(?:/xl/)?{old_relative}"', f'Target="{relative}"', rels)
    assert count == 1, "the workbook must name the sheet part once"
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    body = edit(parts.pop(old))
    folder, name = old.rsplit("/", 1)
    sheet_rels = parts.pop(f"{folder}/_rels/{name}.rels", None)
    parts[new_name] = body
    if sheet_rels is not None:  # the sheet's own relationships (comments, drawings) move along
        folder, name = new_name.rsplit("/", 1)
        parts[f"{folder}/_rels/{name}.rels"] = sheet_rels
    return write_zip(target, parts)


def add_far_cell(xml: bytes, ref: str = "XFD2500", value: str = "1") -> bytes:
    """A sheet's XML with one more cell holding a number at ``ref`` (in a row of its own, after the others)."""
    row = int("".join(ch for ch in ref if ch.isdigit()))
    return xml.replace(b"</sheetData>", f'<row r="{row}"><c r="{ref}"><v>{value}</v></c></row></sheetData>'.encode(), 1)


def add_doctype(xml: bytes) -> bytes:
    """A sheet's XML with an entity declaration in its prolog."""
    head, rest = xml.split(b"?>", 1) if xml.startswith(b"<?xml") else (b'<?xml version="1.0"', xml)
    return head + b'?><!DOCTYPE worksheet [<!ENTITY lol "lol">]>' + rest.lstrip()


def moved_sheet_far_cell(directory: Path) -> Path:
    """A sheet stored at xl/foo.bin holding a number at XFD2500: python-calamine would allocate ~1.3 GB."""
    source = good_xlsx(directory, "moved_source.xlsx")
    moved = move_sheet_part(source, Path(directory) / "moved_sheet_far_cell.xlsx", edit=add_far_cell)
    source.unlink()
    return moved


def moved_sheet_doctype(directory: Path) -> Path:
    """A sheet stored at xl/sheet.dat with a DOCTYPE in its prolog."""
    source = good_xlsx(directory, "moved_source_dtd.xlsx")
    moved = move_sheet_part(source, Path(directory) / "moved_sheet_doctype.xlsx", new_name="xl/sheet.dat",
                            edit=add_doctype)
    source.unlink()
    return moved


def duplicated_cell_xlsx(directory: Path) -> Path:
    """A sheet listing B2 twice: a reader keeps the later value."""
    cells = '<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="B2"><v>82.1</v></c><c r="B2"><v>74.72</v></c></row>'
    return write_zip(Path(directory) / "duplicated_cell.xlsx", workbook_parts(cell_sheet(cells, "A1:B2")))


def out_of_order_xlsx(directory: Path) -> Path:
    """A sheet whose rows come back to row 1 after row 2."""
    cells = '<row r="2"><c r="A2"><v>2</v></c></row><row r="1"><c r="A1"><v>1</v></c></row>'
    return write_zip(Path(directory) / "out_of_order.xlsx", workbook_parts(cell_sheet(cells, "A1:A2")))


def case_twins_xlsx(directory: Path) -> Path:
    """Two members whose names differ only in case: readers match names case-insensitively, in no stated order."""
    parts = workbook_parts(cell_sheet('<row r="1"><c r="A1"><v>1</v></c></row>', "A1"))
    parts["XL/Worksheets/Sheet1.xml"] = cell_sheet('<row r="1"><c r="A1"><v>2</v></c></row>', "A1")
    return write_zip(Path(directory) / "case_twins.xlsx", parts)


def mutants(source: Path, directory: Path, count: int, seed: int = 2026) -> list[Path]:
    """``count`` seeded mutants of ``source``: far references, repeated and reordered cells, byte flips,
    truncated, renamed and missing parts, DOCTYPEs, error values, cells without r, prefixed cells, junk
    relationship targets, and bytes flipped in the compressed archive itself."""
    import re

    rng = random.Random(seed)
    base = read_parts(source)
    made = []
    for i in range(count):
        parts = dict(base)
        for _ in range(rng.randrange(1, 4)):
            parts = _mutate(rng, parts, re)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, body in parts.items():
                archive.writestr(name, body)
        data = bytearray(buffer.getvalue())
        if rng.random() < 0.2:
            for _ in range(rng.randrange(1, 5)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        path = Path(directory) / f"mutant_{i:04d}.xlsx"
        path.write_bytes(bytes(data))
        made.append(path)
    return made


def _mutate(rng: random.Random, parts: dict[str, bytes], re) -> dict[str, bytes]:
    name = rng.choice(list(parts))
    body = parts[name]
    kind = rng.randrange(12)
    if kind == 0:
        refs = re.findall(rb'r="[A-Z]+\d+"', body)
        if refs:
            far = f'r="{rng.choice(["XFD", "GS", "ZZ", "A"])}{rng.choice([1, 99999, 100001, 1048576])}"'
            body = body.replace(rng.choice(refs), far.encode(), 1)
    elif kind == 1:
        cells = re.findall(rb"<c [^>]*?(?:/>|>.*?</c>)", body, re.S)
        if cells:
            cell = rng.choice(cells)
            body = body.replace(cell, cell + cell, 1)
    elif kind == 2:
        flipped = bytearray(body)
        for _ in range(rng.randrange(1, 10)):
            if flipped:
                flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        body = bytes(flipped)
    elif kind == 3:
        body = body[:rng.randrange(len(body) + 1)]
    elif kind == 4:
        body = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]>' + body.split(b"?>", 1)[-1]
    elif kind == 5:
        new = rng.choice(["xl/foo.bin", "XL/Worksheets/Sheet1.xml", "x/y.dat", name.upper()])
        parts = {k: v for k, v in parts.items() if k != name}
        parts[new] = body
        if rng.random() < 0.7:
            old_target, new_target = name.split("/", 1)[-1].encode(), (
                new.split("/", 1)[-1].encode() if new.startswith("xl/") else b"/" + new.encode())
            for key in [k for k in parts if k.endswith(".rels")]:
                parts[key] = parts[key].replace(old_target, new_target)
        return parts
    elif kind == 6:
        body = re.sub(rb' r="[A-Z]+\d+"', b"", body, count=rng.randrange(1, 500))
    elif kind == 7:
        body = re.sub(rb'(<c r="[A-Z]+\d+")', rb'\1 t="e"', body, count=rng.randrange(1, 20))
    elif kind == 8:
        return {k: v for k, v in parts.items() if k != name}
    elif kind == 9:
        rows = re.findall(rb"<row [^>]*>.*?</row>", body, re.S)
        if len(rows) > 2:
            first, second = rng.sample(rows, 2)
            body = body.replace(first, b"\x00SWAP\x00", 1).replace(second, first, 1).replace(b"\x00SWAP\x00", second, 1)
    elif kind == 10:
        for key in [k for k in parts if k.endswith("workbook.xml.rels")]:
            junk = rng.choice([b'Target="../../etc/passwd"', b'Target="/"', b'Target="worksheets/sheet1.xml"',
                               b'Target="&amp;x"'])
            parts[key] = re.sub(rb'Target="[^"]*"', junk, parts[key], count=1)
        return parts
    else:
        body = body.replace(b"<c ", b"<x:c ", rng.randrange(1, 50))
    parts[name] = body
    return parts


# name -> (generator, finding code, guard reason)
HOSTILE: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "whitespace_bomb": (whitespace_bomb, "file-too-large", "zip-ratio"),
    "dense_cells_bomb": (dense_cells_bomb, "file-too-large", "zip-ratio"),
    "lying_sizes": (lying_sizes_xlsx, "file-too-large", "size-lie"),
    "unreferenced_cells_flood": (unreferenced_cells_flood, "file-too-large", "cells"),
    "far_corner": (far_corner_xlsx, "file-too-large", "extent"),
    "far_corner_undeclared": (lambda d: far_corner_xlsx(d, declare=False, name="far_corner_undeclared.xlsx"),
                              "file-too-large", "extent"),
    "moved_sheet_far_cell": (moved_sheet_far_cell, "file-too-large", "extent"),
    "moved_sheet_doctype": (moved_sheet_doctype, "file-unreadable", "entities"),
    "duplicated_cell": (duplicated_cell_xlsx, "file-cell-order", "cell-order"),
    "out_of_order": (out_of_order_xlsx, "file-cell-order", "cell-order"),
    "case_twins": (case_twins_xlsx, "file-unreadable", "ambiguous"),
    "billion_laughs": (billion_laughs_xlsx, "file-unreadable", "entities"),
    "external_entity": (external_entity_xlsx, "file-unreadable", "entities"),
    "encrypted": (encrypted_xlsx, "file-encrypted", "encrypted"),
    "xls": (xls_renamed, "file-wrong-format", "wrong-format"),
    "xlsb": (xlsb_renamed, "file-wrong-format", "wrong-format"),
    "ods": (ods_renamed, "file-wrong-format", "wrong-format"),
    "csv": (csv_renamed, "file-wrong-format", "wrong-format"),
    "truncated": (truncated_xlsx, "file-unreadable", "truncated"),
    "empty": (empty_file, "file-unreadable", "empty"),
    "xlsm": (xlsm_renamed, "file-has-macros", "macros"),
    "lock": (lock_file, "file-lock", "lock"),
    "random": (random_binary, "file-wrong-format", "wrong-format"),
}


def make_all(directory: Path) -> dict[str, Path]:
    """Every hostile file of :data:`HOSTILE` in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return {name: generator(directory) for name, (generator, _, _) in HOSTILE.items()}


# --- per-file functions for run_isolated tests (module level, so workers can import them) ---


def guarded_read_sheets(path: str) -> dict:
    """Like :func:`guarded_read` but reading only two named sheets, as validation reads a few."""
    from kpisheet.validators.reading.safe_read import read_workbook

    result = read_workbook(path, ("考核评分", "_meta"))
    return {"codes": [f.code for f in result.findings], "read": result.read}


def guarded_read(path: str) -> dict:
    """Guard and read one file in a worker; report codes, reasons, timing and the worker's peak memory."""
    import resource
    import time

    from kpisheet.validators.reading.guard import guard_file
    from kpisheet.validators.reading.safe_read import read_workbook

    started = time.perf_counter()
    verdict = guard_file(path)
    guard_seconds = time.perf_counter() - started
    result = read_workbook(path)
    return {
        "codes": [f.code for f in result.findings],
        "reasons": list(verdict.reasons),
        "read": result.read,
        "guard_seconds": guard_seconds,
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def abort_on_marker(path: str) -> dict:
    """Like :func:`guarded_read`, but the worker dies (SIGABRT) on a file whose name holds 'CRASH'."""
    if "CRASH" in os.path.basename(path):
        os.abort()
    return guarded_read(path)


def sleep_on_marker(path: str) -> dict:
    """Like :func:`guarded_read`, but hangs for a minute on a file whose name holds 'SLOW'."""
    import time

    if "SLOW" in os.path.basename(path):
        time.sleep(60)
    return guarded_read(path)


_SETTING: list[str] = []


def remember_setting(value: str) -> None:
    """A worker initializer that keeps ``value`` for :func:`read_setting` (as validation keeps its rulebook)."""
    _SETTING.append(value)


def read_setting(path: str) -> str:
    assert len(_SETTING) == 1, "the initializer must run exactly once per worker"
    return _SETTING[0]


def die_at_start(*_args) -> None:
    """A worker initializer that exits at once: a pool whose workers can never run."""
    os._exit(3)


def raise_value_error(path: str) -> None:
    """A per-file function with a bug."""
    raise ValueError(f"boom on {os.path.basename(path)}")


def unguarded_calamine(path: str) -> int:
    """Hand the file straight to python-calamine, as a careless reader would (may kill the worker)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(path)
    return sum(len(book.get_sheet_by_name(name).to_python()) for name in book.sheet_names)

