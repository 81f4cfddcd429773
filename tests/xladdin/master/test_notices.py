"""`kpisheet notices`: one print-ready notice per employee, holding only that employee's data."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
from tests.support.master_builders import build_master, digest, rows, run
from tests.support.master_fakes import make_employee

from kpisheet.validators.roster import Employee
from kpisheet.xladdin.kit import libreoffice
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.appeals import published_on
from kpisheet.xladdin.master.io import read_master
from kpisheet.xladdin.master.notices import build_notices, notice_filename, write_notice

PERIOD = "2026-Q3"
PEOPLE = {"E1001": ("张晓明", 1.0), "E1002": ("李雪梅", 0.62), "E1003": ("王建国", 0.4), "E1004": ("赵丽娜", 0.8)}
FEEDBACK = "已于10月9日面谈：客户回访及时，需加强故障定位"


def staff(employee_id: str, name: str, manager: str | None = "M001") -> Employee:
    return Employee(employee_id, name, "售后服务部", "一组", "engineer", manager, dt.date(2020, 1, 1),
                    dt.date(2020, 1, 1), "正式")


@pytest.fixture
def master(tmp_path, rulebook):
    people = [make_employee(rulebook, pid, name, level=level, comment=f"{name}的说明：{FEEDBACK}")
              for pid, (name, level) in PEOPLE.items()]
    roster = [staff(pid, name) for pid, (name, _lvl) in PEOPLE.items()] + [staff("M001", "周经理", None)]
    return build_master(tmp_path / "master.xlsx", rulebook, {"一组": people}, PERIOD, roster=roster)


def zip_text(path: Path) -> str:
    """Every part of the .xlsx, decoded: what a curious reader could find inside."""
    with zipfile.ZipFile(path) as archive:
        return "\n".join(archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist())


def cells(path: Path) -> list:
    ws = openpyxl.load_workbook(path)["绩效结果通知书"]
    return [c.value for row in ws.iter_rows() for c in row if c.value is not None]


def test_each_notice_holds_only_its_own_employee(master, tmp_path, monkeypatch):
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    out = tmp_path / "notices"
    result = run("notices", "--master", str(master), "--period", PERIOD, "--out", str(out),
                 "--published", "2026-09-30")
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.xlsx"))
    assert len(files) == len(PEOPLE)
    for path in files:
        own = next(pid for pid in PEOPLE if pid in path.name)
        text = zip_text(path)
        assert own in text and PEOPLE[own][0] in text          # the scan reads the parts that hold the data
        for other, (name, _lvl) in PEOPLE.items():
            if other != own:
                assert other not in text and name not in text, (path.name, other)
    assert "已跳过 PDF" in result.output and not list(out.glob("*.pdf"))


def test_notice_content(master, tmp_path, rulebook):
    data = read_master(master, rulebook)
    notices, skipped = build_notices(data, rulebook, PERIOD, dt.date(2026, 9, 30))
    assert not skipped and [n.employee_id for n in notices] == sorted(PEOPLE)
    detail = [r for r in data.rows(L.DETAIL) if r["employee_id"] == "E1003"]
    weak = next(n for n in notices if n.employee_id == "E1003")
    path = write_notice(tmp_path / notice_filename(weak), weak, rulebook)
    assert path.name == "2026-Q3_E1003_王建国_绩效结果通知书.xlsx"
    values = cells(path)
    text = "\n".join(str(v) for v in values)

    row = weak.row
    assert row["final_grade"] == "D"
    assert "D 不合格 Unsatisfactory" in values and row["coefficient"] in values and row["total"] in values
    assert "王建国" in values and "E1003" in values and "周经理（M001）" in values
    assert "2026年第3季度 / 2026 Q3" in values
    for line in detail:                                       # each indicator: weight, target, actual, score
        assert line["indicator"] in values
        assert line["weight"] in values and line["score"] in values and line["weighted"] in values
        for key in ("target", "actual"):
            if line[key] is not None:
                assert line[key] in values
        assert line["comment"] in values
    assert row["feedback"] in values
    assert "绩效改进计划" in text and "1–3 个月" in text           # D: improvement plan
    # appeal: file within 5 working days of Sep 30 over National Day -> Oct 13
    assert dt.datetime(2026, 10, 13) in values and "2026-10-13" in text and "5 个工作日" in text
    assert "估算" not in text

    strong = next(n for n in notices if n.employee_id == "E1001")
    strong_text = "\n".join(map(str, cells(write_notice(tmp_path / "s.xlsx", strong, rulebook))))
    assert "绩效改进计划" not in strong_text and "S 卓越 Outstanding" in strong_text


def test_calibrated_grade_is_explained_without_hr_text(master, tmp_path, rulebook):
    data = read_master(master, rulebook)
    row = next(r for r in data.rows(L.SUMMARY) if r["employee_id"] == "E1001")
    row.update(calibrated_grade="A", override_reason="与 E1004 赵丽娜 对比后调整", final_grade="A")
    notice = next(n for n in build_notices(data, rulebook, PERIOD, dt.date(2026, 9, 30))[0]
                  if n.employee_id == "E1001")
    text = zip_text(write_notice(tmp_path / "n.xlsx", notice, rulebook))
    assert "系统计算等级 S" in text and "经 HR 校准" in text
    assert "E1004" not in text and "赵丽娜" not in text


INTERNAL = ("未收录", "人工核对", "估算", "chinesecalendar", "verify by hand", "estimated")


def test_a_q4_notice_states_the_deadline_without_internal_text(tmp_path, rulebook):
    """2027 is in no holiday calendar here: the deadline is counted Monday to Friday and flagged to HR
    (申诉, `appeals`), but the employee's notice shows only the date."""
    master = build_master(tmp_path / "master.xlsx", rulebook,
                          {"一组": [make_employee(rulebook, "E2001", "孙可", level=0.7)]}, "2026-Q4")
    data = read_master(master, rulebook)
    notice = build_notices(data, rulebook, "2026-Q4", dt.date(2026, 12, 28))[0][0]
    assert notice.deadlines.estimated_years == (2027,)
    text = zip_text(write_notice(tmp_path / "q4.xlsx", notice, rulebook))
    assert "2027-01-04" in text
    for word in INTERNAL:
        assert word not in text, word


def test_a_holiday_schedule_in_the_rulebook_gives_the_exact_deadline(tmp_path, rulebook):
    from kpisheet.validators.rulebook.from_data import rulebook_from_data

    data_rb = rulebook.model_dump(mode="json")
    data_rb["holidays"] = [{"year": 2027, "source": "测试用 test", "holidays": ["2027-01-01..2027-01-03"]}]
    supplied = rulebook_from_data(data_rb, "t")
    master = build_master(tmp_path / "master.xlsx", supplied,
                          {"一组": [make_employee(supplied, "E2001", "孙可", level=0.7)]}, "2026-Q4")
    notice = build_notices(read_master(master, supplied), supplied, "2026-Q4", dt.date(2026, 12, 28))[0][0]
    assert notice.deadlines.file_by == dt.date(2027, 1, 5) and not notice.deadlines.estimated  # Jan 1 is off
    assert "2027-01-05" in zip_text(write_notice(tmp_path / "q4.xlsx", notice, supplied))


def test_a_notice_made_after_an_appeal_shows_the_revised_grade(master, tmp_path, rulebook, monkeypatch):
    from tests.support.master_builders import hr_edit

    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    out = tmp_path / "notices"
    assert run("notices", "--master", str(master), "--period", PERIOD, "--out", str(out), "--no-pdf",
               "--published", "2026-09-30").exit_code == 0
    before = {r["employee_id"]: r for r in rows(master, rulebook)}["E1003"]
    revised = "C" if before["final_grade"] != "C" else "B"
    hr_edit(master, L.APPEALS, None, {"考核期间": PERIOD, "工号": "E1003", "申诉日期": dt.date(2026, 10, 9),
                                      "申诉理由": "漏计表彰", "受理日期": dt.date(2026, 10, 12),
                                      "处理完成日期": dt.date(2026, 10, 20), "处理结果": "改定等级 revised",
                                      "改定等级": revised})
    assert run("appeals", "--master", str(master), "--today", "2026-10-21").exit_code == 0
    again = run("notices", "--master", str(master), "--period", PERIOD, "--out", str(out), "--no-pdf",
                "--published", "2026-09-30", "--force")  # replacing a period's notices is said out loud
    assert again.exit_code == 0, again.output
    path = next(out.glob("*E1003*.xlsx"))
    values = cells(path)
    grade = values[values.index("最终等级 Final grade") + 1]
    assert grade.startswith(f"{revised} ") and any("经申诉复核改定" in str(v) for v in values)
    coefficient = values[values.index("绩效系数 Pay coefficient") + 1]
    assert coefficient == rulebook.grade_band(revised).coefficient


def test_a_batch_makes_every_pdf_with_one_libreoffice_run(master, tmp_path, rulebook, soffice, monkeypatch):
    import subprocess

    from kpisheet.xladdin.master.notices import write_notices
    from tests.support.rendering import is_a4, page_sizes, page_texts

    runs = []
    real_run = subprocess.run

    def counted(cmd, *args, **kwargs):  # the real LibreOffice, counted
        runs.append(cmd)
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(libreoffice.subprocess, "run", counted)
    notices, _ = build_notices(read_master(master, rulebook), rulebook, PERIOD, dt.date(2026, 9, 30))
    seen = []
    batch = write_notices(notices, tmp_path / "out", rulebook, progress=lambda done, total: seen.append(done))
    assert len(runs) == 1 and seen == list(range(1, len(notices) + 1))
    assert not batch.failures and len(batch.pdfs) == len(batch.workbooks) == len(PEOPLE)
    for pdf in batch.pdfs:
        sizes = page_sizes(pdf)
        assert len(sizes) == 1 and is_a4(sizes[0], landscape=False)
        (text,) = page_texts(pdf)
        own = next(pid for pid in PEOPLE if pid in pdf.name)
        assert own in text and PEOPLE[own][0] in text and "2026-10-13" in text
        assert not any(other in text for other in PEOPLE if other != own)
        for word in INTERNAL:
            assert word not in text


def test_a_batch_without_libreoffice_writes_the_workbooks_and_says_so(master, tmp_path, rulebook, monkeypatch):
    from kpisheet.xladdin.master.notices import write_notices

    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    notices, _ = build_notices(read_master(master, rulebook), rulebook, PERIOD, dt.date(2026, 9, 30))
    batch = write_notices(notices, tmp_path / "out", rulebook)
    assert batch.pdf_skipped and not batch.pdfs and not batch.failures and len(batch.workbooks) == len(PEOPLE)


def test_publication_date_is_recorded_once(master, tmp_path, rulebook, monkeypatch):
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    out = tmp_path / "n"
    assert run("notices", "--master", str(master), "--period", "2026年第3季度", "--out", str(out),
               "--published", "2026-09-30").exit_code == 0
    assert published_on(read_master(master, rulebook).meta, PERIOD) == dt.date(2026, 9, 30)
    before = digest(master)
    # re-issued later without --published: the recorded date stands, the master is not rewritten
    refused = run("notices", "--master", str(master), "--period", PERIOD, "--out", str(out))
    assert refused.exit_code == 2 and "--force" in refused.output and digest(master) == before
    again = run("notices", "--master", str(master), "--period", PERIOD, "--out", str(out), "--force")
    assert again.exit_code == 0 and "2026-09-30" in again.output and digest(master) == before
    assert [e for e in rows(master, rulebook, L.LOG) if e["action"].startswith("结果公布")][0]["new"] == "2026-09-30"


@pytest.mark.parametrize(("args", "says"), [
    (("--period", "2026-Q1"), "没有 2026-Q1"),
    (("--period", "2026-Q9"), "--period"),
    (("--period", PERIOD, "--published", "30/09/2026"), "--published"),
])
def test_usage_errors(master, tmp_path, args, says):
    result = run("notices", "--master", str(master), "--out", str(tmp_path / "x"), *args)
    assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output


def test_pdf_and_rendering(master, tmp_path, soffice, rulebook):
    out = tmp_path / "notices"
    result = run("notices", "--master", str(master), "--period", PERIOD, "--out", str(out),
                 "--published", "2026-09-30")
    assert result.exit_code == 0, result.output
    pdfs = sorted(out.glob("*.pdf"))
    assert [p.stem for p in pdfs] == sorted(p.stem for p in out.glob("*.xlsx"))
    weak = next(p for p in pdfs if "E1003" in p.name)
    (tmp_path / "render").mkdir()
    pages = libreoffice.pdf_to_png(weak, tmp_path / "render" / "page", dpi=60)
    assert len(pages) == 1 and pages[0].stat().st_size > 20_000  # one A4 page with real content
