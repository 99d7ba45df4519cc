"""Records to be seen on site, not sent, through the API: the theme or the lead marks a
slot, an upload into it is refused saying what to do, the agency confirms where and when,
completeness counts that, an inspector records it seen, and retention deletes the
arrangement with the inspection's case records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from portal.adapters.db.tables import AuditEventRow
from portal.domain.access import Role
from portal.domain.timeline import LONDON
from portal.services.identities import issue_token
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal, settable_clock
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")

CHILD = "SYV-001"
OTHER_CHILD = "SYV-002"
WHERE = "Room 4, Civic Centre: a nurse opens the record system"
# Fieldwork runs Monday 7 to Friday 11 December 2026; case records are due Tuesday of week 2.
IN_FIELDWORK = date(2026, 12, 9)
AFTER_CASE_RECORDS_DUE = datetime(2026, 12, 3, 9, 0, tzinfo=LONDON)


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    portal = start_portal(build_portal(settings), theme="serious-youth-violence/sept-2023")
    lead = portal.auth("lead_inspector")
    base = f"/v1/inspections/{portal.inspection_id}/selections"
    children = [f"SYV-{n:03d}" for n in range(1, 21)]
    portal.accept_list(children)
    for stage, chosen in (("shortlist", children), ("audit", children[:5])):
        response = portal.client.post(
            base, headers=lead, json={"stage": stage, "child_ids": chosen}
        )
        assert response.status_code == 200, response.text
    return portal


def _slot_url(portal: PortalUnderTest, agency: str, child: str, action: str) -> str:
    return f"/v1/inspections/{portal.inspection_id}/case-records/{agency}/{child}/{action}"


def _slot(portal: PortalUnderTest, agency: str, child: str, who: str) -> dict[str, Any]:
    body = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/selections", headers=portal.auth(who)
    ).json()
    return next(
        s for s in body["case_record_slots"] if s["agency"] == agency and s["child_id"] == child
    )


def _arrange(portal: PortalUnderTest, agency: str, child: str, day: date, who: str) -> Any:
    return portal.client.put(
        _slot_url(portal, agency, child, "arrangement"),
        headers=portal.auth(who),
        json={"where": WHERE, "day": day.isoformat()},
    )


def _case_records_state(portal: PortalUnderTest, agency: str) -> dict[str, Any]:
    body = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/completeness",
        headers=portal.auth("lead_inspector"),
    ).json()
    return next(
        d
        for d in body["deadlines"]
        if d["agency"] == agency and d["deadline"] == "week2_tuesday_5pm"
    )


def test_an_upload_into_a_health_slot_the_theme_marks_is_refused_saying_what_to_do(
    portal: PortalUnderTest,
) -> None:
    assert _slot(portal, "health", CHILD, "health")["seen_on_site"] == "theme"
    response = portal.upload(
        "record.pdf", samples.pdf_text_pages(1), item="case_record", who="health", child_id=CHILD
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "seen_on_site_only"
    assert problem["detail"].startswith("Do not upload")
    assert "checklist page" in problem["detail"]
    assert (
        portal.container.repository.uploads_for_item(portal.inspection_id, "health", "case_record")
        == []
    )


def test_the_lead_marks_one_slot_and_only_that_slot_refuses_uploads(
    portal: PortalUnderTest,
) -> None:
    assert _slot(portal, "local_authority", CHILD, "lead_inspector")["seen_on_site"] is None
    response = portal.client.put(
        _slot_url(portal, "local_authority", CHILD, "seen-on-site"),
        headers=portal.auth("lead_inspector"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["seen_on_site"] == "lead"
    refused = portal.upload(
        "record.pdf", samples.pdf_text_pages(1), item="case_record", child_id=CHILD
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "seen_on_site_only")
    other = portal.upload(
        "record.pdf", samples.pdf_text_pages(1), item="case_record", child_id=OTHER_CHILD
    )
    assert other.status_code == 202, other.text
    unknown = portal.client.put(
        _slot_url(portal, "local_authority", "SYV-020", "seen-on-site"),
        headers=portal.auth("lead_inspector"),
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "no_such_slot")


def test_a_confirmed_arrangement_counts_in_completeness_and_is_recorded_seen(
    portal: PortalUnderTest,
) -> None:
    outside = _arrange(portal, "health", CHILD, date(2026, 12, 14), "health")
    assert (outside.status_code, outside.json()["code"]) == (422, "day_outside_fieldwork")
    not_theirs = _arrange(portal, "health", CHILD, IN_FIELDWORK, "local_authority")
    assert (not_theirs.status_code, not_theirs.json()["code"]) == (403, "not_your_agency")
    uploaded = _arrange(portal, "local_authority", CHILD, IN_FIELDWORK, "local_authority")
    assert (uploaded.status_code, uploaded.json()["code"]) == (409, "not_seen_on_site")
    for where, code in (("   ", "where_missing"), ("x" * 201, "where_too_long")):
        refused = portal.client.put(
            _slot_url(portal, "health", CHILD, "arrangement"),
            headers=portal.auth("health"),
            json={"where": where, "day": IN_FIELDWORK.isoformat()},
        )
        assert (refused.status_code, refused.json()["code"]) == (422, code)

    response = _arrange(portal, "health", CHILD, IN_FIELDWORK, "health")
    assert response.status_code == 200, response.text
    assert response.json()["arrangement"]["where"] == WHERE
    assert response.json()["arrangement"]["day"] == IN_FIELDWORK.isoformat()

    settable_clock(portal.container).set(AFTER_CASE_RECORDS_DUE)
    state = _case_records_state(portal, "health")
    assert f"case_record:{CHILD}" not in state["missing"]
    assert f"case_record:{CHILD}" not in state["overdue"]
    assert f"case_record:{OTHER_CHILD}" in state["overdue"]

    seen = portal.client.post(
        _slot_url(portal, "health", CHILD, "seen"), headers=portal.auth("inspector")
    )
    assert seen.status_code == 200, seen.text
    assert seen.json()["seen_at"] is not None
    events = _inspection_events(portal)
    assert {"on_site_arrangement_confirmed", "case_records_seen_on_site"} <= {
        e["action"] for e in events
    }
    # The arrangement's words are held once, in its own row: not in the audit chain.
    assert portal.container.records.find_text([WHERE]) == {"on_site_slots.arrangement": 1}


def test_retention_deletes_the_arrangement_with_the_case_records(
    portal: PortalUnderTest,
) -> None:
    assert _arrange(portal, "health", CHILD, IN_FIELDWORK, "health").status_code == 200
    response = portal.client.put(
        f"/v1/inspections/{portal.inspection_id}/events/letter_published",
        json={"on": "2027-01-20"},
        headers=portal.auth("lead_inspector"),
    )
    assert response.status_code == 204, response.text
    settable_clock(portal.container).set(datetime(2027, 3, 1, 9, 0, tzinfo=LONDON))
    _p, records = issue_token(portal.container, Role.records_officer, label="records")
    run = portal.client.post(
        "/v1/retention/runs",
        json={"dry_run": False},
        headers={"Authorization": f"Bearer {records}"},
    )
    assert run.status_code in (200, 201), run.text
    assert portal.container.repository.on_site_records(portal.inspection_id) == []
    assert portal.container.records.find_text([WHERE]) == {}


def _inspection_events(portal: PortalUnderTest) -> list[dict[str, Any]]:
    repository: Any = portal.container.repository
    with repository.engine.connect() as connection:
        rows = connection.execute(
            select(AuditEventRow).where(AuditEventRow.inspection_id == portal.inspection_id)
        ).all()
    return [dict(row._mapping) for row in rows]
