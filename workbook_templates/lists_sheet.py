"""The hidden ``_lists`` sheet: every rulebook number the formulas use, as named cells.

Formulas and data validations refer to these names (``kpi_cap``,
``kpi_grade_mins`` ...) and never to a typed number, so a workbook built from
another rulebook computes by that rulebook's rules with the same formulas.
"""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from kpisheet.validators.layout import LISTS, VETO_NONE, col_letter
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Rulebook

from kpisheet.workbook_templates.styles import Formats

# scalar named cells
CAP = "kpi_cap"
DECIMALS = "kpi_decimals"
SELF_WEIGHT = "kpi_self_weight"
BONUS_PER = "kpi_bonus_per"
BONUS_CAP = "kpi_bonus_cap"
VETO_GRADE = "kpi_veto_grade"
VETO_NO = "kpi_veto_none"
EXTREME_HIGH = "kpi_extreme_high"
EXTREME_LOW = "kpi_extreme_low"
SELF_GAP = "kpi_self_gap"
S_MAX = "kpi_s_max"
SA_MAX = "kpi_sa_max"
B_MIN = "kpi_b_min"
CD_MIN = "kpi_cd_min"
CD_MAX = "kpi_cd_max"
POOL_BELOW = "kpi_pool_below"
SMALL_TEAM_MAX = "kpi_small_team_max"
SMALL_TEAM_S_MAX = "kpi_small_team_s_max"
RATING_MAX = "kpi_rating_max"

# list named ranges (one column each)
GRADE_LETTERS = "kpi_grade_letters"  # ascending by minimum, as LOOKUP needs
GRADE_MINS = "kpi_grade_mins"
GRADE_COEFFS = "kpi_grade_coeffs"
RATING_POINTS = "kpi_rating_points"
VETO_OPTIONS = "kpi_veto_options"
EMPLOYEE_IDS = "kpi_employee_ids"
PIP_GRADES = "kpi_pip_grades"


def scalar_cells(rulebook: Rulebook) -> list[tuple[str, str, object]]:
    """(defined name, 中文 label, value) for each scalar the formulas use."""
    s, d, c = rulebook.scoring, rulebook.distribution, rulebook.comments
    return [
        (CAP, "得分上限 score cap", s.cap),
        (DECIMALS, "保留小数位 decimals", s.decimals),
        (SELF_WEIGHT, "自评权重 self-rating weight", s.self_weight),
        (BONUS_PER, "每次表彰加分 bonus per commendation", s.bonus_per_commendation),
        (BONUS_CAP, "加分上限 bonus cap", s.bonus_cap),
        (VETO_GRADE, "否决后等级 veto grade", s.veto_grade),
        (VETO_NO, "无否决项 no veto", VETO_NONE),
        (EXTREME_HIGH, "极高分需说明 extreme high", c.extreme_high),
        (EXTREME_LOW, "极低分需说明 extreme low", c.extreme_low),
        (SELF_GAP, "自评差距需说明 self gap", c.self_gap),
        (S_MAX, "S占比上限 S max", d.s_max),
        (SA_MAX, "S+A占比上限 S+A max", d.sa_max),
        (B_MIN, "B占比下限 B min", d.b_min),
        (CD_MIN, "C+D占比下限 C+D min", d.cd_min),
        (CD_MAX, "C+D占比上限 C+D max", d.cd_max),
        (POOL_BELOW, "不足此人数按部门合并 pool below", d.pool_below),
        (SMALL_TEAM_MAX, "小团队人数上限 small team size", d.small_team_max),
        (SMALL_TEAM_S_MAX, "小团队S人数上限 small team S max", d.small_team_s_max),
        (RATING_MAX, "评分最高档 rating scale max", len(s.rating_points)),
    ]


def list_columns(rulebook: Rulebook, employees: list[Employee]) -> list[tuple[str, str, list]]:
    """(defined name, header, values) for each list; grades ascending by minimum."""
    bands = sorted(rulebook.grades, key=lambda b: b.min)
    return [
        (GRADE_LETTERS, "等级 grade", [b.grade for b in bands]),
        (GRADE_MINS, "最低分 min", [b.min for b in bands]),
        (GRADE_COEFFS, "系数 coefficient", [b.coefficient for b in bands]),
        (RATING_POINTS, "评分对应分值 rating points", list(rulebook.scoring.rating_points)),
        (VETO_OPTIONS, "一票否决 veto", [VETO_NONE] + [v.name_zh for v in rulebook.scoring.vetoes]),
        (EMPLOYEE_IDS, "工号 employee id", [e.employee_id for e in employees]),
        (PIP_GRADES, "需改进计划等级 PIP grades", list(rulebook.outcomes.pip_grades)),
    ]


def _absolute(col: int, first_row: int, last_row: int | None = None) -> str:
    letter = col_letter(col)
    ref = f"${letter}${first_row + 1}"
    if last_row is not None:
        ref += f":${letter}${last_row + 1}"
    return f"='{LISTS}'!{ref}"


def write_lists(book: Workbook, rulebook: Rulebook, employees: list[Employee], formats: Formats) -> None:
    """Write ``_lists`` (hidden, not very hidden: dropdowns must still work after
    a re-save) and define a workbook-level name for every value and list."""
    sheet = book.add_worksheet(LISTS)
    sheet.hide()
    sheet.protect()
    sheet.write_row(0, 0, ["名称 name", "值 value", "说明 meaning"], formats.header)
    for i, (name, label, value) in enumerate(scalar_cells(rulebook), start=1):
        sheet.write_string(i, 0, name)
        sheet.write(i, 1, value)
        sheet.write_string(i, 2, label)
        book.define_name(name, _absolute(1, i))
    sheet.set_column(0, 0, 22)
    sheet.set_column(2, 2, 34)
    first_list_col = 4
    for j, (name, header, values) in enumerate(list_columns(rulebook, employees)):
        col = first_list_col + j
        sheet.write_string(0, col, header, formats.header)
        for i, value in enumerate(values, start=1):
            sheet.write(i, col, value)
        sheet.set_column(col, col, 16)
        # An empty list (a blank template's) still needs a valid one-cell range.
        book.define_name(name, _absolute(col, 1, max(1, len(values))))
