"""The 2016 framework's para 21: the local authority sends additional data on each of the
20 children the lead inspector shortlisted, by mid-afternoon on day 2. Each child's data is
an item on the local authority's checklist, an upload fulfils it, completeness counts it,
and the chase reminds the local authority of what is still missing."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.domain.chase import Contacts, MessageKind
from portal.domain.timeline import LONDON
from portal.services.chasing import run_chase
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal, settable_clock
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")

THEME = "framework-2016/generic"
SHORTLIST = ["FW-001", "FW-002", "FW-003"]
DATA = "request:shortlisted_child_information"
DEADLINE = "day2_mid_afternoon"
# Fieldwork from Monday 7 December 2026: notified Tuesday 24 November (day 0), the 20
# chosen by midday Wednesday 25th, their data due by mid-afternoon Thursday 26th.
WEDNESDAY_1PM = datetime(2026, 11, 25, 13, 0, tzinfo=LONDON)


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    portal = start_portal(build_portal(settings), theme=THEME, now=WEDNESDAY_1PM)
    portal.container.repository.replace_selection(
        portal.inspection_id, "shortlist", SHORTLIST, "lead_inspector:test", WEDNESDAY_1PM
    )
    return portal


def _day_2(portal: PortalUnderTest, who: str) -> dict[str, Any]:
    response = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/completeness", headers=portal.auth(who)
    )
    assert response.status_code == 200, response.text
    return next(
        d
        for d in response.json()["deadlines"]
        if (d["agency"], d["deadline"]) == ("local_authority", DEADLINE)
    )


def _checklist_page(portal: PortalUnderTest) -> str:
    # 127.0.0.1: web sessions over plain HTTP are allowed only on localhost.
    with TestClient(create_app(portal.container), base_url="http://127.0.0.1") as client:
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
        assert found
        client.post(
            "/sign-in",
            data={"token": portal.tokens["local_authority"], "csrf_token": found.group(1)},
        )
        page = client.get(f"/inspections/{portal.inspection_id}/checklist")
    assert page.status_code == 200, page.text
    return " ".join(page.text.split())


def test_the_local_authority_owes_additional_data_on_each_shortlisted_child_by_day_2(
    portal: PortalUnderTest,
) -> None:
    owed = _day_2(portal, "local_authority")
    assert owed["missing"] == [f"{DATA}:{c}" for c in SHORTLIST]

    page = _checklist_page(portal)
    for child in SHORTLIST:
        assert f"Additional data on a shortlisted child: child {child}" in page
    response = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/completeness",
        headers=portal.auth("lead_inspector"),
    )
    others = [
        k
        for d in response.json()["deadlines"]
        if d["agency"] != "local_authority"
        for k in d["missing"]
    ]
    assert not [k for k in others if k.startswith(DATA)]


def test_the_data_on_one_child_is_accepted_and_counted_for_that_child_alone(
    portal: PortalUnderTest,
) -> None:
    response = portal.upload("data.pdf", samples.pdf_text_pages(1), item=DATA, child_id="FW-002")
    assert response.status_code == 202, response.text
    portal.process_pending()
    assert portal.status(response.json()["id"])["status"] == "accepted"

    after = _day_2(portal, "lead_inspector")
    assert after["accepted"] == 1
    assert after["missing"] == [f"{DATA}:FW-001", f"{DATA}:FW-003"]


def test_data_on_a_child_not_shortlisted_or_from_another_agency_is_refused_at_once(
    portal: PortalUnderTest,
) -> None:
    stranger = portal.upload("data.pdf", samples.pdf_text_pages(1), item=DATA, child_id="FW-999")
    health = portal.upload(
        "data.pdf", samples.pdf_text_pages(1), item=DATA, who="health", child_id="FW-001"
    )

    assert stranger.status_code == 422
    assert stranger.json()["code"] == "child_not_selected"
    assert health.status_code == 422
    assert health.json()["code"] == "not_for_agency"


def test_the_chase_reminds_the_local_authority_of_the_children_still_missing(
    portal: PortalUnderTest,
) -> None:
    container = portal.container
    container.repository.set_contacts(
        portal.inspection_id,
        Contacts(
            lead_inspector=("lead@inspectorate.example",),
            agencies={"local_authority": ("la@council.example",)},
        ),
    )
    sent = portal.upload("data.pdf", samples.pdf_text_pages(1), item=DATA, child_id="FW-002")
    assert sent.status_code == 202, sent.text
    portal.process_pending()
    settable_clock(container).set(WEDNESDAY_1PM)

    run_chase(container, container.mailer, WEDNESDAY_1PM)

    reminder = next(
        m
        for m in container.repository.outbox(portal.inspection_id)
        if m.kind is MessageKind.reminder and m.deadline == DEADLINE
    )
    assert reminder.recipients == ("la@council.example",)
    assert "3pm Thursday 26 November" in reminder.body
    for child in ("FW-001", "FW-003"):
        assert f"{DATA}:{child} Additional data on a shortlisted child: child {child}" in (
            reminder.body
        )
    assert "FW-002" not in reminder.body
