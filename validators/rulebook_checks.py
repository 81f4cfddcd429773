"""Cross-field rules of a structurally valid rulebook (filled in by the foundation work)."""

from __future__ import annotations

from .rulebook import Rulebook


def check_rulebook(rulebook: Rulebook) -> list:
    return []
