"""The filesystem object store: the embedded default. Durable (fsync) and atomic (rename).

Why each fsync is there (a verdict in the database, once committed, lets the quarantined
original be deleted, so an object named by a committed verdict must survive a crash):

- the object file's data, before it is renamed to its key: a rename can reach the disk
  before the data blocks of a newly written file, and a crash then leaves the key naming
  an empty or partial file while the verdict says it is whole;
- the directory, after the rename: the new name is in the directory's own blocks, and
  until they are on disk a crash can lose the name (the object) although put returned;
- the directory, after a delete: a deletion that retention reports as done must not come
  back after a crash.

None other is needed: the temporary file's own name (it is renamed away), or the directory
a file taken by `put_file` came from (nobody reads that directory after a crash).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from portal.adapters.hashing import CHUNK_SIZE, HashingReader, iter_chunks
from portal.domain.documents import Area, StoredObject
from portal.domain.errors import ObjectMissing, StoreUnavailable

_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")

PARTIAL_PREFIX = ".partial-"
"""Name prefix of the temporary file a put writes before renaming it over the key."""


class FilesystemStore:
    """Objects as files under `root/<area>/<key>`.

    A put writes a temporary file in the target directory, fsyncs it, renames it over the
    key and fsyncs the directory, so a reader sees the whole object or none of it, even
    after a crash.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, area: Area, key: str) -> Path:
        if not _SAFE_KEY.match(key) or ".." in key.split("/"):
            raise ValueError(f"unsafe object key {key!r}")
        return self.root / area.value / key

    def put(self, area: Area, key: str, source: BinaryIO) -> StoredObject:
        """Store `source` under `key` atomically; return its size and sha256."""
        path = self._path(area, key)
        reader = HashingReader(source)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=PARTIAL_PREFIX)
        except OSError as exc:
            raise StoreUnavailable(f"cannot write under {path.parent}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as tmp:
                for chunk in iter_chunks(reader):  # type: ignore[arg-type]
                    tmp.write(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
            _fsync_dir(path.parent)
        except OSError as exc:
            _remove_quietly(Path(tmp_name))
            raise StoreUnavailable(f"cannot write {area.value}/{key}: {exc}") from exc
        except BaseException:
            _remove_quietly(Path(tmp_name))
            raise
        return StoredObject(size=reader.size, sha256=reader.sha256)

    def put_file(self, area: Area, key: str, path: Path) -> StoredObject:
        """Take the local file `path` as the object under `key`: hashed once, fsynced and
        renamed into place, with no copy, when it is on the store's filesystem (else copied
        as `put` does, and left where it was). All or nothing: if this raises, the key holds
        what it held before. The object gets the mode `put` gives (0600).
        """
        target = self._path(area, key)
        try:
            with path.open("rb") as handle:
                reader = HashingReader(handle)
                while reader.read(CHUNK_SIZE):
                    pass
                os.fchmod(handle.fileno(), 0o600)
                os.fsync(handle.fileno())  # the data before the name (see the module's doc)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise StoreUnavailable(f"cannot write {area.value}/{key}: {exc}") from exc
            with path.open("rb") as source:  # another filesystem: copy
                return self.put(area, key, source)
        try:
            _fsync_dir(target.parent)  # the name before the verdict that relies on it
        except OSError as exc:
            raise StoreUnavailable(f"cannot write {area.value}/{key}: {exc}") from exc
        return StoredObject(size=reader.size, sha256=reader.sha256)

    @contextmanager
    def open(self, area: Area, key: str) -> Iterator[BinaryIO]:
        """Open the object for reading; raises ObjectMissing if it is not there."""
        try:
            handle = self._path(area, key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(f"no object {area.value}/{key}") from exc
        except OSError as exc:
            raise StoreUnavailable(f"cannot read {area.value}/{key}: {exc}") from exc
        with handle:
            yield handle

    @contextmanager
    def local_copy(self, area: Area, key: str) -> Iterator[Path]:
        """The object's own file: no copy is needed on a local filesystem.

        The file is opened and its first byte read before its path is given, so the path
        is of an object readable now. Only a proven absence (ENOENT) raises ObjectMissing;
        any other OS error (permission denied, an I/O error, a directory or a symlink loop
        where the file should be) raises StoreUnavailable, so the work is retried, not
        given up.
        """
        path = self._path(area, key)
        try:
            with path.open("rb") as handle:
                handle.read(1)
        except FileNotFoundError as exc:
            raise ObjectMissing(f"no object {area.value}/{key}") from exc
        except OSError as exc:
            raise StoreUnavailable(f"cannot read {area.value}/{key}: {exc}") from exc
        yield path

    def delete(self, area: Area, key: str) -> None:
        """Remove the object's file; a missing object is not an error."""
        path = self._path(area, key)
        try:
            path.unlink(missing_ok=True)
            _fsync_dir(path.parent)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreUnavailable(f"cannot delete {area.value}/{key}: {exc}") from exc

    def exists(self, area: Area, key: str) -> bool:
        """Whether a whole object is stored under `key`.

        False only when the file is proven absent (ENOENT) or what is there is not a
        file; an OS error that proves nothing (permission denied, I/O error, a symlink
        loop) raises StoreUnavailable.
        """
        path = self._path(area, key)
        try:
            return stat.S_ISREG(path.stat().st_mode)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreUnavailable(f"cannot look up {area.value}/{key}: {exc}") from exc

    def versions(self, area: Area, key: str) -> tuple[str, ...]:
        """("current",) while a file is stored under `key`, else ().

        A rename replaces the file, so no older version is ever kept; () means the key's
        file is gone (a `.partial-*` file of an interrupted put is `purge_incomplete`'s).
        """
        return ("current",) if self.exists(area, key) else ()

    def metadata(self, area: Area, key: str) -> dict[str, str]:
        """Always {}: only the bytes are kept. Raises ObjectMissing if absent."""
        if not self.exists(area, key):
            raise ObjectMissing(f"no object {area.value}/{key}")
        return {}

    def purge_incomplete(self, older_than: datetime) -> int:
        """Remove `.partial-*` files anywhere under the root last written before `older_than`.

        These are the temporary files of puts interrupted by a crash. A put in progress
        keeps writing its file, so its mtime stays fresh. Returns how many were removed;
        raises StoreUnavailable if a directory cannot be read or a file cannot be removed.
        """
        if older_than.tzinfo is None:
            raise ValueError("older_than must be timezone-aware")
        cutoff = older_than.timestamp()
        removed = 0
        for directory, _dirs, files in os.walk(self.root, onerror=_raise_unless_vanished):
            for name in files:
                if not name.startswith(PARTIAL_PREFIX):
                    continue
                path = Path(directory) / name
                try:
                    if path.lstat().st_mtime >= cutoff:
                        continue
                    path.unlink()
                except FileNotFoundError:  # renamed by its put or removed meanwhile
                    continue
                except OSError as exc:
                    raise StoreUnavailable(f"cannot remove {path}: {exc}") from exc
                removed += 1
        return removed

    def check(self) -> None:
        """Write, read and delete a probe object in every area."""
        for area in Area:
            directory = self.root / area.value
            try:
                directory.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-") as probe:
                    probe.write(b"ok")
                    probe.flush()
            except OSError as exc:
                raise StoreUnavailable(f"store area {directory} is not writable: {exc}") from exc


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _raise_unless_vanished(exc: OSError) -> None:
    """os.walk's onerror: a directory removed meanwhile (or a missing root) holds nothing."""
    if not isinstance(exc, FileNotFoundError):
        raise StoreUnavailable(f"cannot list {exc.filename}: {exc}") from exc


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
