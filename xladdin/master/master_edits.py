"""Before the master is regenerated: HR's edits in it go into the record, and what kpisheet would lose stops the run.

HR types decisions into the master (校准等级, 调整理由, 申诉状态, HR备注, the 申诉
rows, 年度's notes, 设置, and columns HR added to 总表, 申诉 or 年度). They are
the cells whose value differs from the record's value *as the master showed
it* (the decisions at the master's generation), so a master another desk's run
has since overtaken still gives exactly HR's edits.

Anything else HR did to the master would be lost by regenerating it: a sheet
kpisheet does not own, a formula, a changed cell outside HR's columns, a row
that is not the record's, a column added to a sheet kpisheet fills. Each is
found and named (sheet and cell) and the run is refused with exit 2, the
master's bytes untouched, unless HR passes ``--discard-foreign``: then a copy of
the master is kept in backups/ (never pruned) and the audit log says so.

A master written by kpisheet and not touched since (same SHA-256 as recorded)
is not read at all.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import sqlalchemy as sa

from kpisheet.validators.errors import EXIT_USAGE, KpisheetError
from kpisheet.validators.layout import a1
from kpisheet.validators.reading.workbook_facts import saved_by_of
from kpisheet.validators.rulebook.model import Rulebook

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.io import SheetTable, master_tables, read_master
from kpisheet.xladdin.master.layout import MasterData, clean_row
from kpisheet.xladdin.master.record_view import SHEET_OF_DECISIONS, View
from kpisheet.xladdin.master.safety import BACKUP_DIR, keep_copy
from kpisheet.xladdin.master.merge import canonical_period
from kpisheet.xladdin.master.write_back import display_only, hr_changes, record_settings
from kpisheet.xladdin.record import audit, decisions as D, schema as S, words as W
from kpisheet.xladdin.record.errors import StoreMismatch
from kpisheet.xladdin.record.store import Tx, dumps

# rows of these sheets are keyed by these columns (to name the cell HR changed)
ROW_KEYS = {
    L.SUMMARY: ("period", "employee_id"),
    L.DETAIL: ("period", "employee_id", "code"),
    L.SUBMISSIONS: ("path", "first_seen", "sha256"),   # one row per file received per run
    L.ISSUES: ("file", "code", "cell", "employee_id"),
    L.APPEALS: ("period", "employee_id"),
    L.ANNUAL: ("year", "employee_id"),
    L.LOG: ("time", "action", "key", "column"),
    L.SETTINGS: ("item",),
    L.DISTRIBUTION: ("period", "level", "department", "team"),
    L.ANALYSIS: ("period", "level", "department", "team", "kind", "code"),
}
# sheets where a column HR adds is HR's (kept as decisions); in any other it would be lost
HR_COLUMN_SHEETS = (L.SUMMARY, L.APPEALS, L.ANNUAL)
# sheets where a row HR adds is HR's: an appeal is recorded by typing its row
HR_ROW_SHEETS = (L.APPEALS,)
MAX_NAMED = 12

_FORMULA_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*)>\s*<(?:\w+:)?f\b")
_CELL_REF = re.compile(rb"""\br\s*=\s*["']([A-Z]+[0-9]+)["']""")
_SHEET = re.compile(rb"""<(?:\w+:)?sheet\b[^>]*?\bname\s*=\s*["']([^"']*)["'][^>]*?\br:id\s*=\s*["']([^"']*)["']""")
_REL = re.compile(rb"""<Relationship\b[^>]*?\bId\s*=\s*["']([^"']*)["'][^>]*?\bTarget\s*=\s*["']([^"']*)["']""")
_REL_ALT = re.compile(rb"""<Relationship\b[^>]*?\bTarget\s*=\s*["']([^"']*)["'][^>]*?\bId\s*=\s*["']([^"']*)["']""")


class MasterHoldsForeign(KpisheetError):
    """The master holds something kpisheet would lose by regenerating it; nothing was changed."""

    code = "master-foreign"
    exit_code = EXIT_USAGE
    title_zh, title_en = "汇总表中有 kpisheet 无法保留的内容", "master holds content kpisheet would lose"
    description = ("HR's master holds a sheet kpisheet does not own, a formula, a changed cell outside HR's columns "
                   "or a row that is not in the cycle record. Regenerating it would lose them, so the run stops with "
                   "the master untouched. Move them to another workbook, or run again with --discard-foreign "
                   "(a copy of the master is kept in backups/ first and the audit log records it).")


# --- fingerprints of what kpisheet wrote ---------------------------------------------------------

def _non_hr(table_name: str, columns) -> list[str]:
    """The cells kpisheet alone writes: neither HR's nor the flags HR may clear (KEPT)."""
    return [c.key for c in columns if c.owner not in (L.HR, L.KEPT)]


def row_digest(values: tuple) -> int:
    return int.from_bytes(hashlib.sha256(repr(values).encode("utf-8")).digest()[:16], "big")


def _significant(sheet: str, row: Mapping, keys: list[str]) -> bool:
    """An appeal row HR typed holds no computed cell yet: it is HR's input, not part of the fingerprint."""
    return sheet not in HR_ROW_SHEETS or any(row.get(k) not in (None, "") for k in keys
                                             if k not in ("period", "employee_id"))


class TableDigest:
    """Order-free fingerprint of the cells kpisheet owns in one sheet (HR may sort and filter), taken
    row by row: from rows in memory, or from rows streamed past it while the writer writes them."""

    def __init__(self, name: str, columns) -> None:
        self._name, self._columns, self._keys = name, columns, _non_hr(name, columns)
        self._total = 0
        self.rows = 0

    def add(self, row: Mapping) -> None:
        self.add_clean(clean_row(self._columns, row))

    def add_clean(self, clean: Mapping) -> None:
        """:meth:`add` for a row already in canonical form for these columns (cleaning twice gives the
        same row: the rows streamed from the record are cleaned as they are read)."""
        self.rows += 1
        if _significant(self._name, clean, self._keys):
            self._total = (self._total + row_digest(tuple(clean.get(k) for k in self._keys))) % (1 << 128)

    def hexdigest(self) -> str:
        return f"{self._total:032x}"


def table_digest(name: str, columns, rows: Iterable[Mapping]) -> str:
    digest = TableDigest(name, columns)
    for row in rows:
        digest.add(row)
    return digest.hexdigest()


def digests(tables: list[SheetTable], taken: Mapping[str, TableDigest] | None = None) -> dict[str, str]:
    """Every sheet's fingerprint; ``taken``: those already taken while the rows were written (used when
    they saw each row once)."""
    taken = taken or {}
    return {t.name: taken[t.name].hexdigest() if t.name in taken and taken[t.name].rows == len(t.rows)
            else table_digest(t.name, t.columns, t.rows) for t in tables}


# --- the master on disk --------------------------------------------------------------------------

@dataclass
class MasterState:
    """What the master on disk is, relative to the record."""

    exists: bool
    untouched: bool = False                 # byte for byte what kpisheet last wrote
    generation: int | None = None           # the record generation it shows (None: made before the record)
    view_id: str | None = None
    scope: str | None = None                # JSON of the periods it shows, when it is untouched
    edits: int = 0                          # HR cells stored as decisions
    discarded: list[str] = field(default_factory=list)
    kept_copy: Path | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _recorded(conn: sa.Connection, sha: str) -> Mapping | None:
    return conn.execute(sa.select(S.masters).where(S.masters.c.sha256 == sha)
                        .order_by(S.masters.c.generation.desc()).limit(1)).mappings().first()


def examine(tx: Tx, master: Path, rulebook: Rulebook, store_id: str, current: View | None, *,
            discard_foreign: bool = False) -> MasterState:
    """Read HR's edits from ``master`` into the record (``tx``); refuse what would be lost."""
    if not master.is_file():
        return MasterState(False)
    sha = file_sha256(master)
    written = _recorded(tx.conn, sha)
    if written is not None:
        return MasterState(True, True, int(written["generation"]), written["master_id"], written["scope"])
    data = read_master(master, rulebook, computed=True)
    if data.meta.get("store_id") and data.meta.get("store_id") != store_id:
        raise StoreMismatch(
            f"汇总表 {master.name} 属于另一个考核记录库（{data.meta.get('store_id')}），不是本次的记录库；未改动任何内容",
            f"the master {master.name} belongs to another cycle record ({data.meta.get('store_id')}); nothing was "
            "changed", hint_zh="用 --store 指定该汇总表自己的记录库，或用 --master 指定新的文件名",
            hint_en="pass --store with the master's own record, or a new file name to --master")
    try:
        generation = int(float(data.meta.get("record_generation") or ""))
    except ValueError:
        generation = None
    view_id = data.meta.get("view_id") or None
    state = MasterState(True, False, generation, view_id)
    if generation is None and not data.meta.get("store_id") and not _holds_results(tx.conn):
        # a master from before the record, and an empty record: the master *is* the record so far
        from kpisheet.xladdin.master.legacy import import_master

        state.edits = import_master(tx, data, rulebook)
        return state
    problems = foreign_content(tx.conn, master, data, rulebook, view_id, current)
    if problems:
        if not discard_foreign:
            shown = problems[:MAX_NAMED]
            more = len(problems) - len(shown)
            raise MasterHoldsForeign(
                f"汇总表 {master.name} 中有重新生成时会丢失的内容，未改动任何内容：{'；'.join(shown)}"
                + (f"；另有 {more} 处" if more else ""),
                f"the master {master.name} holds content that regenerating it would lose; nothing was changed: "
                f"{'; '.join(shown)}" + (f"; and {more} more" if more else ""),
                hint_zh="请把这些内容移到另一个工作簿；或加 --discard-foreign 舍弃它们（先在 backups 中保留一份副本，并记入日志）",
                hint_en="move them to another workbook, or pass --discard-foreign to drop them (a copy of the master "
                        f"is kept in {BACKUP_DIR}/ first, and the audit log records it)",
                details=problems)
        state.kept_copy = keep_copy(master, tx.now, "discarded")
        state.discarded = problems
        audit.append(tx, [{"time": tx.now, "action": W.LOG_DISCARD, "key": master.name, "column": "",
                           "old": f"{len(problems)} 处 places", "new": str(state.kept_copy.name),
                           "reason": "；".join(problems[:MAX_NAMED]), "by": tx.user}])
    state.edits = store_edits(tx, data, rulebook, generation, master_by=saved_by_of(master)[1] or None)
    return state


def _holds_results(conn: sa.Connection) -> bool:
    return conn.execute(sa.select(S.results.c.period).limit(1)).first() is not None


def store_edits(tx: Tx, data: MasterData, rulebook: Rulebook, generation: int | None, *,
                master_by: str | None = None) -> int:
    """HR's cells that differ from the record as the master showed it, stored as decisions."""
    count = 0
    baseline_generation = generation if generation is not None else -1  # a master made before the record: all new
    for sheet in (L.SUMMARY, L.APPEALS, L.ANNUAL):
        before = D.values_as_of(tx.conn, SHEET_OF_DECISIONS[sheet], baseline_generation)
        rows = data.rows(sheet)
        extra = data.extra_headers.get(sheet, []) if sheet in HR_COLUMN_SHEETS else []
        count += D.record(tx, SHEET_OF_DECISIONS[sheet], hr_changes(sheet, rulebook, before, rows, extra),
                          source=D.SOURCE_MASTER, master_by=master_by)
    count += _kept_flags(tx, data.rows(L.SUMMARY))
    settings_before = {k[1]: v.get("value") for k, v in
                       D.values_as_of(tx.conn, W.DECISION_SETTINGS, baseline_generation).items()}
    count += record_settings(tx, L.settings_rows(settings_before), data.rows(L.SETTINGS), source=D.SOURCE_MASTER,
                             master_by=master_by)
    if count:
        audit.append(tx, [{"time": tx.now, "action": W.LOG_DECISION, "key": "", "column": "",
                           "old": "", "new": f"{count}", "reason": "从汇总表读入的 HR 决定 / HR's decisions read "
                           f"from the master{f' (saved by {master_by})' if master_by else ''}", "by": tx.user}])
    return count


def _kept_flags(tx: Tx, rows: list[dict]) -> int:
    """Flags kpisheet set and HR may clear or reword (复核标记, 连续D): HR's value goes into the record."""
    r = S.results
    flags = [c.key for c in L.summary_columns_kept()]
    changed = 0
    for row in rows:
        key = (canonical_period(row.get("period")), str(row.get("employee_id") or ""))
        held = tx.conn.execute(sa.select(*(r.c[f] for f in flags)).where(
            r.c.period == key[0], r.c.employee_id == key[1])).mappings().first()
        if held is None:
            continue
        values = {f: D.text(row.get(f)) for f in flags
                  if D.text(row.get(f)) != D.text(held[f]) and not display_only(row.get(f))}
        if values:
            tx.conn.execute(sa.update(r).where(r.c.period == key[0], r.c.employee_id == key[1])
                            .values(**values, updated_at=tx.now))
            audit.append(tx, [{"time": tx.now, "action": W.LOG_DECISION, "key": f"{key[0]}/{key[1]}", "column": f,
                               "old": held[f], "new": v, "reason": "HR 在汇总表中修改 / changed by HR in the master",
                               "by": tx.user} for f, v in values.items()])
            changed += 1
    return changed


def formula_cells(master: Path) -> list[tuple[str, str]]:
    """(sheet, cell) of every formula in the workbook (kpisheet writes none)."""
    found = []
    try:
        with zipfile.ZipFile(master) as archive:
            names = set(archive.namelist())
            workbook = archive.read("xl/workbook.xml") if "xl/workbook.xml" in names else b""
            rels = archive.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
            targets = dict(_REL.findall(rels)) or {i: t for t, i in _REL_ALT.findall(rels)}
            for name, rid in _SHEET.findall(workbook):
                target = targets.get(rid, b"").decode("utf-8", "replace").lstrip("/")
                part = target if target.startswith("xl/") else f"xl/{target}"
                if part not in names:
                    continue
                xml = archive.read(part)
                if b"<f" not in xml and b":f" not in xml:
                    continue
                sheet = name.decode("utf-8", "replace")
                for match in _FORMULA_CELL.finditer(xml):
                    ref = _CELL_REF.search(match.group(1))
                    found.append((sheet, ref.group(1).decode() if ref else "?"))
    except (zipfile.BadZipFile, OSError, KeyError):
        return found
    return found


def _expected_tables(current: View | None, rulebook: Rulebook) -> dict[str, SheetTable]:
    if current is None:
        return {}
    return {t.name: t for t in master_tables(current.data, rulebook)}


def foreign_content(conn: sa.Connection, master: Path, data: MasterData, rulebook: Rulebook, view_id: str | None,
                    current: View | None) -> list[str]:
    """Every place in ``data`` (read from ``master``) that regenerating the master would lose, named."""
    problems = []
    owned = set(L.SHEET_ORDER)
    for name in data.sheet_names:
        if name not in owned:
            problems.append(f"工作表“{name}”不是 kpisheet 的 / sheet {name} is not kpisheet's")
    for sheet, cell in formula_cells(master):
        if sheet in owned:
            problems.append(f"{sheet}!{cell} 是公式 / is a formula")
    columns = L.sheet_columns(rulebook)
    for sheet, headers in data.extra_headers.items():
        if headers and sheet not in HR_COLUMN_SHEETS:
            problems.append(f"{sheet}：新增的列 {', '.join(headers)} / columns added")
    generation = data.meta.get("record_generation")
    written = conn.execute(sa.select(S.masters.c.digests, S.masters.c.scope).where(
        S.masters.c.master_id == view_id, S.masters.c.generation == int(float(generation)))).first() \
        if view_id and generation else None
    if written is None:
        return problems  # a master from before the record: its own sheets cannot be checked cell by cell
    import json

    recorded = json.loads(written.digests)
    departments = json.loads(written.scope or "{}").get("departments")
    if departments:
        problems += _appeals_outside(conn, data.rows(L.APPEALS), data.positions.get(L.APPEALS, []), departments)
    expected = _expected_tables(current, rulebook)
    for sheet in (*L.STORED_SHEETS, L.DISTRIBUTION, L.ANALYSIS):
        if sheet not in recorded or sheet in data.missing_sheets:
            continue
        rows = data.rows(sheet)
        if table_digest(sheet, columns[sheet], rows) == recorded[sheet]:
            continue
        problems += _changed_cells(sheet, columns[sheet], rows, data.positions.get(sheet, []),
                                   expected.get(sheet))
    return problems


def _appeals_outside(conn: sa.Connection, rows: list[dict], positions: list[int], departments: list[str]) -> list[str]:
    """申诉 rows HR typed, in a master of some departments, for an employee of another department: that
    department's HR decides its appeals (its desk's master shows them), so the row would be another's decision."""
    r = S.results
    out = []
    for n, row in enumerate(rows):
        key = (canonical_period(row.get("period")), str(row.get("employee_id") or ""))
        department = conn.execute(sa.select(r.c.department).where(r.c.period == key[0],
                                                                  r.c.employee_id == key[1])).scalar()
        if department is not None and department not in departments:
            at = (positions[n] if n < len(positions) else n + L.FIRST_DATA_ROW) + 1
            out.append(f"{L.APPEALS} 第 {at} 行（{key[0]}/{key[1]}）是{department}的员工，不在本汇总表的部门"
                       f"（{'、'.join(departments)}）中 / row {at} ({key[0]}/{key[1]}) is an employee of {department}, "
                       "outside this master's departments")
    return out


def _changed_cells(sheet: str, columns, rows: list[dict], positions: list[int], expected: SheetTable | None) -> list[str]:
    keys = _non_hr(sheet, columns)
    index = {k: i for i, k in enumerate(c.key for c in columns)}
    key_cols = ROW_KEYS.get(sheet, ())
    want_rows = [clean_row(columns, dict(r)) for r in (expected.rows if expected else [])]
    want = {tuple(r.get(k) for k in keys) for r in want_rows}
    by_key = {tuple(r.get(k) for k in key_cols): r for r in want_rows}
    out = []
    for n, row in enumerate(rows):
        values = tuple(row.get(k) for k in keys)
        if values in want or not _significant(sheet, row, keys):
            continue
        at = positions[n] if n < len(positions) else n + L.FIRST_DATA_ROW
        twin = by_key.get(tuple(row.get(k) for k in key_cols))
        label = "/".join(str(row.get(k)) for k in key_cols if row.get(k) not in (None, ""))
        if twin is None:
            if sheet in HR_ROW_SHEETS:
                continue
            out.append(f"{sheet} 第 {at + 1} 行（{label}）不是记录库中的行 / row {at + 1} ({label}) is not in the record")
            continue
        cells = [a1(at, index[k]) for k in keys if row.get(k) != twin.get(k)]
        if cells:
            out.append(f"{sheet}!{','.join(cells)}（{label}）被改动 / changed")
        else:
            out.append(f"{sheet} 第 {at + 1} 行（{label}）被改动 / row {at + 1} changed")
    return out  # nothing named: rows were only deleted or sorted, which loses nothing


def master_row(view_id: str, path: Path, generation: int, now, sha: str, scope_json: str,
               sheet_digests: dict[str, str]) -> dict:
    return {"master_id": view_id, "path": str(path), "generation": generation, "written_at": now, "sha256": sha,
            "scope": scope_json, "digests": dumps(sheet_digests)}
