"""The sample roster of one after-sales department, seeded: samples/roster.xlsx and the demo's input.

    write_sample_roster(path)

Kept in the package, not in samples/, so that ``kpisheet demo`` can make the
very same roster when kpisheet is installed without the repository. The same
seed always gives the same file. Besides ordinary staff it holds the cases the
appraisal must handle at 2026-Q4: a probation hire, a hire on 2026-12-01 (one
month before period end), one employee on long leave, and one who moved to a
new post on 2026-11-16 (under two months in post).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import xlsxwriter

from kpisheet.validators.roster import ROSTER_COLUMNS, ROSTER_SHEET
from kpisheet.validators.rulebook.load import default_rulebook

SEED = 20261231
DEPARTMENT = default_rulebook().meta.department_zh
ROLE = {role.code: role.name_zh for role in default_rulebook().roles}
# A fixed creation time keeps the file byte-identical across runs.
CREATED = dt.datetime(2026, 9, 30, 9, 0, 0)

# team, role code of its members, head count (lead included)
TEAMS = (
    ("华东工程一组", "engineer", 13),
    ("华东工程二组", "engineer", 12),
    ("华南工程组", "engineer", 12),
    ("客服中心", "cs", 14),
    ("技术支持组", "ts", 9),  # led by the department head in person
)
HEAD_TEAM = "技术支持组"

# Surnames roughly in order of frequency; earlier ones are drawn more often.
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
            "彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万严覃戴莫孔汤")
# Common given names, one or two characters, split by gender so that names read naturally.
GIVEN_MALE = ("伟 强 磊 军 勇 杰 涛 明 超 刚 鹏 辉 斌 浩 宇 峰 志强 建国 俊杰 宏亮 晓东 立新 永刚 世杰 嘉豪 "
              "博文 振华 德明 子轩 浩然 文博 海涛 志伟 建华 国栋 晓峰 俊峰 明辉 家豪 天宇 宇航 鹏飞 建军 兴华").split()
GIVEN_FEMALE = ("芳 娜 敏 静 丽 艳 娟 霞 萍 婷 雪 琳 秀英 桂英 海燕 春梅 雨桐 雅琴 秋月 梓涵 欣怡 佳怡 一诺 "
                "晓丽 丽娟 慧敏 雪梅 玉兰 美玲 诗涵 婉婷 晓燕 红霞 文静 思琪 梦瑶 佳慧 丽华 小英").split()

# Special cases, placed on purpose rather than left to chance.
# (team, hire date, post start or None for "since hiring", status)
SPECIAL = (
    ("客服中心", dt.date(2026, 10, 19), None, "试用"),       # probation hire
    ("华东工程二组", dt.date(2026, 12, 1), None, "试用"),    # hired one month before period end
    ("华南工程组", dt.date(2026, 8, 17), None, "试用"),      # probation hire, six months
    ("华东工程一组", dt.date(2017, 5, 8), None, "长假"),     # long leave
    ("技术支持组", dt.date(2020, 4, 13), dt.date(2026, 11, 16), "正式"),  # moved from 客服中心
)


def random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def name_maker(rng: random.Random):
    weights = [len(SURNAMES) - i for i in range(len(SURNAMES))]
    used: set[str] = set()

    def make() -> str:
        while True:
            given = rng.choice(GIVEN_MALE if rng.random() < 0.55 else GIVEN_FEMALE)
            name = rng.choices(SURNAMES, weights)[0] + given
            if name not in used:
                used.add(name)
                return name

    return make


def build_people(rng: random.Random) -> list[dict]:
    """Everyone as a dict with the roster's fields; IDs follow hire order, as HR issues them."""
    new_name = name_maker(rng)
    people = []
    for team, role, size in TEAMS:
        lead_hired = dt.date(2011, 7, 4) if team == HEAD_TEAM else random_date(rng, dt.date(2012, 3, 1), dt.date(2017, 12, 31))
        lead_post = lead_hired if team == HEAD_TEAM else random_date(rng, lead_hired + dt.timedelta(days=700), dt.date(2022, 6, 30))
        people.append(dict(team=team, role=role, lead=True, name=new_name(),
                           hire_date=lead_hired, post_start=lead_post, status="正式"))
        specials = [s for s in SPECIAL if s[0] == team]
        for index in range(size - 1):
            hired, post, status = member_dates(rng, specials[index] if index < len(specials) else None)
            people.append(dict(team=team, role=role, lead=False, name=new_name(),
                               hire_date=hired, post_start=post, status=status))
    for number, person in enumerate(sorted(people, key=lambda p: (p["hire_date"], p["name"])), start=1):
        person["employee_id"] = f"SH{number:04d}"
    head = next(p for p in people if p["lead"] and p["team"] == HEAD_TEAM)
    leads = {p["team"]: p["employee_id"] for p in people if p["lead"]}
    for person in people:
        if person is head:
            person["manager_id"] = ""
        elif person["lead"]:
            person["manager_id"] = head["employee_id"]
        else:
            person["manager_id"] = leads[person["team"]]
        person["department"] = DEPARTMENT
        person["role"] = ROLE[person["role"]]
    team_order = {team: i for i, (team, _, _) in enumerate(TEAMS)}
    return sorted(people, key=lambda p: (team_order[p["team"]], not p["lead"], p["employee_id"]))


def write_roster(people: list[dict], out: Path, *, title: str = f"{DEPARTMENT}花名册") -> None:
    # a company-sized roster is streamed to disk row by row instead of held in memory
    book = xlsxwriter.Workbook(str(out), {"constant_memory": len(people) > 20_000})
    book.set_properties({"title": title, "author": "人力资源部", "company": "示例公司",
                         "created": CREATED})
    sheet = book.add_worksheet(ROSTER_SHEET)
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center", "valign": "vcenter"})
    text = book.add_format({"border": 1})
    date = book.add_format({"border": 1, "num_format": "yyyy-mm-dd", "align": "center"})
    widths = {"工号": 9, "姓名": 9, "部门": 12, "团队": 14, "岗位": 14, "上级工号": 10,
              "入职日期": 12, "任职开始日期": 14, "状态": 7}
    for col, title in enumerate(ROSTER_COLUMNS):
        sheet.write(0, col, title, header)
        sheet.set_column(col, col, widths[title])
    for row, person in enumerate(people, start=1):
        for col, field in enumerate(ROSTER_COLUMNS.values()):
            value = person[field]
            if isinstance(value, dt.date):
                sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), date)
            elif value == "":
                sheet.write_blank(row, col, None, text)
            else:
                sheet.write_string(row, col, value, text)
    sheet.set_row(0, 20)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(people), len(ROSTER_COLUMNS) - 1)
    # prints on A4 landscape, one page wide, header on every page
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    book.close()


def write_sample_roster(out: str | Path) -> Path:
    """Write the sample roster to ``out`` and return the path."""
    out = Path(out)
    write_roster(build_people(random.Random(SEED)), out)
    return out


def member_dates(rng, special: tuple | None = None) -> tuple[dt.date, dt.date, str]:
    """(hired, in post since, status) of a team member: the special case given, else drawn like a real team."""
    if special is not None:
        _, hired, post, status = special
        return hired, post or hired, status
    hired = random_date(rng, dt.date(2013, 1, 1), dt.date(2026, 3, 31))
    # about one in five has moved or been promoted since hiring
    moved = rng.random() < 0.2 and hired < dt.date(2024, 1, 1)
    post = random_date(rng, hired + dt.timedelta(days=365), dt.date(2026, 6, 30)) if moved else None
    return hired, post or hired, "正式"
