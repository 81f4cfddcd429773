"""HR's signing key file: one key however many first runs race, owner-only, damaged files refused by name."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from kpisheet.xladdin.kit.signing_key import (
    KEY_ENV, KeyFileError, default_key_path, import_key, key_path, load_key, load_or_create_key,
)

MAKE = "from kpisheet.xladdin.kit.signing_key import load_or_create_key; import sys; " \
       "k, made = load_or_create_key(sys.argv[1]); print(k.key_id, made)"


def test_where_the_key_is(monkeypatch, tmp_path):
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert key_path() == default_key_path() and default_key_path().parts[-2:] == (".kpisheet", "kpisheet.key")
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "env.key"))
    assert key_path() == tmp_path / "env.key"
    assert key_path(tmp_path / "option.key") == tmp_path / "option.key"


def test_first_runs_racing_keep_one_key(tmp_path):
    path = tmp_path / "hr" / "kpisheet.key"
    runs = [subprocess.Popen([sys.executable, "-c", MAKE, str(path)], stdout=subprocess.PIPE, text=True)
            for _ in range(6)]
    outputs = [run.communicate(timeout=60)[0].split() for run in runs]
    assert len({key_id for key_id, _ in outputs}) == 1
    assert [made for _, made in outputs].count("True") == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["kpisheet.key"]  # no temporary file left


@pytest.mark.parametrize("content", [b"", b"not a key\n", b"# kpisheet signing key v1\n!!!\n",
                                     b"# kpisheet signing key v1\nc2hvcnQ=\n"])
def test_a_damaged_key_file_is_refused_by_name(tmp_path, content):
    path = tmp_path / "kpisheet.key"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError) as error:
        load_key(path)
    assert str(path) in error.value.message_en and error.value.exit_code == 2


def test_importing_the_same_key_again_changes_nothing(tmp_path):
    key, _ = load_or_create_key(tmp_path / "a.key")
    installed, replaced = import_key(tmp_path / "a.key", tmp_path / "b.key")
    assert installed == key and replaced is None
    assert import_key(tmp_path / "a.key", tmp_path / "b.key") == (key, None)
