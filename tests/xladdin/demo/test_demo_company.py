"""`kpisheet demo --company`: the example company's three departments, each by its own rules, in one master.

The demo runs once per module (about a minute) and the tests read the master it wrote: every team's
indicators are its department's, and every total is what the Python engine gives with that
department's rules for the inputs the master shows.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpisheet.validators.policy.grading import IndicatorLine, score_employee
from kpisheet.validators.rulebook.company_load import load_company
from kpisheet.xladdin.cli.app import app
from kpisheet.xladdin.demo import cycle as demo
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.io import read_master
from tests.support.paths import SAMPLE_COMPANY

DEPARTMENTS = ("售后服务部", "销售部", "研发中心")


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    folder = tmp_path_factory.mktemp("company-demo") / "out"
    result = CliRunner().invoke(app, ["demo", "--company", str(folder)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return folder, result.output


@pytest.fixture(scope="module")
def company():
    return load_company(SAMPLE_COMPANY)


@pytest.fixture(scope="module")
def master(ran, company):
    return read_master(ran[0] / demo.MASTER_FILE, company.whole)


def test_the_demo_uses_the_sample_companys_rulebooks_and_roster(ran, company):
    folder, output = ran
    copied = load_company(folder / demo.RULES_DIR)
    assert [d.fingerprint for d in copied.departments] == [d.fingerprint for d in company.departments]
    assert (folder / demo.ROSTER_FILE).read_bytes() == (SAMPLE_COMPANY / "roster.xlsx").read_bytes()
    assert "3 个部门 departments（售后服务部、销售部、研发中心）" in output and "21 个团队 teams" in output
    # the sales and R&D managers' slips are caught by their own departments' checks, then corrected
    assert "2026-Q4_销售部_华东大区.xlsx: score-comment-required, score-not-number, score-percent-scale" in output
    assert "2026-Q4_研发中心_算法组.xlsx: score-missing, team-signoff-missing, template-formula-replaced" in output


def test_the_master_shows_three_departments_and_every_team(master):
    summary = master.rows(L.SUMMARY)
    for period in demo.PERIODS:
        assert {r["department"] for r in summary if r["period"] == period} == set(DEPARTMENTS)
    assert len({(r["department"], r["team"]) for r in summary}) == 21
    accepted = [r for r in master.rows(L.SUBMISSIONS) if r["status"] == L.SUB_ACCEPTED]
    assert len(accepted) == 42  # 21 teams x 2 quarters, the two slipped files once corrected


def test_each_team_has_its_own_departments_indicators(master, company):
    codes = defaultdict(set)
    for row in master.rows(L.DETAIL):
        codes[row["period"], row["employee_id"]].add(row["code"])
    own = {d.name_zh: {i.code for i in d.rulebook.indicators} for d in company.departments}
    for person in master.rows(L.SUMMARY):
        rules = company.require(person["department"])
        role = rules.role_by_name(person["role"])
        assert role is not None, person
        assert codes[person["period"], person["employee_id"]] == set(role.weights), person["employee_id"]
        # and at least one of them is the department's alone: the form was not made from another's rules
        others = set().union(*(c for name, c in own.items() if name != person["department"]))
        assert codes[person["period"], person["employee_id"]] - others, person["employee_id"]


def test_every_total_is_the_engines_with_its_departments_rules(master, company):
    lines = defaultdict(list)
    for r in master.rows(L.DETAIL):
        lines[r["period"], r["employee_id"]].append(IndicatorLine(
            r["code"], r["weight"], r["actual"], r["floor"], r["target"], r["challenge"], r["self_rating"],
            r["manager_rating"]))
    checked = defaultdict(int)
    for person in master.rows(L.SUMMARY):
        rules = company.require(person["department"])
        commendations = (person["bonus"] or 0) / rules.scoring.bonus_per_commendation
        result = score_employee(rules, lines[person["period"], person["employee_id"]], commendations, person["veto"])
        assert (result.total, result.grade) == (person["total"], person["system_grade"]), person["employee_id"]
        checked[person["department"]] += 1
    assert set(checked) == set(DEPARTMENTS) and sum(checked.values()) == 273 + 278


def test_calibration_counts_each_department_by_its_own_months_in_post(master, company):
    """研发中心 asks three months in post (the company: two): its person who moved post 2.5 months before the
    end of 2026-Q4 is left out of its forced distribution; nobody else with the same months would be."""
    rd = company.require("研发中心")
    assert rd.eligibility.min_months_in_post == 3 and company.whole.eligibility.min_months_in_post == 2
    q4 = [r for r in master.rows(L.SUMMARY) if r["period"] == "2026-Q4"]
    moved = [r for r in q4 if r["department"] == "研发中心" and r.get("in_distribution") == L.NO
             and "3" in (r.get("excluded_why") or "")]
    assert moved, "the R&D person 2.5 months in post is out of the distribution by R&D's own rule"
    assert any(r.get("calibrated_grade") for r in q4 if r["department"] == "销售部")


def test_notices_and_the_annual_rollup_cover_the_company(ran, master):
    folder, _ = ran
    q3 = [r for r in master.rows(L.SUMMARY) if r["period"] == "2026-Q3" and r.get("final_grade")]
    assert len(list((folder / demo.NOTICES_DIR).glob("*.xlsx"))) == len(q3) == 273
    annual = master.rows(L.ANNUAL)
    assert len(annual) == 278 and {r["department"] for r in annual} == set(DEPARTMENTS)
    assert not (folder / demo.ADDIN_DIR).exists()  # the add-in is the same for every department: not built again


def test_the_distribution_page_shows_every_department(ran, soffice, tmp_path):
    from kpisheet.xladdin.kit.libreoffice import to_pdf

    pdf = to_pdf(ran[0] / demo.MASTER_FILE, tmp_path)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "2026-Q4 等级分布 Grade distribution" in text
    for department in DEPARTMENTS:
        assert department in text


def test_the_distribution_chart_labels_each_bar_with_its_department(ran):
    """Three departments each have a （全部）all bar: the chart's categories are two levels, team over department."""
    import re
    import zipfile

    with zipfile.ZipFile(ran[0] / demo.MASTER_FILE) as archive:
        charts = [archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("xl/charts/chart")]
    (chart,) = [xml for xml in charts if "等级分布 Grade distribution" in xml]
    ranges = set(re.findall(r"<c:cat><c:multiLvlStrRef><c:f>([^<]+)</c:f>", chart))
    assert len(ranges) == 1, chart[:500]
    (cells,) = ranges
    assert re.fullmatch(r"'?分布'?!\$C\$\d+:\$D\$\d+", cells), cells  # 部门 and 团队, side by side
    cached = set(re.findall(r"<c:v>([^<]+)</c:v>", chart.split("<c:multiLvlStrCache>")[1].split("</c:cat>")[0]))
    assert set(DEPARTMENTS) <= cached and "算法组" in cached  # Excel shows the labels before it recalculates


def test_without_the_sample_folder_the_company_demo_says_what_it_needs(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "sample_company", lambda: tmp_path / "nowhere")
    result = CliRunner().invoke(app, ["demo", "--company", str(tmp_path / "out")], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "找不到示例公司的规则表" in result.output and "samples/company" in result.output
    assert "Traceback" not in result.output
    assert not (Path(tmp_path) / "out" / demo.MASTER_FILE).exists()
