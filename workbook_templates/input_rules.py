"""Data-validation rules of every input cell, with Chinese prompts and error messages.

Limits come from the rulebook (weight ranges, rating scale); dropdowns point
at defined names on ``_lists``, never at inline lists. Excel caps titles at
32 and messages at 255 characters, so the texts stay short.
"""

from __future__ import annotations

import datetime as dt

from kpisheet.validators.policy.input_limits import value_range, whole
from kpisheet.validators.rulebook.model import Indicator, Method, Rulebook, Unit, UNIT_LABELS

from kpisheet.workbook_templates import lists_sheet as n

EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)
MAX_TEXT = 1000
# free-text rows are two lines tall (frame.ROW_HEIGHT); longer text is cut off in the cell
SHOWN_LINES = "格内显示两行，更长的内容可在编辑栏看到全文。"
SHOWN_LINES_EN = "The cell shows two lines; the formula bar shows all."


def _rule(validate: str, title: str, prompt: str, error_title: str, error: str, **criteria) -> dict:
    return {"validate": validate, **criteria, "input_title": title[:32], "input_message": prompt[:255],
            "error_title": error_title[:32], "error_message": error[:255], "error_type": "stop"}


def _number(value: float) -> str:
    return f"{value:g}"


def weight(ind: Indicator) -> dict:
    lo, hi = _number(ind.weight_min), _number(ind.weight_max)
    return _rule("decimal", "权重% Weight",
                 f"{ind.name_zh}：填 {lo}～{hi} 的数字（不带%）。每人各指标权重合计须等于 100。\n"
                 f"Weight {lo}-{hi}; one employee's weights sum to 100.",
                 "权重超出范围", f"{ind.name_zh} 的权重须在 {lo}～{hi} 之间。\n"
                 f"Weight must be between {lo} and {hi}.",
                 criteria="between", minimum=ind.weight_min, maximum=ind.weight_max)


def _percent(title: str, what: str) -> dict:
    return _rule("decimal", title,
                 f"{what}：按百分比填写，如 95% 或 0.95（不要填 95）。\n"
                 "A percentage: type 95% or 0.95, not 95.",
                 "百分比格式不对", "请输入 0%～100% 之间的百分比，例如 95% 或 0.95。\n"
                 "Enter a percentage from 0% to 100%, e.g. 95% or 0.95.",
                 criteria="between", minimum=0, maximum=1)


def _bounded(title: str, what: str, ind: Indicator, *, target: bool = False) -> dict:
    """A number in the indicator's plausible range (validators.policy.input_limits), whole for counts."""
    low, high = value_range(ind, target=target)
    unit_zh = UNIT_LABELS[ind.unit][0]
    kind_zh, kind_en = ("整数", "whole number") if whole(ind) else ("数字", "number")
    if high is None:
        span_zh, span_en, criteria = f"不小于 {_number(low)} 的", f">= {_number(low)}", {"criteria": ">=", "value": low}
    else:
        span_zh, span_en = f"{_number(low)}～{_number(high)} 之间的", f"from {_number(low)} to {_number(high)}"
        criteria = {"criteria": "between", "minimum": low, "maximum": high}
    return _rule("integer" if whole(ind) else "decimal", title,
                 f"{what}：填{span_zh}{kind_zh}，单位：{unit_zh}。\nA {kind_en} {span_en}.",
                 "数值无效", f"{what} 须为{span_zh}{kind_zh}（单位：{unit_zh}）。\nEnter a {kind_en} {span_en}.",
                 **criteria)


def target_value(ind: Indicator, which_zh: str) -> dict:
    title = f"{which_zh} {ind.name_zh}"
    if ind.unit is Unit.percent:
        return _percent(title, f"{ind.name_zh}{which_zh}")
    return _bounded(title, f"{ind.name_zh}{which_zh}", ind, target=True)


def actual(ind: Indicator) -> dict:
    title = f"实际值 {ind.name_zh}"
    if ind.unit is Unit.percent:
        return _percent(title, f"{ind.name_zh}实际值")
    if ind.method is Method.deduction:
        items = "，".join(f"{i.name_zh} -{_number(i.points)}/次" for i in ind.incidents)
        low, high = value_range(ind)
        return _rule("decimal", title,
                     f"填本期累计扣分（{items}）。无扣分填 0。\nTotal points deducted this period; 0 if none.",
                     "扣分无效", f"扣分须为 {_number(low)}～{_number(high)} 之间的数字，无扣分填 0。\n"
                     f"Deducted points must be from {_number(low)} to {_number(high)}.",
                     criteria="between", minimum=low, maximum=high)
    return _bounded(title, f"{ind.name_zh}实际值", ind)


def rating(rulebook: Rulebook, who_zh: str, ind: Indicator) -> dict:
    top = len(rulebook.scoring.rating_points)
    anchors = "；".join(ind.anchors_zh) if ind.anchors_zh else f"1 最低 … {top} 最高"
    return _rule("integer", f"{who_zh} {ind.name_zh}",
                 f"填 1～{top} 的整数。{anchors}",
                 "评分无效", f"{who_zh}须为 1～{top} 的整数。\nA whole number from 1 to {top}.",
                 criteria="between", minimum=1, maximum=top)


def comment() -> dict:
    return _rule("length", "说明/依据 Evidence",
                 f"写明事实依据。得分极高或极低、自评与上级评分差距大时必须填写。{SHOWN_LINES}\n"
                 f"Evidence; required for extreme scores or a large self/manager gap. {SHOWN_LINES_EN}",
                 "文字过长", f"说明请控制在 {MAX_TEXT} 字以内。\nKeep it under {MAX_TEXT} characters.",
                 criteria="<=", value=MAX_TEXT)


def smart() -> dict:
    return _rule("length", "SMART 目标描述",
                 "具体、可衡量、可达成、相关、有时限，例如：本季度客户满意度达到 95%，以月度回访调查为准。"
                 f"{SHOWN_LINES}\n"
                 f"Specific, measurable, achievable, relevant, time-bound. {SHOWN_LINES_EN}",
                 "文字过长", f"描述请控制在 {MAX_TEXT} 字以内。\nKeep it under {MAX_TEXT} characters.",
                 criteria="<=", value=MAX_TEXT)


def free_text(title: str, prompt: str) -> dict:
    return _rule("length", title, prompt, "文字过长",
                 f"请控制在 {MAX_TEXT} 字以内。\nKeep it under {MAX_TEXT} characters.",
                 criteria="<=", value=MAX_TEXT)


def commendations(rulebook: Rulebook) -> dict:
    s = rulebook.scoring
    return _rule("integer", "表彰次数 Commendations",
                 f"本期获得表彰的次数，每次加 {_number(s.bonus_per_commendation)} 分，加分最多 "
                 f"{_number(s.bonus_cap)} 分。无则填 0。",
                 "次数无效", "表彰次数须为不小于 0 的整数。\nA whole number >= 0.",
                 criteria=">=", value=0)


def veto(rulebook: Rulebook) -> dict:
    return _rule("list", "一票否决 Veto",
                 f"无否决事项选“无”。选择任何否决事项，等级直接为 {rulebook.scoring.veto_grade}。",
                 "请从下拉列表选择", "只能从下拉列表中选择。\nPick a value from the list.",
                 source=f"={n.VETO_OPTIONS}")


def date(title: str, window: tuple[dt.date, dt.date] | None = None) -> dict:
    """A date; within ``window`` (e.g. the sign-off window) when given."""
    if window is None:
        return _rule("date", title, "填日期，如 2026-12-31。\nA date, e.g. 2026-12-31.",
                     "日期无效", "请输入有效日期，如 2026-12-31。\nEnter a valid date, e.g. 2026-12-31.",
                     criteria="between", minimum=EARLIEST_DATE, maximum=LATEST_DATE)
    first, last = (f"{d:%Y-%m-%d}" for d in window)
    return _rule("date", title, f"填 {first} 至 {last} 之间的日期。\nA date from {first} to {last}.",
                 "日期不在签字期限内", f"签字日期须在 {first} 至 {last} 之间。\nSign between {first} and {last}.",
                 criteria="between", minimum=window[0], maximum=window[1])


def employee_choice() -> dict:
    return _rule("list", "选择员工 Employee",
                 "从下拉列表选择工号，本表自动带出该员工的考核结果，可直接打印。",
                 "请从下拉列表选择", "只能选择本团队员工的工号。\nPick an employee ID from the list.",
                 source=f"={n.EMPLOYEE_IDS}")
