"""Calibration against the forced distribution, with the default quotas:
S <= 10%, S+A <= 30% (rounded down), pool under 10, a team of 5 or fewer at most 1 S."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpisheet.validators.policy.calibration import Appraisee, calibrate, eligibility, months_in_post, quota
from kpisheet.validators.policy.grading import grade_for
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.load import default_rulebook

RULES = default_rulebook()


def person(pid, team, total, **extra):
    return Appraisee(pid, team, total, grade_for(RULES, total), **extra)


def filler(team, count, start, total=75.0):
    """``count`` B-grade colleagues, ids from ``start``."""
    return [person(f"{team}-{start + i:02d}", team, total) for i in range(count)]


@pytest.mark.parametrize(("share", "n", "expected"), [
    (0.10, 9, 0), (0.10, 10, 1), (0.10, 19, 1), (0.10, 20, 2),
    (0.30, 10, 3), (0.30, 9, 2), (0.29, 100, 29),   # 0.29 x 100 is 28.999... in binary
    (0.70, 10, 7), (0.0, 50, 0),
])
def test_quota_rounds_down_exactly(share, n, expected):
    assert quota(share, n) == expected


def test_team_of_twelve_is_its_own_group_by_hand():
    # T1 (12 people): S quota floor(1.2) = 1, S+A quota floor(3.6) = 3
    t1 = [person("E01", "T1", 95), person("E02", "T1", 94), person("E03", "T1", 93),
          person("E04", "T1", 85), person("E05", "T1", 84)] + filler("T1", 7, 10)
    # T2 (8 people, pooled): one S at 91
    t2 = [person("F01", "T2", 91)] + filler("T2", 5, 10) + [person("F20", "T2", 65), person("F21", "T2", 55)]
    result = calibrate(RULES, t1 + t2, "售后服务部")
    grades = result.grades
    assert [grades[i] for i in ("E01", "E02", "E03", "E04", "E05")] == ["S", "A", "A", "B", "B"]
    # department of 20: S quota 2, S+A 6; F01 is the second S department-wide and stays
    assert grades["F01"] == "S"
    assert (grades["F20"], grades["F21"]) == ("C", "D")
    moved = [(c.employee_id, c.from_grade, c.to_grade, c.rule, c.group) for c in result.changes]
    assert moved == [
        ("E02", "S", "A", "s_max", "T1"), ("E03", "S", "A", "s_max", "T1"),
        ("E04", "A", "B", "sa_max", "T1"), ("E05", "A", "B", "sa_max", "T1"),
    ]
    assert "10% × 12 人" in result.changes[0].reason_zh and "10% of 12" in result.changes[0].reason_en
    groups = {(g.kind, g.name): g for g in result.groups}
    assert groups[("team", "T1")].counts == {"S": 1, "A": 2, "B": 9, "C": 0, "D": 0}
    assert (groups[("department", "售后服务部")].s_limit, groups[("department", "售后服务部")].sa_limit) == (2, 6)
    assert ("team", "T2") not in groups    # 8 people: pooled, not a group of its own


def test_small_team_gets_at_most_one_s():
    big = filler("BIG", 25, 0)
    small = [person("S1", "SMALL", 95), person("S2", "SMALL", 93), person("S3", "SMALL", 91),
             person("S4", "SMALL", 75), person("S5", "SMALL", 75)]
    result = calibrate(RULES, big + small)
    # department of 30 would allow 3 S, but the team of 5 may have only one
    assert [result.grades[i] for i in ("S1", "S2", "S3")] == ["S", "A", "A"]
    assert {c.rule for c in result.changes} == {"small_team_s_max"}
    assert "小团队" in result.changes[0].reason_zh


def test_small_teams_are_pooled_at_department_level():
    # neither team reaches 10, so their quota is the department's: 13 people -> 1 S, 3 S+A
    team_a = [person("A1", "TA", 92), person("A2", "TA", 91), person("A3", "TA", 85)] + filler("TA", 3, 10)
    team_b = [person("B1", "TB", 93), person("B2", "TB", 84)] + filler("TB", 5, 10)
    result = calibrate(RULES, team_a + team_b, "部门")
    g = result.grades
    assert g["B1"] == "S"                                      # highest total keeps the one S
    assert (g["A1"], g["A2"]) == ("A", "A")                    # S -> A, and within S+A 3
    assert (g["A3"], g["B2"]) == ("B", "B")                    # lowest A's go to B
    assert [q.kind for q in result.groups] == ["department"]
    assert result.groups[0].counts["S"] == 1 and result.groups[0].counts["A"] == 2


def test_ties_are_stable_and_reported():
    people = [person("E03", "T", 95), person("E01", "T", 95), person("E02", "T", 95)] + filler("T", 7, 10)
    result = calibrate(RULES, people)
    assert [result.grades[i] for i in ("E01", "E02", "E03")] == ["S", "A", "A"]   # id order breaks the tie
    tie = next(t for t in result.ties if t.rule == "s_max")
    assert (tie.total, tie.kept, tie.demoted) == (95, ("E01",), ("E02", "E03"))
    assert "并列" in tie.message_zh and "tied" in tie.message_en
    for seed in range(5):
        shuffled = people[:]
        random.Random(seed).shuffle(shuffled)
        assert calibrate(RULES, shuffled) == result


def test_no_tie_reported_without_a_tie():
    result = calibrate(RULES, [person("E01", "T", 96), person("E02", "T", 95)] + filler("T", 8, 10))
    assert result.ties == () and result.grades["E02"] == "A"


def test_override_with_reason_stands_and_counts_against_quota():
    reason = "主导重大项目，客户书面表扬"
    people = [person("E01", "T", 95), person("E05", "T", 85, override_grade="S", override_reason=reason)]
    people += filler("T", 8, 10)
    result = calibrate(RULES, people)
    assert result.grades["E05"] == "S"
    assert result.grades["E01"] == "A"      # the override took the one S slot
    override = result.changes[0]
    assert (override.employee_id, override.from_grade, override.to_grade) == ("E05", "A", "S")
    assert override.rule == "override"
    assert "主导重大项目" in override.reason_zh
    assert next(e for e in result.employees if e.employee_id == "E05").overridden
    assert result.problems == ()


def test_override_without_reason_is_refused():
    people = [person("E01", "T", 95), person("E05", "T", 85, override_grade="S", override_reason="  ")]
    people += filler("T", 8, 10)
    result = calibrate(RULES, people)
    assert result.grades == calibrate(RULES, [dataclasses.replace(p, override_grade=None) for p in people]).grades
    assert result.grades["E05"] == "A" and result.grades["E01"] == "S"
    assert [(p.code, p.employee_id) for p in result.problems] == [("calibration-override-reason", "E05")]
    assert "理由" in result.problems[0].message_zh and "reason" in result.problems[0].message_en


def test_override_without_reason_allowed_when_rulebook_says_so():
    relaxed = RULES.model_copy(update={"distribution": RULES.distribution.model_copy(
        update={"override_needs_reason": False})})
    people = [person("E05", "T", 85, override_grade="S")] + filler("T", 9, 10)
    assert calibrate(relaxed, people).grades["E05"] == "S"


def test_override_to_unknown_grade_is_refused():
    people = [person("E05", "T", 85, override_grade="A+", override_reason="x")] + filler("T", 9, 10)
    result = calibrate(RULES, people)
    assert result.grades["E05"] == "A"
    assert result.problems[0].code == "calibration-override-grade"


def test_overrides_beyond_the_quota_are_flagged_not_undone():
    people = [person(f"E0{i}", "T", 85, override_grade="S", override_reason="理由") for i in (1, 2)]
    people += filler("T", 8, 10)
    result = calibrate(RULES, people)
    assert (result.grades["E01"], result.grades["E02"]) == ("S", "S")
    assert "calibration-quota-unreachable" in {w.code for w in result.warnings}


def test_ineligible_staff_are_excluded_and_keep_their_grade():
    probation = "试用期 / on probation"
    people = [person("E01", "T", 95), person("P1", "T", 97, eligible=False, ineligible_reason=probation),
              person("P2", "T", 96, eligible=False, ineligible_reason=probation)] + filler("T", 8, 10)
    result = calibrate(RULES, people)
    # 9 eligible: S quota floor(0.9) = 0, so E01 goes down; P1, P2 keep S and take no slot
    assert result.grades["E01"] == "A"
    assert (result.grades["P1"], result.grades["P2"]) == ("S", "S")
    marked = {e.employee_id: e for e in result.employees}
    assert not marked["P1"].eligible and marked["P1"].marker == probation
    assert marked["E01"].eligible and marked["E01"].marker == ""
    assert result.groups[0].headcount == 9
    assert "calibration-small-pool" in {w.code for w in result.warnings}


def test_guidance_is_warned_never_forced():
    everyone_b = filler("T", 12, 0)
    result = calibrate(RULES, everyone_b)
    assert result.changes == ()
    assert "calibration-cd-range" in {w.code for w in result.warnings}   # C+D 0% < 5%
    many_low = [person(f"L{i}", "T", 50) for i in range(8)] + filler("T", 4, 10)
    result = calibrate(RULES, many_low)
    assert result.changes == ()
    assert {"calibration-b-min", "calibration-cd-range"} <= {w.code for w in result.warnings}
    assert result.grades["L0"] == "D"


def test_duplicates_and_ungraded_are_reported():
    people = [person("E01", "T", 80), person("E01", "T", 70), Appraisee("E02", "T", None, None)]
    result = calibrate(RULES, people)
    assert [(p.code, p.employee_id) for p in result.problems] == [
        ("calibration-duplicate", "E01"), ("calibration-no-grade", "E02")]
    assert result.grades == {"E02": None}


# ---- properties over random departments ---------------------------------------------------------

@st.composite
def departments(draw):
    teams = draw(st.lists(st.integers(1, 14), min_size=1, max_size=4))
    totals = st.sampled_from([55.0, 62.5, 71.0, 75.0, 79.99, 80.0, 84.5, 88.0, 90.0, 91.5, 95.0, 99.0])
    people = []
    for t, size in enumerate(teams):
        for i in range(size):
            total = draw(totals)
            people.append(Appraisee(f"E{t}{i:02d}", f"T{t}", total, grade_for(RULES, total),
                                    eligible=draw(st.integers(0, 3)) > 0,  # about 1 in 4 ineligible
                                    ineligible_reason="试用期 / on probation"))
    return people


def _rank(grade):
    return [band.grade for band in RULES.grades].index(grade)


@given(departments(), st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None)
def test_quotas_never_exceeded(people, rnd):
    result = calibrate(RULES, people)
    grades = result.grades
    d = RULES.distribution
    pool = [p for p in people if p.eligible]
    teams = {}
    for p in pool:
        teams.setdefault(p.team, []).append(p)
    groups = [pool] + [members for members in teams.values() if len(members) >= d.pool_below]
    for members in groups:
        s = sum(grades[p.employee_id] == "S" for p in members)
        sa = sum(grades[p.employee_id] in ("S", "A") for p in members)
        assert s <= quota(d.s_max, len(members))
        assert sa <= quota(d.sa_max, len(members))
    for members in teams.values():
        if len(members) <= d.small_team_max:
            assert sum(grades[p.employee_id] == "S" for p in members) <= d.small_team_s_max
    for p in people:
        if p.eligible:
            assert _rank(grades[p.employee_id]) >= _rank(p.grade)   # only ever moved down
        else:
            assert grades[p.employee_id] == p.grade
    shuffled = people[:]
    rnd.shuffle(shuffled)
    assert calibrate(RULES, shuffled) == result


@given(departments(), st.data())
@settings(max_examples=150, deadline=None)
def test_overrides_stand_and_quotas_hold_unless_flagged(people, data):
    with_overrides = []
    for p in people:
        if data.draw(st.integers(0, 5)) == 0:
            p = dataclasses.replace(p, override_grade=data.draw(st.sampled_from("SABCD")), override_reason="书面理由")
        with_overrides.append(p)
    result = calibrate(RULES, with_overrides, "DEP")
    grades = result.grades
    for p in with_overrides:
        if p.override_grade:
            assert grades[p.employee_id] == p.override_grade
    flagged = {w.group for w in result.warnings if w.code == "calibration-quota-unreachable"}
    d = RULES.distribution
    pool = [p for p in with_overrides if p.eligible]
    teams = {}
    for p in pool:
        teams.setdefault(p.team, []).append(p)
    groups = {"DEP": pool} | {t: m for t, m in teams.items() if len(m) >= d.pool_below}
    for name, members in groups.items():
        s = sum(grades[p.employee_id] == "S" for p in members)
        sa = sum(grades[p.employee_id] in ("S", "A") for p in members)
        if name not in flagged:
            assert s <= quota(d.s_max, len(members)) and sa <= quota(d.sa_max, len(members))
    for team, members in teams.items():
        if len(members) <= d.small_team_max and team not in flagged:
            assert sum(grades[p.employee_id] == "S" for p in members) <= d.small_team_s_max


# ---- eligibility ---------------------------------------------------------------------------------

def employee(status="正式", post_start=dt.date(2024, 3, 1)):
    return Employee("E01", "张三", "售后服务部", "一组", "engineer", None, dt.date(2024, 3, 1), post_start, status)


@pytest.mark.parametrize(("status", "post_start", "period", "eligible", "reason_part"), [
    ("正式", dt.date(2024, 3, 1), "2026-Q4", True, ""),
    ("试用", dt.date(2026, 9, 1), "2026-Q4", False, "probation"),
    ("长假", dt.date(2020, 1, 1), "2026-Q4", False, "long leave"),
    ("正式", dt.date(2026, 11, 1), "2026-Q4", True, ""),             # Nov 1 - Dec 31: exactly 2 months
    ("正式", dt.date(2026, 11, 2), "2026-Q4", False, "under 2 months"),
    ("正式", dt.date(2027, 1, 5), "2026-Q4", False, "(0)"),          # not yet in post
    ("正式", dt.date(2026, 11, 1), "2026-11", True, ""),             # a whole month of a monthly period
    ("正式", dt.date(2026, 11, 16), "2026-11", False, "under 1 months"),
    ("正式", dt.date(2026, 11, 1), "2026", True, ""),                # a year needs 2 months too: Nov + Dec
    ("正式", dt.date(2026, 11, 2), "2026", False, "under 2 months"),
])
def test_eligibility(status, post_start, period, eligible, reason_part):
    ok, reason = eligibility(employee(status, post_start), period, RULES)
    assert ok is eligible
    assert (reason_part in reason) if reason_part else reason == ""
    if not ok:
        assert "不参与强制分布" in reason


@pytest.mark.parametrize(("post_start", "period", "months"), [
    (dt.date(2026, 10, 1), "2026-Q4", 3),
    (dt.date(2020, 10, 1), "2026-Q4", 3),
    (dt.date(2026, 10, 31), "2026-Q4", 2),
    (dt.date(2026, 12, 31), "2026-Q4", 0),
    (dt.date(2026, 1, 31), "2026-Q1", 2),
])
def test_months_in_post(post_start, period, months):
    assert months_in_post(post_start, period) == months
