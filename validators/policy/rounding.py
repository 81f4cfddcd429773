"""The one rounding rule (docs/design.md, "Rounding / 舍入规则"), and what a cached value may differ by.

Every score, subtotal and total is the exact decimal value of its formula,
rounded half-up first to :data:`NOISE_DECIMALS` places and then to the
rulebook's ``decimals`` (2 by default). Spreadsheets compute in binary: typed
95.13% at floor 90% / target 98% is exactly 64.125 in decimal but
64.12499999999999 in binary, and ``ROUND(x, 2)`` alone then gives 64.12 in
LibreOffice and 64.13 in Excel. Binary noise is far below 1e-10 at these
magnitudes, so the first rounding removes it and leaves every engine with the
same exact decimal, tie included; the second rounding is then half-up on the
decimal value everywhere. The workbook's formulas are
``ROUND(ROUND(x, 10), 2)``; Python computes with :class:`~decimal.Decimal`.

A number read from a cell stands for its value to 15 significant digits (what
a spreadsheet shows at full precision): LibreOffice parses a typed "95.13%"
to the double nearest 0.9513, and Excel keeps 15 digits.

Cached results in a submitted file are accepted when some engine that
follows the rule could have produced them (:func:`accepts`): its binary
arithmetic may differ from the exact decimal by at most :func:`noise`, so a
rounded value may differ only where the exact value lies within that noise of
a rounding boundary at 10 places. Everywhere else the cached value must be the
rule's value itself; a value changed by a cent is rejected.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from decimal import ROUND_HALF_UP, Decimal, getcontext, localcontext
from functools import lru_cache

# places of the first rounding: far above binary noise (about 1e-13 at 100),
# far below a cent, and within the 15 significant digits spreadsheets keep
NOISE_DECIMALS = 10
# the largest difference between an engine's binary result and the exact
# decimal, relative to the value, and at least this much in absolute terms; both
# are well below half a unit at NOISE_DECIMALS places, so an exact tie stays a tie
NOISE_RELATIVE = Decimal("1e-14")
NOISE_ABSOLUTE = Decimal("1e-12")
SIGNIFICANT_DIGITS = 15
# working precision of Decimal arithmetic: quotients of scores near 100 keep 26 places, far past 10
# (Python's default context has 28 digits; a context with fewer is widened for the engine's sums)
_PRECISION = 28


def decimal_value(value: float | int | Decimal) -> Decimal:
    """The decimal a cell's number stands for: its value to 15 significant digits.

    0.9513000000000001 (a binary 95.13% divided by 100) -> Decimal('0.9513').
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return _of_float(value)


@lru_cache(maxsize=1 << 16)
def _of_float(value: float) -> Decimal:
    # a workbook repeats its targets, weights and rounded scores thousands of times
    return Decimal(format(value, f".{SIGNIFICANT_DIGITS}g"))


_AS_IS = nullcontext()  # reusable: the checks enter it a thousand times a file


def working():
    """A Decimal context for the engine's arithmetic (precision far past the rounding places):
    the current one when it is precise enough, as it is by default."""
    if getcontext().prec >= _PRECISION:
        return _AS_IS
    return localcontext(prec=_PRECISION)


_NOISE_QUANTUM = Decimal(1).scaleb(-NOISE_DECIMALS)
_QUANTA = {d: Decimal(1).scaleb(-d) for d in range(0, NOISE_DECIMALS + 1)}


def round_rule(value: Decimal, decimals: int) -> Decimal:
    """The rule: half-up to NOISE_DECIMALS places, then half-up to ``decimals`` places."""
    with working():
        cleaned = value.quantize(_NOISE_QUANTUM, rounding=ROUND_HALF_UP)
        return cleaned.quantize(_QUANTA.get(decimals) or Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def round_half_up(value: float | int | Decimal, decimals: int = 2) -> float:
    """The rule applied to a number's decimal value, as a float (Python's round() is banker's
    rounding on the binary value: round(2.675, 2) is 2.67; this gives 2.68 like the workbook)."""
    return float(round_rule(decimal_value(value), decimals))


def noise(value: Decimal) -> Decimal:
    """How far an engine's binary result may lie from the exact decimal ``value``."""
    return max(NOISE_ABSOLUTE, abs(value) * NOISE_RELATIVE)


def accepts(cached: float | int, value: Decimal, decimals: int | None = None) -> bool:
    """Whether a spreadsheet following the rule may have cached ``cached`` for a result whose
    exact decimal is ``value``: rounded to ``decimals`` places, or unrounded when None."""
    try:
        found = decimal_value(cached)
    except ValueError:
        return False
    if decimals is not None and found == round_rule(value, decimals):
        return True  # the common case: the rule's own value
    margin = noise(value)
    with working():
        if decimals is None:
            return abs(found - value) <= margin + noise(found)
        low, high = round_rule(value - margin, decimals), round_rule(value + margin, decimals)
        return low <= found <= high and found == found.quantize(_QUANTA.get(decimals) or Decimal(1).scaleb(-decimals),
                                                                rounding=ROUND_HALF_UP)
