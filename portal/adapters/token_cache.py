"""Portal tokens verified a moment ago, kept in the process's memory (the TokenCache port).

Keyed by the token's sha256, never the token. Least recently used entries go first once
`max_entries` are kept, so a flood of different tokens costs bounded memory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import NamedTuple

from portal.domain.access import Principal

MAX_ENTRIES = 10_000
"""Tokens kept at most: far more than the people using one API process at once."""


class _Entry(NamedTuple):
    principal: Principal
    verified_at: datetime
    until: datetime


class MemoryTokenCache:
    """A bounded, thread-safe map from token hash to the principal verified for it."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._max_entries = max_entries
        self._generation = 0

    def generation(self) -> int:
        """Changes whenever something is forgotten."""
        with self._lock:
            return self._generation

    def get(self, token_sha256: str, now: datetime) -> Principal | None:
        """The principal put for this token if `now` lies from its verification to its
        `until` (a clock that went back does not count as inside)."""
        with self._lock:
            entry = self._entries.get(token_sha256)
            if entry is None:
                return None
            if not entry.verified_at <= now < entry.until:
                del self._entries[token_sha256]
                return None
            self._entries.move_to_end(token_sha256)
            return entry.principal

    def put(
        self,
        token_sha256: str,
        principal: Principal,
        verified_at: datetime,
        until: datetime,
        generation: int,
    ) -> None:
        """Keep the principal until `until`, unless something was forgotten since
        `generation` was read (the look may have raced a revocation) or it ends at once."""
        with self._lock:
            if generation != self._generation or until <= verified_at:
                return
            self._entries[token_sha256] = _Entry(principal, verified_at, until)
            self._entries.move_to_end(token_sha256)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def forget(self, token_id: str) -> None:
        """Drop every entry of this token, and refuse puts of looks begun before now."""
        with self._lock:
            self._generation += 1
            for key in [k for k, e in self._entries.items() if e.principal.token_id == token_id]:
                del self._entries[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
