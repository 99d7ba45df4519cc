"""The worker builds Prefect's clients once per dispatcher thread, not once per flow run:
each client loads the CA bundle into a TLS context of its own (~25-30 ms of CPU), which a
burst of batches paid for every run. Asked of the real Prefect server the tests start."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from prefect.client.orchestration import PrefectClient, SyncPrefectClient, get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.exceptions import ObjectNotFound

from flows.dispatcher import Dispatcher
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture
def constructions(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many Prefect clients of each kind the dispatcher's threads construct."""
    counted: Counter[str] = Counter()
    for kind in (PrefectClient, SyncPrefectClient):
        original = kind.__init__

        def counting(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> None:
            if threading.current_thread().name.startswith("ingest"):
                counted[type(self).__name__] += 1
            _original(self, *args, **kwargs)

        monkeypatch.setattr(kind, "__init__", counting)
    return counted


def _worker(settings: Settings) -> Iterator[tuple[PortalUnderTest, Dispatcher]]:
    container = build_portal(settings)
    dispatcher = Dispatcher(container)
    portal = start_portal(container)
    thread = threading.Thread(target=dispatcher.run_forever, daemon=True)
    thread.start()
    yield portal, dispatcher
    dispatcher.stop()
    thread.join(timeout=60)
    assert not thread.is_alive()


@pytest.fixture
def one_slot_worker(
    settings: Settings, running_clamd: ClamdProcess
) -> Iterator[tuple[PortalUnderTest, Dispatcher]]:
    yield from _worker(settings.model_copy(update={"dispatcher_concurrency": 1}))


def test_a_worker_builds_its_prefect_clients_once_for_many_flow_runs(
    one_slot_worker: tuple[PortalUnderTest, Dispatcher], constructions: Counter[str]
) -> None:
    portal, _dispatcher = one_slot_worker
    for n in range(3):  # one batch after another: each waits for the last to end
        document_id = portal.upload(f"d{n}.pdf", samples.pdf_text_pages(n + 1)).json()["id"]
        assert portal.wait_final(document_id)["status"] == "accepted"

    assert constructions == Counter({"PrefectClient": 1, "SyncPrefectClient": 1})


async def _limit(name: str, **change: Any) -> Any:
    """The global concurrency limit `name` (made with one slot if missing), after `change`."""
    async with get_client() as client:
        try:
            await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=1)
            )
        if change:
            await client.update_global_concurrency_limit(
                name, GlobalConcurrencyLimitUpdate(**change)
            )
        return await client.read_global_concurrency_limit_by_name(name)


def test_with_a_cluster_limit_a_run_waits_for_a_slot_and_gives_it_back(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    name = "ingest-test-limit"
    asyncio.run(_limit(name, active_slots=1))  # another worker holds the only slot
    worker = _worker(settings.model_copy(update={"ingest_concurrency_limit_name": name}))
    portal, _dispatcher = next(worker)
    try:
        document_id = portal.upload("d.pdf", samples.pdf_text_pages(2)).json()["id"]
        time.sleep(3)
        assert portal.status(document_id)["status"] == "processing"  # claimed, waiting

        asyncio.run(_limit(name, active_slots=0))  # the other worker is done
        assert portal.wait_final(document_id)["status"] == "accepted"
    finally:
        next(worker, None)
    assert asyncio.run(_limit(name)).active_slots == 0


def test_a_dispatcher_closed_between_batches_opens_a_new_loop_for_the_next(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    container = build_portal(settings)
    portal = start_portal(container)
    dispatcher = Dispatcher(container)
    try:
        for n in range(2):
            document_id = portal.upload(f"d{n}.pdf", samples.pdf_text_pages(1)).json()["id"]
            token, ids = dispatcher.claim_batch()
            assert ids == [document_id]
            dispatcher.run_batch(ids, token)
            dispatcher.close()  # its clients and loop closed: the next batch makes its own
            assert portal.status(document_id)["status"] == "accepted"
    finally:
        dispatcher.stop()
        dispatcher.close()
