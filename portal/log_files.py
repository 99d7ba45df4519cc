"""`jtai-portal logs`: follow the log files of `up`'s processes, each line led by its name."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

POLL_SECONDS = 0.5
BACKLOG_LINES = 20


def follow(
    log_dir: Path,
    names: list[str],
    out: TextIO,
    *,
    rounds: int | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    """Print the last lines of each named log (every log in `log_dir` if none is named),
    then what is appended to any of them, as `name | line`, until interrupted (or for
    `rounds` polls). A log that is truncated or replaced is read again from its start."""
    offsets: dict[Path, int] = {}
    first = True
    polls = 0
    while rounds is None or polls < rounds:
        for path in _logs(log_dir, names):
            size = path.stat().st_size
            offset = offsets.get(path)
            if offset is None:
                offset = _backlog_start(path) if first else 0
            if size < offset:
                offset = 0
            if size > offset:
                offsets[path] = _print_from(path, offset, out)
            else:
                offsets[path] = offset
        if first and not offsets:
            wanted = ", ".join(names) or "any process"
            out.write(f"no logs of {wanted} in {log_dir} yet; waiting\n")
        out.flush()
        first = False
        polls += 1
        if rounds is None or polls < rounds:
            time.sleep(poll_seconds)


def _logs(log_dir: Path, names: list[str]) -> list[Path]:
    if not log_dir.is_dir():
        return []
    if names:
        return [log_dir / f"{name}.log" for name in names if (log_dir / f"{name}.log").exists()]
    return sorted(log_dir.glob("*.log"))


def _backlog_start(path: Path) -> int:
    data = path.read_bytes()
    cut = len(data)
    for _ in range(BACKLOG_LINES + 1):
        cut = data.rfind(b"\n", 0, cut)
        if cut < 0:
            return 0
    return cut + 1


def _print_from(path: Path, offset: int, out: TextIO) -> int:
    """Print whole lines from `offset`; return the offset after the last whole line."""
    with path.open("rb") as file:
        file.seek(offset)
        chunk = file.read()
    end = chunk.rfind(b"\n") + 1
    for line in chunk[:end].decode("utf-8", "replace").splitlines():
        out.write(f"{path.stem:>9} | {line}\n")
    return offset + end
