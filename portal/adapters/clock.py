"""Clocks behind the Clock port: the system's, and one that a test (or a rehearsal) sets."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        return datetime.now(UTC)


class SettableClock:
    """A clock that stands still at a moment until it is set or moved on; thread-safe.

    Tests put a whole portal (API, pages, worker threads) on one of these, so that what a
    page says about a deadline depends on the moment the test chose, not on the day it runs.
    """

    def __init__(self, moment: datetime) -> None:
        self._lock = threading.Lock()
        self._moment = _aware(moment)

    def now(self) -> datetime:
        """The moment the clock was last set to (or moved on to), in UTC."""
        with self._lock:
            return self._moment

    def set(self, moment: datetime) -> None:
        """From now on, `now()` answers `moment` (timezone-aware; ValueError otherwise)."""
        with self._lock:
            self._moment = _aware(moment)

    def advance(self, by: timedelta) -> datetime:
        """Move the clock on by `by` and return the new moment."""
        with self._lock:
            self._moment += by
            return self._moment


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a clock's moment must be timezone-aware")
    return moment.astimezone(UTC)
