"""Reading a team workbook's cells into plain records, without judging them.

The reader maps cell values to fields by :mod:`kpisheet.validators.layout` and keeps
every raw value as the file holds it ('' for an empty cell, floats for
numbers, text exactly as typed), so that validation can say what is wrong and
where (each record knows its row; ``ref(key)`` gives ``sheet!A1``). It never
checks a value: that is validation's job. It only refuses a file whose
``_meta`` or sheets are missing, because without them nothing maps.

Rows are read as they stand on the sheet (not where ``_meta`` says they should
be), so that an inserted or deleted row shows up as a difference between the
two instead of being papered over.

This sits on the validation hot path: one small record per sheet row, no
per-cell objects, addresses made only when asked for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterable, Sequence

from kpisheet.validators.policy.grading import IndicatorLine
from kpisheet.validators.layout import (
    FIRST_DATA_ROW, GOAL_COLUMNS, GOALS, META, META_KEYS, META_ROWMAP_HEADER, META_SIGNATURE_COLUMN,
    META_SIGNATURE_LABEL, META_SIGNATURE_ROW, SCORE_COLUMNS, SCORES, SUMMARY, a1, summary_columns,
)
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.errors import KpisheetError
from kpisheet.validators.names import clean_text

Raw = Any  # a cell value as python-calamine returns it: '' | float | int | str | bool | date | datetime | time

REQUIRED_SHEETS = (GOALS, SCORES, SUMMARY, META)


class NotATeamWorkbook(KpisheetError):
    """The file cannot be read as a kpisheet team workbook; the messages say why."""

    code = "not-a-team-workbook"
    title_zh, title_en = "不是考核表", "not a team workbook"
    description = "The file lacks a sheet or a _meta entry every kpisheet team workbook has."

    def __init__(self, source: str, message_zh: str, message_en: str):
        self.source = source
        super().__init__(message_zh, message_en)


# --- records -----------------------------------------------------------------


class _Located:
    """Mixin: a record of one sheet row that can name the cell behind each field."""

    __slots__ = ()
    SHEET: ClassVar[str]
    row: int  # 0-based sheet row

    def _column(self, key: str) -> int:
        raise NotImplementedError

    def address(self, key: str) -> str:
        """The A1 address of this row's ``key`` cell, e.g. 'I5'."""
        return a1(self.row, self._column(key))

    def ref(self, key: str) -> str:
        """'目标设定!I5': sheet and cell, as findings report them."""
        return f"{self.SHEET}!{self.address(key)}"


_GOAL_COL = {c.key: i for i, c in enumerate(GOAL_COLUMNS)}
_SCORE_COL = {c.key: i for i, c in enumerate(SCORE_COLUMNS)}
# 考核评分 shows these goal-sheet cells of the same row through formulas
COPIED_FROM_GOALS = ("weight", "floor", "target", "challenge")


@dataclass(frozen=True, slots=True)
class RowMapEntry:
    """One employee as ``_meta`` says the writer laid them out (rows 0-based)."""

    employee_id: str
    summary_row: int
    first_row: int
    codes: tuple[str, ...]
    meta_row: int  # where this entry sits on _meta, for reporting

    @property
    def rows(self) -> range:
        """The employee's rows on the goals and scores sheets."""
        return range(self.first_row, self.first_row + len(self.codes))


@dataclass(frozen=True, slots=True)
class Identity:
    """Who and what the workbook is for, from ``_meta`` (values as text)."""

    meta: dict[str, str]
    row_map: tuple[RowMapEntry, ...]
    signature: str = ""  # HR's signature, "" when the workbook has none (see kpisheet.validators.signature)

    @property
    def template_id(self) -> str:
        return self.meta.get("template_id", "")

    @property
    def template_version(self) -> str:
        return self.meta.get("template_version", "")

    @property
    def period(self) -> str:
        return self.meta.get("period", "")

    @property
    def department(self) -> str:
        return self.meta.get("department", "")

    @property
    def team(self) -> str:
        return self.meta.get("team", "")

    @property
    def rulebook_fingerprint(self) -> str:
        return self.meta.get("rulebook_fingerprint", "")

    @property
    def structure_fingerprint(self) -> str:
        return self.meta.get("structure_fingerprint", "")

    def row_map_tuples(self) -> list[tuple[str, int, int, list[str]]]:
        """The row map in the shape :func:`kpisheet.validators.layout.structure_fingerprint` takes."""
        return [(e.employee_id, e.summary_row, e.first_row, list(e.codes)) for e in self.row_map]


@dataclass(frozen=True, slots=True)
class GoalRow(_Located):
    """目标设定: one employee x indicator row; inputs are raw cell values."""

    SHEET: ClassVar[str] = GOALS
    row: int
    employee_id: str
    code: str
    weight: Raw
    floor: Raw
    target: Raw
    challenge: Raw
    smart: Raw

    def _column(self, key: str) -> int:
        return _GOAL_COL[key]


@dataclass(frozen=True, slots=True)
class ScoreRow(_Located):
    """考核评分: inputs (actual, self, manager, comment) and the cached score/weighted."""

    SHEET: ClassVar[str] = SCORES
    row: int
    employee_id: str
    code: str
    actual: Raw
    self_rating: Raw
    manager: Raw
    comment: Raw
    score: Raw  # cached formula result: trust nothing, compare only
    weighted: Raw
    # the goals sheet's weight and targets as this sheet's formulas copy them (cached, compare only)
    copies: dict[str, Raw] = field(default_factory=dict, repr=False, compare=False)

    def _column(self, key: str) -> int:
        # the layout calls the self-rating column "self"
        return _SCORE_COL["self" if key == "self_rating" else key]


@dataclass(frozen=True, slots=True)
class SummaryRow(_Located):
    """汇总: one employee; inputs, sign-off and PIP fields raw, cached results raw."""

    SHEET: ClassVar[str] = SUMMARY
    row: int
    employee_id: str
    name: Raw
    role: Raw
    subtotals: dict[str, Raw]  # category code -> cached subtotal
    commendations: Raw
    bonus: Raw
    veto: Raw
    total: Raw
    grade: Raw
    coefficient: Raw
    rank: Raw
    manager_sign: Raw
    manager_date: Raw
    employee_sign: Raw
    employee_date: Raw
    feedback: Raw
    pip_shortfalls: Raw
    pip_actions: Raw
    pip_owner: Raw
    pip_due: Raw
    columns: dict[str, int] = field(repr=False, compare=False)  # key -> column index, by this rulebook

    def _column(self, key: str) -> int:
        return self.columns[key]  # layout keys, e.g. "total", "subtotal_results"


@dataclass(frozen=True, slots=True)
class TeamWorkbook:
    source: str
    identity: Identity
    goals: tuple[GoalRow, ...]
    scores: tuple[ScoreRow, ...]
    summary: tuple[SummaryRow, ...]

    def goal_rows(self, employee_id: str) -> list[GoalRow]:
        return [g for g in self.goals if g.employee_id == employee_id]

    def score_rows(self, employee_id: str) -> list[ScoreRow]:
        return [s for s in self.scores if s.employee_id == employee_id]


# --- reading -----------------------------------------------------------------


def sheet_values(path: str | Path, sheets: Iterable[str] = REQUIRED_SHEETS) -> dict[str, list[list]]:
    """The cell values of the named sheets (those present), after the pre-read guard.

    Rows and columns start at A1, so indices match the layout. A file the
    guard refuses raises :class:`kpisheet.validators.reading.safe_read.FileRefused`.
    """
    from kpisheet.validators.reading.safe_read import read_values

    return read_values(path, sheets)


def load_team_workbook(path: str | Path, rulebook: Rulebook) -> TeamWorkbook:
    """Read a team workbook file: :func:`sheet_values` then :func:`read_team_workbook`."""
    return read_team_workbook(sheet_values(path), source=str(path), rulebook=rulebook)


def read_team_workbook(values: dict[str, list[list]], *, source: str, rulebook: Rulebook) -> TeamWorkbook:
    """Map the cell values of every sheet (sheet name -> rows, from A1) to records.

    ``rulebook`` only decides the summary's subtotal columns (one per category);
    nothing is checked against it here.
    """
    missing = [name for name in REQUIRED_SHEETS if name not in values]
    if missing:
        names = "、".join(missing)
        raise NotATeamWorkbook(source, f"缺少工作表：{names}（不是考核表，或工作表被删除/改名）",
                               f"missing sheet(s): {', '.join(missing)} (not a kpisheet team workbook, "
                               "or sheets were deleted or renamed)")
    identity = read_identity(values[META], source=source)
    return TeamWorkbook(
        source=source,
        identity=identity,
        goals=tuple(_goal_rows(values[GOALS])),
        scores=tuple(_score_rows(values[SCORES])),
        summary=tuple(_summary_rows(values[SUMMARY], {c.key: i for i, c in enumerate(summary_columns(rulebook))})),
    )


def read_identity(rows: list[list], *, source: str) -> Identity:
    """``_meta``: META_KEYS in column A with values in B, then the row map."""
    meta: dict[str, str] = {}
    for i, key in enumerate(META_KEYS):
        found = _text(_cell(rows, i, 0))
        if found != key:
            raise NotATeamWorkbook(
                source,
                f"_meta!A{i + 1} 应为“{key}”，实际为“{found}”（隐藏的标识表缺失或被改动）",
                f"_meta!A{i + 1} should read '{key}' but holds '{found}' (the hidden identity sheet "
                "is missing or was altered)")
        meta[key] = _text(_cell(rows, i, 1))
    header_row = len(META_KEYS)
    header = tuple(_text(_cell(rows, header_row, c)) for c in range(len(META_ROWMAP_HEADER)))
    if header != META_ROWMAP_HEADER:
        raise NotATeamWorkbook(
            source, f"_meta!A{header_row + 1} 行映射表头被改动：{'|'.join(header)}",
            f"_meta!A{header_row + 1}: the row-map header was altered: {'|'.join(header)}")
    row_map = []
    for r in range(header_row + 1, len(rows)):
        line = rows[r]
        employee_id = _text(_cell(rows, r, 0))
        if not employee_id:
            continue
        summary_row, first_row = _whole(_cell(rows, r, 1)), _whole(_cell(rows, r, 2))
        if summary_row is None or first_row is None:
            raise NotATeamWorkbook(
                source, f"_meta!B{r + 1}:C{r + 1} 行映射不是整数：{line[1:3]}",
                f"_meta!B{r + 1}:C{r + 1}: the row map does not hold whole numbers: {line[1:3]}")
        codes = tuple(c for c in _text(_cell(rows, r, 3)).split(",") if c)
        row_map.append(RowMapEntry(employee_id, summary_row, first_row, codes, r))
    labelled = _text(_cell(rows, META_SIGNATURE_ROW, META_SIGNATURE_COLUMN - 1)) == META_SIGNATURE_LABEL
    signature = _text(_cell(rows, META_SIGNATURE_ROW, META_SIGNATURE_COLUMN)) if labelled else ""
    return Identity(meta, tuple(row_map), signature)


def _goal_rows(rows: list[list]) -> Iterable[GoalRow]:
    emp, code = _GOAL_COL["employee_id"], _GOAL_COL["code"]
    weight, floor, target = _GOAL_COL["weight"], _GOAL_COL["floor"], _GOAL_COL["target"]
    challenge, smart = _GOAL_COL["challenge"], _GOAL_COL["smart"]
    width = len(GOAL_COLUMNS)
    for r in range(FIRST_DATA_ROW, len(rows)):
        v = _padded(rows[r], width)
        if v[emp] == "" and v[code] == "":
            continue
        yield GoalRow(r, _text(v[emp]), _text(v[code]), v[weight], v[floor], v[target], v[challenge], v[smart])


def _score_rows(rows: list[list]) -> Iterable[ScoreRow]:
    c = _SCORE_COL
    emp, code, actual, own, mgr = c["employee_id"], c["code"], c["actual"], c["self"], c["manager"]
    comment, score, weighted = c["comment"], c["score"], c["weighted"]
    copied = [(key, c[key]) for key in COPIED_FROM_GOALS]
    width = len(SCORE_COLUMNS)
    for r in range(FIRST_DATA_ROW, len(rows)):
        v = _padded(rows[r], width)
        if v[emp] == "" and v[code] == "":
            continue
        yield ScoreRow(r, _text(v[emp]), _text(v[code]), v[actual], v[own], v[mgr], v[comment], v[score], v[weighted],
                       {key: v[i] for key, i in copied})


_SUMMARY_FIELDS = ("name", "role", "commendations", "bonus", "veto", "total", "grade", "coefficient", "rank",
                   "manager_sign", "manager_date", "employee_sign", "employee_date", "feedback",
                   "pip_shortfalls", "pip_actions", "pip_owner", "pip_due")


def _summary_rows(rows: list[list], columns: dict[str, int]) -> Iterable[SummaryRow]:
    emp = columns["employee_id"]
    subtotal_cols = {key[len("subtotal_"):]: i for key, i in columns.items() if key.startswith("subtotal_")}
    field_cols = [columns[name] for name in _SUMMARY_FIELDS]
    width = len(columns)
    for r in range(FIRST_DATA_ROW, len(rows)):
        v = _padded(rows[r], width)
        if v[emp] == "":
            continue
        fields = dict(zip(_SUMMARY_FIELDS, (v[i] for i in field_cols)))
        yield SummaryRow(row=r, employee_id=_text(v[emp]),
                         subtotals={code: v[i] for code, i in subtotal_cols.items()},
                         columns=columns, **fields)


# --- values ------------------------------------------------------------------


def number(raw: Raw) -> float | None:
    """A numeric cell as float; anything else (text, empty, date, bool) is None.

    Text that looks like a number ("95", "９５", "95%") is deliberately None:
    validation reports it as text where a number belongs.
    """
    kind = raw.__class__  # exact types: bool is an int subclass, and this runs for every input cell
    if kind is float:
        return raw
    if kind is int:
        return float(raw)
    return None


def to_indicator_lines(goals: Sequence[GoalRow], scores: Sequence[ScoreRow]) -> list[IndicatorLine]:
    """Scoring inputs for one employee (or any rows): goals joined to scores by indicator code.

    Goal rows drive the result, in their order; a goal row without a score row
    (a deleted row) gets empty score inputs, which the engine reports missing.
    """
    by_code: dict[tuple[str, str], ScoreRow] = {}
    for s in scores:
        by_code.setdefault((s.employee_id, s.code), s)
    lines = []
    for g in goals:
        s = by_code.get((g.employee_id, g.code))
        lines.append(IndicatorLine(
            code=g.code,
            weight=number(g.weight),
            actual=number(s.actual) if s else None,
            floor=number(g.floor),
            target=number(g.target),
            challenge=number(g.challenge),
            self_rating=number(s.self_rating) if s else None,
            manager=number(s.manager) if s else None,
        ))
    return lines


def employee_lines(book: TeamWorkbook) -> dict[str, list[IndicatorLine]]:
    """Indicator lines per employee id, employees in goals-sheet order."""
    goals: dict[str, list[GoalRow]] = {}
    for g in book.goals:
        goals.setdefault(g.employee_id, []).append(g)
    scores: dict[str, list[ScoreRow]] = {}
    for s in book.scores:
        scores.setdefault(s.employee_id, []).append(s)
    return {emp: to_indicator_lines(rows, scores.get(emp, [])) for emp, rows in goals.items()}


def _text(raw: Raw) -> str:
    """A key cell as text: whole floats lose their '.0' (an ID typed as 1001 reads '1001'); invisible
    characters removed as the roster reader removes them (:func:`kpisheet.validators.names.clean_text`)."""
    if isinstance(raw, str):
        return raw if raw.isprintable() else clean_text(raw)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, (dt.date, dt.time)):
        return raw.isoformat()
    return str(raw)


def _whole(raw: Raw) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)) and float(raw).is_integer():
        return int(raw)
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


def _cell(rows: list[list], r: int, c: int) -> Raw:
    if r < len(rows) and c < len(rows[r]):
        return rows[r][c]
    return ""


def _padded(row: list, width: int) -> list:
    # calamine trims trailing empty cells only at the sheet's right edge, but a
    # hand-made or re-saved file may hold shorter rows
    return row if len(row) >= width else row + [""] * (width - len(row))
