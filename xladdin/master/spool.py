"""Validated reports kept on disk while a batch runs, so that memory does not grow with the number of files.

Each report is pickled to one temporary file as it arrives; memory keeps only
what the cross-file checks and the consolidation rules need (identity, saved
time, counts, the 汇总 cell of each employee ID). :meth:`ReportSpool.load`
brings one report back when the record takes its employees and findings.
"""

from __future__ import annotations

import pickle
import tempfile
from dataclasses import replace
from typing import Callable

from kpisheet.validators.checks.team import FileEmployees
from kpisheet.validators.report import FileReport
from kpisheet.validators.validate import file_employees, with_cross_file_findings

from kpisheet.xladdin.record.ingest import Incoming, incoming


class ReportSpool:
    def __init__(self, roster=None, rulebook=None) -> None:
        self._roster, self._rulebook = roster, rulebook
        self._file = tempfile.TemporaryFile(prefix="kpisheet-reports-")
        self._where: dict[str, tuple[int, int]] = {}
        self._added: dict[str, list] = {}
        self.items: list[Incoming] = []
        self.summaries: list[FileEmployees] = []

    def add(self, report: FileReport, label: str) -> None:
        blob = pickle.dumps(report, pickle.HIGHEST_PROTOCOL)
        self._file.seek(0, 2)
        self._where[report.path] = (self._file.tell(), len(blob))
        self._file.write(blob)
        light = replace(report, findings=(), employees=(), extra={
            k: v for k, v in report.extra.items() if k in ("saved_at", "saved_by", "summary_cells")})
        item = incoming(light, label, self._loader(report.path))
        item.errors, item.warnings = report.count("error"), report.count("warning")
        self.items.append(item)
        summary = file_employees(report)
        if summary is not None:
            self.summaries.append(summary)

    def _loader(self, path: str) -> Callable[[], FileReport]:
        return lambda: self.load(path)

    def add_findings(self, path: str, findings: list) -> None:
        """Cross-file findings for a report already spooled: counted now, stored when it is loaded."""
        if not findings:
            return
        self._added.setdefault(path, []).extend(findings)
        item = next(i for i in self.items if i.path == path)
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
