"""Where an unexpected failure's traceback goes: a log file the user can send, never their screen.

Both faces use it: the CLI prints one line naming the file, the ribbon shows
it in a message box. ``KPISHEET_LOG`` overrides the location (tests use it).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

LOG_ENV = "KPISHEET_LOG"
DEFAULT_LOG = Path.home() / ".kpisheet" / "kpisheet.log"


def log_path() -> Path:
    configured = os.environ.get(LOG_ENV)
    return Path(configured) if configured else DEFAULT_LOG


def log_exception(action: str) -> Path:
    """Append the exception being handled, with ``action``, to the log; the file written (or stderr's name)."""
    logger = logging.getLogger("kpisheet")
    target = log_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(target, encoding="utf-8")
    except OSError:  # no writable home: the temp folder, and failing that stderr
        target = Path(tempfile.gettempdir()) / "kpisheet.log"
        try:
            handler = logging.FileHandler(target, encoding="utf-8")
        except OSError:
            handler, target = logging.StreamHandler(sys.stderr), Path("<stderr>")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    try:
        logger.exception("%s failed", action)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return target
