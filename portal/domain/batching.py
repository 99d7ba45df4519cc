"""How a worker forms its batches from the documents waiting: pure rules, no I/O.

A flow run has a cost of its own whatever it carries (about 0.14 s of CPU between the
worker and the Prefect server: `bench/bench_flow_overhead.py` in BENCHMARKS.md), so under
a burst a run should not start for the three documents that arrived while the last one
ran. A batch is due, and a flow run starts for it, when:

- it is full (`max_documents`, or as many as fit in `max_bytes`); or
- its oldest document has waited the linger time; or
- no run is going and the documents waiting are the same as at the worker's last look
  (uploads have paused: a single upload waits one look, not the linger time).

So under a burst batches fill up, or wait at most the linger time; when uploads pause, or
come one at a time, they start at the next look.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class WaitingDocument(BaseModel):
    """A document a batch could take: its id, its size and since when it has waited."""

    model_config = ConfigDict(frozen=True)

    id: str
    size_bytes: int
    waiting_since: datetime


def choose_batch(
    waiting: Sequence[WaitingDocument], max_documents: int, max_bytes: int
) -> list[WaitingDocument]:
    """The next batch from `waiting` (oldest first): up to `max_documents` of them, and no
    more bytes than `max_bytes` unless it is one document (at least one is taken, however
    large, when any waits)."""
    chosen: list[WaitingDocument] = []
    total = 0
    for document in waiting[:max_documents]:
        if chosen and total + document.size_bytes > max_bytes:
            break
        chosen.append(document)
        total += document.size_bytes
    return chosen


def batch_is_due(
    chosen: Sequence[WaitingDocument],
    waiting: Sequence[WaitingDocument],
    max_documents: int,
    *,
    waited_enough_at: datetime,
    uploads_paused: bool,
) -> bool:
    """Whether the batch `chosen` from `waiting` should start a flow run now: it is full
    (as many documents as a batch takes, or fewer only because the next would pass the
    bytes allowed), or its oldest document has waited since `waited_enough_at` or before,
    or `uploads_paused` (no run is going and nothing new has arrived since the last look).
    Never when nothing is chosen."""
    if not chosen:
        return False
    full = len(chosen) >= max_documents or len(chosen) < len(waiting)
    oldest = min(document.waiting_since for document in chosen)
    return full or oldest <= waited_enough_at or uploads_paused
