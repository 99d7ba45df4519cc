"""The dispatcher: claims waiting documents in bounded batches and runs `ingest` over them.

    poll (or be woken) -> claim a batch -> ingest flow run in a worker thread, named after
                          what it carries and tagged with each of its inspections
    every so often     -> release documents stuck in processing (crashed runs)

Up to `dispatcher_concurrency` batches run at once: while one waits on clamd (another
process) the other sanitises, so two cores are both used. A batch starts when it is due
(portal.domain.batching): full, lingered `batch_linger_seconds` (five times that beside a
going run: what arrives while one runs gathers for the next), or, with no run going, when
uploads pause; under a burst batches grow instead of flow runs multiplying.

Each dispatcher thread keeps one event loop for its whole life, with Prefect's clients
opened on it once (`FlowLoop`), and awaits every flow run it starts there: a fresh
`asyncio.run` per batch would build new clients, each loading the CA bundle into a new TLS
context (~25-30 ms of CPU apiece), for every flow run.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Coroutine, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any, TypeVar

from prefect import tags
from prefect.concurrency.asyncio import concurrency
from prefect.context import AsyncClientContext, SyncClientContext

from flows.ingest import ingest, inspection_tags, run_name
from flows.server_busy import retry_sooner_when_busy
from portal.bootstrap import Container
from portal.domain.batching import BatchRule, Look, due_batch
from portal.domain.documents import Document
from portal.domain.errors import TransientError
from portal.ingest import sweep_workspaces

log = logging.getLogger(__name__)

RECONCILE_EVERY_SECONDS = 30.0
OUTAGE_BACKOFF_SECONDS = 1.0
MIN_SLOT_LEASE_SECONDS = 60.0
CLAIM_TOKEN_LENGTH = 32  # the documents.claim_token column
CLAIM_PREFIX_LENGTH = 8  # 96 random bits remain after it
WORKSPACE_MAX_AGE = timedelta(days=1)


T = TypeVar("T")


class FlowLoop:
    """One event loop kept across flow runs, with Prefect's async and sync clients open on
    it: every flow run awaited here uses those two clients, built once (and told to retry
    sooner when the server lost a write race: flows/server_busy.py).

    An `asyncio.Runner` runs every call in one contextvars context, so the client contexts
    entered at the start stay current for later calls, and a flow run finds them instead of
    building its own. Use it from one thread at a time; `close` closes the clients, then
    the loop.
    """

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self._clients = AsyncExitStack()
        self._runner.run(self._open())

    async def _open(self) -> None:
        sync = self._clients.enter_context(SyncClientContext())
        async_ = await self._clients.enter_async_context(AsyncClientContext())
        for context in (sync, async_):
            retry_sooner_when_busy(context.client)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on this loop, in this thread, to its end."""
        return self._runner.run(work)

    def close(self) -> None:
        """Close the clients and the loop (from a thread running no other event loop)."""
        try:
            self._runner.run(self._clients.aclose())
        finally:
            self._runner.close()


def claim_prefix_of(worker_id: str) -> str:
    """The start of every claim token a worker of this id makes: the same across its
    restarts, different for other ids (but for a 1 in 4 billion clash of hashes)."""
    return hashlib.sha256(worker_id.encode()).hexdigest()[:CLAIM_PREFIX_LENGTH]


class Dispatcher:
    """Runs ingest flow runs over whatever is waiting, until stopped."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.settings = container.settings
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self._last_reconcile = 0.0
        self._look: Look | None = None  # what waited at the last look, and since when
        self.batch_rule = BatchRule(
            max_documents=self.settings.batch_max_documents,
            max_bytes=self.settings.batch_max_bytes,
            linger=timedelta(seconds=self.settings.batch_linger_seconds),
            look_interval=self.settings.dispatcher_poll_seconds,
        )
        self.claim_prefix = claim_prefix_of(self.settings.resolved_worker_id)
        self._loops: dict[int, FlowLoop] = {}  # by thread
        self._loops_lock = threading.Lock()
        self.flow = ingest.with_options(
            retries=self.settings.flow_retries,
            retry_delay_seconds=self.settings.flow_retry_delay_seconds,
        )
        container.wakeup.listen(self.wake)

    def wake(self) -> None:
        """Ask for a look at the queue now rather than at the next poll."""
        self.wakeup.set()

    def stop(self) -> None:
        """Stop claiming; batches already running finish."""
        self.stopping.set()
        self.wakeup.set()
        self.container.wakeup.unlisten(self.wake)

    def close(self) -> None:
        """Close every thread's flow loop and its Prefect clients: call it once no batch
        runs any more (`run_forever` does, on its way out). A later batch opens a new one."""
        with self._loops_lock:
            loops, self._loops = list(self._loops.values()), {}
        for loop in loops:
            try:
                loop.close()
            except Exception:  # closing is tidying up: the batches are over
                log.warning("could not close a flow loop", exc_info=True)

    def flow_loop(self) -> FlowLoop:
        """This thread's flow loop, opened on its first batch (or its first since `close`)."""
        thread = threading.get_ident()
        with self._loops_lock:
            loop = self._loops.get(thread)
        if loop is None:
            loop = FlowLoop()  # outside the lock: it talks to the Prefect server
            with self._loops_lock:
                self._loops[thread] = loop
        return loop

    def reconcile(self) -> list[str]:
        """Release documents whose processing outlived the lease, so they run again."""
        released = self.container.repository.release_stale(
            self.container.clock.now(), self.settings.processing_lease_seconds
        )
        if released:
            log.warning("re-queued %d documents stuck in processing: %s", len(released), released)
        return released

    def sweep_workspaces(self) -> int:
        """Remove batch workspaces left for a day or more by a worker that died mid-batch
        (a day: far longer than any batch runs, so another worker's live one is spared)."""
        root = self.container.ingest_services().workspace_root
        if root is None:
            return 0
        swept = sweep_workspaces(root, self.container.clock.now() - WORKSPACE_MAX_AGE)
        if swept:
            log.warning("removed %d batch workspaces left by a worker that died", swept)
        return swept

    def reclaim_own(self) -> list[str]:
        """Return to the queue what this worker (by its id) held when it last stopped: a
        worker that died mid-batch gets its documents back at once, not after the lease."""
        released = self.container.repository.release_claims(
            self.claim_prefix, self.container.clock.now()
        )
        if released:
            log.warning("took back %d documents this worker held when it stopped", len(released))
        return released

    def claim_batch(self) -> tuple[str, list[str]]:
        """Claim the next bounded batch now, due or not; returns its claim token (this
        worker's prefix and random hex) and document ids."""
        token = self._new_token()
        documents = self.container.repository.claim_next_batch(
            token,
            self.container.clock.now(),
            self.settings.batch_max_documents,
            self.settings.batch_max_bytes,
        )
        return token, [d.id for d in documents]

    def claim_due_batch(self, runs_going: int) -> tuple[str, list[Document]]:
        """Claim the next batch if it is due (portal.domain.batching) with `runs_going` of
        this worker's flow runs going: full, lingered `batch_linger_seconds` (five times
        that beside a going run), or, with no run going, the same documents waiting for a
        poll interval. Each call is a look; nothing is claimed when the batch is not due."""
        now = self.container.clock.now()
        # one more than a batch takes: tells a batch full by its count from a partial one
        waiting = self.container.repository.waiting_documents(
            now, self.batch_rule.max_documents + 1
        )
        self._look, chosen = due_batch(
            waiting,
            self._look,
            self.batch_rule,
            now=now,
            at=time.monotonic(),
            runs_going=runs_going,
        )
        if not chosen:
            return "", []
        token = self._new_token()
        return token, self.container.repository.claim_documents([d.id for d in chosen], token, now)

    def _new_token(self) -> str:
        return self.claim_prefix + uuid.uuid4().hex[: CLAIM_TOKEN_LENGTH - CLAIM_PREFIX_LENGTH]

    def run_forever(self) -> None:
        """Claim and run batches until stop() is called."""
        in_flight: set[Future[object]] = set()
        self.sweep_workspaces()
        self._reclaim_when_reachable()
        with ThreadPoolExecutor(
            max_workers=self.settings.dispatcher_concurrency, thread_name_prefix="ingest"
        ) as pool:
            while not self.stopping.is_set():
                try:
                    self._fill(pool, in_flight)
                except TransientError as exc:
                    # The database is restarting or unreachable: nothing was claimed, so
                    # nothing is lost; look again shortly.
                    log.warning("cannot claim work now (%s); retrying", exc)
                    self.stopping.wait(OUTAGE_BACKOFF_SECONDS)
                if in_flight:
                    done, in_flight = _wait_any(in_flight, self.settings.dispatcher_poll_seconds)
                    for future in done:
                        _log_failure(future)
                elif self._look is not None and self._look.waiting:
                    # Documents wait for their batch to be due: look again after a whole
                    # poll interval, not at the next upload's wake-up, or "nothing new
                    # since the last look" would never hold while uploads keep coming.
                    time.sleep(self.settings.dispatcher_poll_seconds)
                else:
                    self.wakeup.wait(self.settings.dispatcher_poll_seconds)
                    self.wakeup.clear()
            wait(in_flight)
        self.close()

    def _fill(self, pool: ThreadPoolExecutor, in_flight: set[Future[object]]) -> None:
        """Reconcile when due, then claim batches while there is room."""
        if time.monotonic() - self._last_reconcile > RECONCILE_EVERY_SECONDS:
            self.reconcile()
            self._last_reconcile = time.monotonic()
        while len(in_flight) < self.settings.dispatcher_concurrency:
            token, documents = self.claim_due_batch(runs_going=len(in_flight))
            if not documents:
                break
            ids = [d.id for d in documents]
            inspections = sorted({d.inspection_id for d in documents})
            in_flight.add(pool.submit(self.run_batch, ids, token, inspections))

    def _reclaim_when_reachable(self) -> None:
        while not self.stopping.is_set():
            try:
                self.reclaim_own()
                return
            except TransientError as exc:
                log.warning("cannot take back this worker's claims yet (%s); retrying", exc)
                self.stopping.wait(OUTAGE_BACKOFF_SECONDS)

    def run_batch(
        self,
        document_ids: list[str],
        claim_token: str,
        inspection_ids: Sequence[str] | None = None,
    ) -> object:
        """Run one `ingest` flow run (with Prefect's retries) to its end in this thread, on
        the thread's flow loop (Prefect's clients reused), inside a slot of the
        cluster-wide limit when one is configured.

        The run is named after what it carries (`ingest · 32 docs · 2 inspections`) and
        tagged `inspection:<id>` for each inspection of its documents (looked up when not
        given), so the Prefect UI finds one inspection's runs.
        """
        if inspection_ids is None:
            inspection_ids = self.inspections_of(document_ids)
        flow = self.flow.with_options(
            flow_run_name=run_name(len(document_ids), len(set(inspection_ids)))
        )
        limit = self.settings.ingest_concurrency_limit_name
        # A worker killed while holding a slot loses it when the lease ends (Prefect's
        # shortest lease is 60 s).
        lease = max(MIN_SLOT_LEASE_SECONDS, self.settings.processing_lease_seconds)

        async def run() -> object:
            with tags(*inspection_tags(inspection_ids)):
                if limit is None:
                    return await flow(document_ids=document_ids, claim_token=claim_token)
                async with concurrency(limit, occupy=1, lease_duration=lease):
                    return await flow(document_ids=document_ids, claim_token=claim_token)

        return self.flow_loop().run(run())

    def inspections_of(self, document_ids: Sequence[str]) -> list[str]:
        """The inspections the documents with these ids belong to, each once, sorted."""
        found = (self.container.repository.get_document(i) for i in document_ids)
        return sorted({document.inspection_id for document in found if document is not None})


def _wait_any(
    futures: set[Future[object]], timeout: float
) -> tuple[set[Future[object]], set[Future[object]]]:
    done, pending = wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
    return set(done), set(pending)


def _log_failure(future: Future[object]) -> None:
    error = future.exception()
    if error is not None:
        # The flow's documents stay failed with a retry time (or processing, for the
        # reconciler); nothing is lost by logging and carrying on.
        log.warning("ingest run ended in failure: %s", error)
