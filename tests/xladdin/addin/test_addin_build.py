"""The built add-in: a valid package, our ribbon, callbacks that exist, the config sheet, xlwings' version."""

from __future__ import annotations

import io
import random
import re
import subprocess
import zipfile

import defusedxml.ElementTree as ET
import olefile
import pytest
import xlwings
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream
from typer.testing import CliRunner

from kpisheet.xladdin.addin import build as addin_build, compound_file, vba_project

UI = "{http://schemas.microsoft.com/office/2006/01/customui}"
RIBBON_LABELS = ["校验本表", "重新计算", "生成表格", "汇总", "校准", "问题清单"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return addin_build.build_addin(tmp_path_factory.mktemp("addin"))


@pytest.fixture(scope="module")
def parts(built):
    with zipfile.ZipFile(built) as z:
        assert z.testzip() is None
        return {name: z.read(name) for name in z.namelist()}


def vba_modules(data: bytes, filename: str = "x.xlam") -> dict[str, str]:
    parser = VBA_Parser(filename, data=data)
    try:
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


@pytest.fixture(scope="module")
def modules(built):
    return vba_modules(built.read_bytes())


@pytest.fixture(scope="module")
def template_modules():
    return vba_modules(addin_build.template_path().read_bytes())


def buttons(parts):
    root = ET.fromstring(parts[addin_build.CUSTOM_UI_PART])
    return root, list(root.iter(f"{UI}button"))


def test_package_parts(built, parts):
    assert built.name == "xladdin.xlam"
    with zipfile.ZipFile(addin_build.template_path()) as template:
        assert set(parts) == set(template.namelist())  # nothing lost, nothing stray
    types = ET.fromstring(parts["[Content_Types].xml"])
    overrides = {o.get("PartName"): o.get("ContentType") for o in types}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    assert overrides["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
    rels = ET.fromstring(parts["_rels/.rels"])
    assert any(r.get("Target") == addin_build.CUSTOM_UI_PART and r.get("Type").endswith("/ui/extensibility")
               for r in rels)
    for name, data in parts.items():
        if name.endswith(".xml") or name.endswith(".rels"):
            ET.fromstring(data)  # every XML part is well-formed


def test_ribbon_tab_buttons_and_icons(parts):
    root, found = buttons(parts)
    (tab,) = root.iter(f"{UI}tab")
    assert tab.get("label") == "绩效考核"
    labels = [b.get("label") for b in found]
    assert labels[:6] == RIBBON_LABELS and labels[6:] == ["导入函数"]
    ids = [b.get("id") for b in found]
    assert len(set(ids)) == len(ids)
    for button in found:
        assert re.fullmatch(r"[A-Za-z]+", button.get("imageMso") or ""), button.get("id")  # built-in icons
        assert " / " in button.get("screentip")  # Chinese / English


def test_every_button_calls_the_one_ribbon_sub(parts, modules):
    _, found = buttons(parts)
    subs = set()
    for code in modules.values():
        subs |= set(re.findall(r"^\s*(?:Public\s+)?Sub\s+(\w+)\s*\(\s*control\s+As\s+IRibbonControl\s*\)",
                               code, re.MULTILINE | re.IGNORECASE))
    # one callback: adding a button is an XML and a Python change, never a VBA one
    assert subs == {"KpisheetRibbon"}
    assert found and {b.get("onAction") for b in found} == {"KpisheetRibbon"}


def test_every_button_id_reaches_a_python_handler(parts, modules):
    from kpisheet.xladdin.excel import handlers as xl_handlers

    ribbon = modules[addin_build.RIBBON_MODULE]
    assert "import kpisheet.xladdin.excel.handlers" in ribbon and "on_ribbon('\" & control.Id & \"')" in ribbon
    _, found = buttons(parts)
    python_buttons = [b.get("id") for b in found if b.get("id") != "kpisheetImportFunctions"]
    assert {xl_handlers.action_of(button) for button in python_buttons} == set(xl_handlers.ACTIONS)


# The Excel built-in images (imageMso) the ribbon may use: a reviewed allow-list, so a new icon is a
# deliberate choice checked in Excel's own list of control ids (Excel cannot run here to show them);
# TableInsert and ImportExcel, used before, are not Excel control ids
EXCEL_IMAGE_IDS = {"DataValidation", "CalculateNow", "FileNew", "AutoSum", "ChartInsert", "ErrorChecking",
                   "FunctionWizard", "RefreshAll"}


def test_document_properties_are_kpisheets_own(parts):
    core = parts["docProps/core.xml"].decode("utf-8")
    assert "<dc:creator>kpisheet</dc:creator>" in core and "Felix" not in core
    assert b"Users" not in parts["xl/workbook.xml"] and b"absPath" not in parts["xl/workbook.xml"]


def test_every_icon_is_an_excel_control_image(parts):
    _, found = buttons(parts)
    assert {b.get("imageMso") for b in found} <= EXCEL_IMAGE_IDS


def test_vba_xlwings_version_equals_installed(modules):
    code = modules["xlwings"]
    assert re.search(r'XLWINGS_VERSION As String = "([^"]+)"', code).group(1) == xlwings.__version__
    assert f'"xlwings64-{xlwings.__version__}.dll"' in code
    assert re.search(r'PROJECT_NAME As String = "([^"]+)"', code).group(1) == addin_build.PROJECT_NAME


def test_only_the_ribbon_module_and_the_project_name_differ_from_the_template(modules, template_modules):
    assert set(modules) == set(template_modules)
    for name in modules:
        if name == addin_build.XLWINGS_MODULE:
            assert modules[name] == addin_build.renamed_project(template_modules[name])
            assert modules[name] != template_modules[name]
        elif name != addin_build.RIBBON_MODULE:
            assert modules[name] == template_modules[name], name
    assert "Sub RunMain(" in template_modules[addin_build.RIBBON_MODULE]
    assert "Sub RunMain(" not in modules[addin_build.RIBBON_MODULE]


def test_config_sheet_is_active_and_filled(built, parts):
    from python_calamine import CalamineWorkbook

    workbook = ET.fromstring(parts[addin_build.WORKBOOK_PART])
    names = [s.get("name") for s in workbook.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet")]
    assert names == [addin_build.CONFIG_SHEET] == ["kpisheet.conf"]
    reader = CalamineWorkbook.from_path(str(built))
    try:
        rows = reader.get_sheet_by_name(addin_build.CONFIG_SHEET).to_python()
    finally:
        reader.close()
    config = {row[0]: row[1] for row in rows}
    assert config["Interpreter_Win"].startswith("%LOCALAPPDATA%\\") and config["Interpreter_Win"].endswith(".exe")
    assert config["Interpreter_Mac"].startswith("$HOME/")
    assert "%LOCALAPPDATA%" in config["PYTHONPATH"] and "$HOME" in config["PYTHONPATH"]
    assert config["UDF Modules"] == "kpisheet.xladdin.excel.udfs"
    assert config["ADD_WORKBOOK_TO_PYTHONPATH"] is False  # a submission's folder must never be importable
    assert config["Use UDF Server"] is False and config["Show Console"] is False
    assert dict(addin_build.addin_config()) == config


def test_site_config_file_replaces_the_defaults(tmp_path):
    from python_calamine import CalamineWorkbook

    site = tmp_path / "site.conf"
    site.write_text('"Interpreter_Win","D:\\Python311\\python.exe"\n"UDF Modules","kpisheet.xladdin.excel.udfs"\n'
                    '"Show Console","True"\n', encoding="utf-8")
    path = addin_build.build_addin(tmp_path / "out", config=site)
    reader = CalamineWorkbook.from_path(str(path))
    try:
        rows = reader.get_sheet_by_name(addin_build.CONFIG_SHEET).to_python()
    finally:
        reader.close()
    assert rows == [["Interpreter_Win", "D:\\Python311\\python.exe"], ["UDF Modules", "kpisheet.xladdin.excel.udfs"],
                    ["Show Console", True]]

    site.write_text("Interpreter_Win\n", encoding="utf-8")
    with pytest.raises(addin_build.AddinBuildError) as caught:
        addin_build.build_addin(tmp_path / "out", config=site)
    assert "第 1 行" in caught.value.message_zh and "line 1" in caught.value.message_en


def test_build_is_deterministic(tmp_path, built):
    again = addin_build.build_addin(tmp_path)
    assert again.read_bytes() == built.read_bytes()


def test_vba_project_streams_read_back(parts):
    ole = olefile.OleFileIO(parts[addin_build.VBA_PART], raise_defects=olefile.DEFECT_POTENTIAL)
    try:
        module = ole.openstream("VBA/RibbonMyAddin").read()
        directory = decompress_stream(bytearray(ole.openstream("VBA/dir").read()))
    finally:
        ole.close()
    info = vba_project.read_dir(bytes(directory))
    assert info.module(addin_build.RIBBON_MODULE).offset == 0  # source only, no stale p-code
    source = bytes(decompress_stream(bytearray(module))).decode("cp1252")
    assert source.replace("\r\n", "\n") == addin_build.addin_resource("RibbonMyAddin.bas").rstrip("\n") + "\n"


def test_not_flagged_as_vba_stomping(built):
    # stale compiled code beside new source is what malware does and scanners flag;
    # the build drops the replaced module's p-code, so olevba finds none
    parser = VBA_Parser(str(built))
    try:
        assert parser.detect_vba_stomping() is False
    finally:
        parser.close()


def test_libreoffice_reads_the_vba_and_the_config(built, soffice, tmp_path):
    """An independent reader: LibreOffice imports the VBA modules and the config sheet."""
    # LibreOffice opens an add-in only as a visible macro workbook
    as_xlsm = tmp_path / "addin.xlsm"
    with zipfile.ZipFile(built) as zin, zipfile.ZipFile(as_xlsm, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"ms-excel.addin.macroEnabled", b"ms-excel.sheet.macroEnabled")
            if info.filename == addin_build.WORKBOOK_PART:
                data = data.replace(b'visibility="hidden" ', b"")
            zout.writestr(info, data)
    done = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                           "--convert-to", "ods", "--outdir", str(tmp_path), str(as_xlsm)],
                          capture_output=True, text=True, timeout=180)
    ods = tmp_path / "addin.ods"
    assert ods.exists(), done.stderr
    with zipfile.ZipFile(ods) as z:
        ribbon = z.read("Basic/MyAddin/RibbonMyAddin.xml").decode("utf-8")
        content = z.read("content.xml").decode("utf-8")
    assert "Sub KpisheetRibbon(control As IRibbonControl)" in ribbon
    assert "kpisheet.conf" in content and "kpisheet.xladdin.excel.udfs" in content


def test_cli_builds_into_out_dir_and_reports_errors_without_traceback(tmp_path):
    from kpisheet.xladdin.cli.app import app

    runner = CliRunner()
    result = runner.invoke(app, ["addin", "build", "--out", str(tmp_path / "dist")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dist" / "xladdin.xlam").is_file()
    assert xlwings.__version__ in result.output

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = runner.invoke(app, ["addin", "build", "--out", str(blocker)])
    assert result.exit_code == 2
    assert "无法写入" in result.output and "cannot write" in result.output
    assert "Traceback" not in result.output


def test_build_refuses_a_template_without_the_expected_parts(tmp_path):
    bad = tmp_path / "template.xlam"
    with zipfile.ZipFile(addin_build.template_path()) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == addin_build.WORKBOOK_PART:
                data = data.replace(b"_myaddin.conf", b"Sheet1")
            zout.writestr(info, data)
    with pytest.raises(addin_build.AddinBuildError) as caught:
        addin_build.build_addin(tmp_path / "out", template=bad)
    assert "_myaddin.conf" in caught.value.message_zh and "_myaddin.conf" in caught.value.message_en


# --- the two formats written here, checked against independent readers ------------------


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=9000),
                 st.text(alphabet="Sub End If Then\r\n ()\"'.&=_abc123", max_size=12000).map(str.encode)))
def test_compression_round_trips_through_oletools(data):
    packed = vba_project.compress(data)
    assert bytes(decompress_stream(bytearray(packed))) == data
    assert vba_project.decompress(packed) == data


def test_decompress_agrees_with_oletools_on_office_written_streams():
    with zipfile.ZipFile(addin_build.template_path()) as z:
        ole = olefile.OleFileIO(z.read(addin_build.VBA_PART))
    try:
        directory_raw = ole.openstream("VBA/dir").read()
        info = vba_project.read_dir(vba_project.decompress(directory_raw))
        assert vba_project.decompress(directory_raw) == bytes(decompress_stream(bytearray(directory_raw)))
        for module in info.modules:
            stream = ole.openstream(f"VBA/{module.stream}").read()[module.offset:]
            assert vba_project.decompress(stream) == bytes(decompress_stream(bytearray(stream))), module.name
    finally:
        ole.close()
    assert [m.name for m in info.modules] == ["ThisWorkbook", "Dictionary", "RibbonMyAddin", "Sheet2", "xlwings"]


def test_replace_module_source_refuses_non_ascii_and_wrong_name():
    with zipfile.ZipFile(addin_build.template_path()) as z:
        ole = olefile.OleFileIO(z.read(addin_build.VBA_PART))
    directory = vba_project.decompress(ole.openstream("VBA/dir").read())
    ole.close()
    with pytest.raises(vba_project.VbaProjectError, match="code page"):
        vba_project.replace_module_source(directory, "RibbonMyAddin", 'Attribute VB_Name = "RibbonMyAddin"\n\' 校验\n')
    with pytest.raises(vba_project.VbaProjectError, match="VB_Name"):
        vba_project.replace_module_source(directory, "RibbonMyAddin", 'Attribute VB_Name = "Other"\n')


def test_compound_file_round_trip():
    rng = random.Random(7)
    streams = {
        ("PROJECT",): b"ID=...\r\n",
        ("empty",): b"",
        ("VBA", "dir"): bytes(rng.randrange(256) for _ in range(1300)),
        ("VBA", "big"): bytes(rng.randrange(256) for _ in range(70_000)),   # regular sectors
        ("VBA", "edge"): b"x" * compound_file.MINI_CUTOFF,                 # exactly at the cutoff
        ("VBA", "Sub", "deeper"): b"y" * 100,
    }
    streams.update({("many", f"s{i:02d}"): bytes([i]) * (i * 97) for i in range(40)})
    data = compound_file.build(streams)
    assert compound_file.build(streams) == data
    ole = olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_POTENTIAL)
    try:
        found = {tuple(p): ole.openstream(p).read() for p in ole.listdir()}
        assert ole.get_type("VBA/Sub") == olefile.STGTY_STORAGE
    finally:
        ole.close()
    assert found == streams
