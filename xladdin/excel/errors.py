"""The ribbon's own error: a problem the user pressing a button can fix."""

from __future__ import annotations

from kpisheet.validators.errors import KpisheetError


class HandlerError(KpisheetError):
    """A problem the user can fix; the message says what and how, in both languages."""

    code = "excel-action"
    title_zh, title_en = "加载项按钮无法完成", "ribbon action cannot complete"
    description = "A ribbon button cannot do its work on the workbook in front of the user; the box says why."
