"""Shared fixtures.

Tests that need LibreOffice skip with a reason on a developer machine without
it, but fail under CI (the CI environment variable is set), so CI can never
pass by skipping them. The same holds for the xlwings PRO remote engine.
"""

from __future__ import annotations

import os

import pytest

from xladdin.libreoffice import find_soffice

IN_CI = bool(os.environ.get("CI"))


def require(available: bool, what: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI but is not available")
    pytest.skip(f"{what} is not available on this machine")


@pytest.fixture(scope="session")
def soffice() -> str:
    path = find_soffice()
    require(path is not None, "LibreOffice (soffice)")
    return path


@pytest.fixture(scope="session")
def rulebook():
    from validators.rulebook_io import default_rulebook

    return default_rulebook()
