"""HR's signature over a workbook's identity and structure: what verifies, and what a failure names."""

from __future__ import annotations

import base64
import pickle
from dataclasses import replace

import pytest

from kpisheet.validators import signature as sig
from kpisheet.validators.signature import SignedFacts, SigningKey, sign, verify

FACTS = SignedFacts(
    template=("kpisheet.team", "1"), period="2026-Q4", department="售后服务部", team="技术支持组",
    rulebook=("aftersales-default", "2026.1", "0123456789abcdef"),
    employees=(("SH0001", 3, 3, ("CSAT", "TS_REMOTE", "TS_KB")), ("SH0002", 4, 6, ("CSAT", "TS_REMOTE", "TS_KB"))),
)
KEY = SigningKey(b"k" * 32)


def test_a_genuine_signature_verifies():
    signature = sign(KEY, FACTS)
    assert verify(KEY, FACTS, signature).valid
    assert sign(KEY, FACTS) == signature  # deterministic: a rebuilt form is byte-identical


@pytest.mark.parametrize("change, named", [
    (dict(team="客服中心"), "team"),
    (dict(department="别的部门"), "department"),
    (dict(period="2027-Q1"), "period"),
    (dict(rulebook=("aftersales-default", "2026.1", "ffffffffffffffff")), "rulebook"),
    (dict(template=("kpisheet.team", "2")), "template"),
])
def test_a_changed_identity_field_is_named(change, named):
    check = verify(KEY, replace(FACTS, **change), sign(KEY, FACTS))
    assert check.status == sig.MISMATCH
    assert [d.what for d in check.differences] == [named]


def test_a_changed_indicator_or_row_names_the_employee():
    forged = replace(FACTS, employees=(FACTS.employees[0], ("SH0002", 4, 6, ("CSAT", "TS_REMOTE", "CS_ANSWER"))))
    check = verify(KEY, forged, sign(KEY, FACTS))
    assert [(d.what, d.index) for d in check.differences] == [("codes", 1)]
    moved = replace(FACTS, employees=(FACTS.employees[0], ("SH0002", 5, 6, FACTS.employees[1][3])))
    assert [(d.what, d.index) for d in verify(KEY, moved, sign(KEY, FACTS)).differences] == [("rows", 1)]
    added = replace(FACTS, employees=FACTS.employees + (("SH0031", 5, 9, ("CSAT",)),))
    check = verify(KEY, added, sign(KEY, FACTS))
    assert ("count", None) in [(d.what, d.index) for d in check.differences]
    assert [d.signed_count for d in check.differences if d.what == "count"] == [2]


def test_unsigned_malformed_and_another_keys_signatures():
    assert verify(KEY, FACTS, "").status == sig.UNSIGNED
    assert verify(KEY, FACTS, "v1;k=abc").status == sig.MALFORMED
    assert verify(KEY, FACTS, "v9;k=a;m=b").status == sig.MALFORMED
    other = SigningKey(b"o" * 32)
    check = verify(KEY, FACTS, sign(other, FACTS))
    assert check.status == sig.OTHER_KEY and check.signed_by == other.key_id != KEY.key_id


def test_a_forger_who_recomputes_everything_without_the_key_fails():
    """The structure fingerprint anyone can recompute; the signature only the key holder."""
    forged = replace(FACTS, team="客服中心")
    guessed = sign(SigningKey(b"g" * 32), forged).replace(SigningKey(b"g" * 32).key_id, KEY.key_id)
    assert verify(KEY, forged, guessed).status == sig.MISMATCH


def test_the_key_appears_nowhere_but_in_its_object():
    secret = bytes(range(32))
    key = SigningKey(secret)
    signature = sign(key, FACTS)
    for form in (secret.hex(), base64.urlsafe_b64encode(secret).decode().rstrip("="), base64.b64encode(secret).decode()):
        assert form not in signature and form not in repr(key) and form not in str(key)
    assert repr(key) == f"SigningKey(id={key.key_id})"
    assert pickle.loads(pickle.dumps(key)).secret == secret  # workers get it in memory, never through a file


def test_a_department_of_thousands_still_verifies_without_the_explanations():
    employees = tuple((f"E{i:05d}", 3 + i, 3 + 8 * i, ("CSAT", "TEAM")) for i in range(sig.MAX_EXPLAINED_EMPLOYEES + 1))
    facts = replace(FACTS, employees=employees)
    signature = sign(KEY, facts)
    assert len(signature) < 32_767 and verify(KEY, facts, signature).valid
    forged = replace(facts, team="客服中心")
    assert [d.what for d in verify(KEY, forged, signature).differences] == ["team"]


def test_a_short_key_is_refused():
    with pytest.raises(ValueError):
        SigningKey(b"short")
