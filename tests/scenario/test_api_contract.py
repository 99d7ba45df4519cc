"""The API's answers to bad requests: RFC 9457 problem+json with a stable code, nothing kept."""

from __future__ import annotations

from typing import Any

import pytest
from prefect.settings import PREFECT_API_URL

from portal.domain.documents import Area
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal
from tests.scenario.harness import PortalUnderTest, start_portal


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    return start_portal(build_portal(settings))


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= set(body)
    return body


def _quarantine_files(portal: PortalUnderTest) -> list[str]:
    root = portal.container.settings.store_root / Area.quarantine.value
    return [str(p) for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_request_without_a_token_is_401(portal: PortalUnderTest) -> None:
    response = portal.client.get(f"/v1/inspections/{portal.inspection_id}")
    _problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_unknown_token_is_401(portal: PortalUnderTest) -> None:
    response = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}", headers={"Authorization": "Bearer jtai_nope"}
    )
    _problem(response, 401, "invalid_token")


def test_an_item_not_on_the_checklist_is_422_and_nothing_is_kept(portal: PortalUnderTest) -> None:
    body = _problem(
        portal.upload("a.pdf", samples.pdf_text_pages(1), item="9.9"), 422, "unknown_item"
    )
    assert "9.9" in body["detail"]
    assert _quarantine_files(portal) == []


def test_another_agencys_item_is_422_not_for_agency(portal: PortalUnderTest) -> None:
    _problem(portal.upload("a.pdf", samples.pdf_text_pages(1), item="3.1"), 422, "not_for_agency")
    assert _quarantine_files(portal) == []


def test_a_malformed_item_number_is_422_naming_the_field(portal: PortalUnderTest) -> None:
    body = _problem(
        portal.upload("a.pdf", samples.pdf_text_pages(1), item="one"), 422, "invalid_request"
    )
    assert body["errors"][0]["field"] == "item"
    assert _quarantine_files(portal) == []


def test_a_form_without_a_file_is_400(portal: PortalUnderTest) -> None:
    response = portal.client.post(
        f"/v1/inspections/{portal.inspection_id}/documents",
        headers=portal.auth("local_authority"),
        data={"item": "1.1"},
        files={"note": (None, "no file here")},
    )
    body = _problem(response, 400, "malformed_upload")
    assert "file" in body["detail"]
    assert _quarantine_files(portal) == []


def test_a_body_that_is_not_a_form_is_415(portal: PortalUnderTest) -> None:
    response = portal.client.post(
        f"/v1/inspections/{portal.inspection_id}/documents",
        headers={**portal.auth("local_authority"), "Content-Type": "application/pdf"},
        content=samples.pdf_text_pages(1),
    )
    _problem(response, 415, "not_multipart")


def test_a_declared_size_over_the_limit_is_413_before_reading(portal: PortalUnderTest) -> None:
    response = portal.client.post(
        f"/v1/inspections/{portal.inspection_id}/documents",
        headers={
            **portal.auth("local_authority"),
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(10**12),
        },
        content=b"--x--\r\n",
    )
    _problem(response, 413, "too_large")


def test_inspection_staff_cannot_upload(portal: PortalUnderTest) -> None:
    _problem(
        portal.upload("a.pdf", samples.pdf_text_pages(1), who="lead_inspector"), 403, "forbidden"
    )


def test_an_agency_cannot_see_another_agencys_document(portal: PortalUnderTest) -> None:
    document_id = portal.upload("a.pdf", samples.pdf_text_pages(1)).json()["id"]
    response = portal.client.get(f"/v1/documents/{document_id}", headers=portal.auth("health"))
    _problem(response, 404, "document_not_found")


def test_an_uploader_cannot_read_document_content(portal: PortalUnderTest) -> None:
    document_id = portal.upload("a.pdf", samples.pdf_text_pages(1)).json()["id"]
    response = portal.client.get(
        f"/v1/documents/{document_id}/content", headers=portal.auth("local_authority")
    )
    assert response.status_code in (403, 409)
    assert response.headers["content-type"].startswith("application/problem+json")


def test_an_unknown_theme_is_422_listing_the_known_ones(portal: PortalUnderTest) -> None:
    response = portal.client.post(
        "/v1/inspections", headers=portal.auth("admin"), json={"theme": "nope/v1", "area_name": "X"}
    )
    body = _problem(response, 422, "unknown_theme")
    assert "domestic-abuse/sept-2024" in body["detail"]


def test_an_unknown_route_is_a_problem_too(portal: PortalUnderTest) -> None:
    _problem(portal.client.get("/v1/nothing-here"), 404, "not_found")


def test_readyz_names_the_dependency_that_does_not_answer(
    portal: PortalUnderTest,
    clamd: ClamdProcess,
) -> None:
    clamd.stop()
    try:
        body = _problem(portal.client.get("/readyz"), 503, "not_ready")
    finally:
        clamd.start()
    assert body["checks"]["clamd"]["ok"] is False
    assert body["checks"]["store"]["ok"] is True
    assert body["checks"]["database"]["ok"] is True
    assert "clamd" in body["detail"]


@pytest.mark.usefixtures("prefect_server")
def test_readyz_answers_200_when_clamd_store_database_and_prefect_answer(
    settings: Settings,
    running_clamd: ClamdProcess,
) -> None:
    ready_settings = settings.model_copy(update={"prefect_api_url": PREFECT_API_URL.value()})
    portal = start_portal(build_portal(ready_settings))
    response = portal.client.get("/readyz")
    assert response.status_code == 200, response.text
    assert all(check["ok"] for check in response.json()["checks"].values())
    # Degraded, not ready: the tests' clamd runs the local test signatures only
    # (tests/scenario/test_signature_versions.py: ready with fresh official ones).
    assert response.json()["status"] == "degraded"
    assert portal.client.get("/healthz").json() == {"status": "ok"}


def test_a_closed_inspection_takes_no_uploads(portal: PortalUnderTest) -> None:
    response = portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/state",
        headers=portal.auth("lead_inspector"),
        json={"state": "closed", "reason": "fieldwork finished"},
    )
    assert response.status_code == 200 and response.json()["state"] == "closed"
    _problem(portal.upload("a.pdf", samples.pdf_text_pages(1)), 409, "inspection_not_open")
