"""`kpisheet export --period P --format xlsx|csv`: one flat table of a period for HR's own pivots.

One row per employee and indicator, with the employee's result beside each
indicator (department, team, role, total, system, calibrated and final grade,
coefficient), read from the record into a pandas DataFrame, so that HR never
needs to add sheets to the master.
"""

from __future__ import annotations



import pandas as pd
import sqlalchemy as sa

from kpisheet.xladdin.record import decisions as D, schema as S, words as W

# (column, 中文 header) in the order HR reads them
EXPORT_COLUMNS = (
    ("period", "考核期间 Period"), ("department", "部门 Department"), ("team", "团队 Team"),
    ("employee_id", "工号 ID"), ("name", "姓名 Name"), ("role", "岗位 Role"), ("status", "员工状态 Status"),
    ("total", "总分 Total"), ("system_grade", "系统等级 System grade"),
    ("calibrated_grade", "校准等级 Calibrated grade"), ("override_reason", "调整理由 Override reason"),
    ("final_grade", "最终等级 Final grade"), ("coefficient", "绩效系数 Coefficient"),
    ("category", "类别 Category"), ("code", "指标代码 Code"), ("indicator", "指标 Indicator"), ("unit", "单位 Unit"),
    ("weight", "权重% Weight"), ("target", "目标值 Target"), ("actual", "实际值 Actual"),
    ("self_rating", "自评 Self"), ("manager_rating", "上级评分 Manager"), ("score", "指标得分 Score"),
    ("weighted", "加权得分 Weighted"),
)


def period_frame(conn: sa.Connection, period: str) -> pd.DataFrame:
    """The flat table of ``period`` (empty when the record holds nothing for it)."""
    r, i = S.results, S.indicators
    people = pd.DataFrame(conn.execute(sa.select(
        r.c.period, r.c.employee_id, r.c.department, r.c.team, r.c.name, r.c.role, r.c.status, r.c.total,
        r.c.system_grade, r.c.final_grade, r.c.coefficient).where(r.c.period == period)).mappings().all())
    lines = pd.DataFrame(conn.execute(sa.select(
        i.c.employee_id, i.c.position, i.c.category, i.c.code, i.c.indicator, i.c.unit, i.c.weight, i.c.target,
        i.c.actual, i.c.self_rating, i.c.manager_rating, i.c.score, i.c.weighted).where(i.c.period == period))
        .mappings().all())
    if people.empty:
        return pd.DataFrame(columns=[head for _key, head in EXPORT_COLUMNS])
    hr = D.values_as_of(conn, W.DECISION_SUMMARY, periods=[period])
    people["calibrated_grade"] = [hr.get((period, e), {}).get("calibrated_grade") for e in people["employee_id"]]
    people["override_reason"] = [hr.get((period, e), {}).get("override_reason") for e in people["employee_id"]]
    table = people.merge(lines, on="employee_id", how="left") if not lines.empty else people
    for key, _head in EXPORT_COLUMNS:
        if key not in table:
            table[key] = None
    table = table.sort_values(["department", "team", "employee_id", "position"] if "position" in table
                              else ["department", "team", "employee_id"], kind="stable")
    return table[[key for key, _ in EXPORT_COLUMNS]].rename(columns=dict(EXPORT_COLUMNS)).reset_index(drop=True)


