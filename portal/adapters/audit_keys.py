"""The audit key file: the HMAC keys the audit chain is sealed with, kept outside the
database (a file on the portal's machines, or one a secret store such as KMS/Secrets
Manager/Vault mounts there).

One key a line, oldest first: `<key id> <64 hex characters>`; `#` starts a comment. New
events use the last key; every older key stays, since verification uses the key each event
names. The file must not be readable by other users (mode 600 or 400, or 640 for a group).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from portal.domain.audit_chain import AuditKey, AuditKeyring
from portal.domain.errors import AuditKeyError

_LINE = re.compile(r"^(?P<id>[A-Za-z0-9_.-]{1,32})\s+(?P<secret>[0-9a-fA-F]{64,})$")


def load_keyring(path: Path, *, create_at: datetime | None = None) -> AuditKeyring:
    """The keys in `path`, oldest first. With `create_at` (the embedded defaults), a
    missing file is made with one new key, mode 600; otherwise a missing, empty, malformed
    or world-accessible file is an AuditKeyError naming it."""
    if create_at is not None and not path.exists():
        _write_new(path, [new_key(create_at.strftime("%Y%m%d"))])
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise AuditKeyError(
            f"no audit key file at {path}: set JTAI_AUDIT_KEY_FILE to the key file "
            "(see infra/RUNBOOK.md, 'Audit keys and anchors')"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditKeyError(f"cannot read the audit key file {path}: {exc}") from exc
    if mode & (stat.S_IRWXO | stat.S_IWGRP):
        raise AuditKeyError(
            f"the audit key file {path} is open to other users (mode {stat.S_IMODE(mode):o}); "
            "chmod 600 it"
        )
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = _LINE.match(line)
        if not match:
            raise AuditKeyError(f"{path}, line {number}: expected '<key id> <64+ hex characters>'")
        keys.append(AuditKey(key_id=match["id"], secret=bytes.fromhex(match["secret"])))
    try:
        keyring = AuditKeyring(keys=tuple(keys))
    except ValidationError as exc:
        raise AuditKeyError(f"{path}: {exc.errors()[0]['msg']}") from exc
    if not keyring.keys:
        raise AuditKeyError(f"the audit key file {path} holds no key")
    return keyring


def new_key(today: str) -> AuditKey:
    """A fresh random 256-bit key with an id that says when it was made, e.g.
    `k20261130-3fa9c1d2`."""
    return AuditKey(key_id=f"k{today}-{secrets.token_hex(4)}", secret=secrets.token_bytes(32))


def rotate_key(path: Path, now: datetime) -> AuditKey:
    """Add a new newest key to the file (every older key stays) and return it. The file is
    replaced atomically, mode 600; processes started afterwards seal with the new key."""
    keyring = load_keyring(path)
    key = new_key(now.strftime("%Y%m%d"))
    _write_new(path, [*keyring.keys, key], replace=True)
    return key


def _write_new(path: Path, keys: list[AuditKey], *, replace: bool = False) -> None:
    """Write the keys to a temporary file (mode 600, fsync'd), then put it in place whole:
    replacing the file (rotation), or only if none exists yet (first start: a process
    racing another never reads a half-written file; the loser reads the winner's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{k.key_id} {k.secret.hex()}\n" for k in keys)
    target = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(target, path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(target, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
