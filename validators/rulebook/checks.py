"""Cross-field rules of a structurally valid rulebook.

pydantic checks each value on its own; these rules check values against each
other (weights against categories, thresholds against the method's direction,
quotas against each other). Every rule runs and every problem is reported, so
HR fixes a rulebook in one pass instead of one error at a time. Locations are
YAML key paths (``roles[1].weights.CSAT``); the .xlsx reader maps them to cells.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Iterator

from kpisheet.validators.rulebook.model import Indicator, Method, Rulebook, Unit
from kpisheet.validators.rulebook.problems import RuleProblem

Problems = Iterator[RuleProblem]

# The quota fields of `distribution` are named after these grade letters.
QUOTA_GRADES = ("S", "A", "B", "C", "D")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
QUARTER_AGGREGATIONS = ("mean",)

# Which unit each method's numbers are in (None: any of the measuring units).
_METHOD_UNITS: dict[Method, tuple[Unit, ...]] = {
    Method.rating: (Unit.rating,),
    Method.deduction: (Unit.points,),
    Method.count: (Unit.count,),
    Method.higher_better: (Unit.percent, Unit.hours, Unit.minutes, Unit.count),
    Method.lower_better: (Unit.percent, Unit.hours, Unit.minutes, Unit.count),
}
# Parameters each method reads; any other one set by HR would be silently ignored.
_METHOD_PARAMS: dict[Method, tuple[str, ...]] = {
    Method.higher_better: ("floor", "target", "challenge"),
    Method.lower_better: ("floor", "target", "challenge"),
    Method.count: ("target",),
    Method.deduction: (),
    Method.rating: (),
}
_PARAM_ZH = {"floor": "底线值", "target": "目标值", "challenge": "挑战值"}
_TOLERANCE = 1e-6


def check_rulebook(rulebook: Rulebook) -> list[RuleProblem]:
    """Every cross-field problem of ``rulebook``, in rulebook order (empty when valid)."""
    checks = (
        _duplicate_codes,
        _categories,
        _indicators,
        _roles,
        _scoring,
        _grades,
        _distribution,
        _comments,
        _eligibility,
        _periods,
        _appeals,
        _outcomes,
        _holidays,
    )
    return [problem for check in checks for problem in check(rulebook)]


def _problem(location: str, zh: str, en: str) -> RuleProblem:
    return RuleProblem(location, zh, en)


def _num(value: float) -> str:
    """12.0 -> '12', 0.95 -> '0.95': numbers as HR typed them."""
    return f"{value:g}"


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0, abs_tol=_TOLERANCE)


def _ind_name(ind: Indicator) -> str:
    return f"{ind.code}（{ind.name_zh}）"


# --- codes ---------------------------------------------------------------

def _duplicates(items: Iterable, path: str, what_zh: str, what_en: str, field: str = "code") -> Problems:
    seen: set[str] = set()
    for i, item in enumerate(items):
        value = getattr(item, field)
        if value in seen:
            yield _problem(f"{path}[{i}].{field}",
                           f"{what_zh}代码 {value} 重复，每个代码只能出现一次",
                           f"duplicate {what_en} code {value}: each code may appear only once")
        seen.add(value)


def _duplicate_codes(rb: Rulebook) -> Problems:
    yield from _duplicates(rb.categories, "categories", "类别", "category")
    yield from _duplicates(rb.roles, "roles", "岗位", "role")
    yield from _duplicates(rb.indicators, "indicators", "指标", "indicator")
    yield from _duplicates(rb.scoring.vetoes, "scoring.vetoes", "否决项", "veto")
    for i, ind in enumerate(rb.indicators):
        yield from _duplicates(ind.incidents, f"indicators[{i}].incidents",
                               f"指标 {ind.code} 的扣分事项", f"incident (indicator {ind.code})")
    # Rosters name roles by their Chinese or English name, so those must be unambiguous too.
    for field, label in (("name_zh", "中文名称"), ("name_en", "English name")):
        seen: set[str] = set()
        for i, role in enumerate(rb.roles):
            name = getattr(role, field)
            if name in seen:
                yield _problem(f"roles[{i}].{field}",
                               f"岗位{label} {name} 重复，花名册无法区分岗位",
                               f"duplicate role {field} {name}: the roster could not tell the roles apart")
            seen.add(name)


# --- categories and indicators -------------------------------------------

def _categories(rb: Rulebook) -> Problems:
    total = sum(c.weight for c in rb.categories)
    if not _same(total, 100):
        parts = " + ".join(f"{c.code} {_num(c.weight)}" for c in rb.categories)
        yield _problem("categories",
                       f"类别权重合计为 {_num(total)}（{parts}），应为 100",
                       f"category weights sum to {_num(total)} ({parts}); they must sum to 100")


def _indicators(rb: Rulebook) -> Problems:
    categories = {c.code for c in rb.categories}
    in_roles = {code for role in rb.roles for code in role.weights}
    for i, ind in enumerate(rb.indicators):
        path = f"indicators[{i}]"
        if ind.category not in categories:
            yield _problem(f"{path}.category",
                           f"指标 {_ind_name(ind)}的类别 {ind.category} 不存在；可选：{', '.join(sorted(categories))}",
                           f"indicator {ind.code}: category {ind.category} does not exist; "
                           f"choose one of {', '.join(sorted(categories))}")
        if ind.weight_min > ind.weight_max:
            yield _problem(f"{path}.weight_min",
                           f"指标 {_ind_name(ind)}的最小权重 {_num(ind.weight_min)} 大于最大权重 {_num(ind.weight_max)}",
                           f"indicator {ind.code}: weight_min {_num(ind.weight_min)} is above "
                           f"weight_max {_num(ind.weight_max)}")
        if ind.mandatory and ind.code not in in_roles:
            yield _problem(f"{path}.mandatory",
                           f"指标 {_ind_name(ind)} 为必选指标，但没有任何岗位使用它；请在岗位权重中加入或取消必选",
                           f"indicator {ind.code} is mandatory but no role uses it; "
                           f"add it to a role's weights or set mandatory to false")
        yield from _unit_fits_method(ind, path)
        yield from _thresholds(ind, path)
        yield from _method_extras(rb, ind, path)


def _unit_fits_method(ind: Indicator, path: str) -> Problems:
    allowed = _METHOD_UNITS[ind.method]
    if ind.unit not in allowed:
        names = ", ".join(u.value for u in allowed)
        yield _problem(f"{path}.unit",
                       f"指标 {_ind_name(ind)}的评分方法 {ind.method.value} 不能使用单位 {ind.unit.value}；可用：{names}",
                       f"indicator {ind.code}: method {ind.method.value} cannot use unit {ind.unit.value}; "
                       f"use one of {names}")


def _thresholds(ind: Indicator, path: str) -> Problems:
    used = _METHOD_PARAMS[ind.method]
    misscaled = False
    for name in ("floor", "target", "challenge"):
        value = getattr(ind, name)
        if name in used and value is None:
            yield _problem(f"{path}.{name}",
                           f"指标 {_ind_name(ind)}（{ind.method.value}）缺少{_PARAM_ZH[name]} {name}",
                           f"indicator {ind.code} ({ind.method.value}) needs a {name} value")
        elif name not in used and value is not None:
            yield _problem(f"{path}.{name}",
                           f"指标 {_ind_name(ind)}的评分方法 {ind.method.value} 不使用{_PARAM_ZH[name]}，请删除该值",
                           f"indicator {ind.code}: method {ind.method.value} does not use {name}; remove it")
        elif value is not None and ind.unit is Unit.percent and not 0 <= value <= 1:
            misscaled = True
            hint_zh = f"，是否应为 {_num(value / 100)}" if 1 < value <= 100 else ""
            hint_en = f"; did you mean {_num(value / 100)}?" if 1 < value <= 100 else ""
            yield _problem(f"{path}.{name}",
                           f"指标 {_ind_name(ind)}的{_PARAM_ZH[name]} {_num(value)} 超出 0~1："
                           f"百分比用小数填写（95% 写 0.95）{hint_zh}",
                           f"indicator {ind.code}: {name} {_num(value)} is outside 0..1: percentages are "
                           f"fractions (95% is 0.95){hint_en}")
    if not misscaled:  # a 95 among fractions would also break the order; one message is enough
        yield from _direction(ind, path)


def _direction(ind: Indicator, path: str) -> Problems:
    f, t, c = ind.floor, ind.target, ind.challenge
    if ind.method is Method.count and t is not None and t <= 0:
        yield _problem(f"{path}.target",
                       f"指标 {_ind_name(ind)} 为计数方法，目标值必须大于 0（现为 {_num(t)}）",
                       f"indicator {ind.code} counts against its target, which must be above 0 (it is {_num(t)})")
    if ind.method not in (Method.higher_better, Method.lower_better) or None in (f, t, c):
        return
    higher = ind.method is Method.higher_better
    # a target equal to the challenge is allowed, as on the team workbook's form (scoring gives the cap beyond it)
    sign_zh, sign_en = ("<", "higher_better: floor < target <= challenge") if higher else \
        (">", "lower_better: floor > target >= challenge")
    order_zh = f"底线值 {sign_zh} 目标值 {'≤' if higher else '≥'} 挑战值"
    if (t <= f) if higher else (t >= f):
        yield _problem(f"{path}.target",
                       f"指标 {_ind_name(ind)}的目标值 {_num(t)} 与底线值 {_num(f)} 顺序不对：{ind.method.value} 要求 {order_zh}",
                       f"indicator {ind.code}: target {_num(t)} and floor {_num(f)} are out of order; "
                       f"{sign_en}")
    if (c < t) if higher else (c > t):
        yield _problem(f"{path}.challenge",
                       f"指标 {_ind_name(ind)}的挑战值 {_num(c)} 与目标值 {_num(t)} 顺序不对：{ind.method.value} 要求 {order_zh}",
                       f"indicator {ind.code}: challenge {_num(c)} and target {_num(t)} are out of order; "
                       f"{sign_en}")


def _method_extras(rb: Rulebook, ind: Indicator, path: str) -> Problems:
    if ind.method is Method.deduction and not ind.incidents:
        yield _problem(f"{path}.incidents",
                       f"指标 {_ind_name(ind)} 为扣分制，至少需要一个扣分事项 incidents（代码、名称、每次扣分）",
                       f"indicator {ind.code} uses deduction and needs at least one incident (code, names, points)")
    if ind.method is not Method.deduction and ind.incidents:
        yield _problem(f"{path}.incidents",
                       f"指标 {_ind_name(ind)} 不是扣分制，扣分事项不会被使用，请删除",
                       f"indicator {ind.code} is not a deduction indicator; its incidents would be ignored, remove them")
    if ind.method is Method.rating:
        levels = len(rb.scoring.rating_points)
        if ind.anchors_zh and len(ind.anchors_zh) != levels:
            yield _problem(f"{path}.anchors_zh",
                           f"指标 {_ind_name(ind)} 有 {len(ind.anchors_zh)} 条评分描述，但评分共 {levels} 级"
                           f"（scoring.rating_points），两者应一致",
                           f"indicator {ind.code} has {len(ind.anchors_zh)} rating anchors but the scale has "
                           f"{levels} levels (scoring.rating_points); they must match")
    elif ind.anchors_zh:
        yield _problem(f"{path}.anchors_zh",
                       f"指标 {_ind_name(ind)} 不是等级评分，评分描述不会被使用，请删除",
                       f"indicator {ind.code} is not a rating indicator; its anchors would be ignored, remove them")
    if ind.editable_targets and not _METHOD_PARAMS[ind.method]:
        yield _problem(f"{path}.editable_targets",
                       f"指标 {_ind_name(ind)}的评分方法 {ind.method.value} 没有底线/目标/挑战值，editable_targets 应为 false",
                       f"indicator {ind.code}: method {ind.method.value} has no floor/target/challenge to edit; "
                       f"set editable_targets to false")


# --- roles ----------------------------------------------------------------

def _roles(rb: Rulebook) -> Problems:
    known = {ind.code: ind for ind in rb.indicators}
    s = rb.scoring
    for r, role in enumerate(rb.roles):
        path = f"roles[{r}].weights"
        who_zh, who_en = f"岗位 {role.code}（{role.name_zh}）", f"role {role.code} ({role.name_en})"
        for code, weight in role.weights.items():
            ind = known.get(code)
            if ind is None:
                yield _problem(f"{path}.{code}",
                               f"{who_zh}的权重引用了不存在的指标 {code}",
                               f"{who_en} weighs indicator {code}, which does not exist")
            elif not ind.weight_min - _TOLERANCE <= weight <= ind.weight_max + _TOLERANCE:
                yield _problem(f"{path}.{code}",
                               f"{who_zh}的指标 {code} 权重 {_num(weight)} 超出该指标允许范围 "
                               f"{_num(ind.weight_min)}~{_num(ind.weight_max)}",
                               f"{who_en}: weight {_num(weight)} for {code} is outside its range "
                               f"{_num(ind.weight_min)}..{_num(ind.weight_max)}")
        count = len(role.weights)
        if not s.indicators_per_role_min <= count <= s.indicators_per_role_max:
            yield _problem(path,
                           f"{who_zh} 有 {count} 个指标，应为 {s.indicators_per_role_min}~{s.indicators_per_role_max} 个",
                           f"{who_en} has {count} indicators; it needs "
                           f"{s.indicators_per_role_min} to {s.indicators_per_role_max}")
        total = sum(role.weights.values())
        if not _same(total, 100):
            yield _problem(path,
                           f"{who_zh}的指标权重合计为 {_num(total)}，应为 100",
                           f"{who_en}: indicator weights sum to {_num(total)}; they must sum to 100")
        if all(code in known for code in role.weights):  # else the unknown code is the problem to fix
            yield from _role_categories(rb, role, path, who_zh, who_en, known)


def _role_categories(rb: Rulebook, role, path: str, who_zh: str, who_en: str, known: dict) -> Problems:
    by_category: Counter = Counter()
    for code, weight in role.weights.items():
        if code in known:
            by_category[known[code].category] += weight
    for category in rb.categories:
        got = by_category.get(category.code, 0)
        if not _same(got, category.weight):
            yield _problem(path,
                           f"{who_zh}的{category.name_zh}（{category.code}）类指标权重合计为 {_num(got)}，"
                           f"应等于类别权重 {_num(category.weight)}",
                           f"{who_en}: {category.code} indicators weigh {_num(got)} in total; "
                           f"they must equal the category weight {_num(category.weight)}")


# --- scoring and grades ------------------------------------------------------

def _scoring(rb: Rulebook) -> Problems:
    s = rb.scoring
    if s.indicators_per_role_min > s.indicators_per_role_max:
        yield _problem("scoring.indicators_per_role_min",
                       f"每个岗位最少指标数 {s.indicators_per_role_min} 大于最多指标数 {s.indicators_per_role_max}",
                       f"indicators_per_role_min {s.indicators_per_role_min} is above "
                       f"indicators_per_role_max {s.indicators_per_role_max}")
    points = s.rating_points
    if len(points) < 2:
        yield _problem("scoring.rating_points",
                       "等级评分至少需要 2 级（默认 5 级：20, 40, 60, 80, 100）",
                       "the rating scale needs at least 2 levels (default 5: 20, 40, 60, 80, 100)")
    for i, (lower, upper) in enumerate(zip(points, points[1:])):
        if upper <= lower:
            yield _problem(f"scoring.rating_points[{i + 1}]",
                           f"评分分值必须逐级递增：第 {i + 2} 级 {_num(upper)} 不大于第 {i + 1} 级 {_num(lower)}",
                           f"rating points must increase level by level: level {i + 2} ({_num(upper)}) "
                           f"is not above level {i + 1} ({_num(lower)})")
    for i, value in enumerate(points):
        if not 0 <= value <= s.cap:
            yield _problem(f"scoring.rating_points[{i}]",
                           f"评分分值 {_num(value)} 超出 0~{_num(s.cap)}（单项封顶 scoring.cap）",
                           f"rating points {_num(value)} are outside 0..{_num(s.cap)} (the cap, scoring.cap)")
    grades = {band.grade for band in rb.grades}
    if s.veto_grade not in grades:
        yield _problem("scoring.veto_grade",
                       f"一票否决等级 {s.veto_grade} 不是已定义的等级（{', '.join(b.grade for b in rb.grades)}）",
                       f"veto grade {s.veto_grade} is not a defined grade ({', '.join(b.grade for b in rb.grades)})")


def _grades(rb: Rulebook) -> Problems:
    bands = rb.grades
    if not bands:
        yield _problem("grades", "至少需要一个等级", "at least one grade band is needed")
        return
    seen: set[str] = set()
    for i, band in enumerate(bands):
        if band.grade in seen:
            yield _problem(f"grades[{i}].grade",
                           f"等级 {band.grade} 重复，每个等级只能出现一次",
                           f"grade {band.grade} appears twice; each grade may appear only once")
        seen.add(band.grade)
    best_possible = rb.scoring.cap + rb.scoring.bonus_cap
    for i, band in enumerate(bands):
        if i and band.min >= bands[i - 1].min:
            yield _problem(f"grades[{i}].min",
                           f"等级须从高到低排列且最低分严格递减：{band.grade} 的最低分 {_num(band.min)} "
                           f"不低于上一级 {bands[i - 1].grade} 的 {_num(bands[i - 1].min)}",
                           f"grades go best first with strictly decreasing min: {band.grade} min {_num(band.min)} "
                           f"is not below {bands[i - 1].grade} min {_num(bands[i - 1].min)}")
        if i and band.coefficient > bands[i - 1].coefficient:
            yield _problem(f"grades[{i}].coefficient",
                           f"较低等级 {band.grade} 的绩效系数 {_num(band.coefficient)} 高于上一级 "
                           f"{bands[i - 1].grade} 的 {_num(bands[i - 1].coefficient)}",
                           f"lower grade {band.grade} has a higher pay coefficient ({_num(band.coefficient)}) "
                           f"than {bands[i - 1].grade} ({_num(bands[i - 1].coefficient)})")
        if band.min > best_possible:
            yield _problem(f"grades[{i}].min",
                           f"等级 {band.grade} 的最低分 {_num(band.min)} 超过可能的最高总分 {_num(best_possible)}"
                           f"（封顶 {_num(rb.scoring.cap)} + 加分上限 {_num(rb.scoring.bonus_cap)}），无法达到",
                           f"grade {band.grade} min {_num(band.min)} is above the best possible total "
                           f"{_num(best_possible)} (cap + bonus cap); it can never be reached")
    last = len(bands) - 1
    if bands[last].min != 0:
        yield _problem(f"grades[{last}].min",
                       f"最低一级 {bands[last].grade} 的最低分应为 0（现为 {_num(bands[last].min)}），"
                       f"否则低分没有对应等级",
                       f"the last grade {bands[last].grade} must start at 0 (it starts at {_num(bands[last].min)}), "
                       f"or low totals have no grade")


def _distribution(rb: Rulebook) -> Problems:
    d = rb.distribution
    grades = {band.grade for band in rb.grades}
    missing = [g for g in QUOTA_GRADES if g not in grades]
    if missing:
        yield _problem("distribution",
                       f"强制分布比例按等级 S/A/B/C/D 定义，但等级表缺少 {', '.join(missing)}",
                       f"the distribution quotas refer to grades S/A/B/C/D but the grades lack {', '.join(missing)}")
    if d.s_max > d.sa_max:
        yield _problem("distribution.s_max",
                       f"S 上限 {_num(d.s_max)} 大于 S+A 上限 {_num(d.sa_max)}",
                       f"s_max {_num(d.s_max)} is above sa_max {_num(d.sa_max)}; S is part of S+A")
    if d.cd_min > d.cd_max:
        yield _problem("distribution.cd_min",
                       f"C+D 下限 {_num(d.cd_min)} 大于 C+D 上限 {_num(d.cd_max)}",
                       f"cd_min {_num(d.cd_min)} is above cd_max {_num(d.cd_max)}")
    if d.b_min + d.cd_min > 1 + _TOLERANCE:
        yield _problem("distribution.b_min",
                       f"B 下限 {_num(d.b_min)} 加 C+D 下限 {_num(d.cd_min)} 超过 100%，无法同时满足",
                       f"b_min {_num(d.b_min)} plus cd_min {_num(d.cd_min)} exceed 100%: no team can meet both")
    elif d.sa_max + d.b_min + d.cd_min > 1 + _TOLERANCE:
        yield _problem("distribution.sa_max",
                       f"S+A 上限 {_num(d.sa_max)} + B 下限 {_num(d.b_min)} + C+D 下限 {_num(d.cd_min)} 超过 100%，"
                       f"S+A 名额永远用不满；请调低其中之一",
                       f"sa_max {_num(d.sa_max)} + b_min {_num(d.b_min)} + cd_min {_num(d.cd_min)} exceed 100%: "
                       f"the S+A quota can never be used in full; lower one of them")


# --- the remaining sections -----------------------------------------------

def _comments(rb: Rulebook) -> Problems:
    c = rb.comments
    if c.extreme_low >= c.extreme_high:
        yield _problem("comments.extreme_low",
                       f"需说明的低分线 {_num(c.extreme_low)} 应低于高分线 {_num(c.extreme_high)}",
                       f"extreme_low {_num(c.extreme_low)} must be below extreme_high {_num(c.extreme_high)}")
    if c.extreme_high > rb.scoring.cap:
        yield _problem("comments.extreme_high",
                       f"需说明的高分线 {_num(c.extreme_high)} 高于单项封顶 {_num(rb.scoring.cap)}，永远不会触发",
                       f"extreme_high {_num(c.extreme_high)} is above the cap {_num(rb.scoring.cap)} "
                       f"and could never trigger")


def _eligibility(rb: Rulebook) -> Problems:
    statuses = rb.eligibility.excluded_statuses
    for i, status in enumerate(statuses):
        if not status.strip():
            yield _problem(f"eligibility.excluded_statuses[{i}]", "员工状态不能为空", "a status may not be blank")
        elif status in statuses[:i]:
            yield _problem(f"eligibility.excluded_statuses[{i}]",
                           f"员工状态 {status} 重复", f"status {status} is listed twice")


def _periods(rb: Rulebook) -> Problems:
    p = rb.periods
    if p.quarter_from_months not in QUARTER_AGGREGATIONS:
        yield _problem("periods.quarter_from_months",
                       f"季度汇总方式 {p.quarter_from_months} 不支持；可选：{', '.join(QUARTER_AGGREGATIONS)}",
                       f"quarter aggregation {p.quarter_from_months} is not supported; "
                       f"use one of {', '.join(QUARTER_AGGREGATIONS)}")
    for key in p.year_weights:
        if key not in QUARTERS:
            yield _problem(f"periods.year_weights.{key}",
                           f"年度权重的键 {key} 无效，只能是 Q1、Q2、Q3、Q4",
                           f"year weight key {key} is not a quarter; use Q1, Q2, Q3 and Q4")
    absent = [q for q in QUARTERS if q not in p.year_weights]
    if absent:
        yield _problem("periods.year_weights",
                       f"年度权重缺少 {', '.join(absent)}", f"year_weights lack {', '.join(absent)}")
    total = sum(p.year_weights.values())
    if not _same(total, 100):
        yield _problem("periods.year_weights",
                       f"年度各季度权重合计为 {_num(total)}，应为 100",
                       f"year_weights sum to {_num(total)}; they must sum to 100")


def _appeals(rb: Rulebook) -> Problems:
    a = rb.appeals
    if a.accept_within_workdays > a.resolve_within_workdays:
        yield _problem("appeals.accept_within_workdays",
                       f"受理时限 {a.accept_within_workdays} 个工作日长于办结时限 {a.resolve_within_workdays} 个工作日",
                       f"accept_within_workdays {a.accept_within_workdays} is longer than "
                       f"resolve_within_workdays {a.resolve_within_workdays}")


def _outcomes(rb: Rulebook) -> Problems:
    o = rb.outcomes
    grades = [band.grade for band in rb.grades]
    for i, grade in enumerate(o.pip_grades):
        if grade not in grades:
            yield _problem(f"outcomes.pip_grades[{i}]",
                           f"改进计划等级 {grade} 不是已定义的等级（{', '.join(grades)}）",
                           f"improvement-plan grade {grade} is not a defined grade ({', '.join(grades)})")
        elif grade in o.pip_grades[:i]:
            yield _problem(f"outcomes.pip_grades[{i}]", f"等级 {grade} 重复", f"grade {grade} is listed twice")
    if o.pip_months_min > o.pip_months_max:
        yield _problem("outcomes.pip_months_min",
                       f"改进计划最短月数 {o.pip_months_min} 大于最长月数 {o.pip_months_max}",
                       f"pip_months_min {o.pip_months_min} is above pip_months_max {o.pip_months_max}")


# --- holiday schedules ----------------------------------------------------

_WEEKDAYS_ZH = "一二三四五六日"


def _holidays(rb: Rulebook) -> Problems:
    """Each year's schedule is consistent: its dates in that year, each listed once, no day both off
    and a working day, make-up working days on weekends (a weekday is a working day anyway, so
    listing one is a typo), and each year given once."""
    years: dict[int, int] = {}
    for i, entry in enumerate(rb.holidays):
        path = f"holidays[{i}]"
        if entry.year in years:
            yield _problem(f"{path}.year", f"{entry.year} 年的节假日安排出现两次（另见 holidays[{years[entry.year]}]），"
                                           "请合并为一项",
                           f"the {entry.year} schedule is given twice (also holidays[{years[entry.year]}]); merge them")
        years.setdefault(entry.year, i)
        for field, zh, en in (("holidays", "放假日", "day off"), ("workdays", "调休上班日", "make-up working day")):
            seen: set = set()
            for j, day in enumerate(getattr(entry, field)):
                where = f"{path}.{field}[{j}]"
                if day.year != entry.year:
                    yield _problem(where, f"{zh} {day.isoformat()} 不在 {entry.year} 年内",
                                   f"{en} {day.isoformat()} is not in {entry.year}")
                if day in seen:
                    yield _problem(where, f"{zh} {day.isoformat()} 重复列出", f"{en} {day.isoformat()} is listed twice")
                seen.add(day)
        both = sorted(set(entry.holidays) & set(entry.workdays))
        for day in both:
            j = entry.workdays.index(day)
            yield _problem(f"{path}.workdays[{j}]",
                           f"{day.isoformat()} 同时列为放假日和调休上班日，只能是其中之一",
                           f"{day.isoformat()} is listed both as a day off and as a make-up working day")
        for j, day in enumerate(entry.workdays):
            if day.weekday() < 5 and day not in both:
                yield _problem(f"{path}.workdays[{j}]",
                               f"调休上班日 {day.isoformat()} 是星期{_WEEKDAYS_ZH[day.weekday()]}，本来就是工作日；"
                               "调休上班日应为周六或周日，请核对通知",
                               f"make-up working day {day.isoformat()} is a {day:%A}, a working day anyway; "
                               "make-up days fall on weekends, check the notice")
