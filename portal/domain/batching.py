"""How a worker forms its batches from the documents waiting: pure rules, no I/O.

A flow run has a cost of its own whatever it carries (about 0.3 s of CPU between the
worker and the Prefect server, measured in BENCHMARKS.md), so under a burst a second run
should not start for the two documents that arrived while the first one ran. The rule:

- with no run going, a batch starts at once with whatever waits (a single upload's
  verdict is not held back);
- with a run already going, another starts only for a full batch (`max_documents`, or as
  many as fit in `max_bytes`) or once the oldest waiting document has waited the linger
  time; otherwise the documents wait for the full batch, the linger, or the run to end.
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
    waited_enough_at: datetime | None,
) -> bool:
    """Whether the batch `chosen` from `waiting` should start a flow run now.

    `waited_enough_at` is None when no run is going: any batch is due. Otherwise it is the
    moment a document must have been waiting since for the batch to go unfilled: the batch
    is due if it is full (as many documents as a batch takes, or fewer only because the
    next would pass the bytes allowed) or its oldest document waited since then or
    before."""
    if not chosen:
        return False
    if waited_enough_at is None:
        return True
    full = len(chosen) >= max_documents or len(chosen) < len(waiting)
    oldest = min(document.waiting_since for document in chosen)
    return full or oldest <= waited_enough_at
