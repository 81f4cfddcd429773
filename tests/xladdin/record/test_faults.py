"""Faults with real processes: kill -9 between the record's commit and the master's rename and inside each,
two desks at once on PostgreSQL, a read-only folder, a full disk. After each: the record passes its integrity
check and its audit chain holds, no transaction is half there, and the next run leaves master and record
at the same generation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.paths import REPO_ROOT
from tests.support.master_builders import digest

from kpisheet.xladdin.master import layout as L
from kpisheet.xladdin.master.io import read_master
from kpisheet.xladdin.master.safety import FAULT_ENV, FAULT_MARKER_ENV
from kpisheet.xladdin.record import schema as S
from kpisheet.xladdin.record.check import check_store
from kpisheet.xladdin.record.store import open_store

RUNNER = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.support.master_fakes import make_report, team_employees
    from kpisheet.validators.errors import KpisheetError
    from kpisheet.validators.rulebook.load import default_rulebook
    from kpisheet.xladdin.master.consolidate import merge_into_master

    rulebook = default_rulebook()
    master, store, level, teams = Path(sys.argv[1]), sys.argv[2] or None, float(sys.argv[3]), sys.argv[4].split(",")
    inbox = Path(__file__).parent / f"inbox-{{level}}-{{teams[0]}}"
    reports = [make_report(inbox / f"{{team}}.xlsx", team_employees(rulebook, team, 6, base_level=level),
                           team=team, period="2026-03", modified=1_000 + level * 1_000) for team in teams]
    try:
        result = merge_into_master(master, reports, rulebook=rulebook, store=store, lock_wait=60)
    except KpisheetError as error:
        print(error.line())
        sys.exit(error.exit_code)
    print("generation", result.generation)
""")


def start(folder: Path, level: float, *, teams: str = "A,B", store: str = "", fault: str | None = None,
          master: Path | None = None, **popen) -> subprocess.Popen:
    script = folder / "runner.py"
    if not script.exists():
        script.write_text(RUNNER.format(root=str(REPO_ROOT)), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in (FAULT_ENV, FAULT_MARKER_ENV)}
    if fault:
        env[FAULT_ENV] = fault
    master = master or folder / "master.xlsx"
    return subprocess.Popen([sys.executable, str(script), str(master), store, str(level), teams], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=180)
    return process.returncode, out, err


def generation_of(master: Path, rulebook) -> int:
    return int(read_master(master, rulebook).meta["record_generation"])


def record_state(spec) -> tuple[int, int, bool]:
    """(generation, results rows, sound: integrity check and audit chain)"""
    store = open_store(spec, create=False)
    try:
        with store.reading() as conn:
            rows = conn.execute(sa.select(sa.func.count()).select_from(S.results)).scalar()
        checked = check_store(store)
        return checked.generation, rows, checked.ok
    finally:
        store.dispose()


@pytest.fixture
def first(tmp_path, rulebook):
    code, out, err = finish(start(tmp_path, 0.7))
    assert code == 0, err
    return tmp_path / "master.xlsx"


@pytest.mark.parametrize("point", ["sheet:总表", "written", "before-commit"])
def test_killed_before_the_commit_changes_neither(first, rulebook, point):
    folder = first.parent
    db = folder / "kpisheet.db"
    before, state = digest(first), record_state(db)
    code, _out, _err = finish(start(folder, 0.95, teams="A,B,C", fault=f"{point}:kill"))
    assert code == -signal.SIGKILL
    assert digest(first) == before and record_state(db) == state  # no half transaction: C is not there
    assert state[2]
    code, _out, err = finish(start(folder, 0.95, teams="A,B,C"))
    assert code == 0, err
    generation, rows, sound = record_state(db)
    assert sound and rows == 18 and generation_of(first, rulebook) == generation


@pytest.mark.parametrize("point", ["committed", "synced", "backed-up"])
def test_killed_after_the_commit_the_next_run_brings_the_master_level(first, rulebook, point):
    folder = first.parent
    db = folder / "kpisheet.db"
    before = digest(first)
    old_generation = generation_of(first, rulebook)
    code, _out, _err = finish(start(folder, 0.95, teams="A,B,C", fault=f"{point}:kill"))
    assert code == -signal.SIGKILL
    generation, rows, sound = record_state(db)
    assert sound and rows == 18 and generation == old_generation + 1  # the record holds the whole run
    assert digest(first) == before  # the master is one step behind, intact
    # the next run (same inbox: nothing new) sees the master's older generation and regenerates it
    code, _out, err = finish(start(folder, 0.95, teams="A,B,C"))
    assert code == 0, err
    assert generation_of(first, rulebook) == record_state(db)[0]
    assert len(read_master(first, rulebook).rows(L.SUMMARY)) == 18


def test_two_desks_at_once_on_postgresql_both_complete(tmp_path, rulebook, pg_admin_url):
    from tests.support.postgres import fresh_database

    url = fresh_database(pg_admin_url)
    desks = [tmp_path / "desk1", tmp_path / "desk2"]
    for desk in desks:
        desk.mkdir()
    runs = [start(desks[0], 0.8, teams="A,B", store=url), start(desks[1], 0.9, teams="C,D", store=url)]
    results = [finish(run) for run in runs]
    assert [code for code, _o, _e in results] == [0, 0], results
    store = open_store(url)
    try:
        with store.reading() as conn:
            subs = conn.execute(sa.select(S.submissions.c.team, S.submissions.c.status)).all()
            people = conn.execute(sa.select(sa.func.count()).select_from(S.results)).scalar()
        assert sorted(subs) == [("A", "accepted"), ("B", "accepted"), ("C", "accepted"), ("D", "accepted")]
        assert people == 24 and check_store(store).ok
    finally:
        store.dispose()
    # each desk's next run shows the other's teams too: the master follows the shared record
    code, _out, err = finish(start(desks[0], 0.8, teams="A,B", store=url))
    assert code == 0, err
    assert {r["team"] for r in read_master(desks[0] / "master.xlsx", rulebook).rows(L.SUMMARY)} == {"A", "B", "C", "D"}


@pytest.fixture
def mounted(tmp_path):
    """Mount a small tmpfs (options given) in the test's folder: a real read-only or full file system."""
    from tests.support.environment import require

    made = []

    def mount(name: str, options: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                              text=True)
        require(done.returncode == 0, f"mounting a tmpfs ({done.stderr.strip()})")
        made.append(folder)
        return folder

    yield mount
    for folder in made:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_read_only_folder_is_one_line_and_nothing_written(tmp_path, mounted):
    folder = mounted("ro", "ro,size=1m")
    code, out, err = finish(start(tmp_path, 0.8, teams="A", master=folder / "master.xlsx"))
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    line = out.strip().splitlines()[-1]
    assert " / " in line and "cannot be written" in line, line
    assert list(folder.iterdir()) == []


def test_a_full_disk_is_one_line_and_the_record_stays_sound(tmp_path, rulebook, mounted):
    folder = mounted("full", "size=4m")
    master = folder / "master.xlsx"
    code, out, err = finish(start(tmp_path, 0.7, master=master))
    assert code == 0, err
    db = folder / "kpisheet.db"
    before, state = digest(master), record_state(db)
    free = os.statvfs(folder)
    filler = folder / "filler"
    filler.write_bytes(b"\0" * max(0, free.f_bavail * free.f_frsize - 96 * 1024))  # about 96 KB left
    code, out, err = finish(start(tmp_path, 0.95, teams=",".join(f"T{i}" for i in range(40)), master=master))
    assert code == 2, (out, err)
    assert "Traceback" not in out + err and " / " in out.strip().splitlines()[-1]
    filler.unlink()
    assert digest(master) == before and record_state(db) == state and state[2]
