"""Opening the cycle record and running transactions on it, on SQLite or PostgreSQL.

    store = open_store(None, master=Path("master.xlsx"))      # kpisheet.db beside the master
    store = open_store("postgresql://hr@db.example/kpi")       # several HR desks
    with store.writing() as tx:                                # one transaction, writers serialised
        tx.conn.execute(...)
        tx.touch()                                              # something changed: bump the generation

SQLite runs in WAL mode with foreign keys on and ``synchronous=FULL``: a
process killed at any instant leaves either the last committed transaction or
the one before, never half of one. A writer starts with ``BEGIN IMMEDIATE``,
so a second run waits (``busy_timeout``) rather than failing half-way. On
PostgreSQL a writer locks the one ``kpisheet_store`` row first, which queues
every other desk's writer behind it.

Every driver error is turned into one bilingual :class:`StoreError` kind
(damaged, foreign, busy, unreachable): nothing reaches HR as a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy import event, exc

from kpisheet import __version__
from kpisheet.xladdin.kit.files import no_space_words
from kpisheet.xladdin.kit.user import current_user
from kpisheet.xladdin.record import schema as S
from kpisheet.xladdin.record.upgrade import can_upgrade, upgrade
from kpisheet.xladdin.record.errors import (
    StoreBusy, StoreDamaged, StoreError, StoreForeign, StoreNewer, StoreOlder, StoreUnreachable,
)

STORE_FILE = "kpisheet.db"
GENESIS = "0" * 64  # the hash before the first audit entry
SQLITE_HEADER = b"SQLite format 3\x00"
# How long a writer waits for another run's transaction before it is refused.
DEFAULT_WAIT_SECONDS = 30.0
# PostgreSQL: how long to wait for a server that does not answer.
CONNECT_TIMEOUT_SECONDS = 10


def now_local() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def os_user() -> str:
    return current_user()


def dumps(value) -> str:
    """JSON as the record stores it: the same text on every server and every run."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))


def shown(value) -> str | None:
    """A value as the record writes it into a text column (audit, decisions): whole numbers without
    ".0", dates in ISO form, nothing for an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        number = float(value)
        return str(int(number)) if number.is_integer() else format(number, ".15g")
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def is_url(spec: str) -> bool:
    return "://" in spec


def store_spec(spec: str | Path | None, master: Path | None) -> str | Path:
    """What --store names: a database URL, a file path, or (None) kpisheet.db beside the master."""
    if spec is None or str(spec).strip() == "":
        if master is None:
            raise StoreUnreachable("未指定考核记录库：请用 --store 指定 kpisheet.db 或数据库连接地址",
                                   "no cycle record given: pass --store with kpisheet.db or a database URL")
        return Path(master).resolve().parent / STORE_FILE
    text = str(spec).strip()
    return text if is_url(text) else Path(text)


def database_url(text: str) -> sa.engine.URL:
    """``text`` as SQLAlchemy's URL, with the PostgreSQL driver kpisheet ships (psycopg 3)."""
    try:
        url = sa.engine.make_url(text)
    except exc.ArgumentError:
        raise StoreUnreachable(f"无法识别的记录库地址：{text}", f"not a database URL: {text}",
                               hint_zh="例如 postgresql://用户@服务器/数据库",
                               hint_en="e.g. postgresql://user@server/database") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if not url.drivername.startswith(("postgresql", "sqlite")):
        raise StoreUnreachable(f"不支持的数据库：{url.drivername}（支持 SQLite 与 PostgreSQL）",
                               f"unsupported database {url.drivername}: SQLite and PostgreSQL are supported")
    return url


@dataclass
class Tx:
    """One writing transaction: the connection, the generation it will commit as, who and when."""

    conn: sa.Connection
    generation: int
    now: dt.datetime
    user: str
    changed: bool = False
    after_commit: list = field(default_factory=list)

    def touch(self) -> None:
        self.changed = True


class Store:
    """An open cycle record."""

    def __init__(self, engine: sa.Engine, kind: str, label: str, path: Path | None, wait: float):
        self.engine = engine
        self.kind = kind          # "sqlite" | "postgresql"
        self.label = label        # for messages: the file, or the URL without its password
        self.path = path
        self.wait = wait
        self.store_id = ""
        self.schema_version = 0

    # --- transactions ------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        with self.guard(), self.engine.connect() as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def writing(self, *, now: dt.datetime | None = None, user: str | None = None) -> Iterator[Tx]:
        """A transaction holding the record for writing; committed only when ``tx.touch()`` was called."""
        with self.guard(), self.engine.connect() as conn:
            conn = conn.execution_options(kpisheet_write=True)
            trans = conn.begin()
            try:
                generation = self._lock(conn)
                tx = Tx(conn, generation + 1, (now or now_local()).replace(microsecond=0),
                        os_user() if user is None else user)
                yield tx
                if tx.changed:
                    conn.execute(sa.update(S.store).where(S.store.c.id == S.STORE_ROW)
                                 .values(generation=tx.generation))
                    trans.commit()
                else:
                    trans.rollback()
            except BaseException:
                if trans.is_active:
                    trans.rollback()
                raise
        for callback in tx.after_commit if tx.changed else ():
            callback()

    def _lock(self, conn: sa.Connection) -> int:
        query = sa.select(S.store.c.generation).where(S.store.c.id == S.STORE_ROW)
        if self.kind == "postgresql":
            query = query.with_for_update()
        value = conn.execute(query).scalar()
        if value is None:
            raise StoreDamaged(f"考核记录库 {self.label} 缺少标识行", f"the record {self.label} lacks its identity row")
        return int(value)

    def generation(self) -> int:
        with self.reading() as conn:
            return int(conn.execute(sa.select(S.store.c.generation)).scalar() or 0)

    # --- errors ------------------------------------------------------------------------------

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Driver errors as one bilingual StoreError."""
        try:
            yield
        except StoreError:
            raise
        except exc.DBAPIError as error:
            raise translate(error, self.label) from None
        except sqlite3.Error as error:  # raised outside SQLAlchemy's wrapping (e.g. in a pragma on connect)
            raise translate(error, self.label) from None

    def dispose(self) -> None:
        self.engine.dispose()


def translate(error: BaseException, label: str) -> StoreError:
    """A driver error as what HR can act on."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    low = text.lower()
    if "locked" in low or "busy" in low or "could not obtain lock" in low or "lock timeout" in low:
        return StoreBusy(f"考核记录库 {label} 正被另一个 kpisheet 使用；请等它结束后再运行",
                         f"the record {label} is in use by another kpisheet run; run again when it has finished")
    if "not a database" in low or "file is encrypted" in low:
        return StoreForeign(f"{label} 不是 kpisheet 考核记录库（{text}）；未改动它",
                            f"{label} is not a kpisheet cycle record ({text}); it was left untouched")
    if "malformed" in low or "corrupt" in low or "disk image" in low:
        return StoreDamaged(f"考核记录库 {label} 已损坏（{text}）；未改动它，请从备份恢复（见 docs/record.md）",
                            f"the record {label} is damaged ({text}); it was left untouched, restore it from a "
                            "backup (see docs/record.md)")
    if "full" in low or "disk i/o" in low:
        words_zh, words_en = no_space_words(Path(label).parent) if "://" not in label else ("磁盘空间不足",
                                                                                               "no space left")
        return StoreUnreachable(f"{words_zh}：考核记录库 {label} 未写入任何内容",
                                f"{words_en}: nothing was written to the record {label}",
                                hint_zh="清理磁盘空间后重新运行", hint_en="free some space and run again")
    if "readonly" in low or "read-only" in low or "permission" in low or "unable to open" in low:
        return StoreUnreachable(f"考核记录库 {label} 无法写入（{text}）：请检查文件夹权限或改用 --store",
                                f"the record {label} cannot be written ({text}): check the folder's permissions "
                                "or pass --store")
    if "password" in low or "authentication" in low or "role" in low and "does not exist" in low:
        return StoreUnreachable(f"数据库拒绝登录：{label}（{text}）", f"the database refused the login: {label} ({text})")
    if "connect" in low or "connection" in low or "timeout" in low or "could not translate host" in low:
        return StoreUnreachable(f"无法连接数据库 {label}（{text}）：服务器未运行或地址有误",
                                f"cannot reach the database {label} ({text}): the server is down or the address "
                                "is wrong")
    return StoreError(f"考核记录库 {label} 出错：{text}", f"the record {label} failed: {text}")


# --- opening ---------------------------------------------------------------------------------

def open_store(spec: str | Path | None = None, *, master: Path | None = None, create: bool = True,
               wait: float = DEFAULT_WAIT_SECONDS) -> Store:
    """Open (and, if ``create``, make) the record named by ``spec`` (see :func:`store_spec`).

    Raises a :class:`StoreError` kind for a foreign, damaged, newer, busy or unreachable record.
    """
    where = store_spec(spec, master)
    if isinstance(where, Path):
        store = _open_sqlite(where, create, wait)
    else:
        store = _open_server(where, wait)
    try:
        with store.guard():
            _prepare(store, create)
    except BaseException:
        store.dispose()
        raise
    return store


def _open_sqlite(path: Path, create: bool, wait: float) -> Store:
    path = Path(path)
    label = str(path)
    if path.is_dir():
        raise StoreUnreachable(f"--store 是文件夹：{path}；请给出 kpisheet.db 文件名",
                               f"--store is a folder: {path}; name the kpisheet.db file")
    if path.exists():
        try:
            with open(path, "rb") as handle:
                head = handle.read(len(SQLITE_HEADER))
        except OSError as error:
            raise StoreUnreachable(f"无法读取考核记录库 {path}：{error.strerror or error}",
                                   f"cannot read the record {path}: {error.strerror or error}") from None
        if head and head != SQLITE_HEADER:
            raise StoreForeign(f"{path.name} 不是 kpisheet 考核记录库（不是 SQLite 数据库）；未改动它。"
                               "请用 --store 指定记录库，或移走该文件",
                               f"{path.name} is not a kpisheet cycle record (not an SQLite database); it was left "
                               "untouched. Pass --store with the record, or move the file away")
    elif not create:
        raise StoreUnreachable(f"找不到考核记录库 {path}：请先运行 kpisheet consolidate，或用 --store 指定",
                               f"no cycle record at {path}: run kpisheet consolidate first, or pass --store")
    elif not path.parent.is_dir():
        raise StoreUnreachable(f"考核记录库所在文件夹不存在：{path.parent}",
                               f"the record's folder does not exist: {path.parent}")
    engine = sa.create_engine(f"sqlite+pysqlite:///{path}", poolclass=sa.pool.NullPool,
                              connect_args={"timeout": wait})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # transactions are begun below, as SQLAlchemy's recipe does
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # a writer takes the write lock at once, so that it waits for another writer before it reads
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("kpisheet_write") else "BEGIN")

    return Store(engine, "sqlite", label, path, wait)


def _open_memory(wait: float) -> Store:
    """A record in this process's memory (the consolidation rules on a master's rows, tests)."""
    engine = sa.create_engine("sqlite+pysqlite://", poolclass=sa.pool.StaticPool,
                              connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")

    return Store(engine, "sqlite", ":memory:", None, wait)


def _open_server(text: str, wait: float) -> Store:
    url = database_url(text)
    if url.drivername.startswith("sqlite"):
        if url.database in (None, "", ":memory:"):
            return _open_memory(wait)
        return _open_sqlite(Path(url.database), True, wait)
    label = url.render_as_string(hide_password=True)
    try:
        engine = sa.create_engine(url, pool_pre_ping=True,
                                  connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS,
                                                "options": f"-c lock_timeout={int(wait * 1000)}"})
    except ImportError as error:
        raise StoreUnreachable(f"缺少 PostgreSQL 驱动：{error}", f"the PostgreSQL driver is missing: {error}") from None
    return Store(engine, "postgresql", label, None, wait)


def _prepare(store: Store, create: bool) -> None:
    """Check that the record is kpisheet's (or empty, then make it) and of a schema this version knows."""
    with store.engine.connect() as conn:
        with conn.begin():  # a reader: a record in use by another run's writer is not waited for here
            names = set(sa.inspect(conn).get_table_names())
    if S.store.name not in names:
        _create(store, create)
    try:
        with store.engine.connect() as conn:
            with conn.begin():
                row = conn.execute(sa.select(S.store.c.store_id, S.store.c.schema_version)
                                   .where(S.store.c.id == S.STORE_ROW)).first()
    except sa.exc.DBAPIError:  # its identity table has no schema_version: made before versions were kept
        raise _older(store, None) from None
    if row is None:
        raise StoreDamaged(f"考核记录库 {store.label} 缺少标识行", f"the record {store.label} lacks its identity row")
    if row.schema_version is None or (row.schema_version < S.SCHEMA_VERSION and not can_upgrade(row.schema_version)):
        raise _older(store, row.schema_version)
    absent = sorted({t.name for t in S.ALL_TABLES} - names) if S.store.name in names else []
    if absent and row.schema_version == S.SCHEMA_VERSION:
        raise _older(store, row.schema_version, absent)
    if row.schema_version > S.SCHEMA_VERSION:
        raise StoreNewer(f"考核记录库 {store.label} 由较新版本的 kpisheet 创建（结构版本 {row.schema_version}，"
                         f"本版本支持 {S.SCHEMA_VERSION}）；请升级 kpisheet",
                         f"the record {store.label} was made by a newer kpisheet (schema {row.schema_version}, this "
                         f"version knows {S.SCHEMA_VERSION}); upgrade kpisheet")
    if row.schema_version < S.SCHEMA_VERSION:  # made by an older kpisheet: brought up to date in place, once
        upgrade(store.engine, store.kind)
    store.store_id, store.schema_version = row.store_id, S.SCHEMA_VERSION


def _older(store: Store, version: int | None, absent: list[str] = ()) -> StoreOlder:
    """A record an older kpisheet made: refused whole, before anything is read or written."""
    shown = "缺失 missing" if version is None else str(version)
    lacks_zh = f"，缺少数据表 {'、'.join(absent)}" if absent else ""
    lacks_en = f", without the tables {', '.join(absent)}" if absent else ""
    return StoreOlder(
        f"考核记录库 {store.label} 由较旧版本的 kpisheet 创建（结构版本 {shown}{lacks_zh}；本版本需要 "
        f"{S.SCHEMA_VERSION}）；未改动它，也未写入任何内容",
        f"the record {store.label} was made by an older kpisheet (schema {'missing' if version is None else version}"
        f"{lacks_en}; this version needs {S.SCHEMA_VERSION}); it was left untouched and nothing was written",
        hint_zh="请用创建它的 kpisheet 版本继续这个考核周期；或用 --store 指定新的记录库，再把收件箱重新汇总进去",
        hint_en="go on with the kpisheet that made it; or pass --store with a new record and consolidate the "
                "inbox into it again")


def _create(store: Store, create: bool) -> None:
    """Make the tables of a new record (or find them made by a run that got there first)."""
    with store.engine.connect() as conn:
        conn = conn.execution_options(kpisheet_write=True)
        with conn.begin():
            if store.kind == "postgresql":
                # two desks creating the record at once: the second waits, then finds it made
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(4711604)"))
            names = set(sa.inspect(conn).get_table_names())
            if S.store.name not in names:  # else another run made it while we waited
                ours = {t.name for t in S.ALL_TABLES}
                if names & ours or (store.kind == "sqlite" and names):
                    raise StoreForeign(
                        f"{store.label} 不是 kpisheet 考核记录库（含有其他程序的表）；未改动它",
                        f"{store.label} is not a kpisheet cycle record (it holds another program's tables); "
                        "it was left untouched")
                if not create:
                    raise StoreUnreachable(f"{store.label} 中还没有考核记录", f"{store.label} holds no cycle record yet")
                S.metadata.create_all(conn)
                conn.execute(sa.insert(S.store).values(
                    id=S.STORE_ROW, store_id=str(uuid.uuid4()), schema_version=S.SCHEMA_VERSION,
                    created_at=now_local(), created_by=__version__, generation=0, audit_head=GENESIS,
                    audit_count=0))


def sqlite_integrity(store: Store) -> list[str]:
    """``PRAGMA integrity_check`` lines other than 'ok' (SQLite only; empty when sound)."""
    if store.kind != "sqlite":
        return []
    with store.reading() as conn:
        lines = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
        lines += [f"foreign key: {tuple(r)}" for r in conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()]
    return [line for line in lines if line != "ok"]


def backup_sqlite(store: Store, target: Path) -> Path:
    """A consistent copy of an SQLite record while others may be using it (SQLite's online backup)."""
    if store.path is None:
        raise StoreError("PostgreSQL 记录库请用 pg_dump 备份", "back up a PostgreSQL record with pg_dump")
    target = Path(target)
    source = sqlite3.connect(str(store.path))
    try:
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    os.chmod(target, 0o600)
    return target
