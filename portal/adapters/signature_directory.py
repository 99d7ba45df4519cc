"""clamd's DatabaseDirectory as a symlink to one complete version of the database.

    <link>                    -> <link>.versions/<id>-<n>   (what clamd.conf names)
    <link>.versions/<id>-<n>/  a database, complete, never changed once in use
    <link>.lock                held while an install runs

Why a symlink: clamd reads the directory whenever it loads (at start, on RELOAD, and when
its SelfCheck sees a file change). Copying new files into the directory it reads lets a
load in between see half a set (a new daily with an old main, or a file half written,
which clamd refuses). A version is written and fsync'd in a directory of its own, then the
name is switched by rename(2) of a new symlink over the old one, which POSIX makes atomic:
every load resolves the name to the old version or to the new one, whole. A directory
cannot be renamed over a non-empty one, hence the symlink. The previous version is kept
(a load that resolved the name just before the switch still reads it, and it is what an
install that clamd will not load rolls back to); older ones are pruned.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from portal.domain.errors import InvalidSignatureDatabase, SignatureInstallFailed
from portal.domain.signatures import (
    MARKER_FILE,
    StagedDatabase,
    database_id,
    is_database_file,
    marker_line,
)


class VersionedDatabaseDirectory:
    """A SignatureDirectory on the local filesystem: `link` is clamd's DatabaseDirectory."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.versions = link.parent / f"{link.name}.versions"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold `<link>.lock` (an advisory lock) against another install."""
        self.link.parent.mkdir(parents=True, exist_ok=True)
        with (self.link.parent / f"{self.link.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def current(self) -> Path | None:
        """The version `link` points at, or None if there is no link yet. A real directory
        in its place cannot be switched atomically: refused, saying what to do."""
        if not self.link.is_symlink():
            if self.link.exists():
                raise SignatureInstallFailed(
                    f"{self.link} is a directory, not a symlink: move it aside and give "
                    "clamd a path that `jtai-portal signatures install` manages "
                    "(JTAI_CLAMD_DATABASE_DIR, see infra/RUNBOOK.md)"
                )
            return None
        return (self.link.parent / os.readlink(self.link)).resolve()

    def stage(self, source: Path) -> StagedDatabase:
        """Copy `source`'s database files (not its marker, nor freshclam's own files) into
        a new version directory, add the marker of their database id, fsync it all."""
        if not source.is_dir():
            raise InvalidSignatureDatabase(f"{source} is not a directory")
        names = sorted(p.name for p in source.iterdir() if p.is_file() and is_database_file(p.name))
        names = [n for n in names if n != MARKER_FILE]
        if not names:
            raise InvalidSignatureDatabase(
                f"{source} holds no ClamAV database file (.cvd, .cld, .cud, .ndb, .hdb, ...)"
            )
        self.versions.mkdir(parents=True, exist_ok=True)
        staging = self.versions / f".staging-{uuid.uuid4().hex}"
        staging.mkdir()
        staging.chmod(0o755)  # clamd may run as another user (clamav)
        try:
            digests = {name: _copy(source / name, staging / name) for name in names}
            identity = database_id(digests)
            marker = staging / MARKER_FILE
            marker.write_text(marker_line(identity))
            marker.chmod(0o644)
            _fsync(marker)
            _fsync(staging)
            version = self.versions / f"{identity}-{uuid.uuid4().hex[:8]}"
            staging.rename(version)
            _fsync(self.versions)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return StagedDatabase(path=version, database_id=identity, files=tuple(names))

    def discard(self, staged: StagedDatabase) -> None:
        """Remove a version that was staged and will not be used."""
        if staged.path != self.current():
            shutil.rmtree(staged.path, ignore_errors=True)

    def point_at(self, version: Path) -> None:
        """Switch `link` to `version`: a new symlink renamed over the old one (atomic)."""
        fresh = self.link.parent / f".{self.link.name}.{uuid.uuid4().hex}"
        fresh.symlink_to(os.path.relpath(version, self.link.parent))
        try:
            fresh.replace(self.link)
        except BaseException:
            fresh.unlink(missing_ok=True)
            raise
        _fsync(self.link.parent)

    def prune(self, keep: Sequence[Path]) -> None:
        """Remove every version directory (and leftover staging) not in `keep`."""
        if not self.versions.is_dir():
            return
        kept = {k.resolve() for k in keep}
        for version in self.versions.iterdir():
            if version.resolve() not in kept:
                shutil.rmtree(version, ignore_errors=True)


def _copy(source: Path, target: Path) -> str:
    """Copy one file, fsync'd; return its sha256."""
    digest = hashlib.sha256()
    with source.open("rb") as reading, target.open("wb") as writing:
        while chunk := reading.read(1024 * 1024):
            digest.update(chunk)
            writing.write(chunk)
        writing.flush()
        os.fsync(writing.fileno())
    target.chmod(0o644)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
