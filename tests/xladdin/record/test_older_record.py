"""A record made by an older kpisheet (an older or missing schema version, tables this version needs absent):
one bilingual line, exit 2, and nothing written: neither the record nor a master. On SQLite and on a real
PostgreSQL server."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from kpisheet.xladdin.cli.app import app
from kpisheet.xladdin.record import schema as S
from kpisheet.xladdin.record.errors import StoreOlder
from kpisheet.xladdin.record.store import database_url, open_store
from tests.support.paths import SAMPLES


def _engine(store_spec: str) -> sa.Engine:
    url = database_url(store_spec) if "://" in store_spec else f"sqlite+pysqlite:///{store_spec}"
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def _make_older(store_spec: str, how: str) -> None:
    """A record this version made, turned into what an older kpisheet would have left."""
    open_store(store_spec).dispose()
    engine = _engine(store_spec)
    with engine.begin() as conn:
        if how == "older-version":
            conn.execute(sa.update(S.store).values(schema_version=0))  # older than any upgrade step knows
        elif how == "no-version":
            conn.execute(sa.text(f"ALTER TABLE {S.store.name} DROP COLUMN schema_version"))
        else:  # a table this version added is absent
            conn.execute(sa.text(f"DROP TABLE {S.masters.name}"))
    engine.dispose()


def _contents(store_spec: str) -> list:
    """Every row of every table (the record's content, whatever its backend)."""
    engine = _engine(store_spec)
    try:
        with engine.connect() as conn:
            names = sorted(sa.inspect(conn).get_table_names())
            return [(name, sorted(map(repr, conn.execute(sa.text(f'SELECT * FROM "{name}"')).all())))
                    for name in names]
    finally:
        engine.dispose()


@pytest.mark.parametrize("how", ["older-version", "no-version", "table-absent"])
def test_an_older_record_is_refused_with_one_line_and_nothing_written(store_spec, how, tmp_path):
    _make_older(store_spec, how)
    before = _contents(store_spec)
    sqlite_bytes = hashlib.sha256(open(store_spec, "rb").read()).hexdigest() if "://" not in store_spec else None

    with pytest.raises(StoreOlder) as refused:
        open_store(store_spec)
    assert "older kpisheet" in refused.value.message_en and "较旧版本" in refused.value.message_zh

    master = tmp_path / "out" / "master.xlsx"
    master.parent.mkdir()
    result = CliRunner().invoke(app, ["consolidate", str(SAMPLES / "submissions"), "--master", str(master),
                                      "--store", store_spec], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    first = next(line for line in lines if "✗" in line)
    assert "较旧版本的 kpisheet" in first and "older kpisheet" in first  # Chinese first, English beside it
    assert ("missing" in first) == (how == "no-version") and ("masters" in first) == (how == "table-absent")
    assert "Traceback" not in result.output
    assert not master.exists() and not (master.parent / "kpisheet.db").exists()
    assert _contents(store_spec) == before
    if sqlite_bytes is not None:
        assert hashlib.sha256(open(store_spec, "rb").read()).hexdigest() == sqlite_bytes
