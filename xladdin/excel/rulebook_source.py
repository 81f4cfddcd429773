"""Where the add-in and its worksheet functions find their settings.

The rulebook in force is the shipped default, or the file named by the
environment variable ``KPISHEET_RULEBOOK`` (YAML or the xlsx export). A file
is reloaded when it changes, so HR can edit it without restarting Excel.
"""

from __future__ import annotations

import os
from pathlib import Path

from kpisheet.validators.rulebook.model import Rulebook
from kpisheet.validators.rulebook.load import RuleProblem, RulebookError, default_rulebook, load_rulebook

RULEBOOK_ENV = "KPISHEET_RULEBOOK"

_loaded: dict[tuple[str, int], Rulebook] = {}


def rulebook_path() -> str | None:
    return os.environ.get(RULEBOOK_ENV, "").strip() or None


def current_rulebook() -> Rulebook:
    """The rulebook named by KPISHEET_RULEBOOK, else the default; raises RulebookError."""
    path = rulebook_path()
    if path is None:
        return default_rulebook()
    try:
        stamp = Path(path).stat().st_mtime_ns
    except OSError:
        raise RulebookError(path, [RuleProblem(
            RULEBOOK_ENV, f"环境变量 {RULEBOOK_ENV} 指定的规则表文件不存在：{path}",
            f"the rulebook file named by {RULEBOOK_ENV} does not exist: {path}")]) from None
    key = (path, stamp)
    if key not in _loaded:
        _loaded.clear()
        _loaded[key] = load_rulebook(path)
    return _loaded[key]
