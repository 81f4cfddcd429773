"""A company's rulebooks: the company file, its departments, overrides HR allows, every problem at its file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kpisheet.validators.rulebook.company import Company, department_key
from kpisheet.validators.rulebook.company_load import load_company
from kpisheet.validators.rulebook.load import DEFAULT_RULEBOOK, default_rulebook, load_rulebook
from kpisheet.validators.rulebook.problems import RulebookError
from tests.support.paths import REPO_ROOT, SAMPLE_COMPANY


@pytest.fixture()
def company_dir(tmp_path) -> Path:
    """A copy of the sample company's rulebooks, free to edit."""
    target = tmp_path / "company"
    shutil.copytree(SAMPLE_COMPANY, target, ignore=shutil.ignore_patterns("*.xlsx", "*.py"))
    return target


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _line_of(path: Path, needle: str, start: int = 0) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n in range(start, len(lines)) if needle in lines[n]) + 1


def _problems(*paths) -> list:
    with pytest.raises(RulebookError) as caught:
        load_company(list(paths))
    assert caught.value.exit_code == 2
    return caught.value.problems


# --- the sample ---------------------------------------------------------------------------


def test_sample_company_has_three_departments_each_its_own_rules():
    company = load_company(SAMPLE_COMPANY)
    assert not company.single
    assert company.names_zh() == ["售后服务部", "销售部", "研发中心"]
    aftersales, sales, rd = company.departments
    # the after-sales department under the company is exactly the built-in after-sales rulebook
    assert aftersales.rulebook == default_rulebook() and aftersales.overrides == ()
    assert {r.code for r in sales.rulebook.roles} == {"sales_rep", "key_account", "sales_ops"}
    assert [c.weight for c in sales.rulebook.categories] == [70, 20, 10] and sales.overrides == ("categories",)
    assert rd.rulebook.eligibility.min_months_in_post == 3 and rd.overrides == ("eligibility.min_months_in_post",)
    # one grade scale, one coefficient table, one calendar
    for department in (sales, rd):
        assert department.rulebook.grades == aftersales.rulebook.grades
        assert department.rulebook.periods == aftersales.rulebook.periods
        assert department.rulebook.appeals == aftersales.rulebook.appeals
    assert len({d.fingerprint for d in company.departments}) == 3


@pytest.mark.parametrize("given", [
    lambda d: [d],                                            # a folder
    lambda d: [d / "company.yaml"],                           # the company file: its listed departments
    lambda d: [d / "company.yaml", d / "departments" / "rd.yaml"],  # plus a file already listed: once
])
def test_ways_to_name_the_set(company_dir, given):
    assert load_company(given(company_dir)).names_zh() == ["售后服务部", "销售部", "研发中心"]


def test_without_a_list_the_departments_beside_the_company_file_are_found(company_dir):
    _edit(company_dir / "company.yaml", """  departments:
    - departments/aftersales.yaml
    - departments/sales.yaml
    - departments/rd.yaml
""", "")
    assert sorted(load_company(company_dir / "company.yaml").names_zh()) == ["售后服务部", "研发中心", "销售部"]


def test_routing_by_department_name(company_dir):
    company = load_company(company_dir)
    assert company.rulebook_for("销售部").meta.id == "example-sales"
    assert company.rulebook_for(" 研发中心 ").meta.id == "example-rd"  # spaces as a roster may carry them
    assert company.rulebook_for("R&D Center").meta.id == "example-rd"
    assert company.rulebook_for("财务部") is None
    assert department_key("售后服务部") == department_key("售后服务部　")


# --- a single rulebook is a company of one, loading exactly as before -----------------------


@pytest.mark.parametrize("path", [None, REPO_ROOT / "validators" / "rulebook" / "data" / DEFAULT_RULEBOOK])
def test_a_single_rulebook_is_a_company_of_one(path):
    company = load_company(path)
    assert company.single and len(company.departments) == 1
    assert company.first == (load_rulebook(path) if path else default_rulebook())
    assert company.first.fingerprint() == default_rulebook().fingerprint()
    # every department of a roster goes to it, as before company rulebooks existed
    assert company.rulebook_for("任何部门") is company.first and company.rulebook_for("") is company.first


def test_an_xlsx_rulebook_is_a_company_of_one(tmp_path):
    from kpisheet.validators.rulebook.xlsx import dump_xlsx

    dump_xlsx(default_rulebook(), tmp_path / "r.xlsx")
    assert load_company(tmp_path / "r.xlsx").first == default_rulebook()


def test_a_department_file_alone_says_to_bring_its_company(company_dir):
    (problem,) = _problems(company_dir / "departments" / "sales.yaml")
    assert "company" in problem.message_en and "公司规则表" in problem.message_zh


def test_of_one_needs_a_rulebook():
    with pytest.raises(ValueError):
        Company(())


# --- overrides ---------------------------------------------------------------------------


def test_a_department_overriding_a_setting_it_may_not_is_located(company_dir):
    rd = company_dir / "departments" / "rd.yaml"
    _edit(rd, "eligibility:\n  min_months_in_post: 3\n",
          "eligibility:\n  min_months_in_post: 3\ndistribution:\n  s_max: 0.2\n")
    (problem,) = _problems(company_dir)
    assert problem.file == "departments/rd.yaml" and problem.location == "distribution.s_max"
    assert problem.line == _line_of(rd, "s_max: 0.2")
    assert "overridable" in problem.message_en and "不允许" in problem.message_zh
    assert "0.1" in problem.message_en  # the company's value, for comparison


def test_grades_can_never_be_declared_overridable(company_dir):
    company = company_dir / "company.yaml"
    _edit(company, "    - categories ", "    - grades\n    - categories ")
    (problem,) = _problems(company_dir)
    assert problem.file == "company.yaml" and problem.location == "company.overridable[0]"
    assert problem.line == _line_of(company, "- grades")
    assert "grade scale" in problem.message_en


def test_an_overridable_path_must_name_a_setting(company_dir):
    _edit(company_dir / "company.yaml", "    - comments.self_gap", "    - comments.self_gapp")
    (problem,) = _problems(company_dir)
    assert problem.location == "company.overridable[1]" and "not a setting" in problem.message_en


def test_a_copy_of_the_company_value_is_not_an_override(company_dir):
    _edit(company_dir / "departments" / "rd.yaml", "eligibility:\n",
          "grades:\n" + "\n".join("  - " + line for line in (
              "{grade: S, min: 90, coefficient: 1.3, name_zh: 卓越, name_en: Outstanding}",
              "{grade: A, min: 80, coefficient: 1.15, name_zh: 优秀, name_en: Excellent}",
              "{grade: B, min: 70, coefficient: 1.0, name_zh: 良好, name_en: Good}",
              "{grade: C, min: 60, coefficient: 0.8, name_zh: 待改进, name_en: Needs improvement}",
              "{grade: D, min: 0, coefficient: 0.5, name_zh: 不合格, name_en: Unsatisfactory}")) + "\neligibility:\n")
    rd = load_company(company_dir).rulebook_for("研发中心")
    assert rd.grades == default_rulebook().grades


def test_a_standalone_rulebook_copy_is_a_department_while_it_agrees(company_dir):
    """A rulebook written before the company file (all sections, equal to the company's) serves as a department."""
    _edit(company_dir / "company.yaml", "    - departments/aftersales.yaml",
          "    - ../../default.yaml")
    shutil.copy(REPO_ROOT / "validators" / "rulebook" / "data" / DEFAULT_RULEBOOK, company_dir.parent.parent / "default.yaml")
    assert load_company(company_dir).departments[0].rulebook == default_rulebook()
    _edit(company_dir.parent.parent / "default.yaml", "coefficient: 1.3", "coefficient: 1.4")
    (problem,) = _problems(company_dir)
    assert problem.file.endswith("default.yaml") and problem.location == "grades"
    company = company_dir / "company.yaml"
    assert f"company.yaml line {_line_of(company, 'grades:')}" in problem.message_en  # where the company's list is


def test_an_allowed_override_of_one_key_keeps_the_rest_of_the_section(company_dir):
    _edit(company_dir / "departments" / "sales.yaml", "roles:\n", "comments:\n  self_gap: 1.5\n\nroles:\n")
    sales = load_company(company_dir).rulebook_for("销售部")
    assert sales.comments.self_gap == 1.5 and sales.comments.extreme_high == default_rulebook().comments.extreme_high


def test_categories_keep_the_company_codes(company_dir):
    _edit(company_dir / "departments" / "sales.yaml", "{code: attitude, name_zh: 工作态度", "{code: behaviour, name_zh: 工作态度")
    problems = _problems(company_dir)
    assert any(p.file == "departments/sales.yaml" and p.location == "categories" and "names" in p.message_en
               for p in problems)


# --- problems at the right file ------------------------------------------------------------


def test_a_broken_company_setting_is_reported_once_at_the_company_file(company_dir):
    company = company_dir / "company.yaml"
    _edit(company, "{grade: A, min: 80,", "{grade: A, min: 95,")
    problems = _problems(company_dir)
    at_grades = [p for p in problems if p.location == "grades[1].min"]
    assert len(at_grades) == 1  # not once per department
    assert at_grades[0].file == "company.yaml" and at_grades[0].line == _line_of(company, "min: 95")
    assert all(p.file == "company.yaml" for p in problems)


def test_a_department_problem_is_at_its_file_and_line(company_dir):
    sales = company_dir / "departments" / "sales.yaml"
    _edit(sales, "SALES_REV: 30, SALES_COLLECT: 20", "SALES_REV: 30, SALES_COLLECT: 25")
    problems = _problems(company_dir)
    assert {p.file for p in problems} == {"departments/sales.yaml"}
    assert any(p.location == "roles[0].weights" and "105" in p.message_en for p in problems)
    assert all(p.line == _line_of(sales, "SALES_COLLECT: 25") for p in problems if p.location == "roles[0].weights")
    assert str(problems[0]).startswith("departments/sales.yaml: ")


def test_a_missing_department_file_is_at_the_company_list(company_dir):
    (company_dir / "departments" / "rd.yaml").unlink()
    (problem,) = _problems(company_dir)
    assert problem.file == "company.yaml" and problem.location == "company.departments[2]"


def test_department_sections_do_not_belong_in_the_company_file(company_dir):
    _edit(company_dir / "company.yaml", "records:\n", "roles: []\nrecords:\n")
    (problem,) = _problems(company_dir)
    assert problem.location == "roles" and "department rulebook" in problem.message_en


@pytest.mark.parametrize("count", [0, 2])
def test_a_folder_needs_exactly_one_company_file(company_dir, count):
    if count == 0:
        (company_dir / "company.yaml").unlink()
    else:
        shutil.copy(company_dir / "company.yaml", company_dir / "company2.yaml")
    (problem,) = _problems(company_dir)
    assert "company" in problem.message_en


# --- conflicts between departments ---------------------------------------------------------


def test_an_indicator_code_meaning_two_things(company_dir):
    rd = company_dir / "departments" / "rd.yaml"
    _edit(rd, "    name_zh: 客户满意度\n    name_en: Customer satisfaction\n    category: results\n    unit: percent",
          "    name_zh: 客户满意度\n    name_en: Customer satisfaction\n    category: results\n    unit: count")
    _edit(rd, "- code: CSAT\n    name_zh: 客户满意度\n    name_en: Customer satisfaction\n    category: results\n"
              "    unit: count\n    method: higher_better\n    floor: 0.80\n    target: 0.95\n    challenge: 1.0",
          "- code: CSAT\n    name_zh: 客户满意度\n    name_en: Customer satisfaction\n    category: results\n"
              "    unit: count\n    method: higher_better\n    floor: 80\n    target: 95\n    challenge: 100")
    (problem,) = _problems(company_dir)
    assert problem.file == "departments/rd.yaml" and problem.location.endswith(".unit")
    assert "CSAT" in problem.message_en and "departments/aftersales.yaml" in problem.message_en
    assert problem.line == _line_of(rd, "unit: count", _line_of(rd, "code: CSAT"))


def test_a_role_in_two_departments_with_different_indicators(company_dir):
    _edit(company_dir / "departments" / "rd.yaml", "  - code: tester\n    name_zh: 测试工程师",
          "  - code: tester\n    name_zh: 客服专员")
    (problem,) = _problems(company_dir)
    assert problem.file == "departments/rd.yaml" and problem.location == "roles[1]"
    assert "客服专员" in problem.message_zh and "CS_ANSWER" in problem.message_en


def test_the_same_role_with_the_same_indicators_is_fine(company_dir):
    _edit(company_dir / "departments" / "rd.yaml", "  - code: developer\n", "  - code: engineer2\n")
    assert load_company(company_dir).rulebook_for("研发中心").role("engineer2")


def test_two_departments_claiming_one_team(company_dir):
    _edit(company_dir / "departments" / "sales.yaml", "\nroles:\n", "\nteams: [华北大区, 客服中心]\n\nroles:\n")
    _edit(company_dir / "departments" / "aftersales.yaml", "\nroles:\n", "\nteams: [客服中心, 技术支持组]\n\nroles:\n")
    (problem,) = _problems(company_dir)
    assert problem.file == "departments/sales.yaml" and problem.location == "teams[1]"
    assert "客服中心" in problem.message_zh and "售后服务部" in problem.message_zh


def test_one_department_given_by_two_rulebooks(company_dir):
    shutil.copy(company_dir / "departments" / "rd.yaml", company_dir / "departments" / "rd2.yaml")
    _edit(company_dir / "departments" / "rd2.yaml", "id: example-rd", "id: example-rd2")
    problems = _problems(company_dir / "company.yaml", company_dir / "departments" / "rd2.yaml")
    assert {p.location for p in problems} == {"meta.department_zh", "meta.department_en"}
    assert all(p.file == "departments/rd2.yaml" for p in problems)


# --- the view one master across departments shows ---------------------------------------------


def test_the_company_view_holds_every_department_indicator_once_and_the_company_settings():
    company = load_company(SAMPLE_COMPANY)
    view = company.whole
    assert view.meta.id == "example-company"
    codes = [i.code for i in view.indicators]
    assert len(codes) == len(set(codes)) and {"ENG_FIX_RATE", "SALES_REV", "RD_DEFECT", "CSAT"} <= set(codes)
    assert {r.code for r in view.roles} == {r.code for d in company.departments for r in d.rulebook.roles}
    # the company's own settings, not a department's overrides
    assert [c.weight for c in view.categories] == [60, 25, 15]
    assert view.eligibility.min_months_in_post == 2 and view.grades == default_rulebook().grades
    assert company.rules_of("研发中心").eligibility.min_months_in_post == 3
    assert company.rules_of("不存在的部门") is view


def test_a_company_setting_every_department_overrides_is_still_checked(company_dir):
    _edit(company_dir / "company.yaml", "    - comments.self_gap ", "    - comments ")
    _edit(company_dir / "company.yaml", "  self_gap: 2\n", "  self_gap: -1\n")
    for name in ("aftersales", "sales", "rd"):
        _edit(company_dir / "departments" / f"{name}.yaml", "\nroles:\n",
              "\ncomments: {extreme_high: 110, extreme_low: 40, self_gap: 2}\n\nroles:\n")
    (problem,) = _problems(company_dir)
    assert problem.file == "company.yaml" and problem.location == "comments.self_gap"


def test_a_single_rulebook_is_its_own_whole():
    company = load_company(None)
    assert company.whole is company.first and company.rules_of("任何部门") is company.first


def test_categories_keep_the_company_names(company_dir):
    _edit(company_dir / "departments" / "sales.yaml", "name_zh: 工作业绩, name_en: Results, weight: 70",
          "name_zh: 销售业绩, name_en: Results, weight: 70")
    (problem,) = _problems(company_dir)
    assert problem.location == "categories" and "工作业绩" in problem.message_zh
