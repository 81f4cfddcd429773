"""The finding catalogue: every kind of problem validation can report, defined once.

Each :class:`FindingKind` holds a stable code, a severity, bilingual titles,
message templates and fix hints (``str.format`` placeholders), a description
and an example. Checks never write message text themselves: they call
:func:`make_finding` with a code, the location and the template's parameters,
and ``docs/findings.md`` is generated from the same definitions
(``python -m kpisheet.validators.findings_doc``).

A finding is only ever made by code, so an unknown code or a missing template
parameter is a programming error: :func:`make_finding` raises
:class:`FindingTemplateError` at once (the catalogue tests format every
template), instead of showing a manager a half-filled sentence.

Collecting is lazy by design: checks append to a plain ``list[Finding]`` and
never stop at the first problem; :func:`kpisheet.validators.report.status_of` turns the
list into ok / warning / error.
"""

from __future__ import annotations

import datetime as dt
import string
import unicodedata
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Mapping
from kpisheet.validators.errors import KpisheetError

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

# Location fields of a Finding that a template may also name. A template that
# names one requires it: a message saying "None!None" would hide the cell.
LOCATION_FIELDS = ("sheet", "cell", "employee_id", "indicator")
# value/expected may be empty; templates show them as 空 / empty.
VALUE_FIELDS = ("value", "expected")
# What templates say instead of a bare ID or code: the employee as "SH0014 张伟" and the
# indicator as "客户满意度（CSAT）" / "Customer satisfaction (CSAT)". Each needs its location field.
LABELS = {"employee": "employee_id", "indicator_label": "indicator"}

PREFIXES: dict[str, tuple[str, str]] = {
    "file": ("文件", "File"),
    "template": ("模板", "Template"),
    "goal": ("目标设定", "Goal setting"),
    "score": ("考核评分", "Scoring"),
    "team": ("团队", "Team"),
    # HR's master (kpisheet hr consolidate): what HR's own edits or the inbox as a whole do to it
    "master": ("HR 总表", "HR master"),
}


class FindingTemplateError(KpisheetError):
    """A finding was requested with an unknown code or without a parameter its templates need (a bug of ours)."""

    def __init__(self, message_en: str):
        super().__init__(f"内部错误：问题目录使用有误（{message_en}）", message_en)


@dataclass(frozen=True)
class FindingKind:
    code: str
    severity: Severity
    title_zh: str
    title_en: str
    message_zh: str
    message_en: str
    hint_zh: str
    hint_en: str
    description_zh: str
    description_en: str
    # template parameters (and location/value fields) for the docs' example message
    example: Mapping[str, Any] = field(default_factory=dict)
    # parameters a caller may leave out (they read as nothing), e.g. a consequence note
    optional: frozenset[str] = frozenset()

    @property
    def prefix(self) -> str:
        return self.code.split("-", 1)[0]

    def placeholders(self) -> set[str]:
        """Every name the templates use, in both languages."""
        names: set[str] = set()
        for template in (self.message_zh, self.message_en, self.hint_zh, self.hint_en):
            names.update(name for _, name, _, _ in string.Formatter().parse(template) if name)
        return names


@dataclass(frozen=True)
class Finding:
    """One problem in one file, in the JSON shape of ``kpisheet validate --format json``."""

    code: str
    severity: Severity
    sheet: str | None
    cell: str | None
    employee_id: str | None
    indicator: str | None
    value: Any
    expected: Any
    message_zh: str
    message_en: str
    hint: str
    employee_name: str | None = None
    indicator_name: str | None = None  # the indicator's Chinese name
    # what the messages were made from, so that names found later can be added (see with_names)
    made_from: tuple = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "sheet": self.sheet,
            "cell": self.cell,
            "employee_id": self.employee_id,
            "indicator": self.indicator,
            "employee_name": self.employee_name,
            "indicator_name": self.indicator_name,
            "value": self.value,
            "expected": self.expected,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "hint": self.hint,
        }

    @property
    def where(self) -> str:
        """'考核评分!L7', '考核评分' or '' for a file-level finding."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or self.cell or ""


def _kind(code: str, severity: Severity, title: tuple[str, str], message: tuple[str, str],
          hint: tuple[str, str], description: tuple[str, str], example: Mapping[str, Any],
          optional: tuple[str, ...] = ()) -> FindingKind:
    return FindingKind(code, severity, title[0], title[1], message[0], message[1], hint[0], hint[1],
                       description[0], description[1], MappingProxyType(dict(example)), frozenset(optional))


# Examples name people and indicators as validation does (see Names): ID and name, Chinese name and code.
# They are what validation says about real slips in one team workbook (E1003 张伟, an engineer on rows 4-11
# and summary row 4, then E1004 李娜 and E1005 王强): tests/validators/test_catalogue_examples.py makes each happen.
_WHO = {"employee_id": "E1003", "employee_name": "张伟"}
_CELL = {"sheet": "考核评分", "cell": "L4", **_WHO, "indicator": "CSAT",
         "indicator_names": ("客户满意度", "Customer satisfaction")}
_GOAL = {"sheet": "目标设定", "cell": "I6", **_WHO, "indicator": "ENG_MTTR",
         "indicator_names": ("平均故障处理时长", "Mean time to repair")}
# a slipped CSAT actual (95 or 135%) reads as the cap: what the slip's finding says it does to the score
_CAPPED_SLIP = {"consequence_zh": "按此值计算，该指标得分为 120（不低于极高分线 110；是否须填说明，待改正后再判断）。",
                "consequence_en": " Read as typed, the indicator scores 120 (at or above the extreme-high line 110; "
                                  "whether a comment is needed is judged once the value is corrected)."}

_KINDS: tuple[FindingKind, ...] = (
    # --- file- : the file itself, before anything is read --------------------------------
    _kind(
        "file-unreadable", "error",
        ("文件无法读取", "File cannot be read"),
        ("无法读取此文件：{reason_zh}。", "The file cannot be read: {reason_en}."),
        ("请用 Excel 或 WPS 打开文件，另存为“Excel 工作簿 (*.xlsx)”后重新提交；若打不开，请从 HR 下发的原表重新填写。",
         "Open the file in Excel or WPS, save it as 'Excel Workbook (*.xlsx)' and submit it again; "
         "if it will not open, fill in a fresh copy of the workbook HR sent."),
        ("文件为空、已损坏或不完整（如传输中被截断），或含有不安全的 XML（实体声明），或读取进程异常退出。",
         "The file is empty, damaged or incomplete (e.g. cut off in transfer), holds unsafe XML "
         "(entity declarations), or the reading process died on it."),
        {"reason_zh": "文件已损坏或不完整（可能在复制或传输中被截断）",
         "reason_en": "the file is damaged or incomplete (probably cut off while copying or sending)"},
    ),
    _kind(
        "file-encrypted", "error",
        ("文件已加密", "File is encrypted"),
        ("文件设置了打开密码（已加密），系统无法读取其中内容。",
         "The file has an open password (it is encrypted), so its contents cannot be read."),
        ("在 Excel 中依次点 文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码并保存后重新提交。工作表保护不影响读取，无需取消。",
         "In Excel choose File > Info > Protect Workbook > Encrypt with Password, clear the password, save and submit "
         "again. Sheet protection is fine and can stay."),
        ("工作簿用打开密码加密（Office 加密或 zip 加密）。", "The workbook is encrypted with an open password (Office or zip encryption)."),
        {},
    ),
    _kind(
        "file-wrong-format", "error",
        ("文件格式不对", "Wrong file format"),
        ("文件的实际格式是“{detected_zh}”，不是 Excel 工作簿（.xlsx）。", "The file is really {detected_en}, not an Excel workbook (.xlsx)."),
        ("用 Excel 或 WPS 打开后“另存为” → “Excel 工作簿 (*.xlsx)”再提交；只改文件扩展名没有用。",
         "Open it in Excel or WPS and use Save As > 'Excel Workbook (*.xlsx)'; renaming the file extension does not "
         "convert it."),
        ("文件是 .xls、.xlsb、.ods、CSV/文本或其他格式（无论扩展名是什么）。",
         "The file is .xls, .xlsb, .ods, CSV/text or anything else, whatever its extension says."),
        {"detected_zh": "旧版 Excel 97-2003 工作簿（.xls）", "detected_en": "a legacy Excel 97-2003 workbook (.xls)",
         "value": "xls", "expected": "xlsx"},
    ),
    _kind(
        "file-too-large", "error",
        ("文件超出安全限制", "File exceeds the safety limits"),
        ("文件超出安全限制，未予读取：{reason_zh}。", "The file exceeds the safety limits and was not read: {reason_en}."),
        ("考核表通常只有几十 KB。请确认提交的是 HR 下发的考核表；删除表格远处误输入的内容（按 Ctrl+End 检查最后一个单元格）后另存再提交。",
         "An appraisal workbook is normally a few dozen KB. Make sure you submit the workbook HR sent; delete anything "
         "typed far away from the table (Ctrl+End shows the last used cell), save and submit again."),
        ("压缩包解压后过大或压缩比异常（zip 炸弹）、声明大小与实际不符、成员过多，或工作表中有内容的单元格远超合理范围"
         "（空行、无内容的格式单元格和声明的范围不计，如 LibreOffice 删除行后留下的第 1048576 行）。",
         "The archive inflates too far or at an abnormal ratio (zip bomb), its declared sizes are false, it has too "
         "many members, or a sheet holds a cell with content far beyond any sane extent (empty rows, formatted "
         "empty cells and the declared range do not count, such as the row 1048576 LibreOffice leaves after a "
         "row is deleted)."),
        {"reason_zh": "工作表 “考核评分” (xl/worksheets/sheet1.xml) 含有远端单元格（最远到 XFD1048576，即第 1,048,576 行、"
                      "第 16,384 列），超出上限（100,000 行、200 列）",
         "reason_en": "sheet “考核评分” (xl/worksheets/sheet1.xml) holds cells as far as XFD1048576 (row 1,048,576, "
                      "column 16,384), beyond the limit (100,000 rows, 200 columns)",
         "value": "row 1048576, column 16384", "expected": "100000 rows x 200 columns"},
    ),
    _kind(
        "file-cell-order", "error",
        ("工作表单元格重复或顺序错乱", "Sheet cells repeated or out of order"),
        ("文件已损坏，未予读取：工作表 {sheet_label} 中单元格 {cell_ref} 重复出现或顺序错乱，读取程序会用后写的值覆盖前面的值。",
         "The file is damaged and was not read: in sheet {sheet_label} the cell {cell_ref} is repeated or out of order, "
         "so a reader would let a later value replace an earlier one."),
        ("用 Excel 或 WPS 打开文件（程序会修复工作表），核对数值后另存为“Excel 工作簿 (*.xlsx)”再提交；或在 HR 下发的原表中重新填写。",
         "Open the file in Excel or WPS (which repairs the sheet), check the values, save it as 'Excel Workbook "
         "(*.xlsx)' and submit again; or fill in a fresh copy of the workbook HR sent."),
        ("工作表 XML 中同一单元格出现两次，或单元格不按行列顺序排列。正常的表格程序不会这样保存；同一单元格两个值时，"
         "读取结果取决于程序，故整份文件不予读取。",
         "The sheet's XML lists one cell twice, or cells out of row/column order. No spreadsheet program saves "
         "that; with two values for one cell what is read depends on the reader, so the whole file is refused."),
        {"sheet_label": "“考核评分” (xl/worksheets/sheet1.xml)", "cell_ref": "B2"},
    ),
    _kind(
        "file-has-macros", "error",
        ("文件包含宏", "File contains macros"),
        ("文件包含宏（{what_zh}）。系统不会运行宏，只读取单元格数值，但含宏文件不予接收。",
         "The file contains macros ({what_en}). They are never run and only cell values are read, but macro-bearing "
         "files are not accepted."),
        ("用 Excel 另存为“Excel 工作簿 (*.xlsx)”（不含宏）后重新提交。", "Save it as 'Excel Workbook (*.xlsx)' (macro-free) and submit again."),
        ("文件含 VBA 工程、Excel 4.0 宏表或 ActiveX 控件（如 .xlsm）。仍会读取数值以便一次报告所有问题。",
         "The file holds a VBA project, Excel 4.0 macro sheets or ActiveX controls (e.g. .xlsm). Values are still "
         "read so that every other problem is reported at once."),
        {"what_zh": "VBA 工程（xl/vbaProject.bin）", "what_en": "a VBA project (xl/vbaProject.bin)"},
    ),
    _kind(
        "file-lock", "warning",
        ("Excel 锁文件", "Excel lock file"),
        ("{name} 是 Excel/WPS/LibreOffice 打开工作簿时生成的临时锁文件，不是考核表，已跳过。",
         "{name} is the temporary lock file Excel/WPS/LibreOffice creates while a workbook is open; it is not a "
         "workbook and was skipped."),
        ("关闭正在编辑的工作簿后锁文件会自动消失；请只提交工作簿本身，不要提交以 ~$ 开头的文件。",
         "Close the workbook and the lock file disappears; submit only the workbook itself, never files starting "
         "with ~$."),
        ("以 ~$ 或 .~lock. 开头的锁文件，说明原工作簿正被打开（可能还在修改）。",
         "A ~$ or .~lock. owner file: the real workbook is open somewhere and may still be changing."),
        {"name": "~$考核表_售后一组.xlsx"},
    ),
    # --- template- : is this a kpisheet workbook, and is it intact? -----------------------
    _kind(
        "template-unknown", "error",
        ("不是考核表模板", "Not a kpisheet workbook"),
        ("这是电子表格，但不是 kpisheet 生成的考核表（{reason_zh}）。", "This is a spreadsheet but not a kpisheet workbook ({reason_en})."),
        ("请在 HR 下发的考核表中填写并提交，不要新建工作簿或把内容复制到其他文件。",
         "Fill in and submit the workbook HR sent; do not start a new workbook or copy the content into another file."),
        ("缺少隐藏的 _meta 工作表或其中的模板标识。", "The hidden _meta sheet or the template id in it is missing."),
        {"reason_zh": "缺少工作表：_meta（不是考核表，或工作表被删除/改名）",
         "reason_en": "missing sheet(s): _meta (not a kpisheet team workbook, or sheets were deleted or renamed)"},
    ),
    _kind(
        "template-version", "error",
        ("模板版本不受支持", "Unsupported template version"),
        ("考核表模板版本为 {value}，本系统支持的版本是 {expected}。", "The workbook's template version is {value}; this system supports {expected}."),
        ("请向 HR 领取最新版考核表，把已填内容复制到新表后提交。", "Get the current workbook from HR, copy what you entered into it and submit that."),
        ("_meta 中的模板版本与当前程序不一致。", "The template version in _meta is not the one this program reads."),
        {"sheet": "_meta", "cell": "B2", "value": "0", "expected": "1"},
    ),
    _kind(
        "template-rulebook-mismatch", "error",
        ("规则表不一致", "Rulebook mismatch"),
        ("本表依据的规则表（{value}）与本次校验使用的规则表（{expected}）不一致。",
         "The workbook was made from rulebook {value}, but this check uses rulebook {expected}."),
        ("请确认填写的是本期 HR 下发的考核表；若 HR 已更新规则，请领取新表重新填写。",
         "Make sure this is the workbook HR sent for this period; if HR changed the rules since, fill in the new "
         "workbook."),
        ("_meta 中的规则表指纹与校验所用规则表不同。", "The rulebook fingerprint in _meta differs from the rulebook used for checking."),
        {"sheet": "_meta", "cell": "B8", "value": "aftersales-default 2025.2 (3f9c2b7e01d4a5c6)",
         "expected": "aftersales-default 2026.1 (a41d07c93e5b2f18)"},
    ),
    _kind(
        "template-department-unknown", "error",
        ("部门没有规则表", "Department without rules"),
        ("本表属于部门“{value}”，但公司规则表中没有该部门的规则表（已有：{expected}），无法校验。",
         "The workbook belongs to department '{value}', which has no rulebook in the company's rules (they have: "
         "{expected}); it cannot be checked."),
        ("请确认这是本公司 HR 下发的考核表；若是新部门，请 HR 先为其添加部门规则表。",
         "Make sure HR sent this workbook; for a new department, HR first adds its department rulebook."),
        ("按公司规则表校验时，每个考核表按 _meta 中的部门使用该部门的规则表；此部门没有规则表。",
         "With a company's rulebooks, each workbook is checked against the rules of the department its _meta names; "
         "this department has none."),
        {"sheet": "_meta", "cell": "B4", "value": "财务部", "expected": "售后服务部、销售部、研发中心"},
    ),
    _kind(
        "template-structure-changed", "error",
        ("表格结构被改动", "Workbook structure changed"),
        ("{sheet}：表格结构被改动{about_zh}，{detail_zh}。",
         "{sheet}: the sheet's structure was changed{about_en}: {detail_en}."),
        ("不要插入或删除行列，也不要修改灰色锁定单元格（工号、指标代码、公式）。请撤销这些改动，或在新表中重新填写。",
         "Do not insert or delete rows or columns or change the grey locked cells (IDs, indicator codes, formulas). "
         "Undo those changes or fill in a fresh workbook."),
        ("插入或删除了行、锁定单元格或指标代码被改，与 _meta 记录的结构不符。",
         "Rows were inserted or deleted, or locked cells or indicator codes changed, so the sheet no longer matches "
         "the structure recorded in _meta."),
        {"sheet": "目标设定", "cell": "E7", **_WHO,
         "detail_zh": "第 7 行的指标代码应为“ENG_FTFR”，实际为“ENG_DOCS”（锁定单元格被改动）",
         "detail_en": "row 7 should hold indicator code 'ENG_FTFR' but holds 'ENG_DOCS' (a locked cell was changed)"},
    ),
    _kind(
        "template-not-signed", "error",
        ("缺少 HR 签名", "Not signed by HR"),
        ("{sheet}!{cell}：无法确认本表由 HR 下发：{reason_zh}。", "{sheet}!{cell}: nothing shows that HR issued this "
         "workbook: {reason_en}."),
        ("请提交 HR 用 kpisheet 生成并下发的考核表。若 HR 在另一台电脑上生成了考核表，请 HR 用 kpisheet key export / "
         "key import 把那台电脑的签名密钥导入本机后重新校验。",
         "Submit the workbook HR made with kpisheet and sent out. If HR made the workbooks on another computer, HR "
         "imports that computer's signing key (kpisheet key export / key import) and validates again."),
        ("HR 的签名密钥存在，但本表没有签名、签名无法识别，或由另一把密钥签名：无法确认本表是 HR 下发的。",
         "HR's signing key exists, but the workbook carries no signature, an unreadable one, or one made with "
         "another key: nothing shows that HR issued it."),
        {"sheet": "_meta", "cell": "G1", "reason_zh": "本表没有 HR 的签名（不是用本机的 HR 密钥生成的，或签名被删除）",
         "reason_en": "the workbook carries no HR signature (not made with this computer's HR key, or the signature "
                      "was removed)"},
    ),
    _kind(
        "template-signature-mismatch", "error",
        ("与 HR 签名不符", "Does not match HR's signature"),
        ("{sheet}!{cell}：{what_zh}与 HR 签发时的签名不符（签发后被改动）。",
         "{sheet}!{cell}: HR's signature does not match {what_en} (changed after HR issued the workbook)."),
        ("请在 HR 下发的原表中填写并提交，不要修改隐藏的 _meta 工作表或灰色锁定单元格；人员或岗位确有变化的，请 HR 重新生成考核表。",
         "Fill in and submit the workbook HR issued, without changing the hidden _meta sheet or the grey locked "
         "cells; if people or roles really changed, ask HR for a new workbook."),
        ("HR 生成考核表时用密钥签名了团队、部门、期间、规则表和每名员工的行与指标；其中某项在签发后被改动。",
         "When HR made the workbook it signed the team, department, period, rulebook and each employee's rows and "
         "indicators with its key; one of them was changed afterwards."),
        {"sheet": "_meta", "cell": "D12", "employee_id": "E1003", "what_zh": "员工 E1003 的考核指标",
         "what_en": "the indicators of employee E1003"},
    ),
    _kind(
        "template-indicator-not-in-role", "error",
        ("指标不属于该岗位", "Indicator not in the role"),
        ("{sheet}!{cell}：员工 {employee_id} 的岗位是{role_zh}（{source_zh}），指标 {indicator}（{name_zh}）不是该岗位的考核指标。",
         "{sheet}!{cell}: employee {employee_id} is a(n) {role_en} ({source_en}); indicator {indicator} ({name_en}) is "
         "not one of that role's indicators."),
        ("不要更改指标代码；每个岗位的考核指标由规则表规定。岗位确有变化的，请 HR 更新花名册并重新生成考核表。",
         "Do not change indicator codes: each role's indicators are set by the rulebook. If the employee's role "
         "changed, ask HR to update the roster and make a new workbook."),
        ("员工的指标必须正好是规则表为其岗位规定的那些（岗位以花名册为准，没有花名册时以 HR 签名的行映射或汇总表的岗位为准）。",
         "An employee's indicators must be exactly the rulebook's set for their role (the role from the roster, "
         "else from HR's signed row map or the summary's role column)."),
        {"sheet": "目标设定", "cell": "E21", "employee_id": "E1005", "indicator": "TS_REMOTE",
         "role_zh": "客服专员", "role_en": "Customer service agent", "source_zh": "花名册",
         "source_en": "per the roster", "name_zh": "远程问题解决率", "name_en": "Remote resolution rate"},
    ),
    _kind(
        "template-role-indicator-missing", "error",
        ("缺少岗位指标", "Role indicator missing"),
        ("{sheet}!{cell}：员工 {employee_id}（{role_zh}，{source_zh}）缺少本岗位的指标 {indicator}（{name_zh}）。",
         "{sheet}!{cell}: employee {employee_id} ({role_en}, {source_en}) lacks the role's indicator {indicator} "
         "({name_en})."),
        ("不要删除或替换指标行；请在 HR 下发的原表中填写。", "Do not delete or replace indicator rows; fill in the "
         "workbook HR issued."),
        ("规则表为该岗位规定的指标在表中没有出现。", "An indicator the rulebook sets for the employee's role is not in the workbook."),
        {"sheet": "目标设定", "cell": "E20", "employee_id": "E1005", "indicator": "CS_ANSWER", "role_zh": "客服专员",
         "role_en": "Customer service agent", "source_zh": "花名册", "source_en": "per the roster",
         "name_zh": "呼叫响应率/接通率", "name_en": "Call answer rate"},
    ),
    _kind(
        "template-formula-replaced", "error",
        ("公式被数值覆盖", "Formula replaced by a value"),
        ("{sheet}!{cell}：员工 {employee} 的{indicator_part_zh}{field_zh}应由公式计算，现在却是{value}，公式已被覆盖或删除"
         "（即使数值相同，也不会再随输入更新）。",
         "{sheet}!{cell}: employee {employee}'s {field_en}{indicator_part_en} should be computed by its formula but "
         "holds {value}: the formula was overwritten or deleted (even with the same number it no longer follows the "
         "inputs)."),
        ("不要在灰色计算单元格中输入或粘贴数值；请从 HR 下发的原表复制该单元格（含公式）粘贴回来，或在新表中重新填写。",
         "Do not type or paste values into the grey computed cells; copy the cell (with its formula) from the "
         "workbook HR sent and paste it back, or fill in a fresh workbook."),
        ("计算单元格（权重与目标的引用、指标得分、加权得分、小计、加分、总分、等级、系数、排名、权重合计）中没有公式，"
         "只有输入或粘贴的数值，或被清空。按工作表 XML 判断，只在读取文件时检查。",
         "A computed cell (the weight and target copies, indicator score, weighted score, subtotals, bonus, total, "
         "grade, coefficient, rank, weight sum) holds a typed or pasted value, or nothing, instead of its formula. "
         "Read from the sheet XML, so checked when a file is read."),
        {"sheet": "汇总", "cell": "J4", **_WHO, "field_zh": "总分", "field_en": "total", "value": 75},
    ),
    # --- goal- : the 目标设定 sheet ------------------------------------------------------
    _kind(
        "goal-weight-sum", "error",
        ("权重合计不等于 100", "Weights do not sum to 100"),
        ("{sheet}!{cell}：员工 {employee} 各指标权重合计为 {value}%，应为 {expected}%。",
         "{sheet}!{cell}: the weights of employee {employee} sum to {value}%, but must sum to {expected}%."),
        ("调整该员工各指标的“权重%”，使合计正好等于 {expected}。", "Adjust this employee's Weight % cells so that they add up to exactly {expected}."),
        ("一名员工所有指标的权重之和必须等于 100。", "The weights of one employee's indicators must sum to exactly 100."),
        {**_GOAL, "cell": "N4", "indicator": None, "value": 95, "expected": 100},
    ),
    _kind(
        "goal-weight-range", "error",
        ("权重超出范围", "Weight out of range"),
        ("{sheet}!{cell}：员工 {employee} 的指标 {indicator_label}权重为 {value}%，允许范围是 {expected}%。",
         "{sheet}!{cell}: employee {employee}'s weight for {indicator_label} is {value}%; the allowed range is {expected}%."),
        ("把权重改到 {expected}% 之间，并保持该员工权重合计为 100。", "Set the weight within {expected}% and keep the employee's total at 100."),
        ("指标权重低于规则表中的最小值或高于最大值。", "An indicator's weight is below its minimum or above its maximum in the rulebook."),
        {**_GOAL, "value": 40, "expected": "5–30"},
    ),
    _kind(
        "goal-target-missing", "error",
        ("缺少目标值", "Target value missing"),
        ("{sheet}!{cell}：员工 {employee} 的指标 {indicator_label}未填写{field_zh}。",
         "{sheet}!{cell}: employee {employee}'s {indicator_label} has no {field_en}."),
        ("在该单元格填写{field_zh}（数字）。", "Enter the {field_en} (a number) in this cell."),
        ("需要由上级设定的底线值、目标值或挑战值为空。", "A floor, target or challenge value the manager must set is empty."),
        {**_GOAL, "cell": "K6", "field_zh": "目标值", "field_en": "target"},
    ),
    _kind(
        "goal-target-order", "error",
        ("底线/目标/挑战值顺序不对", "Floor/target/challenge out of order"),
        ("{sheet}!{cell}：员工 {employee} 的指标 {indicator_label}底线值 / 目标值 / 挑战值为 {value}，应满足 {order_zh}。",
         "{sheet}!{cell}: employee {employee}'s {indicator_label} has floor / target / challenge {value}; they must satisfy {order_en}."),
        ("检查这三个值是否填反或填错了单位。", "Check whether the three values were swapped or typed in the wrong unit."),
        ("越高越好的指标须 底线 < 目标 ≤ 挑战；越低越好的指标须 底线 > 目标 ≥ 挑战（目标等于挑战时，超过目标即得封顶分）。",
         "For a higher-better indicator floor < target ≤ challenge; for a lower-better one floor > target ≥ challenge "
         "(with the target equal to the challenge, anything better than the target scores the cap)."),
        {**_GOAL, "cell": "K6", "value": "4 / 8 / 2", "expected": "floor > target ≥ challenge (lower is better)",
         "order_zh": "底线值 > 目标值 ≥ 挑战值（越低越好）", "order_en": "floor > target ≥ challenge (lower is better)"},
    ),
    _kind(
        "goal-smart-missing", "warning",
        ("缺少 SMART 目标描述", "SMART description missing"),
        ("{sheet}!{cell}：员工 {employee} 的指标 {indicator_label}未填写 SMART 目标描述。",
         "{sheet}!{cell}: employee {employee}'s {indicator_label} has no SMART description."),
        ("写明具体、可衡量、可达成、相关、有时限的目标，如“第三季度客户满意度达到 95%，以月度回访调查为准”。",
         "Write a specific, measurable, achievable, relevant and time-bound goal, e.g. 'Q3 customer satisfaction at "
         "95%, measured by the monthly follow-up survey'."),
        ("目标描述为空或过短，员工无法据此理解考核要求。", "The goal description is empty or too short for the employee to know what is expected."),
        {**_GOAL, "cell": "M6"},
    ),
    _kind(
        "goal-category-weight", "error",
        ("类别权重不符", "Category weight mismatch"),
        ("{sheet}!{cell}：员工 {employee} 的{category_zh}类指标权重合计为 {value}%，规则表规定为 {expected}%。",
         "{sheet}!{cell}: employee {employee}'s {category_en} indicators weigh {value}% in all; the rulebook "
         "sets {expected}%."),
        ("只在同一类别的指标之间调整权重，使该类别合计等于 {expected}%。",
         "Move weight only between indicators of the same category, so that the category adds up to {expected}%."),
        ("一名员工某一类别（业绩/能力/态度）的指标权重之和与规则表的类别权重不同。",
         "The weights of one employee's indicators in a category (results/competency/attitude) differ from the "
         "rulebook's category weight."),
        {**_GOAL, "cell": "I4", "indicator": None, "value": 55, "expected": 60, "category_zh": "工作业绩",
         "category_en": "Results"},
    ),
    _kind(
        "goal-mandatory-missing", "error",
        ("缺少必选指标", "Mandatory indicator missing"),
        ("{sheet}!{cell}：员工 {employee} 缺少必选指标 {indicator_label}，或其权重为 0。",
         "{sheet}!{cell}: employee {employee} lacks the mandatory indicator {indicator_label}, or it weighs 0."),
        ("恢复该指标行并给出权重；必选指标不能删除或设为 0。",
         "Restore the indicator's row and give it a weight; a mandatory indicator cannot be removed or set to 0."),
        ("规则表规定为必选的岗位指标不在表中，或权重为 0。",
         "An indicator the rulebook makes mandatory for the role is missing from the sheet or weighs 0."),
        {**_GOAL, "cell": "I11", "indicator": "DISC", "indicator_names": ("纪律性", "Discipline"), "value": 0,
         "expected": "纪律性"},
    ),
    _kind(
        "goal-error-value", "error",
        ("单元格显示错误值", "Cell shows an error value"),
        ("{sheet}!{cell}：员工 {employee} 的{indicator_part_zh}{field_zh}显示错误值 {value}，不是有效输入。",
         "{sheet}!{cell}: employee {employee}'s {field_en}{indicator_part_en} shows the error value {value}, which is not "
         "an input."),
        ("在该单元格直接输入数值或文字；不要在输入单元格里写公式，也不要粘贴显示 #DIV/0!、#N/A 等错误的内容。",
         "Type the value itself into this cell; do not put a formula into an input cell or paste content that shows "
         "#DIV/0!, #N/A or another error."),
        ("目标设定的输入单元格中是错误值（#DIV/0!、#N/A、#VALUE! 等），通常是输入了公式或粘贴了出错的内容。读取程序把它当作空白，"
         "所以单独报告。",
         "An input cell of the goal sheet holds an error value (#DIV/0!, #N/A, #VALUE! …), usually a formula typed "
         "into it or pasted content. Readers take it for a blank, so it is reported on its own."),
        {**_GOAL, "field_zh": "权重%", "field_en": "weight %", "value": "#N/A"},
    ),
    _kind(
        "goal-changed-after-approval", "error",
        ("目标审批后被修改", "Goal changed after approval"),
        ("{sheet}!{cell}：员工 {employee} 的指标 {indicator_label}的{field_zh}在目标审批后被改动（审批时为 {expected}，现为 {value}）。",
         "{sheet}!{cell}: employee {employee}'s {field_en} for {indicator_label} changed after the goals were approved "
         "(approved {expected}, now {value})."),
        ("恢复为审批时的值；确需调整目标的，请走目标变更审批并由 HR 重新下发。",
         "Restore the approved value; a goal that must change needs a change approval, after which HR reissues the workbook."),
        ("评分阶段的权重、目标值或 SMART 描述与已审批的目标表不一致。",
         "In the scoring phase a weight, target or SMART text differs from the approved goal sheet."),
        {**_GOAL, "field_zh": "权重", "field_en": "weight", "expected": 10, "value": 15},
    ),
    # --- score- : the 考核评分 sheet ------------------------------------------------------
    _kind(
        "score-not-number", "error",
        ("不是数字", "Not a number"),
        ("{sheet}!{cell}：员工 {employee} 的{indicator_part_zh}{field_zh}“{value}”不是数字（{problem_zh}）。",
         "{sheet}!{cell}: employee {employee}'s {field_en}{indicator_part_en}, '{value}', is not a number ({problem_en})."),
        ("只输入数字：百分比直接输入 95% 或 0.95，不要输入“约90”、全角数字或多余空格。",
         "Type the number only: a percentage as 95% or 0.95, without words such as '约' (about), full-width digits or "
         "extra spaces."),
        ("应填数字的单元格里是文本：全角数字、文本形式的“95%”、“约90”、多余空格等。",
         "A cell that needs a number holds text: full-width digits, '95%' stored as text, '约90' (about 90), stray spaces."),
        {**_CELL, "value": "约90", "expected": "0.9 (90%)", "field_zh": "实际值", "field_en": "actual value",
         "problem_zh": "含有文字“约”", "problem_en": "it contains the word '约'"},
    ),
    _kind(
        "score-error-value", "error",
        ("单元格显示错误值", "Cell shows an error value"),
        ("{sheet}!{cell}：员工 {employee} 的{indicator_part_zh}{field_zh}显示错误值 {value}，不是有效输入。",
         "{sheet}!{cell}: employee {employee}'s {field_en}{indicator_part_en} shows the error value {value}, which is not "
         "an input."),
        ("在该单元格直接输入数值或文字；不要在输入单元格里写公式，也不要粘贴显示 #DIV/0!、#N/A 等错误的内容。",
         "Type the value itself into this cell; do not put a formula into an input cell or paste content that shows "
         "#DIV/0!, #N/A or another error."),
        ("考核评分或汇总的输入单元格中是错误值（#DIV/0!、#N/A、#VALUE! 等），通常是输入了公式或粘贴了出错的内容。"
         "读取程序把它当作空白，所以单独报告，不再按“未填写”报告。",
         "An input cell of the scoring or summary sheet holds an error value (#DIV/0!, #N/A, #VALUE! …), usually a "
         "formula typed into it or pasted content. Readers take it for a blank, so it is reported on its own "
         "instead of as missing."),
        {**_CELL, "cell": "M4", "field_zh": "自评(1-5)", "field_en": "self 1-5", "value": "#DIV/0!"},
    ),
    _kind(
        "score-percent-scale", "error",
        ("百分比比例错误", "Percent scale mistake"),
        ("{sheet}!{cell}：员工 {employee} 的{indicator_part_zh}{field_zh}为 {value}，按该指标单位（{unit_zh}）看比例不对，"
         "可能应为 {expected}。{consequence_zh}",
         "{sheet}!{cell}: employee {employee}'s {field_en}{indicator_part_en} is {value}, which does not fit the "
         "indicator's unit ({unit_en}); it was probably meant as {expected}.{consequence_en}"),
        ("百分比请输入 95% 或 0.95（不要输入 95）；非百分比指标请输入原始数值。",
         "Enter a percentage as 95% or 0.95 (not 95); enter a non-percent indicator in its own unit."),
        ("百分比指标输入了 95 而不是 95%，或非百分比指标输入了小数比例。",
         "95 was typed where 95% was meant, or a fraction was typed for an indicator that is not a percentage."),
        {**_CELL, "value": 95, "expected": "0.95 (95%)", "unit_zh": "%", "unit_en": "%", "field_zh": "实际值",
         "field_en": "actual value", **_CAPPED_SLIP},
        ("consequence_zh", "consequence_en"),
    ),
    _kind(
        "score-out-of-range", "error",
        ("数值超出合理范围", "Value out of range"),
        ("{sheet}!{cell}：员工 {employee} 的{indicator_part_zh}{field_zh}为 {value}，超出合理范围 {expected}。{consequence_zh}",
         "{sheet}!{cell}: employee {employee}'s {field_en}{indicator_part_en} is {value}, outside the plausible range "
         "{expected}.{consequence_en}"),
        ("核对原始数据后重新输入；确属特殊情况请在“说明/依据”栏写明。",
         "Check the source data and re-enter the value; if it is truly exceptional, explain it in the comment column."),
        ("数值不可能成立，如负数、超过 100% 的比率或超出规则表允许的范围。",
         "The value is impossible: negative, a rate over 100%, or outside the rulebook's range."),
        {**_CELL, "field_zh": "实际值", "field_en": "actual value", "value": 1.35, "expected": "0%–100%",
         **_CAPPED_SLIP},
        ("consequence_zh", "consequence_en"),
    ),
    _kind(
        "score-rating-invalid", "error",
        ("评分无效", "Invalid rating"),
        ("{sheet}!{cell}：员工 {employee} 的指标 {indicator_label}的{field_zh}为 {value}，只能填 {expected}。",
         "{sheet}!{cell}: employee {employee}'s {field_en} for {indicator_label} is {value}; it can only be {expected}."),
        ("从下拉列表中选择评分（1 最差，5 最好）。", "Pick the rating from the dropdown (1 lowest, 5 highest)."),
        ("自评或上级评分不是规则表允许的等级（默认 1–5 的整数）。", "A self or manager rating is not one the rulebook allows (whole numbers 1–5 by default)."),
        {**_CELL, "cell": "N9", "indicator": "COMP_SKILL", "indicator_names": ("专业技能", "Professional skill"),
         "field_zh": "上级评分", "field_en": "manager rating", "value": 4.5, "expected": "1, 2, 3, 4, 5"},
    ),
    _kind(
        "score-missing", "error",
        ("缺少评分输入", "Scoring input missing"),
        # a summary input (表彰次数, 一票否决) left empty is no indicator's: its field names it alone
        ("{sheet}!{cell}：员工 {employee} {indicator_subject_zh}未填写{field_zh}。",
         "{sheet}!{cell}: employee {employee}{indicator_subject_en} has no {field_en}."),
        ("填写该单元格；确实没有数据的，请与 HR 确认处理办法并在“说明/依据”栏注明。",
         "Fill in this cell; if there is really no data, agree with HR how to handle it and say so in the comment column."),
        ("计算得分所需的实际值或评分为空，或汇总表的表彰次数、一票否决为空（无表彰填 0，无否决事项选“无”）。",
         "An actual value or rating needed to compute the score is empty, or the summary sheet's commendations or "
         "veto is (type 0 for none; pick the no-veto choice)."),
        {**_CELL, "field_zh": "实际值", "field_en": "actual value"},
    ),
    _kind(
        "score-comment-required", "error",
        ("需要填写说明", "Comment required"),
        ("{sheet}!{cell}：员工 {employee} 的指标 {indicator_label}{reason_zh}，须在“说明/依据”栏写明理由。",
         "{sheet}!{cell}: employee {employee}'s {indicator_label} {reason_en}, so the comment column must give the reason."),
        ("在“说明/依据”栏写明事实依据（事件、数据来源或面谈记录）。", "Write the evidence in the comment column (events, data source or interview notes)."),
        ("极端得分，或自评与上级评分差距超过规则表阈值，但说明栏为空。",
         "An extreme score, or a self/manager gap above the rulebook's threshold, has no comment."),
        {**_CELL, "cell": "O9", "indicator": "COMP_SKILL", "indicator_names": ("专业技能", "Professional skill"),
         "reason_zh": "自评 1 分与上级评分 4 分相差 3 分（超过 2 分）",
         "reason_en": "has a self rating of 1 against a manager rating of 4, a gap of 3 (over 2)"},
    ),
    _kind(
        "score-total-mismatch", "error",
        ("计算结果被改动", "Computed value altered"),
        ("{sheet}!{cell}：员工 {employee} 的{indicator_part_zh}{field_zh}在文件中为 {value}，按规则重新计算应为 {expected}，"
         "公式可能被覆盖或改动。",
         "{sheet}!{cell}: employee {employee}'s {field_en}{indicator_part_en} reads {value} in the file but recomputes "
         "to {expected}; the formula was probably overwritten or changed."),
        ("不要在得分、合计、等级等计算列手工输入；请从原表复制回公式，或在新表中重新填写。",
         "Never type into score, total or grade columns; copy the formula back from the original workbook or fill in a fresh one."),
        ("文件中缓存的得分/合计/等级与 Python 按输入重新计算的结果不一致。",
         "A cached score, total or grade in the file differs from Python's recomputation from the inputs."),
        {"sheet": "汇总", "cell": "J4", **_WHO, "field_zh": "总分", "field_en": "total", "value": 95,
         "expected": 75},
    ),
    _kind(
        "score-actual-changed", "warning",
        ("预填实际值被修改", "Prefilled actual changed"),
        ("{sheet}!{cell}：员工 {employee} 的指标 {indicator_label}实际值由系统（{source}）预填的 {expected} 改为 {value}，"
         "但未填写说明。",
         "{sheet}!{cell}: employee {employee}'s actual value for {indicator_label} was changed from {expected}, "
         "prefilled from {source}, to {value} without a comment."),
        ("若修改有依据，请在“说明/依据”栏写明数据来源；否则恢复预填值。",
         "If the change is justified, give the data source in the comment column; otherwise restore the prefilled value."),
        ("系统预填的实际值被改动且无说明。", "A value prefilled from the source system was changed without a comment."),
        {**_CELL, "value": 0.97, "expected": 0.91, "source": "survey"},
    ),
    # --- team- : the team as a whole -------------------------------------------------------
    _kind(
        "team-duplicate-employee", "error",
        ("员工重复", "Duplicate employee"),
        ("{sheet}!{cell}：工号 {employee} 重复出现（另见 {other}）。",
         "{sheet}!{cell}: employee {employee} appears more than once (also at {other})."),
        ("删除重复的行，每名员工在同一期间只在一份考核表中出现一次。",
         "Delete the duplicate rows: each employee appears once, in one workbook per period."),
        ("同一工号在汇总表中出现多次，或同一期间出现在两份考核表中。",
         "The same employee ID appears more than once on the summary sheet, or in two workbooks of one period."),
        {"sheet": "汇总", "cell": "A6", "employee_id": "E1003", "employee_name": "王强", "other": "汇总!A4"},
    ),
    _kind(
        "team-unknown-employee", "error",
        ("员工不在花名册", "Employee not in the roster"),
        ("{sheet}!{cell}：工号 {employee} 不在花名册中。", "{sheet}!{cell}: employee {employee} is not in the roster."),
        ("核对工号是否输错；新入职员工请先请 HR 加入花名册并重新下发考核表。",
         "Check the ID for typos; for a new hire ask HR to add them to the roster and reissue the workbook."),
        ("表中的工号在花名册里找不到。", "An employee ID in the workbook is not found in the roster."),
        {"sheet": "汇总", "cell": "A6", "employee_id": "E9999", "employee_name": "王强"},
    ),
    _kind(
        "team-missing-employee", "error",
        ("缺少员工", "Employee missing"),
        ("{sheet}：花名册中本团队的员工 {employee} 不在表中。",
         "{sheet}: employee {employee} of this team in the roster is missing from the workbook."),
        ("不要删除员工行；员工已离职或调岗的，请告知 HR 更新花名册。",
         "Do not delete employee rows; if the employee left or moved, ask HR to update the roster."),
        ("花名册中属于本团队且应参加考核的员工在表中缺失。", "An employee the roster places in this team and period is missing."),
        {"sheet": "汇总", "employee_id": "E1007", "employee_name": "王芳"},
    ),
    _kind(
        "team-wrong-department", "error",
        ("员工不属于本团队", "Employee in the wrong team"),
        ("{sheet}!{cell}：员工 {employee} 在花名册中属于 {value}，不属于本表的 {expected}。",
         "{sheet}!{cell}: employee {employee} belongs to {value} in the roster, not to this workbook's {expected}."),
        ("请把该员工交由所属团队的考核表评分；如已调岗，请告知 HR 更新花名册。",
         "Have the employee appraised in their own team's workbook; if they moved, ask HR to update the roster."),
        ("员工在花名册中的部门或团队与本表不同。", "The employee's department or team in the roster differs from the workbook's."),
        {"sheet": "汇总", "cell": "A5", "employee_id": "E1004", "employee_name": "李娜", "value": "售后服务部 / 客服二组",
         "expected": "售后服务部 / 工程一组"},
    ),
    _kind(
        "team-members-differ", "error",
        ("团队成员与已接收的提交不同", "Team members differ from the accepted submission"),
        ("{sheet}!{cell}：本表自称 {value}，但该团队已接收的提交（{other}）列出的员工不同（{detail_zh}）；没有花名册无法确认谁属于该团队，本表未被接收。",
         "{sheet}!{cell}: this workbook claims to be {value}, but the team's accepted submission ({other}) lists "
         "other employees ({detail_en}); without a roster nobody can tell who belongs to the team, so this "
         "workbook was not accepted."),
        ("HR：请用 --roster 给出花名册重新汇总，花名册决定谁属于哪个团队；经理：请提交本团队 HR 下发的考核表。",
         "HR: consolidate again with --roster; the roster decides who belongs to which team. Manager: submit "
         "your own team's workbook as HR issued it."),
        ("没有花名册时，一份自称某团队的文件若与该团队已接收的提交人员不同，可能是冒名顶替，不予接收（不会替代已接收的提交）。",
         "Without a roster, a file claiming a team whose accepted submission lists different employees may be an "
         "impersonation; it is refused and does not replace the accepted one."),
        {"sheet": "_meta", "cell": "B5", "value": "售后服务部 / 技术支持组", "other": "2026-Q4_售后服务部_技术支持组.xlsx",
         "detail_zh": "多出 SH0031 等 13 人，缺少 SH0060 等 9 人", "detail_en": "13 more such as SH0031, 9 missing such as SH0060"},
    ),
    _kind(
        "team-period-mismatch", "error",
        ("考核期间不符", "Wrong period"),
        ("{sheet}!{cell}：本表的考核期间为 {value}，本次收取的是 {expected}。",
         "{sheet}!{cell}: this workbook is for period {value}, but {expected} is being collected."),
        ("请提交本期的考核表；上期的表不要重复提交。", "Submit this period's workbook; do not resend an earlier period's."),
        ("考核表的期间与本次校验的期间不同。", "The workbook's period differs from the period being validated."),
        {"sheet": "_meta", "cell": "B3", "value": "2026-Q2", "expected": "2026-Q3"},
    ),
    _kind(
        "team-signoff-missing", "error",
        ("缺少签字", "Sign-off missing"),
        ("{sheet}!{cell}：员工 {employee} 的{field_zh}{problem_zh}。", "{sheet}!{cell}: employee {employee}'s {field_en} {problem_en}."),
        ("面谈反馈后由上级和员工分别签字并填写签字日期（在规定期限内）。",
         "After the feedback interview the manager and the employee each sign and date (within the deadline)."),
        ("上级或员工签字为空，或签字日期不在规定期限内。", "A manager or employee sign-off is empty, or dated outside the sign-off window."),
        {"sheet": "汇总", "cell": "Q4", **_WHO, "field_zh": "员工签字日期", "field_en": "employee sign-off date",
         "value": "2026-07-20", "expected": "2026-04-01 – 2026-07-15",
         "problem_zh": "为 2026-07-20，不在 2026-04-01 至 2026-07-15 的签字期限内",
         "problem_en": "is 2026-07-20, outside the sign-off window 2026-04-01 to 2026-07-15"},
    ),
    _kind(
        "team-feedback-missing", "warning",
        ("缺少面谈记录或改进计划", "Feedback or improvement plan missing"),
        ("{sheet}!{cell}：员工 {employee} 的{field_zh}为空{reason_zh}。",
         "{sheet}!{cell}: employee {employee}'s {field_en} is empty{reason_en}."),
        ("面谈反馈后填写反馈面谈记录；等级为改进计划等级（默认 C、D）的员工还须填写待改进问题、改进措施、辅导人和完成日期。",
         "After the feedback interview, record it; for a grade that needs an improvement plan (C and D by default) "
         "also fill in the shortfalls, actions, coach and due date."),
        ("汇总表中被标为缺失的反馈面谈记录为空，或需要绩效改进计划的员工缺少改进计划内容。",
         "A feedback interview record the summary sheet marks as missing is empty, or an employee whose grade needs "
         "an improvement plan lacks part of it."),
        {"sheet": "汇总", "cell": "R4", **_WHO, "field_zh": "反馈面谈记录",
         "field_en": "feedback interview record", "reason_zh": "", "reason_en": ""},
    ),
    _kind(
        "team-distribution-over-quota", "warning",
        ("等级分布超出配额", "Grade distribution over quota"),
        ("{sheet}：{grade} 等级共 {count} 人，占 {value}，超过配额 {expected}。",
         "{sheet}: grade {grade} has {count} people, {value} of the team, over the quota of {expected}."),
        ("复核评分；确需超出的，请在校准时提交书面说明（团队不足 10 人时在部门层面合并计算）。",
         "Review the ratings; if the excess is justified, give a written reason at calibration (teams under 10 are "
         "pooled at department level)."),
        ("团队等级分布超出强制分布配额（校准时在部门层面执行）。",
         "The team's grade distribution exceeds the forced-distribution quota (enforced at calibration by department)."),
        {"sheet": "汇总", "cell": "K6", "employee_id": "E1005", "grade": "S", "count": 3, "value": "25%",
         "expected": "≤ 1 (10%)"},
    ),
    _kind(
        "team-older-than-accepted", "error",
        ("比已接受的版本更旧", "Older than the accepted file"),
        ("本表保存于 {value}，早于本团队本期已接受的 {other}（保存于 {expected}），未采用。",
         "this workbook was saved at {value}, before {other}, the accepted file of this team and period (saved at "
         "{expected}); it was not taken."),
        ("如确需以此版本为准，请重新保存后提交，或由 HR 以 --accept-older 汇总（将记入日志）。",
         "If this version is the right one, save it again and resubmit, or HR consolidates with --accept-older "
         "(logged)."),
        ("同一团队同一期间已有较新的有效提交；较旧的草稿在之后的汇总中到达时不会替换它。",
         "The team already has a newer accepted submission for the period; an older draft arriving in a later run "
         "does not replace it."),
        {"value": "2026-04-01 09:00", "expected": "2026-04-03 17:30", "other": "inbox/考核表_一组.xlsx"},
    ),
    # --- master- : HR's master workbook (found at consolidation, shown in its 问题 sheet) -----
    _kind(
        "master-grade-invalid", "warning",
        ("校准等级无效", "Calibrated grade not a grade"),
        ("{sheet}!{cell}：员工 {employee} 的校准等级“{value}”不是有效等级（{expected}），最终等级未采用它。",
         "{sheet}!{cell}: employee {employee}'s calibrated grade {value} is not a grade ({expected}); the final "
         "grade does not use it."),
        ("请改为 {expected} 之一，或清空该单元格。", "Type one of {expected} or clear the cell."),
        ("HR 在总表“校准等级”栏填写的内容不是规则中的等级；最终等级按申诉改定或系统等级计算。",
         "What HR typed in the master's calibrated-grade column is not a grade of the rulebook; the final grade falls back "
         "to the appeal's revised grade or the system grade."),
        {"sheet": "总表", "cell": "T5", **_WHO, "value": "优", "expected": "S/A/B/C/D"},
    ),
    _kind(
        "master-duplicate-row", "warning",
        ("总表重复行", "Duplicate summary row"),
        ("{sheet}：期间 {period} 的员工 {employee} 有两行；系统只更新第一行，另一行原样保留。",
         "{sheet}: employee {employee} has two rows for period {period}; kpisheet updates the first and keeps "
         "the other as it is."),
        ("请删除多余的一行（先把其中的备注等 HR 内容合并到保留的一行）。",
         "Delete the extra row (first move any HR notes on it to the row you keep)."),
        ("总表中同一期间、同一工号出现两行（通常是手工复制所致）。",
         "The master's summary sheet holds two rows with the same period and employee ID (usually a row copied by hand)."),
        {"sheet": "总表", **_WHO, "period": "2026-03"},
    ),
    _kind(
        "master-duplicate-employee", "warning",
        ("员工出现在两份提交中", "Employee in two submissions"),
        ("{sheet}：员工 {employee} 同时出现在期间 {period} 的两份有效提交 {first} 和 {second} 中，采用较新的 {second}。",
         "{sheet}: employee {employee} is in two accepted submissions of period {period}, {first} and {second}; "
         "the newer, {second}, is used."),
        ("请确认该员工属于哪个团队，从另一份考核表中删除后重新提交；如已调岗，请更新花名册。",
         "Check which team the employee belongs to and remove them from the other workbook, then resubmit; if they "
         "moved, update the roster."),
        ("同一期间两个团队的有效提交都含有同一员工，总表只能采用其中一份。",
         "Two teams' accepted submissions of one period both hold the same employee; the master can take only one."),
        {"sheet": "总表", **_WHO, "period": "2026-03", "first": "inbox/考核表_一组.xlsx",
         "second": "inbox/考核表_二组.xlsx"},
    ),
    _kind(
        "master-override-pending", "warning",
        ("校准等级缺少调整理由", "Calibrated grade without a reason"),
        ("{sheet}!{cell}：员工 {employee_id} 的校准等级“{value}”没有调整理由，暂不生效：最终等级仍为 {expected}，"
         "通知书暂不生成。",
         "{sheet}!{cell}: employee {employee_id}'s calibrated grade {value} has no override reason and is pending: "
         "the final grade stays {expected} and no notice is written until it is resolved."),
        ("请在“调整理由”栏写明理由，或清空校准等级。", "Write the reason in the override-reason column, or clear the grade."),
        ("强制分布之外的调整必须有书面理由；没有理由的校准等级记为待定，不计入最终等级。",
         "An override needs a written justification; a calibrated grade without one is stored as pending and never "
         "applied."),
        {"sheet": "总表", "cell": "T5", "employee_id": "E1003", "value": "S", "expected": "A"},
    ),
    _kind(
        "master-log-shortened", "warning",
        ("日志行被删除", "Audit log rows deleted"),
        ("{sheet}：日志上次写入时有 {expected} 行，现在只有 {value} 行，有记录被删除。",
         "{sheet}: the audit log had {expected} rows when last written and now has {value}: rows were deleted."),
        ("日志只可追加，请勿删除；如需找回，请从 backups 文件夹中的备份复制被删的行。",
         "The log is append-only: do not delete from it; to recover the rows, copy them from a backup in the "
         "backups folder."),
        ("总表的“日志”工作表行数少于上次写入时记录的行数。",
         "The master's audit-log sheet has fewer rows than the count recorded at the last write."),
        {"sheet": "日志", "value": 40, "expected": 42},
    ),
)

CATALOGUE: Mapping[str, FindingKind] = MappingProxyType({kind.code: kind for kind in _KINDS})


def kind_of(code: str) -> FindingKind:
    try:
        return CATALOGUE[code]
    except KeyError:
        raise FindingTemplateError(f"unknown finding code {code!r}") from None


def show(value: Any, lang: str) -> str:
    """A value as a manager reads it: 15.0 -> '15', None -> 空 / empty, dates as ISO."""
    if value is None or value == "":
        return "空" if lang == "zh" else "empty"
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".10g")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return visible(str(value))


def visible(text: str) -> str:
    """``text`` with what nobody can see spelled out: a control character, an ANSI escape or a bidi override
    quoted from a cell becomes ``\\x1b`` or ``\\u202e`` in the message, never the character itself
    (which would recolour a terminal or reverse the text around it); line breaks become spaces."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or unicodedata.category(ch) == "Zs" else " " if ch in "\t\n\r"
                   else f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}" for ch in text)


def plain(value: Any) -> Any:
    """A JSON-safe form of a cell value for the ``value``/``expected`` fields."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return str(value)


def _fill(kind: FindingKind, template: str, context: Mapping[str, Any]) -> str:
    try:
        return template.format_map(context)
    except KeyError as missing:
        raise FindingTemplateError(
            f"finding {kind.code!r} needs {missing.args[0]!r} (template: {template!r})") from None
    except (IndexError, ValueError) as error:
        raise FindingTemplateError(f"finding {kind.code!r}: bad template {template!r}: {error}") from None


def employee_label(employee_id: str, name: str | None) -> str:
    """'SH0014 张伟', or the ID alone when the name is unknown."""
    return f"{employee_id} {name}" if name else employee_id


def indicator_label(code: str, names: tuple[str, str] | None, lang: str) -> str:
    """'客户满意度（CSAT）' / 'Customer satisfaction (CSAT)', or the code alone when the name is unknown."""
    if not names:
        return code
    return f"{names[0]}（{code}）" if lang == "zh" else f"{names[1]} ({code})"


def _about(employee: str | None, indicator: str | None, lang: str) -> str:
    """Who and what a finding without its own wording for them concerns: '（员工 SH0014 张伟，指标 客户满意度（CSAT））'."""
    parts = ([f"员工 {employee}"] if employee else []) + ([f"指标 {indicator}"] if indicator else [])
    if lang == "en":
        parts = ([f"employee {employee}"] if employee else []) + ([indicator] if indicator else [])
        return f" ({', '.join(parts)})" if parts else ""
    return f"（{'，'.join(parts)}）" if parts else ""


@dataclass(frozen=True)
class Names:
    """Who and what findings are about, by ID and code: employee ID -> name, indicator code -> (中文, English).

    Checks locate a finding by employee ID and indicator code; a manager reads
    names. Validation builds one Names per workbook (from the sheet's own names,
    the roster and the rulebook) and :func:`with_names` puts them into every
    finding, so no check has to carry them.
    """

    employees: Mapping[str, str] = field(default_factory=dict)
    indicators: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def merged(self, other: Names) -> Names:
        """Both; where both know an ID or code, ``self`` wins."""
        return Names({**other.employees, **self.employees}, {**other.indicators, **self.indicators})


def make_finding(code: str, *, sheet: str | None = None, cell: str | None = None,
                 employee_id: str | None = None, indicator: str | None = None,
                 value: Any = None, expected: Any = None, employee_name: str | None = None,
                 indicator_names: tuple[str, str] | None = None, **params: Any) -> Finding:
    """A finding of kind ``code`` with its messages filled from the catalogue.

    ``params`` fill the template placeholders that are not Finding fields
    (e.g. ``field_zh``/``field_en``, ``reason_zh``/``reason_en``). Raises
    :class:`FindingTemplateError` for an unknown code, a missing parameter,
    or a parameter no template uses (a typo would otherwise pass silently).
    ``employee_name`` and ``indicator_names`` (中文, English) make the
    messages name the employee and the indicator; without them the ID and the
    code stand alone (:func:`with_names` adds them later).
    """
    kind = kind_of(code)
    names = kind.placeholders()
    unused = set(params) - names
    if unused:
        raise FindingTemplateError(f"finding {code!r} does not use parameter(s) {sorted(unused)}")
    location = {"sheet": sheet, "cell": cell, "employee_id": employee_id, "indicator": indicator}
    base = {k: v for k, v in location.items() if v is not None}
    if employee_id is not None:
        base["employee"] = employee_label(employee_id, employee_name)
    texts = {}
    for lang in ("zh", "en"):
        context = dict(base, value=show(value, lang), expected=show(expected, lang))
        if indicator is not None:
            label = context["indicator_label"] = indicator_label(indicator, indicator_names, lang)
            context["indicator_part_" + lang] = f"指标 {label}的" if lang == "zh" else f" for {label}"
            context["indicator_subject_" + lang] = f"的指标 {label}" if lang == "zh" else f"'s {label}"
        else:  # a summary input (表彰次数, 一票否决) is no indicator: the field's own name says it
            context["indicator_part_" + lang] = context["indicator_subject_" + lang] = ""
        context["about_" + lang] = _about(context.get("employee"), context.get("indicator_label"), lang)
        context.update(dict.fromkeys(kind.optional, ""))
        context.update((k, show(v, lang)) for k, v in params.items())
        texts[lang] = (_fill(kind, getattr(kind, f"message_{lang}"), context),
                       _fill(kind, getattr(kind, f"hint_{lang}"), context))
    return Finding(
        code=code,
        severity=kind.severity,
        sheet=sheet,
        cell=cell,
        employee_id=employee_id,
        indicator=indicator,
        value=plain(value),
        expected=plain(expected),
        message_zh=texts["zh"][0],
        message_en=texts["en"][0],
        hint=f"{texts['zh'][1]} / {texts['en'][1]}",
        employee_name=employee_name if employee_id is not None else None,
        indicator_name=indicator_names[0] if indicator is not None and indicator_names else None,
        made_from=(value, expected, indicator_names, tuple(params.items())),
    )


def with_names(finding: Finding, names: Names) -> Finding:
    """``finding`` worded with the employee's name and the indicator's names, where ``names`` knows them.

    Names the finding's maker gave are kept; a finding with nothing new to
    add, or one not made by :func:`make_finding` (no ``made_from``), comes back as it is.
    """
    if not finding.made_from:
        return finding
    value, expected, indicator_names, params = finding.made_from
    person = names.employees.get(finding.employee_id) if finding.employee_id is not None else None
    measure = names.indicators.get(finding.indicator) if finding.indicator is not None else None
    # what the finding's maker knew comes first: it is the more particular
    person, measure = finding.employee_name or person, indicator_names or measure
    if person == finding.employee_name and measure == indicator_names:
        return finding
    return make_finding(finding.code, sheet=finding.sheet, cell=finding.cell, employee_id=finding.employee_id,
                        indicator=finding.indicator, value=value, expected=expected, employee_name=person,
                        indicator_names=measure, **dict(params))


def example_finding(kind: FindingKind) -> Finding:
    """The kind's documented example, made through :func:`make_finding`."""
    example = dict(kind.example)
    fields = {name: example.pop(name, None) for name in LOCATION_FIELDS + VALUE_FIELDS
              + ("employee_name", "indicator_names")}
    return make_finding(kind.code, **fields, **example)
