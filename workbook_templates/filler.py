"""Fill a team workbook as a manager would: plausible inputs, optional typical slips.

Used by the tests (formula parity, round trips, validation), the demo and the
benchmark. It types into the input cells only, through openpyxl (an edit like
a manager's Excel save), and returns a :class:`FillManifest` saying which cell
got what and, for each deliberate mistake, which validation finding it should
cause, so tests and samples can assert findings at the right cell.

Everything is drawn from one seeded :class:`random.Random`: the same seed and
options give the same workbook.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

import openpyxl
from openpyxl.formula.tokenizer import Tokenizer
from openpyxl.worksheet.worksheet import Worksheet

from kpisheet.validators.policy.grading import IndicatorLine, score_employee
from kpisheet.validators.layout import (
    GOAL_COLUMNS, GOALS, META, META_KEYS, SCORE_COLUMNS, SCORES, SUMMARY, VETO_NONE, a1, summary_columns,
)
from kpisheet.validators.policy.periods import Period, PeriodError, parse_period
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Indicator, Method, Rulebook, Unit
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.validators.policy.scoring import deduction_points, indicator_score
from kpisheet.validators.reading.submission import RowMapEntry, number, read_identity
from kpisheet.validators.errors import KpisheetError

# mistake name -> (the validation finding it should cause, what the manager did)
MISTAKES: dict[str, tuple[str | None, str]] = {
    "text-number": ("score-not-number", "全角数字、文本“95%”、“约90”、多余空格 / numbers typed as text"),
    "percent-scale": ("score-percent-scale", "百分比填成 95 而非 95% / 95 typed where 95% was meant"),
    "out-of-range": ("score-out-of-range", "实际值为负数或超出可能范围 / an impossible actual value"),
    "rating-invalid": ("score-rating-invalid", "评分为 6 或 3.5 / a rating of 6 or 3.5"),
    "missing-input": ("score-missing", "实际值或评分未填 / an actual or a rating left empty"),
    "comment-missing": ("score-comment-required", "极端得分或自评差距大却无说明 / no comment where one is required"),
    "weight-sum": ("goal-weight-sum", "权重合计为 90 / weights summing to 90"),
    "weight-range": ("goal-weight-range", "权重超出该指标上限 / a weight above the indicator's maximum"),
    "target-order": ("goal-target-order", "底线值高于目标值 / floor above target"),
    "target-missing": ("goal-target-missing", "目标值被清空 / a target cleared"),
    "smart-missing": ("goal-smart-missing", "SMART 描述未填 / a SMART description left empty"),
    "overwrite-formula": ("template-formula-replaced", "公式被常数覆盖 / a formula overwritten with a number"),
    "insert-row": ("template-structure-changed", "在评分表中插入一行 / a row inserted on the scores sheet"),
    "delete-row": ("template-structure-changed", "在评分表中删除一行 / a row deleted on the scores sheet"),
    "change-code": ("template-structure-changed", "指标代码被改动 / an indicator code edited"),
    "duplicate-employee": ("team-duplicate-employee", "同一工号出现两次 / one employee id used twice"),
    "signoff-missing": ("team-signoff-missing", "上级未签字 / the manager's sign-off left empty"),
    "wrong-period": ("team-period-mismatch", "_meta 中的考核周期被改动 / the period in _meta edited"),
    "formula-injection": (None, "说明中输入以 = 开头的文字（存为文本）/ comments starting with '=' kept as text"),
}

_ROW_MOVES = ("insert-row", "delete-row")
# text starting with one of these would be taken for a formula (DESIGN.md section 6)
_FORMULA_LEADS = "=+-@\t\r"

_GOAL = {c.key: i + 1 for i, c in enumerate(GOAL_COLUMNS)}  # openpyxl columns are 1-based
_SCORE = {c.key: i + 1 for i, c in enumerate(SCORE_COLUMNS)}

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红"


@dataclass(frozen=True)
class Change:
    """One cell the filler wrote. ``code`` is the finding a mistake should cause (None for plain input)."""

    sheet: str
    cell: str
    value: object
    code: str | None = None
    mistake: str | None = None
    employee_id: str | None = None
    indicator: str | None = None


@dataclass
class FillManifest:
    source: str
    target: str
    seed: int
    mistakes: tuple[str, ...]
    changes: list[Change] = field(default_factory=list)

    def expected_findings(self) -> list[Change]:
        """The cells where a mistake was made, each with the finding code it should raise."""
        return [c for c in self.changes if c.code]


class FillError(KpisheetError):
    """The filler cannot work on this file or was asked for something it does not know."""

    code = "demo-fill"
    title_zh, title_en = "示例填写无法完成", "demo filler failed"
    description = "The demo's seeded filler cannot fill this workbook as asked (tests and demo only)."

    def __init__(self, message: str):
        # the filler's messages are written "中文 english" in one string for developers
        super().__init__(message, message)


def fill_team_workbook(
    src: str | Path,
    dst: str | Path,
    *,
    seed: int,
    mistakes: Iterable[str] = frozenset(),
    rulebook: Rulebook | None = None,
    boundary: float = 0.0,
    redistribute: float = 0.2,
    vary_targets: float = 0.2,
    veto_rate: float = 0.02,
    manager_name: str | None = None,
) -> FillManifest:
    """Type plausible inputs into the team workbook ``src`` and save it as ``dst``.

    ``boundary`` is the share of inputs set to an edge case instead of a
    typical value (exactly floor/target/challenge, beyond the cap, ratings 1
    and 5, deductions over 100, commendations over the bonus cap).
    ``redistribute`` and ``vary_targets`` are the shares of employees whose
    default weights are shifted (still summing to 100) and of editable
    indicators whose target is adjusted. ``mistakes`` names entries of
    :data:`MISTAKES`, each made at least once at a seeded spot.
    ``manager_name`` signs every row and coaches improvement plans (a made-up
    name when not given: the workbook does not carry the manager's name).
    """
    # rows are inserted or deleted last, so every other mistake's cell is known before rows move
    mistakes = tuple(sorted(set(mistakes), key=lambda m: (m in _ROW_MOVES, m)))
    unknown = [m for m in mistakes if m not in MISTAKES]
    if unknown:
        raise FillError(f"未知的错误类型 unknown mistake(s): {', '.join(unknown)}; known: {', '.join(MISTAKES)}")
    rulebook = rulebook or default_rulebook()
    book = openpyxl.load_workbook(src)
    missing = [s for s in (GOALS, SCORES, SUMMARY, META) if s not in book.sheetnames]
    if missing:
        raise FillError(f"{src}: 不是考核表，缺少工作表 not a team workbook, missing {', '.join(missing)}")
    identity = read_identity([list(r) for r in book[META].iter_rows(values_only=True)], source=str(src))
    filler = _Filler(book, rulebook, random.Random(seed), identity.row_map, identity.period,
                     FillManifest(str(src), str(dst), seed, mistakes), manager_name)
    filler.fill_all(boundary=boundary, redistribute=redistribute, vary_targets=vary_targets, veto_rate=veto_rate)
    for mistake in mistakes:
        getattr(filler, "mistake_" + mistake.replace("-", "_"))()
    # no cached values survive openpyxl: make every spreadsheet program recalculate on open
    book.calculation.fullCalcOnLoad = True
    book.save(dst)
    return filler.manifest


def make_employees(count: int, *, seed: int, department: str = "售后服务部", team: str = "测试组",
                   roles: Iterable[str] | None = None, prefix: str = "T") -> list[Employee]:
    """A made-up team of ``count`` people, roles cycling through ``roles`` (all the
    rulebook's by default): for tests and benchmarks that need no real roster."""
    rng = random.Random(seed)
    roles = list(roles or [r.code for r in default_rulebook().roles])
    lead = f"{prefix}0000"
    people = []
    for i in range(count):
        hired = dt.date(2018, 1, 1) + dt.timedelta(days=rng.randint(0, 2500))
        people.append(Employee(
            employee_id=f"{prefix}{i + 1:04d}", name=_person_name(rng), department=department, team=team,
            role=roles[i % len(roles)], manager_id=lead, hire_date=hired, post_start=hired, status="正式"))
    return people


def _person_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice((1, 2))))


# --- the typing hand -----------------------------------------------------------


@dataclass
class _Line:
    """One employee x indicator as the filler decided it (for comments, PIP and mistakes)."""

    entry: RowMapEntry
    indicator: Indicator
    row: int  # 1-based sheet row (openpyxl)
    weight: float | None
    floor: float | None
    target: float | None
    challenge: float | None
    actual: float | None = None
    self_rating: int | None = None
    manager: int | None = None
    score: float | None = None

    def as_indicator_line(self) -> IndicatorLine:
        return IndicatorLine(code=self.indicator.code, weight=self.weight, actual=self.actual, floor=self.floor,
                             target=self.target, challenge=self.challenge, self_rating=self.self_rating,
                             manager=self.manager)


class _Filler:
    def __init__(self, book, rulebook: Rulebook, rng: random.Random, row_map, period: str, manifest: FillManifest,
                 manager_name: str | None):
        self.book = book
        self.rb = rulebook
        self.rng = rng
        self.row_map: tuple[RowMapEntry, ...] = row_map
        self.goals: Worksheet = book[GOALS]
        self.scores: Worksheet = book[SCORES]
        self.summary: Worksheet = book[SUMMARY]
        self.sum_col = {c.key: i + 1 for i, c in enumerate(summary_columns(rulebook))}
        self.period = period
        self.period_start, self.period_end = _period_bounds(period)
        self.signoff_end = self.period_end + dt.timedelta(days=rulebook.periods.signoff_days_after_end)
        self.manifest = manifest
        self.lines: dict[str, list[_Line]] = {}
        self.manager_name = manager_name or _person_name(rng)

    # writing ---------------------------------------------------------------

    def put(self, sheet: Worksheet, row: int, col: int, value, *, mistake: str | None = None,
            employee_id: str | None = None, indicator: str | None = None, literal: bool = False) -> None:
        cell = sheet.cell(row=row, column=col)
        cell.value = value
        if isinstance(value, str) and (literal or (value and value[0] in _FORMULA_LEADS)):
            # typed text that looks like a formula stays text, as Excel's leading apostrophe keeps it
            cell.data_type = "s"
            cell.quotePrefix = True
        if isinstance(value, dt.date) and cell.number_format == "General":
            cell.number_format = "yyyy-mm-dd"
        code = MISTAKES[mistake][0] if mistake else None
        self.manifest.changes.append(Change(sheet.title, a1(row - 1, col - 1), value, code, mistake,
                                            employee_id, indicator))

    # the normal fill -------------------------------------------------------

    def fill_all(self, *, boundary: float, redistribute: float, vary_targets: float, veto_rate: float) -> None:
        for entry in self.row_map:
            lines = self._fill_goals(entry, redistribute, vary_targets)
            self._fill_scores(lines, boundary)
            self.lines[entry.employee_id] = lines
            self._fill_summary(entry, lines, boundary, veto_rate)

    def _fill_goals(self, entry: RowMapEntry, redistribute: float, vary_targets: float) -> list[_Line]:
        lines = []
        for k, code in enumerate(entry.codes):
            row = entry.first_row + k + 1
            ind = self.rb.indicator(code)
            g = lambda key: number(self.goals.cell(row=row, column=_GOAL[key]).value)  # noqa: E731
            line = _Line(entry, ind, row, g("weight"), g("floor"), g("target"), g("challenge"))
            if line.weight is None:
                line.weight = self._default_weight(entry, code)
                self.put(self.goals, row, _GOAL["weight"], line.weight, employee_id=entry.employee_id, indicator=code)
            if ind.editable_targets and self.rng.random() < vary_targets:
                self._vary_target(line)
            lines.append(line)
        if len(lines) > 1 and self.rng.random() < redistribute:
            self._redistribute(lines)
        for line in lines:
            self.put(self.goals, line.row, _GOAL["smart"], self._smart_text(line),
                     employee_id=entry.employee_id, indicator=line.indicator.code)
        return lines

    def _default_weight(self, entry: RowMapEntry, code: str) -> float:
        for role in self.rb.roles:
            if tuple(ind.code for ind, _ in self.rb.role_indicators(role.code)) == entry.codes:
                return role.weights[code]
        return 100 / len(entry.codes)

    def _vary_target(self, line: _Line) -> None:
        f, t, c = line.floor, line.target, line.challenge
        if t is None:
            return
        if line.indicator.method is Method.count:
            new = max(1.0, t + self.rng.choice((-1, 1)))
        elif f is None or c is None:
            return
        else:
            step = (c - f) / 20
            if line.indicator.unit is Unit.count:  # a count's target is a whole number too
                step = (1 if step > 0 else -1) * max(1, round(abs(step)))
            new = round(t + self.rng.choice((-1, 1)) * step, 4)
            if not min(f, c) < new < max(f, c):
                return
        line.target = new
        self.put(self.goals, line.row, _GOAL["target"], new, employee_id=line.entry.employee_id,
                 indicator=line.indicator.code)

    def _redistribute(self, lines: list[_Line]) -> None:
        """Move 5 points of weight from one indicator to another of the same category, within both
        their limits: the rulebook fixes each category's share (业绩 60 / 能力 25 / 态度 15)."""
        rng = self.rng
        givers = [ln for ln in lines if ln.weight is not None and ln.weight - 5 >= ln.indicator.weight_min]
        takers = [ln for ln in lines if ln.weight is not None and ln.weight + 5 <= ln.indicator.weight_max]
        pairs = [(g, t) for g in givers for t in takers
                 if g is not t and g.indicator.category == t.indicator.category]
        if not pairs:
            return
        giver, taker = rng.choice(pairs)
        giver.weight -= 5
        taker.weight += 5
        for line in (giver, taker):
            self.put(self.goals, line.row, _GOAL["weight"], line.weight,
                     employee_id=line.entry.employee_id, indicator=line.indicator.code)

    def _smart_text(self, line: _Line) -> str:
        ind = line.indicator
        when = f"{self.period}考核期内"
        if ind.method is Method.rating:
            return f"{when}{ind.name_zh}达到“3 能独立完成常规工作”及以上水平，由上级按评分标准评定"
        if ind.method is Method.deduction:
            kinds = "、".join(i.name_zh for i in ind.incidents) or "违规"
            return f"{when}无{kinds}记录，按考勤及服务检查记录扣分"
        return f"{when}{ind.name_zh}达到{_show(line.target, ind.unit)}，数据取自系统月度报表"

    def _fill_scores(self, lines: list[_Line], boundary: float) -> None:
        for line in lines:
            ind, emp = line.indicator, line.entry.employee_id
            edge = self.rng.random() < boundary
            note = ""
            if ind.is_rating:
                line.manager = self._rating(edge)
                self.put(self.scores, line.row, _SCORE["manager"], line.manager, employee_id=emp, indicator=ind.code)
            else:
                line.actual, note = self._actual(line, edge)
                self.put(self.scores, line.row, _SCORE["actual"], line.actual, employee_id=emp, indicator=ind.code)
            line.self_rating = self._self_rating(line)
            self.put(self.scores, line.row, _SCORE["self"], line.self_rating, employee_id=emp, indicator=ind.code)
            line.score = _score(self.rb, line)
            comment = self._comment(line, note)
            if comment:
                self.put(self.scores, line.row, _SCORE["comment"], comment, employee_id=emp, indicator=ind.code)

    def _rating(self, edge: bool) -> int:
        top = len(self.rb.scoring.rating_points)
        if edge:
            return self.rng.choice((1, top))
        return self.rng.choices(range(1, top + 1), weights=_bell(top))[0]

    def _self_rating(self, line: _Line) -> int:
        top = len(self.rb.scoring.rating_points)
        anchor = line.manager if line.manager is not None else _rating_for_score(_score(self.rb, line), top)
        drift = self.rng.choices((-2, -1, 0, 1, 2), weights=(3, 15, 50, 27, 5))[0]
        return min(top, max(1, anchor + drift))

    def _actual(self, line: _Line, edge: bool) -> tuple[float, str]:
        """A plausible actual value in the indicator's unit, and an evidence note."""
        ind, rng = line.indicator, self.rng
        f, t, c = line.floor, line.target, line.challenge
        if ind.method is Method.deduction:
            if edge:
                points = rng.choice((0.0, 100.0, 105.0, 130.0))
                return points, f"累计扣分 {points:g}"
            return self._deduction(ind)
        if ind.method is Method.count:
            if edge:
                return float(rng.choice((0, t, 2 * t, 3 * t, round(t * self.rb.scoring.cap / 100)))), ""
            return float(max(0, round(rng.gauss(t, max(1.0, t / 3))))), ""
        span = abs(t - f)
        if edge:
            beyond = c + (c - t) * 0.5 if c != t else c
            below = f - (t - f) * 0.5
            candidates = [f, t, c, beyond, below, (f + t) / 2, (t + c) / 2]
            value = rng.choice(candidates)
        else:
            value = rng.gauss(t, span / 1.6)
        if ind.unit is Unit.percent:
            value = min(1.0, max(0.0, value)) if not edge else max(0.0, value)
            return round(value, 4), ""
        if ind.unit is Unit.count:  # things are counted whole, whichever way the indicator scores them
            return float(max(0, round(value))), ""
        return round(max(0.0, value), 2), ""

    def _deduction(self, ind: Indicator) -> tuple[float, str]:
        counts: dict[str, float] = {}
        for incident in ind.incidents:
            # most people have none; a few have one or two
            n = self.rng.choices((0, 1, 2, 3), weights=(80, 14, 4, 2))[0]
            if n:
                counts[incident.code] = n
        points = deduction_points(counts, {i.code: i.points for i in ind.incidents})
        names = {i.code: i.name_zh for i in ind.incidents}
        note = "；".join(f"{names[k]} {int(n)} 次" for k, n in counts.items())
        return float(points), note

    def _comment(self, line: _Line, note: str) -> str:
        c = self.rb.comments
        parts = [note] if note else []
        if line.score is not None and line.score >= c.extreme_high:
            parts.append(f"{line.indicator.name_zh}远超目标，有系统报表为证")
        elif line.score is not None and line.score <= c.extreme_low:
            parts.append(f"{line.indicator.name_zh}明显低于要求，已面谈并制定改进措施")
        if line.manager is not None and line.self_rating is not None \
                and abs(line.manager - line.self_rating) >= c.self_gap:
            parts.append(f"自评{line.self_rating}分与上级评分{line.manager}分差距较大，已与员工沟通确认")
        if not parts and self.rng.random() < 0.25:
            parts.append(self.rng.choice(("表现稳定", "按月报表统计", "较上期有进步", "客户反馈良好")))
        return "；".join(parts)

    def _fill_summary(self, entry: RowMapEntry, lines: list[_Line], boundary: float, veto_rate: float) -> None:
        row, col, emp = entry.summary_row + 1, self.sum_col, entry.employee_id
        rng = self.rng
        if rng.random() < boundary:
            commendations = rng.choice((0, 5, 6, 8))
        else:
            commendations = rng.choices((0, 1, 2), weights=(70, 20, 10))[0]
        self.put(self.summary, row, col["commendations"], commendations, employee_id=emp)
        veto = None
        if rng.random() < veto_rate and self.rb.scoring.vetoes:
            veto = rng.choice(self.rb.scoring.vetoes).name_zh
            self.put(self.summary, row, col["veto"], veto, employee_id=emp)
        elif self.summary.cell(row=row, column=col["veto"]).value in (None, ""):
            self.put(self.summary, row, col["veto"], VETO_NONE, employee_id=emp)
        result = score_employee(self.rb, [ln.as_indicator_line() for ln in lines], commendations, veto)
        name = self.summary.cell(row=row, column=col["name"]).value or emp
        signed = self._sign_date()
        countersigned = min(self.signoff_end, signed + dt.timedelta(days=rng.choice((0, 0, 1, 2))))
        self.put(self.summary, row, col["manager_sign"], self.manager_name, employee_id=emp)
        self.put(self.summary, row, col["manager_date"], signed, employee_id=emp)
        self.put(self.summary, row, col["employee_sign"], str(name), employee_id=emp)
        self.put(self.summary, row, col["employee_date"], countersigned, employee_id=emp)
        self.put(self.summary, row, col["feedback"], self._feedback(result.grade, lines), employee_id=emp)
        if result.grade in self.rb.outcomes.pip_grades:
            self._fill_pip(row, emp, lines)

    def _sign_date(self) -> dt.date:
        """Around the period's end, inside the rulebook's sign-off window, as appraisal talks happen."""
        day = self.period_end + dt.timedelta(days=self.rng.randint(-3, self.rb.periods.signoff_days_after_end))
        return min(self.signoff_end, max(self.period_start, day))

    def _feedback(self, grade: str | None, lines: list[_Line]) -> str:
        best = max(lines, key=lambda ln: ln.score or 0)
        worst = min(lines, key=lambda ln: ln.score if ln.score is not None else 0)
        return (f"面谈结论：本期等级 {grade or '-'}。优势：{best.indicator.name_zh}；"
                f"待提升：{worst.indicator.name_zh}。员工认可评价，下期重点改进。")

    def _fill_pip(self, row: int, emp: str, lines: list[_Line]) -> None:
        col, o = self.sum_col, self.rb.outcomes
        weak = sorted(lines, key=lambda ln: ln.score if ln.score is not None else 0)[:2]
        months = self.rng.randint(o.pip_months_min, o.pip_months_max)
        self.put(self.summary, row, col["pip_shortfalls"],
                 "；".join(f"{ln.indicator.name_zh}未达目标" for ln in weak), employee_id=emp)
        self.put(self.summary, row, col["pip_actions"],
                 "每周复盘一次；参加专项培训；由辅导人跟进关键案例", employee_id=emp)
        self.put(self.summary, row, col["pip_owner"], self.manager_name, employee_id=emp)
        self.put(self.summary, row, col["pip_due"], _add_months(self.period_end, months), employee_id=emp)

    # mistakes --------------------------------------------------------------

    def _pick(self, predicate) -> _Line:
        """A seeded row for a mistake, preferring employees no other mistake touched
        (so that findings stay apart), then any row no other mistake touched."""
        candidates = [ln for lines in self.lines.values() for ln in lines if predicate(ln) and self._untouched(ln)]
        fresh = [ln for ln in candidates if ln.entry.employee_id not in self._touched_employees()]
        if not candidates:
            raise FillError("没有适合此错误的单元格 no row fits this mistake")
        return self.rng.choice(fresh or candidates)

    def _touched_employees(self) -> set[str]:
        return {c.employee_id for c in self.manifest.changes if c.mistake}

    def _pick_entry(self) -> RowMapEntry:
        fresh = [e for e in self.row_map if e.employee_id not in self._touched_employees()]
        return self.rng.choice(fresh or list(self.row_map))

    def _untouched(self, line: _Line) -> bool:
        """Each mistake lands on its own employee x indicator row so their findings do not overlap."""
        return not any(c.mistake and c.employee_id == line.entry.employee_id and c.indicator == line.indicator.code
                       for c in self.manifest.changes)

    def mistake_text_number(self) -> None:
        for variant in ("fullwidth", "percent_text", "approx", "spaces"):
            line = self._pick(lambda ln: ln.indicator.method in (Method.higher_better, Method.lower_better)
                              and (variant != "percent_text" or ln.indicator.unit is Unit.percent)
                             )
            value = line.actual if line.actual is not None else line.target or 0
            shown = value * 100 if line.indicator.unit is Unit.percent else value
            plain = f"{shown:g}"
            text = {"fullwidth": plain.translate(_FULLWIDTH), "percent_text": f"{plain}%",
                    "approx": f"约{round(shown)}", "spaces": f" {plain} "}[variant]
            self.put(self.scores, line.row, _SCORE["actual"], text, mistake="text-number", literal=True,
                     employee_id=line.entry.employee_id, indicator=line.indicator.code)

    def mistake_percent_scale(self) -> None:
        line = self._pick(lambda ln: ln.indicator.unit is Unit.percent and ln.indicator.method is Method.higher_better
                         )
        value = round((line.actual or line.target) * 100, 2)
        self._score_mistake(line, "actual", value, "percent-scale")

    def mistake_out_of_range(self) -> None:
        line = self._pick(lambda ln: ln.indicator.unit in (Unit.hours, Unit.minutes, Unit.count, Unit.points)
                         )
        self._score_mistake(line, "actual", -self.rng.choice((1.0, 2.0, 3.5)), "out-of-range")

    def mistake_rating_invalid(self) -> None:
        top = len(self.rb.scoring.rating_points)
        for value in (top + 1, top - 1.5):
            line = self._pick(lambda ln: ln.indicator.is_rating)
            self._score_mistake(line, "manager", value, "rating-invalid")

    def mistake_missing_input(self) -> None:
        line = self._pick(lambda ln: True)
        key = "manager" if line.indicator.is_rating else "actual"
        self._score_mistake(line, key, None, "missing-input")

    def mistake_comment_missing(self) -> None:
        top = len(self.rb.scoring.rating_points)
        gap = int(self.rb.comments.self_gap)
        line = self._pick(lambda ln: ln.indicator.is_rating)
        emp, code = line.entry.employee_id, line.indicator.code
        self.put(self.scores, line.row, _SCORE["self"], top, employee_id=emp, indicator=code)
        self.put(self.scores, line.row, _SCORE["manager"], max(1, top - gap - 1), employee_id=emp, indicator=code)
        self.put(self.scores, line.row, _SCORE["comment"], None, mistake="comment-missing",
                 employee_id=emp, indicator=code)
        # and an extreme score: an actual at the challenge value scores the cap
        line = self._pick(lambda ln: ln.indicator.method is Method.higher_better and ln.challenge is not None
                         )
        emp, code = line.entry.employee_id, line.indicator.code
        self.put(self.scores, line.row, _SCORE["actual"], line.challenge, employee_id=emp, indicator=code)
        self.put(self.scores, line.row, _SCORE["comment"], None, mistake="comment-missing",
                 employee_id=emp, indicator=code)

    def _score_mistake(self, line: _Line, key: str, value, mistake: str) -> None:
        self.put(self.scores, line.row, _SCORE[key], value, mistake=mistake,
                 employee_id=line.entry.employee_id, indicator=line.indicator.code)

    def mistake_weight_sum(self) -> None:
        line = self._pick(lambda ln: ln.weight is not None and ln.weight - 10 >= ln.indicator.weight_min
                         )
        line.weight -= 10
        self.put(self.goals, line.row, _GOAL["weight"], line.weight, mistake="weight-sum",
                 employee_id=line.entry.employee_id, indicator=line.indicator.code)

    def mistake_weight_range(self) -> None:
        """Raise one weight above its maximum and take the excess from the others, so the sum stays 100."""
        for lines in self.rng.sample(list(self.lines.values()), len(self.lines)):
            for line in lines:
                excess = line.indicator.weight_max + 5 - (line.weight or 0)
                spare = sum((o.weight or 0) - o.indicator.weight_min for o in lines if o is not line)
                if spare < excess or not self._untouched(line):
                    continue
                # from the same category first, so only the one weight is wrong where possible
                for other in sorted(lines, key=lambda o: o.indicator.category != line.indicator.category):
                    if other is line or not excess:
                        continue
                    take = min(excess, (other.weight or 0) - other.indicator.weight_min)
                    if take > 0:
                        other.weight -= take
                        excess -= take
                        self.put(self.goals, other.row, _GOAL["weight"], other.weight,
                                 employee_id=other.entry.employee_id, indicator=other.indicator.code)
                line.weight = line.indicator.weight_max + 5
                self.put(self.goals, line.row, _GOAL["weight"], line.weight, mistake="weight-range",
                         employee_id=line.entry.employee_id, indicator=line.indicator.code)
                return
        raise FillError("no employee's weights can be rearranged for weight-range")

    def mistake_target_order(self) -> None:
        line = self._pick(lambda ln: ln.indicator.editable_targets and ln.floor is not None
                          and ln.target is not None)
        emp, code = line.entry.employee_id, line.indicator.code
        line.floor, line.target = line.target, line.floor
        self.put(self.goals, line.row, _GOAL["floor"], line.floor, employee_id=emp, indicator=code)
        self.put(self.goals, line.row, _GOAL["target"], line.target, mistake="target-order",
                 employee_id=emp, indicator=code)

    def mistake_target_missing(self) -> None:
        line = self._pick(lambda ln: ln.indicator.editable_targets and ln.target is not None)
        self.put(self.goals, line.row, _GOAL["target"], None, mistake="target-missing",
                 employee_id=line.entry.employee_id, indicator=line.indicator.code)

    def mistake_smart_missing(self) -> None:
        line = self._pick(lambda ln: True)
        self.put(self.goals, line.row, _GOAL["smart"], None, mistake="smart-missing",
                 employee_id=line.entry.employee_id, indicator=line.indicator.code)

    def mistake_overwrite_formula(self) -> None:
        entry = self._pick_entry()
        self.put(self.summary, entry.summary_row + 1, self.sum_col["total"], 95, mistake="overwrite-formula",
                 employee_id=entry.employee_id)
        line = self._pick(lambda ln: True)
        self.put(self.scores, line.row, _SCORE["score"], 100, mistake="overwrite-formula",
                 employee_id=line.entry.employee_id, indicator=line.indicator.code)

    def mistake_change_code(self) -> None:
        line = self._pick(lambda ln: True)
        others = [i.code for i in self.rb.indicators if i.code not in line.entry.codes]
        new = self.rng.choice(others) if others else line.indicator.code + "_X"
        self.put(self.goals, line.row, _GOAL["code"], new, mistake="change-code",
                 employee_id=line.entry.employee_id, indicator=line.indicator.code)

    def mistake_duplicate_employee(self) -> None:
        if len(self.row_map) < 2:
            raise FillError("duplicate-employee needs at least two employees")
        first = self._pick_entry()
        second = self.rng.choice([e for e in self.row_map if e is not first and e.employee_id
                                  not in self._touched_employees()] or [e for e in self.row_map if e is not first])
        # the manager copied one employee's id over another's, on every sheet
        for k in range(len(second.codes)):
            row = second.first_row + k + 1
            self.put(self.goals, row, _GOAL["employee_id"], first.employee_id, employee_id=second.employee_id)
            self.put(self.scores, row, _SCORE["employee_id"], first.employee_id, employee_id=second.employee_id)
        self.put(self.summary, second.summary_row + 1, self.sum_col["employee_id"], first.employee_id,
                 mistake="duplicate-employee", employee_id=first.employee_id)

    def mistake_signoff_missing(self) -> None:
        entry = self._pick_entry()
        row = entry.summary_row + 1
        self.put(self.summary, row, self.sum_col["manager_date"], None, employee_id=entry.employee_id)
        self.put(self.summary, row, self.sum_col["manager_sign"], None, mistake="signoff-missing",
                 employee_id=entry.employee_id)

    def mistake_wrong_period(self) -> None:
        meta = self.book[META]
        row = META_KEYS.index("period") + 1
        self.put(meta, row, 2, _previous_period(self.period), mistake="wrong-period")

    def mistake_formula_injection(self) -> None:
        for text in ('=HYPERLINK("http://x","y")', "=1+1"):
            line = self._pick(lambda ln: True)
            self.put(self.scores, line.row, _SCORE["comment"], text, mistake="formula-injection", literal=True,
                     employee_id=line.entry.employee_id, indicator=line.indicator.code)

    def mistake_insert_row(self) -> None:
        entry = self._pick_entry()
        at = entry.first_row + 1 + self.rng.randint(1, max(1, len(entry.codes) - 1))
        self._move_rows(at, +1)
        emp = entry.employee_id
        self.put(self.scores, at, _SCORE["employee_id"], emp, mistake="insert-row", employee_id=emp)
        self.put(self.scores, at, _SCORE["indicator"], "临时增加：客户回访", employee_id=emp)
        self.put(self.scores, at, _SCORE["actual"], 1, employee_id=emp)

    def mistake_delete_row(self) -> None:
        entry = self._pick_entry()
        k = self.rng.randint(0, len(entry.codes) - 1)
        at = entry.first_row + 1 + k
        self._move_rows(at, -1)
        self.manifest.changes.append(Change(SCORES, a1(at - 1, 0), None, MISTAKES["delete-row"][0], "delete-row",
                                            entry.employee_id, entry.codes[k]))

    def _move_rows(self, at: int, delta: int) -> None:
        """Insert or delete a scores-sheet row, and move the manifest's cells below it along."""
        shift_rows(self.book, self.scores, at, delta)
        moved = []
        for change in self.manifest.changes:
            if change.sheet == SCORES:
                col, row = _split_a1(change.cell)
                if delta < 0 and row == at:
                    continue  # the cell went with its row
                if row >= at + (delta < 0):
                    change = replace(change, cell=f"{col}{row + delta}")
            moved.append(change)
        self.manifest.changes[:] = moved


def _split_a1(cell: str) -> tuple[str, int]:
    m = _REF.fullmatch(cell)
    return m.group(2), int(m.group(4))


def _score(rulebook: Rulebook, line: _Line) -> float | None:
    s = rulebook.scoring
    try:
        return indicator_score(line.indicator.method, actual=line.actual, floor=line.floor, target=line.target,
                               challenge=line.challenge, manager=line.manager, self_rating=line.self_rating,
                               cap=s.cap, points=s.rating_points, self_weight=s.self_weight, decimals=s.decimals)
    except ValueError:
        return None


def _rating_for_score(score: float | None, top: int) -> int:
    if score is None:
        return (top + 1) // 2
    return min(top, max(1, round(score / 100 * top)))


def _bell(top: int) -> list[float]:
    """Ratings cluster just above the middle, as they do in real appraisals."""
    mid = (top + 1) / 2 + 0.4
    return [max(0.05, 1 - abs(r - mid) / top * 1.6) ** 2 for r in range(1, top + 1)]


_FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _show(value: float | None, unit: Unit) -> str:
    if value is None:
        return "目标值"
    if unit is Unit.percent:
        return f"{value * 100:g}%"
    labels = {Unit.hours: "小时", Unit.minutes: "分钟", Unit.count: "次"}
    return f"{value:g}{labels.get(unit, '')}"


# --- periods -----------------------------------------------------------------


def _period_bounds(period: str) -> tuple[dt.date, dt.date]:
    try:
        p = parse_period(period)
    except PeriodError as error:
        raise FillError(f"_meta 中的考核周期无法识别 unrecognised period in _meta: {period!r} ({error})") from None
    return p.start, p.end


def _previous_period(period: str) -> str:
    """The same kind of period a year earlier: the typical stale-copy slip."""
    p = parse_period(period)
    return str(Period(p.kind, p.year - 1, p.index))


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- rows inserted or deleted as Excel does it ------------------------------------


def shift_rows(book, sheet: Worksheet, at: int, delta: int) -> None:
    """Insert (delta=+1) or delete (delta=-1) sheet row ``at`` (1-based) and re-point
    every formula in the book that refers to ``sheet``'s rows below, as Excel does.

    openpyxl moves the cells but leaves formulas, validations and formats
    pointing at the old rows; Excel users never see that, so neither should
    the samples. Data-validation and conditional-format ranges are stretched or
    shrunk the same way.
    """
    if delta > 0:
        sheet.insert_rows(at, delta)
    else:
        sheet.delete_rows(at, -delta)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.value = _shift_formula(cell.value, ws.title, sheet.title, at, delta)
    for dv in sheet.data_validations.dataValidation:
        dv.sqref = openpyxl.worksheet.cell_range.MultiCellRange(
            [r for r in (_shift_range(str(rng), at, delta) for rng in dv.sqref.ranges) if r])
    # conditional formats: rebuild with shifted ranges
    rules = [(str(cf.sqref), cf.rules) for cf in sheet.conditional_formatting]
    if rules:
        sheet.conditional_formatting = openpyxl.formatting.formatting.ConditionalFormattingList()
        for sqref, cf_rules in rules:
            shifted = " ".join(r for r in (_shift_range(part, at, delta) for part in sqref.split()) if r)
            for rule in cf_rules:
                if shifted:
                    sheet.conditional_formatting.add(shifted, rule)


_REF = re.compile(r"(\$?)([A-Z]{1,3})(\$?)(\d+)")


def _shift_formula(formula: str, formula_sheet: str, target_sheet: str, at: int, delta: int) -> str:
    tokens = Tokenizer(formula).items
    out = []
    for tok in tokens:
        text = tok.value
        if tok.type == "OPERAND" and tok.subtype == "RANGE":
            sheet_part, _, ref = text.rpartition("!")
            named = sheet_part.strip("'").replace("''", "'") if sheet_part else formula_sheet
            if named == target_sheet and _REF.search(ref):
                shifted = _shift_range(ref, at, delta)
                text = (sheet_part + "!" if sheet_part else "") + (shifted or "#REF!")
        out.append(text)
    return "=" + "".join(out)


def _shift_range(ref: str, at: int, delta: int) -> str | None:
    """Shift the row numbers of 'A5' or 'A5:B9' for a row inserted/deleted at ``at``; None if deleted away."""
    parts = ref.split(":")
    rows = [int(_REF.fullmatch(p).group(4)) if _REF.fullmatch(p) else None for p in parts]
    if None in rows:
        return ref  # whole columns or names: nothing to shift
    if delta < 0:
        if len(parts) == 1 and rows[0] == at:
            return None
        if len(parts) == 2 and rows[0] == rows[1] == at:
            return None
    new_rows = []
    for i, r in enumerate(rows):
        if delta > 0:
            new_rows.append(r + delta if r >= at else r)
        elif r > at or (r == at and i == 1):
            new_rows.append(r + delta)  # a range's last row shrinks when that row is deleted
        else:
            new_rows.append(r)
    return ":".join(_REF.sub(lambda m, r=r: f"{m.group(1)}{m.group(2)}{m.group(3)}{r}", p, count=1)
                    for p, r in zip(parts, new_rows))
