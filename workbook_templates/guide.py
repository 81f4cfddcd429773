"""填写说明: the period, deadlines, colours, steps and every rule, written from the rulebook.

Nothing here is typed: each number and name comes from the rulebook the
workbook was built with, so the guide can never disagree with the formulas.
"""

from __future__ import annotations

import math

from xlsxwriter.workbook import Workbook

from kpisheet.validators.layout import GOALS, GUIDE, PERSONAL, SCORES, SUMMARY
from kpisheet.validators.rulebook.model import METHOD_LABELS, UNIT_LABELS, Indicator, Method, Rulebook, Unit

from kpisheet.workbook_templates.frame import (
    INFO_HEIGHT, chunk_breaks, info_line, page_setup, print_scale, protect, put,
)
from kpisheet.workbook_templates.plan import TeamPlan
from kpisheet.workbook_templates.styles import (
    LEGEND, PREFILLED_FILL, PREFILLED_LEGEND, Formats, display_width,
)

# columns B..J; column A is a narrow margin
WIDTHS = (2, 16, 22, 10, 10, 8, 9, 10, 26, 12)
TEXT_FIRST, TEXT_LAST = 2, len(WIDTHS) - 1
LINE_HEIGHT = 14
SPACER_HEIGHT = 15


def _fmt(value: float) -> str:
    return f"{value:g}"


def target_text(ind: Indicator, value: float | None) -> str:
    if value is None:
        return "—"
    if ind.unit is Unit.percent:
        return f"{value * 100:g}%"
    return f"{_fmt(value)}{UNIT_LABELS[ind.unit][0]}"


def method_text(rb: Rulebook, method: Method) -> str:
    s = rb.scoring
    cap = _fmt(s.cap)
    if method is Method.higher_better:
        return (f"实际值等于底线值得 0 分，达到目标值得 100 分，其间按比例计分；超过目标值继续按比例加分，"
                f"达到挑战值得 {cap} 分（封顶）。低于底线值得 0 分。")
    if method is Method.lower_better:
        return (f"数值越低越好：等于底线值（上限）得 0 分，达到目标值得 100 分，其间按比例计分；"
                f"低于目标值继续加分，达到挑战值得 {cap} 分（封顶）。")
    if method is Method.deduction:
        return "100 分减去本期累计扣分，最低 0 分。实际值一栏填累计扣分（见下方扣分标准）。"
    if method is Method.count:
        return f"实际数量 ÷ 目标数量 × 100，最高 {cap} 分。"
    points = "/".join(_fmt(p) for p in s.rating_points)
    levels = "/".join(str(i + 1) for i in range(len(s.rating_points)))
    own = ("员工自评仅作记录和对比，不计入得分。" if not s.self_weight
           else f"得分 = 上级评分 × {1 - s.self_weight:.0%} + 自评 × {s.self_weight:.0%}。")
    return f"上级评分 {levels} 分别对应 {points} 分。{own}"


class _Writer:
    """Writes the guide top to bottom; ``row`` is the next free row."""

    def __init__(self, sheet, formats: Formats):
        self.sheet, self.f, self.row = sheet, formats, 0
        self.heights: dict[int, float] = {}
        self.sections: list[int] = []  # first row of each section (its spacer row)

    def height(self, row: int, points: float) -> None:
        self.sheet.set_row(row, points)
        self.heights[row] = points

    def section(self, text: str) -> None:
        self.sections.append(self.row)
        self.height(self.row, SPACER_HEIGHT)
        self.row += 1
        self.sheet.merge_range(self.row, 1, self.row, TEXT_LAST, text, self.f.section)
        self.height(self.row, 20)
        self.row += 1

    def chunks(self) -> list[tuple[int, float]]:
        """(first row, height) of each section, for page breaks between sections."""
        ends = self.sections[1:] + [self.row]
        return [(start, sum(self.heights.get(r, SPACER_HEIGHT) for r in range(start, end)))
                for start, end in zip(self.sections, ends)]

    def item(self, label: str, text: str, fmt=None) -> None:
        width = sum(WIDTHS[TEXT_FIRST:]) - 2
        lines = sum(max(1, math.ceil(display_width(part) / width)) for part in text.split("\n"))
        self.height(self.row, max(18, LINE_HEIGHT * lines + 4))
        self.sheet.write_string(self.row, 1, label, self.f.label)
        self.sheet.merge_range(self.row, TEXT_FIRST, self.row, TEXT_LAST, text, fmt or self.f.text_wrap)
        self.row += 1

    def table(self, header: list[str], rows: list[list], spans: list[tuple[int, int]]) -> None:
        """A small table; ``spans`` gives each column's (first, last) sheet columns."""
        self.height(self.row, 30)
        for text, (c1, c2) in zip(header, spans):
            self._cell(c1, c2, text, self.f.header)
        self.row += 1
        for values in rows:
            height = max(display_width(str(v)) / max(1, sum(WIDTHS[c1:c2 + 1]) - 1) for v, (c1, c2) in
                         zip(values, spans))
            self.height(self.row, max(18, LINE_HEIGHT * math.ceil(height) + 4))
            for value, (c1, c2) in zip(values, spans):
                self._cell(c1, c2, value, self.f.fixed_wrap)
            self.row += 1

    def _cell(self, c1: int, c2: int, value, fmt) -> None:
        if c1 == c2:
            put(self.sheet, self.row, c1, value, fmt)
        else:
            self.sheet.merge_range(self.row, c1, self.row, c2, "", fmt)
            put(self.sheet, self.row, c1, value, fmt)


def write_guide(book: Workbook, formats: Formats, plan: TeamPlan) -> None:
    sheet = book.add_worksheet(GUIDE)
    rb = plan.rulebook
    for i, width in enumerate(WIDTHS):
        sheet.set_column(i, i, width)
    sheet.hide_gridlines(2)
    w = _Writer(sheet, formats)
    w.height(0, 26)
    w.height(1, INFO_HEIGHT)
    sheet.write_string(0, 1, f"{rb.meta.name_zh} — 填写说明 How to fill in this workbook", formats.title)
    sheet.write_string(1, 1, info_line(plan), formats.info)
    w.row = 2

    _basics(w, plan)
    _legend(w, formats, bool(plan.actuals))
    _steps(w, plan)
    _methods(w, rb)
    _indicators(w, rb, plan)
    _anchors_and_deductions(w, rb)
    _bonus_veto_grades(w, rb)
    _distribution_and_outcomes(w, rb)

    scale = print_scale(list(WIDTHS))
    page_setup(sheet, scale=scale)
    sheet.set_h_pagebreaks(chunk_breaks(w.chunks(), scale, 26 + INFO_HEIGHT, 0))
    sheet.print_area(0, 0, w.row, TEXT_LAST)
    sheet.activate()
    protect(sheet)


def _basics(w: _Writer, plan: TeamPlan) -> None:
    rb, p = plan.rulebook, plan.period
    w.section("一、基本信息 Basics")
    period = plan.period_label_zh + (f"（{p}）" if p else "")
    w.item("考核周期 Period", period + (f"，{p.start:%Y-%m-%d} 至 {p.end:%Y-%m-%d}" if p else ""))
    w.item("部门 / 团队", f"{plan.department} / {plan.team}，共 {len(plan.blocks)} 人")
    due = (f"{plan.deadline:%Y-%m-%d} 前提交人力资源部" if plan.deadline
           else "以人力资源部通知为准 / as announced by HR")
    w.item("提交截止 Deadline", due)
    window = plan.signoff_window
    w.item("签字期限 Sign-off", (f"{window[0]:%Y-%m-%d} 至 {window[1]:%Y-%m-%d}（考核期结束后 "
                               f"{rb.periods.signoff_days_after_end} 天内），上级和员工在“{SUMMARY}”表签字并填写日期。")
           if window else f"考核期结束后 {rb.periods.signoff_days_after_end} 天内完成签字。")
    w.item("申诉 Appeals",
           f"员工可在结果公布后 {rb.appeals.file_within_workdays} 个工作日内提出书面申诉；人力资源部 "
           f"{rb.appeals.accept_within_workdays} 个工作日内受理，{rb.appeals.resolve_within_workdays} 个工作日内"
           "处理完毕（按工作日计算，含调休上班日）。")
    w.item("规则版本 Rules", f"{rb.meta.name_zh} {rb.meta.id} v{rb.meta.version}（指纹 {rb.fingerprint()}）")


def _legend(w: _Writer, formats: Formats, prefilled: bool) -> None:
    w.section("二、颜色说明 Colour legend")
    for fill, zh, en in LEGEND:
        if prefilled and fill == PREFILLED_FILL:
            zh, en = PREFILLED_LEGEND
        w.sheet.write_string(w.row, 1, "", formats.legend[fill])
        w.sheet.merge_range(w.row, TEXT_FIRST, w.row, TEXT_LAST, f"{zh}　{en}", formats.text_wrap)
        w.height(w.row, 18)
        w.row += 1


def _steps(w: _Writer, plan: TeamPlan) -> None:
    rb = plan.rulebook
    w.section("三、填写步骤 Steps")
    steps = [
        (f"1 期初 {GOALS}",
         "确认每位员工各指标的权重（每人合计须为 100，单项在规则允许的范围内）、可调整的底线/目标/挑战值，"
         "并写明 SMART 目标描述；与员工确认目标。"),
        (f"2 期末 {SCORES}",
         "填写实际值（百分比填 95% 或 0.95，不要填 95）、员工自评、上级评分（评分类指标）。得分自动计算。"
         f"得分 ≥{_fmt(rb.comments.extreme_high)} 或 ≤{_fmt(rb.comments.extreme_low)}，或自评与上级评分相差超过 "
         f"{_fmt(rb.comments.self_gap)} 分时，必须在“说明/依据”写明事实。"),
        (f"3 {SUMMARY}",
         "填写表彰次数和一票否决（无则选“无”），核对总分、等级、排名和团队等级分布；等级为 "
         f"{'、'.join(rb.outcomes.pip_grades)} 的员工填写绩效改进计划。"),
        ("4 反馈面谈", "与每位员工面谈，填写面谈记录，双方签字并填写日期。"),
        (f"5 {PERSONAL}", "选择工号，打印个人考核表（A4 横向），员工与上级签字后存档。"),
        ("6 提交 Submit", "保存后把本文件原样发给人力资源部。请勿改文件名和工作表名，勿插入、删除行列，"
                        "勿覆盖绿色公式格。工作表保护只防误改，无密码。"),
    ]
    for label, text in steps:
        w.item(label, text)


def _methods(w: _Writer, rb: Rulebook) -> None:
    w.section("四、评分方法 Scoring methods")
    used = [m for m in Method if any(ind.method is m for ind in rb.indicators)]
    for method in used:
        zh, en = METHOD_LABELS[method]
        w.item(f"{zh} {en}", method_text(rb, method))
    w.item("加权得分 Weighted", f"指标得分 × 权重% ÷ 100；总分 = 各指标加权得分之和 + 表彰加分，"
                              f"保留 {rb.scoring.decimals} 位小数（四舍五入）。")


def _indicators(w: _Writer, rb: Rulebook, plan: TeamPlan) -> None:
    w.section("五、各岗位指标与默认值 Indicators by role")
    roles = [r for r in rb.roles if any(b.role.code == r.code for b in plan.blocks)] or list(rb.roles)
    header = ["岗位\nRole", "指标\nIndicator", "类别\nCategory", "评分方法\nMethod", "默认权重\nWeight",
              "权重范围\nRange", "底线 / 目标 / 挑战\nFloor / target / challenge", "目标可调\nEditable"]
    spans = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 7), (8, 8), (9, 9)]
    rows = []
    for role in roles:
        for ind, weight in rb.role_indicators(role.code):
            targets = " / ".join(target_text(ind, getattr(ind, k)) for k in ("floor", "target", "challenge"))
            rows.append([role.name_zh, ind.name_zh, rb.category(ind.category).name_zh, METHOD_LABELS[ind.method][0],
                         weight, f"{_fmt(ind.weight_min)}～{_fmt(ind.weight_max)}",
                         targets if ind.method not in (Method.rating, Method.deduction) else "—",
                         "可调 yes" if ind.editable_targets else "固定 fixed"])
    w.table(header, rows, spans)
    cats = "，".join(f"{c.name_zh} {_fmt(c.weight)}%" for c in rb.categories)
    w.item("类别权重 Categories", f"参考比例：{cats}。")


def _anchors_and_deductions(w: _Writer, rb: Rulebook) -> None:
    w.section("六、评分标准与扣分标准 Rating anchors and deductions")
    for ind in rb.indicators:
        if ind.is_rating and ind.anchors_zh:
            w.item(ind.name_zh, "；".join(ind.anchors_zh))
    for ind in rb.indicators:
        if ind.method is Method.deduction:
            items = "，".join(f"{i.name_zh} -{_fmt(i.points)} 分/次" for i in ind.incidents)
            w.item(f"{ind.name_zh}（扣分）", f"{items}。实际值填本期累计扣分。")


def _bonus_veto_grades(w: _Writer, rb: Rulebook) -> None:
    s = rb.scoring
    w.section("七、加分、一票否决与等级 Bonus, veto and grades")
    w.item("表彰加分 Bonus", f"每次表彰加 {_fmt(s.bonus_per_commendation)} 分，加分最多 {_fmt(s.bonus_cap)} 分。")
    vetoes = "、".join(v.name_zh for v in s.vetoes) or "（无）"
    w.item("一票否决 Veto", f"{vetoes}：发生任一项，等级直接为 {s.veto_grade}。")
    header = ["等级\nGrade", "名称\nName", "总分\nTotal", "绩效系数\nCoefficient"]
    spans = [(1, 1), (2, 2), (3, 4), (5, 7)]
    rows = []
    bands = list(rb.grades)
    for i, band in enumerate(bands):
        upper = f"，< {_fmt(bands[i - 1].min)}" if i else ""
        rows.append([band.grade, f"{band.name_zh} {band.name_en}", f"≥ {_fmt(band.min)}{upper}", band.coefficient])
    w.table(header, rows, spans)


def _distribution_and_outcomes(w: _Writer, rb: Rulebook) -> None:
    d, o, e = rb.distribution, rb.outcomes, rb.eligibility
    g = [b.grade for b in rb.grades]
    w.section("八、强制分布与结果应用 Distribution and outcomes")
    w.item("强制分布 Quotas",
           f"{g[0]} ≤ {d.s_max:.0%}；{'+'.join(g[:2])} ≤ {d.sa_max:.0%}；{''.join(g[2:3])} ≥ {d.b_min:.0%}；"
           f"{'+'.join(g[3:])} 为 {d.cd_min:.0%}～{d.cd_max:.0%}（参考）。不足 {d.pool_below} 人的团队在部门层面合并；"
           f"{d.small_team_max} 人及以下的团队最多 {d.small_team_s_max} 个 {g[0]}。"
           + ("调整等级须写明理由。" if d.override_needs_reason else ""))
    w.item("不参与分布 Excluded",
           f"状态为 {'、'.join(e.excluded_statuses)} 的员工及本期任职不足 {e.min_months_in_post} 个月的员工"
           "不参与强制分布，单独标注。")
    w.item("结果应用 Outcomes",
           f"等级为 {'、'.join(o.pip_grades)} 须制定 {o.pip_months_min}～{o.pip_months_max} 个月的绩效改进计划；"
           f"连续 {o.consecutive_d_review} 次为 {g[-1]} 的，由人力资源部复核（系统只做提示，不自动作出决定）。")
