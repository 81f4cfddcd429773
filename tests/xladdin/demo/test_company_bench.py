"""`kpisheet bench --company`: a small company run end to end through the CLI, every figure in its JSON.

No timing is asserted (the figures belong in docs/performance.md): the test checks that the run
validates, records and writes a real master across the company's three departments, at both
sizes, and reports each step, the counts, the load and the peak memory of the process tree.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpisheet.validators.rulebook.company_load import load_company
from kpisheet.xladdin.cli.app import app
from kpisheet.xladdin.demo.company_bench import SMALLER, STEPS
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.io import read_master
from tests.support.paths import SAMPLE_COMPANY

DEPARTMENTS = {"售后服务部", "销售部", "研发中心"}


@pytest.mark.usefixtures("soffice")
def test_a_small_company_run_reports_every_figure_and_writes_a_master_of_three_departments(tmp_path):
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "--company", "--employees", "240", "--work", str(tmp_path / "work"),
                                      "--json", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) == {"kpisheet", "company"}  # the one-department figures are not taken by --company
    company = data["company"]
    assert company["employees_asked"] == 240 and 200 <= company["corpus"]["employees"] <= 280
    assert set(company["corpus"]["departments"]) == DEPARTMENTS
    assert company["corpus_seconds"] > 0 and company["corpus_reused"] is False
    assert company["corpus"]["saved_by"] == "LibreOffice"
    large, small = company["runs"]
    assert large["files"] == company["corpus"]["teams"] and large["employees"] == company["corpus"]["employees"]
    assert small["files"] == -(-large["files"] // SMALLER) and 0 < small["employees"] < large["employees"]
    for run in (large, small):
        assert set(run["seconds"]) == set(STEPS) and all(s > 0 for s in run["seconds"].values())
        # the two parts of the one consolidation make its whole
        assert abs(run["seconds"]["validate"] + run["seconds"]["record_and_master"]
                   - run["seconds"]["end_to_end"]) <= 0.02
        assert run["peak_rss_mb"]["tree"] >= run["peak_rss_mb"]["main_process"] > 0
        assert len(run["load"]) == 2 and all(isinstance(x, float) for x in run["load"])
        assert run["files_accepted"] + run["files_rejected"] == run["files"]
        assert sum(run["departments"].values()) == run["files"]
        # a record of its own, made empty by the run: a SQLite file beside the master
        assert Path(run["store"]).parent == Path(run["master"]).parent
        assert Path(run["store"]).read_bytes()[:16] == b"SQLite format 3\x00"
    # one base in the company carries a manager's slips, so its copies are rejected; the others are accepted
    assert large["files_rejected"] >= 1 and large["files_accepted"] > large["files_rejected"]
    assert company["memory_growth"] == pytest.approx(large["peak_rss_mb"]["tree"] / small["peak_rss_mb"]["tree"],
                                                     abs=0.001)
    assert company["goal"]["end_to_end_seconds"] == "< 300" and company["goal"]["met"] in (True, False)

    rules = load_company(SAMPLE_COMPANY).whole
    for run in (large, small):
        master = read_master(Path(run["master"]), rules)
        submissions = master.rows(L.SUBMISSIONS)
        assert len(submissions) == run["files"] and {row["department"] for row in submissions} == DEPARTMENTS
        # the small run's one after-sales file is the base with the slips: rejected, so no after-sales grades
        graded = {row["department"] for row in master.rows(L.SUMMARY)}
        assert graded == (DEPARTMENTS if run is large else DEPARTMENTS - {"售后服务部"})
    assert "end_to_end" in result.output and "峰值内存" in result.output  # the printed table


def test_rules_that_are_not_there_are_one_bilingual_line(tmp_path):
    result = CliRunner().invoke(app, ["bench", "--company", "--employees", "240", "--rules",
                                      str(tmp_path / "missing.yaml"), "--work", str(tmp_path / "work")],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "missing.yaml" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "work").exists()  # refused before anything was made
