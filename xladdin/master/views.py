"""The master's two computed sheets, 分布 and 分析, rebuilt from 总表 and 指标明细 on every write.

Pure functions over row dicts (keys from :mod:`kpisheet.xladdin.master.layout`). Rows
come out sorted so that each period's rows, and within it each department's
indicator rows, are contiguous: the writer draws its charts over those ranges.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

import pandas as pd

from kpisheet.validators.policy.calibration import eligibility, quota
from kpisheet.validators.policy.grading import bands_best_first
from kpisheet.validators.policy.periods import PeriodError, parse_period
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.policy.scoring import round_half_up

from kpisheet.xladdin.master.layout import (
    KIND_CATEGORY, KIND_INDICATOR, LEVEL_DEPARTMENT, LEVEL_TEAM, NO, YES,
)

ALL_TEAMS = "（全部）all"


@lru_cache(maxsize=4096)  # a master holds few distinct periods and is sorted by them often
def parsed_period(text):
    try:
        return parse_period(text)
    except (PeriodError, TypeError):
        return None


def period_sort_key(text) -> tuple:
    """Chronological for periods kpisheet understands, then anything else by text."""
    period = parsed_period(text)
    if period is None:
        return (1, dt.date.max, 0, str(text or ""))
    return (0, period.start, period.month_count, str(text))


def previous_period(text, known: set[str]) -> str | None:
    """The latest period in ``known`` of the same kind that starts before ``text``."""
    current = parsed_period(text)
    if current is None:
        return None
    earlier = [(p.start, k) for k in known if (p := parsed_period(k)) and p.kind == current.kind and p.start < current.start]
    return max(earlier)[1] if earlier else None


# --- eligibility and quotas (the rules themselves live in kpisheet.validators.policy.calibration) ---

_LONG_AGO = dt.date(1900, 1, 1)


def employee_of(row: dict, roster: Mapping[str, Employee] | None = None) -> Employee:
    """The roster's record of a 总表 row's employee, else one made from what the row holds
    (status, start in post). An unknown start in post counts as long in post."""
    found = (roster or {}).get(str(row.get("employee_id") or ""))
    if found is not None:
        return found
    start = row.get("post_start") if isinstance(row.get("post_start"), dt.date) else _LONG_AGO
    return Employee(str(row.get("employee_id") or ""), row.get("name") or "", row.get("department") or "",
                    row.get("team") or "", row.get("role") or "", None, start, start, row.get("status") or "")


def distribution_eligibility(row: dict, rulebook: Rulebook, roster: Mapping[str, Employee] | None = None,
                             memo: dict | None = None) -> tuple[bool, str] | None:
    """(eligible, reason) by calibration's rule, or None when the row's period is not understood."""
    period = parsed_period(row.get("period"))
    if period is None:
        return None
    person = employee_of(row, roster)
    rules = rulebook.rules_of(row.get("department") or "")  # a company's departments may set their own months
    key = ((person.status or "").strip(), person.post_start, period, id(rules))
    if memo is not None and key in memo:
        return memo[key]
    verdict = eligibility(person, period, rules)
    if memo is not None:
        memo[key] = verdict
    return verdict


def in_distribution(row: dict, rulebook: Rulebook, memo: dict | None = None) -> bool:
    """Whether the employee counts towards the forced distribution (probation and
    new-in-post staff do not), from what the row holds."""
    verdict = distribution_eligibility(row, rulebook, memo=memo)
    return True if verdict is None else verdict[0]


def mark_distribution(row: dict, rulebook: Rulebook, roster: Mapping[str, Employee] | None = None,
                      memo: dict | None = None) -> None:
    """Fill the row's 参与强制分布 / 不参与原因 (blank when its period is not understood)."""
    verdict = distribution_eligibility(row, rulebook, roster, memo)
    if verdict is None:
        row["in_distribution"], row["excluded_why"] = None, None
    else:
        row["in_distribution"], row["excluded_why"] = (YES if verdict[0] else NO), (verdict[1] or None)


@dataclass(frozen=True)
class QuotaCheck:
    breaches: tuple[str, ...]   # hard caps exceeded
    guidance: tuple[str, ...]   # outside the guidance bands (B minimum, C+D range)

    @property
    def text(self) -> str:
        parts = []
        if self.breaches:
            parts.append("超出 over: " + "; ".join(self.breaches))
        if self.guidance:
            parts.append("参考 guidance: " + "; ".join(self.guidance))
        return " | ".join(parts)


def grade_groups(rulebook: Rulebook) -> tuple[list[str], list[str], list[str], list[str]]:
    """The bands, best first, as the quota groups: top, top two, middle, the rest."""
    grades = [band.grade for band in bands_best_first(rulebook)]
    return grades[:1], grades[:2], grades[2:3], grades[3:]


def quota_check(counts: dict[str, int], eligible: int, rulebook: Rulebook, *,
                small_team: bool, own_quota: bool) -> QuotaCheck:
    """One group against the forced distribution, counted as calibration counts it:
    caps are floor(share x people); a small team may hold at most ``small_team_s_max``
    of the top grade; ``own_quota`` is False for a team pooled with its department."""
    if eligible == 0:
        return QuotaCheck((), ())
    d = rulebook.distribution
    top, top2, mid, low = grade_groups(rulebook)

    def count(grades):
        return sum(counts.get(g, 0) for g in grades)

    breaches, guidance = [], []
    if small_team and count(top) > d.small_team_s_max:
        breaches.append(f"{top[0]} {count(top)}人 > {d.small_team_s_max}人 (小团队 small team)")
    if own_quota:
        for grades, share in ((top, d.s_max), (top2, d.sa_max)):
            limit = quota(share, eligible)
            if count(grades) > limit:
                breaches.append(f"{'+'.join(grades)} {count(grades)}人 > {limit}人 ({share:.0%} × {eligible})")
        # one decimal: 2 of 13 is 15.4%, which "15%" would hide against a 15% limit
        if count(mid) / eligible < d.b_min:
            guidance.append(f"{'+'.join(mid)} {count(mid) / eligible:.1%} < {d.b_min:.0%}")
        if low and not d.cd_min <= count(low) / eligible <= d.cd_max:
            guidance.append(f"{'+'.join(low)} {count(low) / eligible:.1%} ∉ {d.cd_min:.0%}–{d.cd_max:.0%}")
    return QuotaCheck(tuple(breaches), tuple(guidance))


# --- 分布 ---------------------------------------------------------------------

def distribution_rows(summary: list[dict], rulebook: Rulebook) -> list[dict]:
    """Per period: each department, then its teams, with counts, shares and the quota check."""
    grades = [band.grade for band in bands_best_first(rulebook)]
    top, top2, mid, low = grade_groups(rulebook)
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in summary:
        if not row.get("final_grade"):
            continue
        period, dept, team = row.get("period"), row.get("department") or "", row.get("team") or ""
        groups[(period, dept, None)].append(row)
        groups[(period, dept, team)].append(row)

    def sort_key(key):
        period, dept, team = key
        return (period_sort_key(period), dept, team is not None, team or "")

    out, memo = [], {}
    for key in sorted(groups, key=sort_key):
        period, dept, team = key
        rows = groups[key]
        counted = [r for r in rows if in_distribution(r, rulebook, memo)]
        counts = {g: sum(1 for r in counted if r["final_grade"] == g) for g in grades}
        eligible = len(counted)
        is_team = team is not None
        rules = rulebook.rules_of(dept)  # a company's department may have quotas of its own
        d = rules.distribution
        pooled = is_team and eligible < d.pool_below
        check = quota_check(counts, eligible, rules, small_team=is_team and eligible <= d.small_team_max,
                            own_quota=not pooled)
        row = {
            "period": period,
            "level": LEVEL_TEAM if is_team else LEVEL_DEPARTMENT,
            "department": dept,
            "team": team if is_team else ALL_TEAMS,
            "headcount": len(rows),
            "eligible": eligible,
            **{f"count_{g}": counts[g] for g in grades},
            "pooled": YES if pooled else None,
            "over_quota": " | ".join(filter(None, (check.text, "按部门合并计算 pooled with department" if pooled else ""))) or None,
            "_breach": bool(check.breaches),
        }
        for col, group in (("share_top", top), ("share_top2", top2), ("share_mid", mid), ("share_low", low)):
            row[col] = round(sum(counts[g] for g in group) / eligible, 4) if eligible else None
        out.append(row)
    return out


def _mean(values: list[float], decimals: int) -> float | None:
    return round_half_up(sum(values) / len(values), decimals) if values else None


# --- 分析 ---------------------------------------------------------------------

_DETAIL_FIELDS = ("period", "department", "team", "employee_id", "code", "category", "weight", "score")


def detail_frame(detail) -> pd.DataFrame:
    """指标明细 as a DataFrame of the columns 分析 needs (rows as dicts, or a frame read from the record)."""
    frame = detail if isinstance(detail, pd.DataFrame) else pd.DataFrame.from_records(
        [{k: row.get(k) for k in _DETAIL_FIELDS} for row in detail], columns=list(_DETAIL_FIELDS))
    frame = frame[frame["score"].map(lambda v: isinstance(v, float) and v == v).astype(bool)].copy()
    frame["department"] = frame["department"].fillna("")
    frame["team"] = frame["team"].fillna("")
    return frame


def _means(frame: pd.DataFrame, by: list[str], value: str, decimals: int) -> pd.DataFrame:
    """Mean (half-up at the score precision, summed in row order as a person would) and count per group."""
    grouped = frame.groupby(by, sort=False)[value]
    out = grouped.agg(mean=lambda s: _mean(list(s), decimals), people="size").reset_index()
    return out


def analysis_rows(detail, rulebook: Rulebook) -> list[dict]:
    """Mean score per indicator and per category, by department and by team, per period,
    with the change against the previous period of the same kind (pandas over 指标明细)."""
    decimals = rulebook.scoring.decimals
    order = {ind.code: i for i, ind in enumerate(rulebook.indicators)}
    cat_order = {c.code: i for i, c in enumerate(rulebook.categories)}
    cat_by_name = {c.name_zh: c.code for c in rulebook.categories}
    names = {ind.code: ind.name_zh for ind in rulebook.indicators}
    frame = detail_frame(detail)
    if frame.empty:
        return []

    parts = []
    for scope in (["period", "department"], ["period", "department", "team"]):
        found = _means(frame, scope + ["code"], "score", decimals)
        parts.append(found.assign(kind=KIND_INDICATOR))
    # per employee the weighted category score, then its mean per group
    weighted = frame.assign(cat=frame["category"].map(cat_by_name))
    weighted = weighted[(weighted["cat"].notna() & weighted["weight"].map(lambda w: isinstance(w, float) and w > 0)).astype(bool)]
    if not weighted.empty:
        weighted = weighted.assign(product=weighted["score"] * weighted["weight"])
        people = weighted.groupby(["period", "department", "team", "employee_id", "cat"], sort=False).agg(
            product=("product", "sum"), weight=("weight", "sum")).reset_index()
        people["value"] = people["product"] / people["weight"]
        for scope in (["period", "department"], ["period", "department", "team"]):
            found = _means(people, scope + ["cat"], "value", decimals).rename(columns={"cat": "code"})
            parts.append(found.assign(kind=KIND_CATEGORY))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if table.empty:
        return []
    if "team" not in table:
        table["team"] = None

    def text(value):  # pandas gives NaN for a department row's team: the key says None
        return value if isinstance(value, str) else None

    means = {(r.period, r.department, text(r.team), r.kind, r.code): (r.mean, int(r.people))
             for r in table.itertuples(index=False)}
    periods = {key[0] for key in means}
    previous = {p: previous_period(p, periods) for p in periods}

    def sort_key(key):
        period, dept, team, kind, code = key
        rank = order.get(code, len(order)) if kind == KIND_INDICATOR else cat_order.get(code, len(cat_order))
        return (period_sort_key(period), dept, team is not None, team or "", kind != KIND_INDICATOR, rank, code)

    out = []
    for key in sorted(means, key=sort_key):
        period, dept, team, kind, code = key
        mean, people = means[key]
        before = previous[period]
        prior = means.get((before, dept, team, kind, code), (None, 0))[0] if before else None
        name = names.get(code, code) if kind == KIND_INDICATOR else (
            rulebook.category(code).name_zh if code in cat_order else code)
        out.append({
            "period": period,
            "level": LEVEL_TEAM if team is not None else LEVEL_DEPARTMENT,
            "department": dept,
            "team": team if team is not None else ALL_TEAMS,
            "kind": kind,
            "code": code,
            "name": name,
            "people": people,
            "mean": mean,
            "previous_period": before if prior is not None else None,
            "previous_mean": prior,
            "change": round_half_up(mean - prior, decimals) if mean is not None and prior is not None else None,
        })
    return out
