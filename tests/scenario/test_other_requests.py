"""An agency answers the lead's questions about a shortlisted child through the API: the
answer is checked like any upload, counted for that child in completeness, and refused at
once for a child who is not on the shortlist."""

from __future__ import annotations

from typing import Any

import pytest

from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import TEST_NOW, build_portal
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")

SHORTLIST = ["DA-001", "DA-002", "DA-003"]
ANSWERS = "request:shortlisted_child_information"


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    portal = start_portal(build_portal(settings), now=TEST_NOW)
    portal.container.repository.replace_selection(
        portal.inspection_id, "shortlist", SHORTLIST, "lead_inspector:test", TEST_NOW
    )
    return portal


def _thursday(portal: PortalUnderTest, who: str) -> dict[str, Any]:
    response = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/completeness", headers=portal.auth(who)
    )
    assert response.status_code == 200, response.text
    return next(
        d
        for d in response.json()["deadlines"]
        if (d["agency"], d["deadline"]) == ("health", "week1_thursday_5pm")
    )


def test_a_health_service_answers_about_a_shortlisted_child_and_it_counts(
    portal: PortalUnderTest,
) -> None:
    before = _thursday(portal, "lead_inspector")
    assert [f"{ANSWERS}:{c}" for c in SHORTLIST] == [
        k for k in before["missing"] if k.startswith(ANSWERS)
    ]

    response = portal.upload(
        "answers.pdf", samples.pdf_text_pages(1), item=ANSWERS, who="health", child_id="DA-002"
    )
    assert response.status_code == 202, response.text
    portal.process_pending()
    assert portal.status(response.json()["id"], who="health")["status"] == "accepted"

    after = _thursday(portal, "health")
    assert f"{ANSWERS}:DA-002" not in after["missing"]
    assert f"{ANSWERS}:DA-001" in after["missing"]


def test_answers_about_a_child_not_on_the_shortlist_are_refused_at_once(
    portal: PortalUnderTest,
) -> None:
    response = portal.upload(
        "answers.pdf", samples.pdf_text_pages(1), item=ANSWERS, who="health", child_id="DA-999"
    )

    assert response.status_code == 422
    assert response.json()["code"] == "child_not_selected"
    assert "not shortlisted" in response.json()["detail"]
