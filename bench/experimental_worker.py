"""A bench-only worker that tries one change to flows/dispatcher.py before anyone makes it.

    .venv/bin/python -m bench.experimental_worker      (instead of `python -m portal.cli worker`)

It is the real Dispatcher, the real `ingest` flow and the real container, except that
Prefect clients are reused: each dispatcher thread keeps one event loop (asyncio.Runner)
and one async + one sync Prefect client open across flow runs, and the flow's options are
applied once. Today every batch runs in a fresh `asyncio.run`, so every flow run builds two
new Prefect clients (the flow engine's async client, and a sync one to read the server's
default result storage), and each builds an SSL context from the CA bundle (~25-30 ms of
CPU each here) although the API is plain http on 127.0.0.1.

bench_ingest runs it with `--experimental` (phases cx and c1x); it changes nothing else.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Sequence
from typing import Any

from prefect import tags
from prefect.context import AsyncClientContext, SyncClientContext

from flows.dispatcher import Dispatcher
from flows.ingest import ingest, inspection_tags, run_name, use_container
from portal.bootstrap import Container, build
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

    def run_batch(
        self,
        document_ids: list[str],
        claim_token: str,
        inspection_ids: Sequence[str] | None = None,
    ) -> object:
        runner: asyncio.Runner | None = getattr(_local, "runner", None)
        if runner is None:
            runner = asyncio.Runner()
            # Runner.run uses one contextvars.Context for every call, so the client
            # contexts entered here stay current for the thread's later flow runs.
            runner.run(_enter_client_contexts())
            _local.runner = runner
        if inspection_ids is None:
            inspection_ids = self.inspections_of(document_ids)
        # As the real dispatcher: named after what the run carries, tagged per inspection
        # (the name needs with_options per batch; the tags come from the context, entered in
        # the runner's own context, which its calls share).
        flow = self.flow.with_options(
            flow_run_name=run_name(len(document_ids), len(set(inspection_ids)))
        )

        async def run() -> object:
            with tags(*inspection_tags(inspection_ids)):
                return await flow(document_ids=document_ids, claim_token=claim_token)

        return runner.run(run())


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
    log.info(
        "ingest dispatcher running (concurrency %d, experimental)", settings.dispatcher_concurrency
    )
    try:
        dispatcher.run_forever()
    except KeyboardInterrupt:
        dispatcher.stop()


if __name__ == "__main__":
    main()
