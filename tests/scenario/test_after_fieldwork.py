"""After fieldwork through the API: the lead records the letter's days, the portal
computes the factual-accuracy and statement-of-action deadlines from them, and the day the
letter is published is retention's letter_published (no records officer types it).

Hand-counted (England and Wales bank holidays): Christmas 2027 falls on a Saturday, so
its bank holidays are Monday 27 and Tuesday 28 December; New Year's Day 2028 (Saturday)
gives Monday 3 January; Easter 2028 gives Good Friday 14 April and Easter Monday 17 April;
the early May bank holiday is Monday 1 May 2028.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from portal.settings import Settings
from tests.factories import TEST_NOW, build_portal
from tests.scenario.harness import PortalUnderTest, start_portal

DA = "domestic-abuse/sept-2024"


@pytest.fixture
def portal(settings: Settings) -> PortalUnderTest:
    return start_portal(
        build_portal(settings), theme=DA, fieldwork_start=date(2027, 11, 15), now=TEST_NOW
    )


def _record(portal: PortalUnderTest, step: str, on: str, who: str = "lead_inspector") -> Any:
    return portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/letter/{step}",
        headers=portal.auth(who),
        json={"on": on},
    )


def _deadlines(body: dict[str, Any]) -> dict[str, Any]:
    return {d["key"]: (d["due"], d["waiting_for"]) for d in body["deadlines"]}


def test_before_any_letter_day_both_deadlines_wait_and_say_for_what(
    portal: PortalUnderTest,
) -> None:
    response = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/after-fieldwork",
        headers=portal.auth("local_authority"),
    )

    assert response.status_code == 200, response.text
    assert response.json()["recorded"] == {}
    assert _deadlines(response.json()) == {
        "factual_accuracy": (
            None,
            "Waiting for the day of the draft letter shared for factual accuracy.",
        ),
        "statement_of_action": (None, "Waiting for the day of the final letter sent."),
    }


def test_the_lead_records_the_letters_days_and_the_deadlines_follow_them(
    portal: PortalUnderTest,
) -> None:
    # Draft shared Wednesday 22 December 2027: Thu 23 (1), Fri 24 (2), Mon 27 and Tue 28
    # are bank holidays, Wed 29 (3), Thu 30 (4), Fri 31 (5), Mon 3 January is one too,
    # Tue 4 (6), Wed 5 (7), Thu 6 (8), Fri 7 January 2028 (9).
    shared = _record(portal, "draft_letter_shared", "2027-12-22")
    assert shared.status_code == 200, shared.text
    assert _deadlines(shared.json())["factual_accuracy"] == ("2028-01-07T23:59:00+00:00", None)

    # Final letter sent Monday 7 February 2028: 14 weeks of weekdays end Monday 15 May;
    # Good Friday, Easter Monday and 1 May move it to Thursday 18 May (BST).
    sent = _record(portal, "final_letter_sent", "2028-02-07")
    assert _deadlines(sent.json())["statement_of_action"] == ("2028-05-18T23:59:00+01:00", None)
    assert sent.json()["recorded"] == {
        "draft_letter_shared": "2027-12-22",
        "final_letter_sent": "2028-02-07",
    }


def test_recording_the_letter_published_starts_retentions_clock(portal: PortalUnderTest) -> None:
    _record(portal, "final_letter_sent", "2028-02-07")

    published = _record(portal, "letter_published", "2028-02-11")

    assert published.status_code == 200, published.text
    assert published.json()["recorded"]["letter_published"] == "2028-02-11"
    retention = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/retention", headers=portal.auth("lead_inspector")
    )
    assert retention.json()["recorded"]["letter_published"] == "2028-02-11"


def test_a_letter_published_before_the_final_letter_was_sent_is_refused_and_nothing_kept(
    portal: PortalUnderTest,
) -> None:
    _record(portal, "final_letter_sent", "2028-02-07")

    refused = _record(portal, "letter_published", "2028-02-04")

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "letter_days_out_of_order"
    assert "Check both days" in refused.json()["detail"]
    retention = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/retention", headers=portal.auth("lead_inspector")
    )
    assert "letter_published" not in retention.json()["recorded"]


def test_an_agency_may_see_the_deadlines_but_not_record_the_letters_days(
    portal: PortalUnderTest,
) -> None:
    refused = _record(portal, "draft_letter_shared", "2027-12-22", who="local_authority")

    assert refused.status_code == 403, refused.text


def test_the_statement_of_action_is_chased_like_any_deadline(portal: PortalUnderTest) -> None:
    created = portal.client.post(
        "/v1/inspections",
        headers=portal.auth("admin"),
        json={
            "theme": DA,
            "area_name": "Chaseshire",
            "fieldwork_start": "2027-11-15",
            "contacts": {
                "lead_inspector": ["lead@inspectorate.example"],
                "agencies": {"local_authority": ["dcs@council.example"]},
            },
        },
    )
    assert created.status_code == 201, created.text
    inspection_id = created.json()["id"]
    recorded = portal.client.put(
        f"/v1/inspections/{inspection_id}/letter/final_letter_sent",
        headers=portal.auth("admin"),
        json={"on": "2028-02-07"},
    )
    assert recorded.status_code == 200, recorded.text

    def planned(as_of: str) -> list[tuple[str, str | None]]:
        response = portal.client.post(
            "/v1/chase/runs",
            headers=portal.auth("admin"),
            json={"as_of": as_of, "dry_run": True},
        )
        assert response.status_code == 200, response.text
        return [
            (m["kind"], m["agency"])
            for m in response.json()["planned"]
            if m["inspection_id"] == inspection_id and m["deadline"] == "statement_of_action"
        ]

    # Due at the end of Thursday 18 May 2028; the window opens 2 working days before.
    assert planned("2028-05-15T09:00:00+01:00") == []
    assert planned("2028-05-16T09:00:00+01:00") == [("reminder", "local_authority")]
    assert planned("2028-05-19T09:00:00+01:00") == [("lead_alert", None)]
