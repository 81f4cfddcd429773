"""What validating one file produces: the contract between validation and consolidation.

Validation (``kpisheet validate``) fills a :class:`FileReport` per file; the
consolidation service merges the employees of accepted reports into the HR
master. Everything here is plain, frozen and picklable, because reports are
made in worker processes. The per-employee records have slots: a batch keeps
every report until its cross-file checks are done, and a thousand files hold
about a hundred thousand indicator outcomes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kpisheet.validators.pickled_fields import reduce_by_fields

STATUS_OK = "ok"
STATUS_WARNING = "warning"
STATUS_ERROR = "error"


@dataclass(frozen=True, slots=True)
class IndicatorOutcome:
    """One employee x indicator as recomputed by Python from the inputs."""

    code: str
    category: str
    weight: float | None
    floor: float | None
    target: float | None
    challenge: float | None
    actual: float | None
    self_rating: float | None
    manager: float | None
    score: float | None
    weighted: float | None
    comment: str = ""

    __reduce__ = reduce_by_fields  # reports cross from the workers by the thousand


@dataclass(frozen=True, slots=True)
class EmployeeOutcome:
    """One employee's recomputed result in one team workbook."""

    employee_id: str
    name: str
    role: str
    subtotals: dict[str, float | None]
    bonus: float
    veto: str | None
    total: float | None
    grade: str | None
    coefficient: float | None
    indicators: tuple[IndicatorOutcome, ...] = ()
    feedback: str = ""
    pip_shortfalls: str = ""
    pip_actions: str = ""
    pip_owner: str = ""
    pip_due: str = ""
    manager_sign: str = ""
    employee_sign: str = ""

    __reduce__ = reduce_by_fields


@dataclass(frozen=True)
class FileReport:
    """Everything known about one submitted file after validation.

    ``findings`` holds :class:`kpisheet.validators.findings.Finding` records;
    ``employees`` is empty when the file could not be read as a team workbook.
    """

    path: str
    sha256: str | None
    status: str
    department: str | None = None
    team: str | None = None
    period: str | None = None
    findings: tuple[Any, ...] = ()
    employees: tuple[EmployeeOutcome, ...] = ()
    rulebook_fingerprint: str | None = None
    modified: float | None = None  # file mtime, to order duplicate submissions
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.status != STATUS_ERROR

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


def status_of(findings) -> str:
    severities = {f.severity for f in findings}
    if "error" in severities:
        return STATUS_ERROR
    if "warning" in severities:
        return STATUS_WARNING
    return STATUS_OK


def to_plain(obj) -> dict:
    return asdict(obj)
