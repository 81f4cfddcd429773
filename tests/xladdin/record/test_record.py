"""The cycle record on SQLite and on a real PostgreSQL server: consolidation through it, HR decisions kept,
older drafts refused, the master rebuilt from it, the audit chain checked, damaged or foreign records refused."""

from __future__ import annotations

import datetime as dt
import sqlite3

import openpyxl
import pytest
import sqlalchemy as sa

from tests.support.master_fakes import make_report, team_employees
from tests.support.master_builders import cell_values, hr_edit

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.consolidate import merge_into_master, rebuild_master
from kpisheet.xladdin.master.io import read_master
from kpisheet.xladdin.master.master_edits import MasterHoldsForeign
from kpisheet.xladdin.record import schema as S
from kpisheet.xladdin.record.check import check_store
from kpisheet.xladdin.record.errors import StoreDamaged, StoreForeign, StoreNewer, StoreUnreachable
from kpisheet.xladdin.record.store import open_store

T1 = dt.datetime(2026, 4, 1, 9, 0, 0)
T2 = dt.datetime(2026, 4, 2, 10, 0, 0)
T3 = dt.datetime(2026, 4, 3, 11, 0, 0)


@pytest.fixture
def inbox(tmp_path, rulebook):
    a = make_report(tmp_path / "inbox" / "一组.xlsx", team_employees(rulebook, "A", 12), team="一组",
                    period="2026-03", modified=1_000)
    b = make_report(tmp_path / "inbox" / "二组.xlsx", team_employees(rulebook, "B", 10, base_level=0.6),
                    team="二组", period="2026-03", modified=1_000)
    return tmp_path, [a, b]


def summary(master, rulebook):
    return {r["employee_id"]: r for r in read_master(master, rulebook).rows(L.SUMMARY)}


def test_consolidation_lands_in_the_record_and_the_master_shows_its_generation(inbox, rulebook, store_spec):
    tmp, reports = inbox
    master = tmp / "master.xlsx"
    result = merge_into_master(master, reports, rulebook=rulebook, now=T1, store=store_spec)
    assert result.written and result.generation == 1
    store = open_store(store_spec)
    try:
        with store.reading() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(S.results)).scalar() == 22
            assert conn.execute(sa.select(sa.func.count()).select_from(S.submissions)).scalar() == 2
        meta = read_master(master, rulebook).meta
        assert meta["store_id"] == store.store_id and meta["record_generation"] == "1"
        assert check_store(store).ok
    finally:
        store.dispose()
    # same inputs: nothing changes, not a byte of the master
    before = master.read_bytes()
    again = merge_into_master(master, reports, rulebook=rulebook, now=T2, store=store_spec)
    assert not again.written and again.generation == 1 and master.read_bytes() == before


def test_an_older_draft_in_a_later_run_is_refused_and_results_stay(inbox, rulebook, store_spec):
    tmp, (a, b) = inbox
    master = tmp / "master.xlsx"
    newer = make_report(tmp / "inbox" / "一组.xlsx", team_employees(rulebook, "A", 12, base_level=0.9),
                        team="一组", period="2026-03", modified=5_000)
    merge_into_master(master, [newer, b], rulebook=rulebook, now=T1, store=store_spec)
    accepted = {k: r["total"] for k, r in summary(master, rulebook).items()}
    draft = make_report(tmp / "drafts" / "一组_草稿.xlsx", team_employees(rulebook, "A", 12, base_level=0.5),
                        team="一组", period="2026-03", modified=2_000)
    result = merge_into_master(master, [draft], rulebook=rulebook, now=T2, store=store_spec)
    assert result.exit_code == 1 and result.merge.files["rejected"] == ["drafts/一组_草稿.xlsx"]
    assert {k: r["total"] for k, r in summary(master, rulebook).items()} == accepted
    issues = read_master(master, rulebook).rows(L.ISSUES)
    assert [i["code"] for i in issues if i["file"] == "drafts/一组_草稿.xlsx"] == ["team-older-than-accepted"]
    # HR's word takes it, logged
    draft2 = make_report(tmp / "drafts" / "一组_草稿2.xlsx", team_employees(rulebook, "A", 12, base_level=0.52),
                         team="一组", period="2026-03", modified=2_100)
    taken = merge_into_master(master, [draft2], rulebook=rulebook, now=T3, store=store_spec, accept_older=True)
    assert taken.merge.files["accepted"] == ["drafts/一组_草稿2.xlsx"]
    log = read_master(master, rulebook).rows(L.LOG)
    assert any(e["action"] == "接受旧版本 accept older" for e in log)


def test_deleting_the_master_and_rebuilding_gives_back_every_decision_and_row(inbox, rulebook, store_spec):
    tmp, reports = inbox
    master = tmp / "master.xlsx"
    merge_into_master(master, reports, rulebook=rulebook, now=T1, store=store_spec)
    hr_edit(master, L.SUMMARY, ("2026-03", "A004"), {"校准等级": "A", "调整理由": "客户表扬信三封", "HR备注": "已面谈"})
    hr_edit(master, L.SUMMARY, ("2026-03", "B002"), {"校准等级": "S"})  # no reason: pending
    merge_into_master(master, reports, rulebook=rulebook, now=T2, store=store_spec)
    before = cell_values(master)
    master.unlink()
    run = rebuild_master(master, rulebook, store=store_spec, now=T3)
    assert run.written
    after = cell_values(master)
    for sheet in (L.SUMMARY, L.DETAIL, L.SUBMISSIONS, L.ISSUES, L.APPEALS, L.ANNUAL, L.LOG, L.SETTINGS):
        assert after[sheet] == before[sheet], sheet
    rows = summary(master, rulebook)
    assert (rows["A004"]["calibrated_grade"], rows["A004"]["final_grade"], rows["A004"]["hr_notes"]) == (
        "A", "A", "已面谈")
    assert rows["B002"]["calibrated_grade"] == "S" and rows["B002"]["final_grade"] == rows["B002"]["system_grade"]


def test_sqlite_and_postgresql_give_identical_masters(inbox, rulebook, pg_admin_url, tmp_path):
    from tests.support.postgres import fresh_database

    _tmp, reports = inbox
    masters = {}
    for name, spec in (("sqlite", str(tmp_path / "a" / "kpisheet.db")), ("postgresql", fresh_database(pg_admin_url))):
        (tmp_path / name).mkdir()
        (tmp_path / "a").mkdir(exist_ok=True)
        master = tmp_path / name / "master.xlsx"
        merge_into_master(master, reports, rulebook=rulebook, now=T1, store=spec)
        hr_edit(master, L.SUMMARY, ("2026-03", "A001"), {"校准等级": "B", "调整理由": "复核"})
        merge_into_master(master, reports, rulebook=rulebook, now=T2, store=spec)
        masters[name] = cell_values(master)
    for sheet in masters["sqlite"]:
        if sheet == L.META:
            continue
        assert masters["sqlite"][sheet] == masters["postgresql"][sheet], sheet


def test_a_sheet_hr_added_refuses_the_run_and_leaves_the_master(inbox, rulebook, store_spec):
    tmp, reports = inbox
    master = tmp / "master.xlsx"
    merge_into_master(master, reports, rulebook=rulebook, now=T1, store=store_spec)
    book = openpyxl.load_workbook(master)
    book.create_sheet("HR统计")["A1"] = "我的统计"
    book[L.SUMMARY]["AZ3"] = "=SUM(1,2)"
    book.save(master)
    before = master.read_bytes()
    with pytest.raises(MasterHoldsForeign) as caught:
        merge_into_master(master, reports, rulebook=rulebook, now=T2, store=store_spec)
    assert caught.value.exit_code == 2
    assert "HR统计" in caught.value.message_zh and "总表!AZ3" in caught.value.message_zh
    assert master.read_bytes() == before
    # HR chooses to drop them: a copy is kept, the run goes on, the log says so
    done = merge_into_master(master, reports, rulebook=rulebook, now=T2, store=store_spec, discard_foreign=True)
    assert done.written and done.state.kept_copy.read_bytes() == before
    assert "HR统计" not in openpyxl.load_workbook(master, read_only=True).sheetnames


def test_a_changed_system_cell_is_named(inbox, rulebook, store_spec):
    tmp, reports = inbox
    master = tmp / "master.xlsx"
    merge_into_master(master, reports, rulebook=rulebook, now=T1, store=store_spec)
    hr_edit(master, L.SUMMARY, ("2026-03", "A003"), {"总分": 99.5})
    with pytest.raises(MasterHoldsForeign) as caught:
        merge_into_master(master, reports, rulebook=rulebook, now=T2, store=store_spec)
    assert "2026-03/A003" in caught.value.message_zh and "总表!" in caught.value.message_zh


def test_audit_log_edits_and_removals_are_detected(inbox, rulebook, store_spec):
    tmp, reports = inbox
    master = tmp / "master.xlsx"
    merge_into_master(master, reports, rulebook=rulebook, now=T1, store=store_spec)
    store = open_store(store_spec)
    try:
        assert check_store(store).ok
        with store.engine.begin() as conn:
            conn.execute(sa.update(S.audit).where(S.audit.c.seq == 1).values(reason="改过 edited"))
        broken = check_store(store)
        assert not broken.ok and broken.chain_break.seq == 1
        with store.engine.begin() as conn:
            conn.execute(sa.delete(S.audit).where(S.audit.c.seq == 1))
        assert check_store(store).chain_break.seq == 2
    finally:
        store.dispose()


def test_a_foreign_or_damaged_or_newer_sqlite_record_is_refused(tmp_path):
    text = tmp_path / "text" / "kpisheet.db"
    text.parent.mkdir()
    text.write_text("not a database", encoding="utf-8")
    with pytest.raises(StoreForeign):
        open_store(text)
    assert text.read_text(encoding="utf-8") == "not a database"

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreForeign):
        open_store(other)

    good = tmp_path / "good" / "kpisheet.db"
    good.parent.mkdir()
    open_store(good).dispose()
    with sqlite3.connect(good) as conn:
        conn.execute("UPDATE kpisheet_store SET schema_version = 99")
    with pytest.raises(StoreNewer):
        open_store(good)

    damaged = tmp_path / "damaged" / "kpisheet.db"
    damaged.parent.mkdir()
    store = open_store(damaged)
    store.dispose()
    data = bytearray(damaged.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the first page's b-tree: the schema is unreadable
    damaged.write_bytes(bytes(data))
    with pytest.raises((StoreDamaged, StoreForeign)):
        open_store(damaged)


def test_a_server_that_is_down_or_refuses_the_login_is_one_line(pg_admin_url):
    from kpisheet.xladdin.record.store import database_url

    url = database_url(pg_admin_url)
    with pytest.raises(StoreUnreachable) as down:
        open_store(url.set(port=1).render_as_string(hide_password=False))
    assert "cannot reach" in down.value.message_en or "refused" in down.value.message_en
    with pytest.raises(StoreUnreachable):
        open_store(url.set(username="nobody_here").render_as_string(hide_password=False))


def test_a_master_from_before_the_record_is_taken_in_whole(inbox, rulebook, tmp_path):
    """Upgrading: the old master's rows and HR's cells become the record; nothing of it is lost."""
    from kpisheet.xladdin.master.io import write_master
    from kpisheet.xladdin.master.layout import empty_master
    from kpisheet.xladdin.master.legacy import merge

    _tmp, (a, b) = inbox
    old = merge(empty_master(), [a], rulebook, now=T1).data
    next(r for r in old.rows(L.SUMMARY) if r["employee_id"] == "A002").update(
        calibrated_grade="C", override_reason="旧表中的决定", hr_notes="旧备注")
    master = tmp_path / "legacy" / "master.xlsx"
    master.parent.mkdir()
    old.meta = {k: v for k, v in old.meta.items() if k not in ("store_id", "record_generation", "view_id")}
    write_master(master, old, rulebook, now=T1)
    april = make_report(tmp_path / "april" / "三组.xlsx", team_employees(rulebook, "C", 4), team="三组",
                        period="2026-04")
    merge_into_master(master, [april], rulebook=rulebook, now=T2)  # a.xlsx is not in this run's inbox
    rows = {(r["period"], r["employee_id"]): r for r in read_master(master, rulebook).rows(L.SUMMARY)}
    assert len(rows) == 12 + 4
    kept = rows[("2026-03", "A002")]
    assert (kept["calibrated_grade"], kept["final_grade"], kept["hr_notes"]) == ("C", "C", "旧备注")
