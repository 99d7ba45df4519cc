"""Partial resumable uploads on the local disk: `<id>.json` (the PartialUpload record)
and `<id>.part` (the bytes received so far) in one private directory under data_dir,
never in the object store's areas, so nothing reads a partial file but this code.

The bytes received so far are the `.part` file's size: a PATCH appends to it, and bytes
written before a connection dropped count, so the next PATCH resumes after them. Whoever
appends, finishes or deletes an upload holds an exclusive `flock` on its `.part` file,
taken without waiting (another request busy with it is UploadBusy), which also holds
between processes. Records are replaced atomically. Files and directory are mode 600/700.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError

from portal.domain.errors import UploadBusy
from portal.domain.resumable import UPLOAD_ID, PartialUpload


class PartWriter:
    """The `.part` file of one upload, held exclusively."""

    def __init__(self, path: Path, handle: BinaryIO) -> None:
        self._path = path
        self._handle = handle

    def size(self) -> int:
        return os.fstat(self._handle.fileno()).st_size

    def append(self, data: bytes | bytearray) -> None:
        self._handle.write(data)
        self._handle.flush()

    def truncate(self, size: int) -> None:
        """Drop what was appended past `size`."""
        self._handle.flush()
        os.ftruncate(self._handle.fileno(), size)

    def reader(self) -> BinaryIO:
        """The bytes received, read from the start (a new handle, the caller closes it)."""
        self._handle.flush()
        return self._path.open("rb")


class PartialUploads:
    """The partial uploads kept in one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _ensure_root(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _record(self, upload_id: str) -> Path:
        if not UPLOAD_ID.fullmatch(upload_id):
            raise ValueError(f"not an upload id: {upload_id!r}")
        return self.root / f"{upload_id}.json"

    def part_path(self, upload_id: str) -> Path:
        return self._record(upload_id).with_suffix(".part")

    def create(self, upload: PartialUpload) -> None:
        """Keep a new upload's record, then an empty `.part` file."""
        self._ensure_root()
        self.save(upload)
        fd = os.open(self.part_path(upload.id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)

    def save(self, upload: PartialUpload) -> None:
        """Replace the upload's record (atomically)."""
        path = self._record(upload.id)
        temporary = path.with_suffix(".json.new")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(upload.model_dump_json())
        os.replace(temporary, path)

    def get(self, upload_id: str) -> PartialUpload | None:
        """The upload's record, or None if there is none (or it cannot be read)."""
        if not UPLOAD_ID.fullmatch(upload_id):
            return None
        try:
            return PartialUpload.model_validate_json(self._record(upload_id).read_bytes())
        except (FileNotFoundError, ValidationError):
            return None

    def offset(self, upload: PartialUpload) -> int:
        """How many bytes of the upload have been received."""
        if upload.finished:
            return upload.length
        try:
            return self.part_path(upload.id).stat().st_size
        except FileNotFoundError:
            return 0

    @contextlib.contextmanager
    def writing(self, upload_id: str) -> Iterator[PartWriter]:
        """Hold the upload's `.part` file exclusively, to append to it or finish it.

        Raises UploadBusy if another request holds it, FileNotFoundError if it is gone
        (never made again here: a request that lost the race with a delete finds nothing).
        """
        path = self.part_path(upload_id)
        handle = os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND), "ab")
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise UploadBusy(upload_id) from exc
                raise
            yield PartWriter(path, handle)
        finally:
            handle.close()

    def discard_part(self, upload_id: str) -> None:
        """Delete the bytes of a finished upload (its record stays until it expires)."""
        self.part_path(upload_id).unlink(missing_ok=True)

    def delete(self, upload_id: str) -> None:
        """Forget the upload: its bytes, then its record (so no bytes outlive a record)."""
        self.part_path(upload_id).unlink(missing_ok=True)
        self._record(upload_id).unlink(missing_ok=True)

    def unfinished_of(self, owner: str, now: datetime) -> int:
        """How many unexpired, unfinished uploads `owner` has."""
        return sum(
            1
            for upload in self._all()
            if upload.owner == owner and not upload.finished and not upload.expired(now)
        )

    def sweep(self, now: datetime) -> list[str]:
        """Delete every expired upload no request is busy with; the ids deleted."""
        deleted: list[str] = []
        for upload in self._all():
            if not upload.expired(now):
                continue
            try:
                with self.writing(upload.id):
                    current = self.get(upload.id)  # a PATCH may have just renewed it
                    if current is not None and not current.expired(now):
                        continue
                    self.delete(upload.id)
            except UploadBusy:
                continue
            except FileNotFoundError:  # finished, or its bytes are gone already
                self.delete(upload.id)
            deleted.append(upload.id)
        return deleted

    def _all(self) -> Iterator[PartialUpload]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("*.json"):
            upload = self.get(path.stem)
            if upload is not None:
                yield upload
