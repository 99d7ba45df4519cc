"""The lead asks one agency for a further document through the API (004 para 127, 002
para 17): it is on that agency's checklist with its own deadline in the timeline, only
that agency can send it, and once accepted it counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from portal.domain.access import Role
from portal.domain.timeline import LONDON
from portal.services.identities import issue_token
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import TEST_NOW, build_portal, settable_clock
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")

TITLE = "Minutes of the last 3 exploitation panels"


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    return start_portal(build_portal(settings), now=TEST_NOW)


def _add(portal: PortalUnderTest, who: str = "lead_inspector", **fields: Any) -> Any:
    return portal.client.post(
        f"/v1/inspections/{portal.inspection_id}/extra-items",
        headers=portal.auth(who),
        json={"agency": "health", "title": TITLE, "due": "2026-12-03T17:00:00+00:00", **fields},
    )


def _owed(portal: PortalUnderTest, who: str, deadline: str) -> dict[str, Any]:
    response = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/completeness", headers=portal.auth(who)
    )
    assert response.status_code == 200, response.text
    return next(d for d in response.json()["deadlines"] if d["deadline"] == deadline)


def test_the_lead_asks_an_agency_for_a_document_it_sends_and_it_counts(
    portal: PortalUnderTest,
) -> None:
    added = _add(portal)
    assert added.status_code == 201, added.text
    extra = added.json()
    assert extra["due"] == "2026-12-03T17:00:00+00:00"

    timeline = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}", headers=portal.auth("health")
    ).json()
    assert f"Asked by the lead inspector: {TITLE}" in [d["quote"] for d in timeline["deadlines"]]
    before = _owed(portal, "health", extra["deadline"])
    assert (before["agency"], before["missing"]) == ("health", [extra["item"]])

    refused = portal.upload(
        "panels.pdf", samples.pdf_text_pages(1), item=extra["item"], who="local_authority"
    )
    sent = portal.upload("panels.pdf", samples.pdf_text_pages(1), item=extra["item"], who="health")
    assert sent.status_code == 202, sent.text
    portal.process_pending()

    assert refused.json()["code"] == "not_for_agency", refused.text
    assert portal.status(sent.json()["id"], who="health")["status"] == "accepted"
    after = _owed(portal, "lead_inspector", extra["deadline"])
    assert (after["accepted"], after["missing"]) == (1, [])


def test_an_uploader_sees_only_its_own_agencys_extra_items(portal: PortalUnderTest) -> None:
    assert _add(portal).status_code == 201
    assert _add(portal, agency="local_authority", title="Panel terms").status_code == 201

    seen = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/extra-items", headers=portal.auth("health")
    ).json()

    assert [e["title"] for e in seen] == [TITLE]


def test_an_extra_item_for_an_agency_not_in_the_inspection_is_refused(
    portal: PortalUnderTest,
) -> None:
    response = _add(portal, agency="fire_service")

    assert response.status_code == 422
    assert response.json()["code"] == "agency_not_in_inspection"


def test_retention_deletes_the_items_the_lead_asked_for_with_their_titles(
    portal: PortalUnderTest,
) -> None:
    assert _add(portal).status_code == 201
    published = portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/events/letter_published",
        json={"on": "2027-01-20"},
        headers=portal.auth("lead_inspector"),
    )
    assert published.status_code == 204, published.text
    settable_clock(portal.container).set(datetime(2028, 3, 1, 9, 0, tzinfo=LONDON))
    _p, records = issue_token(portal.container, Role.records_officer, label="records")

    run = portal.client.post(
        "/v1/retention/runs",
        json={"dry_run": False},
        headers={"Authorization": f"Bearer {records}"},
    )

    assert run.status_code in (200, 201), run.text
    assert portal.container.repository.extra_items(portal.inspection_id) == []
    assert portal.container.records.find_text([TITLE]) == {}
