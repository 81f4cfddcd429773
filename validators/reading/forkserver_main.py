"""The caller's main module, loaded once in the fork server instead of once in every worker.

Each worker process starts by loading the main module of the program that asked for it (a pickled
function may live there). Preloading ``"__main__"`` in the fork server is meant to do that once, but
CPython 3.11's server is never given the main script's path (python/cpython gh-98552, gh-137996), so
every worker ran the whole script again: for the ``kpisheet`` command that is the whole CLI, about a
second per worker, where a file takes 15 ms. Measured here (2026-12-04): a pool of one worker started
in 0.2 s from a plain script and in 1.1-1.3 s from a script importing the CLI, 0.19 s with this module;
1,000 files with two workers went 1.66x as fast as with one from such a script, 1.71x with this module.

:func:`start_with_main` (in the calling process) starts the server with a record of what a worker's own
preparation would apply (the main module's path or name, the arguments, the import path and folder), in
an environment variable set only while the server starts: the server gets the caller's environment and
nothing else of it. The server imports this module (it is in the preload list) and prepares itself with that record,
through the same ``multiprocessing.spawn`` functions a worker uses. A worker forked from the server
then finds the main module loaded and skips it. If loading it fails, the server goes on, and each
worker loads it itself as before: slower, never wrong.
"""

from __future__ import annotations

import json
import os
from multiprocessing import forkserver, spawn

MAIN_VARIABLE = "KPISHEET_FORKSERVER_MAIN"
# what of a worker's preparation data the server applies to itself: where the caller ran, its arguments
# and import path, and its main module (path or name); all of it text, so it travels as JSON
PREPARED = ("sys_path", "sys_argv", "dir", "init_main_from_path", "init_main_from_name")


def start_with_main() -> None:
    """Start the fork server (if it is not running yet) with a record of what a worker's own preparation
    would apply: the main module's path or name, the arguments, the import path and folder.

    The record is in this process's environment only while the server starts: every other process this
    one starts later (a LibreOffice, a kpisheet command under test) must not prepare itself with it.
    """
    data = spawn.get_preparation_data("main")
    prepared = {key: data[key] for key in PREPARED if key in data}
    os.environ[MAIN_VARIABLE] = json.dumps({"parent": os.getpid(), "prepared": prepared})
    try:
        forkserver.ensure_running()
    finally:
        os.environ.pop(MAIN_VARIABLE, None)


def _recorded() -> dict:
    """The preparation start_with_main recorded, if the process that recorded it started this one (the
    fork server): anything else that imports this module (a test, a tool) loads nothing."""
    try:
        record = json.loads(os.environ.get(MAIN_VARIABLE) or "{}")
    except ValueError:
        return {}
    if not isinstance(record, dict) or record.get("parent") != os.getppid():
        return {}
    return record.get("prepared") or {}


def _load_main(prepared: dict) -> None:
    if not prepared:
        return
    try:
        # as a worker prepares itself (the script may read its arguments or import from its folder); a
        # worker then finds __main__ is already the script, and a `python -m` module's imports loaded
        spawn.prepare(prepared)
    except Exception:  # noqa: BLE001 - any failure of the caller's script: the workers load it themselves
        pass


_load_main(_recorded())
