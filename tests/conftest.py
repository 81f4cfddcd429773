"""Shared fixtures.

Tests that need LibreOffice skip with a reason on a developer machine without
it, but fail under CI (see tests.support.environment.require). The same holds
for the xlwings PRO remote engine.
"""

from __future__ import annotations

import os

import pytest

from kpisheet.xladdin.kit.libreoffice import find_soffice
from tests.support.environment import require


@pytest.fixture(scope="session")
def soffice() -> str:
    path = find_soffice()
    require(path is not None, "LibreOffice (soffice)")
    return path


@pytest.fixture(scope="session")
def rulebook():
    from kpisheet.validators.rulebook.load import default_rulebook

    return default_rulebook()


# --- the clean team workbook the check tests edit (see validate_support) ---------------


@pytest.fixture(scope="module")
def clean_read(tmp_path_factory):
    """(values, properties, calculated) of the session's clean team workbook, read once per module."""
    import tests.support.validate_support as S

    path, _ = S.clean_workbook(tmp_path_factory)
    return S.read(path)


@pytest.fixture()
def values(clean_read):
    """A test's own copy of the clean workbook's cell values, free to edit."""
    import tests.support.validate_support as S

    return S.fresh(clean_read[0])


@pytest.fixture()
def props(clean_read):
    """A test's own copy of the clean workbook's kpisheet custom properties."""
    return dict(clean_read[1])


# --- ribbon handlers on xlwings' remote engine (see xlwings_remote) ---------------------


@pytest.fixture()
def remote_excel(monkeypatch, tmp_path):
    """The remote engine, with no rulebook or master remembered from a real session on this machine."""
    import tests.support.xlwings_remote as XR
    from kpisheet.xladdin.excel import settings as xl_settings
    from kpisheet.xladdin.excel.rulebook_source import RULEBOOK_ENV

    XR.require_remote_engine()
    monkeypatch.delenv(RULEBOOK_ENV, raising=False)
    monkeypatch.delenv(xl_settings.MASTER_ENV, raising=False)
    monkeypatch.setattr(xl_settings, "CONFIG_PATH", tmp_path / "conf" / "xladdin.conf")


@pytest.fixture()
def handlers(remote_excel, monkeypatch, tmp_path):
    """kpisheet.xladdin.excel.handlers (logging to the test's folder, see _crash_log_in_tmp)."""
    from kpisheet.xladdin.excel import handlers as xl_handlers

    return xl_handlers


@pytest.fixture(autouse=True)
def _crash_log_in_tmp(monkeypatch, tmp_path):
    """Unexpected failures are logged under the test's folder, never in the user's home."""
    from kpisheet.xladdin.kit.crash_log import LOG_ENV

    monkeypatch.setenv(LOG_ENV, str(tmp_path / "log" / "kpisheet.log"))


# --- HR's signing key (see kpisheet.xladdin.kit.signing_key) ----------------------------


@pytest.fixture(scope="session", autouse=True)
def _signing_key_outside_home(tmp_path_factory):
    """No test makes or reads a signing key in the user's home.

    Module- and session-scoped fixtures see this session-wide path; nothing may
    create a key there (a fixture that runs `kpisheet forms` sets its own
    KPISHEET_KEY), so validation in such fixtures runs without a key, as on a
    new installation. Each test gets its own path besides (below).
    """
    from kpisheet.xladdin.kit.signing_key import KEY_ENV

    before = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = str(tmp_path_factory.mktemp("session_key") / "kpisheet.key")
    yield
    if before is None:
        os.environ.pop(KEY_ENV, None)
    else:
        os.environ[KEY_ENV] = before


@pytest.fixture(autouse=True)
def _signing_key_in_tmp(monkeypatch, tmp_path):
    """Each test's signing key is its own: made by its first `kpisheet forms`, under the test's folder."""
    from kpisheet.xladdin.kit.signing_key import KEY_ENV

    monkeypatch.setenv(KEY_ENV, str(tmp_path / "key" / "kpisheet.key"))

# --- the cycle record on SQLite and on a real PostgreSQL server (see tests/support/postgres.py) -----


@pytest.fixture(scope="session")
def pg_admin_url():
    """A PostgreSQL server for the session: KPISHEET_TEST_PG_URL, or a throwaway one; required under CI."""
    from tests.support.postgres import throwaway_server

    with throwaway_server() as (url, why):
        require(url is not None, f"a PostgreSQL server ({why})")
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_spec(request, tmp_path):
    """What --store names, once for an SQLite file and once for a fresh database on a real PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "kpisheet.db")
    from tests.support.postgres import fresh_database

    return fresh_database(request.getfixturevalue("pg_admin_url"))
