"""A real PostgreSQL server for the record's tests: given, or started in a temporary folder for the session.

``KPISHEET_TEST_PG_URL`` names a server to use (e.g. CI's or a developer's);
otherwise the PostgreSQL binaries found on the machine (Debian's
/usr/lib/postgresql/<version>/bin) start a throwaway cluster: initdb in a
temporary folder, a Unix socket in that folder and TCP on a free port of
127.0.0.1 only, stopped (``pg_ctl stop -m immediate``) and deleted at the end.
initdb refuses to run as root, so as root the cluster is made and run as the
``postgres`` system user that Debian's package creates (via ``runuser``). Each
test gets a database of its own. No tests live here.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

URL_ENV = "KPISHEET_TEST_PG_URL"
SERVICE_USER = "postgres"


def _binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    roots = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True)
    return next((r for r in roots if (r / "initdb").exists() and (r / "pg_ctl").exists()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user(command: list[str]) -> tuple[list[str], str | None]:
    """The command as the user that may run PostgreSQL: ourselves, or ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return command, None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return [], f"running as root and there is no {SERVICE_USER!r} user to run PostgreSQL as"
    runuser = shutil.which("runuser")
    if runuser is None:
        return [], "running as root and runuser is missing"
    return [runuser, "-u", SERVICE_USER, "--", *command], None


def reachable(url: str) -> str | None:
    """None when a connection to ``url`` works, else why not."""
    import sqlalchemy as sa

    from kpisheet.xladdin.record.store import database_url

    try:
        engine = sa.create_engine(database_url(url), connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # any failure means: no server for these tests
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return None


@contextmanager
def throwaway_server() -> Iterator[tuple[str | None, str | None]]:
    """(admin URL, None) of a server started for the session, or (None, why not)."""
    given = os.environ.get(URL_ENV)
    if given:
        problem = reachable(given)
        yield (None, f"{URL_ENV}={given} is not reachable ({problem})") if problem else (given, None)
        return
    binaries = _binaries()
    if binaries is None:
        yield None, "no PostgreSQL binaries (initdb, pg_ctl) on this machine"
        return
    folder = Path(tempfile.mkdtemp(prefix="kpisheet-pg-"))
    data = folder / "data"
    port = _free_port()
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            owner = None
    if owner is not None:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    init, why = _as_user([str(binaries / "initdb"), "-D", str(data), "-U", "kpisheet", "--auth=trust",
                          "-E", "UTF8", "--locale=C.UTF-8"])
    if why:
        shutil.rmtree(folder, ignore_errors=True)
        yield None, why
        return
    started = False
    try:
        done = subprocess.run(init, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            yield None, f"initdb failed: {done.stderr.strip()[-300:]}"
            return
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        start, _ = _as_user([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
                             "-w", "-t", "60", "start"])
        done = subprocess.run(start, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = (folder / "log").read_text(errors="replace")[-400:] if (folder / "log").exists() else ""
            yield None, f"pg_ctl start failed: {done.stderr.strip()[-200:]} {log}"
            return
        started = True
        yield f"postgresql://kpisheet@127.0.0.1:{port}/postgres", None
    finally:
        if started:
            stop, _ = _as_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
            subprocess.run(stop, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(admin_url: str) -> str:
    """A new, empty database on the server; its URL."""
    import sqlalchemy as sa

    from kpisheet.xladdin.record.store import database_url

    name = f"kpisheet_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(database_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = database_url(admin_url).set(database=name)
    return url.render_as_string(hide_password=False)
