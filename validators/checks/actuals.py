"""score-actual-changed: a 实际值 prefilled from a source system that the manager changed without a comment.

The system's values are on the workbook's ``_actuals`` sheet (only workbooks
made with ``kpisheet forms --actuals`` have one; see kpisheet.validators.layout.ACTUALS).
Rows are matched by employee and indicator, not by position, so that a moved
row is judged by the template checks and not here.
"""

from __future__ import annotations

from kpisheet.validators.checks.numbers import is_blank
from kpisheet.validators.findings import Finding, make_finding
from kpisheet.validators.layout import ACTUALS_HEADER, SCORES
from kpisheet.validators.reading.submission import TeamWorkbook, number

# a cell that still holds the system's value reads back as the same float; this only absorbs
# the last-digit noise of a spreadsheet program's re-save
_SAME = 1e-9


def prefilled_values(rows: list[list]) -> dict[tuple[str, str], tuple[float, str]]:
    """(employee id, indicator) -> (the system's value, its source), from the ``_actuals`` sheet's rows."""
    if not rows or tuple(str(v) for v in rows[0][:len(ACTUALS_HEADER)]) != ACTUALS_HEADER:
        return {}  # not ours to judge: template checks report an altered workbook
    out = {}
    for line in rows[1:]:
        line = list(line) + [""] * (len(ACTUALS_HEADER) - len(line))
        value = number(line[2])
        if value is not None and line[0] != "" and line[1] != "":
            out[(_text(line[0]), str(line[1]))] = (value, str(line[3]))
    return out


def check_prefilled(book: TeamWorkbook, rows: list[list]) -> list[Finding]:
    prefilled = prefilled_values(rows)
    findings = []
    if not prefilled:
        return findings
    for s in book.scores:
        found = prefilled.get((s.employee_id, s.code))
        if found is None or not is_blank(s.comment):
            continue
        value, source = found
        now = number(s.actual)
        if now is not None and abs(now - value) <= _SAME * max(1.0, abs(value)):
            continue
        findings.append(make_finding("score-actual-changed", sheet=SCORES, cell=s.address("actual"),
                                     employee_id=s.employee_id, indicator=s.code, value=s.actual,
                                     expected=value, source=source))
    return findings


def _text(raw) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)
