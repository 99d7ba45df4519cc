"""The shortlist is chosen from the lists the agencies provided: lists go through the real
pipeline, the children they name are kept with them, a shortlist naming a child on no
accepted list is refused (API and the lead's page), and a list that misses the theme's
mix says so to the uploader and on the selection. Retention takes the children with the
list."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from portal.app import create_app
from portal.domain.timeline import LONDON
from portal.services.retention_runs import run_retention
from portal.settings import Settings
from tests.conftest import ClamdProcess
from tests.factories import build_portal
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")

LIST_OF_TEN = "list:at_least_two_agencies_involved"
# Para 114 asks for at least 2 of each age group "if possible": this list has no child
# aged 2 to 4 and one aged under 2. The agencies column holds a name, which is never kept.
SHORT_OF_AGES = (
    b"Child ID,Age group,Agencies involved,CIN / CP / CiC\r\n"
    b"DA-001,Unborn,Police and Jane Example,CP\r\n"
    b"DA-002,unborn,Health,CIN\r\n"
    b"da 003,Under 2,Probation,CP\r\n"
    b"DA-004,5 to 7,Police,CiC\r\n"
    b"DA-005,5-7,Police,CP\r\n"
)


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    return start_portal(build_portal(settings))


def _shortlist(portal: PortalUnderTest, child_ids: list[str]) -> tuple[int, dict[str, object]]:
    response = portal.client.post(
        f"/v1/inspections/{portal.inspection_id}/selections",
        headers=portal.auth("lead_inspector"),
        json={"stage": "shortlist", "child_ids": child_ids},
    )
    if response.status_code != 200:
        assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    return response.status_code, body


def _accepted_list(portal: PortalUnderTest) -> str:
    response = portal.upload("ten.csv", SHORT_OF_AGES, item=LIST_OF_TEN)
    assert response.status_code == 202, response.text
    portal.process_pending()
    return str(response.json()["id"])


def test_a_shortlist_naming_a_child_on_no_accepted_list_is_refused_and_one_from_the_lists_is_recorded(  # noqa: E501
    portal: PortalUnderTest,
) -> None:
    status, refused = _shortlist(portal, ["DA-001"])
    assert status == 422 and refused["code"] == "child_not_on_accepted_list"

    list_id = _accepted_list(portal)
    accepted = portal.status(list_id)
    assert accepted["status"] == "accepted", accepted
    warning = next(w for w in accepted["warnings"] if w["code"] == "mix_not_met")
    assert "upload a list that has the mix" in warning["message"]
    assert "para 114 asks, if possible, for at least 2 children" in accepted["detail"]
    assert "children aged under 2 years old: 1" in accepted["detail"]
    assert "children aged 2 to 4 years old: 0" in accepted["detail"]

    status, refused = _shortlist(portal, ["DA-001", "DA-404", "DA-002"])
    assert status == 422 and refused["code"] == "child_not_on_accepted_list"
    assert "DA-404" in str(refused["detail"]) and "DA-001" not in str(refused["detail"])

    status, chosen = _shortlist(portal, ["DA-001", "DA003", "da-005"])
    assert status == 200, chosen
    assert chosen["shortlist"] == ["DA-001", "DA003", "da-005"]
    (note,) = chosen["mix_notes"]  # type: ignore[misc]
    assert note["document_id"] == list_id
    assert note["list_title"].startswith("up to 10 children for whom the local authority")
    assert "children aged 2 to 4 years old: 0" in note["shortfall"]

    keys = {e.child_key for e in portal.container.repository.listed_children(portal.inspection_id)}
    assert keys == {"da-001", "da-002", "da003", "da-004", "da-005"}
    assert portal.container.records.find_text(["Jane Example"]) == {}


def test_the_lead_s_children_page_shows_the_refusal_and_the_lists_that_miss_their_mix(
    portal: PortalUnderTest,
) -> None:
    _accepted_list(portal)
    with TestClient(create_app(portal.container), base_url="http://127.0.0.1") as pages:
        page = pages.get("/sign-in")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        signed_in = pages.post(
            "/sign-in",
            data={"token": portal.tokens["lead_inspector"], "csrf_token": csrf.group(1)},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        url = f"/inspections/{portal.inspection_id}/children"
        page = pages.get(url)
        assert 'id="mix-notes"' in page.text and "para 114 asks, if possible" in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None

        refused = pages.post(
            url,
            data={"stage": "shortlist", "shortlist": "DA-001\nDA-404", "csrf_token": csrf.group(1)},
            follow_redirects=False,
        )

    assert refused.status_code == 400
    assert (
        "Not on any accepted list of children of this inspection: DA-404. Shortlist children "
        "from the lists the agencies provided"
    ) in refused.text.replace("\n", " ")
    assert 'href="#shortlist"' in refused.text


def test_retention_deletes_the_children_a_list_names_with_the_list(
    portal: PortalUnderTest,
) -> None:
    list_id = _accepted_list(portal)
    other_id = portal.accept_list(["DA-101", "DA-102"])
    assert _shortlist(portal, ["DA-001", "DA-101"])[0] == 200
    client, url = portal.client, f"/v1/inspections/{portal.inspection_id}"
    hold = client.post(
        f"{url}/legal-holds",
        headers=_records_officer(portal),
        json={"document_id": other_id, "reason": "Complaint C-1"},
    )
    assert hold.status_code == 201, hold.text

    published = date(2027, 2, 1)
    assert (
        client.put(
            f"{url}/events/letter_published",
            headers=portal.auth("lead_inspector"),
            json={"on": published.isoformat()},
        ).status_code
        == 204
    )
    later = datetime.combine(published + timedelta(days=400), time(3), tzinfo=LONDON)
    run = run_retention(portal.container, dry_run=False, as_of=later)

    deleted = next(e for e in run.entries if e.record_id == list_id)
    assert deleted.action == "deleted" and deleted.proof["listed_children_deleted"] == 5
    held = next(e for e in run.entries if e.record_id == other_id)
    assert held.action == "held"
    left = portal.container.repository.listed_children(portal.inspection_id)
    assert {(e.document_id, e.child_key) for e in left} == {
        (other_id, "da-101"),
        (other_id, "da-102"),
    }
    with portal.container.repository.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT count(*) FROM listed_children WHERE document_id = :id"), {"id": list_id}
        ).scalar()
    assert rows == 0
    status, refused = _shortlist(portal, ["DA-001"])
    assert status == 422 and refused["code"] == "child_not_on_accepted_list"


def _records_officer(portal: PortalUnderTest) -> dict[str, str]:
    response = portal.client.post(
        f"/v1/inspections/{portal.inspection_id}/tokens",
        headers=portal.auth("admin"),
        json={"role": "records_officer"},
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
