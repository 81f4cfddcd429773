"""The one console of the command line: rich output that never fails on a Chinese Windows console.

A Chinese Windows console, or output redirected to a file there, encodes
text as GBK (cp936). GBK holds every Chinese character but not symbols such
as ✓ ✗ • ∉; printing one would raise UnicodeEncodeError and end the command
with a traceback and the wrong exit code. :func:`make_streams_safe` installs
an error handler on stdout and stderr that writes a plain-text stand-in for
any character the stream cannot encode (✓ -> "OK", ✗ -> "x", ...), so
printing never fails and the exit code is what the command decided.

JSON and files are UTF-8 whatever the console: :func:`write_json` writes the
bytes to stdout's binary layer.
"""

from __future__ import annotations

import codecs
import json
import os
import sys
from typing import TextIO

from rich.console import Console

# plain-text stand-ins for symbols a legacy console cannot show
FALLBACKS = {
    "✓": "OK", "✔": "OK", "✗": "x", "✘": "x", "•": "·", "∉": "not in", "∈": "in", "⚠": "!",
    "→": "->", "←": "<-", "≤": "<=", "≥": ">=", "≠": "!=", "…": "...", "—": "-", "–": "-",
    "“": '"', "”": '"', "‘": "'", "’": "'", "×": "x", "·": ".", "√": "OK",
}
ERROR_HANDLER = "kpisheet-fallback"
# wide output when piped, so a finding's message stays on one line in a log file
PIPED_WIDTH = 200


def _fallback(error: UnicodeError):
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    encoding = error.encoding
    out = []
    for char in text:
        stand_in = FALLBACKS.get(char, "?")
        try:
            stand_in.encode(encoding)
        except UnicodeEncodeError:
            stand_in = "?"
        out.append(stand_in)
    return "".join(out), error.end


codecs.register_error(ERROR_HANDLER, _fallback)


def make_streams_safe() -> None:
    """Let stdout and stderr degrade symbols instead of failing (idempotent; call at the CLI's entry)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None or getattr(stream, "errors", None) == ERROR_HANDLER:
            continue
        try:
            reconfigure(errors=ERROR_HANDLER)
        except (ValueError, OSError):  # a stream that cannot be reconfigured (closed, detached)
            pass


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False


def make_console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (results) or stderr (progress and messages), printing text as text.

    Piped output gets a fixed wide width unless COLUMNS says otherwise, so
    lines are not folded at 80 columns in a log.
    """
    stream = sys.stderr if stderr else sys.stdout
    piped = not _is_terminal(stream) and "COLUMNS" not in os.environ
    # markup off: a team name, a file name or a cell quoted in a message ("[/]", "[link=…]") is text, not
    # rich markup; styles are given as Text and style= arguments
    return Console(stderr=stderr, width=PIPED_WIDTH if piped else None, highlight=False, emoji=False, markup=False)


def write_json(document: object) -> None:
    """``document`` as UTF-8 JSON on stdout, whatever the console's encoding."""
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    sys.stdout.flush()
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:  # a text-only stream (some embedding hosts): it decides the encoding
        sys.stdout.write(text)
    else:
        binary.write(text.encode("utf-8"))
        binary.flush()
