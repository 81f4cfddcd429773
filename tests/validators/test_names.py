"""One rule for names from people: identities cleaned the same on write and read, file names safe everywhere."""

from __future__ import annotations

import pytest

from kpisheet.validators.errors import UsageError
from kpisheet.validators.names import (
    MAX_NAME_BYTES, clean_text, distinct_file_names, inside, safe_file_name,
)
from kpisheet.workbook_templates.team_workbook import team_file_name


def test_clean_text_removes_what_nobody_can_see():
    assert clean_text("华东\x07工程\x1b一组") == "华东工程一组"
    assert clean_text("\u202eexe.xlsx") == "exe.xlsx"
    assert clean_text("客服\u200b中心\ufeff") == "客服中心"
    assert clean_text("一组\r\n二组\t三组") == "一组 二组 三组"
    assert clean_text("华东_x0007_工程") == "华东工程"  # the xlsx escape of \x07, as openpyxl leaves it
    assert clean_text("a_x0041_b") == "a_x0041_b"  # a printable escape is the text someone typed
    assert clean_text("售后服务部　一组") == "售后服务部　一组"  # the ideographic space is a real space
    plain = "华东工程一组"
    assert clean_text(plain) is plain


def test_team_file_names_stay_short_and_distinct():
    long_a, long_b = "技术支持组" * 50, "技术支持组" * 49 + "客服"
    a, b = team_file_name("2026-Q4", "售后服务部", long_a), team_file_name("2026-Q4", "售后服务部", long_b)
    assert a != b and a.startswith("2026-Q4_售后服务部_技术支持组") and a.endswith(".xlsx")
    assert len(a.encode("utf-8")) <= MAX_NAME_BYTES and len(b.encode("utf-8")) <= MAX_NAME_BYTES
    assert team_file_name("2026年第4季度", "售后服务部", "华东工程一组") == "2026-Q4_售后服务部_华东工程一组.xlsx"


@pytest.mark.parametrize("parts, expected", [
    (["CON"], "_CON.xlsx"),
    (["nul.txt"], "_nul.txt.xlsx"),
    (["COM1 "], "_COM1.xlsx"),
    ([".."], "-.xlsx"),
    (["../../etc/passwd"], "-..-etc-passwd.xlsx"),
    (["a\u202eb", "c\x00d"], "ab_cd.xlsx"),
])
def test_reserved_traversing_and_invisible_names(parts, expected):
    assert safe_file_name(parts) == expected


def test_names_the_cleaning_made_equal_get_their_own_hash():
    names = distinct_file_names([["2026-Q4", "a/b"], ["2026-Q4", "a:b"], ["2026-Q4", "A:B"], ["2026-Q4", "c"]])
    assert len({n.casefold() for n in names}) == 4 and names[-1] == "2026-Q4_c.xlsx"
    assert all("~" in n for n in names[:3])


def test_a_fixed_suffix_is_never_cut():
    name = safe_file_name(["2026-Q3", "E1001", "张" * 250], "_绩效结果通知书.xlsx")
    assert name.endswith("~" + name.split("~")[1]) and name.endswith("_绩效结果通知书.xlsx")
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES


def test_inside_refuses_a_name_that_leaves_the_folder(tmp_path):
    assert inside(tmp_path, "a.xlsx") == tmp_path / "a.xlsx"
    for bad in ("../a.xlsx", "sub/a.xlsx", "..", "/etc/passwd"):
        with pytest.raises(UsageError):
            inside(tmp_path, bad)
    (tmp_path / "link.xlsx").symlink_to(tmp_path.parent / "elsewhere.xlsx")
    with pytest.raises(UsageError):
        inside(tmp_path, "link.xlsx")
