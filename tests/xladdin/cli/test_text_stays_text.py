"""Text stays text everywhere: a hostile roster (and actuals file) through every command, in real processes.

The roster's department, teams and names start like formulas (``=``, ``+``,
``-``, ``@``, a tab), hold web addresses, control characters, a right-to-left
override and 250 characters. Every command of a cycle runs on it as HR would
run them: forms (with actuals whose source names are formulas too), the
managers' filling, validate with annotated copies, consolidate, calibrate,
appeals, notices and rollup. Then every xlsx they produced is opened and every
``<f>`` element of every part is read: none may hold text from the roster,
and each form has exactly the formulas of a form made from a plain roster.
No command may end with a traceback, and every file lands in its folder
under a name without control or bidi characters.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpisheet.validators.roster import read_roster
from kpisheet.validators.rulebook.load import default_rulebook
from tests.support.hostile_roster import (
    DEPARTMENT, MARKERS, TEAMS, formulas_in, hostile_formulas, parts_text, write_hostile_roster,
)

PERIOD = "2026-Q4"
SOURCE = '=HYPERLINK("http://evil.example/src","src")'


def kpisheet(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # HR's signing key of this cycle, in its folder: forms signs with it, the rest verify with it
    env = {**os.environ, "COLUMNS": "200", "KPISHEET_KEY": str(cwd / "hr-key" / "kpisheet.key")}
    done = subprocess.run([sys.executable, "-m", "kpisheet", *args], cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=900)
    assert "Traceback" not in done.stderr + done.stdout, (args, done.stderr[-3000:])
    assert "internal error" not in done.stderr, (args, done.stderr[-3000:])
    return done


def hostile_actuals(roster: Path, folder: Path) -> Path:
    """One actual per engineer for ENG_FIX_RATE, its source and note formulas."""
    people = read_roster(roster, default_rulebook())
    path = folder / "tickets.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["工号", "指标", "期间", "实际值", "来源", "备注"])
        for person in people:
            if person.role == "engineer":
                writer.writerow([person.employee_id, "ENG_FIX_RATE", PERIOD, "0.95", SOURCE, "=1+1 SUM(9,9)"])
    return path


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    """Every command of a cycle on the hostile roster; the folder holding everything they wrote."""
    from kpisheet.workbook_templates.filler import fill_team_workbook

    work = tmp_path_factory.mktemp("hostile")
    roster = write_hostile_roster(work / "roster.xlsx")
    actuals = hostile_actuals(roster, work)
    forms, inbox = work / "forms", work / "inbox"
    outcomes = {"forms": kpisheet("forms", "--roster", str(roster), "--period", PERIOD, "--out", str(forms),
                                  "--actuals", str(actuals), cwd=work)}
    assert outcomes["forms"].returncode == 0, outcomes["forms"].stderr
    inbox.mkdir()
    for n, form in enumerate(sorted(forms.glob("*.xlsx"))):
        fill_team_workbook(form, inbox / form.name, seed=n + 1, manager_name="=HYPERLINK(\"http://evil.example/m\")")
    master = work / "hr" / "master.xlsx"
    master.parent.mkdir()
    outcomes["validate"] = kpisheet("validate", str(inbox), "--roster", str(roster), "--period", PERIOD,
                                    "--annotate", str(work / "annotated"), cwd=work)
    outcomes["consolidate"] = kpisheet("consolidate", str(inbox), "--master", str(master), "--roster", str(roster),
                                       "--period", PERIOD, cwd=work)
    outcomes["calibrate"] = kpisheet("calibrate", "--master", str(master), "--roster", str(roster), cwd=work)
    outcomes["appeals"] = kpisheet("appeals", "--master", str(master), cwd=work)
    outcomes["notices"] = kpisheet("notices", "--master", str(master), "--period", PERIOD, "--out",
                                   str(work / "notices"), "--no-pdf", cwd=work)
    outcomes["rollup"] = kpisheet("rollup", "--master", str(master), "--year", "2026", cwd=work)
    return work, outcomes


def test_every_command_ran_without_a_traceback(cycle):
    _work, outcomes = cycle
    for name, done in outcomes.items():
        assert done.returncode in (0, 1), (name, done.returncode, done.stderr[-2000:])


def test_no_formula_anywhere_holds_text_from_the_roster(cycle):
    work, _ = cycle
    produced = sorted(work.rglob("*.xlsx"))
    kinds = {p.parent.name for p in produced}
    assert {"forms", "inbox", "annotated", "hr", "backups", "notices"} <= kinds, kinds
    for path in produced:
        assert hostile_formulas(path) == [], path


def test_the_hostile_texts_arrived_as_text(cycle):
    work, _ = cycle
    master = parts_text(work / "hr" / "master.xlsx")
    form = parts_text(next((work / "forms").glob("*.xlsx")))
    escaped = DEPARTMENT.replace("&", "&amp;").replace('"', "&quot;")
    for text in (master, form):
        assert escaped in text or DEPARTMENT.replace("&", "&amp;") in text
    notice = parts_text(next((work / "notices").glob("*.xlsx")))
    assert "evil.example" in notice  # the hostile department is on the notice, as text


def test_each_form_has_exactly_the_formulas_of_a_plain_form(cycle, tmp_path):
    """The same teams from a roster without hostile text: the same number of formulas, sheet by sheet."""
    from kpisheet.workbook_templates.team_workbook import build_team_workbook
    from kpisheet.validators.roster import teams

    work, _ = cycle
    rulebook = default_rulebook()
    people = read_roster(work / "roster.xlsx", rulebook)
    for (department, team), members in teams(people).items():
        hostile = build_team_workbook(tmp_path / "h.xlsx", rulebook, PERIOD, department, team, members)
        plain = build_team_workbook(tmp_path / "p.xlsx", rulebook, PERIOD, "售后服务部", "组",
                                    [_plain(m) for m in members])
        counts = {part: len(f) for part, f in formulas_in(hostile).items()}
        assert counts == {part: len(f) for part, f in formulas_in(plain).items()}, team


def _plain(person):
    from dataclasses import replace

    return replace(person, department="售后服务部", team="组", name="张三")


def test_file_names_are_safe_and_inside_their_folders(cycle):
    work, _ = cycle
    for folder in ("forms", "notices", "annotated"):
        names = [p.name for p in (work / folder).iterdir()]
        assert names, folder
        for name in names:
            assert len(name.encode("utf-8")) <= 200, name
            assert not any(ch in name for ch in "\u202e\x07\x1b\t/\\:*?\"<>|"), name
    assert len(list((work / "forms").glob("*.xlsx"))) == len(TEAMS)  # five teams, five files, none lost


def test_fresh_forms_validate_their_own_identity(cycle):
    """Control characters in team names no longer make a fresh form fail its own validation."""
    work, outcomes = cycle
    report = kpisheet("validate", str(work / "forms"), "--phase", "goals", "--format", "json", cwd=work)
    assert "KPISHEET" not in report.stderr and "no HR signing key" not in report.stderr  # verified with the cycle's key
    import json

    files = json.loads(report.stdout)["files"]
    codes = {f["code"] for item in files for f in item["findings"]}
    assert codes <= {"goal-smart-missing"}, codes
    assert all(marker not in "".join(item["path"] for item in files) for marker in ("\u202e", "\x07"))
    assert MARKERS  # the markers the formula scan looks for are the roster's
