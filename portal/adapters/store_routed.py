"""An object store that keeps one area (the on-site health records) in a store of its own."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from portal.domain.documents import Area, StoredObject
from portal.domain.ports import ObjectStore


class AreaRoutedStore:
    """Delegates each area to its own store (e.g. onsite to a separate bucket and KMS key)."""

    def __init__(self, default: ObjectStore, routes: dict[Area, ObjectStore]) -> None:
        self.default = default
        self.routes = routes

    def store_for(self, area: Area) -> ObjectStore:
        """The store that holds `area`."""
        return self.routes.get(area, self.default)

    def put(self, area: Area, key: str, source: BinaryIO) -> StoredObject:
        """Store in the area's own store."""
        return self.store_for(area).put(area, key, source)

    def put_file(self, area: Area, key: str, path: Path) -> StoredObject:
        """Store the file in the area's own store (renamed there if that store can)."""
        return self.store_for(area).put_file(area, key, path)

    def open(self, area: Area, key: str) -> AbstractContextManager[BinaryIO]:
        """Open from the area's own store."""
        return self.store_for(area).open(area, key)

    def local_copy(self, area: Area, key: str) -> AbstractContextManager[Path]:
        """A local copy from the area's own store."""
        return self.store_for(area).local_copy(area, key)

    def delete(self, area: Area, key: str) -> None:
        """Delete from the area's own store (every version)."""
        self.store_for(area).delete(area, key)

    def exists(self, area: Area, key: str) -> bool:
        """Whether the area's own store holds the key."""
        return self.store_for(area).exists(area, key)

    def versions(self, area: Area, key: str) -> tuple[str, ...]:
        """Every version and delete marker of the key in the area's own store; () if none."""
        return self.store_for(area).versions(area, key)

    def metadata(self, area: Area, key: str) -> dict[str, str]:
        """The metadata the area's own store keeps; raises ObjectMissing if absent."""
        return self.store_for(area).metadata(area, key)

    def purge_incomplete(self, older_than: datetime) -> int:
        """Purge every store behind the areas, each once; the total number removed."""
        return sum(store.purge_incomplete(older_than) for store in self.stores())

    def check(self) -> None:
        """Check every store behind the areas."""
        for store in self.stores():
            store.check()

    def stores(self) -> tuple[ObjectStore, ...]:
        """The distinct stores behind the areas (default first), each once."""
        distinct = {id(s): s for s in (self.default, *self.routes.values())}
        return tuple(distinct.values())
