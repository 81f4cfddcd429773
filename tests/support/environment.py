"""Tools a test needs from the machine (LibreOffice, poppler, xlwings' remote engine).

A test whose tool is missing skips with the reason on a developer machine,
but fails under CI (the CI environment variable is set), so CI can never
pass by skipping it.
"""

from __future__ import annotations

import os

import pytest

IN_CI = bool(os.environ.get("CI"))


def require(available: bool, what: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI but is not available")
    pytest.skip(f"{what} is not available on this machine")
