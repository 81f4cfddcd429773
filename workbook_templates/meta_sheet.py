"""The workbook's identity: the very-hidden ``_meta`` sheet and custom document properties.

A LibreOffice re-save turns a very-hidden sheet into a merely hidden one, and
a curious user can unhide it; the custom properties carry the same identity
through any re-save, so neither copy relies on staying hidden.
"""

from __future__ import annotations

from kpisheet import __version__
from xlsxwriter.workbook import Workbook

from kpisheet.validators.layout import (
    CUSTOM_PROPERTY_KEYS, CUSTOM_PROPERTY_PREFIX, META, META_KEYS, META_ROWMAP_HEADER, META_SIGNATURE_COLUMN,
    META_SIGNATURE_LABEL, META_SIGNATURE_ROW, PROPERTY_MAX_CHARS, TEMPLATE_ID, TEMPLATE_VERSION,
    structure_fingerprint,
)
from kpisheet.validators.signature import SigningKey, facts_of, sign

from kpisheet.workbook_templates.plan import TeamPlan


def meta_values(plan: TeamPlan) -> dict[str, str]:
    rb = plan.rulebook
    fingerprint = rb.fingerprint()
    values = {
        "template_id": TEMPLATE_ID,
        "template_version": TEMPLATE_VERSION,
        "period": plan.period_code,
        "department": plan.department,
        "team": plan.team,
        "rulebook_id": rb.meta.id,
        "rulebook_version": rb.meta.version,
        "rulebook_fingerprint": fingerprint,
        "structure_fingerprint": structure_fingerprint(fingerprint, plan.row_map()),
        "generated_by": f"kpisheet {__version__}",
    }
    assert tuple(values) == META_KEYS, "meta_values must follow layout.META_KEYS"
    return values


def write_meta(book: Workbook, plan: TeamPlan, signing_key: SigningKey | None = None) -> None:
    """``_meta`` and the custom properties; signed with HR's key when one is given."""
    values = meta_values(plan)
    sheet = book.add_worksheet(META)
    for row, key in enumerate(META_KEYS):
        sheet.write_string(row, 0, key)
        sheet.write_string(row, 1, values[key])
    header = len(META_KEYS)
    sheet.write_row(header, 0, META_ROWMAP_HEADER)
    for i, (employee_id, summary_row, first_row, codes) in enumerate(plan.row_map(), start=header + 1):
        sheet.write_string(i, 0, employee_id)
        sheet.write_number(i, 1, summary_row)
        sheet.write_number(i, 2, first_row)
        sheet.write_string(i, 3, ",".join(codes))
    if signing_key is not None:
        signature = sign(signing_key, facts_of(values, plan.row_map()))
        sheet.write_string(META_SIGNATURE_ROW, META_SIGNATURE_COLUMN - 1, META_SIGNATURE_LABEL)
        sheet.write_string(META_SIGNATURE_ROW, META_SIGNATURE_COLUMN, signature)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 28)
    sheet.set_column(3, 3, 80)
    sheet.protect()
    sheet.very_hidden()
    for key in CUSTOM_PROPERTY_KEYS:
        book.set_custom_property(CUSTOM_PROPERTY_PREFIX + key, values[key][:PROPERTY_MAX_CHARS], "text")
