"""The Wakeup port in one process: uploads wake the dispatcher threads of the same process.

A worker in another process is not woken; it finds the work at its next poll
(`dispatcher_poll_seconds`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class InProcessWakeup:
    """Calls every listener registered in this process; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def wake(self) -> None:
        """Call each listener once, in the order they started listening."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def listen(self, listener: Callable[[], None]) -> None:
        """Call `listener` on every wake-up from now on."""
        with self._lock:
            self._listeners.append(listener)

    def unlisten(self, listener: Callable[[], None]) -> None:
        """Stop calling `listener` (not listening is not an error)."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
