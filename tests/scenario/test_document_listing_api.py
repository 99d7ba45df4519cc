"""GET /v1/inspections/{id}/documents: the inspection's documents with their status, for the
people who may see its documents, page by page; a health record says where and when it
can be read instead of being readable from anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.adapters.store_fs import FilesystemStore
from portal.app import create_app
from portal.bootstrap import Container
from portal.domain.access import Role
from portal.domain.documents import Area, DocumentStatus
from portal.domain.reasons import ReasonCode
from portal.domain.timeline import LONDON
from portal.services.identities import issue_token
from portal.settings import Settings
from tests import samples
from tests.factories import T0, add_document, add_inspection, build_portal, settable_clock


@dataclass
class Api:
    container: Container
    client: TestClient
    tokens: dict[str, str]
    inspection_id: str
    other_inspection_id: str

    def get(self, who: str, inspection_id: str | None = None, **query: Any) -> Any:
        return self.client.get(
            f"/v1/inspections/{inspection_id or self.inspection_id}/documents",
            params=query,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
        )

    def listed(self, who: str, **query: Any) -> list[dict[str, Any]]:
        response = self.get(who, **query)
        assert response.status_code == 200, response.text
        documents: list[dict[str, Any]] = response.json()["documents"]
        return documents


FIELDWORK_START = date(2026, 12, 7)  # a Monday, a week after TEST_NOW


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    container = build_portal(settings, store=FilesystemStore(tmp_path / "objects"))
    inspection_id = add_inspection(container, fieldwork_start=FIELDWORK_START)
    other = add_inspection(container, area_name="Elsewhere")
    tokens: dict[str, str] = {}
    for who, role, scope, agency in (
        ("admin", Role.admin, None, None),
        ("inspector", Role.inspector, inspection_id, None),
        ("records", Role.records_officer, None, None),
        ("uploader", Role.agency_uploader, inspection_id, "local_authority"),
        ("other_inspector", Role.inspector, other, None),
    ):
        _p, tokens[who] = issue_token(
            container, role, inspection_id=scope, agency=agency, label=who
        )
    with TestClient(create_app(container)) as client:
        yield Api(container, client, tokens, inspection_id, other)


def _at(minutes: int) -> dict[str, Any]:
    moment = T0 + timedelta(minutes=minutes)
    return {"received_at": moment, "updated_at": moment, "decided_at": moment}


def test_lists_every_document_of_the_inspection_oldest_first_with_its_status(api: Api) -> None:
    accepted = add_document(api.container, api.inspection_id, item="1.1", **_at(1))
    rejected = add_document(
        api.container,
        api.inspection_id,
        agency="police",
        item="1.1",
        status=DocumentStatus.rejected,
        area=Area.quarantine,
        reasons=(ReasonCode.infected,),
        **_at(2),
    )
    add_document(api.container, api.other_inspection_id, **_at(0))

    listed = api.listed("inspector")

    assert [d["id"] for d in listed] == [accepted.id, rejected.id]
    first, second = listed
    assert first["item"] == "1.1"
    assert first["title"] == "Local authority organisational structures"
    assert first["agency"] == "local_authority"
    assert first["status"] == "accepted"
    assert first["health_record"] is False
    assert first["viewing"]["readable_now"] is True
    assert first["viewing"]["rule"] == "inspector_of_inspection"
    assert second["status"] == "rejected"
    assert second["reasons"][0]["code"] == "infected"
    assert second["viewing"] == {
        "on_site_only": False,
        "readable_now": False,
        "rule": "not_accepted",
        "where_and_when": None,
        "window_start": None,
        "window_end": None,
    }


def test_filters_by_status(api: Api) -> None:
    accepted = add_document(api.container, api.inspection_id, **_at(1))
    add_document(
        api.container,
        api.inspection_id,
        status=DocumentStatus.rejected,
        area=Area.quarantine,
        **_at(2),
    )
    assert [d["id"] for d in api.listed("inspector", status="accepted")] == [accepted.id]


def test_pages_follow_the_cursor_until_there_is_none(api: Api) -> None:
    ids = [add_document(api.container, api.inspection_id, **_at(n)).id for n in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query: dict[str, Any] = {"limit": 2}
        if cursor:
            query["cursor"] = cursor
        response = api.get("inspector", **query)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [d["id"] for d in body["documents"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    assert pages == 3


def test_a_cursor_of_another_inspection_is_refused(api: Api) -> None:
    elsewhere = add_document(api.container, api.other_inspection_id)
    response = api.get("inspector", cursor=elsewhere.id)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


def test_an_agency_uploader_sees_only_its_own_agencys_documents_and_cannot_read_them(
    api: Api,
) -> None:
    own = add_document(api.container, api.inspection_id, agency="local_authority", **_at(1))
    police = add_document(api.container, api.inspection_id, agency="police", **_at(2))

    listed = api.listed("uploader")

    assert [d["id"] for d in listed] == [own.id]
    assert listed[0]["viewing"]["readable_now"] is False
    assert listed[0]["viewing"]["rule"] == "not_an_inspector_of_this_inspection"
    assert api.get("uploader", cursor=police.id).status_code == 400


def test_a_records_officer_sees_the_documents_but_cannot_read_them(api: Api) -> None:
    add_document(api.container, api.inspection_id)
    (entry,) = api.listed("records")
    assert entry["viewing"]["readable_now"] is False


def test_another_inspections_inspector_is_refused(api: Api) -> None:
    response = api.get("other_inspector")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def _during_fieldwork(api: Api) -> datetime:
    """Stand on the Tuesday of the inspection's fieldwork: health records open only
    during fieldwork."""
    moment = datetime.combine(FIELDWORK_START + timedelta(days=1), time(10), LONDON)
    settable_clock(api.container).set(moment)
    return moment


def test_a_health_record_says_where_and_when_it_can_be_read(api: Api) -> None:
    now = _during_fieldwork(api)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    api.container.repository.set_onsite(
        api.inspection_id, ["10.20.30.0/24"], start, end, "test", now
    )
    record = add_document(
        api.container,
        api.inspection_id,
        agency="health",
        item="case_record",
        child_id="C001",
        area=Area.onsite,
        file_type="pdf",
        content=samples.pdf_text_pages(1),
    )

    off_site = TestClient(create_app(api.container), client=("198.51.100.7", 50000))
    response = off_site.get(
        f"/v1/inspections/{api.inspection_id}/documents",
        headers={"Authorization": f"Bearer {api.tokens['inspector']}"},
    )
    assert response.status_code == 200, response.text
    (entry,) = response.json()["documents"]

    assert entry["id"] == record.id
    assert entry["title"] == "Case records of child C001"
    assert entry["health_record"] is True
    viewing = entry["viewing"]
    assert viewing["on_site_only"] is True
    assert viewing["readable_now"] is False
    assert viewing["rule"] == "off_site"
    assert "only on site" in viewing["where_and_when"]
    assert datetime.fromisoformat(viewing["window_start"]) == start.astimezone(UTC)
    assert datetime.fromisoformat(viewing["window_end"]) == end.astimezone(UTC)


def test_a_health_record_is_readable_on_site_during_fieldwork(api: Api) -> None:
    now = _during_fieldwork(api)
    api.container.repository.set_onsite(
        api.inspection_id,
        ["10.20.30.0/24"],
        now - timedelta(hours=1),
        now + timedelta(hours=1),
        "test",
        now,
    )
    add_document(
        api.container, api.inspection_id, agency="health", area=Area.onsite, file_type="pdf"
    )
    on_site = TestClient(create_app(api.container), client=("10.20.30.40", 50000))
    response = on_site.get(
        f"/v1/inspections/{api.inspection_id}/documents",
        headers={"Authorization": f"Bearer {api.tokens['inspector']}"},
    )
    assert response.status_code == 200, response.text
    (entry,) = response.json()["documents"]
    assert entry["viewing"]["readable_now"] is True
    assert entry["viewing"]["rule"] == "on_site_during_fieldwork"
