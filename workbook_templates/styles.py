"""Cell styles of the team workbook: one colour per kind of cell, explained on 填写说明.

Managers learn three colours: yellow cells are theirs to fill, green cells are
computed by formulas, grey cells are fixed by the rulebook or the roster.
A fourth colour (purple) is reserved for values pre-filled from a system.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from xlsxwriter.workbook import Format, Workbook

# Excel's default Chinese UI font since Office 2016; WPS and LibreOffice
# substitute a CJK sans (e.g. Noto Sans CJK) of similar width.
FONT_NAME = "等线"
FONT_SIZE = 10

INPUT_FILL = "#FFF2CC"  # pale yellow: the manager types here
COMPUTED_FILL = "#E2EFDA"  # pale green: live formulas
FIXED_FILL = "#F2F2F2"  # light grey: identity and rulebook values
PREFILLED_FILL = "#E8E0F5"  # pale purple: values pre-filled from a system
HEADER_FILL = "#1F4E78"
MISSING_FILL = "#FCE4D6"  # conditional: an input still empty
ERROR_FILL = "#FF9999"  # conditional: a value that is wrong
BORDER_COLOUR = "#BFBFBF"

PERCENT_FORMAT = "0.0#%"
NUMBER_FORMAT = "0.0#"
SCORE_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"

LEGEND = (
    # (fill, 中文, English)
    (INPUT_FILL, "黄色：由上级/员工填写的输入格", "Yellow: input cells you fill in"),
    (COMPUTED_FILL, "绿色：公式自动计算，请勿改动", "Green: computed by formulas, do not overwrite"),
    (FIXED_FILL, "灰色：名单或规则确定，已锁定", "Grey: fixed by the roster or rulebook, locked"),
    (PREFILLED_FILL, "紫色：由系统预填（预留）", "Purple: pre-filled from a system (reserved)"),
    (MISSING_FILL, "橙色：必填但尚未填写", "Orange: required input still empty"),
    (ERROR_FILL, "红色：数值有误（如权重合计不等于100、百分比填成95）",
     "Red: wrong value (weights not summing to 100, 95 typed for 95%)"),
)

# The purple line of LEGEND in a workbook that holds prefilled values: no longer "reserved".
PREFILLED_LEGEND = ("紫色：由系统预填的实际值（批注注明来源）；如需修改，请在“说明/依据”栏写明原因",
                    "Purple: actual value prefilled from a source system (see the cell note); "
                    "if you change it, explain why in the comment column")


def workbook_options() -> dict:
    """xlsxwriter options: the default font for every cell, sheet and column width.

    Text is always text: a roster's team or name that starts with ``=`` (or
    looks like a number or a web address) is written as typed, never as a
    formula, number or link; kpisheet's own formulas use ``write_formula``.
    """
    return {"default_format_properties": {"font_name": FONT_NAME, "font_size": FONT_SIZE},
            "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}


@dataclass(frozen=True)
class Formats:
    """The xlsxwriter formats of one workbook (formats belong to a workbook)."""

    title: Format
    info: Format
    header: Format
    fixed: Format
    fixed_wrap: Format
    fixed_number: Format
    fixed_percent: Format
    input_text: Format
    input_number: Format
    input_percent: Format
    input_whole: Format
    input_date: Format
    input_wrap: Format
    fixed_note: Format
    computed_number: Format
    computed_percent: Format
    computed_score: Format
    computed_text: Format
    computed_whole: Format
    computed_date: Format
    section: Format
    text: Format
    text_wrap: Format
    label: Format
    missing: Format
    error: Format
    block_start: Format
    computed_left: Format
    fixed_general: Format
    fixed_center: Format
    input_general: Format
    computed_general: Format
    prefilled_number: Format
    prefilled_percent: Format
    prefilled_general: Format
    legend: dict[str, Format]


def make_formats(book: Workbook) -> Formats:
    base = {"font_name": FONT_NAME, "font_size": FONT_SIZE, "valign": "vcenter",
            "border": 1, "border_color": BORDER_COLOUR}

    def fmt(**props) -> Format:
        return book.add_format({**base, **props})

    def fixed(**props) -> Format:
        return fmt(bg_color=FIXED_FILL, locked=True, **props)

    def entry(**props) -> Format:
        return fmt(bg_color=INPUT_FILL, locked=False, **props)

    def prefilled(**props) -> Format:
        # an input the manager may still correct, coloured as the system's value
        return fmt(bg_color=PREFILLED_FILL, locked=False, **props)

    def computed(**props) -> Format:
        return fmt(bg_color=COMPUTED_FILL, locked=True, **props)

    return Formats(
        title=book.add_format({"font_name": FONT_NAME, "font_size": 14, "bold": True, "valign": "vcenter"}),
        info=book.add_format({"font_name": FONT_NAME, "font_size": FONT_SIZE, "valign": "vcenter",
                              "font_color": "#404040"}),
        header=fmt(bold=True, font_color="#FFFFFF", bg_color=HEADER_FILL, text_wrap=True, align="center"),
        fixed=fixed(),
        fixed_wrap=fixed(text_wrap=True),
        fixed_number=fixed(num_format=NUMBER_FORMAT),
        fixed_percent=fixed(num_format=PERCENT_FORMAT),
        input_text=entry(),
        input_number=entry(num_format=NUMBER_FORMAT),
        input_percent=entry(num_format=PERCENT_FORMAT),
        input_whole=entry(num_format="0", align="center"),
        input_date=entry(num_format=DATE_FORMAT, align="center"),
        # free text: top-aligned, so text longer than its row is cut off at the
        # cell's foot; centred, LibreOffice draws the overflow over the rows around
        input_wrap=entry(text_wrap=True, valign="top"),
        fixed_note=fixed(text_wrap=True, valign="top"),
        computed_number=computed(num_format=NUMBER_FORMAT),
        computed_percent=computed(num_format=PERCENT_FORMAT),
        computed_score=computed(num_format=SCORE_FORMAT),
        computed_text=computed(align="center"),
        computed_whole=computed(num_format="0", align="center"),
        computed_date=computed(num_format=DATE_FORMAT, align="center"),
        section=book.add_format({"font_name": FONT_NAME, "font_size": 11, "bold": True, "valign": "vcenter",
                                 "font_color": HEADER_FILL, "bottom": 2, "bottom_color": HEADER_FILL}),
        text=book.add_format({"font_name": FONT_NAME, "font_size": FONT_SIZE, "valign": "top"}),
        text_wrap=book.add_format({"font_name": FONT_NAME, "font_size": FONT_SIZE, "valign": "vcenter",
                                   "text_wrap": True}),
        label=fmt(bold=True, bg_color=FIXED_FILL, text_wrap=True),
        missing=book.add_format({"bg_color": MISSING_FILL}),
        error=book.add_format({"bg_color": ERROR_FILL, "font_color": "#9C0006", "bold": True}),
        block_start=book.add_format({"top": 2, "top_color": HEADER_FILL}),
        computed_left=computed(),
        fixed_general=fixed(),
        fixed_center=fixed(align="center"),
        input_general=entry(),
        computed_general=computed(),
        prefilled_number=prefilled(num_format=NUMBER_FORMAT),
        prefilled_percent=prefilled(num_format=PERCENT_FORMAT),
        prefilled_general=prefilled(),
        legend={fill: fmt(bg_color=fill) for fill, _, _ in LEGEND},
    )


def display_width(text: str) -> float:
    """Column width (in Excel character units) that shows ``text`` unwrapped.

    CJK and full-width characters take two units, others one.
    """
    lines = str(text).split("\n") or [""]
    return max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in lines)


def fitted_width(declared: float, *texts: str, padding: float = 1.5, limit: float = 60) -> float:
    """The layout's width, widened to fit the longest text (capped, long text wraps)."""
    need = max((display_width(t) for t in texts if t not in (None, "")), default=0) + padding
    return min(limit, max(declared, need))
