"""score- checks on 考核评分 and 汇总, each at its cell; cached results compared, never used."""

from __future__ import annotations

import pytest

import tests.support.validate_support as S
from tests.support.validate_support import book, only
from kpisheet.validators import layout as L
from kpisheet.validators.policy.outcomes import recompute
from kpisheet.validators.rulebook.load import default_rulebook


def score_row(values, code, employee=None):
    return next(s for s in book(values).scores if s.code == code and (employee is None or s.employee_id == employee))


def finding_at(report, cell):
    return next(f for f in report.findings if f.cell == cell)


@pytest.mark.parametrize("typed, probable", [("９５", "0.95 (95%)"), ("95%", "0.95 (95%)"), ("约90", "0.9 (90%)"),
                                              (" 0.93 ", "0.93 (93%)")])
def test_text_in_a_percent_actual(values, props, typed, probable):
    row = score_row(values, "CSAT", "SH0014")
    S.put(values, L.SCORES, row.address("actual"), typed)
    report = S.run(values, props)
    assert only(report, "score-not-number") == {(L.SCORES, row.address("actual"))}
    finding = finding_at(report, row.address("actual"))
    assert finding.value == typed and finding.expected == probable
    assert finding.employee_id == "SH0014" and finding.indicator == "CSAT"


def test_text_in_a_duration_and_in_a_rating(values, props):
    hours = score_row(values, "ENG_MTTR", "SH0016")
    rating = score_row(values, "COMP_SKILL", "SH0016")
    S.put(values, L.SCORES, hours.address("actual"), "约5")
    S.put(values, L.SCORES, rating.address("manager"), "４")
    report = S.run(values, props)
    assert only(report, "score-not-number") == {(L.SCORES, hours.address("actual")),
                                                (L.SCORES, rating.address("manager"))}
    assert finding_at(report, hours.address("actual")).expected == "5"


def test_95_typed_for_95_percent(values, props):
    row = score_row(values, "ENG_FIX_RATE", "SH0011")
    S.put(values, L.SCORES, row.address("actual"), 95)
    report = S.run(values, props)
    assert only(report, "score-percent-scale") == {(L.SCORES, row.address("actual"))}
    assert finding_at(report, row.address("actual")).expected == "0.95 (95%)"


def test_one_slip_one_error_with_its_consequence_on_the_same_finding(values, props):
    """95 typed for 95%: one error at the 实际值, saying what the score would be; no comment demanded
    for the extreme score the slip made (ENG_FIX_RATE read as 95 scores the cap)."""
    row = score_row(values, "ENG_FIX_RATE", "SH0011")
    S.put(values, L.SCORES, row.address("actual"), 95)
    S.put(values, L.SCORES, row.address("comment"), "")
    report = S.run(values, props)
    mine = [f for f in report.findings if f.employee_id == "SH0011" and f.indicator == "ENG_FIX_RATE"]
    assert [(f.code, f.cell) for f in mine] == [("score-percent-scale", row.address("actual"))]
    assert "按此值计算，该指标得分为 120（不低于极高分线 110" in mine[0].message_zh
    assert "Read as typed, the indicator scores 120 (at or above the extreme-high line 110" in mine[0].message_en
    # corrected to a real extreme, the comment rule applies again
    goal = next(g for g in book(values).goals if (g.employee_id, g.code) == (row.employee_id, row.code))
    S.put(values, L.SCORES, row.address("actual"), goal.challenge)
    assert only(S.run(values, props), "score-comment-required") == {(L.SCORES, row.address("comment"))}


@pytest.mark.parametrize("key, zh", [("target", "目标值"), ("challenge", "挑战值")])
def test_a_target_slip_is_one_error_too(values, props, key, zh):
    """A target typed 95 for 95%: one error at the goal cell, named as the target it is (not 实际值),
    and no comment demanded on 考核评分 for the score the slip made."""
    goal = next(g for g in book(values).goals if g.code == "ENG_FIX_RATE" and g.employee_id == "SH0011")
    row = score_row(values, "ENG_FIX_RATE", "SH0011")
    S.put(values, L.GOALS, goal.address(key), getattr(goal, key) * 100)
    S.put(values, L.SCORES, row.address("actual"), goal.target)  # a real score of 100
    S.put(values, L.SCORES, row.address("comment"), "")
    report = S.run(values, props)
    mine = [f for f in report.findings if f.employee_id == "SH0011" and f.indicator == "ENG_FIX_RATE"]
    assert [(f.code, f.sheet, f.cell) for f in mine] == [("score-percent-scale", L.GOALS, goal.address(key))]
    assert mine[0].message_zh.startswith(f"{L.GOALS}!{goal.address(key)}：员工 SH0011 ")
    assert f"的{zh}为 {getattr(goal, key) * 100:g}" in mine[0].message_zh
    if key == "challenge":  # floor < target < challenge still holds: the engine scores it, and the note says how
        assert "按此值计算，该指标得分为 100。" in mine[0].message_zh
    else:  # target above challenge: no score can be drawn, so none is claimed
        assert "按此值计算" not in mine[0].message_zh


def test_a_finding_names_the_employee_and_the_indicator(values, props):
    row = score_row(values, "CSAT", "SH0014")
    name = next(s.name for s in book(values).summary if s.employee_id == "SH0014")
    S.put(values, L.SCORES, row.address("actual"), "")
    finding = finding_at(S.run(values, props), row.address("actual"))
    assert f"员工 SH0014 {name} 的指标 客户满意度（CSAT）未填写实际值" in finding.message_zh
    assert f"employee SH0014 {name}'s Customer satisfaction (CSAT) has no actual value" in finding.message_en
    assert (finding.employee_name, finding.indicator_name) == (name, "客户满意度")


def test_the_reverse_slip_where_it_is_plausible(values, props):
    row = score_row(values, "ENG_FIX_RATE", "SH0011")  # floor 80%
    S.put(values, L.SCORES, row.address("actual"), 0.0093)
    report = S.run(values, props)
    assert only(report, "score-percent-scale") == {(L.SCORES, row.address("actual"))}
    assert finding_at(report, row.address("actual")).expected == "0.93 (93%)"


def test_a_tiny_complaint_rate_is_not_a_scale_slip(values, props):
    row = score_row(values, "CS_COMPLAINT")  # lower better, target 0.5%
    S.put(values, L.SCORES, row.address("actual"), 0.004)
    report = S.run(values, props)
    assert not only(report, "score-percent-scale") and not only(report, "score-out-of-range")


@pytest.mark.parametrize("code, value, expected", [
    ("ENG_MTTR", -2.0, "0–800"), ("DISC", -1.0, "0–1000"), ("CSAT", 150.0, "0%–100%"), ("CSAT", -0.1, "0%–100%"),
    ("ENG_MTTR", 1e12, "0–800"), ("CSAT", 1.35, "0%–100%"), ("DISC", 1001.0, "0–1000")])
def test_values_out_of_range(values, props, code, value, expected):
    row = score_row(values, code)
    S.put(values, L.SCORES, row.address("actual"), value)
    report = S.run(values, props)
    assert only(report, "score-out-of-range") == {(L.SCORES, row.address("actual"))}
    assert finding_at(report, row.address("actual")).expected == expected


@pytest.mark.parametrize("key, value", [("manager", 6), ("manager", 3.5), ("manager", 0), ("self_rating", 7),
                                        ("manager", "优")])
def test_invalid_ratings(values, props, key, value):
    row = score_row(values, "COMP_SOLVE", "SH0019")
    S.put(values, L.SCORES, row.address(key), value)
    report = S.run(values, props)
    assert (L.SCORES, row.address(key)) in only(report, "score-rating-invalid")
    assert finding_at(report, row.address(key)).expected == "1, 2, 3, 4, 5"


@pytest.mark.parametrize("code, key", [("CSAT", "actual"), ("DISC", "actual"), ("COMP_COMM", "manager")])
def test_missing_inputs_name_the_cell(values, props, code, key):
    row = score_row(values, code)
    S.put(values, L.SCORES, row.address(key), "")
    report = S.run(values, props)
    assert only(report, "score-missing") == {(L.SCORES, row.address(key))}
    assert next(e for e in report.employees if e.employee_id == row.employee_id).total is None


def test_the_self_rating_is_optional_unless_it_is_weighted(values, props):
    row = score_row(values, "COMP_SKILL", "SH0011")
    S.put(values, L.SCORES, row.address("self_rating"), "")
    assert not only(S.run(S.fresh(values), props), "score-missing")
    rb = default_rulebook()
    weighted = rb.model_copy(update={"scoring": rb.scoring.model_copy(update={"self_weight": 0.2})})
    report = S.run(values, props, rb=weighted)
    assert (L.SCORES, row.address("self_rating")) in only(report, "score-missing")


def test_an_extreme_score_needs_a_comment(values, props):
    row = score_row(values, "ENG_RESP", "SH0020")
    goal = next(g for g in book(values).goals if (g.employee_id, g.code) == (row.employee_id, row.code))
    S.put(values, L.SCORES, row.address("actual"), goal.challenge)  # the cap: 120
    S.put(values, L.SCORES, row.address("comment"), "")
    report = S.run(values, props)
    assert only(report, "score-comment-required") == {(L.SCORES, row.address("comment"))}
    assert "120" in finding_at(report, row.address("comment")).message_zh


@pytest.mark.parametrize("manager, words_zh, words_en", [
    (2, "得分 40，不高于极低分线 40", "scores 40, at or below the extreme-low line 40"),  # exactly on the line
])
def test_the_boundary_is_worded_as_the_rule_compares(values, props, manager, words_zh, words_en):
    """The rule is score ≤ the low line: 40 against a line of 40 is "not above", never "below"."""
    row = score_row(values, "COMP_SOLVE", "SH0021")
    S.put(values, L.SCORES, row.address("manager"), manager)  # rating 2 -> 40 points
    S.put(values, L.SCORES, row.address("self_rating"), manager)
    S.put(values, L.SCORES, row.address("comment"), "")
    finding = finding_at(S.run(values, props), row.address("comment"))
    assert words_zh in finding.message_zh and "低于极低分线" not in finding.message_zh
    assert words_en in finding.message_en


def test_a_self_manager_gap_over_the_threshold_needs_a_comment(values, props):
    row = score_row(values, "COMP_SOLVE", "SH0021")
    S.put(values, L.SCORES, row.address("manager"), 4)  # 80 points: not extreme
    S.put(values, L.SCORES, row.address("self_rating"), 1)
    S.put(values, L.SCORES, row.address("comment"), "")
    report = S.run(S.fresh(values), props)
    assert only(report, "score-comment-required") == {(L.SCORES, row.address("comment"))}
    assert "相差 3" in finding_at(report, row.address("comment")).message_zh
    S.put(values, L.SCORES, row.address("self_rating"), 2)  # a gap of 2 is not over 2
    assert not only(S.run(values, props), "score-comment-required")


def test_a_comment_satisfies_the_rule(values, props):
    row = score_row(values, "COMP_SOLVE", "SH0021")
    S.put(values, L.SCORES, row.address("manager"), 1)
    S.put(values, L.SCORES, row.address("self_rating"), 5)
    S.put(values, L.SCORES, row.address("comment"), "已面谈")
    assert not only(S.run(values, props), "score-comment-required")


def test_summary_inputs(values, props):
    summary = book(values).summary[1]
    S.put(values, L.SUMMARY, summary.address("commendations"), -1)
    S.put(values, L.SUMMARY, summary.address("veto"), "迟到太多")
    report = S.run(values, props)
    assert only(report, "score-out-of-range") == {(L.SUMMARY, summary.address("commendations")),
                                                  (L.SUMMARY, summary.address("veto"))}
    veto = finding_at(report, summary.address("veto"))
    assert veto.indicator is None and f"员工 {summary.employee_id} {summary.name} 的一票否决为" in veto.message_zh


def _put_results(values, cached):
    """Write Python's own results into the formula cells, as a spreadsheet program caches them."""
    rb = default_rulebook()
    b = book(values)
    results = recompute(b, rb)
    for s in b.scores:
        line = results[s.employee_id].lines[s.code]
        S.put(values, L.SCORES, s.address("score"), line.score)
        S.put(values, L.SCORES, s.address("weighted"), line.weighted)
    for s in b.summary:
        r = results[s.employee_id].result
        for code, value in r.subtotals.items():
            S.put(values, L.SUMMARY, s.address(f"subtotal_{code}"), value)
        for key in ("bonus", "total", "grade", "coefficient"):
            S.put(values, L.SUMMARY, s.address(key), getattr(r, key))
    return b, results


def test_correct_cached_results_pass(values, props):
    _put_results(values, True)
    assert S.run(values, props, calculated=True).findings == ()


def test_an_overwritten_total_is_reported_at_its_cell(values, props):
    b, results = _put_results(values, True)
    summary = b.summary[3]
    S.put(values, L.SUMMARY, summary.address("total"), 95)
    # the grade and coefficient formulas follow the typed total, as after a recalculation
    band = next(b for b in default_rulebook().grades if b.min <= 95)
    S.put(values, L.SUMMARY, summary.address("grade"), band.grade)
    S.put(values, L.SUMMARY, summary.address("coefficient"), band.coefficient)
    report = S.run(values, props, calculated=True)
    assert only(report, "score-total-mismatch") == {(L.SUMMARY, summary.address("total"))}
    finding = finding_at(report, summary.address("total"))
    assert finding.value == 95 and finding.expected == results[summary.employee_id].result.total


def test_an_overwritten_score_is_reported_once_not_at_every_total_after_it(values, props):
    b, results = _put_results(values, True)
    row = next(s for s in b.scores if s.code == "ENG_FTFR")
    goal = next(g for g in b.goals if (g.employee_id, g.code) == (row.employee_id, row.code))
    true_score = results[row.employee_id].lines[row.code].score
    fake = 100 if true_score != 100 else 90
    # as after a recalculation: the weighted score, subtotal and total follow the typed score
    S.put(values, L.SCORES, row.address("score"), fake)
    delta = (fake - true_score) * goal.weight / 100
    S.put(values, L.SCORES, row.address("weighted"), fake * goal.weight / 100)
    summary = next(s for s in b.summary if s.employee_id == row.employee_id)
    S.put(values, L.SUMMARY, summary.address("subtotal_results"),
          round(results[row.employee_id].result.subtotals["results"] + delta, 2))
    new_total = round(results[row.employee_id].result.total + delta, 2)
    S.put(values, L.SUMMARY, summary.address("total"), new_total)
    from kpisheet.validators.policy.grading import coefficient_for, grade_for

    grade = grade_for(default_rulebook(), new_total)
    S.put(values, L.SUMMARY, summary.address("grade"), grade)
    S.put(values, L.SUMMARY, summary.address("coefficient"), coefficient_for(default_rulebook(), grade))
    report = S.run(values, props, calculated=True)
    assert only(report, "score-total-mismatch") == {(L.SCORES, row.address("score"))}


def test_a_wrong_grade_and_coefficient(values, props):
    b, results = _put_results(values, True)
    summary = b.summary[0]
    grade = results[summary.employee_id].result.grade
    typed = "S" if grade != "S" else "A"
    S.put(values, L.SUMMARY, summary.address("grade"), typed)
    # the coefficient formula follows the typed grade, as it would after a recalculation
    S.put(values, L.SUMMARY, summary.address("coefficient"), default_rulebook().grade_band(typed).coefficient)
    report = S.run(values, props, calculated=True)
    assert only(report, "score-total-mismatch") == {(L.SUMMARY, summary.address("grade"))}


def test_placeholder_zeros_of_an_uncalculated_file_are_not_compared(values, props):
    b = book(values)
    for s in b.summary:
        S.put(values, L.SUMMARY, s.address("total"), 0)
    assert not only(S.run(S.fresh(values), props, calculated=False), "score-total-mismatch")
    report = S.run(values, props, calculated=True)
    assert only(report, "score-total-mismatch") == {(L.SUMMARY, s.address("total")) for s in b.summary}


def test_a_constant_in_an_uncalculated_file_is_compared(values, props):
    summary = book(values).summary[4]
    S.put(values, L.SUMMARY, summary.address("total"), 95)
    report = S.run(values, props, calculated=False)
    assert only(report, "score-total-mismatch") == {(L.SUMMARY, summary.address("total"))}
