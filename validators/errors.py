"""The one error type: every error kpisheet raises on purpose carries Chinese, English and a fix.

A finding (:mod:`kpisheet.validators.findings`) is a problem *in* a file that
validation reports and goes on; an error is a reason an operation cannot go
on at all (a broken rulebook, a master open in Excel, a disk that is full).
Each kind of error is one small subclass of :class:`KpisheetError` that
declares, once, its stable ``code``, its exit code and what it means; the
instance carries the bilingual message of this occurrence. The faces turn the
same object into what their user sees: the CLI one bilingual line and the
kind's exit code, the ribbon a message box. ``docs/errors.md`` is generated
from the registry below (``python -m kpisheet.validators.findings_doc``).

Exit codes are the same in every command: 0 ok, 1 findings (the input was
read and has problems the user must fix), 2 usage or I/O (the command could
not do its work: a missing or unusable input, a busy or unwritable file).
"""

from __future__ import annotations

from typing import ClassVar, Iterable

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

# code -> class, in definition order; filled by KpisheetError.__init_subclass__
ERROR_KINDS: dict[str, type["KpisheetError"]] = {}


class KpisheetError(Exception):
    """An operation cannot go on; ``message_zh``/``message_en`` say why, ``hint_*`` what to do.

    Subclasses set the class attributes; a subclass without its own ``code``
    is an implementation detail and is not listed in the docs.
    """

    code: ClassVar[str] = "error"
    exit_code: ClassVar[int] = EXIT_USAGE
    title_zh: ClassVar[str] = "错误"
    title_en: ClassVar[str] = "error"
    description: ClassVar[str] = "An operation could not go on."

    def __init__(self, message_zh: str, message_en: str, *, hint_zh: str = "", hint_en: str = "",
                 details: Iterable[str] = ()):
        self.message_zh = message_zh
        self.message_en = message_en
        self.hint_zh = hint_zh
        self.hint_en = hint_en
        self.details = tuple(details)
        super().__init__(self.line())

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("code")
        if own is not None:
            if own in ERROR_KINDS and ERROR_KINDS[own] is not cls:
                raise TypeError(f"error code {own!r} defined twice: {ERROR_KINDS[own].__name__}, {cls.__name__}")
            ERROR_KINDS[own] = cls

    def line(self) -> str:
        """The one bilingual line a user sees."""
        return f"{self.message_zh} / {self.message_en}"

    def hint(self) -> str:
        if not (self.hint_zh or self.hint_en):
            return ""
        return " / ".join(part for part in (self.hint_zh, self.hint_en) if part)


class UsageError(KpisheetError):
    """A command was given something it cannot use (a missing file, a bad option value)."""

    code = "usage"
    title_zh, title_en = "用法错误", "usage error"
    description = "An option or argument names something that does not exist or cannot be used."


class InternalError(KpisheetError):
    """Something kpisheet did not expect; the faces log the traceback and show one line."""

    code = "internal"
    title_zh, title_en = "内部错误", "internal error"
    description = ("An unexpected exception inside kpisheet. The command prints one line with the path of a log "
                   "file holding the traceback; please send that file to the developers.")
