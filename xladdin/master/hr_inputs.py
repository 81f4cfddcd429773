"""What HR may type into the master's HR columns: a dropdown or a validation on every one, and a
highlight where a decision lacks the reason it needs.

A grade HR types must be one of the rulebook's (a typed "优秀" would otherwise surface only at
calibrate time); dates must be dates; free text gets a length limit and a prompt saying what it is
for. Reasons are not forced by validation (Excel cannot make an empty cell invalid): conditional
formatting paints the empty reason cell of a decision that needs one, as calibration and appeals
treat such a decision as pending.

Validation is a guard rail in Excel, WPS and LibreOffice alike, not a check: a pasted value
bypasses it, and kpisheet still reads every HR cell as text and judges it (``master-grade-invalid``,
the appeal's 系统提示).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xlsxwriter.utility import xl_col_to_name

from kpisheet.validators.policy.grading import bands_best_first
from kpisheet.validators.rulebook.model import Rulebook

from kpisheet.xladdin.master import layout as L

SPARE_ROWS = 500  # rows below the data where HR may add entries (申诉 grows by hand)
TEXT_LIMIT = 500
MISSING_REASON_FILL = "#F8CBAD"
# Suggested values; other text is accepted after a notice (the columns are HR's own words).
APPEAL_STATUSES = ("无 none", "已申诉 filed", "受理中 accepted", "已处理 resolved", "不予受理 refused")
APPEAL_OUTCOMES = ("维持原等级 upheld", "改定等级 revised", "部分支持 upheld in part", "不予受理 refused")
FIRST_DAY, LAST_DAY = dt.datetime(2000, 1, 1), dt.datetime(2100, 12, 31)


@dataclass(frozen=True)
class Required:
    """Paint ``key``'s empty cell when ``when`` holds; ``when`` is a formula over {column key} cells."""

    key: str
    when: str


def _choices(title: str, values, prompt: str, *, strict: bool) -> dict:
    return {"validate": "list", "source": list(values), "input_title": title[:32], "input_message": prompt[:255],
            "error_type": "stop" if strict else "information",
            "error_title": "不在列表中 Not in the list",
            "error_message": ("请从下拉列表中选择 / pick a value from the list" if strict else
                              "不是建议的值；已接受 / not one of the suggested values; accepted")}


def _text(title: str, prompt: str) -> dict:
    return {"validate": "length", "criteria": "<=", "value": TEXT_LIMIT, "input_title": title[:32],
            "input_message": prompt[:255], "error_title": "太长 Too long",
            "error_message": f"最多 {TEXT_LIMIT} 个字符 / at most {TEXT_LIMIT} characters"}


def _date(title: str, prompt: str) -> dict:
    return {"validate": "date", "criteria": "between", "minimum": FIRST_DAY, "maximum": LAST_DAY,
            "input_title": title[:32], "input_message": prompt[:255], "error_title": "不是日期 Not a date",
            "error_message": "请输入日期，如 2026-10-12 / type a date such as 2026-10-12"}


def grade_letters(rulebook: Rulebook) -> list[str]:
    return [band.grade for band in bands_best_first(rulebook)]


def validations(sheet: str, rulebook: Rulebook, periods: list[str] | None = None,
                summary_ids: str | None = None) -> dict[str, dict]:
    """Column key -> xlsxwriter data-validation options, for every HR column of ``sheet``.

    ``periods``: the periods 总表 holds (申诉's period dropdown); ``summary_ids``: the range of
    总表's ID cells, e.g. ``'总表'!$B$2:$B$700`` (申诉's employee dropdown).
    """
    grades = grade_letters(rulebook)
    grade_prompt = f"只能填 {'/'.join(grades)}（规则表的等级），或留空 / one of the rulebook's grades, or blank"
    if sheet == L.SUMMARY:
        return {
            "calibrated_grade": _choices("校准等级 Calibrated grade", grades, grade_prompt, strict=True),
            "override_reason": _text("调整理由 Override reason",
                                     "校准等级与系统等级不同时必填（未填的调整不生效）/ required when the calibrated "
                                     "grade differs from the system grade (no reason: not applied)"),
            "appeal_status": _choices("申诉状态 Appeal status", APPEAL_STATUSES,
                                      "申诉详情在“申诉”表填写 / record the appeal itself on 申诉", strict=False),
            "hr_notes": _text("HR备注 HR notes", "HR 的备注，重新汇总不会覆盖 / HR's notes, never overwritten"),
        }
    if sheet == L.APPEALS:
        out = {
            "employee_id": ({"validate": "list", "source": f"={summary_ids}",
                             "input_title": "工号 ID", "input_message": "总表中的工号 / an ID from 总表",
                             "error_type": "warning", "error_title": "总表中没有 Not in 总表",
                             "error_message": "总表中没有这个工号，请核对 / 总表 has no such ID; check it"}
                            if summary_ids else _text("工号 ID", "总表中的工号 / an ID from 总表")),
            "published_date": _date("结果公布日期 Published", "留空则用本期记录的公布日期 / blank: the period's "
                                                           "recorded publication date"),
            "filed_date": _date("申诉日期 Filed", "员工提交书面申诉的日期 / the day the written appeal came in"),
            "reason": _text("申诉理由 Reason", "员工的申诉理由（必填）/ the employee's grounds (required)"),
            "accepted_date": _date("受理日期 Accepted", "HR 受理的日期 / the day HR accepted it"),
            "resolved_date": _date("处理完成日期 Resolved", "处理完毕、结果告知员工的日期 / the day it was decided"),
            "outcome": _choices("处理结果 Outcome", APPEAL_OUTCOMES, "处理结果 / the decision", strict=False),
            "revised_grade": _choices("改定等级 Revised grade", grades, grade_prompt, strict=True),
            "handler": _text("经办人 Handler", "经办的 HR 同事 / the HR officer handling it"),
            "hr_notes": _text("HR备注 HR notes", "HR 的备注 / HR's notes"),
        }
        if periods and len(",".join(periods)) <= 255:  # Excel's limit for a typed-in list
            out["period"] = _choices("考核期间 Period", periods, "总表中的考核期间 / a period of 总表", strict=False)
        else:
            out["period"] = _text("考核期间 Period", "如 2026-Q3 / e.g. 2026-Q3")
        return out
    if sheet == L.ANNUAL:
        return {"hr_notes": _text("HR备注 HR notes", "HR 的备注 / HR's notes")}
    if sheet == L.SETTINGS:
        return {"value": _text("值 Value", "见右侧说明 / see the meaning beside it")}
    return {}


def setting_validations() -> dict[str, dict]:
    """设置 rows whose value has a form of its own: setting key -> validation (the rest is text)."""
    return {
        "overwrite_forms": _choices("覆盖已有考核表", ("是", "否"), "是 / 否（默认否）", strict=True),
        "deadline": _date("提交截止日期 Deadline", "可留空；如 2026-04-10 / optional, e.g. 2026-04-10"),
    }


def required_reasons(sheet: str, rulebook: Rulebook) -> list[Required]:
    """Cells that must not stay empty when the row's decision needs them."""
    if sheet == L.SUMMARY and rulebook.distribution.override_needs_reason:
        return [Required("override_reason", '=AND({calibrated_grade}<>"",{calibrated_grade}<>{system_grade},'
                                            '{override_reason}="")')]
    if sheet == L.APPEALS:
        return [
            Required("reason", '=AND({employee_id}<>"",{reason}="")'),
            Required("filed_date", '=AND({employee_id}<>"",{filed_date}="")'),
            # the appeals service asks for it too (系统提示) when a revised grade has none
            Required("resolved_date", '=AND({revised_grade}<>"",{resolved_date}="")'),
        ]
    return []


def apply(book, worksheet, sheet: str, keys: list[str], rows: int, rulebook: Rulebook, *,
          periods: list[str] | None = None, summary_ids: str | None = None,
          setting_rows: list[str] | None = None) -> None:
    """Add the validations and reason highlights of ``sheet`` to ``worksheet`` (data from row 1, 0-based).

    ``keys``: the column key of each column, in order; ``rows``: data rows written;
    ``setting_rows``: on 设置, the setting key of each row. See :func:`validations` for the rest.
    """
    index = {key: i for i, key in enumerate(keys)}
    first, last = L.FIRST_DATA_ROW, L.FIRST_DATA_ROW + rows + SPARE_ROWS
    for key, options in validations(sheet, rulebook, periods, summary_ids).items():
        if key not in index:
            continue
        col = index[key]
        if sheet == L.SETTINGS and setting_rows is not None:
            special = setting_validations()
            for r, setting in enumerate(setting_rows, start=first):
                worksheet.data_validation(r, col, r, col, special.get(setting, options))
            continue
        worksheet.data_validation(first, col, last, col, options)
    fill = book.add_format({"bg_color": MISSING_REASON_FILL})
    for rule in required_reasons(sheet, rulebook):
        if not all(name in index for name in _names(rule.when)):
            continue
        letters = {name: f"${xl_col_to_name(index[name])}{first + 1}" for name in _names(rule.when)}
        col = index[rule.key]
        worksheet.conditional_format(first, col, last, col, {"type": "formula",
                                                             "criteria": rule.when.format(**letters),
                                                             "format": fill})


def _names(template: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(template) if name]
