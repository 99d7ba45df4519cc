"""A bench-only worker that tries two changes to flows/dispatcher.py before anyone makes them.

    .venv/bin/python -m bench.experimental_worker      (instead of `python -m portal.cli worker`)

It is the real Dispatcher, the real `ingest` flow and the real container, with:

1. reused Prefect clients: each dispatcher thread keeps one event loop (asyncio.Runner) and
   one async + one sync Prefect client open across flow runs, and the flow's options are
   applied once. Today every batch runs in a fresh `asyncio.run`, so every flow run builds
   two new Prefect clients, and each client builds an SSL context from the CA bundle
   (~25-30 ms of CPU each here), although the API is plain http on 127.0.0.1;
2. a fair split of the queue: a batch claims at most ceil(waiting / free slots) documents,
   so a burst of uploads is shared by both flow-run slots instead of one run taking up to
   32 documents while the other slot idles.

bench_ingest runs it with `--experimental` (phases cx and c1x); it changes nothing else.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from prefect.context import AsyncClientContext, SyncClientContext
from sqlalchemy import func, or_, select

from flows.dispatcher import RECONCILE_EVERY_SECONDS, Dispatcher, _log_failure, _wait_any
from flows.ingest import ingest, use_container
from portal.adapters.db.tables import DocumentRow
from portal.bootstrap import Container, build, utc_now
from portal.domain.documents import DocumentStatus
from portal.settings import Settings

log = logging.getLogger("jtai")
_local = threading.local()


class ExperimentalDispatcher(Dispatcher):
    def __init__(self, container: Container) -> None:
        super().__init__(container)
        self.flow = ingest.with_options(
            retries=self.settings.flow_retries,
            retry_delay_seconds=self.settings.flow_retry_delay_seconds,
        )

    def run_batch(self, document_ids: list[str], claim_token: str) -> object:
        runner: asyncio.Runner | None = getattr(_local, "runner", None)
        if runner is None:
            runner = asyncio.Runner()
            # Runner.run uses one contextvars.Context for every call, so the client
            # contexts entered here stay current for the thread's later flow runs.
            runner.run(_enter_client_contexts())
            _local.runner = runner
        return runner.run(self.flow(document_ids=document_ids, claim_token=claim_token))

    def waiting(self) -> int:
        now = utc_now()
        with self.container.repository.engine.connect() as connection:
            count = connection.execute(
                select(func.count()).select_from(DocumentRow).where(or_(
                    DocumentRow.status == DocumentStatus.received.value,
                    (DocumentRow.status == DocumentStatus.failed.value)
                    & (DocumentRow.next_attempt_at <= now),
                ))
            ).scalar_one()
        return int(count)

    def claim_fair(self, free_slots: int) -> tuple[str, list[str]]:
        waiting = self.waiting()
        if waiting == 0:
            return "", []
        limit = max(1, min(self.settings.batch_max_documents, math.ceil(waiting / free_slots)))
        token = uuid.uuid4().hex
        documents = self.container.repository.claim_next_batch(
            token, utc_now(), limit, self.settings.batch_max_bytes
        )
        return token, [d.id for d in documents]

    def run_forever(self) -> None:
        in_flight: set[Future[object]] = set()
        concurrency = self.settings.dispatcher_concurrency
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ingest") as pool:
            while not self.stopping.is_set():
                if time.monotonic() - self._last_reconcile > RECONCILE_EVERY_SECONDS:
                    self._last_reconcile = time.monotonic()
                    self.reconcile()
                while len(in_flight) < concurrency:
                    token, ids = self.claim_fair(concurrency - len(in_flight))
                    if not ids:
                        break
                    in_flight.add(pool.submit(self.run_batch, ids, token))
                if in_flight:
                    done, in_flight = _wait_any(in_flight, self.settings.dispatcher_poll_seconds)
                    for future in done:
                        _log_failure(future)
                else:
                    self.wakeup.wait(self.settings.dispatcher_poll_seconds)
                    self.wakeup.clear()
            wait(in_flight)


async def _enter_client_contexts() -> None:
    sync_context: Any = SyncClientContext()
    sync_context.__enter__()
    async_context: Any = AsyncClientContext()
    await async_context.__aenter__()


def main() -> None:
    logging.getLogger("jtai").setLevel(logging.INFO)  # prefect has configured logging
    settings = Settings()
    container = build(settings, run_migrations=False)
    use_container(container)
    dispatcher = ExperimentalDispatcher(container)
    signal.signal(signal.SIGTERM, lambda *_: dispatcher.stop())
    log.info("ingest dispatcher running (concurrency %d, experimental)",
             settings.dispatcher_concurrency)
    try:
        dispatcher.run_forever()
    except KeyboardInterrupt:
        dispatcher.stop()


if __name__ == "__main__":
    main()
