"""The company benchmark's corpus: each department's share of teams, each copy checked by its own department's rules."""

from __future__ import annotations

from collections import Counter

import pytest

from kpisheet.validators.rulebook.company_load import load_company
from kpisheet.validators.validate import validate_paths
from kpisheet.xladdin.demo.bench_corpus import PERIOD, CorpusFolderError
from kpisheet.xladdin.demo.company_corpus import make_company_corpus
from tests.support.paths import SAMPLE_COMPANY


@pytest.fixture(scope="module")
def company():
    return load_company(SAMPLE_COMPANY)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, company):
    return make_company_corpus(tmp_path_factory.mktemp("bench") / "corpus", 400, company)


def test_each_department_gets_its_share_of_teams(corpus):
    teams = corpus.departments
    assert set(teams) == {"售后服务部", "销售部", "研发中心"}
    assert teams["售后服务部"] < teams["销售部"] < teams["研发中心"]  # 20% / 30% / 50% of the people
    assert 300 <= len(corpus.roster) <= 500 and len(corpus.files) == sum(teams.values())
    assert len({p.employee_id for p in corpus.roster}) == len(corpus.roster)


def test_copies_are_checked_by_their_own_department_rules(corpus, company):
    reports = validate_paths([corpus.folder / "files"], rulebook=company, roster=corpus.roster, period=PERIOD)
    codes = Counter(f.code for r in reports for f in r.findings if f.severity == "error")
    # only the one base with a manager's slips has errors, and only those slips
    assert set(codes) <= {"score-not-number", "score-comment-required"}, codes
    failing = {r.department for r in reports if r.status == "error"}
    assert failing == {"售后服务部"}
    for report in reports:
        rulebook = company.require(report.department)
        assert report.rulebook_fingerprint == rulebook.fingerprint()
        assert {p.role for p in report.employees} <= {r.name_zh for r in rulebook.roles} | {r.code for r in rulebook.roles}


def test_the_corpus_is_reused_and_a_foreign_folder_never_deleted(corpus, company, tmp_path):
    again = make_company_corpus(corpus.folder, 400, company)
    assert again.files == corpus.files and again.roster == corpus.roster
    (tmp_path / "mine.txt").write_text("HR's file", encoding="utf-8")
    with pytest.raises(CorpusFolderError):
        make_company_corpus(tmp_path, 400, company)
    assert (tmp_path / "mine.txt").exists()
