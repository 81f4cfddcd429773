"""Reading the existing master (guarded, then python-calamine) and writing a new one (xlsxwriter, streaming).

Reading goes by header names, not positions, and puts every value back in its
canonical form (:func:`kpisheet.xladdin.master.layout.clean_value`), so a master that
HR re-saved in Excel, WPS or LibreOffice, re-ordered or retyped still merges.

Writing streams rows (xlsxwriter ``constant_memory``) with one format object
per column made once. Every text goes through ``write_string``: text from a
submission is never a formula, whatever it starts with (and the workbook's
``strings_to_formulas`` is off as well). Text that starts like a formula also
gets Excel's quote prefix, so a later edit in Excel keeps it text.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from kpisheet import __version__
from kpisheet.validators.errors import EXIT_USAGE, KpisheetError
from kpisheet.validators.policy.grading import bands_best_first
from kpisheet.validators.reading.guard import MB, GuardLimits
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.reading.safe_read import WorkbookRead, read_workbook_isolated

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.layout import MasterColumn, MasterData, clean_row, clean_value
from kpisheet.xladdin.master.safety import BACKUP_DIR
from kpisheet.xladdin.master import hr_inputs
from kpisheet.xladdin.master.printout import write_print_sheet
from kpisheet.xladdin.master.views import analysis_rows, distribution_rows, period_sort_key

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_HEADER_SEARCH_ROWS = 10
_WIDTH_SAMPLE_ROWS = 500
_MAX_WIDTH = 60
_FREEZE_COLUMNS = {L.SUMMARY: 3, L.DETAIL: 3}
_GRADE_COLOURS = ("#1B7F3B", "#6BBF59", "#4F81BD", "#F0A030", "#C0392B")


class MasterReadError(KpisheetError):
    """The file at --master cannot be used as a master; says why in Chinese and English."""

    code = "master-unreadable"
    title_zh, title_en = "汇总表无法读取", "master unreadable"
    description = "The file named as the master is not a kpisheet master or is damaged; it is left untouched."


class MasterTooLarge(KpisheetError):
    """A sheet of the view would hold more rows than a worksheet can: nothing is written."""

    code = "master-too-large"
    exit_code = EXIT_USAGE
    title_zh, title_en = "汇总表超出工作表行数上限", "master over the sheet row limit"
    description = ("A sheet of the master would exceed Excel's 1,048,576 rows. kpisheet refuses to write it rather "
                   "than drop rows; choose fewer periods (--period, --year) or use kpisheet export.")


# Excel, WPS and LibreOffice all stop at 1,048,576 rows; xlsxwriter ignores a row beyond it silently.
SHEET_MAX_ROWS = 1_048_576


def check_row_limits(tables: list["SheetTable"]) -> None:
    """Refuse (before any byte is written) a view with a sheet that would not fit."""
    for table in tables:
        needed = len(table.rows) + L.FIRST_DATA_ROW
        if needed > SHEET_MAX_ROWS:
            raise MasterTooLarge(
                f"汇总表的“{table.name}”将有 {needed:,} 行，超过工作表上限 {SHEET_MAX_ROWS:,} 行；未写入任何内容。"
                "请用 --period 或 --year 选择较少的期间，或用 kpisheet export 导出明细",
                f"the master's sheet {table.name} would have {needed:,} rows, over the worksheet limit of "
                f"{SHEET_MAX_ROWS:,}; nothing was written. Choose fewer periods with --period or --year, or use "
                "kpisheet export for the detail")


# --- reading -----------------------------------------------------------------

def _header_forms(text: str) -> list[str]:
    """Ways a header may still name its column after HR or another program touched it."""
    text = unicodedata.normalize("NFKC", str(text)).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    forms = [text]
    if lines:
        forms += [lines[0], lines[0].split()[0], lines[-1].lower()]
    return forms


def _header_lookup(columns: tuple[MasterColumn, ...]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for column in columns:
        for form in (unicodedata.normalize("NFKC", column.header), column.zh, column.key):
            lookup.setdefault(form, column.key)
    for column in columns:
        lookup.setdefault(column.en.lower(), column.key)
    return lookup


def _match_header(cells: list, lookup: dict[str, str]) -> tuple[dict[int, str], dict[int, str]]:
    """-> (column index -> key, column index -> header of a column HR added)."""
    known, extra, used = {}, {}, set()
    for i, cell in enumerate(cells):
        if cell in (None, ""):
            continue
        key = next((lookup[f] for f in _header_forms(cell) if f in lookup), None)
        if key is None:
            extra[i] = str(cell).strip()
        elif key not in used:
            known[i] = key
            used.add(key)
    return known, extra


def _table(values: list[list], columns: tuple[MasterColumn, ...],
           positions: list[int] | None = None) -> tuple[list[dict], list[str]]:
    """The rows under the header (blank rows skipped); ``positions`` gets each row's 0-based sheet row."""
    lookup = _header_lookup(columns)
    best, header_at = ({}, {}), None
    for r, cells in enumerate(values[:_HEADER_SEARCH_ROWS]):
        found = _match_header(cells, lookup)
        if len(found[0]) > len(best[0]):
            best, header_at = found, r
    if header_at is None:
        return [], []
    known, extra = best
    keys = {c.key for c in columns}
    plan = list(known.items())
    extra_plan = [(i, header) for i, header in extra.items() if header not in keys]
    rows = []
    for at, cells in enumerate(values[header_at + 1:], start=header_at + 1):
        if not any(cell != "" and cell is not None for cell in cells):
            continue
        if positions is not None:
            positions.append(at)
        width = len(cells)
        row = {key: cells[i] for i, key in plan if i < width}
        for i, header in extra_plan:
            row[header] = cells[i] if i < width and cells[i] != "" else None
        rows.append(clean_row(columns, row))
    return rows, [header for _i, header in extra_plan]


# A master is far bigger than a team workbook (明细 holds a row per employee and
# indicator, period after period) but still bounded by Excel's own sheet size;
# the column limit is what stops a sheet claiming cell XFD1048576.
MASTER_LIMITS = GuardLimits(
    max_file_bytes=500 * MB, max_member_bytes=2_000 * MB, max_total_bytes=4_000 * MB,
    max_rows=1_048_576, max_columns=1_000, max_cells=60_000_000, max_slow_scan_cells=2_000_000,
)


def _refusal(path: Path, findings) -> MasterReadError:
    """The guard's or the reader's reason, with what HR can do about a master."""
    reason_zh = "；".join(f.message_zh.rstrip("。") for f in findings) or "文件无法读取"
    reason_en = "; ".join(f.message_en.rstrip(".") for f in findings) or "the file cannot be read"
    return MasterReadError(
        f"汇总表 {path.name} 未读取，也未改动：{reason_zh}。请从旁边 {BACKUP_DIR} 文件夹中的备份恢复汇总表，"
        "或用 --master 指定一个新文件名重新生成",
        f"the master {path.name} was not read and is untouched: {reason_en}. Restore it from a backup in the "
        f"{BACKUP_DIR} folder beside it, or pass a new file name to --master to build a fresh one")


# A master is read in a worker process of its own, like a submission: a hostile file at the master's path
# must cost one bilingual line, never the command (python-calamine aborts the process it runs in). The
# worker may use far more memory and time than a submission's, as a master of a large company is big.
MASTER_READ_MEMORY_MB = 16_384
MASTER_READ_TIMEOUT = 900.0


def guarded_master_read(path: Path, sheets) -> WorkbookRead:
    """``sheets`` of the master at ``path``, guarded and read in a worker; :class:`MasterReadError` if refused."""
    read = read_workbook_isolated(path, sheets, MASTER_LIMITS, timeout=MASTER_READ_TIMEOUT,
                                  memory_limit_mb=MASTER_READ_MEMORY_MB)
    if not read.read:
        raise _refusal(path, read.findings)
    return read


def read_master(path: str | Path, rulebook: Rulebook, *, computed: bool = False) -> MasterData:
    """The master at ``path`` as rows; raises :class:`MasterReadError` for anything else.

    The file goes through the same pre-read guard as a submission, and is read
    in a worker process (a master HR re-saved, a damaged one or a hostile file
    at the master's path must not take the process down), with limits sized
    for a master. ``computed`` also reads 分布 and 分析 (to tell whether HR
    changed them). ``sheet_names`` of the result lists every sheet of the file.
    """
    path = Path(path)
    wanted = (*L.STORED_SHEETS, *((L.DISTRIBUTION, L.ANALYSIS) if computed else ()))
    read = guarded_master_read(path, (*wanted, L.META))
    names = read.sheet_names
    if L.SUMMARY not in names:
        raise MasterReadError(
            f"{path.name} 不是 kpisheet 汇总表（没有“{L.SUMMARY}”工作表）；请用 --master 指定汇总表或一个新文件名",
            f"{path.name} is not a kpisheet master (no sheet {L.SUMMARY}); pass the master or a new file name to --master")
    columns = L.sheet_columns(rulebook)
    data = L.empty_master()
    missing = []
    try:
        for sheet in wanted:
            if sheet not in read.sheets:
                missing.append(sheet)
                continue
            data.positions[sheet] = []
            data.sheets[sheet], data.extra_headers[sheet] = _table(read.sheets[sheet], columns[sheet],
                                                                   data.positions[sheet])
        if L.META in read.sheets:
            for cells in read.sheets[L.META]:
                if len(cells) >= 2 and cells[0] not in (None, ""):
                    data.meta[str(cells[0])] = clean_value(L.TEXT, cells[1]) or ""
        else:
            missing.append(L.META)
    except Exception as error:
        raise MasterReadError(f"汇总表 {path.name} 内容损坏：{error}",
                              f"the master {path.name} is damaged: {error}") from None
    data.missing_sheets = tuple(missing)
    data.sheet_names = tuple(names)
    return data


# --- writing -----------------------------------------------------------------

@dataclass
class SheetTable:
    name: str
    columns: tuple[MasterColumn, ...]
    rows: list[dict]
    extra_headers: tuple[str, ...] = ()


def master_tables(data: MasterData, rulebook: Rulebook) -> list[SheetTable]:
    """Every tabular sheet of the master, in order, with 分布 and 分析 computed."""
    columns = L.sheet_columns(rulebook)
    computed = {
        L.DISTRIBUTION: distribution_rows(data.rows(L.SUMMARY), rulebook),
        # the record's view brings 分析 computed from a DataFrame read from the store
        L.ANALYSIS: data.sheets[L.ANALYSIS] if L.ANALYSIS in data.sheets else analysis_rows(data.rows(L.DETAIL),
                                                                                            rulebook),
    }
    return [
        SheetTable(name, columns[name], computed[name] if name in computed else data.rows(name),
                   tuple(data.extra_headers.get(name, ())))
        for name in L.SHEET_ORDER if name not in (L.META, L.PRINT)  # 打印 is drawn from 总表's rows
    ]


def display_width(text: str) -> int:
    """Columns a text needs: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


_NUMBER_FORMATS = {
    L.SCORE: "0.00",
    L.INT: "0",
    L.SHARE: "0.0%",
    L.DATE: "yyyy-mm-dd",
    L.DATETIME: "yyyy-mm-dd hh:mm:ss",
}
_HR_FILL = "#FFFBEA"


class _Formats:
    """Every format the master uses, made once per workbook.

    Data cells mostly carry no format of their own: the column's format (number
    format, HR fill) applies, which keeps the hot loop and the XML small.
    """

    def __init__(self, book: xlsxwriter.Workbook):
        self._book = book
        self._columns: dict[tuple[str, bool], object] = {}
        self.quoted = book.add_format({"quote_prefix": True})
        self.percent = book.add_format({"num_format": "0.0%"})
        self.datetime = book.add_format({"num_format": _NUMBER_FORMATS[L.DATETIME]})
        header = {"bold": True, "text_wrap": True, "valign": "top", "border": 1}
        self.header = {
            L.SOURCE: book.add_format({**header, "bg_color": "#DDEBF7"}),
            L.DERIVED: book.add_format({**header, "bg_color": "#E2EFDA"}),
            L.KEPT: book.add_format({**header, "bg_color": "#FCE4D6"}),
            L.HR: book.add_format({**header, "bg_color": "#FFF2CC"}),
        }
        self.meta_key = book.add_format({"bold": True})

    def column(self, kind: str, hr: bool):
        """The format of a whole column: its number format, and a light fill where HR types."""
        key = (kind, hr)
        if key not in self._columns:
            props = {}
            if kind in _NUMBER_FORMATS:
                props["num_format"] = _NUMBER_FORMATS[kind]
            if hr:
                props["bg_color"] = _HR_FILL
            self._columns[key] = self._book.add_format(props) if props else None
        return self._columns[key]


_OWNERSHIP_NOTED = (L.SUMMARY, L.APPEALS)
_OWNER_NOTES = {
    L.HR: "HR 填写：重新汇总永不覆盖 / HR-owned: never overwritten by consolidation",
    L.KEPT: "kpisheet 标记后保留，HR 可清除 / set by kpisheet, kept; HR may clear it",
    L.DERIVED: "kpisheet 计算 / computed by kpisheet",
}


def _width(column_width: float, header: str, sample: list[dict], key: str) -> float:
    """The column's width: wide enough for its header and the widest text among the ``sample`` rows."""
    widest = max(display_width(line) for line in header.splitlines())
    for row in sample:
        value = row.get(key)
        if isinstance(value, str):
            widest = max(widest, display_width(value))
    return min(_MAX_WIDTH, max(column_width, widest + 2))


def _write_table(sheet, table: SheetTable, fmt: _Formats) -> None:
    columns = list(table.columns)
    headers = [c.header for c in columns] + list(table.extra_headers)
    keys = [c.key for c in columns] + list(table.extra_headers)
    owners = [c.owner for c in columns] + [L.HR] * len(table.extra_headers)
    kinds = [c.kind for c in columns] + [L.TEXT] * len(table.extra_headers)
    widths = [c.width for c in columns] + [14.0] * len(table.extra_headers)
    fits = [c.fit for c in columns] + [True] * len(table.extra_headers)

    sheet.set_row(0, 30)
    # the first rows, taken once: 指标明细's rows are streamed from the record, not held as a list
    sample = table.rows[:_WIDTH_SAMPLE_ROWS] if any(fits) else []
    for c, (header, owner) in enumerate(zip(headers, owners)):
        width = _width(widths[c], header, sample, keys[c]) if fits[c] else widths[c]
        sheet.set_column(c, c, width, fmt.column(kinds[c], owner == L.HR))
        sheet.write_string(0, c, header, fmt.header[owner])
        if table.name in _OWNERSHIP_NOTED and owner in _OWNER_NOTES:
            sheet.write_comment(0, c, _OWNER_NOTES[owner], {"x_scale": 1.6})
    sheet.freeze_panes(1, _FREEZE_COLUMNS.get(table.name, 0))
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.repeat_rows(0)
    sheet.fit_to_pages(1, 0)  # all columns on one page width, as many pages down as needed
    sheet.autofilter(0, 0, max(1, len(table.rows)), len(headers) - 1)

    # The hot path: one write_row per row, cells without a format of their own (the
    # column's applies). Type handlers catch the few cells that need one.
    quoted, percent, datetime_format = fmt.quoted, fmt.percent, fmt.datetime
    dated = {c for c, kind in enumerate(kinds) if kind in (L.DATE, L.DATETIME)}

    def formula_like_as_text(ws, row, col, value, *_):
        # write_string with strings_to_formulas off already stores text; the quote
        # prefix keeps it text when someone later edits the cell in Excel
        return ws.write_string(row, col, value, quoted) if value.startswith(FORMULA_LEADS) else None

    def moment(ws, row, col, value, *_):
        if col in dated:
            return None
        return ws.write_datetime(row, col, value, datetime_format)  # a date in a column HR added

    sheet.add_write_handler(str, formula_like_as_text)
    sheet.add_write_handler(dt.datetime, moment)
    sheet.add_write_handler(dt.date, moment)
    measures = [c for c, kind in enumerate(kinds) if kind == L.MEASURE]
    write_row, write_number = sheet.write_row, sheet.write_number
    for r, row in enumerate(table.rows, start=L.FIRST_DATA_ROW):
        values = [row.get(key) for key in keys]
        write_row(r, 0, values)
        if measures and row.get("unit") == L.PERCENT_UNIT:
            for c in measures:
                if values[c].__class__ is float:
                    write_number(r, c, values[c], percent)


def _block(rows: list[dict], wanted: Callable[[dict], bool]) -> tuple[int, int] | None:
    """First and last sheet row of the contiguous run of rows that match."""
    hits = [i for i, row in enumerate(rows) if wanted(row)]
    if not hits:
        return None
    return hits[0] + L.FIRST_DATA_ROW, hits[-1] + L.FIRST_DATA_ROW


def _distribution_chart(book, sheet, table: SheetTable, rulebook: Rulebook) -> None:
    if not table.rows:
        return
    latest = table.rows[-1]["period"]  # rows are in period order
    span = _block(table.rows, lambda row: row["period"] == latest)
    keys = [c.key for c in table.columns]
    # several departments: two levels of labels (department under team), or every department's 全部 bar
    # would look alike; the 部门 column stands just left of 团队, so the two make one range
    shown = table.rows[span[0] - L.FIRST_DATA_ROW:span[1] - L.FIRST_DATA_ROW + 1]
    two_levels = len({row["department"] for row in shown}) > 1
    first_label = keys.index("department") if two_levels else keys.index("team")
    # the labels' cache (xlsxwriter streams rows, so it cannot read them back): text, and two levels as such
    teams = [str(row["team"] or "") for row in shown]
    labels = [[str(row["department"] or "") for row in shown], teams] if two_levels else teams
    chart = book.add_chart({"type": "column", "subtype": "percent_stacked"})
    for i, band in enumerate(bands_best_first(rulebook)):
        col = keys.index(f"count_{band.grade}")
        chart.add_series({
            "name": f"{band.grade} {band.name_zh}",
            "categories": [table.name, span[0], first_label, span[1], keys.index("team")],
            "categories_data": labels,
            "values": [table.name, span[0], col, span[1], col],
            "fill": {"color": _GRADE_COLOURS[i % len(_GRADE_COLOURS)]},
            "gap": 60,
        })
    chart.set_title({"name": f"{latest} 等级分布 Grade distribution", "name_font": {"size": 12}})
    chart.set_y_axis({"num_format": "0%", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 380})
    sheet.insert_chart(L.FIRST_DATA_ROW, len(keys) + 1, chart)


def chart_height(categories: int) -> int:
    """Pixels for a bar chart of ``categories`` bars (two series each) with every label readable:
    a spreadsheet program drops every other category label once they would overlap."""
    return max(300, 110 + 26 * categories)


def _analysis_charts(book, sheet, table: SheetTable, max_charts: int = 4) -> None:
    if not table.rows:
        return
    latest = table.rows[-1]["period"]
    keys = [c.key for c in table.columns]
    departments = sorted({r["department"] for r in table.rows if r["period"] == latest})
    top_row = L.FIRST_DATA_ROW
    for dept in departments[:max_charts]:
        span = _block(table.rows, lambda row: row["period"] == latest and row["department"] == dept
                      and row["level"] == L.LEVEL_DEPARTMENT and row["kind"] == L.KIND_INDICATOR)
        if span is None:
            continue
        chart = book.add_chart({"type": "bar"})
        categories = [table.name, span[0], keys.index("name"), span[1], keys.index("name")]
        chart.add_series({"name": f"{latest} 本期 current", "categories": categories,
                          "values": [table.name, span[0], keys.index("mean"), span[1], keys.index("mean")],
                          "fill": {"color": "#4F81BD"}})
        chart.add_series({"name": "上期 previous", "categories": categories,
                          "values": [table.name, span[0], keys.index("previous_mean"), span[1],
                                     keys.index("previous_mean")],
                          "fill": {"color": "#BFBFBF"}})
        chart.set_title({"name": f"{dept} 指标平均得分 Mean score by indicator", "name_font": {"size": 12}})
        chart.set_x_axis({"min": 0, "major_gridlines": {"visible": True}})
        # the category axis (y in a bar chart): every label, one per indicator, in the rulebook's order
        chart.set_y_axis({"reverse": True, "interval_unit": 1, "num_font": {"size": 9}})
        chart.set_legend({"position": "bottom"})
        height = chart_height(span[1] - span[0] + 1)
        chart.set_size({"width": 640, "height": height})
        sheet.insert_chart(top_row, len(keys) + 1, chart)
        top_row += math.ceil(height / 20) + 2  # rows are 20 px: the next chart starts below this one


def _hr_inputs(book, sheet, table: SheetTable, rulebook: Rulebook, summary: SheetTable | None) -> None:
    """Dropdowns and validations on the HR columns, reasons highlighted where a decision lacks one."""
    keys = [c.key for c in table.columns]
    periods = ids = setting_rows = None
    if summary is not None and table.name == L.APPEALS:
        periods = sorted({str(r["period"]) for r in summary.rows if r.get("period")}, key=period_sort_key)
        id_col = xl_col_to_name([c.key for c in summary.columns].index("employee_id"))
        ids = f"'{L.SUMMARY}'!${id_col}${L.FIRST_DATA_ROW + 1}:${id_col}${len(summary.rows) + hr_inputs.SPARE_ROWS}"
    if table.name == L.SETTINGS:
        labels = {item.label: item.key for item in L.SETTING_ITEMS}
        setting_rows = [labels.get(str(r.get("item") or ""), "") for r in table.rows]
    hr_inputs.apply(book, sheet, table.name, keys, len(table.rows), rulebook, periods=periods, summary_ids=ids,
                    setting_rows=setting_rows)


def write_tables(path: str | Path, tables: list[SheetTable], meta: dict[str, str], rulebook: Rulebook, *,
                 checkpoint: Callable[[str], None] = lambda point: None) -> None:
    """Write the master's sheets to ``path`` (a new file: the caller makes it atomic)."""
    check_row_limits(tables)
    book = xlsxwriter.Workbook(str(path), {
        "constant_memory": True,          # rows are streamed to disk: memory stays flat
        "strings_to_formulas": False,     # belt and braces: text is never a formula
        "strings_to_numbers": False,
        "strings_to_urls": False,
    })
    fmt = _Formats(book)
    summary = next((t for t in tables if t.name == L.SUMMARY), None)
    for table in tables:
        sheet = book.add_worksheet(table.name)
        _write_table(sheet, table, fmt)
        _hr_inputs(book, sheet, table, rulebook, summary)
        if table.name == L.SUMMARY:
            write_print_sheet(book, table.rows, rulebook)
            checkpoint(f"sheet:{L.PRINT}")
        if table.name == L.DISTRIBUTION:
            _distribution_chart(book, sheet, table, rulebook)
        elif table.name == L.ANALYSIS:
            _analysis_charts(book, sheet, table)
        checkpoint(f"sheet:{table.name}")
    sheet = book.add_worksheet(L.META)
    sheet.set_column(0, 0, 22, fmt.meta_key)
    sheet.set_column(1, 1, 40)
    # kpisheet's own keys first, then any other key a command recorded (e.g. published:<period>)
    keys = list(L.META_KEYS) + sorted(k for k in meta if k not in L.META_KEYS)
    for r, key in enumerate(keys):
        sheet.write_string(r, 0, key)
        sheet.write_string(r, 1, str(meta.get(key, "")))
    sheet.hide()
    book.worksheets()[0].activate()
    book.set_properties({"title": "绩效考核汇总表 Appraisal master", "author": "kpisheet"})
    checkpoint("closing")
    book.close()


def write_master(path: str | Path, data: MasterData, rulebook: Rulebook, *, now: dt.datetime,
                 checkpoint: Callable[[str], None] = lambda point: None,
                 tables: list[SheetTable] | None = None) -> None:
    """Write ``data`` as a complete master at ``path`` (``tables``: its sheets, when already made)."""
    meta = {**data.meta, "kpisheet_version": __version__, "written_at": now.replace(microsecond=0).isoformat(" "),
            "log_rows": str(len(data.rows(L.LOG)))}
    meta.setdefault("created_at", meta["written_at"])
    write_tables(path, master_tables(data, rulebook) if tables is None else tables, meta, rulebook,
                 checkpoint=checkpoint)
