"""The master's file, in real processes: permissions kept, read-only refused, a full disk on a real small file system.

Issue 13, Why 7 and 8. Every case runs ``kpisheet consolidate`` as its own
process on a real master and checks what a user would see (exit code, one
bilingual line, no traceback) and what is left on disk (the old master byte
for byte, no temporary file, no backup under a valid name unless the run
succeeded).

The full disk is a tmpfs of a few hundred KB, filled to leave a chosen
number of KB free: mounted directly when the tests run as root, else inside
a user namespace (``unshare --user --map-root-user --mount``) where an
ordinary user may mount one. Where neither is allowed the test is skipped
with that reason (under CI it fails: see tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kpisheet.xladdin.master.safety import backup_pattern, backups_of
from tests.support.environment import require
from tests.support.paths import SAMPLES

SUBMISSIONS = SAMPLES / "submissions"
FIRST = ("2026-Q4_售后服务部_技术支持组_clean.xlsx", "2026-Q4_售后服务部_客服中心_over-quota.xlsx")
LATER = "2026-H2_售后服务部_技术支持组_clean.xlsx"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def consolidate(master: Path, inbox: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpisheet", "consolidate", str(inbox), "--master", str(master)],
                          capture_output=True, text=True, encoding="utf-8", env={**os.environ, "COLUMNS": "200"},
                          timeout=600)


def one_clean_line(stderr: str) -> str:
    """The failure as the user sees it: one line starting ✗, Chinese / English, nothing Python-shaped."""
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert "internal error" not in stderr and "内部错误" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("✗ ")]
    assert len(errors) == 1 and " / " in errors[0], stderr
    return errors[0]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A master made from two sample submissions, and an inbox with one more (so the next run rewrites it)."""
    work = tmp_path_factory.mktemp("master_file")
    first, later = work / "first", work / "later"
    first.mkdir()
    later.mkdir()
    for name in FIRST:
        shutil.copy2(SUBMISSIONS / name, first / name)
        shutil.copy2(SUBMISSIONS / name, later / name)
    shutil.copy2(SUBMISSIONS / LATER, later / LATER)
    master = work / "hr" / "master.xlsx"
    master.parent.mkdir()
    done = consolidate(master, first)
    assert done.returncode == 0, done.stderr
    return master, later


def fresh_master(made, folder: Path) -> tuple[Path, Path]:
    master, later = made
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "master.xlsx"
    shutil.copy2(master, copy)
    for part in master.parent.glob("kpisheet.db*"):  # the master is a view of its record: they move together
        shutil.copy2(part, folder / part.name)
    return copy, later


# --- permissions ------------------------------------------------------------------------------


def test_a_private_master_stays_private(made, tmp_path):
    """Why 7: a 0600 master came back 0644 after consolidate."""
    master, inbox = fresh_master(made, tmp_path / "hr")
    os.chmod(master, 0o600)
    before = digest(master)
    done = consolidate(master, inbox)
    assert done.returncode == 0, done.stderr
    assert digest(master) != before  # it was rewritten, not left alone
    assert stat.S_IMODE(master.stat().st_mode) == 0o600
    backup = backups_of(master)[-1]
    assert digest(backup) == before and stat.S_IMODE(backup.stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="changing a file's owner needs root")
def test_the_masters_owner_is_kept_when_root_runs_it(made, tmp_path):
    master, inbox = fresh_master(made, tmp_path / "hr")
    os.chown(master, 1234, 1234)
    os.chmod(master, 0o640)
    done = consolidate(master, inbox)
    assert done.returncode == 0, done.stderr
    info = master.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1234, 1234, 0o640)


def test_a_read_only_master_is_refused_with_one_line(made, tmp_path):
    """Why 7: a 0444 master was replaced silently. The permission bits decide, so root is refused too."""
    master, inbox = fresh_master(made, tmp_path / "hr")
    os.chmod(master, 0o444)
    before = digest(master)
    record = master.parent / "kpisheet.db"
    record_before = digest(record)
    done = consolidate(master, inbox)
    assert done.returncode == 2
    line = one_clean_line(done.stderr)
    assert "只读" in line and "read-only" in line and "master.xlsx" in line
    assert digest(master) == before and stat.S_IMODE(master.stat().st_mode) == 0o444
    assert sorted(p.name for p in master.parent.iterdir()) == ["kpisheet.db", "master.xlsx"]
    assert digest(record) == record_before  # refused before the record took anything: not ahead of the master


# --- a full disk ------------------------------------------------------------------------------


_MOUNTING: dict[str, tuple[list[str] | None, str]] = {}


def how_to_mount(work: Path) -> tuple[list[str] | None, str]:
    """How this machine lets a test mount a small tmpfs: (command prefix, how), or (None, why not)."""
    if "answer" in _MOUNTING:
        return _MOUNTING["answer"]
    probe = work / "probe"
    probe.mkdir(exist_ok=True)
    answer: tuple[list[str] | None, str] = (None, "tmpfs needs Linux")
    if os.name == "posix":
        reasons = []
        if os.geteuid() == 0:
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                                  capture_output=True, text=True)
            if done.returncode == 0:
                subprocess.run(["umount", str(probe)], check=True)
                answer = ([], "mounted as root")
            reasons.append(f"as root: {done.stderr.strip()}")
        else:
            reasons.append("not root")
        if answer[0] is None and shutil.which("unshare"):
            prefix = ["unshare", "--user", "--map-root-user", "--mount"]
            done = subprocess.run([*prefix, "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {probe} && echo ok"],
                                  capture_output=True, text=True)
            if done.stdout.strip() == "ok":
                answer = (prefix, "mounted in a user namespace")
            reasons.append(f"in a user namespace: {done.stderr.strip()}")
        if answer[0] is None:
            answer = (None, "cannot mount a small tmpfs here (" + "; ".join(reasons) + ")")
    _MOUNTING["answer"] = answer
    return answer


FULL_DISK_SCRIPT = r"""
import os, shutil, subprocess, sys
mountpoint, size_kb, master, inbox, free_kb, mount_here = sys.argv[1:7]
if mount_here == "1":
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", mountpoint], check=True)
try:
    hr = os.path.join(mountpoint, "hr")
    os.mkdir(hr)
    target = os.path.join(hr, "master.xlsx")
    shutil.copy2(master, target)
    for name in os.listdir(os.path.dirname(master)):  # its record moves with it
        if name.startswith("kpisheet.db"):
            shutil.copy2(os.path.join(os.path.dirname(master), name), os.path.join(hr, name))
    st = os.statvfs(hr)
    with open(os.path.join(mountpoint, "filler"), "wb") as handle:
        handle.write(b"\0" * max(0, st.f_bavail * st.f_frsize - int(free_kb) * 1024))
    done = subprocess.run([sys.executable, "-m", "kpisheet", "consolidate", inbox, "--master", target],
                          capture_output=True, text=True, encoding="utf-8")
    listing = sorted(os.path.relpath(os.path.join(d, f), hr) for d, _, fs in os.walk(hr) for f in fs)
    import hashlib
    print(repr((done.returncode, done.stderr, listing,
                hashlib.sha256(open(target, "rb").read()).hexdigest())))
finally:
    if mount_here == "1":
        subprocess.run(["umount", mountpoint])
"""


def run_on_full_disk(master: Path, inbox: Path, free_kb: int, work: Path) -> tuple[int, str, list[str], str]:
    """``kpisheet consolidate`` with the master on a tmpfs that has about ``free_kb`` KB free."""
    prefix, how = how_to_mount(work)
    require(prefix is not None, how)
    mountpoint = work / f"fs-{uuid.uuid4().hex[:8]}"
    mountpoint.mkdir()
    record = sum(p.stat().st_size for p in master.parent.glob("kpisheet.db*"))
    size_kb = 4 * (master.stat().st_size // 1024) + 2 * (record // 1024) + 256
    script = work / "full_disk.py"
    script.write_text(FULL_DISK_SCRIPT, encoding="utf-8")
    done = subprocess.run([*prefix, sys.executable, str(script), str(mountpoint), str(size_kb), str(master),
                           str(inbox), str(free_kb), "1"], capture_output=True, text=True, encoding="utf-8",
                          timeout=600)
    assert done.returncode == 0, done.stderr
    import ast

    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_a_full_disk_is_one_line_and_the_old_master_is_untouched(made, tmp_path):
    """Why 8: a truncated backup under a valid name (150-190 KB free) and an 8-line traceback (20-100 KB free).

    The free space is swept from almost nothing to more than the run needs, so
    the disk fills while the new master is written, while the backup is
    copied, and not at all.
    """
    master, inbox = made
    before = digest(master)
    size_kb = master.stat().st_size // 1024
    outcomes = {}
    # the last is more than the run needs (the record's WAL grows too: a few pages per run, receipts included)
    for free_kb in sorted({4, 16, size_kb // 2, size_kb + 8, size_kb + 24, 2 * size_kb - 8, 2 * size_kb + 8,
                           4 * size_kb + 64}):
        code, stderr, listing, after = run_on_full_disk(master, inbox, free_kb, tmp_path)
        outcomes[free_kb] = code
        assert not [name for name in listing if ".tmp" in name], (free_kb, listing)
        if code == 0:
            assert after != before
            continue
        assert code == 2, (free_kb, stderr)
        line = one_clean_line(stderr)
        assert "磁盘空间不足" in line and "no space left" in line and "KB" in line, line
        assert "/hr" in line  # the folder is named
        assert after == before, free_kb  # byte for byte
        pattern = backup_pattern(Path("master.xlsx"))
        assert not [n for n in listing if n.startswith("backups/") and pattern.match(n.split("/", 1)[1])], listing
        told = [line for line in stderr.splitlines() if line.strip() and "no HR signing key" not in line]
        assert len(told) <= 2, stderr  # the line and its hint (besides the notice that no key is set up)
    assert 2 in outcomes.values() and 0 in outcomes.values(), outcomes
