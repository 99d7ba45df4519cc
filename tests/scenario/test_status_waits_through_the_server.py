"""Waiting status calls hold no thread, through the real API process: 60 calls waiting for
verdicts at once (more than anyio's 40 worker threads) do not stop another route from
answering while they wait."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import func, select

from portal.adapters.db.tables import AuditEventRow
from portal.domain.access import Role
from portal.domain.documents import Area, DocumentStatus
from portal.services.identities import issue_token
from portal.settings import Settings
from tests.api_process import api_process
from tests.conftest import ClamdProcess
from tests.factories import add_document, add_inspection, build_beside_processes

WAITS = 60
WAIT_SECONDS = 20
# A step that takes this long has hung (the waits end after WAIT_SECONDS on their own).
HUNG_SECONDS = 90


def test_sixty_waiting_status_calls_do_not_stop_another_route_from_answering(
    settings: Settings, running_clamd: ClamdProcess, tmp_path: Path
) -> None:
    container = build_beside_processes(settings)
    inspection = add_inspection(container)
    waiting = add_document(
        container,
        inspection,
        agency="police",
        status=DocumentStatus.received,
        area=Area.quarantine,
        decided_at=None,
    )
    # Another agency's document: each call's first look audits it as hidden, which tells
    # the test that the call has looked once and is now waiting.
    hidden = add_document(container, inspection, agency="local_authority")
    _p, uploader = issue_token(
        container, Role.agency_uploader, inspection_id=inspection, agency="police"
    )
    _p, inspector = issue_token(container, Role.inspector, inspection_id=inspection)

    def first_looks() -> int:
        with container.identities._session() as session:  # type: ignore[attr-defined]
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(AuditEventRow)
                    .where(AuditEventRow.action == "access_denied")
                )
                or 0
            )

    async def scenario(url: str) -> None:
        limits = httpx.Limits(max_connections=WAITS + 10, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=HUNG_SECONDS) as client:
            waits = [
                asyncio.create_task(
                    client.post(
                        "/v1/documents/status",
                        headers={"Authorization": f"Bearer {uploader}"},
                        json={"ids": [waiting.id, hidden.id], "wait_seconds": WAIT_SECONDS},
                    )
                )
                for _ in range(WAITS)
            ]
            async with asyncio.timeout(HUNG_SECONDS):
                while first_looks() < WAITS:
                    assert not any(w.done() for w in waits), [
                        w.result().text for w in waits if w.done()
                    ][:1]
                    await asyncio.sleep(0.1)
                me = await client.get("/v1/me", headers={"Authorization": f"Bearer {inspector}"})
                assert me.status_code == 200, me.text
                assert not any(w.done() for w in waits), "a wait ended before its time"
                answers = await asyncio.gather(*waits)
        for answer in answers:
            assert answer.status_code == 200, answer.text
            assert (answer.json()["pending"], answer.json()["unknown"]) == (
                [waiting.id],
                [hidden.id],
            )

    with api_process(settings, tmp_path / "api.log", JTAI_STATUS_WAIT_POLL_SECONDS="0.25") as url:
        asyncio.run(scenario(url))
