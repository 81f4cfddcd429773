"""Who is running kpisheet: the name written beside every HR decision and audit row."""

from __future__ import annotations

import getpass


def current_user() -> str:
    """The operating-system login, or "unknown" where there is none (a service account without a name)."""
    try:
        return getpass.getuser()
    except Exception:  # getpass raises OSError or KeyError when neither env nor passwd know the user
        return "unknown"
