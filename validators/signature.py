"""The HR signature on a team workbook: who and what it is for, as HR made it, and nobody else could.

``_meta`` and the document properties say which team, department and period
a workbook is for, which rulebook made it and which indicators each employee
has on which rows. Anyone with Excel can change them, and the structure
fingerprint beside them is a plain hash anyone can recompute. The signature
is an HMAC-SHA256 over the same facts with a key that only HR holds
(:mod:`kpisheet.xladdin.kit.signing_key` keeps it): a workbook whose facts
were changed no longer verifies, and only HR's key can make one that does.

Besides the one MAC that decides, the signature carries short MACs of each
part (the period, the department, the team, the template, the rulebook, and
each employee's rows and indicators), so that a failure can name what no
longer matches. They are cut to 6 bytes: enough to explain, useless for
forging the full MAC. The key itself is never written anywhere but its file.

The signed facts are texts as the submission reader returns them (cleaned by
:func:`kpisheet.validators.names.clean_text`) and row numbers as integers, in
a canonical JSON form, so a LibreOffice or Excel re-save that keeps the
values keeps the signature valid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Sequence

SIGNATURE_VERSION = "v1"
KEY_BYTES = 32
PART_BYTES = 6
# One cell holds at most 32,767 characters: beyond this many employees the
# per-employee explanations are left out (the full MAC still decides).
MAX_EXPLAINED_EMPLOYEES = 1500
_DOMAIN = b"kpisheet team workbook signature v1\x00"


@dataclass(frozen=True)
class SigningKey:
    """HR's secret; shows only its id (a hash of it) when printed or logged."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("a signing key needs at least 16 bytes")

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @property
    def key_id(self) -> str:
        """Names the key without revealing it (12 hex digits of a hash), to tell two keys apart."""
        return hashlib.sha256(b"kpisheet key id\x00" + self.secret).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"SigningKey(id={self.key_id})"

    def mac(self, part: str, facts: object) -> bytes:
        message = _DOMAIN + part.encode("utf-8") + b"\x00" + _canonical(facts)
        return hmac.new(self.secret, message, hashlib.sha256).digest()


@dataclass(frozen=True)
class SignedFacts:
    """What the signature covers, in the form both the writer and the reader have it."""

    template: tuple[str, str]           # template id, template version
    period: str
    department: str
    team: str
    rulebook: tuple[str, str, str]      # rulebook id, version, fingerprint
    employees: tuple[tuple[str, int, int, tuple[str, ...]], ...]  # (id, summary row, first row, codes)

    FIELDS = ("template", "period", "department", "team", "rulebook")


def _canonical(facts: object) -> bytes:
    return json.dumps(facts, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _whole(facts: SignedFacts) -> list:
    return [list(facts.template), facts.period, facts.department, facts.team, list(facts.rulebook),
            [[e[0], e[1], e[2], list(e[3])] for e in facts.employees]]


def _field_macs(key: SigningKey, facts: SignedFacts) -> bytes:
    return b"".join(key.mac(name, getattr(facts, name))[:PART_BYTES] for name in SignedFacts.FIELDS)


def _row_macs(key: SigningKey, facts: SignedFacts) -> bytes:
    return b"".join(key.mac("rows", [e[0], e[1], e[2]])[:PART_BYTES] for e in facts.employees)


def _code_macs(key: SigningKey, facts: SignedFacts) -> bytes:
    return b"".join(key.mac("codes", [e[0], list(e[3])])[:PART_BYTES] for e in facts.employees)


def sign(key: SigningKey, facts: SignedFacts) -> str:
    """The signature text written to ``_meta`` (ASCII; no part of the key in it)."""
    parts = [SIGNATURE_VERSION, f"k={key.key_id}", f"m={_b64(key.mac('all', _whole(facts)))}",
             f"f={_b64(_field_macs(key, facts))}", f"n={len(facts.employees)}"]
    if len(facts.employees) <= MAX_EXPLAINED_EMPLOYEES:
        parts += [f"r={_b64(_row_macs(key, facts))}", f"c={_b64(_code_macs(key, facts))}"]
    return ";".join(parts)


# --- verifying -----------------------------------------------------------------------------------

VALID, UNSIGNED, MALFORMED, OTHER_KEY, MISMATCH = "valid", "unsigned", "malformed", "other-key", "mismatch"


@dataclass(frozen=True)
class Difference:
    """One signed fact that no longer matches: ``what`` is a field name, or 'rows'/'codes' of employee ``index``,
    or 'count' (employees added or removed)."""

    what: str
    index: int | None = None
    signed_count: int | None = None


@dataclass(frozen=True)
class SignatureCheck:
    status: str
    differences: tuple[Difference, ...] = ()
    signed_by: str = ""  # the key id in the signature

    @property
    def valid(self) -> bool:
        return self.status == VALID


def verify(key: SigningKey, facts: SignedFacts, signature: str) -> SignatureCheck:
    """Whether ``signature`` is ``key``'s over ``facts``; when not, what no longer matches."""
    text = (signature or "").strip()
    if not text:
        return SignatureCheck(UNSIGNED)
    try:
        version, *items = text.split(";")
        fields = dict(item.split("=", 1) for item in items)
        if version != SIGNATURE_VERSION:
            raise ValueError(version)
        signed_by, full = fields["k"], _unb64(fields["m"])
    except (ValueError, KeyError, binascii.Error):
        return SignatureCheck(MALFORMED)
    if not hmac.compare_digest(signed_by, key.key_id):
        return SignatureCheck(OTHER_KEY, signed_by=signed_by)
    if hmac.compare_digest(full, key.mac("all", _whole(facts))):
        return SignatureCheck(VALID, signed_by=signed_by)
    return SignatureCheck(MISMATCH, tuple(_differences(key, facts, fields)), signed_by)


def _chunks(data: bytes) -> list[bytes]:
    return [data[i:i + PART_BYTES] for i in range(0, len(data), PART_BYTES)]


def _differences(key: SigningKey, facts: SignedFacts, fields: dict[str, str]) -> list[Difference]:
    """The parts whose short MACs differ; every comparison in constant time."""
    try:
        signed_fields = _chunks(_unb64(fields["f"]))
        count = int(fields["n"])
        rows = _chunks(_unb64(fields["r"])) if "r" in fields else None
        codes = _chunks(_unb64(fields["c"])) if "c" in fields else None
    except (ValueError, KeyError, binascii.Error):
        return []
    found: list[Difference] = []
    for name, signed, now in zip(SignedFacts.FIELDS, signed_fields, _chunks(_field_macs(key, facts))):
        if not hmac.compare_digest(signed, now):
            found.append(Difference(name))
    if count != len(facts.employees):
        found.append(Difference("count", signed_count=count))
    for kind, signed, now in (("rows", rows, _row_macs(key, facts)), ("codes", codes, _code_macs(key, facts))):
        if signed is None:
            continue
        for i, (was, is_) in enumerate(zip(signed, _chunks(now))):
            if not hmac.compare_digest(was, is_):
                found.append(Difference(kind, index=i))
    return sorted(found, key=lambda d: (d.index if d.index is not None else -1, d.what))


def facts_of(meta: dict[str, str], employees: Sequence[tuple[str, int, int, Sequence[str]]]) -> SignedFacts:
    """The signed facts from ``_meta``'s values (META_KEYS -> text) and its row map."""
    return SignedFacts(
        template=(meta.get("template_id", ""), meta.get("template_version", "")),
        period=meta.get("period", ""),
        department=meta.get("department", ""),
        team=meta.get("team", ""),
        rulebook=(meta.get("rulebook_id", ""), meta.get("rulebook_version", ""),
                  meta.get("rulebook_fingerprint", "")),
        employees=tuple((str(e), int(s), int(f), tuple(codes)) for e, s, f, codes in employees),
    )
