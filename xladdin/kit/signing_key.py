"""HR's signing key: where it lives, made on first use with owner-only permissions, exported and imported.

The key signs every team workbook ``kpisheet forms`` writes (see
:mod:`kpisheet.validators.signature`); validation and consolidation verify
with it. Whoever holds the key file can make workbooks kpisheet accepts as
HR's, so it lives in one place that only HR's own account can read:

1. the file named by a command's ``--key`` option, else
2. the file named by the ``KPISHEET_KEY`` environment variable, else
3. ``kpisheet.key`` in the user's kpisheet folder: ``~/.kpisheet/kpisheet.key``
   (``%USERPROFILE%\\.kpisheet\\kpisheet.key`` on Windows).

Every command uses the same rule, so the forms a computer signs are the
forms it verifies. A second HR computer gets the same key with ``kpisheet
key export`` and ``kpisheet key import`` (see docs/security.md). The key is
never written to a workbook, a log or a message: errors name the file and
the key's id (a hash), never its content.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
import time
from pathlib import Path

from kpisheet.validators.errors import KpisheetError
from kpisheet.validators.signature import SigningKey
from kpisheet.xladdin.kit.files import fsync_dir

KEY_ENV = "KPISHEET_KEY"
KEY_FILE_NAME = "kpisheet.key"
HEADER = "# kpisheet signing key v1"
_WARNING = ("# HR only: whoever holds this file can make team workbooks that kpisheet accepts as HR's.\n"
            "# 仅限 HR：持有此文件者可以生成被 kpisheet 当作 HR 下发的考核表。\n")


class KeyFileError(KpisheetError):
    """HR's signing key file cannot be used (unreadable, damaged, readable by others, or in the way)."""

    code = "signing-key"
    title_zh, title_en = "签名密钥不可用", "signing key unusable"
    description = ("HR's signing key file cannot be read, is not a kpisheet key, can be read by other users, or an "
                   "export/import would replace a key; the message names the file, never the key.")


def default_key_path() -> Path:
    return Path.home() / ".kpisheet" / KEY_FILE_NAME


def key_path(option: Path | None = None) -> Path:
    """Where the key is: ``--key``, else ``KPISHEET_KEY``, else the user's kpisheet folder."""
    if option is not None:
        return Path(option)
    configured = os.environ.get(KEY_ENV)
    return Path(configured) if configured else default_key_path()


def _encode(key: SigningKey) -> bytes:
    return f"{HEADER}\n{_WARNING}{base64.urlsafe_b64encode(key.secret).decode('ascii')}\n".encode("utf-8")


def _decode(data: bytes, path: Path) -> SigningKey:
    try:
        lines = data.decode("utf-8").splitlines()
        if not lines or lines[0].strip() != HEADER:
            raise ValueError("header")
        body = [line.strip() for line in lines[1:] if line.strip() and not line.startswith("#")]
        if len(body) != 1:
            raise ValueError("body")
        return SigningKey(base64.urlsafe_b64decode(body[0]))
    except (UnicodeDecodeError, ValueError, binascii.Error):
        raise KeyFileError(f"{path} 不是 kpisheet 签名密钥文件（或已损坏）",
                           f"{path} is not a kpisheet signing key file (or it is damaged)") from None


def _refuse_if_exposed(path: Path) -> None:
    """On POSIX, a key others can read is no longer HR's alone: refused, as ssh refuses such a private key."""
    if os.name != "posix":
        return  # the user's profile folder is private to the user by Windows' default permissions
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(f"签名密钥文件 {path} 其他用户也能读取（权限 {mode:04o}），已拒绝使用",
                           f"the signing key file {path} can be read by other users (mode {mode:04o}); refused",
                           hint_zh=f"执行 chmod 600 {path} 后重试", hint_en=f"run chmod 600 {path} and try again")


def read_key_file(path: Path) -> SigningKey:
    """The key in ``path`` (a key file or an export of one); :class:`KeyFileError` when unusable."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise KeyFileError(f"无法读取签名密钥文件 {path}：{error.strerror or error}",
                           f"cannot read the signing key file {path}: {error.strerror or error}") from None
    return _decode(data, Path(path))


def load_key(path: Path) -> SigningKey | None:
    """HR's key at ``path``, or None when there is none yet."""
    path = Path(path)
    if not path.exists():
        return None
    _refuse_if_exposed(path)
    return read_key_file(path)


def _write_new(path: Path, key: SigningKey) -> bool:
    """Write ``key`` to ``path`` (0600) unless a file is already there; True when this call wrote it.

    Never a replace: of two first runs at once, the first key stays. The file
    is written under a temporary name and hard-linked into place, so nobody
    reads half a key; where the file system has no hard links (FAT, some
    shares) it is created in place, exclusively.
    """
    data = _encode(key)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            _create(temp, data)
            try:
                os.link(temp, path)
            except FileExistsError:
                return False
            except OSError:
                return _create_in_place(path, data)
        finally:
            temp.unlink(missing_ok=True)
        fsync_dir(path.parent)
        return True
    except OSError as error:
        raise KeyFileError(f"无法写入签名密钥文件 {path}：{error.strerror or error}",
                           f"cannot write the signing key file {path}: {error.strerror or error}") from None


def _create(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _create_in_place(path: Path, data: bytes) -> bool:
    try:
        _create(path, data)
    except FileExistsError:
        return False
    return True


def load_or_create_key(path: Path) -> tuple[SigningKey, bool]:
    """HR's key at ``path``, made there on first use; (key, whether it was made now)."""
    found = load_key(path)
    if found is not None:
        return found, False
    created = _write_new(Path(path), SigningKey.generate())
    for _ in range(40):  # another first run may still be writing its key in place (no hard links)
        try:
            return load_key(path), created
        except KeyFileError:
            if created:
                raise
            time.sleep(0.05)
    return load_key(path), created


def export_key(path: Path, target: Path, *, force: bool = False) -> SigningKey:
    """Copy HR's key at ``path`` to ``target`` (owner-only) for another HR computer."""
    key = load_key(path)
    if key is None:
        raise KeyFileError(f"还没有签名密钥（{path}）：请先在本机运行 kpisheet forms 生成考核表",
                           f"there is no signing key yet ({path}): run kpisheet forms on this computer first")
    target = Path(target)
    if target.exists() and not force:
        raise KeyFileError(f"{target} 已存在，未覆盖", f"{target} already exists; nothing was overwritten",
                           hint_zh="确认要覆盖请加 --force", hint_en="add --force to overwrite it")
    if target.exists():
        target.unlink()
    _write_new(target, key)
    return key


def import_key(source: Path, path: Path, *, force: bool = False) -> tuple[SigningKey, SigningKey | None]:
    """Install the key exported to ``source`` at ``path``; (the key, the one it replaced or None).

    Replacing a different key needs ``force``: workbooks signed with the
    replaced key would no longer verify on this computer.
    """
    key = read_key_file(Path(source))
    current = load_key(path) if Path(path).exists() else None
    if current is not None and current.key_id == key.key_id:
        return key, None
    if current is not None and not force:
        raise KeyFileError(
            f"本机已有另一把签名密钥（编号 {current.key_id}），未替换；替换后，用它签名的考核表将无法通过校验",
            f"this computer already has another signing key (id {current.key_id}); it was not replaced: workbooks "
            "signed with it would no longer verify", hint_zh="确认要替换请加 --force", hint_en="add --force to replace it")
    if current is not None:
        Path(path).unlink()
    _write_new(Path(path), key)
    return key, current


# --- what the faces use ---------------------------------------------------------------------------


def checking_key(option: Path | None = None) -> tuple[SigningKey | None, tuple[str, str] | None]:
    """The key validation verifies with (never made here), and when there is none the notice to show once."""
    where = key_path(option)
    found = load_key(where)
    return found, (None if found is not None else no_key_notice(where))



def no_key_notice(path: Path) -> tuple[str, str]:
    """Said once by validation without a key: what is not checked, and why."""
    return (f"未找到 HR 签名密钥（{path}）：不核对考核表的签名，其余检查照常进行",
            f"no HR signing key at {path}: workbook signatures are not verified; every other check runs")


def created_notice(path: Path, key: SigningKey) -> tuple[str, str]:
    """Said by the run that made the key: where it is and what to do with it."""
    return (f"已创建 HR 签名密钥 {path}（编号 {key.key_id}），请妥善保管；另一台 HR 电脑请用 kpisheet key export / import",
            f"created HR's signing key {path} (id {key.key_id}); keep it safe; for another HR computer use kpisheet "
            "key export / import")
