"""The company benchmark's workbooks: about ``employees / 12`` team submissions across a company's departments.

Built as the one-department corpus is (:mod:`kpisheet.xladdin.demo.bench_corpus`): a few base teams
are written from the department's own rules, filled by the filler (one base per department with a
manager's slips) and re-saved by LibreOffice in one run, then copied, each copy retargeted to a team
of its own (team name, employee IDs, structure fingerprint). Each department gets one base per role
of its rules (the company's first base carries a manager's slips) and its share of the people (the company roster's shares: after-sales 20%, sales 30%,
R&D 50%), so 100,000 people make about 8,000 workbooks, each validated by its own department's
rules. The corpus is kept in its folder and reused by the next run of the same size and rules.
"""

from __future__ import annotations

import hashlib
import json
import random
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.company import Company

from kpisheet.xladdin.demo.bench_corpus import (
    MANIFEST, PERIOD, SLIPS, clear_corpus_folder, employee_from_json, employee_json, retarget,
)
from kpisheet.xladdin.demo.company_roster import SHARES

CORPUS_VERSION = 1
SEED = 20261215
TEAM_SIZE = (10, 14)  # people in a base team, drawn per base: about 12 on average
# ASCII ID prefixes and all-CJK team stems per department of the example company; others get D1, D2...
PREFIXES = {"售后服务部": "SH", "销售部": "XS", "研发中心": "YF"}
_CJK_DIGITS = "〇一二三四五六七八九"


def _cjk(number: int, width: int) -> str:
    return "".join(_CJK_DIGITS[int(d)] for d in f"{number:0{width}d}")


@dataclass(frozen=True)
class CompanyCorpus:
    folder: Path
    files: list[Path]
    roster: list[Employee]
    saved_by: str
    bases: int
    departments: dict[str, int]  # department -> workbooks

    def to_dict(self) -> dict:
        return {"teams": len(self.files), "employees": len(self.roster), "bases": self.bases,
                "saved_by": self.saved_by, "period": PERIOD, "departments": self.departments,
                "folder": str(self.folder)}


@dataclass(frozen=True)
class _Base:
    department: str
    team: str
    prefix: str
    data: bytes
    people: list[Employee]


def company_fingerprint(company: Company) -> str:
    return hashlib.sha256("|".join(d.fingerprint for d in company.departments).encode()).hexdigest()[:16]


def make_company_corpus(folder: Path, employees: int, company: Company, *,
                        progress: Callable[[str, int, int], None] = lambda stage, done, total: None) -> CompanyCorpus:
    """Team submissions for about ``employees`` people in ``folder``/files; reuses an earlier corpus of the
    same size, version and rules."""
    existing = _reuse(folder, employees, company)
    if existing is not None:
        return existing
    clear_corpus_folder(folder)
    files_dir = folder / "files"
    files_dir.mkdir(parents=True)
    bases, saved_by = _bases(folder / "bases", company, progress)
    plan = _plan(company, employees, bases)
    files: list[Path] = []
    roster: list[Employee] = []
    counts: dict[str, int] = {}
    for n, (base, team, prefix) in enumerate(plan, start=1):
        target = files_dir / f"{PERIOD}_{base.department}_{team}.xlsx"
        target.write_bytes(retarget(base.data, base.team, team, base.prefix, prefix))
        files.append(target)
        roster += [replace(p, employee_id=p.employee_id.replace(base.prefix, prefix, 1),
                           manager_id=(p.manager_id or "").replace(base.prefix, prefix, 1) or None, team=team)
                   for p in base.people]
        counts[base.department] = counts.get(base.department, 0) + 1
        progress("copies", n, len(plan))
    (folder / MANIFEST).write_text(json.dumps({
        "version": CORPUS_VERSION, "employees": employees, "rules": company_fingerprint(company),
        "bases": len(bases), "saved_by": saved_by, "departments": counts, "files": [p.name for p in files],
        "roster": [employee_json(p) for p in roster]}, ensure_ascii=False), encoding="utf-8")
    return CompanyCorpus(folder, files, roster, saved_by, len(bases), counts)


def _plan(company: Company, employees: int, bases: list[_Base]) -> list[tuple[_Base, str, str]]:
    """(base, team, ID prefix) of every copy: each department's share of the people, its bases in turn."""
    plan = []
    for d, department in enumerate(company.departments):
        mine = [b for b in bases if b.department == department.name_zh]
        share = SHARES.get(department.name_zh, 1 / len(company.departments))
        average = sum(len(b.people) for b in mine) / len(mine)
        teams = max(1, round(employees * share / average))
        prefix = PREFIXES.get(department.name_zh, f"D{d + 1}")
        stem = department.name_zh[:2]
        for i in range(teams):
            plan.append((mine[i % len(mine)], f"{stem}{_cjk(i + 1, 4)}组", f"{prefix}{i + 1:05d}-"))
    return plan


def _reuse(folder: Path, employees: int, company: Company) -> CompanyCorpus | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (manifest.get("version"), manifest.get("employees"), manifest.get("rules")) != (
            CORPUS_VERSION, employees, company_fingerprint(company)):
        return None
    files = [folder / "files" / name for name in manifest["files"]]
    if not all(p.is_file() for p in files):
        return None
    return CompanyCorpus(folder, files, [employee_from_json(p) for p in manifest["roster"]], manifest["saved_by"],
                         manifest["bases"], manifest["departments"])


def _bases(folder: Path, company: Company, progress) -> tuple[list[_Base], str]:
    """One filled base team per role of each department (the company's first with a manager's slips),
    re-saved by LibreOffice in one run when it is there."""
    from kpisheet.workbook_templates.filler import fill_team_workbook, make_employees
    from kpisheet.workbook_templates.team_workbook import build_team_workbook

    from kpisheet.xladdin.kit.libreoffice import XLSX_FILTER, LibreOfficeError, convert, find_soffice

    rng = random.Random(SEED)
    folder.mkdir(parents=True, exist_ok=True)
    made: list[tuple[str, str, str, Path, list[Employee]]] = []
    total = sum(len(d.rulebook.roles) for d in company.departments)
    for department in company.departments:
        rulebook = department.rulebook
        for role in rulebook.roles:
            k = len(made)
            team, prefix = f"基准{_cjk(k, 2)}组", f"BQ{k:02d}-"
            members = make_employees(rng.randint(*TEAM_SIZE), seed=rng.randrange(10**6),
                                     department=department.name_zh, team=team, roles=[role.code], prefix=prefix)
            blank = build_team_workbook(folder / f"blank_{k}.xlsx", rulebook, PERIOD, department.name_zh, team,
                                        members)
            filled = folder / f"filled_{k}.xlsx"
            fill_team_workbook(blank, filled, seed=rng.randrange(10**6), rulebook=rulebook,
                               mistakes=SLIPS if k == 0 else ())
            made.append((department.name_zh, team, prefix, filled, members))
            progress("bases", k + 1, total)
    saved_by, data = "openpyxl (no LibreOffice found)", {path: path.read_bytes() for *_, path, _ in made}
    if find_soffice() is not None:
        try:
            with tempfile.TemporaryDirectory(prefix="kpisheet-bench-lo-") as out:
                converted = convert([path for *_, path, _ in made], out, XLSX_FILTER)
                if len(converted) == len(made):
                    data = {source: target.read_bytes() for source, target in converted.items()}
                    saved_by = "LibreOffice"
                else:
                    saved_by = "openpyxl (LibreOffice skipped a file)"
        except LibreOfficeError:
            saved_by = "openpyxl (LibreOffice failed)"
    return [_Base(dept, team, prefix, data[path], members) for dept, team, prefix, path, members in made], saved_by
