"""The seeded filler: plausible inputs in input cells only, mistakes where the manifest says,
and a workbook design that survives an openpyxl edit and a LibreOffice re-save."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import openpyxl
import pytest

from kpisheet.validators import layout as L
from kpisheet.validators.policy.grading import score_employee
from kpisheet.validators.policy.periods import parse_period
from kpisheet.validators.policy.scoring import indicator_score
from kpisheet.validators.reading.submission import employee_lines, load_team_workbook, number
from kpisheet.workbook_templates.filler import MISTAKES, FillError, fill_team_workbook, make_employees
from kpisheet.workbook_templates.team_workbook import build_team_workbook
from kpisheet.xladdin.kit.libreoffice import recalculate

PERIOD = "2026-Q4"


@pytest.fixture(scope="module")
def blank(tmp_path_factory, rulebook):
    folder = tmp_path_factory.mktemp("blank")
    employees = make_employees(30, seed=11, team="测试一组")
    return build_team_workbook(folder / "team.xlsx", rulebook, PERIOD, "售后服务部", "测试一组", employees)


@pytest.fixture(scope="module")
def filled(blank, tmp_path_factory):
    target = tmp_path_factory.mktemp("filled") / "filled.xlsx"
    manifest = fill_team_workbook(blank, target, seed=7)
    return target, manifest


def test_same_seed_same_workbook_other_seed_other_inputs(blank, tmp_path, filled):
    again = fill_team_workbook(blank, tmp_path / "again.xlsx", seed=7)
    assert again.changes == filled[1].changes
    other = fill_team_workbook(blank, tmp_path / "other.xlsx", seed=8)
    assert other.changes != filled[1].changes


def test_plain_inputs_go_into_unlocked_input_cells_only(blank, filled):
    book = openpyxl.load_workbook(blank)
    manifest = filled[1]
    assert manifest.changes and not manifest.expected_findings()
    for change in manifest.changes:
        cell = book[change.sheet][change.cell]
        assert cell.protection.locked is False, f"{change.sheet}!{change.cell} is locked"
        assert cell.data_type != "f", f"{change.sheet}!{change.cell} held a formula"


def test_inputs_are_plausible(rulebook, filled):
    path, _ = filled
    book = load_team_workbook(path, rulebook)
    period = parse_period(PERIOD)
    comments = rulebook.comments
    top = len(rulebook.scoring.rating_points)
    lines = employee_lines(book)
    scores = {(s.employee_id, s.code): s for s in book.scores}
    vetoes = {L.VETO_NONE} | {v.name_zh for v in rulebook.scoring.vetoes}
    for summary in book.summary:
        emp = summary.employee_id
        goal_rows = book.goal_rows(emp)
        assert sum(number(g.weight) for g in goal_rows) == pytest.approx(100)
        for g in goal_rows:
            ind = rulebook.indicator(g.code)
            assert ind.weight_min <= number(g.weight) <= ind.weight_max
            assert isinstance(g.smart, str) and len(g.smart) > 8
            s = scores[(emp, g.code)]
            assert number(s.self_rating) in range(1, top + 1)
            if ind.is_rating:
                assert number(s.manager) in range(1, top + 1) and s.actual == ""
            else:
                actual = number(s.actual)
                assert actual is not None and actual >= 0
                if ind.unit.value == "percent":
                    assert actual <= 1, f"{s.ref('actual')}: a percent is a fraction"
                if ind.method.value == "deduction":
                    assert actual <= 30
            line = next(x for x in lines[emp] if x.code == g.code)
            score = indicator_score(ind.method, actual=line.actual, floor=line.floor, target=line.target,
                                    challenge=line.challenge, manager=line.manager, cap=rulebook.scoring.cap,
                                    points=rulebook.scoring.rating_points)
            gap = ind.is_rating and abs(number(s.manager) - number(s.self_rating)) >= comments.self_gap
            if score >= comments.extreme_high or score <= comments.extreme_low or gap:
                assert s.comment, f"{s.ref('comment')} needs a comment (score {score}, gap {gap})"
        assert number(summary.commendations) in (0, 1, 2)
        assert summary.veto in vetoes
        for sign, date in ((summary.manager_sign, summary.manager_date), (summary.employee_sign, summary.employee_date)):
            assert isinstance(sign, str) and sign.strip()
            assert period.start <= _day(date) <= period.end + dt.timedelta(days=rulebook.periods.signoff_days_after_end)
        assert summary.employee_sign == summary.name
        assert summary.feedback
        result = score_employee(rulebook, lines[emp], number(summary.commendations), summary.veto)
        assert result.complete
        pip = (summary.pip_shortfalls, summary.pip_actions, summary.pip_owner, summary.pip_due)
        if result.grade in rulebook.outcomes.pip_grades:
            assert all(pip), f"{summary.ref('pip_shortfalls')}: grade {result.grade} needs an improvement plan"
            assert _day(summary.pip_due) > period.end
        else:
            assert not any(pip)


def test_weights_are_sometimes_redistributed_and_targets_adjusted(rulebook, blank, tmp_path):
    manifest = fill_team_workbook(blank, tmp_path / "varied.xlsx", seed=3, redistribute=1.0, vary_targets=1.0)
    book = load_team_workbook(tmp_path / "varied.xlsx", rulebook)
    defaults = {(role.code, code): w for role in rulebook.roles for code, w in role.weights.items()}
    moved = 0
    for emp in {g.employee_id for g in book.goals}:
        rows = book.goal_rows(emp)
        assert sum(number(g.weight) for g in rows) == pytest.approx(100)
        codes = tuple(g.code for g in rows)
        role = next(r.code for r in rulebook.roles if tuple(i.code for i, _ in rulebook.role_indicators(r.code)) == codes)
        moved += any(number(g.weight) != defaults[(role, g.code)] for g in rows)
        for g in rows:
            ind = rulebook.indicator(g.code)
            if ind.floor is not None and ind.challenge is not None:
                lo, hi = sorted((number(g.floor), number(g.challenge)))
                assert lo < number(g.target) < hi
    assert moved >= 20
    assert any(c.cell.startswith(L.col_letter(L.column_index(L.GOAL_COLUMNS, "target"))) for c in manifest.changes)


def test_boundary_values_on_request(rulebook, blank, tmp_path):
    fill_team_workbook(blank, tmp_path / "edges.xlsx", seed=5, boundary=1.0, veto_rate=0.3)
    book = load_team_workbook(tmp_path / "edges.xlsx", rulebook)
    goals = {(g.employee_id, g.code): g for g in book.goals}
    top = len(rulebook.scoring.rating_points)
    hits = Counter()
    for s in book.scores:
        g, ind = goals[(s.employee_id, s.code)], rulebook.indicator(s.code)
        if ind.is_rating:
            assert number(s.manager) in (1, top)
            hits[f"rating {int(number(s.manager))}"] += 1
            continue
        a = number(s.actual)
        for name in ("floor", "target", "challenge"):
            if a == number(getattr(g, name)):
                hits[name] += 1
        if ind.method.value == "deduction" and a > 100:
            hits["deduction over 100"] += 1
        if ind.floor is not None and ind.challenge is not None and (a - number(g.challenge)) * (ind.challenge - ind.floor) > 0:
            hits["beyond challenge"] += 1
    cap = rulebook.scoring.bonus_cap / rulebook.scoring.bonus_per_commendation
    hits["commendations over cap"] = sum(number(s.commendations) > cap for s in book.summary)
    hits["veto"] = sum(s.veto != L.VETO_NONE for s in book.summary)
    for case in ("floor", "target", "challenge", "rating 1", f"rating {top}", "deduction over 100",
                 "beyond challenge", "commendations over cap", "veto"):
        assert hits[case] > 0, f"no {case} among {dict(hits)}"


def test_every_mistake_lands_where_the_manifest_says(rulebook, blank, tmp_path):
    target = tmp_path / "mistakes.xlsx"
    manifest = fill_team_workbook(blank, target, seed=2, mistakes=set(MISTAKES))
    assert {c.mistake for c in manifest.changes if c.mistake} == set(MISTAKES)
    for change in manifest.expected_findings():
        assert change.code == MISTAKES[change.mistake][0]
    book = openpyxl.load_workbook(target)
    last = {(c.sheet, c.cell): c for c in manifest.changes if c.mistake != "delete-row"}
    for (sheet, cell), change in last.items():
        held = book[sheet][cell].value
        held = held.date() if isinstance(held, dt.datetime) else held  # openpyxl reads dates back as datetimes
        assert held == change.value or (held in (None, "") and change.value in (None, "")), \
            f"{change.mistake}: {sheet}!{cell} holds {held!r}, manifest says {change.value!r}"

    by_mistake = {m: [c for c in manifest.changes if c.mistake == m] for m in MISTAKES}
    texts = [c.value for c in by_mistake["text-number"]]
    assert any("%" in t for t in texts) and any(t.startswith("约") for t in texts)
    assert any(t != t.strip() for t in texts) and any("０" <= ch <= "９" for t in texts for ch in t)
    assert {c.value for c in by_mistake["rating-invalid"]} == {6, 3.5}
    assert all(c.value < 0 for c in by_mistake["out-of-range"])
    assert all(c.value > 1 for c in by_mistake["percent-scale"])

    # a comment typed with a leading '=' stays text: never a formula, never evaluated
    for change in by_mistake["formula-injection"]:
        cell = book[change.sheet][change.cell]
        assert cell.data_type == "s" and cell.value == change.value
    values = load_team_workbook(target, rulebook)
    injected = {c.cell: c.value for c in by_mistake["formula-injection"]}
    read = {s.address("comment"): s.comment for s in values.scores if s.address("comment") in injected}
    assert read == injected

    # weights: one employee sums to 90, another keeps 100 with one weight over its maximum
    sums = {}
    for g in values.goals:
        sums[g.employee_id] = sums.get(g.employee_id, 0) + (number(g.weight) or 0)
    weight_sum = by_mistake["weight-sum"][0]
    assert sums[weight_sum.employee_id] == pytest.approx(90)
    weight_range = by_mistake["weight-range"][0]
    assert sums[weight_range.employee_id] == pytest.approx(100)
    assert weight_range.value > rulebook.indicator(weight_range.indicator).weight_max

    assert values.identity.period != PERIOD  # wrong-period edited _meta
    emp_rows = Counter(s.employee_id for s in values.summary)
    assert emp_rows[by_mistake["duplicate-employee"][0].value] == 2


def test_inserted_and_deleted_rows_keep_the_formulas_pointing_at_their_own_rows(rulebook, blank, tmp_path):
    target = tmp_path / "rows.xlsx"
    manifest = fill_team_workbook(blank, target, seed=4, mistakes={"insert-row", "delete-row"})
    original = openpyxl.load_workbook(blank)[L.SCORES]
    sheet = openpyxl.load_workbook(target)[L.SCORES]
    score_col = L.col_letter(L.column_index(L.SCORE_COLUMNS, "score"))
    weighted_col = L.col_letter(L.column_index(L.SCORE_COLUMNS, "weighted"))
    assert sheet.max_row == original.max_row  # one in, one out
    for row in range(L.FIRST_DATA_ROW + 1, sheet.max_row + 1):
        formula = sheet[f"{weighted_col}{row}"].value
        if isinstance(formula, str) and formula.startswith("="):
            assert f"{score_col}{row}" in formula, f"row {row}: {formula}"
    inserted = next(c for c in manifest.changes if c.mistake == "insert-row")
    book = load_team_workbook(target, rulebook)
    stray = [s for s in book.scores if s.address("employee_id") == inserted.cell]
    assert stray and stray[0].code == "" and stray[0].employee_id == inserted.value
    deleted = next(c for c in manifest.changes if c.mistake == "delete-row")
    assert sum(1 for s in book.scores if s.employee_id == deleted.employee_id and s.code == deleted.indicator) == 0


def test_bad_requests_are_refused(blank, tmp_path):
    with pytest.raises(FillError, match="typo"):
        fill_team_workbook(blank, tmp_path / "x.xlsx", seed=1, mistakes={"typo"})
    other = openpyxl.Workbook()
    other.save(tmp_path / "plain.xlsx")
    with pytest.raises(FillError, match=L.META):
        fill_team_workbook(tmp_path / "plain.xlsx", tmp_path / "y.xlsx", seed=1)


# --- the design survives an openpyxl edit and a LibreOffice re-save ------------------


def _design(path) -> dict:
    """What a re-save must keep: validations (per rule, the cells covered), names,
    protection and unlocked cells, sheet visibility, custom properties, print setup,
    and how many conditional formats there are."""
    book = openpyxl.load_workbook(path)
    # the destination, not the text: LibreOffice writes '_lists'!$B$2 as _lists!$B$2
    design = {"names": {name: sorted(dn.destinations) for name, dn in book.defined_names.items()},
              "custom": {p.name: p.value for p in book.custom_doc_props.props}}
    for ws in book.worksheets:
        rules: dict[tuple, set] = {}
        for dv in ws.data_validations.dataValidation:
            between = dv.type not in ("list", "custom") and (dv.operator or "between") in ("between", "notBetween")
            key = (dv.type, dv.operator or "between", _num(dv.formula1), _num(dv.formula2) if between else None,
                   dv.promptTitle, dv.prompt, dv.errorTitle, dv.error, bool(dv.allow_blank),
                   bool(dv.showErrorMessage), bool(dv.showInputMessage), dv.errorStyle or "stop")
            cells = rules.setdefault(key, set())
            for r in dv.sqref.ranges:
                cells.update((row, col) for row in range(r.min_row, r.max_row + 1)
                             for col in range(r.min_col, r.max_col + 1))
        unlocked = {(c.row, c.column) for row in ws.iter_rows() for c in row
                    if c.protection.locked is False and c.has_style}
        design[ws.title] = {
            "validations": rules,
            "protected": bool(ws.protection.sheet),
            "unlocked": unlocked,
            "hidden": ws.sheet_state != "visible",
            "print_titles": ws.print_title_rows,
            "print_area": ws.print_area,
            "conditional_formats": sum(len(cf.rules) for cf in ws.conditional_formatting),
        }
    return design


def _num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def _compare_design(before: dict, after: dict) -> list[str]:
    lost = []
    for key in ("names", "custom"):
        if before[key] != after[key]:
            lost.append(f"{key}: {before[key]} -> {after[key]}")
    for sheet, was in before.items():
        if sheet in ("names", "custom"):
            continue
        now = after.get(sheet)
        if now is None:
            lost.append(f"sheet {sheet} missing")
            continue
        for key, value in was.items():
            if now[key] != value:
                lost.append(f"{sheet}.{key} changed")
    return lost


def test_design_survives_the_openpyxl_fill(blank, filled):
    before, after = _design(blank), _design(filled[0])
    assert before[L.GOALS]["validations"] and before[L.SCORES]["unlocked"]
    assert before[L.META]["hidden"] and before["custom"]
    assert _compare_design(before, after) == []
    assert openpyxl.load_workbook(filled[0])[L.META].sheet_state == "veryHidden"


def test_design_and_identity_survive_a_libreoffice_resave(soffice, rulebook, blank, filled, tmp_path):
    resaved = recalculate(filled[0], tmp_path / "lo")
    before, after = _design(blank), _design(resaved)
    assert _compare_design(before, after) == []
    # LibreOffice turns very hidden into hidden (DESIGN.md section 7): identity must not care
    assert openpyxl.load_workbook(resaved)[L.META].sheet_state in ("hidden", "veryHidden")
    original = load_team_workbook(blank, rulebook).identity
    assert load_team_workbook(resaved, rulebook).identity == original
    custom = {k[len(L.CUSTOM_PROPERTY_PREFIX):]: v for k, v in after["custom"].items()}
    assert custom == {k: original.meta[k] for k in L.CUSTOM_PROPERTY_KEYS}


def _day(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
