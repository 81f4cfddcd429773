"""The benchmark's workbooks: N realistic team submissions, stored the way a spreadsheet program stores them.

A handful of base teams (about 12 people each, one role per team, a seeded
fill; one base in eight carries a manager's slips) are written by the team
workbook writer, filled by the filler and then re-saved by LibreOffice, so
they hold what Excel or LibreOffice write: shared strings, cached formula
results, the program's name in docProps/app.xml. Running LibreOffice a
thousand times would take an hour, so the N files are copies of the bases in
which each copy gets a team of its own: the team name and the employee IDs
are rewritten in every XML part, and the structure fingerprint in ``_meta``
(which hashes the employee row map) is recomputed for the new IDs. Every copy
therefore validates exactly as its base does, with its own identity, and the
batch holds no employee twice, as a real department's inbox would not.

Without LibreOffice the bases stay as the filler saved them (openpyxl: no
cached values); the corpus says which (``saved_by``).
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

from kpisheet.validators.layout import META, structure_fingerprint
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.errors import KpisheetError

PERIOD = "2026-Q4"
DEPARTMENT = "售后服务部"
SEED = 20260930
BASES = 8
SLIP_BASE = 0  # this base (and so one file in BASES) carries a manager's slips
SLIPS = ("text-number", "comment-missing")
CORPUS_VERSION = 1
MANIFEST = "corpus.json"


# LibreOffice splits a text mixing CJK and Latin characters into runs (one font each), which would
# break a name apart in the XML; team names are therefore all CJK, digits included.
_CJK_DIGITS = "〇一二三四五六七八九"


def _cjk(number: int, width: int) -> str:
    return "".join(_CJK_DIGITS[int(d)] for d in f"{number:0{width}d}")


def base_team(k: int) -> str:
    return f"基准{_cjk(k, 2)}组"


def base_prefix(k: int) -> str:
    return f"BQ{k:02d}-"


def copy_team(i: int) -> str:
    return f"服务{_cjk(i, 4)}组"


def copy_prefix(i: int) -> str:
    return f"SV{i:04d}-"


class CorpusFolderError(KpisheetError):
    """The corpus folder holds files that are not an earlier corpus."""

    code = "bench-folder-foreign"
    title_zh, title_en = "性能测试文件夹含有其他文件", "benchmark folder holds other files"
    description = "The benchmark's work folder holds files it did not make; they are never deleted."

    def __init__(self, folder: Path):
        super().__init__(f"{folder} 中有不是性能测试生成的文件，不会删除；请换一个 --work 文件夹",
                         f"{folder} holds files the benchmark did not make and will not delete; choose another --work")
        self.folder = folder


@dataclass(frozen=True)
class Corpus:
    folder: Path
    files: list[Path]
    roster: list[Employee]
    saved_by: str          # "LibreOffice" or "openpyxl (no LibreOffice found)"
    bases: int

    def first(self, teams: int) -> "Corpus":
        """The corpus of its first ``teams`` files, with the people of those teams only: a smaller company."""
        if teams >= len(self.files):
            return self
        kept = {copy_team(i) for i in range(teams)}
        return replace(self, files=self.files[:teams], roster=[p for p in self.roster if p.team in kept])

    def to_dict(self) -> dict:
        return {"teams": len(self.files), "employees": len(self.roster), "bases": self.bases,
                "saved_by": self.saved_by, "period": PERIOD, "folder": str(self.folder)}


def make_corpus(folder: Path, teams: int, rulebook: Rulebook, *, progress: Callable[[str, int, int], None]
                = lambda stage, done, total: None) -> Corpus:
    """``teams`` submissions in ``folder``/files; reuses the first ``teams`` of an earlier corpus of this
    version and rulebook that holds at least as many."""
    files_dir = folder / "files"
    existing = _reuse(folder, teams, rulebook)
    if existing is not None:
        return existing
    clear_corpus_folder(folder)
    files_dir.mkdir(parents=True)
    count = min(BASES, teams)
    bases, base_people, saved_by = _bases(folder / "bases", count, rulebook, progress)
    roster: list[Employee] = []
    files: list[Path] = []
    for i in range(teams):
        k = i % count
        target = files_dir / f"{PERIOD}_{DEPARTMENT}_{copy_team(i)}.xlsx"
        target.write_bytes(retarget(bases[k], base_team(k), copy_team(i), base_prefix(k), copy_prefix(i)))
        files.append(target)
        roster += [replace(p, employee_id=p.employee_id.replace(base_prefix(k), copy_prefix(i), 1),
                           manager_id=(p.manager_id or "").replace(base_prefix(k), copy_prefix(i), 1) or None,
                           team=copy_team(i)) for p in base_people[k]]
        progress("copies", i + 1, teams)
    (folder / MANIFEST).write_text(json.dumps({
        "version": CORPUS_VERSION, "teams": teams, "rulebook": rulebook.fingerprint(), "bases": count, "saved_by": saved_by,
        "files": [p.name for p in files], "roster": [employee_json(p) for p in roster]}, ensure_ascii=False), encoding="utf-8")
    return Corpus(folder, files, roster, saved_by, count)


def _reuse(folder: Path, teams: int, rulebook: Rulebook) -> Corpus | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (manifest.get("version"), manifest.get("rulebook")) != (CORPUS_VERSION, rulebook.fingerprint()) or \
            not isinstance(manifest.get("teams"), int) or manifest["teams"] < teams:
        return None
    files = [folder / "files" / name for name in manifest["files"]]
    if not all(p.is_file() for p in files):
        return None
    roster = [employee_from_json(p) for p in manifest["roster"]]
    return Corpus(folder, files, roster, manifest["saved_by"], manifest["bases"]).first(teams)


def employee_json(p: Employee) -> dict:
    return {**asdict(p), "hire_date": p.hire_date.isoformat(), "post_start": p.post_start.isoformat()}


def employee_from_json(d: dict) -> Employee:
    import datetime as dt

    return Employee(**{**d, "hire_date": dt.date.fromisoformat(d["hire_date"]),
                       "post_start": dt.date.fromisoformat(d["post_start"])})


def _bases(folder: Path, count: int, rulebook: Rulebook, progress) -> tuple[list[bytes], list[list[Employee]], str]:
    """Each base's file bytes (LibreOffice-saved when possible), its people, and what saved them."""
    import random

    from kpisheet.workbook_templates.filler import fill_team_workbook, make_employees
    from kpisheet.workbook_templates.team_workbook import build_team_workbook

    from kpisheet.xladdin.kit.libreoffice import LibreOfficeError, find_soffice, recalculate

    rng = random.Random(SEED)
    roles = [role.code for role in rulebook.roles]
    folder.mkdir(parents=True, exist_ok=True)
    filled, people = [], []
    for k in range(count):
        members = make_employees(rng.randint(10, 14), seed=rng.randrange(10**6), department=DEPARTMENT,
                                 team=base_team(k), roles=[roles[k % len(roles)]], prefix=base_prefix(k))
        blank = build_team_workbook(folder / f"blank_{k}.xlsx", rulebook, PERIOD, DEPARTMENT, base_team(k), members)
        target = folder / f"filled_{k}.xlsx"
        fill_team_workbook(blank, target, seed=rng.randrange(10**6), rulebook=rulebook,
                           mistakes=SLIPS if k == SLIP_BASE else ())
        filled.append(target)
        people.append(members)
        progress("bases", k + 1, count)
    if find_soffice() is None:
        return [p.read_bytes() for p in filled], people, "openpyxl (no LibreOffice found)"
    saved = []
    with tempfile.TemporaryDirectory(prefix="kpisheet-bench-lo-") as out:
        for k, path in enumerate(filled):
            try:
                saved.append(recalculate(path, out).read_bytes())
            except LibreOfficeError:
                return [p.read_bytes() for p in filled], people, "openpyxl (LibreOffice failed)"
            progress("LibreOffice", k + 1, count)
    return saved, people, "LibreOffice"


def retarget(data: bytes, old_team: str, new_team: str, old_prefix: str, new_prefix: str) -> bytes:
    """The workbook ``data`` made another team's: team name, employee IDs and the structure fingerprint."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    swaps = [(old_team.encode(), new_team.encode()), (old_prefix.encode(), new_prefix.encode())]
    old_print, new_print = _fingerprints(data, old_prefix, new_prefix)
    swaps.append((old_print.encode(), new_print.encode()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, body in parts:
            if info.filename.endswith((".xml", ".rels")):
                for old, new in swaps:
                    body = body.replace(old, new)
            archive.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _fingerprints(data: bytes, old_prefix: str, new_prefix: str) -> tuple[str, str]:
    """(the structure fingerprint in _meta, the one the same rows have with the new IDs)."""
    from kpisheet.validators.errors import InternalError
    from kpisheet.validators.reading.guard import guard_bytes
    from kpisheet.validators.reading.safe_read import values_of_guarded
    from kpisheet.validators.reading.submission import read_identity

    # our own base workbook, just built; failing to read it is a bug of ours
    values, failure = values_of_guarded(guard_bytes(data, "base.xlsx", sheets=[META]), [META])
    if failure is not None:
        raise InternalError(f"基准测试的底稿工作簿无法读取：{failure.message_zh}",
                            f"the benchmark's base workbook cannot be read: {failure.message_en}")
    identity = read_identity(values[META], source="base")
    rows = [(e.employee_id.replace(old_prefix, new_prefix, 1), e.summary_row, e.first_row, list(e.codes))
            for e in identity.row_map]
    return identity.structure_fingerprint, structure_fingerprint(identity.rulebook_fingerprint, rows)


def clear_corpus_folder(folder: Path) -> None:
    """Remove an earlier corpus at ``folder`` before a new one is made there; a folder holding anything
    else is refused (:class:`CorpusFolderError`): never delete someone's files."""
    if folder.exists():
        if any(folder.iterdir()) and not (folder / MANIFEST).exists():
            raise CorpusFolderError(folder)
        shutil.rmtree(folder)
