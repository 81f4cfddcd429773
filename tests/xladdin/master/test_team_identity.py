"""Identity from the roster first: an ID thief and an impersonator at consolidation, with real workbooks.

Issue 13, Why 2: any file listing another team's employee ID made that
team's genuine file fail with team-duplicate-employee, even when the
attacking file was itself rejected; mistaken copies of clean files in one
inbox left only 2 of 5 clean files accepted. Why 3: without a roster, a file
whose _meta!B5 and kpisheet_team property were edited superseded another
team's accepted file (exit 0, 13 客服专员 rows filed under 技术支持组).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kpisheet.validators.roster import read_roster, teams
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.validators.validate import validate_file
from kpisheet.workbook_templates.filler import fill_team_workbook
from kpisheet.workbook_templates.team_workbook import build_team_workbook, team_file_name
from kpisheet.xladdin.master.consolidate import consolidate
from kpisheet.xladdin.master.io import read_master
from kpisheet.xladdin.master import layout as L
from tests.support.forgery import impersonate, list_someone_else
from tests.support.paths import SAMPLE_ROSTER

PERIOD = "2026-Q4"


def first_acceptable_fill(blank: Path, out: Path, roster) -> Path:
    """The team's form filled with the first seed that gives no error (warnings, e.g. quotas, are fine)."""
    for seed in range(1, 60):
        fill_team_workbook(blank, out, seed=seed)
        if validate_file(out, rulebook=default_rulebook(), roster=roster).status != "error":
            return out
    raise AssertionError(f"no seed fills {blank.name} without an error")


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    """Every team's genuine submission for the period: team -> file (unsigned: no key in these runs)."""
    work = tmp_path_factory.mktemp("genuine")
    rulebook = default_rulebook()
    people = read_roster(SAMPLE_ROSTER, rulebook)
    files = {}
    for (department, team), members in teams(people).items():
        name = team_file_name(PERIOD, department, team)
        blank = build_team_workbook(work / "blank" / name, rulebook, PERIOD, department, team, members)
        files[team] = first_acceptable_fill(blank, work / name, people)
    return files


def inbox_of(folder: Path, *files: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copy2(path, folder / path.name)
    return folder


def summary_of(master: Path) -> list[dict]:
    return read_master(master, default_rulebook()).rows(L.SUMMARY)


def first_employee(path: Path) -> str:
    report = validate_file(path, rulebook=default_rulebook())
    return report.employees[0].employee_id


# --- Why 2: the ID thief -------------------------------------------------------------------------


def test_a_rejected_file_cannot_take_another_teams_employee(genuine, tmp_path):
    """The attacking file lists 技术支持组's first employee on its summary only: broken, and rejected."""
    victim = first_employee(genuine["技术支持组"])
    thief = list_someone_else(genuine["客服中心"], tmp_path / "thief.xlsx", first_employee(genuine["客服中心"]),
                              victim, everywhere=False)
    inbox = inbox_of(tmp_path / "inbox", genuine["技术支持组"], thief)
    result = consolidate([inbox], tmp_path / "master.xlsx", rulebook=default_rulebook())
    accepted = {Path(p).name for p in result.merge.files["accepted"]}
    assert genuine["技术支持组"].name in accepted, result.to_dict()["rejected"]
    victim_report = next(r for r in result.reports if r.path.endswith(genuine["技术支持组"].name))
    assert not [f for f in victim_report.findings if f.code == "team-duplicate-employee"]


def test_mistaken_copies_of_clean_files_are_versions_not_duplicates(genuine, tmp_path):
    """Five clean files and copies of two of them in one inbox: five teams accepted, nothing rejected.

    (How the copies are listed in 提交 — identical bytes share a row today — is issue 13 item 9, the record's.)
    """
    inbox = inbox_of(tmp_path / "inbox", *genuine.values())
    for team in ("华东工程一组", "客服中心"):
        copy = inbox / f"副本_{genuine[team].name}"
        shutil.copy2(genuine[team], copy)
        os.utime(copy, (genuine[team].stat().st_mtime - 60,) * 2)  # an older copy
    result = consolidate([inbox], tmp_path / "master.xlsx", rulebook=default_rulebook())
    assert sorted(Path(p).name for p in result.merge.files["accepted"]) == sorted(p.name for p in genuine.values())
    assert not result.merge.files["rejected"]
    assert not [f for r in result.reports for f in r.findings if f.code == "team-duplicate-employee"]


def test_with_a_roster_the_file_of_the_wrong_team_is_the_one_in_error(genuine, tmp_path):
    """A clean-looking thief (relabelled everywhere, hashes recomputed): the roster says who is wrong."""
    rulebook = default_rulebook()
    victim = first_employee(genuine["技术支持组"])
    thief = list_someone_else(genuine["客服中心"], tmp_path / "thief.xlsx", first_employee(genuine["客服中心"]),
                              victim)
    inbox = inbox_of(tmp_path / "inbox", genuine["技术支持组"], thief)
    result = consolidate([inbox], tmp_path / "master.xlsx", rulebook=rulebook,
                         roster=read_roster(SAMPLE_ROSTER, rulebook))
    by_name = {Path(r.path).name: r for r in result.reports}
    assert by_name[genuine["技术支持组"].name].accepted
    thief_codes = {f.code for f in by_name["thief.xlsx"].findings}
    assert "team-wrong-department" in thief_codes and not by_name["thief.xlsx"].accepted
    assert not [f for f in by_name[genuine["技术支持组"].name].findings if f.code.startswith("team-duplicate")]


def test_without_a_roster_the_accepted_submission_says_who_belongs_where(genuine, tmp_path):
    """Run 1 accepts 技术支持组; in run 2 a clean-looking thief lists one of its people: the thief is in error."""
    rulebook = default_rulebook()
    master = tmp_path / "master.xlsx"
    consolidate([inbox_of(tmp_path / "one", genuine["技术支持组"])], master, rulebook=rulebook)
    victim = first_employee(genuine["技术支持组"])
    thief = list_someone_else(genuine["客服中心"], tmp_path / "thief.xlsx", first_employee(genuine["客服中心"]),
                              victim)
    result = consolidate([inbox_of(tmp_path / "two", thief)], master, rulebook=rulebook)
    (report,) = result.reports
    duplicate = [f for f in report.findings if f.code == "team-duplicate-employee"]
    assert [f.employee_id for f in duplicate] == [victim] and genuine["技术支持组"].name in duplicate[0].message_zh
    rows = {r["employee_id"]: r for r in summary_of(master) if r["period"] == PERIOD}
    assert rows[victim]["team"] == "技术支持组" and rows[victim]["source_status"] == L.SOURCE_PRESENT


def test_with_signed_forms_a_relabelled_file_is_refused_in_the_same_batch(tmp_path):
    """HR's key: a thief's relabelled rows break the signature, so the genuine file is accepted without a roster."""
    from kpisheet.validators.signature import SigningKey

    rulebook = default_rulebook()
    key = SigningKey.generate()
    people = read_roster(SAMPLE_ROSTER, rulebook)
    made = {}
    for (department, team), members in teams(people).items():
        if team in ("技术支持组", "客服中心"):
            name = team_file_name(PERIOD, department, team)
            blank = build_team_workbook(tmp_path / "blank" / name, rulebook, PERIOD, department, team, members,
                                        signing_key=key)
            made[team] = first_acceptable_fill(blank, tmp_path / name, people)
    victim = first_employee(made["技术支持组"])
    thief = list_someone_else(made["客服中心"], tmp_path / "thief.xlsx", first_employee(made["客服中心"]), victim)
    inbox = inbox_of(tmp_path / "inbox", made["技术支持组"], thief)
    result = consolidate([inbox], tmp_path / "master.xlsx", rulebook=rulebook, signing_key=key)
    by_name = {Path(r.path).name: r for r in result.reports}
    assert by_name[made["技术支持组"].name].accepted
    assert "template-signature-mismatch" in {f.code for f in by_name["thief.xlsx"].findings}


# --- Why 3: the impersonator ---------------------------------------------------------------------


def run_cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "KPISHEET_KEY": str(cwd / "no-key" / "kpisheet.key")}
    return subprocess.run([sys.executable, "-m", "kpisheet", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=900)


def test_without_a_roster_an_impersonator_cannot_supersede_the_accepted_file(genuine, tmp_path):
    """客服中心's file claims 技术支持组 (_meta!B5 and the property edited); 技术支持组 was accepted before."""
    master = tmp_path / "hr" / "master.xlsx"
    master.parent.mkdir()
    first = run_cli("consolidate", inbox_of(tmp_path / "one", genuine["技术支持组"]), "--master", master, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = {r["employee_id"]: r for r in summary_of(master) if r["team"] == "技术支持组"}
    impostor = impersonate(genuine["客服中心"], tmp_path / "impostor.xlsx", "售后服务部", "技术支持组")
    later = tmp_path / "two"
    inbox_of(later, impostor)
    os.utime(later / "impostor.xlsx")  # newer than the accepted file: it would win a plain supersede
    second = run_cli("consolidate", later, "--master", master, "--format", "json", cwd=tmp_path)
    assert second.returncode == 1, second.stderr
    import json

    outcome = json.loads(second.stdout)
    assert [r["codes"] for r in outcome["rejected"]] == [["team-members-differ"]]
    rows = summary_of(master)
    assert {r["employee_id"]: r["source_file"] for r in rows if r["team"] == "技术支持组"} == \
        {k: v["source_file"] for k, v in before.items()}
    cs_people = {e.employee_id for e in validate_file(genuine["客服中心"], rulebook=default_rulebook()).employees}
    assert not [r for r in rows if r["employee_id"] in cs_people and r["team"] == "技术支持组"]


def test_a_roster_settles_who_belongs_to_the_team(genuine, tmp_path):
    """With --roster the impersonator's people are in another team by the roster: team-wrong-department."""
    rulebook = default_rulebook()
    master = tmp_path / "master.xlsx"
    roster = read_roster(SAMPLE_ROSTER, rulebook)
    consolidate([inbox_of(tmp_path / "one", genuine["技术支持组"])], master, rulebook=rulebook, roster=roster)
    impostor = impersonate(genuine["客服中心"], tmp_path / "impostor.xlsx", "售后服务部", "技术支持组")
    result = consolidate([inbox_of(tmp_path / "two", impostor)], master, rulebook=rulebook, roster=roster)
    codes = {f.code for f in result.reports[0].findings}
    assert "team-wrong-department" in codes and "team-members-differ" not in codes
    assert result.merge.files["rejected"]
