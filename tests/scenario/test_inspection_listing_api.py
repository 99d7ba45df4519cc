"""GET /v1/inspections: an administrator finds every inspection again, newest first; everyone
else finds only their own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.adapters.store_fs import FilesystemStore
from portal.app import create_app
from portal.bootstrap import Container
from portal.domain.access import Role
from portal.services.identities import issue_token
from portal.settings import Settings
from tests.factories import TEST_NOW, build_portal, settable_clock


@dataclass
class Api:
    container: Container
    client: TestClient


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    container = build_portal(settings, store=FilesystemStore(tmp_path / "objects"))
    with TestClient(create_app(container)) as client:
        yield Api(container, client)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _create(client: TestClient, admin: str, area: str, fieldwork: str) -> dict[str, Any]:
    response = client.post(
        "/v1/inspections",
        headers=_bearer(admin),
        json={"theme": "domestic-abuse/sept-2024", "area_name": area, "fieldwork_start": fieldwork},
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_an_administrator_lists_every_inspection_newest_first_and_others_only_their_own(
    api: Api,
) -> None:
    container, client = api.container, api.client
    clock = settable_clock(container)
    _p, admin = issue_token(container, Role.admin, label="admin")
    solihull = _create(client, admin, "Solihull", "2027-04-05")
    clock.set(TEST_NOW + timedelta(hours=1))
    walsall = _create(client, admin, "Walsall", "2027-05-10")
    _p, lead = issue_token(
        container, Role.lead_inspector, inspection_id=solihull["id"], label="lead"
    )
    _p, uploader = issue_token(
        container,
        Role.agency_uploader,
        inspection_id=walsall["id"],
        agency="police",
        label="police",
    )
    _p, records = issue_token(container, Role.records_officer, label="records")

    listed = client.get("/v1/inspections", headers=_bearer(admin))

    assert listed.status_code == 200, listed.text
    assert [i["area_name"] for i in listed.json()] == ["Walsall", "Solihull"]
    # Each as GET /v1/inspections/{id} shows it: its days, state and deadlines.
    assert (
        listed.json()[1]
        == client.get(f"/v1/inspections/{solihull['id']}", headers=_bearer(admin)).json()
    )
    assert listed.json()[1]["notification_date"] == solihull["notification_date"]
    assert listed.json()[1]["state"] == "open"
    assert [i["id"] for i in client.get("/v1/inspections", headers=_bearer(lead)).json()] == [
        solihull["id"]
    ]
    assert [i["id"] for i in client.get("/v1/inspections", headers=_bearer(uploader)).json()] == [
        walsall["id"]
    ]
    assert len(client.get("/v1/inspections", headers=_bearer(records)).json()) == 2


def test_the_list_of_inspections_needs_a_token(api: Api) -> None:
    response = api.client.get("/v1/inspections")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
