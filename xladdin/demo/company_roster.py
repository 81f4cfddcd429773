"""The example company's roster, seeded: samples/company/roster.xlsx, the company demo's input, and the bench's.

    write_company_roster(path)                      about 280 people in three departments
    write_company_roster(path, employees=100_000)   the same departments grown to any size

The after-sales department is the very one of ``samples/roster.xlsx`` (same
people, IDs and special cases); 销售部 and 研发中心 are made-up examples with
their own roles (their rulebooks are in ``samples/company/departments``).
Each department has a head who leads one team in person and to whom the
other team leads report; like the after-sales one, each example department
holds the cases an appraisal must handle at 2026-Q4: a probation hire, a
hire one month before the period end, someone on long leave and someone who
moved post during the quarter. In 研发中心 that move is 2.5 months before the
end: enough for the company's two months in post, not for the three months
研发中心 sets for itself, so the demo shows the override at work.

Grown to ``employees``, each example department's team pattern repeats with
numbered team names until the department has its share (after-sales 20%,
sales 30%, R&D 50%), at about 12 people a team, as the bench's corpus has
(100,000 people make about 8,000 team workbooks). Names then repeat, as
they do in a real company of that size; IDs never do.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from kpisheet.xladdin.demo.sample_roster import (
    DEPARTMENT as AFTERSALES, GIVEN_FEMALE, GIVEN_MALE, SEED as AFTERSALES_SEED, SURNAMES, build_people, name_maker,
    member_dates, random_date, write_roster,
)

SEED = 20261201
TITLE = "示例科技有限公司花名册（示例）"
PERIOD_END = dt.date(2026, 12, 31)
# a department's share of a grown roster, and its people per team on average
SHARES = {"售后服务部": 0.2, "销售部": 0.3, "研发中心": 0.5}


@dataclass(frozen=True)
class TeamPlan:
    name: str
    members: tuple[tuple[str, int], ...]  # (role's Chinese name, head count); the lead has the first role


@dataclass(frozen=True)
class DepartmentPlan:
    name: str
    prefix: str  # employee IDs: prefix + number in hire order
    teams: tuple[TeamPlan, ...]
    head_team: str  # the team the department head leads in person
    # (team, hire date, post start or None, status): placed on purpose, not left to chance
    special: tuple[tuple[str, dt.date, dt.date | None, str], ...]


SALES = DepartmentPlan(
    "销售部", "XS",
    (
        TeamPlan("华北大区", (("大客户经理", 4), ("销售代表", 15))),
        TeamPlan("华东大区", (("大客户经理", 5), ("销售代表", 18))),
        TeamPlan("华南大区", (("大客户经理", 4), ("销售代表", 14))),
        TeamPlan("华中大区", (("大客户经理", 2), ("销售代表", 10))),
        TeamPlan("西部大区", (("大客户经理", 2), ("销售代表", 7))),   # under 10: pooled at department level
        TeamPlan("渠道销售组", (("大客户经理", 3), ("销售代表", 12))),
        TeamPlan("销售运营组", (("销售助理", 12),)),
    ),
    head_team="销售运营组",
    special=(
        ("华东大区", dt.date(2026, 9, 14), None, "试用"),
        ("华北大区", dt.date(2026, 12, 1), None, "试用"),
        ("华南大区", dt.date(2016, 3, 7), None, "长假"),
        ("销售运营组", dt.date(2019, 6, 3), dt.date(2026, 11, 2), "正式"),
    ),
)

RD = DepartmentPlan(
    "研发中心", "YF",
    (
        TeamPlan("平台研发组", (("软件工程师", 18),)),
        TeamPlan("移动端研发组", (("软件工程师", 14),)),
        TeamPlan("数据研发组", (("软件工程师", 13),)),
        TeamPlan("基础架构组", (("软件工程师", 9),)),
        TeamPlan("前端研发组", (("软件工程师", 15),)),
        TeamPlan("算法组", (("软件工程师", 11),)),
        TeamPlan("测试一组", (("测试工程师", 12),)),
        TeamPlan("测试二组", (("测试工程师", 8),)),
        TeamPlan("产品组", (("产品经理", 10),)),
    ),
    head_team="产品组",
    special=(
        ("平台研发组", dt.date(2026, 10, 12), None, "试用"),
        ("测试一组", dt.date(2026, 12, 1), None, "试用"),
        ("移动端研发组", dt.date(2018, 8, 20), None, "长假"),
        # 2.5 months in post at the period end: counted by the company's 2 months, not by R&D's own 3
        ("数据研发组", dt.date(2021, 4, 6), dt.date(2026, 10, 16), "正式"),
    ),
)
# the sample after-sales department's shape, for a grown company (its small roster is build_people's)
_AFTERSALES_PLAN = DepartmentPlan(
    AFTERSALES, "SH",
    (
        TeamPlan("华东工程一组", (("售后工程师", 13),)),
        TeamPlan("华东工程二组", (("售后工程师", 12),)),
        TeamPlan("华南工程组", (("售后工程师", 12),)),
        TeamPlan("客服中心", (("客服专员", 14),)),
        TeamPlan("技术支持组", (("技术支持专员", 9),)),
    ),
    head_team="技术支持组",
    special=(("客服中心", dt.date(2026, 10, 19), None, "试用"),),
)


EXAMPLES = (SALES, RD)


def _grown(plan: DepartmentPlan, people: int) -> DepartmentPlan:
    """``plan`` repeated with numbered teams (平台研发组 → 平台研发3组) until it holds about ``people``."""
    size = sum(n for team in plan.teams for _, n in team.members)
    rounds = max(1, round(people / size))
    if rounds == 1:
        return plan
    teams = tuple(TeamPlan(_numbered(team.name, k), team.members) for k in range(1, rounds + 1) for team in plan.teams)
    return DepartmentPlan(plan.name, plan.prefix, teams, _numbered(plan.head_team, 1), plan.special)


def _numbered(team: str, k: int) -> str:
    return team if k == 1 else f"{team[:-1]}{k}{team[-1]}"


def _name_source(rng: random.Random, unique: bool):
    if unique:
        return name_maker(rng)
    weights = [len(SURNAMES) - i for i in range(len(SURNAMES))]
    return lambda: rng.choices(SURNAMES, weights)[0] + rng.choice(GIVEN_MALE if rng.random() < 0.55 else GIVEN_FEMALE)


def department_people(rng: random.Random, plan: DepartmentPlan, *, unique_names: bool = True) -> list[dict]:
    """Everyone of ``plan`` as dicts with the roster's fields, in team order, lead first."""
    new_name = _name_source(rng, unique_names)
    people = []
    for team in plan.teams:
        head = team.name == plan.head_team
        lead_role = team.members[0][0]
        hired = dt.date(2010, 9, 6) if head else random_date(rng, dt.date(2012, 3, 1), dt.date(2018, 12, 31))
        post = hired if head else random_date(rng, hired + dt.timedelta(days=700), dt.date(2023, 6, 30))
        people.append(dict(team=team.name, role=lead_role, lead=True, name=new_name(), hire_date=hired,
                           post_start=post, status="正式"))
        specials = [s for s in plan.special if s[0] == team.name]
        roles = [role for role, count in team.members for _ in range(count)][1:]
        for index, role in enumerate(roles):
            hired, post, status = member_dates(rng, specials[index] if index < len(specials) else None)
            people.append(dict(team=team.name, role=role, lead=False, name=new_name(), hire_date=hired,
                               post_start=post, status=status))
    width = max(4, len(str(len(people))))
    for number, person in enumerate(sorted(people, key=lambda p: (p["hire_date"], p["name"])), start=1):
        person["employee_id"] = f"{plan.prefix}{number:0{width}d}"
    head = next(p for p in people if p["lead"] and p["team"] == plan.head_team)
    leads = {p["team"]: p["employee_id"] for p in people if p["lead"]}
    for person in people:
        person["department"] = plan.name
        if person is head:
            person["manager_id"] = ""
        elif person["lead"]:
            person["manager_id"] = head["employee_id"]
        else:
            person["manager_id"] = leads[person["team"]]
    order = {team.name: i for i, team in enumerate(plan.teams)}
    return sorted(people, key=lambda p: (order[p["team"]], not p["lead"], p["employee_id"]))


def company_people(employees: int | None = None) -> list[dict]:
    """The example company: the sample after-sales department and the example ones, optionally grown."""
    if employees is None:
        aftersales = build_people(random.Random(AFTERSALES_SEED))
        others = [department_people(random.Random(SEED + i), plan) for i, plan in enumerate(EXAMPLES)]
        return aftersales + [p for department in others for p in department]
    people = []
    for i, plan in enumerate((_AFTERSALES_PLAN,) + EXAMPLES):
        grown = _grown(plan, int(employees * SHARES[plan.name]))
        people += department_people(random.Random(SEED + 100 + i), grown, unique_names=False)
    return people


def write_company_roster(out: str | Path, employees: int | None = None) -> Path:
    """Write the example company's roster to ``out`` (about 280 people, or about ``employees``); the path."""
    out = Path(out)
    write_roster(company_people(employees), out, title=TITLE)
    return out
