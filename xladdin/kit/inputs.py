"""The inputs several commands share (--rules, --roster, --period), loaded once way.

Each loader raises :class:`UsageProblem` with a bilingual reason; each command
shows it in its own style and exits 2.
"""

from __future__ import annotations

from pathlib import Path


class UsageProblem(Exception):
    def __init__(self, zh: str, en: str, details: list[str] | None = None):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en, self.details = zh, en, details or []


def load_rules_option(rules: Path | None):
    """The rulebook at --rules, or the built-in default."""
    from kpisheet.validators.rulebook.load import RulebookError, load_rulebook

    if rules is not None and not rules.is_file():
        raise UsageProblem(f"找不到规则表文件 {rules}", f"no such rulebook file: {rules}")
    try:
        return load_rulebook(rules)
    except RulebookError as error:
        raise UsageProblem(f"规则表有问题：{error.source}", f"the rulebook has problems: {error.source}",
                           [str(p) for p in error.problems]) from None


def load_roster_option(roster: Path, rulebook):
    from kpisheet.validators.roster import RosterError, read_roster

    if not roster.is_file():
        raise UsageProblem(f"找不到花名册文件 {roster}", f"no such roster file: {roster}")
    try:
        return read_roster(roster, rulebook)
    except RosterError as error:
        raise UsageProblem(f"花名册有问题：{error.source}", f"the roster has problems: {error.source}",
                           [str(p) for p in error.problems]) from None


def period_option(period: str | None) -> str | None:
    """--period in its canonical form (2026-Q4), or None when not given."""
    from kpisheet.validators.policy.periods import PeriodError, parse_period

    if period is None:
        return None
    try:
        return str(parse_period(period))
    except PeriodError as error:
        raise UsageProblem(f"--period {period}：{error.message_zh}", f"--period {period}: {error.message_en}") from None
