"""Read a stream in chunks while counting and hashing it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

CHUNK_SIZE = 1024 * 1024


class HashingReader:
    """A file-like reader that hashes (sha256) and counts what passes through it."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        """Read up to `n` bytes from the source, hashing them."""
        data = self._source.read(n)
        self._hash.update(data)
        self.size += len(data)
        return data

    @property
    def sha256(self) -> str:
        """Hex sha256 of everything read so far."""
        return self._hash.hexdigest()


def iter_chunks(source: BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield `source` in chunks of at most `chunk_size` bytes until it ends."""
    while chunk := source.read(chunk_size):
        yield chunk
