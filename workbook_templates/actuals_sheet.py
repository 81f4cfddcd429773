"""``_actuals``: what each source system said for every prefilled 实际值 cell (see kpisheet.validators.layout.ACTUALS).

Only workbooks made with actuals have it. Validation compares the 实际值 cells
with it to find values a manager changed without a comment.
"""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from kpisheet.validators.layout import ACTUALS, ACTUALS_HEADER, SCORE_COLUMNS, SCORES, a1, column_index

from kpisheet.workbook_templates.plan import TeamPlan


def write_actuals(book: Workbook, plan: TeamPlan) -> None:
    sheet = book.add_worksheet(ACTUALS)
    sheet.write_row(0, 0, ACTUALS_HEADER)
    actual_col = column_index(SCORE_COLUMNS, "actual")
    row = 1
    for block in plan.blocks:  # workbook order, so the sheet reads like 考核评分
        for offset, (ind, _) in enumerate(block.lines):
            found = plan.actuals.get((block.employee.employee_id, ind.code))
            if found is None:
                continue
            sheet.write_string(row, 0, block.employee.employee_id)
            sheet.write_string(row, 1, ind.code)
            sheet.write_number(row, 2, found.value)
            sheet.write_string(row, 3, found.source)
            sheet.write_string(row, 4, found.note)
            sheet.write_string(row, 5, f"{SCORES}!{a1(block.first_row + offset, actual_col)}")
            row += 1
    sheet.set_column(0, 2, 14)
    sheet.set_column(3, 5, 24)
    sheet.protect()
    sheet.very_hidden()
