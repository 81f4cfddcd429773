"""`rollup`: 年度 (annual roll-up) from the periods in 总表, and the PIP and consecutive-D flags.

Scores (kpisheet.validators.policy.periods does the arithmetic, weights from the rulebook):

- a quarter is the mean of its months where monthly rows exist, else the
  quarter's own row, else the half-year row that holds it;
- the year is the weighted mean of its quarters (``periods.year_weights``),
  re-normalised over the quarters present;
- the annual grade is the grade band the annual score reaches.

Flags (flags only: HR decides, kpisheet automates no decision):

- PIP: the periods of the year whose final grade is in ``outcomes.pip_grades``;
- consecutive D: ``outcomes.consecutive_d_review`` or more adjacent periods of
  one kind (months, quarters, ...) with the lowest final grade, across a year
  end too, are flagged for HR review under Labour Contract Law art. 40. The
  flag goes on 年度 and on each 总表 row that completes such a run (a kept
  column: set once with a 日志 row, never set again once logged, so HR may
  clear it after the review).

Other years' 年度 rows and HR's notes are kept; a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from kpisheet.validators.policy.grading import bands_best_first, grade_for
from kpisheet.validators.policy.periods import HALF, MONTH, QUARTER, YEAR, Period, quarter_score, year_score
from kpisheet.validators.rulebook.model import Rulebook

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.appeals import audit_row
from kpisheet.xladdin.master.layout import MasterData, clean_row
from kpisheet.xladdin.master.views import parsed_period
from kpisheet.xladdin.master.merge import sheets_differ

LOG_ANNUAL = "年度 annual"
LOG_FLAG = "标记 flag"
LEGAL_NOTE_ZH = "请HR复核（《劳动合同法》第四十条），系统仅标记、不作任何决定"
LEGAL_NOTE_EN = "flag for HR review under Labour Contract Law art. 40; kpisheet only flags, no decision is automated"


@dataclass
class RollupOutcome:
    data: MasterData
    log_rows: list[dict]
    changed: bool
    employees: int = 0
    flagged_d: list[str] = field(default_factory=list)    # "ID 姓名: periods"
    pip: list[str] = field(default_factory=list)          # "ID 姓名: periods"
    quarter_sources: dict[str, str] = field(default_factory=dict)  # note when a half-year filled a quarter


def _score(row: dict) -> float | None:
    total = row.get("total")
    return total if isinstance(total, float) else None


def quarter_scores(rows: list[tuple[Period, dict]], year: int, rulebook: Rulebook) -> dict[str, float | None]:
    """{"Q1": score or None, ...} for one employee's rows of ``year``."""
    months = {p: _score(r) for p, r in rows if p.kind == MONTH and p.year == year}
    quarters = {p: _score(r) for p, r in rows if p.kind == QUARTER and p.year == year}
    halves = {p: _score(r) for p, r in rows if p.kind == HALF and p.year == year}
    out = {}
    for index in range(1, 5):
        quarter = Period(QUARTER, year, index)
        score = quarter_score(months, quarter, rulebook)
        if score is None:
            score = quarters.get(quarter)
        if score is None:
            score = next((s for h, s in halves.items() if h.contains(quarter) and s is not None), None)
        out[f"Q{index}"] = score
    return out


def _next(period: Period) -> Period:
    count = 12 // period.month_count
    if period.index < count:
        return Period(period.kind, period.year, period.index + 1)
    return Period(period.kind, period.year + 1, 1)


def d_runs(history: list[tuple[Period, dict]], lowest: str) -> dict[Period, int]:
    """For each period with the lowest final grade, its position in a run of adjacent such periods."""
    position: dict[Period, int] = {}
    by_kind: dict[str, list[Period]] = defaultdict(list)
    for period, row in history:
        if row.get("final_grade") == lowest:
            by_kind[period.kind].append(period)
    for periods in by_kind.values():
        previous = None
        for period in sorted(periods, key=lambda p: p.start):
            position[period] = position[previous] + 1 if previous and _next(previous) == period else 1
            previous = period
    return position


def _flag_logged(log: list[dict], key: str) -> bool:
    return any(row.get("action") == LOG_FLAG and row.get("key") == key and row.get("column") == "连续D"
               for row in log)


def rollup_master(data: MasterData, rulebook: Rulebook, year: int, *, now: dt.datetime,
                  user: str = "") -> RollupOutcome:
    now = now.replace(microsecond=0)
    columns = L.annual_columns(rulebook)
    review_after = rulebook.outcomes.consecutive_d_review
    lowest = bands_best_first(rulebook)[-1].grade
    pip_grades = set(rulebook.outcomes.pip_grades)

    summary = [dict(row) for row in data.rows(L.SUMMARY)]
    history: dict[str, list[tuple[Period, dict]]] = defaultdict(list)
    for row in summary:
        period = parsed_period(row.get("period"))
        if period is not None and row.get("employee_id"):
            history[str(row["employee_id"])].append((period, row))

    log: list[dict] = []
    outcome = RollupOutcome(data, log, False)
    old_annual = {(r.get("year"), str(r.get("employee_id"))): r for r in data.rows(L.ANNUAL)}
    fresh: dict[tuple, dict] = {}
    for employee_id, rows in sorted(history.items()):
        rows.sort(key=lambda item: (item[0].start, item[0].month_count))
        in_year = [(p, r) for p, r in rows if p.year == year and p.kind != YEAR]
        if not in_year:
            continue
        latest = in_year[-1][1]
        label = f"{employee_id} {latest.get('name') or ''}".strip()
        parts = quarter_scores(in_year, year, rulebook)
        annual = year_score({f"{year}-{q}": s for q, s in parts.items()}, str(year), rulebook)
        runs = d_runs(rows, lowest)
        streaks = [p for p, _r in in_year if runs.get(p, 0) >= review_after]
        for period, row in in_year:
            if runs.get(period, 0) < review_after:
                continue
            key = f"{period}/{employee_id}"
            if row.get("consecutive_d") or _flag_logged(data.rows(L.LOG), key):
                continue  # kept: once set (and logged) kpisheet never sets it again, HR may clear it
            text = f"连续{runs[period]}期{lowest}：{LEGAL_NOTE_ZH} / {runs[period]} consecutive {lowest}: {LEGAL_NOTE_EN}"
            row["consecutive_d"] = text
            row["updated_at"] = now
            log.append(audit_row(now, LOG_FLAG, key, "连续D", None, text, LEGAL_NOTE_ZH, user))
        pip_periods = [f"{p} {r.get('final_grade')}" for p, r in in_year if r.get("final_grade") in pip_grades]
        grade = grade_for(rulebook, annual) if annual is not None else None
        if grade in pip_grades:
            pip_periods.append(f"{year}年度 annual {grade}")
        d_text = None
        if streaks:
            d_text = (f"{'、'.join(map(str, streaks))} 连续{lowest}，{LEGAL_NOTE_ZH} / consecutive {lowest}: "
                      f"{LEGAL_NOTE_EN}")
            outcome.flagged_d.append(f"{label}: {', '.join(map(str, streaks))}")
        if pip_periods:
            outcome.pip.append(f"{label}: {', '.join(pip_periods)}")
        values = {
            "year": str(year), "employee_id": employee_id, "name": latest.get("name"),
            "department": latest.get("department"), "team": latest.get("team"),
            **{f"score_{q}": parts.get(q) for q in rulebook.periods.year_weights},
            "annual_total": annual, "annual_grade": grade,
            "d_count": sum(1 for _p, r in in_year if r.get("final_grade") == lowest),
            "consecutive_d": d_text, "pip": f"{L.YES}：{'；'.join(pip_periods)}" if pip_periods else None,
        }
        before = old_annual.get((str(year), employee_id))
        row = clean_row(columns, {**(before or {}), **values})
        compared = [c for c in columns if c.owner != L.HR and c.key != "updated_at"]
        if before is None or any(row.get(c.key) != before.get(c.key) for c in compared):
            row["updated_at"] = now
            if before is None or row.get("annual_grade") != before.get("annual_grade"):
                log.append(audit_row(now, LOG_ANNUAL, f"{year}/{employee_id}", "年度等级",
                                     (before or {}).get("annual_grade"), row.get("annual_grade"),
                                     f"年度得分 annual score {annual}", user))
        fresh[(str(year), employee_id)] = row
        outcome.employees += 1

    annual_rows = [r for key, r in old_annual.items() if key not in fresh] + list(fresh.values())
    annual_rows.sort(key=lambda r: (str(r.get("year")), r.get("department") or "", r.get("team") or "",
                                    str(r.get("employee_id"))))
    new = MasterData(sheets={**data.sheets, L.SUMMARY: summary, L.ANNUAL: annual_rows,
                             L.LOG: list(data.rows(L.LOG)) + log},
                     meta=data.meta, extra_headers=data.extra_headers, missing_sheets=data.missing_sheets)
    outcome.data = new
    outcome.changed = bool(log) or sheets_differ(data, new, rulebook)
    return outcome
