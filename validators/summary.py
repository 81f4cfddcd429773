"""What a person reads first about a validated file: counts by code and the first cells, then the full list.

A blank form gives 180 findings; a manager needs "42 × 缺少评分输入 at L4, L5, L9 …"
before the list, and the list in the order they will fix it: one employee at a
time. Both views are made here, once, from a :class:`~kpisheet.validators.report.FileReport`,
so the command line (``validate`` prints the summary, ``validate --details``
the full list) and the annotated copy's 校验结果 sheet group alike.

Plain data and plain text only: no console, no symbols that a GBK console
cannot print; the faces add colour.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from kpisheet.validators.findings import SEVERITIES, Finding, employee_label, kind_of
from kpisheet.validators.layout import GOALS, META, SCORES, SUMMARY
from kpisheet.validators.report import FileReport

FIRST_CELLS = 3  # cells shown beside each code in the summary
SEVERITY_WORDS = {"error": ("错误", "error"), "warning": ("警告", "warning"), "info": ("提示", "info")}
STATUS_WORDS = {"ok": ("通过", "ok"), "warning": ("警告", "warning"), "error": ("错误", "error")}
# the order a manager walks the workbook in
_SHEET_ORDER = {GOALS: 0, SCORES: 1, SUMMARY: 2, META: 3}


@dataclass(frozen=True)
class CodeCount:
    """One code in one file: how many findings, and where the first few are."""

    code: str
    severity: str
    title_zh: str
    title_en: str
    count: int
    first: tuple[str, ...]  # 'sheet!cell' (or the sheet) of the first findings, each place once

    @property
    def more(self) -> int:
        """Findings of this code not named in ``first``."""
        return self.count - len(self.first)


@dataclass(frozen=True)
class FileSummary:
    path: str
    status: str
    department: str | None
    team: str | None
    period: str | None
    counts: dict[str, int]  # severity -> findings
    employees: int  # employees with at least one finding
    codes: tuple[CodeCount, ...]  # errors first, then warnings; the commonest first within each


@dataclass(frozen=True)
class EmployeeFindings:
    """The findings about one employee (``employee_id`` None: the file, a sheet or the team as a whole)."""

    employee_id: str | None
    name: str | None
    findings: tuple[Finding, ...]

    @property
    def label(self) -> str:
        if self.employee_id is None:
            return "整个文件 / 团队  Whole file / team"
        return f"员工 {employee_label(self.employee_id, self.name)}  Employee"


def summarise(report: FileReport, first_cells: int = FIRST_CELLS) -> FileSummary:
    """Counts by code (with the first ``first_cells`` places of each), by severity and by employee."""
    by_code: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_code.setdefault(f.code, []).append(f)
    codes = []
    for code, found in by_code.items():
        kind = kind_of(code)
        places = list(dict.fromkeys(f.where for f in found if f.where))
        codes.append(CodeCount(code, kind.severity, kind.title_zh, kind.title_en, len(found),
                               tuple(places[:first_cells])))
    codes.sort(key=lambda c: (SEVERITIES.index(c.severity), -c.count, c.code))
    severities = Counter(f.severity for f in report.findings)
    return FileSummary(
        path=report.path, status=report.status, department=report.department, team=report.team,
        period=report.period, counts={s: severities.get(s, 0) for s in SEVERITIES},
        employees=len({f.employee_id for f in report.findings if f.employee_id}), codes=tuple(codes))


def by_employee(findings: Iterable[Finding]) -> list[EmployeeFindings]:
    """Findings grouped by employee: the file's own first, then each employee in the order the file
    first mentions them; within a group, sheet by sheet (目标设定, 考核评分, 汇总) in the checks' order."""
    groups: dict[str | None, list[Finding]] = {None: []}
    names: dict[str, str] = {}
    for f in findings:
        groups.setdefault(f.employee_id, []).append(f)
        if f.employee_id and f.employee_name:
            names.setdefault(f.employee_id, f.employee_name)
    out = []
    for employee_id, found in groups.items():
        if not found:
            continue
        ordered = sorted(enumerate(found), key=lambda pair: (_SHEET_ORDER.get(pair[1].sheet or "", 9), pair[0]))
        out.append(EmployeeFindings(employee_id, names.get(employee_id or ""), tuple(f for _, f in ordered)))
    return out


# --- plain text ----------------------------------------------------------------------------


def _where(summary: FileSummary) -> str:
    parts = [p for p in (summary.department, summary.team, summary.period) if p]
    return f"（{' '.join(parts)}）" if parts else ""


def summary_lines(report: FileReport, first_cells: int = FIRST_CELLS) -> list[str]:
    """The per-file summary as text: status and path, counts, then one line per code.

    e.g. ``score-missing 缺少评分输入 Scoring input missing ×42：考核评分!L4、考核评分!L5、考核评分!L9 …（另 39 处 / 39 more）``
    """
    s = summarise(report, first_cells)
    zh, en = STATUS_WORDS.get(s.status, (s.status, s.status))
    lines = [f"[{zh} {en}] {s.path}{_where(s)}"]
    if not s.codes:
        return lines
    counts_zh = "、".join(f"{SEVERITY_WORDS[k][0]} {n} 条" for k, n in s.counts.items() if n)
    counts_en = ", ".join(f"{n} {SEVERITY_WORDS[k][1]}{'s' if n != 1 else ''}" for k, n in s.counts.items() if n)
    people = f"，涉及 {s.employees} 名员工" if s.employees else ""
    people_en = f", {s.employees} employee{'s' if s.employees != 1 else ''}" if s.employees else ""
    lines.append(f"  {counts_zh}{people} / {counts_en}{people_en}")
    for c in s.codes:
        places = "、".join(c.first)
        more = f" …（另 {c.more} 处 / {c.more} more）" if c.more > 0 else ""
        where = f"：{places}{more}" if places else ""
        lines.append(f"  {SEVERITY_WORDS[c.severity][0]} {c.code} {c.title_zh} {c.title_en} ×{c.count}{where}")
    return lines


def detail_lines(report: FileReport) -> list[str]:
    """The full list, one block per employee: every finding's place, code, both messages and the fix."""
    lines = []
    for group in by_employee(report.findings):
        lines.append(f"  {group.label}（{len(group.findings)}）")
        for f in group.findings:
            where = f.where or "—"
            lines.append(f"    {SEVERITY_WORDS[f.severity][0]} {where} {f.code}")
            lines.append(f"      {f.message_zh}")
            lines.append(f"      {f.message_en}")
            lines.append(f"      → {f.hint}")
    return lines


def batch_lines(reports: Sequence[FileReport], *, details: bool = False,
                first_cells: int = FIRST_CELLS) -> list[str]:
    """Every file's summary (and with ``details`` its full list), then the batch's totals."""
    lines: list[str] = []
    for report in reports:
        lines += summary_lines(report, first_cells)
        if details:
            lines += detail_lines(report)
    statuses = Counter(r.status for r in reports)
    lines.append(f"共 {len(reports)} 个文件：通过 {statuses['ok']}，警告 {statuses['warning']}，错误 {statuses['error']}"
                 f" / {len(reports)} files: ok {statuses['ok']}, warning {statuses['warning']}, "
                 f"error {statuses['error']}")
    if not details and any(r.findings for r in reports):
        lines.append("完整问题列表（按员工分组）：加 --details / the full list, by employee: add --details")
    return lines
