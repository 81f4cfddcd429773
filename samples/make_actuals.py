"""Build samples/actuals/ and samples/actuals_clean/: exports of the three source systems for the sample roster.

    python samples/make_actuals.py

One file per system, for 2026-Q4, each in the shape that system exports:

* tickets.csv (ticket system, long form, Chinese headers, fractions): ENG_* indicators;
* calls.xlsx (call-centre system, wide form, percent columns marked "(%)"): CS_* indicators;
* survey.csv (survey tool, long form, English headers, "95%" text): CSAT for everyone.

``actuals_clean/`` holds the exports as they should be; ``actuals/`` the same
exports with the deliberate problems listed in samples/actuals/README.md
(DELIBERATE below, checked by tests/test_actuals_samples.py). Seeded, and the
xlsx has fixed dates, so a rebuild is byte-identical.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
from pathlib import Path

from xlsxwriter import Workbook

from kpisheet.validators.roster import read_roster
from kpisheet.validators.rulebook.load import default_rulebook

HERE = Path(__file__).resolve().parent
PERIOD = "2026-Q4"
SEED = 20261231

# (file, 1-based row, column label as `kpisheet actuals check` prints it, problem code)
DELIBERATE = (
    ("tickets.csv", 5, "4（实际值）", "percent-scale"),
    ("tickets.csv", 40, "1（工号）", "unknown-employee"),
    ("tickets.csv", 42, "4（实际值）", "duplicate-conflict"),
    ("calls.xlsx", 4, "C（CS_AHT）", "not-a-number"),
    ("calls.xlsx", 16, "B（CS_ANSWER(%)）", "indicator-not-in-role"),
    ("survey.csv", 3, "3（Period）", "period-mismatch"),
    ("survey.csv", 9, "4（Value）", "out-of-domain"),
    ("survey.csv", 31, "2（Indicator）", "unknown-indicator"),
)

TICKET_INDICATORS = {  # code -> (low, high, decimals): a plausible quarter's spread
    "ENG_FIX_RATE": (0.82, 0.99, 3),
    "ENG_MTTR": (2.5, 7.5, 1),
    "ENG_FTFR": (0.80, 0.97, 3),
    "ENG_RESP": (0.90, 1.0, 3),
    "ENG_DOCS": (0.80, 1.0, 3),
}
CALL_INDICATORS = {
    "CS_ANSWER": (86.0, 99.0, 1),  # percent points: the column says (%)
    "CS_AHT": (4.5, 9.5, 1),
    "CS_FCR": (70.0, 92.0, 1),
    "CS_COMPLAINT": (0.2, 1.8, 2),
}


def _csv_bytes(rows: list[list]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode("utf-8-sig")  # Excel opens a UTF-8 CSV with a BOM correctly


def _xlsx(path: Path, rows: list[list]) -> None:
    book = Workbook(str(path))
    book.set_properties({"title": "呼叫中心坐席指标 Call-centre agent KPIs", "author": "callcenter-export",
                         "created": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)})
    sheet = book.add_worksheet("坐席指标")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.close()


def build(roster_path: Path = HERE / "roster.xlsx") -> dict[str, dict[str, list[list]]]:
    """{'clean'|'flawed': {file name: rows}}."""
    rng = random.Random(SEED)
    rulebook = default_rulebook()
    employees = [e for e in read_roster(roster_path, rulebook) if e.status != "长假"]
    roles = {e.employee_id: rulebook.role(e.role) for e in employees}

    def draw(spec):
        low, high, decimals = spec
        return round(rng.uniform(low, high), decimals)

    tickets = [["工号", "指标", "期间", "实际值", "来源", "备注"]]
    for e in employees:
        for code, spec in TICKET_INDICATORS.items():
            if code in roles[e.employee_id].weights:
                tickets.append([e.employee_id, code, PERIOD, draw(spec), "工单系统", ""])
    calls = [["工号", "CS_ANSWER(%)", "CS_AHT", "CS_FCR(%)", "CS_COMPLAINT(%)", "姓名", "来源"]]
    for e in employees:
        if e.role == "cs":
            calls.append([e.employee_id] + [draw(spec) for spec in CALL_INDICATORS.values()] + [e.name, "呼叫中心系统"])
    survey = [["Employee ID", "Indicator", "Period", "Value", "Source"]]
    for e in employees:
        survey.append([e.employee_id, "CSAT", PERIOD, f"{round(rng.uniform(86, 99), 1):g}%", "满意度回访"])
    clean = {"tickets.csv": tickets, "calls.xlsx": calls, "survey.csv": survey}

    flawed = {name: [list(row) for row in rows] for name, rows in clean.items()}
    t, c, s = flawed["tickets.csv"], flawed["calls.xlsx"], flawed["survey.csv"]
    t[4][3] = round(t[4][3] * 100, 1)  # a rate exported as percent points, the column not marked (%)
    t.insert(39, ["SH0999", "ENG_FIX_RATE", PERIOD, 0.91, "工单系统", "已离职人员"])  # not in the roster
    dup = list(t[40])  # row 42: row 41 again, exported twice with a different value
    t.insert(41, dup[:3] + [round(dup[3] + (0.5 if dup[1] == "ENG_MTTR" else 0.02), 3)] + dup[4:])
    c[3][2] = "N/A"  # the system had no calls for this agent in one month
    engineer = next(e for e in employees if e.role == "engineer")
    c.insert(15, [engineer.employee_id, 92.5, None, None, None, engineer.name, "呼叫中心系统"])  # an engineer in the call export
    s[2][2] = "2026-Q3"  # one row left over from last quarter's export
    s[8][3] = "105%"
    s.insert(30, [employees[0].employee_id, "NPS", PERIOD, "45%", "满意度回访"])  # an indicator kpisheet has no rule for
    return {"clean": clean, "flawed": flawed}


def write(out: Path = HERE) -> None:
    built = build()
    for folder, files in (("actuals_clean", built["clean"]), ("actuals", built["flawed"])):
        target = out / folder
        target.mkdir(parents=True, exist_ok=True)
        for name, rows in files.items():
            if name.endswith(".csv"):
                (target / name).write_bytes(_csv_bytes(rows))
            else:
                _xlsx(target / name, rows)


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
