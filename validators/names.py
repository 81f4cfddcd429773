"""Names that come from people: identities cleaned one way on write and on read, and safe file names.

A roster is typed or exported by people, so a team, a department or an
employee's name may hold characters nobody can see: control characters
pasted from another system, a zero-width space, or a right-to-left override
(U+202E) that makes ``‮xslx.exe`` look like ``exe.xlsx``. :func:`clean_text`
removes them; the roster reader (write side) and the submission reader (read
side) both call it, so the identity a form was made with is the identity
validation reads back.

File names made from those texts (team workbooks, notices) go through
:func:`safe_file_name`: cleaned, characters Windows forbids replaced, the
length capped (with a short hash of the full text, so two long names stay
apart), and Windows' reserved device names avoided. :func:`inside` refuses any
name that would land outside the chosen folder.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Iterable, Sequence

from kpisheet.validators.errors import UsageError

# invisible characters: C0/C1 controls (line breaks are handled apart), bidirectional
# controls and marks, zero-width characters, the byte-order mark and interlinear annotation marks
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u2069\ufeff\ufff9-\ufffb]")
_BREAKS = re.compile("[\t\n\r\x85\u2028\u2029]+")
# A control character as the xlsx format escapes it (_x0007_). Readers differ: python-calamine
# decodes the escape, openpyxl (the roster's reader) leaves it as text; both become the character.
_ESCAPED_CONTROL = re.compile("_x(00[01][0-9A-Fa-f]|007[Ff]|008[0-9A-Fa-f]|009[0-9A-Fa-f])_")
# characters Windows does not allow in a file name
_FORBIDDEN = re.compile(r'[\\/:*?"<>|]+')
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
                      | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")})

# A file name (suffix included) stays within this many UTF-8 bytes: Linux allows 255 bytes per
# name (85 Chinese characters), and the writer's temporary file adds a prefix and a suffix to it.
MAX_NAME_BYTES = 140
HASH_CHARS = 8


def clean_text(text: str) -> str:
    """``text`` without invisible characters; line breaks and tabs become one space."""
    if "_x" in text:
        text = _ESCAPED_CONTROL.sub(lambda m: chr(int(m.group(1), 16)), text)
    if text.isprintable():  # the common case, decided in C
        return text
    return _INVISIBLE.sub("", _BREAKS.sub(" ", text))


def _part(text: str) -> str:
    cleaned = _FORBIDDEN.sub("-", clean_text(str(text))).strip(" .")
    return cleaned or "-"


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore").rstrip(" .")


def short_hash(parts: Sequence[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:HASH_CHARS]


def safe_file_name(parts: Iterable[str], suffix: str = ".xlsx", *, distinct: bool = False) -> str:
    """The non-empty ``parts`` joined by ``_``, then ``suffix``: a file name any system accepts.

    A name longer than :data:`MAX_NAME_BYTES` has its longest part cut, ending
    with ``~`` and a short hash of all the parts (so two long names stay
    apart and the other parts, e.g. a fixed last word, stay whole);
    ``distinct`` adds the hash anyway, for names that the cleaning made equal.
    """
    parts = [str(p) for p in parts if p not in (None, "")]
    cleaned = [_part(p) for p in parts] or ["-"]
    room = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    if distinct or len("_".join(cleaned).encode("utf-8")) > room:
        cleaned = _shortened(cleaned, f"~{short_hash(parts)}", room)
    stem = "_".join(cleaned)
    if stem.split(".")[0].rstrip(" ").upper() in _RESERVED:
        stem = f"_{stem}"
    return stem + suffix


def _shortened(cleaned: list[str], tag: str, room: int) -> list[str]:
    longest = max(range(len(cleaned)), key=lambda i: len(cleaned[i].encode("utf-8")))
    others = sum(len(p.encode("utf-8")) + 1 for i, p in enumerate(cleaned) if i != longest)
    left = room - others - len(tag)
    if left < 1:  # the other parts alone are too long: cut the whole
        return [_cut("_".join(cleaned), room - len(tag)) + tag]
    return [_cut(p, left) + tag if i == longest else p for i, p in enumerate(cleaned)]


def distinct_file_names(names_of: Sequence[Sequence[str]], suffix: str = ".xlsx") -> list[str]:
    """:func:`safe_file_name` of each parts list; names that would clash (ignoring case, as Windows
    does) carry the hash of their own parts, so no file is written over another's."""
    names = [safe_file_name(parts, suffix) for parts in names_of]
    seen: dict[str, int] = {}
    for name in names:
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
    return [safe_file_name(parts, suffix, distinct=True) if seen[name.casefold()] > 1 else name
            for parts, name in zip(names_of, names)]


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, refused unless it is a file directly in ``folder``."""
    target = Path(folder) / name
    if Path(name).name != name or name in (".", "..") or target.resolve().parent != Path(folder).resolve():
        raise UsageError(f"文件名“{name}”会写到文件夹 {folder} 之外，已拒绝",
                         f"the file name {name!r} would leave the folder {folder}; refused")
    return target
