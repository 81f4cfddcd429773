"""The team-workbook reader: cells to records by the layout, nothing trusted, nothing judged."""

from __future__ import annotations

import datetime as dt

import pytest

from kpisheet.validators import layout as L
from kpisheet.validators.policy.grading import IndicatorLine, score_employee
from kpisheet.validators.reading.submission import (
    NotATeamWorkbook, employee_lines, number, read_identity, read_team_workbook, to_indicator_lines,
)

GOAL = {c.key: i for i, c in enumerate(L.GOAL_COLUMNS)}
SCORE = {c.key: i for i, c in enumerate(L.SCORE_COLUMNS)}


def _grid(rows: int, cols: int) -> list[list]:
    return [[""] * cols for _ in range(rows)]


def _values(rulebook, people: dict[str, str]) -> dict[str, list[list]]:
    """Cell values laid out as the writer lays them out, for employees {id: role code}.

    Trailing empties are trimmed per row, as python-calamine's short rows can be.
    """
    summary_cols = {c.key: i for i, c in enumerate(L.summary_columns(rulebook))}
    n_lines = sum(len(rulebook.role_indicators(role)) for role in people.values())
    goals = _grid(L.FIRST_DATA_ROW + n_lines, len(L.GOAL_COLUMNS))
    scores = _grid(L.FIRST_DATA_ROW + n_lines, len(L.SCORE_COLUMNS))
    summary = _grid(L.FIRST_DATA_ROW + len(people), len(summary_cols))
    meta = [[key, f"value of {key}"] for key in L.META_KEYS] + [list(L.META_ROWMAP_HEADER)]
    row = L.FIRST_DATA_ROW
    for k, (emp, role) in enumerate(people.items()):
        pairs = rulebook.role_indicators(role)
        meta.append([emp, float(L.FIRST_DATA_ROW + k), float(row), ",".join(i.code for i, _ in pairs)])
        srow = summary[L.FIRST_DATA_ROW + k]
        srow[summary_cols["employee_id"]] = emp
        srow[summary_cols["commendations"]] = 2.0
        srow[summary_cols["total"]] = 88.5
        srow[summary_cols["manager_date"]] = dt.date(2026, 12, 28)
        for ind, weight in pairs:
            g, s = goals[row], scores[row]
            g[GOAL["employee_id"]] = s[SCORE["employee_id"]] = emp
            g[GOAL["code"]] = s[SCORE["code"]] = ind.code
            g[GOAL["weight"]] = float(weight)
            if ind.target is not None:
                g[GOAL["target"]] = ind.target
            if ind.floor is not None:
                g[GOAL["floor"]] = ind.floor
                g[GOAL["challenge"]] = ind.challenge
            if ind.is_rating:
                s[SCORE["manager"]] = 4.0
            else:
                s[SCORE["actual"]] = ind.target if ind.target is not None else 0.0  # no deduction
            s[SCORE["self"]] = 3.0
            s[SCORE["score"]] = 100.0
            row += 1
    trim = lambda grid: [r[: max((i + 1 for i, v in enumerate(r) if v != ""), default=0)] for r in grid]
    return {L.GOALS: trim(goals), L.SCORES: trim(scores), L.SUMMARY: trim(summary), L.META: meta,
            L.GUIDE: [["说明"]]}


PEOPLE = {"E001": "engineer", "E002": "cs", "E003": "ts"}


def test_rows_map_to_fields_with_addresses(rulebook):
    book = read_team_workbook(_values(rulebook, PEOPLE), source="t.xlsx", rulebook=rulebook)
    expected_lines = sum(len(rulebook.role_indicators(r)) for r in PEOPLE.values())
    assert len(book.goals) == len(book.scores) == expected_lines
    assert [s.employee_id for s in book.summary] == list(PEOPLE)

    first = book.goals[0]
    assert (first.employee_id, first.code, first.weight) == ("E001", "CSAT", 10.0)
    assert first.row == L.FIRST_DATA_ROW
    assert first.ref("weight") == f"{L.GOALS}!I{L.FIRST_DATA_ROW + 1}"
    assert first.ref("smart") == f"{L.GOALS}!M{L.FIRST_DATA_ROW + 1}"
    assert first.smart == ""  # empty stays '' (raw), not None

    rating_row = next(s for s in book.scores if s.code == "COMP_SKILL")
    assert rating_row.manager == 4.0 and rating_row.actual == ""
    assert rating_row.ref("manager") == f"{L.SCORES}!N{rating_row.row + 1}"
    assert rating_row.ref("self_rating") == f"{L.SCORES}!M{rating_row.row + 1}"

    s = book.summary[1]
    assert (s.employee_id, s.commendations, s.total) == ("E002", 2.0, 88.5)
    assert s.manager_date == dt.date(2026, 12, 28)
    assert set(s.subtotals) == {c.code for c in rulebook.categories}
    # the commendations column comes after one subtotal column per category
    assert s.address("commendations") == L.a1(s.row, 3 + len(rulebook.categories))
    assert s.ref("subtotal_results") == f"{L.SUMMARY}!D{s.row + 1}"


def test_identity_and_row_map(rulebook):
    book = read_team_workbook(_values(rulebook, PEOPLE), source="t.xlsx", rulebook=rulebook)
    ident = book.identity
    assert ident.period == "value of period" and ident.team == "value of team"
    assert list(ident.meta) == list(L.META_KEYS)
    assert [e.employee_id for e in ident.row_map] == list(PEOPLE)
    e2 = ident.row_map[1]
    assert e2.summary_row == L.FIRST_DATA_ROW + 1
    assert e2.first_row == L.FIRST_DATA_ROW + len(rulebook.role_indicators("engineer"))
    assert e2.codes == tuple(i.code for i, _ in rulebook.role_indicators("cs"))
    assert [book.goals[r - L.FIRST_DATA_ROW].employee_id for r in e2.rows] == ["E002"] * len(e2.codes)
    assert ident.row_map_tuples()[0][0] == "E001"


def test_raw_values_are_kept_untrusted(rulebook):
    values = _values(rulebook, PEOPLE)
    row = values[L.SCORES][L.FIRST_DATA_ROW]
    row += [""] * (len(L.SCORE_COLUMNS) - len(row))
    row[SCORE["actual"]] = "９５"
    row[SCORE["comment"]] = '=HYPERLINK("http://x","y")'
    goals = values[L.GOALS][L.FIRST_DATA_ROW]
    goals[GOAL["weight"]] = " 10 "
    book = read_team_workbook(values, source="t.xlsx", rulebook=rulebook)
    assert book.scores[0].actual == "９５"
    assert book.scores[0].comment == '=HYPERLINK("http://x","y")'
    assert book.goals[0].weight == " 10 "
    line = to_indicator_lines(book.goal_rows("E001"), book.score_rows("E001"))[0]
    assert line.actual is None and line.weight is None  # text never becomes a number here


def test_inserted_and_deleted_rows_are_read_where_they_stand(rulebook):
    values = _values(rulebook, PEOPLE)
    goals = values[L.GOALS]
    stray = [""] * len(L.GOAL_COLUMNS)
    stray[GOAL["employee_id"]], stray[GOAL["code"]] = "E001", "EXTRA"
    goals.insert(L.FIRST_DATA_ROW + 2, stray)
    goals.insert(L.FIRST_DATA_ROW + 3, [])  # a blank inserted row is skipped, not read as a record
    del values[L.SCORES][L.FIRST_DATA_ROW + 1]
    book = read_team_workbook(values, source="t.xlsx", rulebook=rulebook)
    assert book.goals[2].code == "EXTRA" and book.goals[2].row == L.FIRST_DATA_ROW + 2
    assert book.goals[3].row == L.FIRST_DATA_ROW + 4
    n = sum(len(rulebook.role_indicators(r)) for r in PEOPLE.values())
    assert (len(book.goals), len(book.scores)) == (n + 1, n - 1)
    # row map still says where rows should be; the difference is validation's finding
    assert book.identity.row_map[1].first_row == L.FIRST_DATA_ROW + len(rulebook.role_indicators("engineer"))


def test_short_rows_and_sparse_summary(rulebook):
    values = _values(rulebook, PEOPLE)
    values[L.SUMMARY][L.FIRST_DATA_ROW] = ["E001"]
    book = read_team_workbook(values, source="t.xlsx", rulebook=rulebook)
    s = book.summary[0]
    assert s.employee_id == "E001" and s.total == "" and s.pip_due == ""
    assert all(v == "" for v in s.subtotals.values())


@pytest.mark.parametrize("sheet", [L.GOALS, L.SCORES, L.SUMMARY, L.META])
def test_missing_sheet_is_not_a_team_workbook(rulebook, sheet):
    values = _values(rulebook, PEOPLE)
    del values[sheet]
    with pytest.raises(NotATeamWorkbook) as caught:
        read_team_workbook(values, source="x.xlsx", rulebook=rulebook)
    assert sheet in caught.value.message_zh and sheet in caught.value.message_en
    assert caught.value.source == "x.xlsx"


def test_altered_meta_is_not_a_team_workbook(rulebook):
    values = _values(rulebook, PEOPLE)
    values[L.META][2][0] = "periode"
    with pytest.raises(NotATeamWorkbook, match=r"_meta!A3"):
        read_team_workbook(values, source="x.xlsx", rulebook=rulebook)

    values = _values(rulebook, PEOPLE)
    values[L.META][len(L.META_KEYS) + 1][2] = "row five"
    with pytest.raises(NotATeamWorkbook, match=r"_meta!B\d+:C\d+"):
        read_team_workbook(values, source="x.xlsx", rulebook=rulebook)

    with pytest.raises(NotATeamWorkbook):
        read_identity([], source="empty")


def test_meta_values_read_as_text_whatever_the_cell_type():
    rows = [[key, ""] for key in L.META_KEYS] + [list(L.META_ROWMAP_HEADER), [1001.0, 3.0, "3", "CSAT,DISC"]]
    rows[1][1] = 1.0  # template_version typed as a number comes back as 1.0
    ident = read_identity(rows, source="m")
    assert ident.template_version == "1"
    assert ident.row_map[0].employee_id == "1001"
    assert (ident.row_map[0].summary_row, ident.row_map[0].first_row) == (3, 3)
    assert ident.row_map[0].codes == ("CSAT", "DISC")


def test_number_only_accepts_numeric_cells():
    assert number(95.0) == 95.0 and number(3) == 3.0
    for raw in ("", "95", "95%", "９５", True, dt.date(2026, 1, 1), None):
        assert number(raw) is None


def test_indicator_lines_feed_the_engine(rulebook):
    book = read_team_workbook(_values(rulebook, PEOPLE), source="t.xlsx", rulebook=rulebook)
    lines = employee_lines(book)
    assert list(lines) == list(PEOPLE)
    eng = lines["E001"]
    assert eng[0] == IndicatorLine(code="CSAT", weight=10.0, actual=0.95, floor=0.80, target=0.95,
                                   challenge=1.0, self_rating=3.0, manager=None)
    # every quantitative actual sits on its target, every rating is 4 (80 points)
    result = score_employee(rulebook, eng)
    assert result.complete
    expected = sum((80 if i.is_rating else 100) * w for i, w in rulebook.role_indicators("engineer")) / 100
    assert result.total == pytest.approx(expected)


def test_indicator_lines_join_by_code_and_tolerate_a_missing_score_row(rulebook):
    book = read_team_workbook(_values(rulebook, PEOPLE), source="t.xlsx", rulebook=rulebook)
    goals = book.goal_rows("E002")
    scores = list(reversed(book.score_rows("E002")))[:-1]  # order must not matter; the first row lost
    lines = to_indicator_lines(goals, scores)
    assert [line.code for line in lines] == [g.code for g in goals]
    assert lines[0].actual is None and lines[0].manager is None and lines[0].self_rating is None
    assert all(line.actual is not None or line.manager is not None for line in lines[1:])
