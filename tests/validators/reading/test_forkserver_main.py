"""Workers do not run the caller's main script again: the fork server loads it once (CPython 3.11's own
preload of "__main__" never does, python/cpython gh-137996), in a real batch of worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no fork server on Windows: workers are spawned")

SCRIPT = textwrap.dedent("""
    import os, pathlib, sys
    # every process that runs this script's body says so: the caller, and whoever loads it as its main module
    with open(sys.argv[1] + ".log", "a") as log:
        log.write(f"{os.getpid()} {os.getppid()} {__name__}\\n")

    if __name__ == "__main__":
        from kpisheet.validators.reading.safe_read import run_isolated
        files = [pathlib.Path(sys.argv[1]) / f"file{n}.txt" for n in range(6)]
        for n, path in enumerate(files):
            path.write_text("x" * n)
        sizes = {str(path): size for path, size in run_isolated(os.path.getsize, files, 2)}
        assert sizes == {str(path): n for n, path in enumerate(files)}, sizes
        # the record was there only while the server started: a process started now (a kpisheet command,
        # LibreOffice) does not prepare itself with this script's arguments
        assert "KPISHEET_FORKSERVER_MAIN" not in os.environ
        print("ok")
""")


def test_the_main_script_runs_once_in_the_fork_server_and_never_in_a_worker(tmp_path):
    script = tmp_path / "caller.py"
    script.write_text(SCRIPT, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != "KPISHEET_FORKSERVER_MAIN"}
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True,
                          timeout=120, env=environment)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    runs = [line.split() for line in (tmp_path.parent / f"{tmp_path.name}.log").read_text().splitlines()]
    caller = [pid for pid, _, name in runs if name == "__main__"]
    assert len(caller) == 1
    # the one other run is the fork server's (started by the caller); the two workers ran nothing of it
    assert [(parent, name) for _, parent, name in runs if name != "__main__"] == [(caller[0], "__mp_main__")]
