"""The team workbook's layout, defined once for the writer and the reader.

``workbook_templates`` writes these sheets and columns; ``validators`` reads
them back by the same keys. Change a column here and both follow.
Rows and columns here are 0-based (as xlsxwriter and python-calamine count);
use :func:`a1` for the A1 names people see.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from kpisheet.validators.rulebook.model import Rulebook

TEMPLATE_ID = "kpisheet.team"
TEMPLATE_VERSION = "1"

# 汇总's veto dropdown: this first entry means "no veto"; the other entries
# are the rulebook's veto names (name_zh).
VETO_NONE = "无"

# Custom document properties carrying the workbook's identity. Unlike the
# very-hidden _meta sheet they survive any re-save unchanged; each holds the
# _meta value of the same key, under the name CUSTOM_PROPERTY_PREFIX + key.
CUSTOM_PROPERTY_PREFIX = "kpisheet_"
CUSTOM_PROPERTY_KEYS = ("template_id", "template_version", "period", "department", "team",
                        "rulebook_fingerprint", "structure_fingerprint")
# Excel keeps at most 255 characters of a custom property's value: a longer team name is
# stored cut to this length, and compared with _meta's value cut the same way.
PROPERTY_MAX_CHARS = 255

# sheet names
GUIDE = "填写说明"
GOALS = "目标设定"
SCORES = "考核评分"
SUMMARY = "汇总"
PERSONAL = "个人考核表"
LISTS = "_lists"
META = "_meta"
SHEET_ORDER = (GUIDE, GOALS, SCORES, SUMMARY, PERSONAL, LISTS, META)

# Rows 0 and 1 are the title and the team/period line; row 2 holds the
# bilingual headers ("中文\nEnglish"); data start on row 3.
TITLE_ROW = 0
INFO_ROW = 1
HEADER_ROW = 2
FIRST_DATA_ROW = 3


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    width: float
    input: bool = False  # unlocked for the manager to type in
    # computed by a formula the writer puts there (on 考核评分 floor/target/challenge only where
    # the method reads them, and a subtotal only where the employee has indicators of its category)
    formula: bool = False

    @property
    def header(self) -> str:
        return f"{self.zh}\n{self.en}"


# 目标设定: one row per employee x indicator. floor/target/challenge are
# inputs only where the rulebook marks the indicator editable_targets.
GOAL_COLUMNS: tuple[Column, ...] = (
    Column("employee_id", "工号", "ID", 9),
    Column("name", "姓名", "Name", 9),
    Column("role", "岗位", "Role", 12),
    Column("category", "类别", "Category", 9),
    Column("code", "指标代码", "Code", 14),
    Column("indicator", "指标", "Indicator", 22),
    Column("method", "评分方法", "Method", 10),
    Column("unit", "单位", "Unit", 7),
    Column("weight", "权重%", "Weight %", 8, input=True),
    Column("floor", "底线值", "Floor", 9, input=True),
    Column("target", "目标值", "Target", 9, input=True),
    Column("challenge", "挑战值", "Challenge", 9, input=True),
    # free-text columns are wide enough for two wrapped lines of a typical entry
    # (the rows hold two lines; see kpisheet.workbook_templates.frame.ROW_HEIGHT)
    Column("smart", "SMART目标描述", "SMART description", 46, input=True),
    Column("weight_sum", "权重合计", "Weight sum", 9, formula=True),
)

# 考核评分: the same rows in the same order as 目标设定.
SCORE_COLUMNS: tuple[Column, ...] = (
    Column("employee_id", "工号", "ID", 9),
    Column("name", "姓名", "Name", 9),
    Column("category", "类别", "Category", 9),
    Column("code", "指标代码", "Code", 14),
    Column("indicator", "指标", "Indicator", 22),
    Column("method", "评分方法", "Method", 10),
    Column("unit", "单位", "Unit", 7),
    Column("weight", "权重%", "Weight %", 8, formula=True),
    Column("floor", "底线值", "Floor", 9, formula=True),
    Column("target", "目标值", "Target", 9, formula=True),
    Column("challenge", "挑战值", "Challenge", 9, formula=True),
    Column("actual", "实际值", "Actual", 10, input=True),
    Column("self", "自评(1-5)", "Self 1-5", 9, input=True),
    Column("manager", "上级评分(1-5)", "Manager 1-5", 11, input=True),
    Column("comment", "说明/依据", "Evidence / comment", 48, input=True),
    Column("score", "指标得分", "Score", 9, formula=True),
    Column("weighted", "加权得分", "Weighted", 9, formula=True),
)


def summary_columns(rulebook: Rulebook) -> tuple[Column, ...]:
    """汇总: one row per employee; one subtotal column per rulebook category."""
    subtotals = tuple(
        Column(f"subtotal_{c.code}", f"{c.name_zh}小计", f"{c.name_en}", 10, formula=True)
        for c in rulebook.categories
    )
    return (
        Column("employee_id", "工号", "ID", 9),
        Column("name", "姓名", "Name", 9),
        Column("role", "岗位", "Role", 12),
        *subtotals,
        Column("commendations", "表彰次数", "Commendations", 9, input=True),
        Column("bonus", "加分", "Bonus", 7, formula=True),
        Column("veto", "一票否决", "Veto", 14, input=True),
        Column("total", "总分", "Total", 8, formula=True),
        Column("grade", "等级", "Grade", 7, formula=True),
        Column("coefficient", "绩效系数", "Coefficient", 9, formula=True),
        Column("rank", "排名", "Rank", 6, formula=True),
        Column("manager_sign", "上级签字", "Manager sign-off", 10, input=True),
        Column("manager_date", "上级签字日期", "Date", 12, input=True),
        Column("employee_sign", "员工签字", "Employee sign-off", 10, input=True),
        Column("employee_date", "员工签字日期", "Date", 12, input=True),
        Column("feedback", "反馈面谈记录", "Feedback interview", 40, input=True),
        # improvement plan (绩效改进计划), required for the PIP grades
        Column("pip_shortfalls", "待改进问题", "PIP shortfalls", 24, input=True),
        Column("pip_actions", "改进措施", "PIP actions", 24, input=True),
        Column("pip_owner", "辅导人", "PIP owner", 9, input=True),
        Column("pip_due", "完成日期", "PIP due", 12, input=True),
    )


# _actuals: present only in a workbook prefilled from source systems (kpisheet forms --actuals),
# so not part of the template (not in SHEET_ORDER). It records what each system said for every
# prefilled 实际值 cell, so that validation can tell a manager's later edit from the system's value.
# Row 0 holds ACTUALS_HEADER; then one row per prefilled cell; "cell" is where it was written (A1 on 考核评分).
ACTUALS = "_actuals"
ACTUALS_HEADER = ("employee_id", "indicator", "value", "source", "note", "cell")


# 重新计算: added to an open team workbook by the add-in's 重新计算 button, one
# row per employee: the engine's results beside the sheet's own total. Not part
# of the template (not in SHEET_ORDER); validation may meet it in a workbook.
RECOMPUTE = "重新计算"


def recompute_columns(rulebook: Rulebook) -> tuple[Column, ...]:
    subtotals = tuple(
        Column(f"subtotal_{c.code}", f"{c.name_zh}小计", f"{c.name_en}", 10) for c in rulebook.categories
    )
    return (
        Column("employee_id", "工号", "ID", 9),
        Column("name", "姓名", "Name", 9),
        *subtotals,
        Column("bonus", "加分", "Bonus", 7),
        Column("veto", "一票否决", "Veto", 9),
        Column("total", "总分", "Total", 8),
        Column("grade", "等级", "Grade", 7),
        Column("coefficient", "绩效系数", "Coefficient", 9),
        Column("sheet_total", "表内总分", "Sheet total", 9),
        Column("difference", "差异", "Difference", 8),
        Column("status", "状态", "Status", 40),
    )


def column_index(columns: tuple[Column, ...], key: str) -> int:
    for i, column in enumerate(columns):
        if column.key == key:
            return i
    raise KeyError(key)


@lru_cache(maxsize=None)  # at most 16,384 columns; a team workbook asks for hundreds of cell names a file
def col_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """0-based (row, col) -> 'B7'."""
    return f"{col_letter(col)}{row + 1}"


# _meta: key in column A, value in column B, from row 0. Employee row map
# entries follow the keys, one row per employee (see META_ROWMAP_HEADER).
META_KEYS = (
    "template_id",
    "template_version",
    "period",
    "department",
    "team",
    "rulebook_id",
    "rulebook_version",
    "rulebook_fingerprint",
    "structure_fingerprint",
    "generated_by",
)
# Layout of _meta: row i holds (META_KEYS[i], value) in columns A:B; the row
# after the keys holds META_ROWMAP_HEADER; then one row per employee.
# After the keys, a header row then one row per employee:
# employee_id | summary row (0-based) | first goal/score row (0-based) | indicator codes joined by ","
META_ROWMAP_HEADER = ("employee_id", "summary_row", "first_row", "codes")
# HR's signature (kpisheet.validators.signature) sits beside the keys, in F1 (this label) and G1
# (the signature), outside the key block and the row map: a workbook without one (made without a
# key, or before forms were signed) reads exactly as before.
META_SIGNATURE_LABEL = "signature"
META_SIGNATURE_ROW, META_SIGNATURE_COLUMN = 0, 6


def structure_fingerprint(rulebook_fingerprint: str, row_map: list[tuple[str, int, int, list[str]]]) -> str:
    """Hash of everything whose change means the structure was tampered with:
    sheet order, the column lists and the employee x indicator row map."""
    parts = [TEMPLATE_ID, TEMPLATE_VERSION, rulebook_fingerprint, "|".join(SHEET_ORDER)]
    parts += ["|".join(c.key for c in cols) for cols in (GOAL_COLUMNS, SCORE_COLUMNS)]
    parts += [f"{emp}:{srow}:{first}:{','.join(codes)}" for emp, srow, first, codes in row_map]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]
