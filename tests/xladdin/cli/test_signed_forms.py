"""Signed forms, in real processes: `kpisheet forms` signs with HR's key, validation verifies it.

Issue 13, Why 1 (a forged structure fingerprint raised a grade) and Why 3
(impersonation by editing _meta and the document properties), as attacks on
genuine filled workbooks; the signature surviving a LibreOffice re-save; the
key made once with owner-only permissions, kept out of every workbook,
message and log, and carried to a second HR computer by export and import.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kpisheet.validators.reading.safe_read import read_values
from kpisheet.validators.reading.submission import read_identity
from kpisheet.validators.roster import read_roster
from kpisheet.validators.rulebook.load import default_rulebook
from kpisheet.workbook_templates.filler import fill_team_workbook
from kpisheet.xladdin.kit.signing_key import load_key
from tests.support.forgery import drop_signature, forge_indicator, impersonate
from tests.support.paths import SAMPLE_ROSTER

PERIOD = "2026-Q4"
TEAM = "技术支持组"  # 技术支持专员: TS_KB is theirs, CS_ANSWER is not


def kpisheet(*args, key: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "KPISHEET_KEY": str(key), "KPISHEET_LOG": str(cwd / "log" / "k.log")}
    done = subprocess.run([sys.executable, "-m", "kpisheet", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=900)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def findings(done: subprocess.CompletedProcess) -> list[dict]:
    return [f for item in json.loads(done.stdout)["files"] for f in item["findings"]]


@pytest.fixture(scope="module")
def hr(tmp_path_factory):
    """HR's computer: its key, the signed forms of the sample roster, and 技术支持组's form filled in."""
    work = tmp_path_factory.mktemp("signed")
    key = work / "hr" / "kpisheet.key"
    made = kpisheet("forms", "--roster", SAMPLE_ROSTER, "--period", PERIOD, "--out", work / "forms", key=key,
                    cwd=work)
    assert made.returncode == 0, made.stderr
    form = next((work / "forms").glob(f"*{TEAM}.xlsx"))
    filled = work / "filled.xlsx"
    fill_team_workbook(form, filled, seed=7)
    return work, key, made, filled


def lowest_ts_kb(path: Path, rulebook) -> str:
    """The employee whose TS_KB scores lowest: replacing it helps them most."""
    from kpisheet.validators.validate import validate_file

    report = validate_file(path, rulebook=rulebook)
    return min(report.employees, key=lambda e: next(i.score for i in e.indicators if i.code == "TS_KB")).employee_id


# --- the key ---------------------------------------------------------------------------------


def test_the_first_forms_run_makes_the_key_once_owner_only(hr):
    work, key, made, _ = hr
    assert key.is_file() and stat.S_IMODE(key.stat().st_mode) == 0o600
    secret = load_key(key)
    assert "已创建 HR 签名密钥" in made.stderr and secret.key_id in made.stderr
    again = kpisheet("forms", "--roster", SAMPLE_ROSTER, "--period", PERIOD, "--out", work / "again", key=key,
                     cwd=work)
    assert again.returncode == 0 and "已创建" not in again.stderr and load_key(key) == secret
    # the same key signs the same form byte for byte
    first, second = (sorted((work / d).glob("*.xlsx")) for d in ("forms", "again"))
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_the_key_is_in_no_workbook_message_or_log(hr):
    work, key, made, filled = hr
    secret = load_key(key).secret
    forms = [secret.hex(), base64.urlsafe_b64encode(secret).decode().rstrip("="), base64.b64encode(secret).decode()]
    for path in [*sorted((work / "forms").glob("*.xlsx")), filled]:
        with zipfile.ZipFile(path) as archive:
            text = b"".join(archive.read(n) for n in archive.namelist())
        assert not any(f.encode() in text for f in forms), path
        identity = read_identity(read_values(path, ["_meta"])["_meta"], source=str(path))
        assert identity.signature.startswith(f"v1;k={load_key(key).key_id};"), path
    logs = "".join(p.read_text(encoding="utf-8") for p in work.rglob("*.log"))
    assert not any(f in made.stdout + made.stderr + logs for f in forms)


def test_an_exposed_key_file_is_refused_with_one_line(hr, tmp_path):
    _, key, _, filled = hr
    exposed = tmp_path / "exposed.key"
    exposed.write_bytes(key.read_bytes())
    os.chmod(exposed, 0o644)
    done = kpisheet("validate", filled, "--no-roster", key=exposed, cwd=tmp_path)
    assert done.returncode == 2
    line = done.stderr.strip().splitlines()[0]
    assert line.startswith("✗ ") and "0644" in line and "chmod 600" in done.stderr


# --- the attacks -------------------------------------------------------------------------------


def test_a_genuine_filled_form_verifies(hr):
    work, key, _, filled = hr
    done = kpisheet("validate", filled, "--roster", SAMPLE_ROSTER, "--format", "json", key=key, cwd=work)
    assert not [f for f in findings(done) if f["code"].startswith("template-")], done.stdout
    assert "no HR signing key" not in done.stderr


def test_a_forged_indicator_with_every_hash_recomputed_is_caught(hr, tmp_path):
    """Why 1: TS_KB -> CS_ANSWER for a 技术支持专员, fingerprint recomputed: was status ok with --roster."""
    work, key, _, filled = hr
    rulebook = default_rulebook()
    victim = lowest_ts_kb(filled, rulebook)
    forged = forge_indicator(filled, tmp_path / "forged.xlsx", rulebook, victim, "TS_KB", "CS_ANSWER", actual=1.0)
    done = kpisheet("validate", forged, "--roster", SAMPLE_ROSTER, "--format", "json", key=key, cwd=tmp_path)
    assert done.returncode == 1
    found = findings(done)
    signature = [f for f in found if f["code"] == "template-signature-mismatch"]
    assert [(f["sheet"], f["employee_id"]) for f in signature] == [("_meta", victim)]
    assert f"the indicators of employee {victim}" in signature[0]["message_en"]
    foreign = [(f["sheet"], f["indicator"]) for f in found if f["code"] == "template-indicator-not-in-role"]
    assert sorted(foreign) == [("目标设定", "CS_ANSWER"), ("考核评分", "CS_ANSWER")]
    assert [f["indicator"] for f in found if f["code"] == "template-role-indicator-missing"] == ["TS_KB"]
    assert all("per the roster" in f["message_en"] for f in found if f["code"].startswith("template-indicator"))


def test_the_role_bound_check_needs_no_key(hr, tmp_path):
    """Without a key (and without a roster) the same forgery is still an error at its cells."""
    work, _key, _, filled = hr
    rulebook = default_rulebook()
    victim = lowest_ts_kb(filled, rulebook)
    forged = forge_indicator(filled, tmp_path / "forged.xlsx", rulebook, victim, "TS_KB", "CS_ANSWER", actual=1.0)
    done = kpisheet("validate", forged, "--no-roster", "--format", "json", key=tmp_path / "none.key", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.count("no HR signing key") == 1  # said once, not per file
    codes = {(f["code"], f["indicator"]) for f in findings(done)}
    assert ("template-indicator-not-in-role", "CS_ANSWER") in codes
    assert ("template-role-indicator-missing", "TS_KB") in codes
    assert not any(c.startswith(("template-signature", "template-not-signed")) for c, _ in codes)


def test_an_impersonating_file_is_caught_by_the_signature(hr, tmp_path):
    """Why 3: _meta!B5 and the kpisheet_team property edited to claim another team."""
    work, key, _, filled = hr
    forged = impersonate(filled, tmp_path / "impostor.xlsx", "售后服务部", "客服中心")
    done = kpisheet("validate", forged, "--no-roster", "--format", "json", key=key, cwd=tmp_path)
    mismatch = [f for f in findings(done) if f["code"] == "template-signature-mismatch"]
    assert [(f["sheet"], f["cell"]) for f in mismatch] == [("_meta", "B5")]
    assert "the team" in mismatch[0]["message_en"]


def test_a_removed_signature_or_another_keys_is_not_hrs(hr, tmp_path):
    work, key, _, filled = hr
    stripped = drop_signature(filled, tmp_path / "stripped.xlsx")
    done = kpisheet("validate", stripped, "--no-roster", "--format", "json", key=key, cwd=tmp_path)
    assert [(f["code"], f["cell"]) for f in findings(done) if f["code"].startswith("template-")] == [
        ("template-not-signed", "G1")]
    other = tmp_path / "other" / "kpisheet.key"
    done = kpisheet("validate", filled, "--no-roster", "--format", "json", key=other, cwd=tmp_path)
    assert not [f for f in findings(done) if f["code"].startswith("template-")]  # no key there: not checked
    kpisheet("forms", "--roster", SAMPLE_ROSTER, "--period", PERIOD, "--out", tmp_path / "o", key=other, cwd=tmp_path)
    done = kpisheet("validate", filled, "--no-roster", "--format", "json", key=other, cwd=tmp_path)
    wrong = [f for f in findings(done) if f["code"] == "template-not-signed"]
    assert len(wrong) == 1 and load_key(key).key_id in wrong[0]["message_en"]


def test_the_signature_survives_a_libreoffice_resave(hr, tmp_path, soffice):
    """DESIGN §7: LibreOffice makes _meta merely hidden and keeps custom properties; the values stay signed."""
    from kpisheet.xladdin.kit.libreoffice import recalculate

    work, key, _, filled = hr
    resaved = recalculate(filled, tmp_path / "lo")
    identity = read_identity(read_values(resaved, ["_meta"])["_meta"], source=str(resaved))
    assert identity.signature.startswith("v1;")
    done = kpisheet("validate", resaved, "--roster", SAMPLE_ROSTER, "--format", "json", key=key, cwd=tmp_path)
    assert not [f for f in findings(done) if f["code"].startswith("template-")], done.stdout


# --- a second HR computer ----------------------------------------------------------------------


def test_a_second_hr_computer_verifies_after_importing_the_key(hr, tmp_path):
    work, key, _, filled = hr
    second = tmp_path / "second" / "kpisheet.key"
    before = kpisheet("validate", filled, "--no-roster", key=second, cwd=tmp_path)
    assert before.stderr.count("no HR signing key") == 1
    exported = tmp_path / "usb" / "hr.key"
    assert kpisheet("key", "export", exported, key=key, cwd=tmp_path).returncode == 0
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    assert kpisheet("key", "export", exported, key=key, cwd=tmp_path).returncode == 2  # not overwritten
    done = kpisheet("key", "import", exported, key=second, cwd=tmp_path)
    assert done.returncode == 0 and load_key(second) == load_key(key)
    after = kpisheet("validate", filled, "--roster", SAMPLE_ROSTER, "--format", "json", key=second, cwd=tmp_path)
    assert "no HR signing key" not in after.stderr
    assert not [f for f in findings(after) if f["code"].startswith("template-")]
    shown = kpisheet("key", "show", key=second, cwd=tmp_path)
    assert load_key(key).key_id in shown.stdout and str(second) in shown.stdout


def test_importing_over_another_key_needs_force(hr, tmp_path):
    work, key, _, _ = hr
    mine = tmp_path / "mine" / "kpisheet.key"
    kpisheet("forms", "--roster", SAMPLE_ROSTER, "--period", PERIOD, "--out", tmp_path / "f", key=mine, cwd=tmp_path)
    mine_id = load_key(mine).key_id
    refused = kpisheet("key", "import", key, key=mine, cwd=tmp_path)
    assert refused.returncode == 2 and mine_id in refused.stderr and load_key(mine).key_id == mine_id
    forced = kpisheet("key", "import", key, "--force", key=mine, cwd=tmp_path)
    assert forced.returncode == 0 and load_key(mine) == load_key(key) and mine_id in forced.stdout


def test_a_roster_that_moves_someone_is_believed_over_the_file(hr, tmp_path):
    """The roster, not the file, says who does what: an employee now a 客服专员 gets 客服专员's indicators checked."""
    from dataclasses import replace

    from kpisheet.validators.validate import validate_file

    work, key, _, filled = hr
    rulebook = default_rulebook()
    people = read_roster(SAMPLE_ROSTER, rulebook)
    victim = lowest_ts_kb(filled, rulebook)
    moved = [replace(p, role="cs") if p.employee_id == victim else p for p in people]
    report = validate_file(filled, rulebook=rulebook, roster=moved, signing_key=load_key(key))
    foreign = {f.indicator for f in report.findings if f.code == "template-indicator-not-in-role"}
    assert "TS_KB" in foreign and all(f.employee_id == victim for f in report.findings
                                      if f.code.startswith("template-indicator"))
