"""Keeps `jtai-portal up`'s children running: each in its own process group with its output
in a log file, restarted with backoff when it dies, all stopped within seconds on Ctrl-C.

Written here rather than taken from supervisord or honcho: supervisord needs a config file
and a daemon of its own for five children of one command, and honcho restarts nothing (it
stops everything when one child exits, which is the failure this module exists to avoid).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger("jtai.supervisor")

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
# A child that ran this long before dying had started well: its next restart is immediate-ish.
STABLE_AFTER_SECONDS = 60.0


@dataclass
class Child:
    """One supervised process: how to start it, where its output goes, how it has fared."""

    name: str
    args: Sequence[str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures_in_a_row: int = 0
    restart_at: float | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        """Whether the process is alive now."""
        return self.proc is not None and self.proc.poll() is None


def backoff_seconds(failures_in_a_row: int) -> float:
    """How long to wait before the next start after this many quick deaths in a row:
    1 s, 2 s, 4 s ... at most 30 s."""
    return min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2.0 ** max(0, failures_in_a_row - 1))


class Supervisor:
    """Starts children, restarts those that die, stops them all. Not thread-safe: one loop
    (the `up` command's main thread) drives it."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_dir: Path,
        monotonic: Callable[[], float] = time.monotonic,
        notice: Callable[[str], None] = print,
    ) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.children: list[Child] = []
        self._monotonic = monotonic
        self._notice = notice
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, args: Sequence[str]) -> Child:
        """Start a child now; its stdout and stderr are appended to log_dir/<name>.log."""
        child = Child(name, list(args), self.log_dir / f"{name}.log")
        self.children.append(child)
        self._spawn(child)
        return child

    def _spawn(self, child: Child) -> None:
        if child._log_file is None:
            child._log_file = child.log_path.open("ab")
        child.proc = subprocess.Popen(
            child.args,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=child._log_file,
            stderr=subprocess.STDOUT,
            # Its own process group: Ctrl-C reaches only the supervisor, which stops the
            # children in order; a stop or kill reaches the child's own children too.
            start_new_session=True,
        )
        child.started_at = self._monotonic()
        child.restart_at = None

    def tend(self) -> None:
        """Notice children that died and restart each when its backoff has passed."""
        now = self._monotonic()
        for child in self.children:
            if child.proc is None or child.running:
                if child.restart_at is not None and now >= child.restart_at:
                    self._spawn(child)
                    child.restarts += 1
                continue
            if child.restart_at is None:
                ran = now - child.started_at
                child.failures_in_a_row = (
                    1 if ran >= STABLE_AFTER_SECONDS else (child.failures_in_a_row + 1)
                )
                wait = backoff_seconds(child.failures_in_a_row)
                child.restart_at = now + wait
                child.proc = None
                self._notice(
                    f"{child.name} stopped after {ran:.0f} s; restarting in {wait:.0f} s "
                    f"(its log: {child.log_path})"
                )

    def stop_all(self, grace_seconds: float = 5.0) -> None:
        """Stop every child, newest first: SIGTERM to its process group, then SIGKILL to
        whatever is still alive after `grace_seconds` in all."""
        for child in reversed(self.children):
            child.restart_at = None
            if child.running:
                assert child.proc is not None
                _signal_group(child.proc, signal.SIGTERM)
        deadline = self._monotonic() + grace_seconds
        for child in reversed(self.children):
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=max(0.0, deadline - self._monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child.proc, signal.SIGKILL)
                child.proc.wait()
            # Grandchildren that outlived their parent in its group go too.
            _signal_group(child.proc, signal.SIGKILL)
        for child in self.children:
            if child._log_file is not None:
                child._log_file.close()
                child._log_file = None


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)
