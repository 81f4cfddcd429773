"""Validated reports kept on disk while a batch runs, so that memory does not grow with the number of files.

Each report is pickled to one temporary file as it arrives; memory keeps only
what the cross-file checks and the consolidation rules need (identity, saved
time, counts, the 汇总 cell of each employee ID). :meth:`ReportSpool.load`
brings one report back when the record takes its employees and findings.
"""

from __future__ import annotations

import pickle
import tempfile
from typing import Callable

from kpisheet.validators.checks.team import FileEmployees
from kpisheet.validators.report import FileReport
from kpisheet.validators.validate import PackedReport, file_employees, pack, with_cross_file_findings

from kpisheet.xladdin.record.ingest import Incoming, incoming


class ReportSpool:
    def __init__(self, roster=None, rulebook=None) -> None:
        self._roster, self._rulebook = roster, rulebook
        self._file = tempfile.TemporaryFile(prefix="kpisheet-reports-")
        self._where: dict[str, tuple[int, int]] = {}
        self._added: dict[str, list] = {}
        self.items: list[Incoming] = []
        self._item_at: dict[str, Incoming] = {}  # the first item of each path: cross-file findings find it at once
        self.summaries: list[FileEmployees] = []

    def add(self, report: FileReport | PackedReport, label: str) -> Incoming:
        """Spool one report (packed by its worker, or whole) as file ``label``; its item is returned."""
        packed = report if isinstance(report, PackedReport) else pack(report)
        head = packed.head
        self._file.seek(0, 2)
        self._where[head.path] = (self._file.tell(), len(packed.blob))
        self._file.write(packed.blob)
        item = incoming(head, label, self._loader(head.path))
        item.errors, item.warnings = packed.errors, packed.warnings
        item.codes = list(packed.error_codes)
        self.items.append(item)
        self._item_at.setdefault(item.path, item)
        summary = file_employees(head)
        if summary is not None:
            self.summaries.append(summary)
        return item

    def _loader(self, path: str) -> Callable[[], FileReport]:
        return lambda: self.load(path)

    def item(self, path: str) -> Incoming | None:
        """The spooled item of ``path`` (None when no report of that path was spooled)."""
        return self._item_at.get(path)

    def add_findings(self, path: str, findings: list) -> None:
        """Cross-file findings for a report already spooled: counted now, stored when it is loaded."""
        if not findings:
            return
        self._added.setdefault(path, []).extend(findings)
        item = self._item_at[path]
        item.errors += sum(1 for f in findings if f.severity == "error")
        item.warnings += sum(1 for f in findings if f.severity == "warning")
        item.accepted = item.errors == 0

    def load(self, path: str) -> FileReport:
        offset, size = self._where[path]
        self._file.seek(offset)
        report = pickle.loads(self._file.read(size))
        return with_cross_file_findings(report, self._added.get(path, ()), self._roster, self._rulebook)

    def close(self) -> None:
        self._file.close()
