"""Assembling ``xladdin.xlam`` from xlwings' ribbon add-in template, on any OS.

The template (``quickstart_addin_ribbon.xlam`` in the installed xlwings) brings
the xlwings VBA module of exactly the installed version, which is what the
add-in and the Python side must agree on. The build swaps in:

- ``customUI/customUI.xml``: our ribbon (``addin/customUI.xml``);
- the source of the VBA module ``RibbonMyAddin``: the one ribbon callback
  (``addin/RibbonMyAddin.bas``), handing the pressed button's id to ``kpisheet.xladdin.excel.handlers``;
- the config sheet, activated (``_myaddin.conf`` renamed ``kpisheet.conf``, with
  xlwings' ``PROJECT_NAME`` set to kpisheet so that xlwings reads it) and
  filled from ``addin/addin.conf`` (interpreter and PYTHONPATH with
  environment variables, UDF module);
- the document properties: kpisheet's, without the template author's name or folder.

Everything else in the template is copied byte for byte. Zip entries carry a
fixed date, so the same inputs give the same file.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
import importlib.util
from importlib import metadata, resources
from pathlib import Path
from xml.sax.saxutils import escape

import olefile

from kpisheet.xladdin.addin import compound_file, vba_project
from kpisheet.validators.errors import KpisheetError
from kpisheet.xladdin.kit.files import make_output_folder, write_atomically

ADDIN_NAME = "xladdin.xlam"
TEMPLATE_NAME = "quickstart_addin_ribbon.xlam"
RIBBON_MODULE = "RibbonMyAddin"
XLWINGS_MODULE = "xlwings"
TEMPLATE_PROJECT_NAME = "myaddin"  # PROJECT_NAME in the template's xlwings VBA module
PROJECT_NAME = "kpisheet"  # ours: xlwings reads its settings from the sheet "<PROJECT_NAME>.conf"
CONFIG_SHEET = f"{PROJECT_NAME}.conf"
INACTIVE_CONFIG_SHEET = f"_{TEMPLATE_PROJECT_NAME}.conf"
PROJECT_NAME_LINE = 'Public Const PROJECT_NAME As String = "{}"'

CUSTOM_UI_PART = "customUI/customUI.xml"
CORE_PART = "docProps/core.xml"
VBA_PART = "xl/vbaProject.bin"
WORKBOOK_PART = "xl/workbook.xml"
SHARED_STRINGS_PART = "xl/sharedStrings.xml"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

_BOOLEANS = {"true": True, "false": False}


class AddinBuildError(KpisheetError):
    """The add-in cannot be built; ``message_zh``/``message_en`` say why and what to do."""

    code = "addin-build"
    title_zh, title_en = "加载项生成失败", "add-in build failed"
    description = "The add-in cannot be built, e.g. the installed xlwings lacks its ribbon template."


def template_path() -> Path:
    # found through the package's files, not by importing it: only xladdin.excel imports xlwings
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise AddinBuildError("未安装 xlwings，无法生成加载项（pip install xlwings）",
                              "xlwings is not installed, so the add-in cannot be built (pip install xlwings)")
    return Path(spec.submodule_search_locations[0]) / TEMPLATE_NAME


def xlwings_version() -> str:
    """The installed xlwings, whose VBA module the template brings (the add-in must match it)."""
    return metadata.version("xlwings")


def addin_resource(name: str) -> str:
    return resources.files("kpisheet.xladdin.addin").joinpath("resources", name).read_text(encoding="utf-8")


def addin_config(path: str | Path | None = None) -> list[tuple[str, str | bool]]:
    """The config sheet rows: ``path``, or the shipped ``addin/addin.conf``.

    The format is xlwings' own config file ("KEY","VALUE" per line), so the
    same file can serve as a user config. "True"/"False" become booleans, as
    xlwings' own config sheet holds them.
    """
    if path is None:
        text, source = addin_resource("addin.conf"), "addin.conf"
    else:
        try:
            text, source = Path(path).read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as error:
            raise AddinBuildError(f"无法读取配置文件 {path}：{error}", f"cannot read the config file {path}: {error}") from None
    rows = []
    for number, line in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not line or not "".join(line).strip():
            continue
        if len(line) != 2 or not line[0].strip():
            raise AddinBuildError(f"{source} 第 {number} 行应为 \"键\",\"值\" 两项",
                                  f'{source} line {number}: expected "KEY","VALUE"')
        key, value = line[0].strip(), line[1]
        rows.append((key, _BOOLEANS.get(value.strip().lower(), value)))
    return rows


def build_addin(out_dir: str | Path, template: str | Path | None = None,
                config: str | Path | None = None) -> Path:
    """Write ``out_dir/xladdin.xlam``; returns its path.

    ``config`` replaces the shipped config file (a site's interpreter path, say).
    """
    source = Path(template) if template else template_path()
    if not source.is_file():
        raise AddinBuildError(f"找不到 xlwings 加载项模板：{source}（请重新安装 xlwings）",
                              f"xlwings add-in template not found: {source} (reinstall xlwings)")
    out_dir = Path(out_dir)
    make_output_folder(out_dir)
    target = out_dir / ADDIN_NAME
    with zipfile.ZipFile(source) as zin:
        parts = {info.filename: zin.read(info) for info in zin.infolist()}
    rows = addin_config(config)
    replaced = {
        CUSTOM_UI_PART: addin_resource("customUI.xml").encode("utf-8"),
        VBA_PART: patched_vba_project(parts[VBA_PART], addin_resource(f"{RIBBON_MODULE}.bas")),
        WORKBOOK_PART: activated_workbook_xml(parts[WORKBOOK_PART].decode("utf-8")).encode("utf-8"),
        config_sheet_part(parts): config_sheet_xml(rows).encode("utf-8"),
        CORE_PART: core_properties_xml().encode("utf-8"),
        SHARED_STRINGS_PART: shared_strings_xml(rows).encode("utf-8"),
    }

    def write(temporary: Path) -> None:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as zout:
            for name, data in parts.items():
                info = zipfile.ZipInfo(name, ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                zout.writestr(info, replaced.get(name, data))

    write_atomically(target, write)  # an add-in open in Excel is refused, never overwritten under it
    return target


def patched_vba_project(vba_bin: bytes, ribbon_source: str) -> bytes:
    """The template's VBA project with ``RibbonMyAddin`` holding ``ribbon_source``.

    The result is read back and compared stream by stream before it is used.
    """
    ole = olefile.OleFileIO(vba_bin)
    try:
        streams = {tuple(path): ole.openstream(path).read() for path in ole.listdir()}
        storages = [()] + [tuple(path) for path in ole.listdir(streams=False, storages=True)]
        clsids = {path: _clsid_bytes(ole.getclsid("/".join(path)) if path else ole.root.clsid)
                  for path in storages}
    finally:
        ole.close()
    dir_data = vba_project.decompress(streams[("VBA", "dir")])
    info = vba_project.read_dir(dir_data)
    xlwings_module = info.module(XLWINGS_MODULE)
    xlwings_source = vba_project.module_source(info, XLWINGS_MODULE, streams[("VBA", xlwings_module.stream)])
    for name, source, ours in ((RIBBON_MODULE, ribbon_source, True),
                               (XLWINGS_MODULE, renamed_project(xlwings_source), False)):
        dir_data, new_module = vba_project.replace_module_source(dir_data, name, source, normalise_newlines=ours)
        streams[("VBA", info.module(name).stream)] = new_module
    streams[("VBA", "dir")] = vba_project.compress(dir_data)
    built = compound_file.build(streams, clsids)
    _verify(built, streams)
    return built


def renamed_project(xlwings_source: str) -> str:
    """xlwings' VBA module with kpisheet's PROJECT_NAME: its config sheet and user config file are kpisheet's."""
    old, new = PROJECT_NAME_LINE.format(TEMPLATE_PROJECT_NAME), PROJECT_NAME_LINE.format(PROJECT_NAME)
    if xlwings_source.count(old) != 1:
        raise AddinBuildError("xlwings 模板的 VBA 模块中找不到 PROJECT_NAME（xlwings 版本不受支持）",
                              "the template's xlwings VBA module has no PROJECT_NAME line (unsupported xlwings version)")
    return xlwings_source.replace(old, new)


def core_properties_xml() -> str:
    """kpisheet's own document properties: no template author, fixed dates so the same build gives the same file."""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<dc:title>kpisheet 绩效考核加载项 / appraisal add-in</dc:title>'
            '<dc:subject>售后服务部员工绩效考核 / after-sales performance appraisal</dc:subject>'
            '<dc:creator>kpisheet</dc:creator><cp:lastModifiedBy>kpisheet</cp:lastModifiedBy>'
            '<dcterms:created xsi:type="dcterms:W3CDTF">2026-01-01T00:00:00Z</dcterms:created>'
            '<dcterms:modified xsi:type="dcterms:W3CDTF">2026-01-01T00:00:00Z</dcterms:modified>'
            '</cp:coreProperties>')


def _clsid_bytes(text: str) -> bytes:
    return uuid.UUID(text).bytes_le if text else bytes(16)


def _verify(built: bytes, expected: dict[tuple[str, ...], bytes]) -> None:
    ole = olefile.OleFileIO(built)
    try:
        found = {tuple(path): ole.openstream(path).read() for path in ole.listdir()}
    finally:
        ole.close()
    if found != expected:
        raise AddinBuildError("生成的 VBA 工程读回时与预期不一致（构建程序缺陷）",
                              "the written VBA project does not read back as intended (a bug in the build)")


def activated_workbook_xml(xml: str) -> str:
    """Rename the template's inactive config sheet to kpisheet's, so that xlwings reads it.

    The template author's folder, which Excel records as ``x15ac:absPath``, is dropped.
    """
    if f'name="{INACTIVE_CONFIG_SHEET}"' not in xml:
        raise AddinBuildError(f"模板中没有 {INACTIVE_CONFIG_SHEET} 工作表（xlwings 版本不受支持）",
                              f"the template has no {INACTIVE_CONFIG_SHEET} sheet (unsupported xlwings version)")
    xml = re.sub(r"<mc:AlternateContent\b(?:(?!</mc:AlternateContent>).)*?x15ac:absPath.*?</mc:AlternateContent>", "",
                 xml, flags=re.DOTALL)
    return xml.replace(f'name="{INACTIVE_CONFIG_SHEET}"', f'name="{CONFIG_SHEET}"')


def config_sheet_part(parts: dict[str, bytes]) -> str:
    """The zip part of the config sheet (the template's only worksheet)."""
    sheets = sorted(name for name in parts if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name))
    if len(sheets) != 1:
        raise AddinBuildError("xlwings 模板的工作表数量与预期不符（xlwings 版本不受支持）",
                              f"expected one worksheet in the xlwings template, found {len(sheets)}")
    return sheets[0]


def config_sheet_xml(config: list[tuple[str, str | bool]]) -> str:
    """Keys in column A, values in column B; text through the shared strings, as Excel writes it."""
    strings = _shared_strings(config)
    rows = []
    for r, (key, value) in enumerate(config, start=1):
        cells = [f'<c r="A{r}" t="s"><v>{strings.index(key)}</v></c>']
        if isinstance(value, bool):
            cells.append(f'<c r="B{r}" t="b"><v>{int(value)}</v></c>')
        elif value != "":
            cells.append(f'<c r="B{r}" t="s"><v>{strings.index(value)}</v></c>')
        rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheetPr codeName="Sheet2"/>'
        f'<dimension ref="A1:B{len(config)}"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        '<cols><col min="1" max="1" width="30" customWidth="1"/><col min="2" max="2" width="60" customWidth="1"/></cols>'
        f'<sheetData>{"".join(rows)}</sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        '</worksheet>'
    )


def shared_strings_xml(config: list[tuple[str, str | bool]]) -> str:
    strings = _shared_strings(config)
    uses = sum(1 for key, value in config for text in (key, value) if isinstance(text, str) and text != "")
    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{uses}" uniqueCount="{len(strings)}">{items}</sst>')


def _shared_strings(config: list[tuple[str, str | bool]]) -> list[str]:
    strings: list[str] = []
    for key, value in config:
        for text in (key, value):
            if isinstance(text, str) and text != "" and text not in strings:
                strings.append(text)
    return strings
