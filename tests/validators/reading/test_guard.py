"""The pre-read guard: each hostile or foreign file refused with its named finding, good files let through."""

from __future__ import annotations

import io
import timeit
import zipfile
from pathlib import Path

import pytest

from tests.support import hostile
from tests.support.hostile import HOSTILE, cell_sheet, workbook_parts, write_zip
from kpisheet.validators.reading.guard import (
    DEFAULT_LIMITS, GuardLimits, column_number, guard_bytes, guard_file,
)
from kpisheet.validators.reading.sheet_scan import cell_ref


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


def test_an_ordinary_workbook_passes_with_no_findings(tmp_path):
    result = guard_file(hostile.good_xlsx(tmp_path))
    assert result.readable and result.findings == () and result.detected.kind == "xlsx"


def test_a_kpisheet_team_workbook_passes(tmp_path, rulebook):
    from kpisheet.workbook_templates.filler import make_employees
    from kpisheet.workbook_templates.team_workbook import build_team_workbook

    path = build_team_workbook(tmp_path / "team.xlsx", rulebook, "2026-Q2", "售后服务部", "测试组",
                               make_employees(12, seed=1))
    result = guard_file(path)
    assert result.readable and result.findings == ()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_file_gets_its_named_finding(tmp_path, name):
    generator, code, reason = HOSTILE[name]
    path = generator(tmp_path)
    started = timeit.default_timer()
    result = guard_file(path)
    elapsed = timeit.default_timer() - started
    assert codes(result) == [code]
    assert result.reasons == (reason,)
    assert result.readable == (code == "file-has-macros")  # macro files: values are still read
    assert elapsed < 2.0
    finding = result.findings[0]
    assert finding.sheet is None and finding.cell is None
    assert finding.message_zh and finding.message_en and finding.hint


def test_the_far_corner_file_is_small_and_the_message_names_sheet_and_limit(tmp_path):
    path = hostile.far_corner_xlsx(tmp_path, declare=False)
    assert path.stat().st_size < 7 * 1024
    finding = guard_file(path).findings[0]
    assert "考核评分" in finding.message_zh and "1,048,576" in finding.message_zh and "16,384" in finding.message_en
    assert "100,000" in finding.message_en and "200" in finding.message_en


def test_far_cells_are_found_however_the_xml_spells_them(tmp_path):
    # r not first, single quotes, spaces around '=', a namespace prefix, tabs: readers accept them all
    spellings = [
        '<row r="1"><c s="0" r="A1"><v>1</v></c></row><row r="2"><c s="0" r="XFD2"><v>2</v></c></row>',
        "<row r='1'><c r='A1'><v>1</v></c><c r='XFD1'><v>2</v></c></row>",
        '<row r = "1"><c r = "A1"><v>1</v></c><c r = "ZZ1"><v>2</v></c></row>',
        '<x:row r="1" xmlns:x="urn:x"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="AAA1"><x:v>2</x:v></x:c></x:row>',
        '<row\tr="1"><c\tr="A1"><v>1</v></c><c\tr="A200000"><v>2</v></c></row>',
    ]
    for i, cells in enumerate(spellings):
        path = write_zip(tmp_path / f"spelling{i}.xlsx", workbook_parts(cell_sheet(cells, "A1")))
        result = guard_file(path)
        assert result.reasons == ("extent",), cells


def test_cells_without_r_take_the_next_position_as_a_reader_counts_them(tmp_path):
    wide_row = '<row r="1">' + "<c><v>1</v></c>" * 250 + "</row>"
    path = write_zip(tmp_path / "implied_columns.xlsx", workbook_parts(cell_sheet(wide_row, "A1")))
    assert guard_file(path).reasons == ("extent",)
    # a jump by row r, then rows without r counting on from it
    rows = '<row r="99999"><c><v>1</v></c></row>' + "<row><c><v>1</v></c></row>" * 3
    path = write_zip(tmp_path / "implied_rows.xlsx", workbook_parts(cell_sheet(rows, "A1")))
    assert guard_file(path).reasons == ("extent",)
    # the same shapes within the limits pass
    ok = '<row r="1">' + "<c><v>1</v></c>" * 150 + "</row>" + "<row><c><v>1</v></c></row>" * 3
    path = write_zip(tmp_path / "implied_ok.xlsx", workbook_parts(cell_sheet(ok, "A1")))
    assert guard_file(path).readable


def test_the_number_of_cells_is_bounded_even_where_they_overlap():
    stacked = '<row r="1">' + '<c r="A1"><v>1</v></c>' * 1_001 + "</row>"  # all on A1: extent 1, 1001 cells
    result = guard_bytes(_zip_bytes(workbook_parts(cell_sheet(stacked, "A1"))), "x.xlsx", GuardLimits(max_cells=1_000))
    assert result.reasons == ("cells",)
    unreferenced = '<row r="1">' + "<c><v>1</v></c>" * 101 + "</row>"
    small = GuardLimits(max_slow_scan_cells=100)
    result = guard_bytes(_zip_bytes(workbook_parts(cell_sheet(unreferenced, "A1"))), "x.xlsx", small)
    assert result.reasons == ("cells",) and "101" in result.findings[0].message_en
    prefixed = '<x:row r="1">' + "".join(f'<x:c r="{cell_ref(1, c)}"><x:v>1</x:v></x:c>' for c in range(1, 102)) + "</x:row>"
    assert guard_bytes(_zip_bytes(workbook_parts(cell_sheet(prefixed, "A1"))), "x.xlsx", small).readable


def test_row_and_column_limits_are_exact(tmp_path):
    limits = GuardLimits(max_rows=100, max_columns=10)
    at_limit = '<row r="100"><c r="J100"><v>1</v></c></row>'
    over_rows = '<row r="101"><c r="J101"><v>1</v></c></row>'
    over_columns = '<row r="100"><c r="K100"><v>1</v></c></row>'
    for cells, readable in ((at_limit, True), (over_rows, False), (over_columns, False)):
        result = guard_bytes(_zip_bytes(workbook_parts(cell_sheet(cells))), "x.xlsx", limits)
        assert result.readable is readable, cells


def test_a_declared_dimension_or_empty_far_rows_and_cells_do_not_count():
    """What LibreOffice leaves after a row is deleted (an empty row 1048576, the range A1:Q1048576) and what
    Excel writes for formatted empty cells are read by their content; readers allocate by content too."""
    declared = cell_sheet('<row r="1"><c r="A1"><v>1</v></c></row>', "A1:XFD1048576")
    libreoffice = cell_sheet('<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576" customFormat="false" '
                             'ht="12.8"></row>', "A1:Q1048576")
    formatted = cell_sheet('<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="Q1048576" s="3"/>'
                           '<c r="XFD1048576" s="3"/></row>', "A1:XFD1048576")
    for sheet in (declared, libreoffice, formatted):
        result = guard_bytes(_zip_bytes(workbook_parts(sheet)), "x.xlsx")
        assert result.readable and result.findings == (), sheet
    # but a far cell holding anything, even an empty string, is content
    for far in ('<c r="Q1048576"><v>0</v></c>', '<c r="XFD3" t="inlineStr"><is><t></t></is></c>',
                '<c r="B200001" t="s"><v>0</v></c>'):
        sheet = cell_sheet(f'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576">{far}</row>', "A1")
        assert guard_bytes(_zip_bytes(workbook_parts(sheet)), "x.xlsx").reasons == ("extent",), far
    careful = cell_sheet('<row r="1"><c><v>1</v></c></row><row r="1048576"><c s="3"/></row>')
    assert guard_bytes(_zip_bytes(workbook_parts(careful)), "x.xlsx").readable


def test_the_total_cell_area_across_sheets_is_bounded():
    limits = GuardLimits(max_cells=1_000)
    sheet = cell_sheet('<row r="40"><c r="Z40"><v>1</v></c></row>')  # 40 x 26 = 1040 cells
    result = guard_bytes(_zip_bytes(workbook_parts(sheet)), "x.xlsx", limits)
    assert result.reasons == ("cells",)
    assert guard_bytes(_zip_bytes(workbook_parts(sheet)), "x.xlsx", GuardLimits(max_cells=1_040)).readable


def test_a_large_sheet_is_scanned_in_chunks_with_markers_split_across_them(monkeypatch):
    import kpisheet.validators.reading.guard as guard

    monkeypatch.setattr(guard, "_CHUNK", 64)  # every tag and marker straddles chunk boundaries
    streamed = dict(max_kept_bytes=0)  # as a part too large to hold is scanned
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="n"><v>{r}</v></c><c r="C{r}"><v>1</v></c></row>' for r in range(1, 60))
    result = guard_bytes(_zip_bytes(workbook_parts(cell_sheet(rows, "A1:C59"))), "x.xlsx",
                         GuardLimits(max_rows=59, max_columns=3, **streamed))
    assert result.readable
    result = guard_bytes(_zip_bytes(workbook_parts(cell_sheet(rows, "A1:C59"))), "x.xlsx",
                         GuardLimits(max_rows=58, max_columns=3, **streamed))
    assert result.reasons == ("extent",)
    swapped = rows.replace('<row r="30">', '<row r="31">', 1)  # two rows 31: the cells repeat
    result = guard_bytes(_zip_bytes(workbook_parts(cell_sheet(swapped.replace('r="A30"', 'r="A31"').replace(
        'r="C30"', 'r="C31"')))), "x.xlsx", GuardLimits(**streamed))
    assert result.reasons == ("cell-order",)
    sst = b'<?xml version="1.0"?>' + b" " * 61 + b'<!DOCTYPE sst [<!ENTITY a "b">]><sst/>'
    result = guard_bytes(_zip_bytes(workbook_parts(cell_sheet(rows), sst)), "x.xlsx")
    assert result.reasons == ("entities",)


def test_a_sheet_without_any_tag_end_is_refused_not_buffered(monkeypatch):
    import kpisheet.validators.reading.guard as guard

    monkeypatch.setattr(guard, "_CHUNK", 1024)
    sheet = cell_sheet("") + b"<c" + b" " * 5000
    result = guard_bytes(_zip_bytes(workbook_parts(sheet)), "x.xlsx", GuardLimits(max_tag_bytes=2048, max_kept_bytes=0))
    assert result.reasons == ("tag-size",) and codes(result) == ["file-unreadable"]


def test_utf16_parts_are_refused():
    sheet = cell_sheet('<row r="1"><c r="A1"><v>1</v></c></row>').decode().encode("utf-16")
    result = guard_bytes(_zip_bytes(workbook_parts(sheet)), "x.xlsx")
    assert result.reasons == ("encoding",) and codes(result) == ["file-unreadable"]


def test_zip_directory_limits():
    parts = workbook_parts(cell_sheet('<row r="1"><c r="A1"><v>1</v></c></row>'))
    data = _zip_bytes(parts | {f"xl/media/image{i}.png": b"x" for i in range(30)})
    assert guard_bytes(data, "x.xlsx", GuardLimits(max_members=20)).reasons == ("members",)
    strings = "".join(f"<si><t>{i * 7919 % 100_003}</t></si>" for i in range(80_000)).encode()
    big = parts | {"xl/sharedStrings.xml": b"<sst>" + strings + b"</sst>"}
    assert guard_bytes(_zip_bytes(big), "x.xlsx", GuardLimits(max_member_bytes=1_000_000)).reasons == ("member-size",)
    assert guard_bytes(_zip_bytes(big), "x.xlsx", GuardLimits(max_total_bytes=1_000_000)).reasons == ("total-size",)
    assert guard_bytes(_zip_bytes(big), "x.xlsx").readable


def test_zip_encryption_and_unverifiable_compression_are_refused():
    data = bytearray(_zip_bytes(workbook_parts(cell_sheet(""))))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/workbook.xml")
    flagged = bytearray(data)
    _patch_central(flagged, "xl/workbook.xml", 8, lambda flags: flags | 0x1)
    result = guard_bytes(bytes(flagged), "x.xlsx")
    assert codes(result) == ["file-encrypted"]
    bzip = _zip_bytes(workbook_parts(cell_sheet("")), compression=zipfile.ZIP_BZIP2)
    assert guard_bytes(bzip, "x.xlsx").reasons == ("compression",)
    assert info.file_size > 0


def test_a_member_shorter_than_declared_is_damaged():
    data = bytearray(_zip_bytes(workbook_parts(cell_sheet('<row r="1"><c r="A1"><v>1</v></c></row>'))))
    hostile.patch_declared_size(data, "xl/workbook.xml", 10_000)
    result = guard_bytes(bytes(data), "x.xlsx")
    assert result.reasons == ("damaged",) and codes(result) == ["file-unreadable"]


def test_a_doctype_after_comments_and_instructions_is_still_found():
    sst = (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- made by hand -->\n<?pi x?>\n'
           b'<!DOCTYPE sst [<!ENTITY a "b">]><sst/>')
    result = guard_bytes(_zip_bytes(workbook_parts(cell_sheet(""), sst)), "x.xlsx")
    assert result.reasons == ("entities",)
    harmless = b'<?xml version="1.0"?><!-- <!DOCTYPE in a comment --><sst/>'
    assert guard_bytes(_zip_bytes(workbook_parts(cell_sheet(""), harmless)), "x.xlsx").readable


def test_macro_sheets_and_activex_count_as_macros():
    parts = workbook_parts(cell_sheet(""))
    macro_sheet = parts | {"xl/macrosheets/sheet1.xml": cell_sheet('<row r="1"><c r="A1"><f>HALT()</f></c></row>')}
    result = guard_bytes(_zip_bytes(macro_sheet), "x.xlsx")
    assert codes(result) == ["file-has-macros"] and result.readable and "4.0" in result.findings[0].message_zh
    activex = parts | {"xl/activeX/activeX1.bin": b"\x00" * 10}
    assert codes(guard_bytes(_zip_bytes(activex), "x.xlsx")) == ["file-has-macros"]


def test_lock_files_by_name_and_by_content(tmp_path):
    assert codes(guard_file(hostile.lock_file(tmp_path))) == ["file-lock"]
    office_lock = hostile.lock_file(tmp_path).read_bytes()
    assert codes(guard_bytes(office_lock, "renamed.xlsx")) == ["file-lock"]
    libre = b"zhangwei,DESKTOP-1,zhangwei,27.11.2026 09:12,file:///C:/Users/zhangwei/AppData/Roaming/LibreOffice/4;"
    assert codes(guard_bytes(libre, ".~lock.考核表.xlsx#")) == ["file-lock"]
    assert codes(guard_bytes(libre, "renamed.xlsx")) == ["file-lock"]


def test_foreign_formats_are_named_in_the_message(tmp_path):
    cases = {
        hostile.xls_renamed(tmp_path): "Excel 97-2003",
        hostile.xlsb_renamed(tmp_path): ".xlsb",
        hostile.ods_renamed(tmp_path): ".ods",
        hostile.csv_renamed(tmp_path): "CSV",
    }
    for path, label in cases.items():
        finding = guard_file(path).findings[0]
        assert finding.code == "file-wrong-format" and label in finding.message_zh and label in finding.message_en
    html = b"<html><body><table><tr><td>1</td></tr></table></body></html>"
    assert guard_bytes(html, "export.xlsx").detected.kind == "html"
    xml2003 = b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>'
    assert guard_bytes(xml2003, "x.xlsx").detected.kind == "xml-spreadsheet"
    gbk_csv = "工号\t姓名\nE1\t张伟\n".encode("gb18030")
    assert guard_bytes(gbk_csv, "x.xlsx").detected.kind == "csv"
    docx = _zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    assert guard_bytes(docx, "x.xlsx").detected.kind == "docx"
    assert guard_bytes(b"%PDF-1.7 ...", "x.xlsx").detected.kind == "pdf"


def test_libreoffice_made_xls_and_ods_are_classified(tmp_path, soffice):
    import subprocess

    good = hostile.good_xlsx(tmp_path)
    profile = (tmp_path / "profile").as_uri()
    for target in ("xls", "ods"):
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target,
                        "--outdir", str(tmp_path / target), str(good)], check=True, capture_output=True, timeout=180)
        made = tmp_path / target / f"good.{target}"
        renamed = made.rename(tmp_path / f"from_libreoffice_{target}.xlsx")
        result = guard_file(renamed)
        assert codes(result) == ["file-wrong-format"] and result.detected.kind == target


def test_a_libreoffice_resaved_workbook_passes(tmp_path, soffice):
    import subprocess

    good = hostile.good_xlsx(tmp_path)
    out = tmp_path / "resaved"
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), str(good)], check=True, capture_output=True, timeout=180)
    result = guard_file(out / "good.xlsx")
    assert result.readable and result.findings == ()


def test_column_numbers():
    assert [column_number(c) for c in ("A", "Z", "AA", "GR", "XFD", "xfd")] == [1, 26, 27, 200, 16384, 16384]
    assert column_number("GR") == DEFAULT_LIMITS.max_columns


def test_the_guard_inflates_what_is_read_once_and_the_reader_gets_only_that(tmp_path, rulebook, monkeypatch):
    """What keeps the guard cheap beside the read it protects: for validation, only the parts the readers
    parse are inflated, each exactly once, and no sheet takes the slow tag-by-tag placement scan; the
    reader's package holds exactly those parts. For a reader of every part, every XML part is inflated
    once. (Its cost against a bare read is measured side by side by ``kpisheet bench``; timed assertions
    flake on a busy machine.)"""
    import kpisheet.validators.reading.package as package
    from kpisheet.validators.reading.sheet_scan import SheetScan
    from kpisheet.validators.validate import VALIDATED_SHEETS
    from kpisheet.workbook_templates.filler import fill_team_workbook, make_employees
    from kpisheet.workbook_templates.team_workbook import build_team_workbook

    blank = build_team_workbook(tmp_path / "team.xlsx", rulebook, "2026-Q2", "售后服务部", "测试组",
                                make_employees(12, seed=1))
    fill_team_workbook(blank, tmp_path / "filled.xlsx", seed=1)  # saved by openpyxl, as the demo's fills are

    inflated: list[str] = []
    inflate = package.inflate

    def counting_inflate(data, info, chunk):
        inflated.append(info.filename)
        return inflate(data, info, chunk)

    def slow_scan(self, *args):
        raise AssertionError("the tag-by-tag placement scan ran on an ordinary workbook")

    monkeypatch.setattr(package, "inflate", counting_inflate)
    monkeypatch.setattr(SheetScan, "scan_careful", slow_scan)
    read_by_validation = {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                          "xl/sharedStrings.xml", "xl/styles.xml", "docProps/app.xml", "docProps/core.xml",
                          "docProps/custom.xml",
                          "xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml", "xl/worksheets/sheet4.xml",
                          "xl/worksheets/sheet7.xml"}
    for path in (blank, tmp_path / "filled.xlsx"):
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
        inflated.clear()
        result = guard_file(path, sheets=VALIDATED_SHEETS)
        assert result.readable and result.findings == ()
        assert sorted(inflated) == sorted(read_by_validation & names), "the parts read, each once, nothing else"
        assert result.package.sheets == ("目标设定", "考核评分", "汇总", "_meta")
        with zipfile.ZipFile(io.BytesIO(result.package.reader_zip)) as reader:
            assert {i.compress_type for i in reader.infolist()} == {zipfile.ZIP_STORED}  # inflated once, here
            assert len([n for n in reader.namelist() if n.startswith("xl/worksheets/")]) == 4
        inflated.clear()
        result = guard_file(path)
        xml_parts = sorted(n for n in names if n.endswith((".xml", ".rels", ".vml")))
        assert result.readable and sorted(inflated) == xml_parts, "a reader of everything: every XML part, once"


# --- helpers ------------------------------------------------------------------------------


def _zip_bytes(parts: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _patch_central(data: bytearray, member: str, field_offset: int, change) -> None:
    import struct

    end = data.rfind(b"PK\x05\x06")
    offset = struct.unpack_from("<I", data, end + 16)[0]
    while data[offset:offset + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, offset + 28)
        if bytes(data[offset + 46:offset + 46 + name_len]) == member.encode():
            value = struct.unpack_from("<H", data, offset + field_offset)[0]
            struct.pack_into("<H", data, offset + field_offset, change(value))
            return
        offset += 46 + name_len + extra_len + comment_len
    raise KeyError(member)


def test_helpers_build_what_they_claim(tmp_path):
    assert Path(hostile.good_xlsx(tmp_path)).stat().st_size < 50_000


def test_shared_strings_are_followed_wherever_the_relationship_puts_them():
    from kpisheet.validators.reading.safe_read import values_of_guarded

    sst = b'<?xml version="1.0"?><sst xmlns="' + hostile.NS_MAIN.encode() + b'"><si><t>moved</t></si></sst>'
    sheet = cell_sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', "A1")
    parts = workbook_parts(sheet, sst)
    parts["xl/strings.bin"] = parts.pop("xl/sharedStrings.xml")
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b'Target="sharedStrings.xml"', b'Target="strings.bin"')
    verdict = guard_bytes(_zip_bytes(parts), "x.xlsx")
    assert verdict.readable and values_of_guarded(verdict)[0] == {"考核评分": [["moved"]]}
    parts["xl/strings.bin"] = b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "b">]>' + parts["xl/strings.bin"][21:]
    assert guard_bytes(_zip_bytes(parts), "x.xlsx", sheets=["考核评分"]).reasons == ("entities",)
    # a second relationship of the same kind: which one a reader takes cannot be known
    twice = dict(parts)
    twice["xl/_rels/workbook.xml.rels"] = twice["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                             b'relationships/sharedStrings" Target="other.xml"/></Relationships>')
    assert guard_bytes(_zip_bytes(twice), "x.xlsx").reasons == ("relationships",)


def test_the_package_must_name_xl_workbook_xml_as_its_workbook():
    parts = workbook_parts(cell_sheet('<row r="1"><c r="A1"><v>1</v></c></row>'))
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(b'Target="xl/workbook.xml"', b'Target="xl/other.xml"')
    result = guard_bytes(_zip_bytes(parts), "x.xlsx")
    assert result.reasons == ("relationships",) and "xl/other.xml" in result.findings[0].message_en
