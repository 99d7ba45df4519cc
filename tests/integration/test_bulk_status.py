"""The status of many documents in one call, through the real app on SQLite and PostgreSQL:
who sees which documents, the refusals, the rate limit, and the long-poll answering once
every document is final (driven while the call waits) or when the portal's clock says
the wait is over."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from portal.adapters.db.engine import make_engine
from portal.adapters.db.tables import AuditEventRow, Base
from portal.adapters.store_memory import MemoryStore
from portal.app import create_app
from portal.bootstrap import Container
from portal.domain.access import Role
from portal.domain.documents import Area, Document, DocumentStatus
from portal.services.identities import issue_token
from portal.settings import Settings
from tests.factories import add_document, add_inspection, build_portal, settable_clock

URL = "/v1/documents/status"
# A call that is not answered within this long has hung: far beyond any look or sleep here
# (the waits asked are 30 s, ended by the test's clock or documents long before).
HUNG_SECONDS = 20


def _drop_everything(engine: Engine) -> None:
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


@dataclass
class World:
    container: Container
    app: FastAPI
    inspection: str
    other_inspection: str
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def document(self, inspection: str | None = None, **changes: Any) -> Document:
        return add_document(self.container, inspection or self.inspection, **changes)

    def finish(self, document: Document, status: DocumentStatus) -> None:
        """The pipeline's last step for this document: claimed, then its verdict recorded."""
        now = self.container.clock.now()
        repository = self.container.repository
        assert repository.claim_documents([document.id], "claim-test", now)
        assert repository.record_outcome(
            document.id, "claim-test", now, status=status, area=Area.clean
        )


def _world(tmp_path: Path, database: str, request: pytest.FixtureRequest, **settings: Any) -> World:
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        _drop_everything(make_engine(url))  # the run's database may hold another test's rows
    container = build_portal(
        Settings(
            data_dir=tmp_path / "data",
            database_url=url,
            status_wait_poll_seconds=0.05,
            _env_file=None,  # type: ignore[call-arg]
            **settings,
        ),
        store=MemoryStore(),
    )
    inspection = add_inspection(container)
    other_inspection = add_inspection(container)
    tokens = {
        "police": issue_token(
            container, Role.agency_uploader, inspection_id=inspection, agency="police"
        )[1],
        "local_authority": issue_token(
            container, Role.agency_uploader, inspection_id=inspection, agency="local_authority"
        )[1],
        "lead": issue_token(container, Role.lead_inspector, inspection_id=inspection)[1],
        "admin": issue_token(container, Role.admin)[1],
    }
    return World(container, create_app(container), inspection, other_inspection, tokens)


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    built = _world(tmp_path, request.param, request)
    try:
        yield built
    finally:
        engine = built.container.repository.engine
        if request.param == "postgresql":
            _drop_everything(engine)
        engine.dispose()


def _post(world: World, who: str, body: dict[str, Any]) -> httpx.Response:
    with TestClient(world.app) as client:
        return client.post(URL, headers=world.headers(who), json=body)


def _denials(container: Container) -> list[AuditEventRow]:
    with container.identities._session() as session:  # type: ignore[attr-defined]
        return list(
            session.scalars(
                select(AuditEventRow).where(AuditEventRow.action == "access_denied")
            ).all()
        )


def test_every_asked_document_is_answered_in_one_call_as_its_own_status_shows_it(
    world: World,
) -> None:
    accepted = world.document(agency="police")
    waiting = world.document(
        agency="police", status=DocumentStatus.received, area=Area.quarantine, decided_at=None
    )
    answer = _post(world, "police", {"ids": [waiting.id, accepted.id]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [d["id"] for d in body["documents"]] == [waiting.id, accepted.id]
    assert (body["pending"], body["unknown"]) == ([waiting.id], [])
    with TestClient(world.app) as client:
        one = client.get(f"/v1/documents/{accepted.id}", headers=world.headers("police")).json()
    assert body["documents"][1] == one


def test_an_agency_is_told_nothing_of_another_agencys_or_inspections_documents(
    world: World,
) -> None:
    own = world.document(agency="police")
    other_agency = world.document(agency="local_authority")
    other_inspection = world.document(world.other_inspection, agency="police")
    never = uuid.uuid4().hex
    asked = [other_agency.id, own.id, never, other_inspection.id]
    body = _post(world, "police", {"ids": asked}).json()
    assert [d["id"] for d in body["documents"]] == [own.id]
    # Unknown and hidden ids come back together, in the order asked: nothing tells them apart.
    assert body["unknown"] == [other_agency.id, never, other_inspection.id]
    # The hidden documents that exist are audited as refusals, once per inspection.
    denied = sorted((e.inspection_id, e.detail["documents"]) for e in _denials(world.container))
    assert denied == sorted([(world.inspection, "1"), (world.other_inspection, "1")])


def test_the_lead_inspector_sees_every_agency_of_their_inspection_and_no_other(
    world: World,
) -> None:
    police = world.document(agency="police")
    local = world.document(agency="local_authority")
    elsewhere = world.document(world.other_inspection)
    body = _post(world, "lead", {"ids": [police.id, local.id, elsewhere.id]}).json()
    assert [d["id"] for d in body["documents"]] == [police.id, local.id]
    assert body["unknown"] == [elsewhere.id]
    admin = _post(world, "admin", {"ids": [police.id, elsewhere.id]}).json()
    assert [d["id"] for d in admin["documents"]] == [police.id, elsewhere.id]


def test_five_hundred_and_one_ids_are_refused_saying_the_limit(world: World) -> None:
    answer = _post(world, "police", {"ids": [uuid.uuid4().hex for _ in range(501)]})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert (answer.json()["code"], answer.json()["limit"]) == ("too_many_ids", 500)


@pytest.mark.parametrize(
    ("body", "code"),
    [({"ids": []}, "no_ids"), ({"ids": ["../../x"]}, "malformed_ids")],
    ids=["empty", "malformed"],
)
def test_no_ids_or_ids_that_are_not_documents_are_refused(
    world: World, body: dict[str, Any], code: str
) -> None:
    answer = _post(world, "police", body)
    assert (answer.status_code, answer.json()["code"]) == (400, code), answer.text


def test_a_wait_longer_than_thirty_seconds_is_refused(world: World) -> None:
    answer = _post(world, "police", {"ids": [uuid.uuid4().hex], "wait_seconds": 31})
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_request")


def _wait_in_background(
    world: World, who: str, body: dict[str, Any], while_waiting: Any
) -> httpx.Response:
    """POST the status call and, once it has looked at its documents once, do
    `while_waiting` (on the test's side); the call's answer."""
    looks: list[int] = []
    repository = world.container.repository
    original = repository.get_documents

    def counted(ids: Any) -> list[Document]:
        looks.append(len(ids))
        return original(ids)

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=world.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            with anyio.fail_after(HUNG_SECONDS):
                async with anyio.create_task_group() as group:
                    answers: list[httpx.Response] = []

                    async def call() -> None:
                        answer = await client.post(URL, headers=world.headers(who), json=body)
                        answers.append(answer)

                    group.start_soon(call)
                    while not looks:
                        await anyio.sleep(0.01)
                    await anyio.to_thread.run_sync(while_waiting)
                return answers[0]

    setattr(repository, "get_documents", counted)  # noqa: B010
    try:
        return anyio.run(run)
    finally:
        delattr(repository, "get_documents")


def test_a_waiting_call_answers_as_soon_as_every_document_is_final(world: World) -> None:
    first = world.document(
        agency="police", status=DocumentStatus.received, area=Area.quarantine, decided_at=None
    )
    second = world.document(
        agency="police", status=DocumentStatus.received, area=Area.quarantine, decided_at=None
    )

    def verdicts() -> None:
        world.finish(first, DocumentStatus.accepted)
        world.finish(second, DocumentStatus.rejected)

    # The test's clock stands still: only the verdicts can end this wait before 30 s.
    answer = _wait_in_background(
        world, "police", {"ids": [first.id, second.id], "wait_seconds": 30}, verdicts
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["pending"] == []
    assert [(d["id"], d["status"], d["final"]) for d in body["documents"]] == [
        (first.id, "accepted", True),
        (second.id, "rejected", True),
    ]


def test_a_waiting_call_answers_when_its_wait_ends_with_what_is_still_pending(
    world: World,
) -> None:
    done = world.document(agency="police")
    waiting = world.document(
        agency="police", status=DocumentStatus.processing, area=Area.quarantine, decided_at=None
    )
    clock = settable_clock(world.container)
    answer = _wait_in_background(
        world,
        "police",
        {"ids": [done.id, waiting.id], "wait_seconds": 30},
        lambda: clock.advance(timedelta(seconds=31)),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["pending"] == [waiting.id]
    assert [d["status"] for d in answer.json()["documents"]] == ["accepted", "processing"]


def test_a_bulk_call_costs_one_request_of_the_rate_limit_however_many_ids(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    world = _world(tmp_path, "sqlite", request, rate_limit="3/minute")
    ids = [world.document(agency="police").id for _ in range(300)]
    with TestClient(world.app) as client:
        codes = [
            client.post(URL, headers=world.headers("police"), json={"ids": ids}).status_code
            for _ in range(4)
        ]
    assert codes == [200, 200, 200, 429]
    world.container.repository.engine.dispose()
