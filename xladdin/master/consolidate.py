"""The consolidation service: submissions into the cycle record, and the master regenerated as its view.

:func:`consolidate` is what ``kpisheet consolidate`` and the add-in's 汇总 button
call; :func:`merge_into_master` is the part after validation, for callers that
already hold the :class:`~kpisheet.validators.report.FileReport` objects;
:func:`update_master` runs a command (calibrate, rollup, appeals, notices) on
the view and stores what it changed; :func:`rebuild_master` regenerates a lost
or damaged master.

One run, in order, under the master's lock and in one record transaction:

1. HR's edits in the master on disk become decisions (or the run is refused,
   exit 2, when the master holds what regenerating it would lose);
2. the change: new files validated and recorded, or a command's result;
3. the master for the chosen periods is regenerated from the record and
   written to a temp file beside it;
4. the record commits; 5. the temp file is renamed over the master (the old
   one kept in backups/).

A crash before 4 leaves record and master as they were; between 4 and 5 the
record is one step ahead, and the next run (or ``kpisheet master rebuild``)
sees the master's older generation and regenerates it. After a successful run
the master shows exactly the record's generation.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence, TypeVar

from kpisheet.validators.reading.file_checks import owner_file_names
from kpisheet.validators.report import FileReport
from kpisheet.validators.roster import Employee
from kpisheet.validators.rulebook.company import Company
from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.signature import SigningKey

from xlsxwriter.exceptions import FileCreateError

from kpisheet.validators.errors import KpisheetError
from kpisheet.xladdin.kit.files import as_file_error, refuse_if_read_only
from kpisheet.xladdin.kit.user import current_user
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.io import MasterReadError, master_tables, write_master
from kpisheet.xladdin.master.master_edits import MasterState, TableDigest, digests, examine, file_sha256, master_row
from kpisheet.xladdin.master.merge import MergeResult
from kpisheet.xladdin.master.record_view import DetailRows, Scope, View, load_view, save_derived, scope_for
from kpisheet.xladdin.master.safety import (
    BACKUP_DIR, fault_point, install, master_lock, refuse_if_open, temp_path,
)
from kpisheet.xladdin.master.views import distribution_rows
from kpisheet.xladdin.master.write_back import persist
from kpisheet.xladdin.record import schema as S
from kpisheet.xladdin.record.ingest import Incoming, incoming, ingest
from kpisheet.xladdin.record.store import Store, Tx, now_local, open_store

T = TypeVar("T")

# A second run waits this long for the first before it is refused.
LOCK_WAIT_SECONDS = 5.0
# Masters written from the record whose fingerprints are kept (per master file): the last few.
KEEP_MASTER_FINGERPRINTS = 3


@dataclass
class ScopeChoice:
    """Which periods the master shows: ``periods``, else ``year``, else the current appraisal year; and which
    departments (an HR business partner's master), else every department."""

    year: int | None = None
    periods: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()


@dataclass
class ConsolidationResult:
    master: Path
    merge: MergeResult
    written: bool
    backup: Path | None
    reports: list[Incoming]
    store: str = ""
    generation: int = 0
    state: MasterState | None = None

    @property
    def exit_code(self) -> int:
        """0 when every file was accepted, 1 when some were rejected."""
        return 1 if self.merge.files["rejected"] else 0

    def to_dict(self) -> dict:
        m = self.merge
        return {
            "master": str(self.master),
            "store": self.store,
            "generation": self.generation,
            "written": self.written,
            "backup": str(self.backup) if self.backup else None,
            "files": {status: sorted(paths) for status, paths in m.files.items()},
            "counts": {
                "files": len(self.reports),
                **{f"files_{status}": len(paths) for status, paths in m.files.items()},
                **{f"employees_{key}": value for key, value in m.employees.items()},
                "log_rows": m.log_rows,
                "hr_decisions_read": self.state.edits if self.state else 0,
            },
            "over_quota": m.over_quota,
            "rejected": [{"path": r.label, "errors": r.errors, "warnings": r.warnings, "codes": r.codes}
                         for r in self.reports if r.label in set(m.files["rejected"])],
        }


def path_labeller(master: Path) -> Callable[[str], str]:
    """Submission paths as the master shows them: relative to the master's folder when
    inside it, else absolute, so the same inbox gives the same cells whatever folder
    the command ran from."""
    base = master.resolve().parent

    @functools.lru_cache(maxsize=None)  # asked once per employee and finding: resolving costs a system call or more
    def label(path: str) -> str:
        absolute = Path(path).resolve()
        try:
            relative = Path(os.path.relpath(absolute, base))
        except ValueError:  # another drive on Windows
            return absolute.as_posix()
        # inside the master's folder: short and portable; elsewhere: the full path, not a chain of ../
        return absolute.as_posix() if relative.parts[:1] == ("..",) else relative.as_posix()

    return label


# --- one run -------------------------------------------------------------------------------------

@dataclass
class RunOutcome:
    state: MasterState
    view: View
    written: bool
    backup: Path | None
    generation: int
    value: object = None


def _scope(tx: Tx, choice: ScopeChoice | None, hint) -> Scope:
    choice = choice or ScopeChoice()
    return scope_for(tx.conn, year=choice.year, periods=choice.periods or None, hint=hint,
                     departments=choice.departments)


def run_on_master(master: Path, store: Store, rulebook: Rulebook, change: Callable[[Tx, View], tuple[object, set]],
                  *, now: dt.datetime | None = None, lock_wait: float = LOCK_WAIT_SECONDS,
                  scope: ScopeChoice | None = None, discard_foreign: bool = False, force: bool = False,
                  before_commit: Callable[[Tx], None] | None = None) -> RunOutcome:
    """The five steps of a run (module docstring); ``change(tx, view)`` returns (its outcome, periods touched)."""
    master = Path(master)
    now = (now or now_local()).replace(microsecond=0)
    temp = temp_path(master)
    with master_lock(master, timeout=lock_wait):
        try:
            with store.writing(now=now) as tx:
                first = load_view(tx.conn, rulebook, _scope(tx, scope, ()), detail=False)
                state = examine(tx, master, rulebook, store.store_id, first, discard_foreign=discard_foreign)
                value, touched = change(tx, first)
                del first  # the view before the change: its rows need not be held while the new one is read
                view = load_view(tx.conn, rulebook, _scope(tx, scope, touched))
                save_derived(tx, view)
                rewrite = (force or tx.changed or not state.exists or not state.untouched
                           or state.generation != tx.generation - 1 or state.scope != view.scope.to_json())
                backup = None
                if rewrite:
                    tx.touch()
                    _write_view(tx, master, temp, view, rulebook, state)
                    refuse_if_open(master)  # HR opened it while we wrote: stop before the record moves
                    refuse_if_read_only(master)  # the swap would be refused after the commit: refuse now
                    if before_commit is not None:
                        before_commit(tx)
                    fault_point("before-commit")
                generation = tx.generation if tx.changed else tx.generation - 1
            view.read_later_from(store.reading)
            if rewrite:
                fault_point("committed")
                backup = install(master, temp, now=now)
        finally:
            temp.unlink(missing_ok=True)
    return RunOutcome(state, view, rewrite, backup, generation, value)


def _write_view(tx: Tx, master: Path, temp: Path, view: View, rulebook: Rulebook, state: MasterState) -> None:
    view_id = state.view_id or str(uuid.uuid4())
    data = view.data
    data.meta.update({"store_id": _store_id(tx), "record_generation": str(tx.generation), "view_id": view_id,
                      "scope": view.scope.label})
    tables = master_tables(data, rulebook)
    taken = {}
    for table in tables:
        if isinstance(table.rows, DetailRows):  # streamed from the record: fingerprinted as it is written
            taken[table.name] = TableDigest(table.name, table.columns)
            table.rows.watch(taken[table.name].add_clean)
    try:
        write_master(temp, data, rulebook, now=tx.now, checkpoint=fault_point, tables=tables)
    except OSError as error:  # a full disk, a folder we may not write: one bilingual line, nothing committed
        if isinstance(error, KpisheetError):
            raise
        raise as_file_error(error, master) from None
    except FileCreateError as error:  # xlsxwriter's wrapper of the same OSError at close
        cause = error.args[0] if error.args and isinstance(error.args[0], OSError) else OSError(str(error))
        raise as_file_error(cause, master) from None
    finally:
        for table in tables:
            if table.name in taken:
                table.rows.watch(None)
    fault_point("written")
    m = S.masters
    tx.conn.execute(m.insert().values(**master_row(view_id, master.resolve(), tx.generation, tx.now,
                                                   file_sha256(temp), view.scope.to_json(), digests(tables, taken))))
    old = [g for (g,) in tx.conn.execute(m.select().with_only_columns(m.c.generation)
                                         .where(m.c.master_id == view_id).order_by(m.c.generation.desc()))]
    for generation in old[KEEP_MASTER_FINGERPRINTS:]:
        tx.conn.execute(m.delete().where(m.c.master_id == view_id, m.c.generation == generation))


def _store_id(tx: Tx) -> str:
    return tx.conn.execute(S.store.select().with_only_columns(S.store.c.store_id)).scalar()


# --- consolidation -------------------------------------------------------------------------------

def _labels(rulebook: Rulebook) -> dict[str, str]:
    return {c.key: c.zh for c in L.summary_columns(rulebook)}


def merge_items(master: str | Path, items: Sequence[Incoming], *, rulebook: Rulebook,
                roster: Sequence[Employee] | Mapping[str, Employee] | None = None, period: str | None = None,
                now: dt.datetime | None = None, lock_wait: float = LOCK_WAIT_SECONDS, store: Store | str | None = None,
                seen: set[str] | None = None, accept_older: bool = False, discard_foreign: bool = False,
                scope: ScopeChoice | None = None, files_seen: int | None = None) -> ConsolidationResult:
    """Record ``items`` (validated files of this run) and regenerate the master."""
    master = Path(master)
    if roster is not None and not isinstance(roster, Mapping):
        roster = {person.employee_id: person for person in roster}
    opened = store if isinstance(store, Store) else open_store(store, master=master)
    try:
        def change(tx: Tx, _view: View):
            outcome = ingest(tx, items, rulebook=rulebook, roster=roster, period=period, seen=seen,
                             accept_older=accept_older, labels=_labels(rulebook), sheet=L.SUMMARY)
            return outcome, outcome.periods

        run = run_on_master(master, opened, rulebook, change, now=now, lock_wait=lock_wait, scope=scope,
                            discard_foreign=discard_foreign)
    finally:
        if not isinstance(store, Store):
            opened.dispose()
    outcome = run.value
    over = []
    periods = outcome.periods
    for row in distribution_rows(run.view.data.rows(L.SUMMARY), rulebook):
        if row["_breach"] and row["period"] in periods:
            where = row["department"] if row["level"] == L.LEVEL_DEPARTMENT else f"{row['department']}/{row['team']}"
            over.append(f"{row['period']} {where}: {row['over_quota']}")
    result = MergeResult(run.view.data, run.written, outcome.files, outcome.employees, over, len(outcome.log))
    return ConsolidationResult(master, result, run.written, run.backup, list(items), opened.label, run.generation,
                               run.state)


def merge_into_master(master: str | Path, reports: Sequence[FileReport], *, rulebook: Rulebook,
                      roster: Sequence[Employee] | Mapping[str, Employee] | None = None,
                      period: str | None = None, now: dt.datetime | None = None,
                      lock_wait: float = LOCK_WAIT_SECONDS, store: Store | str | None = None,
                      accept_older: bool = False, discard_foreign: bool = False,
                      scope: ScopeChoice | None = None) -> ConsolidationResult:
    """Merge validated ``reports`` into the record and regenerate the master at ``master`` (created if absent).

    Raises :class:`~kpisheet.xladdin.master.safety.MasterBusy` (open or locked),
    :class:`~kpisheet.xladdin.master.io.MasterReadError` (not a master), a
    :class:`~kpisheet.xladdin.record.errors.StoreError` kind, MasterHoldsForeign
    or OSError; in every case the master's bytes are untouched.
    """
    label = path_labeller(Path(master))
    items = [_with_codes(incoming(r, label(r.path)), r) for r in reports]
    return merge_items(master, items, rulebook=rulebook, roster=roster, period=period, now=now, lock_wait=lock_wait,
                       store=store, accept_older=accept_older, discard_foreign=discard_foreign, scope=scope)


def _with_codes(item: Incoming, report: FileReport) -> Incoming:
    item.codes = sorted({f.code for f in report.findings if f.severity == "error"})
    return item


def file_hashes(files: Sequence[Path]) -> dict[Path, str | None]:
    """SHA-256 of each file (None when it cannot be read): the record skips files it has seen."""
    out = {}
    for path in files:
        try:
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            out[path] = digest.hexdigest()
        except OSError:
            out[path] = None
    return out


def consolidate(inbox: Sequence[str | Path], master: str | Path, *, rulebook: Rulebook | Company,
                roster: Sequence[Employee] | None = None, period: str | None = None, jobs: int | None = None,
                progress: Callable[[int, int], None] | None = None, now: dt.datetime | None = None,
                lock_wait: float = LOCK_WAIT_SECONDS, store: Store | str | None = None, accept_older: bool = False,
                discard_foreign: bool = False, scope: ScopeChoice | None = None,
                signing_key: SigningKey | None = None) -> ConsolidationResult:
    """Validate the files under ``inbox`` the record has not seen (the master's own files excluded), record
    them and regenerate the master; ``progress(done, total)`` follows the validation; each file's
    signature is verified with HR's ``signing_key`` when given. ``rulebook`` may be a company's set: each
    file is then validated by the rules of its department, and the master shows the company's view."""
    from kpisheet.validators.reading.file_search import find_files
    from kpisheet.validators.validate import batch_settings, cross_file_findings, iter_validate_packed

    from kpisheet.xladdin.master.accepted import accepted_submissions
    from kpisheet.xladdin.master.spool import ReportSpool

    master = Path(master)
    rules, rulebook = rulebook, rulebook.whole if isinstance(rulebook, Company) else rulebook
    refuse_if_open(master)  # before minutes of validation, not after
    files = [path for path in find_files(inbox) if not is_master_file(master, path)]
    hashes = file_hashes(files)
    opened = store if isinstance(store, Store) else open_store(store, master=master)
    spool = None
    label = path_labeller(master)
    try:
        known = _known(opened, [h for h in hashes.values() if h])
        fresh = [path for path in files if hashes[path] is None or hashes[path] not in known]
        settings = batch_settings(rules, roster, period, jobs=jobs, signing_key=signing_key)
        spool = ReportSpool(settings.roster, rulebook)
        if progress is not None:
            progress(0, len(fresh))
        for done, packed in enumerate(iter_validate_packed(fresh, settings, jobs=jobs), start=1):
            spool.add(packed, label(packed.head.path))
            if progress is not None:
                progress(done, len(fresh))
        # without a roster, the teams' accepted submissions in the record say who belongs where
        accepted = accepted_submissions(opened) if roster is None else None
        extra = cross_file_findings(spool.summaries + _accepted_summaries(opened, spool), settings.roster, accepted)
        for path, findings in extra.items():
            item = spool.item(path)
            if item is not None:
                spool.add_findings(path, findings)
                item.codes = sorted(set(item.codes) | {f.code for f in findings if f.severity == "error"})
        validated = set(fresh)
        unchanged = [_unchanged_item(path, hashes[path], label) for path in files if path not in validated]
        # the workers finish in any order: recorded in the inbox's file order, the same run gives the same
        # submission ids, 提交 rows and 日志 entries every time and on every database
        position = {label(str(path)): n for n, path in enumerate(files)}
        in_order = sorted(spool.items, key=lambda item: position.get(item.path, len(position)))
        return merge_items(master, in_order + unchanged, rulebook=rulebook, roster=roster, period=period, now=now,
                           lock_wait=lock_wait, store=opened, seen={h for h in hashes.values() if h},
                           accept_older=accept_older, discard_foreign=discard_foreign, scope=scope)
    finally:
        if spool is not None:
            spool.close()
        if not isinstance(store, Store):
            opened.dispose()


def _known(store: Store, shas: list[str]) -> set[str]:
    s = S.submissions
    found: set[str] = set()
    with store.reading() as conn:
        for start in range(0, len(shas), 500):
            found |= set(conn.execute(s.select().with_only_columns(s.c.sha256)
                                      .where(s.c.sha256.in_(shas[start:start + 500]))).scalars())
    return found


def _unchanged_item(path: Path, sha: str, label) -> Incoming:
    """A file the record already holds: only its hash matters (the record keeps its standing)."""
    report = FileReport(str(path), sha, "ok")
    item = incoming(report, label(str(path)))
    item.codes = []
    return item


def _accepted_summaries(store: Store, spool) -> list:
    """The record's accepted files of the run's periods, as the cross-file checks see them, minus the teams
    this run brings a new file for (that file replaces them)."""
    from kpisheet.validators.checks.team import FileEmployees

    new_groups = {(i.period, i.department, i.team) for i in spool.items}
    periods = sorted({i.period for i in spool.items if i.period})
    if not periods:
        return []
    r, s = S.results, S.submissions
    out: dict[int, FileEmployees] = {}
    with store.reading() as conn:
        query = (r.select().with_only_columns(r.c.submission_id, r.c.employee_id, r.c.source_cell, s.c.path,
                                              s.c.period, s.c.department, s.c.team)
                 .join(s, s.c.id == r.c.submission_id)
                 .where(s.c.status == "accepted", s.c.period.in_(periods)))
        for row in conn.execute(query):
            if (row.period, row.department, row.team) in new_groups:
                continue
            entry = out.setdefault(row.submission_id, FileEmployees(row.path, row.period, row.department, row.team, {}))
            entry.cells[row.employee_id] = row.source_cell or "?"
    return list(out.values())


# --- commands on the view ------------------------------------------------------------------------

def update_master(master: str | Path, rulebook: Rulebook, change: Callable[[L.MasterData], T], *,
                  now: dt.datetime | None = None, lock_wait: float = LOCK_WAIT_SECONDS,
                  store: Store | str | None = None, scope: ScopeChoice | None = None,
                  discard_foreign: bool = False, check: Callable[[Tx, View], None] | None = None,
                  after: Callable[[Tx, T], None] | None = None) -> tuple[T, Path | None]:
    """Run ``change`` (calibrate, rollup, appeals, notices) on the master's view and store what it changed.

    ``change`` returns an object with ``data`` (the new :class:`MasterData`) and ``changed``. ``check(tx, view)``
    runs first (e.g. refuse an incomplete period); ``after(tx, outcome)`` records more in the same transaction.
    Returns (that object, the backup made or None). Raises as :func:`merge_into_master`, and
    MasterReadError when there is neither a master nor a record yet.
    """
    master = Path(master)
    opened = store if isinstance(store, Store) else _existing_store(store, master)
    read: list[View] = []
    try:
        def apply(tx: Tx, view: View):
            if check is not None:
                check(tx, view)
            before = load_view(tx.conn, rulebook, view.scope)
            read.append(before)
            outcome = change(before.data)
            if outcome.changed:
                persist(tx, _snapshot(before.data), outcome.data, rulebook)
            if after is not None:
                after(tx, outcome)
            return outcome, set(view.scope.periods)

        run = run_on_master(master, opened, rulebook, apply, now=now, lock_wait=lock_wait, scope=scope,
                            discard_foreign=discard_foreign)
        for view in read:  # the command's outcome shares their rows read on demand (指标明细)
            view.read_later_from(opened.reading)
    finally:
        if not isinstance(store, Store):
            opened.dispose()
    return run.value, run.backup


def _snapshot(data: L.MasterData) -> L.MasterData:
    """A copy whose rows a command cannot change under us (commands copy rows, but to be sure)."""
    return L.MasterData({name: [dict(r) for r in rows] for name, rows in data.sheets.items()}, dict(data.meta),
                        {k: list(v) for k, v in data.extra_headers.items()}, data.missing_sheets)


def _existing_store(store: Store | str | None, master: Path) -> Store:
    if store is None and not master.is_file() and not (master.resolve().parent / "kpisheet.db").is_file():
        raise MasterReadError(f"找不到汇总表 {master}：请先运行 kpisheet consolidate 生成汇总表，或检查 --master 路径",
                              f"no master at {master}: run kpisheet consolidate first, or check --master")
    return open_store(store, master=master)


def rebuild_master(master: str | Path, rulebook: Rulebook, *, store: Store | str | None = None,
                   scope: ScopeChoice | None = None, now: dt.datetime | None = None,
                   discard_foreign: bool = False, lock_wait: float = LOCK_WAIT_SECONDS) -> RunOutcome:
    """Regenerate the master from the record (a lost or damaged master), HR's decisions in place.

    A master still there and readable gives its HR edits first, as on every run; one that cannot be read
    (damaged) is set aside in backups/ and regenerated."""
    from kpisheet.xladdin.master.safety import keep_copy

    master = Path(master)
    opened = store if isinstance(store, Store) else open_store(store, master=master, create=False)
    try:
        now = (now or now_local()).replace(microsecond=0)
        if master.is_file():
            from kpisheet.xladdin.master.io import read_master

            try:
                read_master(master, rulebook)
            except MasterReadError:
                keep_copy(master, now, "damaged")
                master.unlink()
        return run_on_master(master, opened, rulebook, lambda tx, view: (None, set()), now=now, lock_wait=lock_wait,
                             scope=scope, discard_foreign=discard_foreign, force=True)
    finally:
        if not isinstance(store, Store):
            opened.dispose()


def is_master_file(master: Path, path: Path) -> bool:
    """The master, its backups, lock and temp files, and the record, when the inbox folder also holds them."""
    master, path = master.resolve(), path.resolve()
    if path == master or path.parent == master.parent / BACKUP_DIR:
        return True
    if path.parent != master.parent:
        return False
    # the record (kpisheet.db and SQLite's -wal/-shm), the master's own temp and lock files (".master.*"),
    # and a spreadsheet program's lock on it
    return (path.name.startswith("kpisheet.db") or path.name.startswith(f".{master.stem}.")
            or path.name.startswith(f".{master.name}.") or path.name in owner_file_names(master.name))


def _user() -> str:
    return current_user()
