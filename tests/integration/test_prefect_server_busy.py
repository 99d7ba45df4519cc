"""The worker's Prefect clients retry a 503 without Retry-After (Prefect's SQLite server
losing a write race) after a quarter of a second, not Prefect's 2 s, and keep Prefect's
handling of every other answer. The clients are Prefect's own, over an httpx transport
that answers as the server does; the flow loop's are checked against the real server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from prefect.client import base as prefect_client_base
from prefect.client.orchestration import PrefectClient, SyncPrefectClient, get_client
from prefect.exceptions import PrefectHTTPStatusError

from flows.dispatcher import FlowLoop
from flows.server_busy import RETRY_AFTER_SERVER_BUSY, retry_sooner_when_busy

Answer = Callable[[int], httpx.Response]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The delays Prefect's client waits before each retry (not slept)."""
    waited: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(prefect_client_base.anyio, "sleep", no_sleep)
    monkeypatch.setattr(prefect_client_base.time, "sleep", waited.append)
    yield waited


def _transport(answers: list[httpx.Response]) -> tuple[httpx.MockTransport, list[int]]:
    asked: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(1)
        return answers[len(asked) - 1]

    return httpx.MockTransport(handler), asked


def _busy(**headers: str) -> httpx.Response:
    return httpx.Response(503, headers=headers, json={"exception_message": "Service Unavailable"})


def _ok() -> httpx.Response:
    return httpx.Response(200, json={})


def _async_get(answers: list[httpx.Response]) -> tuple[httpx.Response, list[int]]:
    transport, asked = _transport(answers)

    async def ask() -> httpx.Response:
        client = PrefectClient("http://prefect.test/api", httpx_settings={"transport": transport})
        retry_sooner_when_busy(client)
        async with client:
            return await client._client.get("/hello")

    return asyncio.run(ask()), asked


def test_a_lost_write_race_is_retried_after_a_quarter_second_then_longer(
    waits: list[float],
) -> None:
    response, asked = _async_get([_busy(), _busy(), _ok()])
    assert response.status_code == 200 and len(asked) == 3
    first, second = waits
    assert RETRY_AFTER_SERVER_BUSY[0] <= first <= RETRY_AFTER_SERVER_BUSY[0] * 1.5
    assert RETRY_AFTER_SERVER_BUSY[1] <= second <= RETRY_AFTER_SERVER_BUSY[1] * 1.5


def test_a_busy_server_is_still_given_up_on_no_sooner_than_prefect_would(
    waits: list[float],
) -> None:
    with pytest.raises(PrefectHTTPStatusError, match="503"):
        _async_get([_busy() for _ in range(6)])  # five retries, then given up
    assert len(waits) == 6  # Prefect's client waits after its last try too
    assert sum(waits) >= sum(2**n for n in range(1, 7))  # Prefect's own: 2+4+...+64 s


def test_a_server_under_maintenance_keeps_prefects_own_pace(waits: list[float]) -> None:
    maintenance = {"Prefect-Maintenance": "true"}
    response, asked = _async_get([_busy(**maintenance), _busy(**maintenance), _ok()])
    assert response.status_code == 200 and len(asked) == 3
    assert len(waits) == 2
    assert all(wait > 0.5 for wait in waits)  # Prefect's ~1 s, not shortened to 0.25 s


def test_a_retry_after_the_server_gives_is_kept(waits: list[float]) -> None:
    response, _ = _async_get([_busy(**{"Retry-After": "3"}), _ok()])
    assert response.status_code == 200
    assert 3 <= waits[0] <= 3 * 1.5


def test_the_sync_client_retries_as_soon(waits: list[float]) -> None:
    transport, asked = _transport([_busy(), _ok()])
    with SyncPrefectClient(
        "http://prefect.test/api", httpx_settings={"transport": transport}
    ) as client:
        retry_sooner_when_busy(client)
        retry_sooner_when_busy(client)  # once is enough: the hook is not doubled
        assert client._client.get("/hello").status_code == 200
    assert len(asked) == 2
    assert RETRY_AFTER_SERVER_BUSY[0] <= waits[0] <= RETRY_AFTER_SERVER_BUSY[0] * 1.5


@pytest.mark.usefixtures("prefect_server")
def test_the_flow_loops_clients_retry_sooner() -> None:
    loop = FlowLoop()
    try:

        async def hooks() -> tuple[list[Any], list[Any]]:
            return (
                list(get_client()._client.event_hooks["response"]),
                list(get_client(sync_client=True)._client.event_hooks["response"]),
            )

        async_hooks, sync_hooks = loop.run(hooks())
    finally:
        loop.close()
    assert [hook.__name__ for hook in async_hooks] == ["_mark_async"]
    assert [hook.__name__ for hook in sync_hooks] == ["_mark"]
