"""Health records are stored only on site and shown only to the inspection's inspectors,
from a registered on-site network, during fieldwork, watermarked; every attempt audited."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pikepdf
import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.domain.documents import Area
from portal.domain.timeline import LONDON
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal, settable_clock
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")

ON_SITE = "10.20.30.40"
OFF_SITE = "198.51.100.7"
PROXY = "10.99.0.1"
CHILD = "SYV-001"
DURING_FIELDWORK = datetime(2026, 12, 9, 10, 0, tzinfo=LONDON)


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    container = build_portal(settings.model_copy(update={"trusted_proxies": ("10.99.0.0/16",)}))
    # Domestic abuse: its health agency uploads case records (serious youth violence's
    # are seen on site, not uploaded: tests/scenario/test_records_seen_on_site.py).
    portal = start_portal(container, theme="domestic-abuse/sept-2024")
    # Health records open only during fieldwork (Monday 7 to Friday 11 December 2026):
    # every test stands on its Wednesday, and registers windows around that moment.
    settable_clock(container).set(DURING_FIELDWORK)
    lead = portal.auth("lead_inspector")
    base = f"/v1/inspections/{portal.inspection_id}"
    children = [f"SYV-{n:03d}" for n in range(1, 21)]
    portal.accept_list(children)
    assert (
        portal.client.post(
            base + "/selections", headers=lead, json={"stage": "shortlist", "child_ids": children}
        ).status_code
        == 200
    )
    assert (
        portal.client.post(
            base + "/selections", headers=lead, json={"stage": "audit", "child_ids": children[:6]}
        ).status_code
        == 200
    )
    return portal


def _register(portal: PortalUnderTest, start: datetime, end: datetime) -> None:
    response = portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/onsite",
        headers=portal.auth("lead_inspector"),
        json={
            "networks": ["10.20.30.0/24"],
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
        },
    )
    assert response.status_code == 204, response.text


def _client(portal: PortalUnderTest, address: str) -> TestClient:
    return TestClient(create_app(portal.container), client=(address, 50000))


def _health_record(portal: PortalUnderTest) -> str:
    response = portal.upload(
        "record.pdf", samples.pdf_text_pages(3), item="case_record", who="health", child_id=CHILD
    )
    assert response.status_code == 202, response.text
    document_id: str = response.json()["id"]
    portal.process_pending()
    assert portal.status(document_id, who="health")["status"] == "accepted"
    return document_id


def _view(
    portal: PortalUnderTest, document_id: str, address: str, who: str = "inspector", **headers: str
):  # type: ignore[no-untyped-def]
    return _client(portal, address).get(
        f"/v1/documents/{document_id}/content", headers={**portal.auth(who), **headers}
    )


def test_health_records_are_stored_only_in_the_onsite_area(portal: PortalUnderTest) -> None:
    document_id = _health_record(portal)
    key = f"{portal.inspection_id}/{document_id}"
    assert portal.container.store.exists(Area.onsite, key)
    assert not portal.container.store.exists(Area.clean, key)
    assert not portal.container.store.exists(Area.quarantine, key)


def test_an_inspector_on_site_during_fieldwork_sees_it_watermarked_on_every_page(
    portal: PortalUnderTest,
) -> None:
    now = portal.container.clock.now()
    _register(portal, now - timedelta(hours=1), now + timedelta(hours=8))
    document_id = _health_record(portal)
    response = _view(portal, document_id, ON_SITE)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith("inline")
    with pikepdf.open(io.BytesIO(response.content)) as pdf:
        assert len(pdf.pages) == 3
        for page in pdf.pages:
            text = b"".join(
                c.read_bytes()
                for c in (
                    page.Contents if isinstance(page.Contents, pikepdf.Array) else [page.Contents]
                )
            )
            assert b"Viewed by inspector:" in text and portal.inspection_id.encode() in text


@pytest.mark.parametrize(
    ("address", "who", "headers", "rule"),
    [
        (OFF_SITE, "inspector", {}, "off_site"),
        (OFF_SITE, "inspector", {"X-Forwarded-For": ON_SITE}, "off_site"),
        (PROXY, "inspector", {"X-Forwarded-For": OFF_SITE}, "off_site"),
        (ON_SITE, "health", {}, "not_an_inspector_of_this_inspection"),
    ],
)
def test_views_off_site_by_spoofing_or_by_an_agency_are_refused(
    portal: PortalUnderTest,
    address: str,
    who: str,
    headers: dict[str, str],
    rule: str,
) -> None:
    now = portal.container.clock.now()
    _register(portal, now - timedelta(hours=1), now + timedelta(hours=8))
    document_id = _health_record(portal)
    response = _view(portal, document_id, address, who, **headers)
    if who == "health":
        assert response.status_code == 403
        return
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "onsite_only"
    assert response.json()["rule"] == rule
    assert "on site" in response.json()["detail"]


def test_a_trusted_proxy_forwarding_an_on_site_address_is_believed(
    portal: PortalUnderTest,
) -> None:
    now = portal.container.clock.now()
    _register(portal, now - timedelta(hours=1), now + timedelta(hours=8))
    document_id = _health_record(portal)
    assert _view(portal, document_id, PROXY, **{"X-Forwarded-For": ON_SITE}).status_code == 200


@pytest.mark.parametrize("shift", [timedelta(days=2), timedelta(days=-2)])
def test_views_before_or_after_fieldwork_are_refused(
    portal: PortalUnderTest, shift: timedelta
) -> None:
    now = portal.container.clock.now()
    _register(portal, now + shift, now + shift + timedelta(hours=8))
    document_id = _health_record(portal)
    response = _view(portal, document_id, ON_SITE)
    assert response.status_code == 403
    assert response.json()["rule"] == "outside_fieldwork"


def test_an_inspector_of_another_inspection_is_refused(
    portal: PortalUnderTest,
    settings: Settings,
) -> None:
    now = portal.container.clock.now()
    _register(portal, now - timedelta(hours=1), now + timedelta(hours=8))
    document_id = _health_record(portal)
    other = portal.client.post(
        "/v1/inspections",
        headers=portal.auth("admin"),
        json={"theme": "serious-youth-violence/sept-2023", "area_name": "Elsewhere"},
    ).json()
    token = portal.client.post(
        f"/v1/inspections/{other['id']}/tokens",
        headers=portal.auth("admin"),
        json={"role": "inspector"},
    ).json()["token"]
    response = _client(portal, ON_SITE).get(
        f"/v1/documents/{document_id}/content", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code in (403, 404)


def test_every_attempt_is_audited_with_who_where_and_the_decision(
    portal: PortalUnderTest,
) -> None:
    now = portal.container.clock.now()
    _register(portal, now - timedelta(hours=1), now + timedelta(hours=8))
    document_id = _health_record(portal)
    _view(portal, document_id, OFF_SITE)
    _view(portal, document_id, ON_SITE)
    views = [
        e
        for e in portal.container.repository.audit_events(document_id)
        if e["action"].startswith("document_view")
    ]
    assert [(e["action"], e["detail"]["address"], e["detail"]["rule"]) for e in views] == [
        ("document_view_denied", OFF_SITE, "off_site"),
        ("document_viewed", ON_SITE, "on_site_during_fieldwork"),
    ]
    assert all(e["actor"].startswith("inspector:") for e in views)
