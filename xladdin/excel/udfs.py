"""Worksheet functions (xlwings UDFs) over the scoring engine: KPI_SCORE and friends.

Each function calls :mod:`kpisheet.validators.policy.scoring` / :mod:`kpisheet.validators.policy.grading`
with the rulebook in force, so a cell gives the same number as the team
workbooks and the CLI. The rulebook is the one the ribbon's buttons use for the
same workbook (:func:`kpisheet.xladdin.excel.book_settings.cell_rulebook`):
xlwings passes the calling cell as ``caller`` (an argument Excel never shows),
and its book's 设置 sheet, the remembered master's, ``KPISHEET_RULEBOOK`` or
the built-in default decide, in that order.

Bad arguments never raise into Excel (xlwings would show the traceback in the
cell): they come back as text in Excel's error style, ``#VALUE! 中文 / English``
for a wrong argument and ``#N/A 中文 / English`` for a missing one, saying which
argument and what to do. ``=LEFT(cell,1)="#"`` tells them apart from results.

The functions carry no type annotations on purpose: xlwings would turn them
into converters and fail on text before these checks could explain it.
"""

from __future__ import annotations

import functools

import xlwings as xw

from kpisheet.validators.policy import grading, scoring
from kpisheet.validators.rulebook.model import METHOD_LABELS, Method, Rulebook
from kpisheet.validators.rulebook.load import RulebookError

from kpisheet.xladdin.excel.book_settings import cell_rulebook
from kpisheet.validators.errors import KpisheetError

CATEGORY = "kpisheet 绩效考核"


class UdfError(KpisheetError):
    """A bad or missing argument; becomes the function's error text."""

    code = "udf-argument"
    title_zh, title_en = "工作表函数参数有误", "worksheet function argument"
    description = "A KPI_ worksheet function got a bad or missing argument; the cell shows #VALUE! or #N/A with why."

    def __init__(self, kind: str, message_zh: str, message_en: str):
        super().__init__(message_zh, message_en)
        self.kind = kind

    def __str__(self) -> str:
        return f"{self.kind} {self.line()}"


def _bad(message_zh: str, message_en: str) -> UdfError:
    return UdfError("#VALUE!", message_zh, message_en)


def _missing(message_zh: str, message_en: str) -> UdfError:
    return UdfError("#N/A", message_zh, message_en)


# Names the scoring engine uses for its inputs, as the analyst sees the arguments
_INPUT_NAMES = {
    "actual": ("实际值", "actual value"),
    "floor": ("底线值", "floor"),
    "target": ("目标值", "target"),
    "challenge": ("挑战值", "challenge"),
    "manager": ("上级评分", "manager rating"),
    "self": ("自评", "self-rating"),
}


def excel_errors(function):
    """Turn every failure of a UDF into its error text instead of an exception."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except UdfError as error:
            return str(error)
        except scoring.MissingInput as gap:
            zh, en = _INPUT_NAMES.get(gap.name, (gap.name, gap.name))
            return str(_missing(f"缺少{zh}", f"the {en} is missing"))
        except ValueError as error:  # scoring.InvalidInput and other bad values
            zh = getattr(error, "message_zh", None)
            en = getattr(error, "message_en", None)
            name = getattr(error, "name", "")
            label_zh, label_en = _INPUT_NAMES.get(name, (name, name))
            if zh and en:
                return str(_bad(f"{label_zh}：{zh}" if label_zh else zh, f"{label_en}: {en}" if label_en else en))
            return str(_bad(f"参数无效：{error}", f"invalid argument: {error}"))
        except RulebookError as error:
            first = error.problems[0] if error.problems else None
            detail_zh = f"{first.location}：{first.message_zh}" if first else error.source
            detail_en = f"{first.location}: {first.message_en}" if first else error.source
            return str(_bad(f"规则表无法使用（{detail_zh}）", f"the rulebook cannot be used ({detail_en})"))
        except Exception as error:  # never a traceback in a cell
            return str(_bad(f"内部错误：{type(error).__name__}", f"internal error: {type(error).__name__}: {error}"))

    return wrapper


# --- argument conversion --------------------------------------------------------


def _number(value, label_zh: str, label_en: str, required: bool = True) -> float | None:
    """A numeric cell value; empty is None (or an error if required); text and booleans are errors."""
    if value is None or value == "":
        if required:
            raise _missing(f"缺少{label_zh}", f"the {label_en} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind_zh, kind_en = ("文本", "the text ") if isinstance(value, str) else ("", "")
        raise _bad(f"{label_zh}应为数字，实际为{kind_zh}“{value}”（请输入数字，不要带单位或%）",
                   f"the {label_en} must be a number, got {kind_en}{value!r} (enter a number without units or %)")
    return float(value)


def method_from(value) -> Method:
    """A scoring method from its code (higher_better), Chinese label (越高越好) or English label."""
    text = str(value if value is not None else "").strip()
    if not text:
        raise _missing("缺少评分方法", "the scoring method is missing")
    folded = text.lower().replace("-", "_").replace(" ", "_")
    for method, (zh, en) in METHOD_LABELS.items():
        if text == zh or folded in (method.value, en.lower().replace(" ", "_")):
            return method
    known_zh = "、".join(zh for zh, _ in METHOD_LABELS.values())
    known_en = ", ".join(m.value for m in METHOD_LABELS)
    raise _bad(f"未知的评分方法“{text}”，可选：{known_zh}", f"unknown scoring method {text!r}; use one of {known_en}")


def _score(rulebook: Rulebook, method: Method, actual, floor, target, challenge) -> float:
    s = rulebook.scoring
    if method is Method.rating:
        return scoring.indicator_score(method, manager=_number(actual, "评分", "rating"), cap=s.cap,
                                       points=s.rating_points, self_weight=s.self_weight, decimals=s.decimals)
    needs_band = method in (Method.higher_better, Method.lower_better)
    return scoring.indicator_score(
        method,
        actual=_number(actual, "实际值", "actual value"),
        floor=_number(floor, "底线值", "floor", required=needs_band),
        target=_number(target, "目标值", "target", required=method is not Method.deduction),
        challenge=_number(challenge, "挑战值", "challenge", required=needs_band),
        cap=s.cap, points=s.rating_points, self_weight=s.self_weight, decimals=s.decimals,
    )


def _values(block) -> list:
    """A range argument as a flat list (a single cell arrives as a scalar)."""
    if isinstance(block, (list, tuple)):
        out = []
        for item in block:
            out.extend(_values(item) if isinstance(item, (list, tuple)) else [item])
        return out
    return [block]


# --- the worksheet functions ----------------------------------------------------


@xw.func(category=CATEGORY)
@xw.arg("method", doc="评分方法：越高越好/越低越好/扣分制/等级评分/计数，或英文代码 / method: higher_better, lower_better, deduction, rating, count")
@xw.arg("actual", doc="实际值（扣分制填扣分合计，等级评分填 1-5）/ actual value (deducted points for deduction, 1-5 for rating)")
@xw.arg("floor", doc="底线值，得 0 分 / floor, worth 0")
@xw.arg("target", doc="目标值，得 100 分 / target, worth 100")
@xw.arg("challenge", doc="挑战值，得封顶分 / challenge, worth the cap")
@excel_errors
def KPI_SCORE(method, actual, floor=None, target=None, challenge=None, caller=None):
    """指标得分（与考核表公式一致）/ An indicator's score, as the team workbooks compute it."""
    rulebook = cell_rulebook(caller)
    return _score(rulebook, method_from(method), actual, floor, target, challenge)


@xw.func(category=CATEGORY)
@xw.arg("code", doc="指标代码，如 CSAT / indicator code, e.g. CSAT")
@xw.arg("actual", doc="实际值或 1-5 评分 / actual value or 1-5 rating")
@xw.arg("floor", doc="底线值，留空用规则表默认 / floor; blank uses the rulebook's")
@xw.arg("target", doc="目标值，留空用规则表默认 / target; blank uses the rulebook's")
@xw.arg("challenge", doc="挑战值，留空用规则表默认 / challenge; blank uses the rulebook's")
@excel_errors
def KPI_INDICATOR_SCORE(code, actual, floor=None, target=None, challenge=None, caller=None):
    """按指标代码计分，目标留空时用规则表默认值 / Score by indicator code, with the rulebook's targets where blank."""
    rulebook = cell_rulebook(caller)
    text = str(code if code is not None else "").strip()
    known = {ind.code: ind for ind in rulebook.indicators}
    indicator = known.get(text) or next((i for i in rulebook.indicators if text in (i.name_zh, i.name_en)), None)
    if indicator is None:
        raise _bad(f"规则表中没有指标“{text}”", f"the rulebook has no indicator {text!r}")

    def given(value, default):
        return default if value is None or value == "" else value

    return _score(rulebook, indicator.method, actual, given(floor, indicator.floor),
                  given(target, indicator.target), given(challenge, indicator.challenge))


@xw.func(category=CATEGORY)
@xw.arg("rating", doc="上级评分 1-5 / manager rating 1-5")
@xw.arg("self_rating", doc="自评 1-5（仅当规则表给自评权重时需要）/ self-rating 1-5 (needed only if the rulebook weighs it)")
@excel_errors
def KPI_RATING(rating, self_rating=None, caller=None):
    """1-5 评分对应的得分（默认 20/40/60/80/100）/ Points for a 1-5 rating (20..100 by default)."""
    s = cell_rulebook(caller).scoring
    own = _number(self_rating, "自评", "self-rating", required=False)
    return scoring.indicator_score(Method.rating, manager=_number(rating, "上级评分", "manager rating"),
                                   self_rating=own, points=s.rating_points, self_weight=s.self_weight,
                                   decimals=s.decimals)


@xw.func(category=CATEGORY)
@xw.arg("scores", doc="指标得分区域 / range of indicator scores")
@xw.arg("weights", doc="对应的权重% 区域 / range of the matching weights in %")
@excel_errors
def KPI_WEIGHTED(scores, weights, caller=None):
    """加权得分合计：Σ 得分×权重/100，四舍五入 / Weighted sum: score x weight / 100, rounded."""
    rulebook = cell_rulebook(caller)
    score_list, weight_list = _values(scores), _values(weights)
    if len(score_list) != len(weight_list):
        raise _bad(f"得分有 {len(score_list)} 个，权重有 {len(weight_list)} 个，区域大小应相同",
                   f"{len(score_list)} scores but {len(weight_list)} weights; the ranges must be the same size")
    total = 0.0
    for i, (score, weight) in enumerate(zip(score_list, weight_list), start=1):
        if (score is None or score == "") and (weight is None or weight == ""):
            continue
        total += (_number(score, f"第 {i} 个得分", f"score #{i}")
                  * _number(weight, f"第 {i} 个权重", f"weight #{i}") / 100)
    return scoring.round_half_up(total, rulebook.scoring.decimals)


@xw.func(category=CATEGORY)
@xw.arg("total", doc="总分 / total score")
@xw.arg("veto", doc="一票否决事项（规则表中的名称或代码）；留空或“无”表示没有 / veto by its rulebook name or code; blank or 无 means none")
@excel_errors
def KPI_GRADE(total, veto=None, caller=None):
    """总分对应的等级（一票否决时为 D）/ The grade for a total (the veto grade when vetoed)."""
    rulebook = cell_rulebook(caller)
    # the summary sheet's reading of the veto cell, so that a cell and the sheet agree
    vetoed, problem = grading.read_veto(rulebook, veto)
    if problem:
        raise _bad(problem.message_zh, problem.message_en)
    return grading.grade_for(rulebook, _number(total, "总分", "total"), vetoed)


@xw.func(category=CATEGORY)
@xw.arg("grade", doc="等级，如 A / grade, e.g. A")
@excel_errors
def KPI_COEFF(grade, caller=None):
    """等级对应的绩效系数 / The pay coefficient of a grade."""
    rulebook = cell_rulebook(caller)
    text = str(grade if grade is not None else "").strip().upper()
    if not text:
        raise _missing("缺少等级", "the grade is missing")
    known = [band.grade for band in rulebook.grades]
    if text not in known:
        raise _bad(f"未知的等级“{text}”，可选：{'/'.join(known)}", f"unknown grade {text!r}; use one of {'/'.join(known)}")
    return grading.coefficient_for(rulebook, text)


@xw.func(category=CATEGORY)
@xw.arg("commendations", doc="表彰次数 / number of commendations")
@excel_errors
def KPI_BONUS(commendations, caller=None):
    """表彰加分（有封顶）/ Bonus points for commendations, capped."""
    count = _number(commendations, "表彰次数", "commendations", required=False)
    if count is not None and count < 0:
        raise _bad("表彰次数不能为负数", "commendations cannot be negative")
    return grading.bonus_points(cell_rulebook(caller), count)


@xw.func(category=CATEGORY)
@xw.arg("value", doc="数值 / number")
@xw.arg("decimals", doc="小数位数，留空用规则表（默认 2）/ decimals; blank uses the rulebook's (2)")
@excel_errors
def KPI_ROUND(value, decimals=None, caller=None):
    """与 Excel ROUND 一致的四舍五入 / Rounding half away from zero, as Excel's ROUND."""
    places = _number(decimals, "小数位数", "decimals", required=False)
    if places is None:
        places = cell_rulebook(caller).scoring.decimals
    if places != int(places) or not 0 <= places <= 10:
        raise _bad("小数位数应为 0-10 的整数", "decimals must be a whole number 0-10")
    return scoring.round_half_up(_number(value, "数值", "value"), int(places))


@xw.func(category=CATEGORY)
@excel_errors
def KPI_RULEBOOK(caller=None):
    """当前使用的规则表（编号、版本、指纹）/ The rulebook in force: id, version, fingerprint."""
    rulebook = cell_rulebook(caller)
    return f"{rulebook.meta.name_zh} {rulebook.meta.id} v{rulebook.meta.version} ({rulebook.fingerprint()})"
