"""How a worker forms its batches from the documents waiting: pure rules, no I/O.

A flow run has a cost of its own whatever it carries (about 0.14 s of CPU between the
worker and the Prefect server: `bench/bench_flow_overhead.py` in BENCHMARKS.md), so under
a burst a run should not start for the three documents that arrived while the last one
ran. A batch is due, and a flow run starts for it, when:

- it is full (`max_documents`, or as many as fit in `max_bytes`); or
- its oldest document has waited the linger time, and none of the worker's runs is going
  (or, whatever is going, `LINGERS_BESIDE_A_RUN` linger times); or
- no run is going and the same documents have been waiting for at least one of the
  worker's poll intervals (uploads have paused: a single upload waits one look, not the
  linger time).

So under a burst batches fill up, or wait at most the linger time (`LINGERS_BESIDE_A_RUN`
linger times while one of the worker's runs is going); when uploads pause, or come one at
a time, they start at the next look. While a run is going, what arrives gathers for the
run after it rather than starting a small run beside it: on a machine whose cores the
burst already keeps busy, a run beside another finishes no sooner, and each run costs its
own. A full batch still starts beside it (a backlog uses every run the worker may have
going), and so does one whose oldest document has waited `LINGERS_BESIDE_A_RUN` linger
times (a slow run holds up the next documents no longer). Measured (bench.agency_burst,
300 documents, 2 cores, with batches of up to 64): 8-10 runs a burst against 10-11, and
a p95 from upload to verdict a few tenths of a second later (BENCHMARKS.md, X-AH).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

LINGERS_BESIDE_A_RUN = 5
"""How many linger times a partial batch waits, while one of the worker's runs is going,
before it starts beside it."""


class WaitingDocument(BaseModel):
    """A document a batch could take: its id, its size and when it was received (a failed
    document waiting for its retry counts from then too: it starts at once)."""

    model_config = ConfigDict(frozen=True)

    id: str
    size_bytes: int
    received_at: datetime


class BatchRule(BaseModel):
    """A worker's batches: at most `max_documents` and about `max_bytes`; a partial batch
    waits at most `linger` (`linger_beside_a_run` while one of the worker's runs is going);
    uploads have paused when nothing changed for `look_interval` seconds (the worker's poll
    interval)."""

    model_config = ConfigDict(frozen=True)

    max_documents: int
    max_bytes: int
    linger: timedelta
    look_interval: float

    @property
    def linger_beside_a_run(self) -> timedelta:
        """How long a partial batch waits while one of the worker's runs is going."""
        return self.linger * LINGERS_BESIDE_A_RUN


class Look(BaseModel):
    """The documents a worker has seen waiting, and since when it has seen exactly those
    (seconds on the worker's monotonic clock)."""

    model_config = ConfigDict(frozen=True)

    waiting: frozenset[str]
    since: float


def next_look(previous: Look | None, waiting: Sequence[WaitingDocument], at: float) -> Look:
    """The worker's look at `at`: `previous` if the same documents are waiting (so its
    `since` keeps counting), otherwise a new look from `at`."""
    ids = frozenset(document.id for document in waiting)
    if previous is not None and previous.waiting == ids:
        return previous
    return Look(waiting=ids, since=at)


def uploads_paused(look: Look, at: float, runs_going: int, look_interval: float) -> bool:
    """Whether uploads have paused: none of the worker's runs is going and the documents
    of `look` have been the ones waiting for at least `look_interval` seconds at `at`."""
    return runs_going == 0 and at - look.since >= look_interval


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
    bytes allowed), or its oldest document was received at `waited_enough_at` or before,
    or `uploads_paused` (see `uploads_paused`). Never when nothing is chosen."""
    if not chosen:
        return False
    full = len(chosen) >= max_documents or len(chosen) < len(waiting)
    oldest = min(document.received_at for document in chosen)
    return full or oldest <= waited_enough_at or uploads_paused


def lingered_since(rule: BatchRule, now: datetime, runs_going: int) -> datetime:
    """The latest receipt time at which a partial batch's oldest document has waited long
    enough at `now`: the linger time with none of the worker's runs going, else
    `linger_beside_a_run`."""
    return now - (rule.linger if runs_going == 0 else rule.linger_beside_a_run)


def due_batch(
    waiting: Sequence[WaitingDocument],
    previous: Look | None,
    rule: BatchRule,
    *,
    now: datetime,
    at: float,
    runs_going: int,
) -> tuple[Look, list[WaitingDocument]]:
    """The worker's look at this moment (`now` on the portal's clock, `at` on its monotonic
    one, with `runs_going` of its flow runs going), and the batch from `waiting` that is
    due to start now by the rule above: empty if none is."""
    chosen = choose_batch(waiting, rule.max_documents, rule.max_bytes)
    look = next_look(previous, waiting, at)
    due = batch_is_due(
        chosen,
        waiting,
        rule.max_documents,
        waited_enough_at=lingered_since(rule, now, runs_going),
        uploads_paused=uploads_paused(look, at, runs_going, rule.look_interval),
    )
    return look, chosen if due else []
