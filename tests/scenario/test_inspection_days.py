"""A lead's notification day or fieldwork start is kept as entered, the other derived by
the theme's rule, through the API: the deadlines, look-back checks and moves follow, and a
bank holiday never puts a deadline on the day of one it depends on.

Easter 2027 (the England and Wales calendar): Good Friday is 26 March, Easter Monday 29
March; clocks go forward on Sunday 28 March.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from portal.domain.timeline import LONDON
from portal.settings import Settings
from tests import samples
from tests.factories import TEST_NOW, build_portal
from tests.scenario.harness import PortalUnderTest, start_portal

SYV = "serious-youth-violence/sept-2023"
NOTIFIED = date(2027, 3, 22)


@pytest.fixture
def portal(settings: Settings) -> PortalUnderTest:
    # The clock stays at the tests' now (tokens are issued then, and expire).
    return start_portal(build_portal(settings), theme=SYV, notification=NOTIFIED, now=TEST_NOW)


def _inspection(portal: PortalUnderTest) -> dict[str, Any]:
    response = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}", headers=portal.auth("lead_inspector")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_notification_day_alone_is_kept_and_gives_fieldwork_and_every_deadline(
    portal: PortalUnderTest,
) -> None:
    inspection = _inspection(portal)

    assert inspection["notification_date"] == "2027-03-22"
    assert inspection["fieldwork_start"] == "2027-04-05"
    assert inspection["entered_days"] == ["notification"]
    due = {d["key"]: d["due"] for d in inspection["deadlines"]}
    # Times carry their Europe/London offset: GMT before 28 March, BST after.
    assert due == {
        "week1_tuesday_5pm": "2027-03-23T17:00:00+00:00",
        "week1_wednesday_5pm": "2027-03-24T17:00:00+00:00",
        "week1_thursday_5pm": "2027-03-25T17:00:00+00:00",
        "week1_friday_11am": "2027-03-30T11:00:00+01:00",
        "week2_tuesday_5pm": "2027-03-31T17:00:00+01:00",
        "week2_thursday_5pm": "2027-04-01T17:00:00+01:00",
    }


def test_the_timeline_says_which_deadlines_a_bank_holiday_moved_and_warns_of_the_short_notice(
    portal: PortalUnderTest,
) -> None:
    inspection = _inspection(portal)

    shifts = {d["key"]: d["shift"] for d in inspection["deadlines"] if d["shift"]}
    assert shifts == {
        "week1_friday_11am": {
            "rule_day": "2027-03-26",
            "bank_holidays": ["2027-03-26", "2027-03-29"],
            "after": None,
        },
        "week2_tuesday_5pm": {
            "rule_day": "2027-03-30",
            "bank_holidays": [],
            "after": "week1_friday_11am",
        },
    }
    (warning,) = inspection["timeline_warnings"]
    assert warning["code"] == "notification_off_rule"
    assert "8 working days before fieldwork" in warning["text"]


def test_the_lead_sets_the_fieldwork_start_later_and_the_deadlines_follow(
    portal: PortalUnderTest,
) -> None:
    response = portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/days",
        headers=portal.auth("lead_inspector"),
        json={"fieldwork_start": "2027-04-12"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["notification_date"], body["fieldwork_start"]) == ("2027-03-25", "2027-04-12")
    assert body["entered_days"] == ["fieldwork_start"]
    assert body["timeline_warnings"] == []
    due = {d["key"]: d["due"] for d in body["deadlines"]}
    assert due["week1_tuesday_5pm"] == "2027-03-30T17:00:00+01:00"


def test_days_that_cannot_be_are_refused_with_a_problem_and_nothing_changes(
    portal: PortalUnderTest,
) -> None:
    before = _inspection(portal)
    response = portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/days",
        headers=portal.auth("lead_inspector"),
        json={"fieldwork_start": "2027-04-03"},
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_a_working_day"
    assert "Saturday 3 April 2027" in response.json()["detail"]
    assert _inspection(portal) == before


def test_no_days_at_all_is_refused(portal: PortalUnderTest) -> None:
    response = portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/days",
        headers=portal.auth("lead_inspector"),
        json={},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "days_required"


def test_a_move_that_puts_case_records_before_the_children_are_chosen_is_refused(
    portal: PortalUnderTest,
) -> None:
    response = portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/deadlines/week2_tuesday_5pm",
        headers=portal.auth("lead_inspector"),
        json={
            "due": datetime(2027, 3, 29, 17, tzinfo=LONDON).isoformat(),
            "reason": "the local authority asked",
        },
    )

    assert response.status_code == 409
    assert response.json()["code"] == "deadline_order"
    assert "By 11am on Friday in week 1" in response.json()["detail"]


def test_a_move_inside_the_order_is_made(portal: PortalUnderTest) -> None:
    response = portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/deadlines/week2_tuesday_5pm",
        headers=portal.auth("lead_inspector"),
        json={
            "due": datetime(2027, 4, 1, 12, tzinfo=LONDON).isoformat(),
            "reason": "the police asked for a day more",
        },
    )

    assert response.status_code == 200, response.text
    due = {d["key"]: d for d in response.json()["deadlines"]}
    assert due["week2_tuesday_5pm"]["due"] == "2027-04-01T12:00:00+01:00"
    assert due["week2_tuesday_5pm"]["moved"] is True


def test_with_only_a_notification_day_a_document_outside_the_look_back_is_refused(
    portal: PortalUnderTest,
) -> None:
    # Item 1.4: "over the 12 months before the inspection", counted from the day notified.
    response = portal.upload(
        "audit.pdf", samples.pdf_of_size(20_000), item="1.4", document_date="2026-03-19"
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "outside_lookback"
    assert "from 2026-03-22" in response.json()["detail"]
