"""The team workbook writer: layout, identity, formulas, validations, formatting, protection, privacy."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpisheet.validators import layout as L
from kpisheet.validators.policy.periods import PeriodError
from kpisheet.validators.roster import Employee, read_roster, teams
from kpisheet.validators.rulebook.model import Method, Unit
from kpisheet.validators.reading.submission import load_team_workbook
from kpisheet.workbook_templates import formulas
from kpisheet.workbook_templates import lists_sheet as names
from kpisheet.workbook_templates.plan import TeamPlanError
from kpisheet.workbook_templates.team_workbook import build_team_workbook, team_file_name
from tests.support.paths import REPO_ROOT

ROSTER = REPO_ROOT / "samples" / "roster.xlsx"
GOAL = {c.key: i + 1 for i, c in enumerate(L.GOAL_COLUMNS)}  # 1-based, as openpyxl counts
SCORE = {c.key: i + 1 for i, c in enumerate(L.SCORE_COLUMNS)}


def person(employee_id: str, name: str, role: str, team: str = "测试组") -> Employee:
    day = dt.date(2020, 1, 1)
    return Employee(employee_id, name, "售后服务部", team, role, None, day, day, "正式")


PEOPLE = [person("T001", "张三", "engineer"), person("T002", "李四", "cs"), person("T003", "王五", "ts")]


@pytest.fixture(scope="module")
def built(tmp_path_factory, rulebook) -> Path:
    path = tmp_path_factory.mktemp("wb") / "team.xlsx"
    return build_team_workbook(path, rulebook, "2026-Q4", "售后服务部", "测试组", PEOPLE)


@pytest.fixture(scope="module")
def book(built):
    return openpyxl.load_workbook(built)


def summary_col(rulebook, key: str) -> int:
    return L.column_index(L.summary_columns(rulebook), key) + 1


# --- layout and identity ------------------------------------------------------


def test_sheets_in_layout_order_with_visibility(book):
    assert tuple(book.sheetnames) == L.SHEET_ORDER
    states = {ws.title: ws.sheet_state for ws in book.worksheets}
    assert states[L.META] == "veryHidden"
    assert states[L.LISTS] == "hidden"
    assert all(states[s] == "visible" for s in (L.GUIDE, L.GOALS, L.SCORES, L.SUMMARY, L.PERSONAL))


def test_headers_follow_the_layout(book, rulebook):
    for sheet, columns in ((L.GOALS, L.GOAL_COLUMNS), (L.SCORES, L.SCORE_COLUMNS),
                           (L.SUMMARY, L.summary_columns(rulebook))):
        ws = book[sheet]
        assert [ws.cell(L.HEADER_ROW + 1, i + 1).value for i in range(len(columns))] == [c.header for c in columns]


def test_goal_and_score_rows_are_each_role_s_indicators_in_the_same_order(book, rulebook):
    goals, scores = book[L.GOALS], book[L.SCORES]
    row = L.FIRST_DATA_ROW + 1
    for emp in PEOPLE:
        for ind, weight in rulebook.role_indicators(emp.role):
            for ws, col in ((goals, GOAL), (scores, SCORE)):
                assert ws.cell(row, col["employee_id"]).value == emp.employee_id
                assert ws.cell(row, col["code"]).value == ind.code
            assert goals.cell(row, GOAL["weight"]).value == weight
            for key in ("floor", "target", "challenge"):
                expected = getattr(ind, key) if ind.method in (Method.higher_better, Method.lower_better) or (
                    ind.method is Method.count and key == "target") else None
                assert goals.cell(row, GOAL[key]).value == expected, (ind.code, key)
            row += 1
    assert goals.cell(row, GOAL["employee_id"]).value is None  # nothing after the last employee


def test_meta_identity_row_map_and_custom_properties(built, book, rulebook):
    ws = book[L.META]
    meta = {ws.cell(i + 1, 1).value: ws.cell(i + 1, 2).value for i in range(len(L.META_KEYS))}
    assert tuple(meta) == L.META_KEYS
    assert meta["template_id"] == L.TEMPLATE_ID and meta["template_version"] == L.TEMPLATE_VERSION
    assert (meta["period"], meta["department"], meta["team"]) == ("2026-Q4", "售后服务部", "测试组")
    assert meta["rulebook_fingerprint"] == rulebook.fingerprint()
    assert re.fullmatch(r"kpisheet \d+\.\d+\.\d+", meta["generated_by"])
    header = len(L.META_KEYS) + 1
    assert tuple(ws.cell(header, c + 1).value for c in range(4)) == L.META_ROWMAP_HEADER
    row_map, first = [], L.FIRST_DATA_ROW
    for k, emp in enumerate(PEOPLE):
        codes = [ind.code for ind, _ in rulebook.role_indicators(emp.role)]
        line = [ws.cell(header + 1 + k, c + 1).value for c in range(4)]
        assert line == [emp.employee_id, L.FIRST_DATA_ROW + k, first, ",".join(codes)]
        row_map.append((emp.employee_id, L.FIRST_DATA_ROW + k, first, codes))
        first += len(codes)
    assert meta["structure_fingerprint"] == L.structure_fingerprint(rulebook.fingerprint(), row_map)
    props = {p.name: p.value for p in book.custom_doc_props.props}
    for key in L.CUSTOM_PROPERTY_KEYS:
        assert props[L.CUSTOM_PROPERTY_PREFIX + key] == meta[key]


def test_the_reader_maps_a_fresh_workbook_back(built, rulebook):
    wb = load_team_workbook(built, rulebook)
    assert [e.employee_id for e in wb.identity.row_map] == [p.employee_id for p in PEOPLE]
    assert [s.employee_id for s in wb.summary] == [p.employee_id for p in PEOPLE]
    assert len(wb.goals) == len(wb.scores) == sum(len(rulebook.role_indicators(p.role)) for p in PEOPLE)
    assert {s.veto for s in wb.summary} == {L.VETO_NONE}


def test_team_file_name_sorts_by_period_department_team():
    assert team_file_name("2026年第4季度", "售后服务部", "华东工程一组") == "2026-Q4_售后服务部_华东工程一组.xlsx"
    assert team_file_name("2026-11", "售后/服务部", 'a:b*"c') == "2026-11_售后-服务部_a-b-c.xlsx"
    names_sorted = sorted(team_file_name(p, "D", t) for p, t in (("2026-Q4", "b"), ("2026-Q3", "z"), ("2026-Q4", "a")))
    assert names_sorted == ["2026-Q3_D_z.xlsx", "2026-Q4_D_a.xlsx", "2026-Q4_D_b.xlsx"]


def test_bad_period_and_unknown_role_are_refused(tmp_path, rulebook):
    with pytest.raises(PeriodError):
        build_team_workbook(tmp_path / "x.xlsx", rulebook, "2026-Q5", "D", "T", PEOPLE)
    with pytest.raises(TeamPlanError, match="不在规则表中"):
        build_team_workbook(tmp_path / "x.xlsx", rulebook, "2026-Q4", "D", "T", [person("X1", "某", "pilot")])
    with pytest.raises(TeamPlanError, match="工号重复"):
        build_team_workbook(tmp_path / "x.xlsx", rulebook, "2026-Q4", "D", "T", PEOPLE + PEOPLE[:1])


# --- formulas -----------------------------------------------------------------


def all_formulas(book) -> list[tuple[str, str, str]]:
    return [(ws.title, cell.coordinate, cell.value) for ws in book.worksheets for row in ws.iter_rows()
            for cell in row if isinstance(cell.value, str) and cell.value.startswith("=")]


def test_only_functions_every_spreadsheet_program_has(book):
    found = set()
    for _, _, text in all_formulas(book):
        found |= set(re.findall(r"([A-Z][A-Z0-9.]*)\(", re.sub(r'"[^"]*"', '""', text)))
    assert found, "no formulas found"
    assert found <= formulas.ALLOWED_FUNCTIONS, found - formulas.ALLOWED_FUNCTIONS
    assert not found & {"LET", "LAMBDA", "XLOOKUP", "FILTER", "IFS", "SWITCH", "UNIQUE", "SORT", "TEXTJOIN"}


def test_no_rulebook_number_is_typed_into_a_scoring_formula(book, rulebook):
    """Caps, points, grade minimums and coefficients come from named cells."""
    scores = book[L.SCORES]
    texts = [scores.cell(r, SCORE["score"]).value for r in range(L.FIRST_DATA_ROW + 1, scores.max_row + 1)]
    texts += [book[L.SUMMARY].cell(L.FIRST_DATA_ROW + 1, summary_col(rulebook, k)).value
              for k in ("bonus", "total", "grade", "coefficient")]
    assert all(texts)
    # 0, 1 and 100 are structure (bounds, percent scale), not rulebook numbers
    typed = {f"{rulebook.scoring.cap:g}", f"{rulebook.scoring.bonus_cap:g}"} | {
        f"{b.coefficient:g}" for b in rulebook.grades} | {f"{b.min:g}" for b in rulebook.grades if b.min}
    for text in texts:
        numbers = set(re.findall(r"(?<![A-Z$\d.])\d+(?:\.\d+)?", re.sub(r"\$?[A-Z]{1,3}\$?\d+", "", text)))
        assert not numbers & (typed - {"0", "1", "100"}), (text, numbers & typed)


def test_score_formulas_follow_each_method(book, rulebook):
    scores = book[L.SCORES]
    seen = set()
    for r in range(L.FIRST_DATA_ROW + 1, scores.max_row + 1):
        code = scores.cell(r, SCORE["code"]).value
        if not code:
            continue
        ind = rulebook.indicator(code)
        text = scores.cell(r, SCORE["score"]).value
        actual, manager = f"L{r}", f"N{r}"
        assert text.startswith("=IF(OR(")
        assert "ROUND(" in text and names.DECIMALS in text
        if ind.method is Method.rating:
            assert f"INDEX({names.RATING_POINTS},{manager})" in text and actual not in text
        elif ind.method is Method.deduction:
            assert f"MAX(0,100-{actual})" in text and names.CAP not in text
        else:
            assert f"MIN({names.CAP},MAX(0," in text and actual in text
        weight = scores.cell(r, SCORE["weight"]).value
        assert weight == f"=IF('{L.GOALS}'!I{r}=\"\",\"\",'{L.GOALS}'!I{r})"
        seen.add(ind.method)
    assert seen == {Method.higher_better, Method.lower_better, Method.count, Method.deduction, Method.rating}


def test_named_cells_hold_the_rulebook_values(book, rulebook):
    def value(name):
        dest = list(book.defined_names[name].destinations)
        sheet, ref = dest[0]
        cells = book[sheet][ref.replace("$", "")]
        if isinstance(cells, tuple):
            return [row[0].value for row in cells]
        return cells.value

    assert value(names.CAP) == rulebook.scoring.cap
    assert value(names.RATING_POINTS) == rulebook.scoring.rating_points
    bands = sorted(rulebook.grades, key=lambda b: b.min)
    assert value(names.GRADE_MINS) == [b.min for b in bands]
    assert value(names.GRADE_LETTERS) == [b.grade for b in bands]
    assert value(names.GRADE_COEFFS) == [b.coefficient for b in bands]
    assert value(names.VETO_OPTIONS) == [L.VETO_NONE] + [v.name_zh for v in rulebook.scoring.vetoes]
    assert value(names.EMPLOYEE_IDS) == [p.employee_id for p in PEOPLE]
    assert value(names.EXTREME_HIGH) == rulebook.comments.extreme_high
    assert value(names.S_MAX) == rulebook.distribution.s_max


def test_cached_results_are_what_is_known(built, rulebook):
    """LibreOffice shows cached results unrecalculated: copies of known values are
    cached, results of empty inputs are "" (never xlsxwriter's default 0)."""
    wb = load_team_workbook(built, rulebook)
    assert all(s.score == "" and s.weighted == "" for s in wb.scores)
    assert all(s.total == "" and s.grade == "" and s.bonus == 0 for s in wb.summary)
    values = openpyxl.load_workbook(built, data_only=True)
    scores, goals = values[L.SCORES], values[L.GOALS]
    for r in range(L.FIRST_DATA_ROW + 1, scores.max_row + 1):
        assert scores.cell(r, SCORE["weight"]).value == goals.cell(r, GOAL["weight"]).value
        assert goals.cell(r, GOAL["weight_sum"]).value == 100
    form = values[L.PERSONAL]
    shown = {c.value for row in form.iter_rows() for c in row}
    assert PEOPLE[0].name in shown and "客户满意度" in shown


# --- inputs: validation, formatting, protection ---------------------------------


def validations(ws) -> list:
    return list(ws.data_validations.dataValidation)


def covering(ws, coordinate: str):
    return [dv for dv in validations(ws) if coordinate in dv.sqref]


def test_every_input_cell_is_unlocked_validated_and_prompted(book, rulebook):
    columns = {L.GOALS: L.GOAL_COLUMNS, L.SCORES: L.SCORE_COLUMNS, L.SUMMARY: L.summary_columns(rulebook)}
    checked = 0
    for sheet, cols in columns.items():
        ws = book[sheet]
        last = L.FIRST_DATA_ROW + (len(PEOPLE) if sheet == L.SUMMARY else
                                   sum(len(rulebook.role_indicators(p.role)) for p in PEOPLE))
        for r in range(L.FIRST_DATA_ROW + 1, last + 1):
            for c, column in enumerate(cols, start=1):
                cell = ws.cell(r, c)
                if cell.protection.locked:
                    continue
                assert column.input, f"{sheet}!{cell.coordinate} is unlocked but not an input column"
                rules = covering(ws, cell.coordinate)
                assert len(rules) == 1, f"{sheet}!{cell.coordinate} has {len(rules)} validations"
                assert rules[0].prompt and rules[0].error and rules[0].showErrorMessage
                assert re.search(r"[\u4e00-\u9fff]", rules[0].prompt)
                checked += 1
        assert ws.protection.sheet and not ws.protection.password
    assert checked > 100


def test_locked_and_open_cells_follow_the_rules(book, rulebook):
    goals, scores = book[L.GOALS], book[L.SCORES]
    for r in range(L.FIRST_DATA_ROW + 1, scores.max_row + 1):
        ind = rulebook.indicator(scores.cell(r, SCORE["code"]).value)
        assert not goals.cell(r, GOAL["weight"]).protection.locked
        assert goals.cell(r, GOAL["employee_id"]).protection.locked
        assert goals.cell(r, GOAL["target"]).protection.locked is not (
            ind.editable_targets and ind.method in (Method.higher_better, Method.lower_better, Method.count))
        assert scores.cell(r, SCORE["actual"]).protection.locked is ind.is_rating
        assert scores.cell(r, SCORE["manager"]).protection.locked is not ind.is_rating
        assert not scores.cell(r, SCORE["self"]).protection.locked
        assert scores.cell(r, SCORE["score"]).protection.locked
        assert scores.cell(r, SCORE["weight"]).protection.locked


def test_validation_limits_come_from_the_rulebook(book, rulebook):
    goals, scores = book[L.GOALS], book[L.SCORES]
    row = L.FIRST_DATA_ROW + 1
    ind = rulebook.indicator(goals.cell(row, GOAL["code"]).value)
    (weight,) = covering(goals, goals.cell(row, GOAL["weight"]).coordinate)
    assert (weight.type, float(weight.formula1), float(weight.formula2)) == ("decimal", ind.weight_min,
                                                                               ind.weight_max)
    for r in range(L.FIRST_DATA_ROW + 1, scores.max_row + 1):
        ind = rulebook.indicator(scores.cell(r, SCORE["code"]).value)
        if ind.is_rating:
            (rule,) = covering(scores, scores.cell(r, SCORE["manager"]).coordinate)
            assert (rule.type, rule.formula1, rule.formula2) == ("whole", "1", str(len(rulebook.scoring.rating_points)))
        elif ind.unit is Unit.percent:
            (rule,) = covering(scores, scores.cell(r, SCORE["actual"]).coordinate)
            assert (rule.type, float(rule.formula1), float(rule.formula2)) == ("decimal", 0, 1)
            assert "95%" in rule.prompt
        elif ind.method is Method.deduction:
            (rule,) = covering(scores, scores.cell(r, SCORE["actual"]).coordinate)
            assert all(f"{i.name_zh} -{i.points:g}" in rule.prompt for i in ind.incidents)
    summary = book[L.SUMMARY]
    (veto,) = covering(summary, summary.cell(L.FIRST_DATA_ROW + 1, summary_col(rulebook, "veto")).coordinate)
    assert (veto.type, veto.formula1) == ("list", names.VETO_OPTIONS)  # a defined name, not an inline list
    (date,) = covering(summary, summary.cell(L.FIRST_DATA_ROW + 1, summary_col(rulebook, "manager_date")).coordinate)
    serial = lambda day: str((day - dt.date(1899, 12, 30)).days)  # noqa: E731
    end = dt.date(2026, 12, 31) + dt.timedelta(days=rulebook.periods.signoff_days_after_end)
    assert (date.type, date.formula1, date.formula2) == ("date", serial(dt.date(2026, 10, 1)), serial(end))
    (pick,) = validations(book[L.PERSONAL])
    assert (pick.type, pick.formula1) == ("list", names.EMPLOYEE_IDS)


def cf_rules(ws) -> list[tuple[str, object]]:
    return [(str(rng.sqref), rule) for rng in ws.conditional_formatting for rule in rng.rules]


def test_conditional_formats_for_missing_sums_percent_scale_and_comments(book):
    goals, scores = book[L.GOALS], book[L.SCORES]
    goal_rules = cf_rules(goals)
    sum_col = openpyxl.utils.get_column_letter(GOAL["weight_sum"])
    assert any(sqref.startswith(sum_col) and "<>100" in rule.formula[0] for sqref, rule in goal_rules
               if rule.type == "expression")
    assert any(rule.type == "containsBlanks" and sqref.startswith("I") for sqref, rule in goal_rules)
    score_rules = cf_rules(scores)
    actual = openpyxl.utils.get_column_letter(SCORE["actual"])
    assert any(sqref.startswith(actual) and f"{actual}" in rule.formula[0] and ">1" in rule.formula[0]
               for sqref, rule in score_rules if rule.type == "expression")
    comment = openpyxl.utils.get_column_letter(SCORE["comment"])
    extreme = [rule for sqref, rule in score_rules if sqref.startswith(comment) and rule.type == "expression"]
    assert extreme and all(names.EXTREME_HIGH in r.formula[0] and names.SELF_GAP in r.formula[0] for r in extreme)


def test_print_setup_is_a4_landscape_with_repeated_headers(book):
    for sheet in (L.GUIDE, L.GOALS, L.SCORES, L.SUMMARY, L.PERSONAL):
        ws = book[sheet]
        assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape", sheet
    for sheet in (L.GOALS, L.SCORES, L.SUMMARY):
        assert book[sheet].print_title_rows == f"${L.HEADER_ROW + 1}:${L.HEADER_ROW + 1}"
        assert book[sheet].freeze_panes == f"C{L.FIRST_DATA_ROW + 1}"
    assert book[L.PERSONAL].print_area


def test_guide_states_the_rules_from_the_rulebook(book, rulebook):
    text = "\n".join(str(c.value) for row in book[L.GUIDE].iter_rows() for c in row if c.value is not None)
    assert "2026年第4季度" in text and "2026-10-01 至 2026-12-31" in text
    for ind in rulebook.indicators:
        for incident in ind.incidents:
            assert f"{incident.name_zh} -{incident.points:g} 分/次" in text
        for anchor in ind.anchors_zh:
            assert anchor in text
    for band in rulebook.grades:
        assert band.name_zh in text
    assert f"{rulebook.distribution.s_max:.0%}" in text and f"{rulebook.scoring.cap:g} 分" in text
    assert "黄色" in text and "绿色" in text


def test_guide_follows_a_changed_rulebook(tmp_path, rulebook):
    changed = rulebook.model_copy(update={"scoring": rulebook.scoring.model_copy(update={"cap": 130,
                                                                                          "bonus_cap": 7})})
    path = build_team_workbook(tmp_path / "c.xlsx", changed, "2026-11", "售后服务部", "测试组", PEOPLE[:1])
    book = openpyxl.load_workbook(path)
    text = "\n".join(str(c.value) for row in book[L.GUIDE].iter_rows() for c in row if c.value is not None)
    assert "130 分" in text and "最多 7 分" in text and "2026年11月" in text


# --- privacy ------------------------------------------------------------------


def test_a_team_workbook_holds_no_other_team_s_people(tmp_path, rulebook):
    everyone = read_roster(ROSTER, rulebook)
    groups = teams(everyone)
    (dept, team), members = next(iter(groups.items()))
    path = build_team_workbook(tmp_path / "t.xlsx", rulebook, "2026-Q4", dept, team, members)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    assert any("sharedStrings" in name for name in parts) and any("sheet7" in name for name in parts)
    text = "\n".join(parts.values())
    own = {m.employee_id for m in members} | {m.name for m in members}
    assert own <= {s for s in own if s in text}, "the scan must see the team's own people"
    others = [e for e in everyone if (e.department, e.team) != (dept, team)]
    assert others
    leaked = [f"{e.employee_id} {e.name}" for e in others if e.employee_id in text or e.name in text]
    assert not leaked
