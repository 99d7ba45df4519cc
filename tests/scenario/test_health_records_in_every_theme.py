"""Health records are seen only on site, during fieldwork, in every theme: a health
agency's case records and audits under domestic abuse (whose guidance does not repeat
serious youth violence's words about health records), any file its uploader marks as
holding health information, and never through a viewing window outside fieldwork."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import httpx
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
FIELDWORK_START = date(2026, 12, 7)  # Monday; fieldwork runs to Friday 11 December
DURING_FIELDWORK = datetime(2026, 12, 8, 10, 0, tzinfo=LONDON)
AUDITED = [f"DA-{n:03d}" for n in range(1, 7)]


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    portal = start_portal(
        build_portal(settings), theme="domestic-abuse/sept-2024", fieldwork_start=FIELDWORK_START
    )
    lead = portal.auth("lead_inspector")
    base = f"/v1/inspections/{portal.inspection_id}/selections"
    shortlist = [f"DA-{n:03d}" for n in range(1, 21)]
    portal.accept_list(shortlist)
    for stage, children in (("shortlist", shortlist), ("audit", AUDITED)):
        response = portal.client.post(
            base, headers=lead, json={"stage": stage, "child_ids": children}
        )
        assert response.status_code == 200, response.text
    return portal


def _register(portal: PortalUnderTest, start: datetime, end: datetime) -> httpx.Response:
    response: httpx.Response = portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/onsite",
        headers=portal.auth("lead_inspector"),
        json={
            "networks": ["10.20.30.0/24"],
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
        },
    )
    return response


def _accepted(portal: PortalUnderTest, who: str, item: str, **fields: str) -> str:
    response = portal.upload("record.pdf", samples.pdf_text_pages(2), item=item, who=who, **fields)
    assert response.status_code == 202, response.text
    document_id: str = response.json()["id"]
    portal.process_pending()
    assert portal.status(document_id, who=who)["status"] == "accepted"
    return document_id


def _view(portal: PortalUnderTest, document_id: str, address: str) -> httpx.Response:
    client = TestClient(create_app(portal.container), client=(address, 50000))
    response: httpx.Response = client.get(
        f"/v1/documents/{document_id}/content", headers=portal.auth("inspector")
    )
    return response


def _in_fieldwork_window(portal: PortalUnderTest) -> None:
    settable_clock(portal.container).set(DURING_FIELDWORK)
    response = _register(
        portal, DURING_FIELDWORK - timedelta(hours=1), DURING_FIELDWORK + timedelta(hours=8)
    )
    assert response.status_code == 204, response.text


@pytest.mark.parametrize("item", ["case_record", "audit"])
def test_a_health_agencys_case_record_or_audit_under_domestic_abuse_is_refused_off_site(
    portal: PortalUnderTest, item: str
) -> None:
    document_id = _accepted(portal, "health", item, child_id=AUDITED[0])
    key = f"{portal.inspection_id}/{document_id}"
    assert portal.container.store.exists(Area.onsite, key)
    assert not portal.container.store.exists(Area.clean, key)
    assert portal.status(document_id, who="health")["sensitivity"] == "on_site_only"

    _in_fieldwork_window(portal)
    off_site = _view(portal, document_id, OFF_SITE)
    assert off_site.status_code == 403, off_site.text
    assert off_site.json()["code"] == "onsite_only"
    assert off_site.json()["rule"] == "off_site"
    assert _view(portal, document_id, ON_SITE).status_code == 200


def test_another_agencys_case_record_stays_readable_off_site(portal: PortalUnderTest) -> None:
    document_id = _accepted(portal, "local_authority", "case_record", child_id=AUDITED[0])
    assert portal.status(document_id)["sensitivity"] == "standard"
    assert _view(portal, document_id, OFF_SITE).status_code == 200


def test_a_file_its_uploader_marks_as_health_information_is_kept_and_shown_only_on_site(
    portal: PortalUnderTest,
) -> None:
    document_id = _accepted(portal, "local_authority", "1.1", health_information="true")
    key = f"{portal.inspection_id}/{document_id}"
    assert portal.container.store.exists(Area.onsite, key)
    assert not portal.container.store.exists(Area.clean, key)
    status = portal.status(document_id)
    assert status["health_information"] is True and status["sensitivity"] == "on_site_only"

    _in_fieldwork_window(portal)
    refused = _view(portal, document_id, OFF_SITE)
    assert refused.status_code == 403
    assert refused.json()["code"] == "onsite_only"
    assert _view(portal, document_id, ON_SITE).status_code == 200


def test_an_unmarked_annex_a_file_is_not_a_health_record(portal: PortalUnderTest) -> None:
    document_id = _accepted(portal, "local_authority", "1.1", health_information="false")
    assert portal.status(document_id)["health_information"] is False
    assert _view(portal, document_id, OFF_SITE).status_code == 200


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # Months before fieldwork.
        (datetime(2026, 9, 1, 9, 0, tzinfo=LONDON), datetime(2026, 9, 4, 17, 0, tzinfo=LONDON)),
        # Starting the weekend before fieldwork.
        (datetime(2026, 12, 6, 9, 0, tzinfo=LONDON), datetime(2026, 12, 8, 17, 0, tzinfo=LONDON)),
        # Running past the end of the fieldwork week.
        (datetime(2026, 12, 9, 9, 0, tzinfo=LONDON), datetime(2026, 12, 14, 17, 0, tzinfo=LONDON)),
    ],
)
def test_a_viewing_window_outside_fieldwork_is_refused_naming_the_fieldwork_days(
    portal: PortalUnderTest, start: datetime, end: datetime
) -> None:
    response = _register(portal, start, end)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "window_outside_fieldwork"
    assert "Monday 7 December 2026 to Friday 11 December 2026" in problem["detail"]


def test_a_window_inside_fieldwork_is_accepted(portal: PortalUnderTest) -> None:
    response = _register(
        portal,
        datetime(2026, 12, 7, 0, 0, tzinfo=LONDON),
        datetime(2026, 12, 12, 0, 0, tzinfo=LONDON),
    )
    assert response.status_code == 204, response.text


def test_a_window_after_a_recorded_early_end_of_fieldwork_is_refused(
    portal: PortalUnderTest,
) -> None:
    recorded = portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/events/fieldwork_end",
        headers=portal.auth("lead_inspector"),
        json={"on": "2026-12-09"},
    )
    assert recorded.status_code == 204, recorded.text
    response = _register(
        portal,
        datetime(2026, 12, 9, 9, 0, tzinfo=LONDON),
        datetime(2026, 12, 10, 17, 0, tzinfo=LONDON),
    )
    assert response.status_code == 422
    assert "Wednesday 9 December 2026" in response.json()["detail"]


def test_a_window_stored_outside_fieldwork_opens_no_health_record(
    portal: PortalUnderTest,
) -> None:
    """A window recorded before the rule (or written past the API) is never used: standing
    inside it, on site, months before fieldwork, the record stays shut."""
    document_id = _accepted(portal, "health", "case_record", child_id=AUDITED[0])
    early = datetime(2026, 9, 2, 10, 0, tzinfo=LONDON)
    portal.container.repository.set_onsite(
        portal.inspection_id,
        ["10.20.30.0/24"],
        early - timedelta(days=1),
        early + timedelta(days=1),
        "test",
        early,
    )
    settable_clock(portal.container).set(early)
    response = _view(portal, document_id, ON_SITE)
    assert response.status_code == 403, response.text
    assert response.json()["rule"] == "outside_fieldwork"
