"""A roster written by someone who wants kpisheet to write formulas, odd file names and invisible text.

The sample roster's people, with every text a person could type made hostile:
a department and teams that start like a formula (``=``, ``+``, ``-``, ``@``, a
tab), a web address kpisheet must not turn into a link, control characters
and a right-to-left override in team names, a 250-character team and a
250-character employee name, and names that are formulas. ``MARKERS`` are
substrings that appear in no formula kpisheet makes itself: a ``<f>``
element holding one was written from the roster.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from kpisheet.xladdin.demo.sample_roster import SEED, build_people, write_roster

DEPARTMENT = '=HYPERLINK("http://evil.example/dept","点这里")&"售后服务部"'
TEAMS = {
    "华东工程一组": "=1+1 华东\x07工程\x1b一组",
    "华东工程二组": "http://evil.example/t2 +SUM(7,8) 华东工程二组",
    "华南工程组": "-2+3 华南\u202eexe.xlsx\x1b[2J",  # and an ANSI escape that would clear a terminal
    "客服中心": "@SUM(9,9) 客服中心[/][link=http://evil.example/x]",  # rich markup, for the console
    "技术支持组": "\t=HYPERLINK(\"http://evil.example/ts\",\"ts\")" + "技术支持组" * 50,
}
LONG_NAME = '=HYPERLINK("http://evil.example/name","n")' + "张" * 220
MARKERS = ("evil.example", "SUM(7,8)", "SUM(9,9)", "1+1", "2+3")


def hostile_people() -> list[dict]:
    import random

    people = build_people(random.Random(SEED))
    for i, person in enumerate(people):
        person["department"] = DEPARTMENT
        person["team"] = TEAMS[person["team"]]
        if i == 1:
            person["name"] = LONG_NAME
        elif i % 7 == 3:
            person["name"] = f"=CONCAT(\"{person['name']}\",\"SUM(9,9)\")"
    return people


def write_hostile_roster(path: Path) -> Path:
    write_roster(hostile_people(), Path(path))
    return Path(path)


_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)


def formulas_in(path: Path) -> dict[str, list[bytes]]:
    """Every ``<f>`` element's text in every XML part of the xlsx at ``path``, by part."""
    found: dict[str, list[bytes]] = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.endswith((".xml", ".rels", ".vml")):
                texts = [m.group(1) or b"" for m in _FORMULA.finditer(archive.read(name))]
                if texts:
                    found[name] = texts
    return found


def hostile_formulas(path: Path) -> list[tuple[str, bytes]]:
    """(part, formula) for each ``<f>`` in ``path`` that holds text from the hostile roster."""
    markers = [m.encode() for m in MARKERS] + [b"CONCAT", b"HYPERLINK"]
    return [(part, text) for part, texts in formulas_in(path).items() for text in texts
            if any(m in text for m in markers)]


def parts_text(path: Path) -> str:
    """All XML parts of ``path`` as one text, for checking that a hostile string arrived as text."""
    with zipfile.ZipFile(path) as archive:
        return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                         if n.endswith(".xml"))
