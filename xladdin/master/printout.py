"""打印: 总表 as leadership reads it on paper. 总表 itself stays the full table for the screen.

One section per period and team (department, team), each on its own page: a heading with the
team's head count, grade counts and mean total, then one row per employee, best total first, in
the columns that decide pay and follow-up (subtotals, total, grades, coefficient, rank, PIP,
appeal, notes). A4 landscape at the scale that fits the columns across, the column headers
repeated on every page.

The sheet is rebuilt from 总表's rows on every write and never read back: it is a view, and
editing it changes nothing (its title says so).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from kpisheet.validators.policy.grading import bands_best_first
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.workbook_templates.frame import MARGIN_BOTTOM, MARGIN_SIDE, MARGIN_TOP, PRINTABLE_WIDTH, SAFETY

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.views import period_sort_key

PRINT = L.PRINT
TITLE_HEIGHT, HEADER_HEIGHT, SECTION_HEIGHT, ROW_HEIGHT = 24, 30, 22, 18
# Pixels per unit of column width in the master (default font Calibri 11), as LibreOffice draws it
# here with its substitute font (measured on the rendered 打印 sheet: 9.35). Excel draws 7, so a
# scale that fits LibreOffice's page fits Excel's.
PIXELS_PER_WIDTH_UNIT = 9.4
GRADE = "grade"  # a short code read down the column: centred


def fitting_scale(widths: list[float]) -> int:
    """The print zoom (percent) at which columns of these widths fit one A4 landscape page across."""
    content = sum((w * PIXELS_PER_WIDTH_UNIT + 5) * 0.75 for w in widths)  # points
    return max(10, min(100, int(PRINTABLE_WIDTH / content * 100 * SAFETY)))


@dataclass(frozen=True)
class PrintColumn:
    key: str
    zh: str
    en: str
    width: float
    kind: str = L.TEXT

    @property
    def header(self) -> str:
        return f"{self.zh}\n{self.en}"


def print_columns(rulebook: Rulebook) -> tuple[PrintColumn, ...]:
    """What leadership reads: who, the category subtotals, the result and what follows from it."""
    subtotals = tuple(PrintColumn(f"subtotal_{c.code}", f"{c.name_zh}小计", c.name_en, 12, L.SCORE)
                      for c in rulebook.categories)
    return (
        PrintColumn("employee_id", "工号", "ID", 9),
        PrintColumn("name", "姓名", "Name", 9),
        PrintColumn("role", "岗位", "Role", 12),
        *subtotals,
        PrintColumn("bonus", "加分", "Bonus", 6, L.SCORE),
        PrintColumn("veto", "一票否决", "Veto", 9),
        PrintColumn("total", "总分", "Total", 7, L.SCORE),
        PrintColumn("system_grade", "系统等级", "System", 7, GRADE),
        PrintColumn("final_grade", "最终等级", "Final", 7, GRADE),
        PrintColumn("coefficient", "绩效系数", "Coeff.", 7, L.SCORE),
        PrintColumn("dept_rank", "部门排名", "Rank", 7, L.INT),
        PrintColumn("pip", "改进计划", "PIP", 8, GRADE),
        PrintColumn("appeal_status", "申诉状态", "Appeal", 10),
        PrintColumn("notes", "备注", "Notes", 30),  # last: its row height and its own write go by it
    )


@dataclass(frozen=True)
class Section:
    """One period x team: the heading's figures and the employees, best total first."""

    period: str
    department: str
    team: str
    rows: tuple[dict, ...]
    heading: str


def row_notes(row: dict) -> str:
    """The flags a reader must not miss, in a few words."""
    parts = []
    if row.get("in_distribution") == L.NO:
        parts.append(f"不参与强制分布：{row.get('excluded_why') or ''}".rstrip("："))
    if row.get("consecutive_d"):
        parts.append(f"连续D {row['consecutive_d']}")
    if row.get("review"):
        parts.append(str(row["review"]))
    if row.get("calibrated_grade") and row.get("calibrated_grade") != row.get("system_grade"):
        parts.append(f"校准 {row.get('system_grade') or '—'}→{row['calibrated_grade']}")
    if row.get("source_status") and row.get("source_status") != L.SOURCE_PRESENT:
        parts.append(str(row["source_status"]))
    return "；".join(parts)


def sections(summary: list[dict], rulebook: Rulebook) -> list[Section]:
    """总表's rows as print sections, in period, department and team order."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in summary:
        groups[(row.get("period") or "", row.get("department") or "", row.get("team") or "")].append(row)
    letters = [band.grade for band in bands_best_first(rulebook)]
    out = []
    for key in sorted(groups, key=lambda k: (period_sort_key(k[0]), k[1], k[2])):
        period, department, team = key
        rows = sorted(groups[key], key=lambda r: (-(r["total"]) if isinstance(r.get("total"), float) else 1e9,
                                                  str(r.get("employee_id") or "")))
        grades = Counter(r.get("final_grade") for r in rows)
        totals = [r["total"] for r in rows if isinstance(r.get("total"), float)]
        shown = " · ".join(f"{g} {grades[g]}" for g in letters)
        mean = f"{sum(totals) / len(totals):.2f}" if totals else "—"
        heading = (f"{period}  {department} / {team}　{len(rows)} 人 people　最终等级 final grades：{shown}"
                   f"　平均总分 mean total {mean}")
        out.append(Section(period, department, team, tuple(rows), heading))  # 总表's own rows, not copies
    return out


def print_values(row: dict, columns: tuple[PrintColumn, ...]) -> list:
    """One employee's cells in the print columns (备注 made from the row's flags)."""
    return [row_notes(row) if c.key == "notes" else row.get(c.key) for c in columns]


def as_print_cell(value):
    """A number stays a number and an empty cell empty (not written: the column's format still draws its
    border); anything else is shown as its text."""
    return value if value is None or value.__class__ in (int, float) else str(value)


def write_print_sheet(book, summary: list[dict], rulebook: Rulebook) -> None:
    """Add the 打印 sheet to ``book`` (an xlsxwriter workbook, rows written in order)."""
    columns = print_columns(rulebook)
    ws = book.add_worksheet(PRINT)
    base = {"font_size": 10, "valign": "vcenter", "border": 1, "border_color": "#BFBFBF"}
    title = book.add_format({"bold": True, "font_size": 13})
    header = book.add_format({**base, "bold": True, "text_wrap": True, "align": "center", "bg_color": "#D9E1F2"})
    section = book.add_format({"bold": True, "font_size": 11, "bg_color": "#EDEDED", "valign": "vcenter"})
    cell_formats = {
        L.TEXT: book.add_format(base),
        L.SCORE: book.add_format({**base, "num_format": "0.00"}),
        L.INT: book.add_format({**base, "num_format": "0"}),
        GRADE: book.add_format({**base, "align": "center", "bold": True}),
    }
    notes_style = {**base, "text_wrap": True, "font_size": 9}
    notes, notes_column = book.add_format(notes_style), book.add_format({**notes_style, "right": 0})
    last = len(columns) - 1
    widths = [c.width for c in columns]
    # A cell written without a format takes its column's: each row's cells but the last go in one
    # write_row, where a format per cell cost about twice a 总表 cell. 备注 (the last column) is
    # written with its format, and its column's has no right border: LibreOffice draws the right
    # edge of the merged title and team headings with the last column's format.
    for c, column in enumerate(columns):
        ws.set_column(c, c, column.width, notes_column if column.key == "notes" else
                      cell_formats.get(column.kind, cell_formats[L.TEXT]))
    ws.set_row(0, TITLE_HEIGHT)
    ws.merge_range(0, 0, 0, last, "绩效考核结果（打印版，由总表生成；修改请在总表中进行）"
                   " Appraisal results, print view of 总表 (edit 总表, not this sheet)", title)
    ws.set_row(1, HEADER_HEIGHT)
    for c, column in enumerate(columns):
        ws.write_string(1, c, column.header, header)
    row, breaks = 2, []
    for n, part in enumerate(sections(summary, rulebook)):
        if n:
            breaks.append(row)  # each team starts a page
        ws.set_row(row, SECTION_HEIGHT)
        ws.merge_range(row, 0, row, last, part.heading, section)
        row += 1
        for line in part.rows:
            values = print_values(line, columns)
            ws.set_row(row, ROW_HEIGHT if len(values[-1]) <= 2 * columns[-1].width else 2 * ROW_HEIGHT - 4)
            ws.write_row(row, 0, [as_print_cell(value) for value in values[:-1]])
            ws.write_string(row, last, values[-1], notes)
            row += 1
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=MARGIN_SIDE, right=MARGIN_SIDE, top=MARGIN_TOP, bottom=MARGIN_BOTTOM)
    ws.set_print_scale(fitting_scale(widths))  # fit-to-page would override the page breaks
    ws.repeat_rows(0, 1)
    ws.freeze_panes(2, 2)
    ws.set_h_pagebreaks(breaks)
    ws.center_horizontally()
    ws.set_footer("&L&8打印 Print view&C&8第 &P 页 / 共 &N 页")
    ws.hide_gridlines(2)
