"""Issues of concern through the API (002 para 74 and Annex C): an inspector raises one with
the health service, which uploads its written response by the time on the form; once the
response is accepted the inspectors share their evaluation, and the lead inspector and the
agency's chief officer sign it off. The response is an item like any other: chased while
missing, counted in completeness."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.domain.chase import Contacts
from portal.domain.timeline import LONDON
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal, settable_clock
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")

# Fieldwork starts Monday 7 December 2026: the concern is raised on its Tuesday and the
# response is required by 5pm on the Thursday.
TUESDAY = datetime(2026, 12, 8, 10, 0, tzinfo=LONDON)
REQUIRED_BY = "2026-12-10T17:00:00+00:00"
ISSUES = "No strategy discussion was held after the disclosure of 2 December."


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    return start_portal(build_portal(settings), now=TUESDAY)


def _url(portal: PortalUnderTest, tail: str = "") -> str:
    return f"/v1/inspections/{portal.inspection_id}/concerns{tail}"


def _raise(portal: PortalUnderTest, who: str = "inspector", **fields: Any) -> Any:
    return portal.client.post(
        _url(portal),
        headers=portal.auth(who),
        json={
            "agency": "health",
            "case_numbers": ["C1001", "C1002"],
            "category": 1,
            "service": "Health visiting",
            "issues": ISSUES,
            "required_by": REQUIRED_BY,
            **fields,
        },
    )


def _get(portal: PortalUnderTest, concern_id: str, who: str) -> Any:
    return portal.client.get(_url(portal, f"/{concern_id}"), headers=portal.auth(who))


def _evaluate(portal: PortalUnderTest, concern_id: str, who: str) -> Any:
    return portal.client.put(
        _url(portal, f"/{concern_id}/evaluation"),
        headers=portal.auth(who),
        json={"evaluation": "The response sets out the strategy discussion held on 9 December."},
    )


def _sign(portal: PortalUnderTest, concern_id: str, who: str, **fields: Any) -> Any:
    return portal.client.post(
        _url(portal, f"/{concern_id}/sign-off"), headers=portal.auth(who), json=fields
    )


def _owed(portal: PortalUnderTest, deadline: str) -> dict[str, Any]:
    response = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/completeness",
        headers=portal.auth("lead_inspector"),
    )
    assert response.status_code == 200, response.text
    return next(d for d in response.json()["deadlines"] if d["deadline"] == deadline)


def test_a_concern_goes_from_referral_to_sign_off_and_its_response_counts(
    portal: PortalUnderTest,
) -> None:
    raised = _raise(portal)
    assert raised.status_code == 201, raised.text
    concern = raised.json()
    cid = concern["id"]
    assert (concern["stage"], concern["overdue"]) == ("awaiting_response", False)
    assert concern["required_by"] == REQUIRED_BY
    assert concern["date_of_referral"].startswith("2026-12-08T10:00")
    assert concern["inspector_referring"].startswith("inspector:")
    assert concern["category_words"].startswith("Serious issue of concern")
    timeline = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}", headers=portal.auth("health")
    ).json()
    quote = f"Issue of concern {concern['ref']}. Response and explanation required by:"
    assert quote in [d["quote"] for d in timeline["deadlines"]]
    assert _owed(portal, concern["deadline"])["missing"] == [concern["item"]]
    seen = _get(portal, cid, "health").json()
    assert (seen["issues"], seen["case_numbers"]) == (ISSUES, ["C1001", "C1002"])

    early = _evaluate(portal, cid, "lead_inspector")
    assert (early.status_code, early.json()["code"]) == (409, "concern_step_order")
    sent = portal.upload(
        "response.pdf", samples.pdf_text_pages(1), item=concern["item"], who="health"
    )
    assert sent.status_code == 202, sent.text
    portal.process_pending()
    assert portal.status(sent.json()["id"], who="health")["status"] == "accepted"
    answered = _get(portal, cid, "lead_inspector").json()
    assert (answered["stage"], answered["responses"]) == ("response_received", [sent.json()["id"]])
    unsigned = _sign(portal, cid, "lead_inspector")
    assert (unsigned.status_code, unsigned.json()["code"]) == (409, "concern_step_order")

    evaluated = _evaluate(portal, cid, "inspector")
    assert evaluated.status_code == 200, evaluated.text
    assert evaluated.json()["stage"] == "evaluation_shared"
    assert _get(portal, cid, "health").json()["evaluation"].startswith("The response sets out")
    agency = _sign(portal, cid, "health", chief_officer="Dr A. Officer")
    assert agency.status_code == 200, agency.text
    assert agency.json()["stage"] == "evaluation_shared"
    again = _sign(portal, cid, "health", chief_officer="Dr A. Officer")
    assert (again.status_code, again.json()["code"]) == (409, "concern_already_signed")
    late = _evaluate(portal, cid, "inspector")
    assert (late.status_code, late.json()["code"]) == (409, "concern_already_signed")
    lead = _sign(portal, cid, "lead_inspector")
    assert lead.status_code == 200, lead.text

    done = lead.json()
    assert done["stage"] == "completed"
    assert done["chief_officer"] == "Dr A. Officer"
    assert done["lead_signed_by"].startswith("lead_inspector:")
    assert done["agency_signed_at"] is not None and done["lead_signed_at"] is not None
    owed = _owed(portal, concern["deadline"])
    assert (owed["accepted"], owed["missing"]) == (1, [])


def test_the_agency_is_chased_for_its_response_and_the_lead_alerted_once_it_is_late(
    portal: PortalUnderTest,
) -> None:
    portal.container.repository.set_contacts(
        portal.inspection_id,
        Contacts(
            lead_inspector=("lead@inspectorate.example",), agencies={"health": ("h@icb.example",)}
        ),
    )
    concern = _raise(portal).json()

    def planned(as_of: str) -> list[dict[str, Any]]:
        response = portal.client.post(
            "/v1/chase/runs",
            headers=portal.auth("lead_inspector"),
            json={"as_of": as_of, "dry_run": True},
        )
        assert response.status_code == 200, response.text
        return [
            m
            for m in response.json()["planned"]
            if m["inspection_id"] == portal.inspection_id and m["deadline"] == concern["deadline"]
        ]

    # Due at 5pm on Thursday 10 December; the reminder window opens 2 working days before.
    reminders = planned("2026-12-08T10:30:00+00:00")
    assert [(m["kind"], m["agency"]) for m in reminders] == [("reminder", "health")]
    assert ISSUES not in reminders[0]["body"] and "C1001" not in reminders[0]["body"]
    late = planned("2026-12-11T09:00:00+00:00")
    assert sorted((m["kind"], m["agency"]) for m in late) == [
        ("lead_alert", None),
        ("overdue_notice", "health"),
    ]
    settable_clock(portal.container).set(datetime(2026, 12, 11, 9, 0, tzinfo=LONDON))
    overdue = _get(portal, concern["id"], "lead_inspector").json()
    assert (overdue["stage"], overdue["overdue"]) == ("awaiting_response", True)
    assert _owed(portal, concern["deadline"])["overdue"] == [concern["item"]]


def test_an_uploader_sees_and_signs_only_its_own_agencys_concerns(portal: PortalUnderTest) -> None:
    concern = _raise(portal).json()

    listed = portal.client.get(_url(portal), headers=portal.auth("local_authority"))
    hidden = _get(portal, concern["id"], "local_authority")
    signed = _sign(portal, concern["id"], "local_authority", chief_officer="Someone")

    assert listed.json() == []
    assert (hidden.status_code, hidden.json()["code"]) == (404, "concern_not_found")
    assert (signed.status_code, signed.json()["code"]) == (404, "concern_not_found")
    own = portal.client.get(_url(portal), headers=portal.auth("health")).json()
    assert [c["id"] for c in own] == [concern["id"]]


def test_a_concern_is_refused_for_an_agency_outside_the_inspection_or_a_past_time(
    portal: PortalUnderTest,
) -> None:
    stranger = _raise(portal, agency="fire_service")
    past = _raise(portal, required_by="2026-12-08T09:00:00+00:00")
    named = _raise(portal, case_numbers=["Jane Doe"])
    by_agency = _raise(portal, who="health")
    as_extra = portal.client.post(
        f"/v1/inspections/{portal.inspection_id}/extra-items",
        headers=portal.auth("lead_inspector"),
        json={
            "agency": "health",
            "title": "Strategy",
            "due": REQUIRED_BY,
            "kind": "issue_of_concern",
        },
    )

    assert (stranger.status_code, stranger.json()["code"]) == (422, "agency_not_in_inspection")
    assert (past.status_code, past.json()["code"]) == (422, "required_by_in_past")
    assert named.status_code == 422
    assert by_agency.status_code == 403
    assert (as_extra.status_code, as_extra.json()["code"]) == (422, "raise_as_concern")


def test_only_the_inspector_who_raised_it_and_the_lead_evaluate(portal: PortalUnderTest) -> None:
    concern = _raise(portal, who="lead_inspector").json()
    sent = portal.upload(
        "response.pdf", samples.pdf_text_pages(1), item=concern["item"], who="health"
    )
    portal.process_pending()
    assert portal.status(sent.json()["id"], who="health")["status"] == "accepted"

    other = _evaluate(portal, concern["id"], "inspector")

    assert (other.status_code, other.json()["code"]) == (403, "not_concern_evaluator")
    assert _evaluate(portal, concern["id"], "lead_inspector").status_code == 200


def _pages(portal: PortalUnderTest, who: str) -> TestClient:
    """A browser-like client signed in to the pages as `who` (sessions over plain HTTP
    only on localhost)."""
    client = TestClient(create_app(portal.container), base_url="http://127.0.0.1")
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
    assert found
    client.post("/sign-in", data={"token": portal.tokens[who], "csrf_token": found.group(1)})
    return client


def test_the_concern_pages_refuse_whom_the_api_refuses(portal: PortalUnderTest) -> None:
    concern = _raise(portal).json()
    concerns = f"/inspections/{portal.inspection_id}/concerns"
    page = f"{concerns}/{concern['id']}"

    assert _pages(portal, "admin").get(concerns).status_code == 403
    assert _pages(portal, "local_authority").get(page).status_code == 404
    assert _pages(portal, "health").get(f"{concerns}/new").status_code == 403
    seen = _pages(portal, "health").get(page)
    assert seen.status_code == 200 and ISSUES in seen.text
    checklist = _pages(portal, "health").get(f"/inspections/{portal.inspection_id}/checklist")
    assert f'href="{page}"' in checklist.text
