"""The worker's Prefect clients try again soon after the server says it lost a write race.

Prefect's server on SQLite (`jtai-portal up`'s) answers 503, without Retry-After, when a
transaction that read before another connection wrote then tries to write itself (SQLite's
SQLITE_BUSY_SNAPSHOT: its busy_timeout does not wait for that). The race lasts
milliseconds, but Prefect's client, given no Retry-After, waits 2 s, then 4, 8, 16 and 32
before trying again. Measured in a burst (BENCHMARKS.md, issue 18): one flow run's
`create_flow_run` lost twice and that batch's verdicts came 6-7 s late, the burst's p95.

Each 503 without Retry-After that reaches the worker's clients is given one:
`RETRY_AFTER_SERVER_BUSY` seconds by how many the request has met (the client adds its
jitter). The first retry comes after a quarter of a second; the waits together are at
least Prefect's own (0.25+1+4+16+64+64 s against 2+4+8+16+32+64), so a server that stays
busy is still given up on no sooner than before. Everything else (429 with its own Retry-After,
a server under maintenance, one that cannot be reached) keeps Prefect's handling.
"""

from __future__ import annotations

import httpx
from prefect.client.orchestration import PrefectClient, SyncPrefectClient

RETRY_AFTER_SERVER_BUSY: tuple[float, ...] = (0.25, 1.0, 4.0, 16.0, 64.0)
_SEEN = "jtai_busy_answers"  # on the request: 503s without Retry-After it has met


def retry_after_for(busy_answers_before: int) -> float:
    """The Retry-After given to the request's next 503 when it has met
    `busy_answers_before` of them already."""
    return RETRY_AFTER_SERVER_BUSY[min(busy_answers_before, len(RETRY_AFTER_SERVER_BUSY) - 1)]


def _mark(response: httpx.Response) -> None:
    if response.status_code != 503 or "Retry-After" in response.headers:
        return
    if response.headers.get("Prefect-Maintenance") == "true":
        return  # Prefect retries these without counting them, at its own pace
    request = response.request
    seen = int(request.extensions.get(_SEEN, 0))
    request.extensions[_SEEN] = seen + 1
    response.headers["Retry-After"] = str(retry_after_for(seen))


async def _mark_async(response: httpx.Response) -> None:
    _mark(response)


def retry_sooner_when_busy(client: PrefectClient | SyncPrefectClient) -> None:
    """Make `client` retry a 503 without Retry-After after `RETRY_AFTER_SERVER_BUSY`'s
    delays instead of Prefect's 2, 4, 8, 16, 32 s. Idempotent."""
    http = client._client  # Prefect's httpx client under its API client (pinned: 3.8.8)
    hooks = http.event_hooks
    mark = _mark_async if isinstance(client, PrefectClient) else _mark
    if mark not in hooks["response"]:
        hooks["response"] = [*hooks["response"], mark]
        http.event_hooks = hooks
