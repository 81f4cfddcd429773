"""What LibreOffice prints: A4 landscape pages, no ##### cells, the personal form on
one page, no employee split across pages, no text drawn over other text, and PNGs
a person can look at."""

from __future__ import annotations

import math
import re
import subprocess
import unicodedata
from pathlib import Path

import openpyxl
import pytest

from kpisheet.validators import layout as L
from kpisheet.validators.roster import read_roster, teams
from kpisheet.workbook_templates.filler import fill_team_workbook
from kpisheet.workbook_templates.team_workbook import build_team_workbook
from kpisheet.xladdin.kit.libreoffice import pdf_to_png, to_pdf
from tests.support.paths import REPO_ROOT
from tests.support.rendering import A4_LANDSCAPE, page_sizes, page_texts, poppler as _poppler

ROSTER = REPO_ROOT / "samples" / "roster.xlsx"
def biggest_team(folder: Path, rulebook) -> tuple[Path, list]:
    """The biggest team of the sample roster as a blank team workbook."""
    (dept, team), members = max(teams(read_roster(ROSTER, rulebook)).items(), key=lambda kv: len(kv[1]))
    return build_team_workbook(folder / "team.xlsx", rulebook, "2026-Q4", dept, team, members), members


@pytest.fixture(scope="module")
def filled(tmp_path_factory, rulebook) -> Path:
    """The biggest team filled by the seeded filler, a third of the inputs at the
    edges, so that comments for extreme scores and rating gaps (the longest) occur."""
    folder = tmp_path_factory.mktemp("filled")
    blank, _ = biggest_team(folder, rulebook)
    fill_team_workbook(blank, folder / "filled.xlsx", seed=3, boundary=0.3)
    return folder / "filled.xlsx"


@pytest.fixture(scope="module")
def rendered(soffice, tmp_path_factory, rulebook):
    """The biggest team of the sample roster, as LibreOffice prints it."""
    folder = tmp_path_factory.mktemp("render")
    path, members = biggest_team(folder, rulebook)
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


# --- long text -------------------------------------------------------------------

# the free-text columns, by sheet: what managers write sentences into
FREE_TEXT = {L.GOALS: ("smart",), L.SCORES: ("comment",),
             L.SUMMARY: ("feedback", "pip_shortfalls", "pip_actions")}
LINE_SPACING = 1.35  # a line of text takes 1.35 times its font size (Excel: 13.5 points at 10 points)


def excel_lines(text: str, width: float) -> int:
    """Lines ``text`` takes in a wrapping cell ``width`` characters wide, counted
    the way Excel wraps, erring long: a CJK (or ambiguous-width) character is two
    units, anything else one; CJK breaks anywhere, a run of other characters moves
    to the next line whole; about a unit goes to the cell's padding."""
    room = width - 1
    lines = 0
    for paragraph in str(text).split("\n"):
        tokens = re.findall(r"[ ]+|[\x21-\x7e]+|.", paragraph)
        used, count = 0.0, 1
        for token in tokens:
            size = sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in token)
            if used + size <= room:
                used += size
            elif token.isspace():
                count, used = count + 1, 0
            elif size <= room:
                count, used = count + 1, size
            else:  # a run longer than a line is cut wherever it reaches the edge
                count += math.ceil((used + size) / room) - 1
                used = (used + size) % room
        lines += count
    return lines


def _free_text_cells(book, sheet: str, rulebook):
    columns = L.summary_columns(rulebook) if sheet == L.SUMMARY else (
        L.GOAL_COLUMNS if sheet == L.GOALS else L.SCORE_COLUMNS)
    ws = book[sheet]
    for key in FREE_TEXT[sheet]:
        col = L.column_index(columns, key) + 1
        for row in range(L.FIRST_DATA_ROW + 1, ws.max_row + 1):
            if ws.cell(row, 1).value:
                yield ws, ws.cell(row, col)


def test_free_text_cells_clip_at_their_foot_instead_of_spilling(filled, rulebook):
    """Wrapped and top-aligned: text longer than its row is cut off at the cell's
    foot. Centred text that does not fit is drawn by LibreOffice over the rows
    above and below (what managers saw before)."""
    book = openpyxl.load_workbook(filled)
    for sheet in FREE_TEXT:
        cells = list(_free_text_cells(book, sheet, rulebook))
        assert cells
        for _, cell in cells:
            assert cell.alignment.wrap_text and cell.alignment.vertical == "top", f"{sheet}!{cell.coordinate}"


def test_goals_and_comments_fit_in_their_rows_as_excel_wraps_them(filled, rulebook):
    """The rows hold the SMART descriptions and comments managers typically write
    (the filler's) in full: the row height in the sheet XML fits the wrapped lines
    the text needs at the column's width."""
    book = openpyxl.load_workbook(filled)
    for sheet in (L.GOALS, L.SCORES):
        wrapped = 0
        for ws, cell in _free_text_cells(book, sheet, rulebook):
            if not isinstance(cell.value, str):
                continue
            width = ws.column_dimensions[cell.column_letter].width
            height = ws.row_dimensions[cell.row].height
            assert height, f"{sheet} row {cell.row} has no fixed height: page breaks would not hold"
            need = excel_lines(cell.value, width)
            shown = int(height // (cell.font.sz * LINE_SPACING))
            assert need <= shown, (f"{sheet}!{cell.coordinate}: {need} lines of text in a row that shows {shown}"
                                   f" (width {width}, height {height}): {cell.value}")
            wrapped += need > 1
        assert wrapped, f"no text on {sheet} needed a second line: the check above proved nothing"


def word_boxes(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Per page, every word pdftotext finds with its box (x0, y0, x1, y1, text)."""
    out = subprocess.run([_poppler("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
    return [[(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in word.findall(page)]
            for page in re.findall(r"<page .*?</page>", out, re.S)]


def overlapping_words(boxes) -> list[tuple[str, str]]:
    """Pairs of words drawn over each other: their boxes share more than a point
    across and over a quarter of a line's height (neighbours on a line only touch,
    consecutive lines only graze)."""
    found = []
    boxes = sorted(boxes, key=lambda b: b[1])
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if b[1] >= a[3]:
                break
            across = min(a[2], b[2]) - max(a[0], b[0])
            down = min(a[3], b[3]) - max(a[1], b[1])
            if across > 1 and down > 0.25 * min(a[3] - a[1], b[3] - b[1]):
                found.append((a[4], b[4]))
    return found


@pytest.fixture(scope="module")
def filled_pdf(soffice, filled, tmp_path_factory) -> Path:
    # the private profile recalculates on load, so the PDF shows computed scores
    return to_pdf(filled, tmp_path_factory.mktemp("filled_pdf"))


def test_no_text_is_drawn_over_other_text(filled_pdf):
    """A wrapped line that does not fit its row lands on the next row's text (or,
    clipped, still sits in the PDF's text layer there): no two words may overlap."""
    pages = word_boxes(filled_pdf)
    texts = "".join(w[4] for page in pages for w in page)
    assert "考核期内" in texts and "已面谈" in texts  # SMART text and long comments are on the pages
    for number, boxes in enumerate(pages, start=1):
        overlaps = overlapping_words(boxes)
        assert not overlaps, f"page {number}: text drawn over other text: {overlaps[:3]}"
