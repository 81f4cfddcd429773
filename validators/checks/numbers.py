"""Reading what a manager meant when a number cell holds text.

Excel's data validation is bypassed by pasting, so number cells arrive as
full-width digits ("９５"), a percentage stored as text ("95%"), an estimate
("约90") or a number with stray spaces (" 97.13 "). Validation reports each as
``score-not-number`` and says what the number probably is, so the fix is one
retype. Nothing here decides whether a number is allowed: only what the text
most likely means.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from kpisheet.validators.reading.submission import Raw

# Words managers put around an estimate; the number is still what they meant.
_APPROXIMATE = ("大约", "约为", "约", "左右", "近", "approximately", "approx.", "approx", "about", "~", "≈", "～")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")


@dataclass(frozen=True)
class TextNumber:
    """What a text cell most likely means (None when no number can be seen) and why it is not a number."""

    probable: float | None
    problem_zh: str
    problem_en: str


def is_blank(raw: Raw) -> bool:
    """Empty, or only spaces (a cell cleared with the space bar is still empty)."""
    return raw is None or (isinstance(raw, str) and not raw.strip())


def is_number(raw: Raw) -> bool:
    # exact types: bool is an int subclass, and this runs for every cell
    kind = type(raw)
    return (kind is float and math.isfinite(raw)) or kind is int


def read_text_number(raw: Raw, *, percent: bool) -> TextNumber:
    """Why ``raw`` (not a number) is not one, and the number it probably stands for.

    For a percent cell the probable value is a fraction, as the cell stores it:
    "95%" and "95" both mean 0.95.
    """
    text = raw if isinstance(raw, str) else str(raw)
    problems: list[tuple[str, str]] = []
    normal = unicodedata.normalize("NFKC", text)
    if normal != text and any(unicodedata.east_asian_width(ch) == "F" for ch in text):
        problems.append(("含全角字符", "full-width characters"))
    stripped = normal.strip()
    if stripped != normal:
        problems.append(("前后有多余空格", "stray spaces around it"))
    body = stripped
    lowered = body.lower()
    for word in _APPROXIMATE:
        if word in lowered:
            problems.append((f"含有文字“{word}”", f"it contains the word '{word}'"))
            lowered = lowered.replace(word, " ")
    body = lowered.strip()
    has_percent = body.endswith("%")
    if has_percent:
        problems.append(("百分号是以文本形式输入的", "the % sign was typed as text"))
        body = body[:-1].strip()
    if _THOUSANDS.search(body):
        problems.append(("含千位分隔符", "it has thousands separators"))
        body = _THOUSANDS.sub("", body)
    if " " in body:
        problems.append(("数字中间有空格", "spaces inside the number"))
        body = body.replace(" ", "")
    match = _NUMBER.fullmatch(body)
    if not match:
        return TextNumber(None, "不是数字", "it is not a number")
    if not problems:
        problems.append(("数字以文本格式保存", "the number is stored as text"))
    value = float(body)
    if percent and (has_percent or abs(value) > 1):
        value = value / 100
    zh = "；".join(p[0] for p in problems)
    en = "; ".join(p[1] for p in problems)
    return TextNumber(value, zh, en)


def show_number(value: float, *, percent: bool) -> str:
    """0.95 in a percent cell -> '0.95 (95%)'; 6.0 -> '6'."""
    plain = format(value, ".10g")
    if percent:
        return f"{plain} ({format(value * 100, '.10g')}%)"
    return plain
