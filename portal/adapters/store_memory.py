"""An in-memory object store for unit tests; behaves like the real ones."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from portal.adapters.hashing import HashingReader
from portal.domain.documents import Area, StoredObject
from portal.domain.errors import ObjectMissing, StoreUnavailable


class MemoryStore:
    """Objects in a dict. Set `available = False` to make every call fail as a down store would."""

    def __init__(self) -> None:
        self.objects: dict[tuple[Area, str], bytes] = {}
        self.available = True

    def _require_available(self) -> None:
        if not self.available:
            raise StoreUnavailable("memory store switched off")

    def put(self, area: Area, key: str, source: BinaryIO) -> StoredObject:
        """Store all of `source` under `key`."""
        self._require_available()
        reader = HashingReader(source)
        data = reader.read()
        self.objects[(area, key)] = data
        return StoredObject(size=reader.size, sha256=reader.sha256)

    def put_file(self, area: Area, key: str, path: Path) -> StoredObject:
        """Store a copy of the file's bytes (the file is left as it was)."""
        with path.open("rb") as source:
            return self.put(area, key, source)

    @contextmanager
    def open(self, area: Area, key: str) -> Iterator[BinaryIO]:
        """A reader over the stored bytes."""
        self._require_available()
        try:
            data = self.objects[(area, key)]
        except KeyError as exc:
            raise ObjectMissing(f"no object {area.value}/{key}") from exc
        yield io.BytesIO(data)

    @contextmanager
    def local_copy(self, area: Area, key: str) -> Iterator[Path]:
        """A temporary file holding the object's bytes."""
        with self.open(area, key) as source, tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "object"
            path.write_bytes(source.read())
            yield path

    def delete(self, area: Area, key: str) -> None:
        """Forget the object; a missing one is not an error."""
        self._require_available()
        self.objects.pop((area, key), None)

    def exists(self, area: Area, key: str) -> bool:
        """Whether an object is stored under `key`."""
        self._require_available()
        return (area, key) in self.objects

    def versions(self, area: Area, key: str) -> tuple[str, ...]:
        """("current",) while an object is stored under `key`, else (): no versions are kept."""
        self._require_available()
        return ("current",) if (area, key) in self.objects else ()

    def metadata(self, area: Area, key: str) -> dict[str, str]:
        """Always {}: nothing but the bytes is kept. Raises ObjectMissing if absent."""
        self._require_available()
        if (area, key) not in self.objects:
            raise ObjectMissing(f"no object {area.value}/{key}")
        return {}

    def purge_incomplete(self, older_than: datetime) -> int:
        """Always 0: a put here is a single assignment and leaves nothing behind."""
        if older_than.tzinfo is None:
            raise ValueError("older_than must be timezone-aware")
        self._require_available()
        return 0

    def check(self) -> None:
        """Raise StoreUnavailable when switched off."""
        self._require_available()
