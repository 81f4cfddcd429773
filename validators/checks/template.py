"""template- checks: is this a kpisheet team workbook, made from this rulebook, and still intact?

Intact means: the columns are where the layout puts them, every employee x
indicator row sits where ``_meta``'s row map says the writer put it, and the
locked cells (IDs, indicator codes, targets HR fixed) still hold what was
written. Rows are compared as sequences, so one inserted or deleted row is
reported once, where it happened, not as every row below it.
"""

from __future__ import annotations

import difflib
from typing import Iterable, Sequence

from kpisheet.validators.findings import Finding, make_finding
from kpisheet.validators.layout import (
    GOAL_COLUMNS, GOALS, HEADER_ROW, META, META_KEYS, META_SIGNATURE_COLUMN, META_SIGNATURE_ROW, PROPERTY_MAX_CHARS,
    SCORE_COLUMNS, SCORES, SUMMARY, TEMPLATE_ID, TEMPLATE_VERSION, Column, a1, structure_fingerprint, summary_columns,
)
from kpisheet.validators import signature as sig
from kpisheet.validators.signature import SignatureCheck, SigningKey, facts_of, verify
from kpisheet.validators.rulebook.model import Indicator, Method, Rulebook
from kpisheet.validators.reading.submission import Identity, TeamWorkbook, number

# Which of floor/target/challenge each scoring method reads (see kpisheet.validators.policy.scoring).
TARGETS_READ: dict[Method, tuple[str, ...]] = {
    Method.higher_better: ("floor", "target", "challenge"),
    Method.lower_better: ("floor", "target", "challenge"),
    Method.count: ("target",),
    Method.deduction: (),
    Method.rating: (),
}

FIELD_NAMES: dict[str, tuple[str, str]] = {
    "employee_id": ("工号", "employee ID"),
    "code": ("指标代码", "indicator code"),
    "floor": ("底线值", "floor"),
    "target": ("目标值", "target"),
    "challenge": ("挑战值", "challenge"),
}


def meta_cell(key: str) -> str:
    """The _meta cell holding ``key``'s value, e.g. 'B3' for the period."""
    return a1(META_KEYS.index(key), 1)


def structure(sheet: str, cell: str | None, detail_zh: str, detail_en: str, **where) -> Finding:
    return make_finding("template-structure-changed", sheet=sheet, cell=cell,
                        detail_zh=detail_zh, detail_en=detail_en, **where)


# --- identity -------------------------------------------------------------------------


def check_identity(identity: Identity, rulebook: Rulebook, fingerprint: str | None = None) -> list[Finding]:
    """template-unknown / -version / -rulebook-mismatch from ``_meta``.

    An unknown template or version means the layout cannot be trusted: the
    caller stops after these. A rulebook mismatch is reported and checking goes on.
    ``fingerprint``: the rulebook's, when the caller has it already (it hashes the whole rulebook).
    """
    if identity.template_id != TEMPLATE_ID:
        return [make_finding(
            "template-unknown", sheet=META, cell=meta_cell("template_id"), value=identity.template_id,
            expected=TEMPLATE_ID,
            reason_zh=f"_meta 中的模板标识为“{identity.template_id}”，应为 {TEMPLATE_ID}",
            reason_en=f"the template id in _meta is '{identity.template_id}', not {TEMPLATE_ID}")]
    if identity.template_version != TEMPLATE_VERSION:
        return [make_finding("template-version", sheet=META, cell=meta_cell("template_version"),
                             value=identity.template_version, expected=TEMPLATE_VERSION)]
    expected = fingerprint or rulebook.fingerprint()
    if identity.rulebook_fingerprint != expected:
        found = f"{identity.meta.get('rulebook_id', '')} {identity.meta.get('rulebook_version', '')} " \
                f"({identity.rulebook_fingerprint})".strip()
        wanted = f"{rulebook.meta.id} {rulebook.meta.version} ({expected})"
        return [make_finding("template-rulebook-mismatch", sheet=META, cell=meta_cell("rulebook_fingerprint"),
                             value=found, expected=wanted)]
    return []


def check_meta_consistency(identity: Identity, properties: dict[str, str] | None) -> list[Finding]:
    """``_meta`` against its own fingerprint and the custom document properties.

    The properties carry the identity through any re-save; a ``_meta`` value
    that disagrees with them was edited. The period has its own code
    (team-period-mismatch), the rest are structure changes.
    """
    findings: list[Finding] = []
    recomputed = structure_fingerprint(identity.rulebook_fingerprint, identity.row_map_tuples())
    if recomputed != identity.structure_fingerprint:
        first = identity.row_map[0].meta_row if identity.row_map else len(META_KEYS)
        findings.append(structure(
            META, a1(first, 0),
            "隐藏的 _meta 表中的行映射被改动，与结构指纹不符",
            "the row map on the hidden _meta sheet was edited and no longer matches its structure fingerprint"))
    for key, stored in (properties or {}).items():
        if key not in META_KEYS:
            continue
        found = identity.meta.get(key, "")
        if found[:PROPERTY_MAX_CHARS] == stored:
            continue
        if key == "period":
            findings.append(make_finding("team-period-mismatch", sheet=META, cell=meta_cell(key),
                                         value=found, expected=stored))
        else:
            findings.append(structure(
                META, meta_cell(key),
                f"_meta 中的 {key} 为“{found}”，与文档属性中的“{stored}”不一致（_meta 被改动）",
                f"{key} on _meta reads '{found}' but the document properties say '{stored}' (_meta was edited)"))
    return findings


# --- HR's signature ------------------------------------------------------------------------

# what each signed fact is called in a message, and the _meta cell that holds it
_SIGNED_FIELDS: dict[str, tuple[str, str, str]] = {
    "template": ("模板标识与版本", "the template id and version", "template_id"),
    "period": ("考核期间", "the period", "period"),
    "department": ("部门", "the department", "department"),
    "team": ("团队", "the team", "team"),
    "rulebook": ("规则表", "the rulebook", "rulebook_fingerprint"),
}


def signature_check(identity: Identity, key: SigningKey) -> SignatureCheck:
    """Whether the workbook's identity and row map are as HR signed them with ``key``."""
    facts = facts_of(identity.meta, [(e.employee_id, e.summary_row, e.first_row, e.codes) for e in identity.row_map])
    return verify(key, facts, identity.signature)


def signature_findings(identity: Identity, check: SignatureCheck, key: SigningKey) -> list[Finding]:
    """template-not-signed, or one template-signature-mismatch per fact that no longer matches."""
    where = dict(sheet=META, cell=a1(META_SIGNATURE_ROW, META_SIGNATURE_COLUMN))
    if check.status == sig.VALID:
        return []
    if check.status == sig.UNSIGNED:
        return [make_finding("template-not-signed", **where,
                             reason_zh="本表没有 HR 的签名（不是用本机的 HR 密钥生成的，或签名被删除）",
                             reason_en="the workbook carries no HR signature (not made with this computer's HR key, "
                                       "or the signature was removed)")]
    if check.status == sig.MALFORMED:
        return [make_finding("template-not-signed", **where, reason_zh="HR 签名无法识别（被改动或损坏）",
                             reason_en="HR's signature cannot be read (it was altered or damaged)")]
    if check.status == sig.OTHER_KEY:
        return [make_finding(
            "template-not-signed", **where,
            reason_zh=f"本表由另一把密钥签名（密钥编号 {check.signed_by}，本机的 HR 密钥为 {key.key_id}）",
            reason_en=f"the workbook was signed with another key (key id {check.signed_by}; this computer's HR key "
                      f"is {key.key_id})")]
    findings = [_mismatch(identity, difference) for difference in check.differences]
    return findings or [make_finding(
        "template-signature-mismatch", **where, what_zh="隐藏的 _meta 工作表中的标识或行映射",
        what_en="the identity or row map on the hidden _meta sheet")]


def _mismatch(identity: Identity, difference: sig.Difference) -> Finding:
    if difference.what in _SIGNED_FIELDS:
        zh, en, key = _SIGNED_FIELDS[difference.what]
        return make_finding("template-signature-mismatch", sheet=META, cell=meta_cell(key), what_zh=zh, what_en=en)
    if difference.what == "count":
        now = len(identity.row_map)
        return make_finding(
            "template-signature-mismatch", sheet=META, cell=a1(len(META_KEYS), 0),
            what_zh=f"员工人数（签发时 {difference.signed_count} 人，现为 {now} 人）",
            what_en=f"the number of employees (signed for {difference.signed_count}, now {now})")
    entry = identity.row_map[difference.index]
    if difference.what == "rows":
        zh, en, column = f"员工 {entry.employee_id} 的工号或行位置", f"the ID or rows of employee {entry.employee_id}", 1
    else:
        zh, en, column = f"员工 {entry.employee_id} 的考核指标", f"the indicators of employee {entry.employee_id}", 3
    return make_finding("template-signature-mismatch", sheet=META, cell=a1(entry.meta_row, column),
                        employee_id=entry.employee_id, what_zh=zh, what_en=en)


# --- columns --------------------------------------------------------------------------


def check_headers(values: dict[str, list[list]], rulebook: Rulebook) -> list[Finding]:
    """Each data sheet's header row against the layout: a column inserted, deleted or moved
    shifts every value, so nothing below can be checked."""
    findings = []
    for sheet, columns in ((GOALS, GOAL_COLUMNS), (SCORES, SCORE_COLUMNS), (SUMMARY, summary_columns(rulebook))):
        rows = values.get(sheet) or []
        header = rows[HEADER_ROW] if len(rows) > HEADER_ROW else []
        finding = _header_problem(sheet, columns, header)
        if finding:
            findings.append(finding)
    return findings


def _header_problem(sheet: str, columns: Sequence[Column], header: list) -> Finding | None:
    for i, column in enumerate(columns):
        found = header[i] if i < len(header) else ""
        if found == column.header:
            continue  # as written; the normalised comparison below is for re-saved line breaks
        if _header_text(found) != _header_text(column.header):
            shown = str(found).replace("\n", " ") if found != "" else "空"
            return structure(
                sheet, a1(HEADER_ROW, i),
                f"第 {i + 1} 列表头应为“{column.zh}”，实际为“{shown}”（列被插入、删除或移动）",
                f"column {i + 1} should be headed '{column.en}' but reads '{shown}' "
                "(a column was inserted, deleted or moved)")
    return None


def _header_text(value) -> str:
    # Excel and LibreOffice may store the header's line break as \r\n
    return "".join(str(value).split())


# --- rows -----------------------------------------------------------------------------


def check_rows(book: TeamWorkbook) -> list[Finding]:
    """Rows on 目标设定, 考核评分 and 汇总 against ``_meta``'s row map."""
    row_map = book.identity.row_map
    line_rows = [(entry.first_row + k, (entry.employee_id, code))
                 for entry in row_map for k, code in enumerate(entry.codes)]
    findings = []
    for sheet, records in ((GOALS, book.goals), (SCORES, book.scores)):
        found = [(r.row, (r.employee_id, r.code)) for r in records]
        findings += _compare_rows(sheet, line_rows, found, ("employee_id", "code"), _line_columns(sheet))
    summary_expected = [(entry.summary_row, (entry.employee_id,)) for entry in row_map]
    summary_found = [(s.row, (s.employee_id,)) for s in book.summary]
    findings += _compare_rows(SUMMARY, summary_expected, summary_found, ("employee_id",), {"employee_id": 0})
    return findings


def _line_columns(sheet: str) -> dict[str, int]:
    columns = GOAL_COLUMNS if sheet == GOALS else SCORE_COLUMNS
    return {c.key: i for i, c in enumerate(columns) if c.key in ("employee_id", "code")}


def _compare_rows(sheet: str, expected: list[tuple[int, tuple]], found: list[tuple[int, tuple]],
                  keys: tuple[str, ...], columns: dict[str, int]) -> list[Finding]:
    """Align what the sheet holds with what the row map says; one finding per difference."""
    if expected == found:
        return []  # the common case: nothing moved, no alignment needed
    want = [key for _, key in expected]
    have = [key for _, key in found]
    findings: list[Finding] = []
    matcher = difflib.SequenceMatcher(None, want, have, autojunk=False)
    shift = 0  # rows inserted minus rows deleted so far: found row = expected row + shift
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            # same keys in the same order, but an empty row inserted (or deleted) moves them
            for k in range(i2 - i1):
                offset = found[j1 + k][0] - expected[i1 + k][0]
                if offset != shift:
                    findings.append(_shifted(sheet, found[j1 + k][0], offset - shift, have[j1 + k], columns))
                    shift = offset
            continue
        pairs = min(i2 - i1, j2 - j1)
        for k in range(pairs):
            findings += _changed(sheet, found[j1 + k][0], want[i1 + k], have[j1 + k], keys, columns)
        if i2 - i1 > pairs:  # expected rows that are gone: one finding per deleted stretch
            at = j1 + pairs
            row = found[at][0] if at < len(found) else expected[i1 + pairs][0] + shift
            findings.append(_deleted(sheet, row, want[i1 + pairs], i2 - i1 - pairs, columns))
        for k in range(j1 + pairs, j2):  # rows the writer never wrote
            findings.append(_inserted(sheet, found[k][0], have[k], columns))
        shift += (j2 - j1) - (i2 - i1)
    return findings


def _describe(key: tuple) -> str:
    return " / ".join(part or "空" for part in key)


def _changed(sheet, row, want: tuple, have: tuple, keys, columns) -> list[Finding]:
    findings = []
    for key, expected, found in zip(keys, want, have):
        if expected == found:
            continue
        zh, en = FIELD_NAMES[key]
        findings.append(structure(
            sheet, a1(row, columns[key]),
            f"第 {row + 1} 行的{zh}应为“{expected}”，实际为“{found or '空'}”（锁定单元格被改动）",
            f"row {row + 1} should hold {en} '{expected}' but holds '{found or 'empty'}' (a locked cell was changed)",
            employee_id=have[0] or None))
    return findings


def _deleted(sheet, row, key: tuple, count: int, columns) -> Finding:
    more_zh = f"等 {count} 行" if count > 1 else "这一行"
    more_en = f" and {count - 1} more row(s) are" if count > 1 else " is"
    return structure(
        sheet, a1(row, columns["employee_id"]),
        f"第 {row + 1} 行处缺少“{_describe(key)}”{more_zh}（行被删除）",
        f"the row for '{_describe(key)}'{more_en} missing at row {row + 1} (rows were deleted)",
        employee_id=key[0] or None)


def _inserted(sheet, row, key: tuple, columns) -> Finding:
    return structure(
        sheet, a1(row, columns["employee_id"]),
        f"第 {row + 1} 行“{_describe(key)}”不是模板中的行（行被插入或复制）",
        f"row {row + 1} ('{_describe(key)}') is not one of the template's rows (a row was inserted or copied)",
        employee_id=key[0] or None)


def _shifted(sheet, row, delta: int, key: tuple, columns) -> Finding:
    if delta > 0:
        zh, en = f"上方插入了 {delta} 个空行", f"{delta} empty row(s) were inserted above it"
    else:
        zh, en = f"上方删除了 {-delta} 行", f"{-delta} row(s) were deleted above it"
    return structure(
        sheet, a1(row, columns["employee_id"]),
        f"第 {row + 1} 行“{_describe(key)}”的位置移动了（{zh}）",
        f"row {row + 1} ('{_describe(key)}') has moved ({en})",
        employee_id=key[0] or None)


# --- locked values --------------------------------------------------------------------


def check_locked_targets(book: TeamWorkbook, rulebook: Rulebook) -> list[Finding]:
    """Targets HR fixed (indicators without ``editable_targets``) must still be the rulebook's."""
    known = {ind.code: ind for ind in rulebook.indicators}
    findings = []
    for goal in book.goals:
        ind = known.get(goal.code)
        if ind is None or ind.editable_targets:
            continue
        for key in TARGETS_READ[ind.method]:
            findings += _locked_target(goal, ind, key)
    return findings


def _locked_target(goal, ind: Indicator, key: str) -> Iterable[Finding]:
    expected = getattr(ind, key)
    found = getattr(goal, key)
    value = number(found)
    if expected is None or (value is not None and abs(value - expected) < 1e-9):
        return []
    zh, en = FIELD_NAMES[key]
    return [structure(
        GOALS, goal.address(key),
        f"{ind.code} 的{zh}是规则表规定的锁定值 {expected:g}，被改为“{found if found != '' else '空'}”",
        f"the {en} of {ind.code} is fixed by the rulebook at {expected:g} but was changed to "
        f"'{found if found != '' else 'empty'}'",
        employee_id=goal.employee_id, indicator=ind.code)]
