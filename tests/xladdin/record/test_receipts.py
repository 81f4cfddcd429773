"""Issue 13 item 9: the master's 提交 lists every file received, one row per path and content, with its hash.

Real sample workbooks in a real inbox, consolidated into a real record (SQLite, and PostgreSQL where the
record's own fixture gives a server): identical bytes under two names are two rows, a copy of a clean file
names its twin, a second run on the same inbox receives nothing and writes nothing while a known content
under a new name is received without being read again, and a
record made before receipts existed is upgraded when opened."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path

import sqlalchemy as sa

from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.consolidate import consolidate, rebuild_master
from kpisheet.xladdin.master.io import read_master
from kpisheet.xladdin.record import schema as S, words as W
from kpisheet.xladdin.record.store import open_store
from tests.support.paths import SAMPLES

T1 = dt.datetime(2026, 4, 1, 9, 0, 0)
T2 = dt.datetime(2026, 4, 2, 10, 0, 0)
T3 = dt.datetime(2026, 4, 3, 11, 0, 0)
REJECTED = SAMPLES / "submissions" / "2026-Q1_售后服务部_技术支持组_insert-row.xlsx"
CLEAN = SAMPLES / "submissions" / "2026-Q4_售后服务部_技术支持组_clean.xlsx"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def receipts_shown(master: Path) -> list[dict]:
    return read_master(master, default_rulebook()).rows(L.SUBMISSIONS)


def counted(store_spec, table: sa.Table) -> int:
    store = open_store(store_spec, create=False)
    try:
        with store.reading() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
    finally:
        store.dispose()


def test_two_rejected_files_with_identical_bytes_are_two_rows(tmp_path, store_spec):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(REJECTED, inbox / "技术支持组.xlsx")
    shutil.copy2(REJECTED, inbox / "客服中心.xlsx")
    master = tmp_path / "master.xlsx"
    consolidate([inbox], master, rulebook=default_rulebook(), period="2026-Q1", now=T1, store=store_spec)

    rows = receipts_shown(master)
    assert sorted(r["path"] for r in rows) == ["inbox/客服中心.xlsx", "inbox/技术支持组.xlsx"]
    assert {r["sha256"] for r in rows} == {sha256_of(REJECTED)}
    assert {r["first_seen"] for r in rows} == {T1}
    read, twin = sorted(rows, key=lambda r: r["status"] == W.SUB_SAME_CONTENT)
    assert read["status"] == W.SUB_REJECTED and read["errors"] > 0
    assert twin["status"] == W.SUB_SAME_CONTENT and twin["errors"] == read["errors"]
    assert read["path"] in twin["note"] and W.SUB_REJECTED in twin["note"]
    # one content, judged once: one submission, its findings listed once (under the file that was read)
    assert counted(store_spec, S.submissions) == 1 and counted(store_spec, S.receipts) == 2
    issues = read_master(master, default_rulebook()).rows(L.ISSUES)
    assert issues and {r["file"] for r in issues} == {read["path"]}


def test_a_clean_file_and_its_copy_are_two_rows_one_accepted_one_naming_its_twin(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    original = inbox / CLEAN.name
    shutil.copy2(CLEAN, original)
    copy = inbox / f"副本_{CLEAN.name}"
    shutil.copy2(CLEAN, copy)
    os.utime(copy, (original.stat().st_mtime - 60,) * 2)  # the copy is older: the original is the one kept
    master = tmp_path / "master.xlsx"
    result = consolidate([inbox], master, rulebook=default_rulebook(), now=T1)
    assert [Path(p).name for p in result.merge.files["accepted"]] == [CLEAN.name], result.to_dict()

    rows = {r["path"]: r for r in receipts_shown(master)}
    assert set(rows) == {f"inbox/{CLEAN.name}", f"inbox/副本_{CLEAN.name}"}
    kept, twin = rows[f"inbox/{CLEAN.name}"], rows[f"inbox/副本_{CLEAN.name}"]
    assert kept["status"] == W.SUB_ACCEPTED and kept["sha256"] == twin["sha256"] == sha256_of(CLEAN)
    assert twin["status"] == W.SUB_SAME_CONTENT
    assert f"inbox/{CLEAN.name}" in twin["note"] and W.SUB_ACCEPTED in twin["note"]
    assert (twin["team"], twin["period"]) == (kept["team"], kept["period"]) == ("技术支持组", "2026-Q4")


def test_a_second_run_on_the_same_inbox_writes_nothing_and_a_new_path_is_received(tmp_path, store_spec):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(CLEAN, inbox / CLEAN.name)
    shutil.copy2(CLEAN, inbox / f"副本_{CLEAN.name}")
    master = tmp_path / "master.xlsx"
    rulebook = default_rulebook()
    first_totals: list[int] = []
    consolidate([inbox], master, rulebook=rulebook, now=T1, store=store_spec,
                progress=lambda done, total: first_totals.append(total))
    assert first_totals[0] == 2
    before = master.read_bytes()

    # the same files at the same paths: nothing received, nothing read, not a byte written
    totals: list[int] = []
    again = consolidate([inbox], master, rulebook=rulebook, now=T2, store=store_spec,
                        progress=lambda done, total: totals.append(total))
    assert totals == [0]  # nothing validated: the record knows every content
    assert not again.written and master.read_bytes() == before
    assert counted(store_spec, S.submissions) == 1 and counted(store_spec, S.receipts) == 2

    # the same content under a new name, in a later run: received (its own row), still not read again
    shutil.copy2(CLEAN, inbox / f"再次提交_{CLEAN.name}")
    totals.clear()
    later = consolidate([inbox], master, rulebook=rulebook, now=T3, store=store_spec,
                        progress=lambda done, total: totals.append(total))
    assert totals == [0] and later.written
    rows = receipts_shown(master)
    assert [r["first_seen"] for r in rows] == [T1, T1, T3]
    assert rows[2]["path"] == f"inbox/再次提交_{CLEAN.name}" and rows[2]["status"] == W.SUB_SAME_CONTENT
    assert counted(store_spec, S.submissions) == 1 and counted(store_spec, S.receipts) == 3
    store = open_store(store_spec, create=False)
    try:
        with store.reading() as conn:
            kinds = sorted(conn.execute(sa.select(S.receipts.c.kind).where(
                S.receipts.c.received_at == T3)).scalars())
    finally:
        store.dispose()
    assert kinds == ["copy"]  # of 副本_, which this run kept for those bytes (the run's copies come first)


def test_a_record_made_before_receipts_is_upgraded_when_opened(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(CLEAN, inbox / CLEAN.name)
    shutil.copy2(REJECTED, inbox / REJECTED.name)
    master = tmp_path / "master.xlsx"
    db = tmp_path / "kpisheet.db"
    rulebook = default_rulebook()
    consolidate([inbox], master, rulebook=rulebook, now=T1)
    shown_before = receipts_shown(master)
    # the record as schema 1 left it: no receipts table
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE receipts")
        conn.execute(sa.update(S.store).values(schema_version=1))
    engine.dispose()

    store = open_store(db, create=False)
    try:
        assert store.schema_version == S.SCHEMA_VERSION == 2
        with store.reading() as conn:
            assert conn.execute(sa.select(S.store.c.schema_version)).scalar() == 2
            assert conn.execute(sa.select(sa.func.count()).select_from(S.receipts)).scalar() == 2
    finally:
        store.dispose()
    master.unlink()
    rebuild_master(master, rulebook=rulebook)
    assert receipts_shown(master) == shown_before


def test_archive_takes_a_periods_receipts_with_its_submissions(tmp_path):
    from kpisheet.xladdin.record.archive import archive_before

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(CLEAN, inbox / CLEAN.name)
    shutil.copy2(CLEAN, inbox / f"副本_{CLEAN.name}")
    master = tmp_path / "master.xlsx"
    consolidate([inbox], master, rulebook=default_rulebook(), now=T1)
    shutil.copy2(CLEAN, inbox / f"再次提交_{CLEAN.name}")  # the same bytes under a third name, a run later
    consolidate([inbox], master, rulebook=default_rulebook(), now=T2)
    store = open_store(tmp_path / "kpisheet.db", create=False)
    try:
        done = archive_before(store, 2027, tmp_path / "archive", retention_years=5, today=dt.date(2032, 1, 1))
    finally:
        store.dispose()
    assert done.rows["receipts"] == 3 and done.rows["submissions"] == 1
    assert counted(tmp_path / "kpisheet.db", S.receipts) == 0
    copy = open_store(done.file, create=False)
    try:
        with copy.reading() as conn:
            paths = sorted(conn.execute(sa.select(S.receipts.c.path)).scalars())
    finally:
        copy.dispose()
    assert paths == sorted(f"inbox/{name}{CLEAN.name}" for name in ("", "副本_", "再次提交_"))
