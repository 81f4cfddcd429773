"""The benchmark's baseline: the script one would write first, openpyxl ``load_workbook`` then walking the cells.

It does the same checks as kpisheet, by the same code: the cell values are
read with openpyxl (the whole workbook loaded, styles and all, as
``load_workbook`` does by default, with cached values as a re-check needs
them), put in the shape python-calamine gives, and handed to
:func:`kpisheet.validators.validate.validate_values` with the same roster, period and
package facts. Only the reading differs; no guard runs (the naive script has
none), so the comparison flatters the baseline if anything.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Mapping

from kpisheet.validators.report import FileReport
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.reading.submission import REQUIRED_SHEETS
from kpisheet.validators.validate import validate_values
from kpisheet.validators.reading.workbook_facts import workbook_facts


def naive_validate(path: str | Path, *, rulebook: Rulebook, roster: Mapping[str, Employee] | None = None,
                   period: str | None = None) -> FileReport:
    """Validate ``path`` reading it with openpyxl: the baseline the benchmark compares against."""
    from openpyxl import load_workbook

    path = Path(path)
    book = load_workbook(path, data_only=True)
    try:
        values = {name: [[_as_calamine(cell.value) for cell in row] for row in book[name].iter_rows()]
                  for name in REQUIRED_SHEETS if name in book.sheetnames}
    finally:
        book.close()
    facts = workbook_facts(path.read_bytes())
    return validate_values(values, source=str(path), rulebook=rulebook, roster=roster, period=period,
                           calculated=facts.calculated, properties=facts.properties)


def _as_calamine(value):
    """A cell value as python-calamine returns it: numbers as floats, empty as '', dates as dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    return value
