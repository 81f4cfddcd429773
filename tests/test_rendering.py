"""What LibreOffice prints: A4 landscape pages, no ##### cells, the personal form on
one page, no employee split across pages, and PNGs a person can look at."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import require
from validators import layout as L
from validators.roster import read_roster, teams
from workbook_templates.team_workbook import build_team_workbook
from xladdin.libreoffice import pdf_to_png, to_pdf

ROSTER = Path(__file__).parent.parent / "samples" / "roster.xlsx"
A4_LANDSCAPE = (841.89, 595.28)


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    require(path is not None, f"{tool} (poppler-utils)")
    return path


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    out = subprocess.run([_poppler("pdfinfo"), "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True,
                         check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", out)]


def page_texts(pdf: Path, count: int) -> list[str]:
    tool = _poppler("pdftotext")
    return [subprocess.run([tool, "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout for i in range(1, count + 1)]


@pytest.fixture(scope="module")
def rendered(soffice, tmp_path_factory, rulebook):
    """The biggest team of the sample roster, as LibreOffice prints it."""
    folder = tmp_path_factory.mktemp("render")
    (dept, team), members = max(teams(read_roster(ROSTER, rulebook)).items(), key=lambda kv: len(kv[1]))
    path = build_team_workbook(folder / "team.xlsx", rulebook, "2026-Q4", dept, team, members)
    pdf = to_pdf(path, folder)
    sizes = page_sizes(pdf)
    return pdf, sizes, page_texts(pdf, len(sizes)), members


def test_every_page_is_a4_landscape(rendered):
    _, sizes, _, _ = rendered
    assert len(sizes) >= 6  # guide, goals, scores, summary (two across), personal form
    for width, height in sizes:
        assert width == pytest.approx(A4_LANDSCAPE[0], abs=1) and height == pytest.approx(A4_LANDSCAPE[1], abs=1)


def test_no_hash_marks_and_page_numbers_add_up(rendered):
    _, sizes, texts, _ = rendered
    for i, text in enumerate(texts, start=1):
        assert "###" not in text, f"page {i} shows a cell too narrow for its number"
        assert f"第 {i} 页 / 共 {len(sizes)} 页" in text


def test_the_personal_form_prints_on_one_page(rendered):
    _, _, texts, _ = rendered
    pages = [i for i, t in enumerate(texts) if "员工绩效考核表" in t]
    assert len(pages) == 1
    form = texts[pages[0]]
    for heading in ("一、考核指标", "二、考核结果", "三、反馈面谈记录", "四、绩效改进计划", "五、签字确认"):
        assert heading in form


def test_no_employee_is_split_across_pages(rendered):
    _, _, texts, members = rendered
    ids = {m.employee_id for m in members}
    for marker in ("SMART", "Evidence / comment"):  # the goals and the scores sheets' repeated headers
        pages = [t for t in texts if marker in t and "员工绩效考核表" not in t]
        assert len(pages) >= 2, f"expected the {marker} sheet to need several pages"
        seen: dict[str, int] = {}
        for number, text in enumerate(pages):
            for emp in set(re.findall(r"\b[A-Z]{2}\d{4}\b", text)) & ids:
                assert seen.setdefault(emp, number) == number, f"{emp} is split across pages ({marker})"
        assert set(seen) == ids


def test_pages_render_to_png(rendered, tmp_path):
    pdf, sizes, _, _ = rendered
    _poppler("pdftoppm")
    pngs = pdf_to_png(pdf, tmp_path / "page", dpi=40)
    assert len(pngs) == len(sizes)
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width > height  # landscape


def test_blank_guide_names_the_sheets(rendered):
    _, _, texts, _ = rendered
    first = texts[0]
    assert "填写说明" in first and "颜色说明" in first
    assert all(name in "".join(texts) for name in (L.GOALS, L.SCORES, L.SUMMARY, L.PERSONAL))
