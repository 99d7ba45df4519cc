"""A domestic-abuse inspection from notification to retention: timeline, lists, shortlist,
audit selection, case records and audits, with completeness checked at each deadline; then
the name register, the letter, a legal hold and the retention runs that delete it all."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.adapters.db.audit_log import verify_audit_log
from portal.domain.timeline import LONDON
from portal.services.retention_runs import run_retention
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import TEST_NOW, build_portal
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")

SHORTLIST = [f"DA-{n:03d}" for n in range(1, 21)]
DA_FIELD = "Has the child been a victim of domestic abuse? (Y/N)"
LIST_4 = (
    f'Child ID,Assessment start date,"{DA_FIELD}",Notes\r\n'
    'DA-001,2025-01-03,Y,"=HYPERLINK(""http://example.invalid"")"\r\n'
    "DA-002,2025-02-11,N,\r\n"
).encode()
LIST_WITH_NAMES = (f'Child ID,Forename,Surname,"{DA_FIELD}"\r\nDA-001,Jane,Example,Y\r\n').encode()
LIST_WITHOUT_THEME_FIELD = b"Child ID,Assessment start date\r\nDA-001,2025-01-03\r\n"
AUDITED = SHORTLIST[:6]


def _fieldwork_start() -> date:
    """A Monday three weeks after the tests' now, so every upload in the test happens
    before notification."""
    today = TEST_NOW.date()
    return today + timedelta(days=(7 - today.weekday()) % 7 + 21)


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    return start_portal(build_portal(settings), fieldwork_start=_fieldwork_start(), now=TEST_NOW)


def _completeness(
    portal: PortalUnderTest, as_of: str, who: str = "lead_inspector"
) -> dict[tuple[str, str | None], dict[str, Any]]:
    response = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/completeness",
        params={"as_of": as_of},
        headers=portal.auth(who),
    )
    assert response.status_code == 200, response.text
    return {(d["agency"], d["deadline"]): d for d in response.json()["deadlines"]}


def _accepted(portal: PortalUnderTest, response: Any) -> str:
    assert response.status_code == 202, response.text
    document_id: str = response.json()["id"]
    portal.process_pending()
    status = portal.status(document_id, who="lead_inspector")
    assert status["status"] == "accepted", status
    return document_id


def _after(deadline: str) -> str:
    return (datetime.fromisoformat(deadline) + timedelta(minutes=1)).isoformat()


def test_a_domestic_abuse_inspection_from_notification_to_retention(
    portal: PortalUnderTest,
) -> None:
    client: TestClient = portal.client
    inspection = client.get(
        f"/v1/inspections/{portal.inspection_id}", headers=portal.auth("lead_inspector")
    ).json()
    due = {d["key"]: d["due"] for d in inspection["deadlines"]}
    fieldwork = date.fromisoformat(inspection["fieldwork_start"])
    assert date.fromisoformat(inspection["notification_date"]) <= fieldwork - timedelta(days=14)
    tuesday_5pm = datetime.fromisoformat(due["week1_tuesday_5pm"]).astimezone(LONDON)
    assert (tuesday_5pm.weekday(), tuesday_5pm.hour) == (1, 17)
    notified = inspection["notification_date"] + "T09:00:00+00:00"

    # Notification: everything is asked for, nothing is late yet.
    start = _completeness(portal, notified)
    lists = start[("local_authority", "week1_tuesday_5pm")]
    assert "list:ilacs_list_4_assessments" in lists["missing"]
    assert lists["overdue"] == []

    # Week 1 Tuesday: the local authority shares ILACS list 4. A list with names is refused;
    # one with unique IDs is accepted, a formula cell stored as text.
    named = portal.upload("list4.csv", LIST_WITH_NAMES, item="list:ilacs_list_4_assessments")
    portal.process_pending()
    refused = portal.status(named.json()["id"], who="lead_inspector")
    assert [r["code"] for r in refused["reasons"]] == ["names_in_child_list"]
    no_field = portal.upload(
        "list4.csv", LIST_WITHOUT_THEME_FIELD, item="list:ilacs_list_4_assessments"
    )
    portal.process_pending()
    assert [
        r["code"] for r in portal.status(no_field.json()["id"], who="lead_inspector")["reasons"]
    ] == ["missing_required_columns"]
    list_id = _accepted(
        portal, portal.upload("list4.csv", LIST_4, item="list:ilacs_list_4_assessments")
    )
    stored = portal.client.get(
        f"/v1/documents/{list_id}/content", headers=portal.auth("inspector")
    ).content
    assert b"'=HYPERLINK" in stored
    assert "formula_cells_neutralised" in {
        w["code"] for w in portal.status(list_id, who="lead_inspector")["warnings"]
    }
    tuesday = _completeness(portal, _after(due["week1_tuesday_5pm"]))
    lists = tuesday[("local_authority", "week1_tuesday_5pm")]
    assert "list:ilacs_list_4_assessments" not in lists["missing"]
    assert "list:ilacs_list_6_children_in_need" in lists["overdue"]

    # An uploader sees only its own agency.
    own = _completeness(portal, notified, who="local_authority")
    assert {agency for agency, _ in own} == {"local_authority"}

    # Week 1: the lead inspector shortlists 20 children, then picks 6 to audit.
    chosen = client.post(
        f"/v1/inspections/{portal.inspection_id}/selections",
        headers=portal.auth("lead_inspector"),
        json={"stage": "audit", "child_ids": AUDITED},
    )
    assert chosen.status_code == 422 and chosen.json()["code"] == "child_not_shortlisted"
    # The 20 are chosen from the lists provided: list 4 names only DA-001 and DA-002.
    off_the_lists = client.post(
        f"/v1/inspections/{portal.inspection_id}/selections",
        headers=portal.auth("lead_inspector"),
        json={"stage": "shortlist", "child_ids": SHORTLIST},
    )
    assert off_the_lists.json()["code"] == "child_not_on_accepted_list"
    assert "DA-003" in off_the_lists.json()["detail"]
    portal.accept_list(SHORTLIST[2:])
    assert (
        client.post(
            f"/v1/inspections/{portal.inspection_id}/selections",
            headers=portal.auth("lead_inspector"),
            json={"stage": "shortlist", "child_ids": SHORTLIST},
        ).status_code
        == 200
    )
    too_few = client.post(
        f"/v1/inspections/{portal.inspection_id}/selections",
        headers=portal.auth("lead_inspector"),
        json={"stage": "audit", "child_ids": AUDITED[:3]},
    )
    assert too_few.json()["code"] == "wrong_number_of_children"
    selections = client.post(
        f"/v1/inspections/{portal.inspection_id}/selections",
        headers=portal.auth("lead_inspector"),
        json={"stage": "audit", "child_ids": AUDITED},
    ).json()
    slots = {(s["agency"], s["child_id"]) for s in selections["case_record_slots"]}
    assert ("health", AUDITED[0]) in slots and len(slots) == 6 * 4
    health_view = client.get(
        f"/v1/inspections/{portal.inspection_id}/selections", headers=portal.auth("health")
    ).json()
    assert {s["agency"] for s in health_view["case_record_slots"]} == {"health"}

    # Week 2: case records for selected children only; audits from the partnership.
    refused = portal.upload(
        "records.pdf",
        samples.pdf_text_pages(1),
        item="case_record",
        who="health",
        child_id="DA-020",
    )
    assert refused.status_code == 422 and refused.json()["code"] == "child_not_selected"
    health_record = _accepted(
        portal,
        portal.upload(
            "records.pdf",
            samples.pdf_text_pages(2),
            item="case_record",
            who="health",
            child_id=AUDITED[0],
        ),
    )
    _accepted(
        portal,
        portal.upload("audit.pdf", samples.pdf_text_pages(3), item="audit", child_id=AUDITED[0]),
    )

    # Annex A with a look-back: a date is needed, and it must fall inside the period.
    no_date = portal.upload("audits.pdf", samples.pdf_text_pages(1), item="1.4")
    assert no_date.json()["code"] == "document_date_required"
    too_old = portal.upload(
        "audits.pdf",
        samples.pdf_text_pages(1),
        item="1.4",
        document_date=(fieldwork - timedelta(days=800)).isoformat(),
    )
    assert too_old.json()["code"] == "outside_lookback"
    _accepted(
        portal,
        portal.upload(
            "audits.pdf",
            samples.pdf_text_pages(4),
            item="1.4",
            document_date=(fieldwork - timedelta(days=60)).isoformat(),
        ),
    )

    week2 = _completeness(portal, _after(due["week2_tuesday_5pm"]))
    health = week2[("health", "week2_tuesday_5pm")]
    assert f"case_record:{AUDITED[0]}" not in health["missing"]
    assert f"case_record:{AUDITED[1]}" in health["overdue"]
    annex = week2[("local_authority", "week2_tuesday_5pm")]
    assert "1.4" not in annex["missing"] and "1.1" in annex["overdue"]
    audits_before = _completeness(portal, due["week2_tuesday_5pm"])
    assert audits_before[("local_authority", "week2_end_of_thursday")]["overdue"] == []
    audits = _completeness(portal, _after(due["week2_end_of_thursday"]))
    # The local authority shares the multi-agency audits for the partnership (whoever
    # sends one); each health service owes its own single-agency audit (001 para 119).
    shared = audits[("local_authority", "week2_end_of_thursday")]
    assert shared["missing"] == [f"audit:{c}" for c in AUDITED[1:]] + [
        f"request:practitioner_meetings:{c}" for c in AUDITED
    ]
    assert shared["overdue"] == shared["missing"]
    health_audits = audits[("health", "week2_end_of_thursday")]
    assert health_audits["missing"] == [f"agency_audit:{c}" for c in AUDITED]

    # The lead inspector gives the agencies another day for week 2's items.
    moved_to = (datetime.fromisoformat(due["week2_tuesday_5pm"]) + timedelta(days=1)).isoformat()
    moved = client.put(
        f"/v1/inspections/{portal.inspection_id}/deadlines/week2_tuesday_5pm",
        headers=portal.auth("lead_inspector"),
        json={"due": moved_to, "reason": "IT outage at the council"},
    )
    assert moved.status_code == 200, moved.text
    week2_moved = _completeness(portal, _after(due["week2_tuesday_5pm"]))
    assert week2_moved[("health", "week2_tuesday_5pm")]["overdue"] == []

    _retention(portal, list_id, health_record)


def _retention(portal: PortalUnderTest, list_id: str, health_record: str) -> None:
    """After fieldwork: names go at its end, evidence after the complaint window, except
    what a legal hold keeps until it is lifted. Deleting runs are called with a simulated
    date (the API's deleting runs work as of now)."""
    client, url = portal.client, f"/v1/inspections/{portal.inspection_id}"
    lead = portal.auth("lead_inspector")
    records = _records_officer(portal)
    named = client.post(
        f"{url}/name-register", headers=lead, json={"name": "Jane Example", "reference": "DA-001"}
    )
    assert named.status_code == 201, named.text
    schedule = client.get(f"{url}/retention", headers=records).json()
    fieldwork_end = date.fromisoformat(schedule["recorded"]["fieldwork_end"])
    evening = datetime.combine(fieldwork_end, time(18), tzinfo=LONDON)

    preview = client.post(
        "/v1/retention/runs", headers=records, json={"as_of": evening.isoformat()}
    ).json()
    assert "would_reduce_names" in {e["action"] for e in preview["entries"]}
    run_retention(portal.container, dry_run=False, as_of=evening)
    assert portal.container.records.find_text(["Jane Example"]) == {}
    assert [n["name"] for n in client.get(f"{url}/name-register", headers=lead).json()] == ["J.E."]

    published = fieldwork_end + timedelta(days=49)
    assert (
        client.put(
            f"{url}/events/letter_published", headers=lead, json={"on": published.isoformat()}
        ).status_code
        == 204
    )
    hold = client.post(
        f"{url}/legal-holds",
        headers=records,
        json={"document_id": health_record, "reason": "Complaint C-1 about the findings"},
    ).json()
    after_window = datetime.combine(published + timedelta(days=30), time(3), tzinfo=LONDON)
    run = run_retention(portal.container, dry_run=False, as_of=after_window)
    actions = {e.record_id: e.action for e in run.entries if e.record_kind == "document"}
    assert actions[list_id] == "deleted" and actions[health_record] == "held"
    assert all(a in ("deleted", "held") for a in actions.values())
    gone = client.get(f"/v1/documents/{list_id}/content", headers=portal.auth("inspector"))
    assert gone.status_code == 410 and gone.json()["code"] == "document_deleted"

    client.post(
        f"/v1/legal-holds/{hold['id']}/lift", headers=records, json={"reason": "Complaint closed"}
    )
    run = run_retention(portal.container, dry_run=False, as_of=after_window)
    assert [(e.record_id, e.action) for e in run.entries if e.record_kind == "document"] == [
        (health_record, "deleted")
    ]
    record = client.get(f"/v1/retention/runs/{run.id}", headers=records).json()
    assert record["entries"][0]["proof"]["versions_remaining"] == 0
    # Everything above left a trace in the audit log, and its hash chains still verify.
    assert verify_audit_log(portal.container.repository.engine, portal.container.audit_keys).ok


def _records_officer(portal: PortalUnderTest) -> dict[str, str]:
    response = portal.client.post(
        f"/v1/inspections/{portal.inspection_id}/tokens",
        headers=portal.auth("admin"),
        json={"role": "records_officer"},
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_at_each_deadline_exactly_what_is_still_missing_for_it_becomes_overdue(
    portal: PortalUnderTest,
) -> None:
    inspection = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}", headers=portal.auth("lead_inspector")
    ).json()
    deadlines = inspection["deadlines"]
    assert [d["key"] for d in deadlines] == sorted(
        (d["key"] for d in deadlines),
        key=lambda k: next(x["due"] for x in deadlines if x["key"] == k),
    )
    _accepted(portal, portal.upload("structure.pdf", samples.pdf_text_pages(1), item="1.1"))
    for deadline in deadlines:
        just_before = _completeness(
            portal, (datetime.fromisoformat(deadline["due"]) - timedelta(minutes=1)).isoformat()
        )
        just_after = _completeness(portal, _after(deadline["due"]))
        for (agency, key), state in just_after.items():
            due = state["due"]
            if key == deadline["key"]:
                assert just_before[(agency, key)]["overdue"] == []
                assert state["overdue"] == state["missing"]
            elif due is not None and datetime.fromisoformat(due) > datetime.fromisoformat(
                deadline["due"]
            ):
                assert state["overdue"] == [], (agency, key)
    annex = _completeness(portal, _after(deadlines[-1]["due"]))
    assert "1.1" not in annex[("local_authority", "week2_tuesday_5pm")]["overdue"]
