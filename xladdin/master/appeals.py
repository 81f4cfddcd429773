"""Appeals (申诉) in the master: deadlines in Chinese working days, late and overdue flags,
and a decided appeal's revised grade carried into 总表's final grade with an audit row.

HR types an appeal into 申诉 (period, employee ID, filed date, reason; later the
accepted and resolved dates, outcome, revised grade, notes). kpisheet never
writes those columns; it fills only the computed ones (name, deadlines, flags,
system note). It runs on every `kpisheet appeals`, `calibrate`, `rollup` and
`notices` that writes the master.

Where the publication date comes from: the row's own 结果公布日期 when HR typed
one, else the date recorded for the period in the master's ``_meta`` under
``published:<period>`` (set by ``kpisheet notices``, or ``kpisheet appeals
--period P --published DATE``). The clock then follows ``rulebook.appeals``:
file within n working days of publication, accept within n of filing, resolve
within n of acceptance (see :func:`kpisheet.validators.policy.workdays.appeal_deadlines`).

A year the holiday calendar does not know (chinesecalendar covers up to 2026)
is counted Monday to Friday and the row says so in 系统提示, to be checked by
hand; no holiday table is guessed here.

Final grades follow consolidation's one rule (appeal > calibrated > system,
:func:`kpisheet.xladdin.master.merge.derive_final_grades`); this module only records why a
final grade moved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.policy.workdays import CalendarError, appeal_deadlines, estimate_note

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.layout import MasterData, clean_row, clean_value
from kpisheet.xladdin.master.merge import canonical_period, derive_final_grades, grade_text, sheets_differ

PUBLISHED_META_PREFIX = "published:"

LOG_APPEAL = "申诉 appeal"
LOG_PUBLISH = "结果公布 publish"
LOG_FINAL_CARRIED = "最终等级 final grade"

LATE_ACCEPT = "受理逾期 accept overdue"
LATE_RESOLVE = "处理逾期 resolve overdue"


# --- the publication date ------------------------------------------------------------

def published_on(meta: dict[str, str], period: str) -> dt.date | None:
    """The publication date recorded for ``period`` in _meta, if any."""
    value = clean_value(L.DATE, meta.get(PUBLISHED_META_PREFIX + (canonical_period(period) or "")))
    return value if isinstance(value, dt.date) else None


def audit_row(now: dt.datetime, action: str, key: str, column: str, old, new, reason: str, user: str) -> dict:
    """One 日志 row in the master's canonical form."""
    def shown(value) -> str:
        text = clean_value(L.TEXT, value)
        return "" if text is None else text

    return clean_row(L.LOG_COLUMNS, {"time": now.replace(microsecond=0), "action": action, "key": key,
                                     "column": column, "old": shown(old), "new": shown(new), "reason": reason,
                                     "by": user})


def record_publication(meta: dict[str, str], period: str, day: dt.date, *, now: dt.datetime,
                       user: str = "") -> list[dict]:
    """Set the period's publication date in ``meta`` (the master's _meta); a 日志 row when it is new or moves."""
    period = canonical_period(period)
    before = published_on(meta, period)
    if before == day:
        return []
    meta[PUBLISHED_META_PREFIX + period] = day.isoformat()
    return [audit_row(now, LOG_PUBLISH, period, "结果公布日期 published", before, day,
                      "申诉期限自此日起按工作日计算 / appeal deadlines count working days from this date", user)]


# --- 申诉 rows ----------------------------------------------------------------

@dataclass
class AppealsOutcome:
    data: MasterData
    log_rows: list[dict]
    changed: bool
    late_filings: list[str] = field(default_factory=list)     # "period/ID"
    overdue: list[str] = field(default_factory=list)          # "period/ID: what"
    estimated: list[str] = field(default_factory=list)        # "period/ID"
    notes: list[str] = field(default_factory=list)            # "period/ID: system note"


def _date(value):
    """A date cell: the date, None when empty, or the text HR typed that is not a date."""
    return clean_value(L.DATE, value)


def _deadline_columns(row: dict, published, rulebook: Rulebook, today: dt.date,
                      notes_zh: list[str], notes_en: list[str]) -> dict:
    """The computed deadline columns, plus ``_estimated`` when a year was counted Mon-Fri."""
    out = dict.fromkeys(("file_by", "late_filing", "accept_by", "resolve_by", "overdue", "_estimated"))
    dates = {key: _date(row.get(key)) for key in ("filed_date", "accepted_date", "resolved_date")}
    unreadable = [c for c in L.APPEAL_COLUMNS if c.key in dates and dates[c.key] is not None
                  and not isinstance(dates[c.key], dt.date)]
    for column in unreadable:
        notes_zh.append(f"{column.zh}“{dates[column.key]}”不是日期，请填写如 2026-10-12")
        notes_en.append(f"{column.en} {dates[column.key]!r} is not a date; type e.g. 2026-10-12")
    if unreadable:
        return out
    if published is None:
        notes_zh.append("结果公布日期未知：请填写“结果公布日期”，或运行 kpisheet notices 记录本期公布日期")
        notes_en.append("publication date unknown: fill in Published, or run kpisheet notices to record it")
        return out
    try:
        d = appeal_deadlines(published, dates["filed_date"], rulebook, accepted=dates["accepted_date"],
                             resolved=dates["resolved_date"], estimate=True)
    except CalendarError as error:
        notes_zh.append(error.message_zh)
        notes_en.append(error.message_en)
        return out
    overdue = []
    if d.accepted_late or (d.accepted is None and d.accept_by is not None and today > d.accept_by):
        overdue.append(LATE_ACCEPT)
    if d.resolved_late or (d.resolved is None and d.resolve_by is not None and today > d.resolve_by):
        overdue.append(LATE_RESOLVE)
    out.update(file_by=d.file_by, late_filing=L.YES if d.filed_late else None, accept_by=d.accept_by,
               resolve_by=d.resolve_by, overdue="；".join(overdue) or None, _estimated=d.estimated)
    zh, en = estimate_note(d.estimated_years)
    if zh:
        notes_zh.append(zh)
        notes_en.append(en)
    return out


def _refresh_row(row: dict, summary: dict[tuple, dict], meta: dict[str, str], rulebook: Rulebook,
                 today: dt.date) -> tuple[dict, bool]:
    """-> (the row with its computed columns, whether a deadline was estimated)."""
    key = (canonical_period(row.get("period")), clean_value(L.TEXT, row.get("employee_id")))
    notes_zh: list[str] = []
    notes_en: list[str] = []
    person = summary.get(key)
    if person is None:
        notes_zh.append(f"总表中没有 {key[0]} 工号 {key[1]} 的记录，请核对考核期间和工号")
        notes_en.append(f"总表 has no row for {key[0]} / {key[1]}; check the period and the employee ID")
    published = _date(row.get("published_date"))
    if published is not None and not isinstance(published, dt.date):
        notes_zh.append(f"结果公布日期“{published}”不是日期，已改用本期记录的公布日期")
        notes_en.append(f"Published {published!r} is not a date; the period's recorded date is used")
        published = None
    published = published or (published_on(meta, key[0]) if key[0] else None)
    computed = _deadline_columns(row, published, rulebook, today, notes_zh, notes_en)
    estimated = bool(computed.pop("_estimated"))

    grades = {band.grade for band in rulebook.grades}
    revised = grade_text(row.get("revised_grade"))
    if revised and revised not in grades:
        notes_zh.append(f"改定等级“{row.get('revised_grade')}”不是有效等级（{'/'.join(sorted(grades))}），未计入最终等级")
        notes_en.append(f"revised grade {row.get('revised_grade')!r} is not a grade; not carried to the final grade")
    elif revised and _date(row.get("resolved_date")) is None:
        notes_zh.append("已填改定等级、未填处理完成日期：改定等级已计入最终等级，请补填处理完成日期")
        notes_en.append("a revised grade without a resolved date: it is in the final grade; fill in Resolved")

    note = " | ".join(filter(None, ("；".join(notes_zh), "; ".join(notes_en)))) or None
    return clean_row(L.APPEAL_COLUMNS, {**row, "name": person.get("name") if person else None, **computed,
                                        "system_note": note}), estimated


def final_grade_reason(row: dict, appeal: dict | None) -> tuple[str, str]:
    """(action, reason) for a final grade that moved: which of appeal, calibration, system set it."""
    if appeal is not None and grade_text(appeal.get("revised_grade")) == row.get("final_grade"):
        outcome = clean_value(L.TEXT, appeal.get("outcome")) or "已改定 revised"
        return LOG_APPEAL, f"申诉处理结果：{outcome}，改定等级计入最终等级 / appeal decided, revised grade carried"
    if row.get("calibrated_grade") and grade_text(row.get("calibrated_grade")) == row.get("final_grade"):
        return LOG_FINAL_CARRIED, "按校准等级 / from the calibrated grade"
    return LOG_FINAL_CARRIED, "按系统等级 / from the system grade"


def refresh_final_grades(summary: list[dict], appeals: list[dict], rulebook: Rulebook, *,
                         now: dt.datetime, user: str = "") -> tuple[list[dict], list[dict]]:
    """Final grade, coefficient, PIP and rank re-derived by consolidation's rule.

    -> (new 总表 rows, 日志 rows for every final grade that moved); ``updated at``
    moves on every row whose computed columns changed.
    """
    columns = L.summary_columns(rulebook)
    rows = [dict(row) for row in summary]
    derive_final_grades(rows, appeals, rulebook, now=now, user=user)
    by_key = {}
    for appeal in appeals:
        by_key[(canonical_period(appeal.get("period")), clean_value(L.TEXT, appeal.get("employee_id")))] = appeal
    watched = [c for c in columns if c.owner == L.DERIVED and c.key != "updated_at"]
    out, log = [], []
    for before, row in zip(summary, rows):
        row = clean_row(columns, row)
        if any(row.get(c.key) != before.get(c.key) for c in watched):
            row["updated_at"] = now.replace(microsecond=0)
        if row.get("final_grade") != before.get("final_grade"):
            key = (row.get("period"), row.get("employee_id"))
            action, reason = final_grade_reason(row, by_key.get(key))
            log.append(audit_row(now, action, f"{key[0]}/{key[1]}", "最终等级", before.get("final_grade"),
                                 row.get("final_grade"), reason, user))
        out.append(row)
    return out, log


def _with_published(row: dict, meta: dict[str, str], moved: tuple[str, dt.date] | None, log: list[dict],
                    now: dt.datetime, user: str) -> dict:
    """The row with 结果公布日期 filled from the period's recorded date where it is blank (or still
    shows the date a new publication replaced); HR's own date is kept. Each fill is logged."""
    period = canonical_period(row.get("period"))
    recorded = published_on(meta, period) if period else None
    own = _date(row.get("published_date"))
    if recorded is None or own == recorded:
        return row
    if own is not None and not (moved is not None and moved == (period, own)):
        return row  # HR typed this one: it is the row's own publication date
    label = f"{period}/{clean_value(L.TEXT, row.get('employee_id'))}"
    log.append(audit_row(now, LOG_PUBLISH, label, "结果公布日期 published", own, recorded,
                         "本期结果公布日期（申诉期限自此日起算）/ the period's publication date, the appeal clock's "
                         "start", user))
    return {**row, "published_date": recorded}


def refresh_appeals(data: MasterData, rulebook: Rulebook, *, now: dt.datetime, today: dt.date | None = None,
                    user: str = "", publish: tuple[str, dt.date] | None = None) -> AppealsOutcome:
    """Recompute 申诉's deadlines and flags and carry revised grades into 总表; HR's cells are kept.

    ``publish`` = (period, date) first records that period's publication date. An appeal row whose
    结果公布日期 is blank shows the date its clock runs from (the period's recorded date); when a
    new ``publish`` moves that date, rows still showing the old one follow it.
    """
    today = today or now.date()
    summary = data.rows(L.SUMMARY)
    by_key = {(row.get("period"), row.get("employee_id")): row for row in summary}
    meta = dict(data.meta)
    log: list[dict] = []
    moved: tuple[str, dt.date] | None = None  # (period, the date it had) when publish moves it
    if publish is not None:
        before = published_on(meta, publish[0])
        log += record_publication(meta, *publish, now=now, user=user)
        if before is not None and before != publish[1]:
            moved = (canonical_period(publish[0]), before)
    outcome = AppealsOutcome(data, log, False)
    appeals = []
    for old in data.rows(L.APPEALS):
        old = _with_published(old, meta, moved, log, now, user)
        row, estimated = _refresh_row(old, by_key, meta, rulebook, today)
        appeals.append(row)
        label = f"{row.get('period')}/{row.get('employee_id')}"
        for key, column_zh in (("late_filing", "逾期申诉"), ("overdue", "处理逾期")):
            if row.get(key) != clean_value(L.TEXT, old.get(key)) and row.get(key):
                log.append(audit_row(now, LOG_APPEAL, label, column_zh, old.get(key), row.get(key),
                                     "按工作日计算的申诉期限 / appeal deadline in working days", user))
        if row.get("late_filing"):
            outcome.late_filings.append(label)
        if row.get("overdue"):
            outcome.overdue.append(f"{label}: {row['overdue']}")
        if estimated:
            outcome.estimated.append(label)
        if row.get("system_note"):
            outcome.notes.append(f"{label}: {row['system_note']}")

    new_summary, final_log = refresh_final_grades(summary, appeals, rulebook, now=now, user=user)
    log += final_log
    new = MasterData(sheets={**data.sheets, L.SUMMARY: new_summary, L.APPEALS: appeals,
                             L.LOG: list(data.rows(L.LOG)) + log},
                     meta=meta, extra_headers=data.extra_headers, missing_sheets=data.missing_sheets)
    outcome.data = new
    outcome.changed = bool(log) or sheets_differ(data, new, rulebook)
    return outcome
