"""A document accepted through the pipeline is found infected when it is scanned again:
withdrawn at once. Through the API: its status says why, its content is refused with what
to do, its item is missing again, the agency and the lead inspector are told, the audit
log records it; under a legal hold its bytes stay quarantined and unreadable."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

import pytest

from portal.domain.chase import Contacts
from portal.domain.documents import Area
from portal.services.withdrawal import withdraw_infected
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")

SIGNATURE = "Pdf.Exploit.Rescan-1"
SCANNER = "ClamAV 1.0.7/27433/Tue Dec  1 06:00:00 2026"
AGENCY_MAIL = "uploads@council.example"
LEAD_MAIL = "lead@inspectorate.example"


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    portal = start_portal(build_portal(settings))
    portal.container.repository.set_contacts(
        portal.inspection_id,
        Contacts(lead_inspector=(LEAD_MAIL,), agencies={"local_authority": (AGENCY_MAIL,)}),
    )
    return portal


def _accepted(portal: PortalUnderTest, filename: str, **fields: str) -> str:
    response = portal.upload(filename, samples.pdf_text_pages(1), item="1.1", **fields)
    assert response.status_code == 202, response.text
    portal.process_pending()
    document_id: str = response.json()["id"]
    assert portal.wait_final(document_id)["status"] == "accepted"
    return document_id


def _item(portal: PortalUnderTest, number: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The deadline and the item `number` of the local authority's completeness."""
    response = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/completeness",
        params={"agency": "local_authority"},
        headers=portal.auth("lead_inspector"),
    )
    assert response.status_code == 200, response.text
    for deadline in response.json()["deadlines"]:
        for item in deadline["items"]:
            if item["number"] == number:
                return deadline, item
    raise AssertionError(f"no item {number}")


def _content(portal: PortalUnderTest, document_id: str, who: str = "inspector") -> Any:
    return portal.client.get(f"/v1/documents/{document_id}/content", headers=portal.auth(who))


def _mail(portal: PortalUnderTest) -> list[EmailMessage]:
    outbox = portal.container.settings.data_dir / "outbox"
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(outbox.glob("*withdrawal_notice.eml"))
    ]


def test_an_accepted_document_found_infected_on_rescan_is_withdrawn_at_once(
    portal: PortalUnderTest,
) -> None:
    document_id = _accepted(portal, "structures.pdf")
    assert _content(portal, document_id).status_code == 200
    deadline, item = _item(portal, "1.1")
    assert item["accepted"] == 1 and "1.1" not in deadline["missing"]

    done = withdraw_infected(portal.container, document_id, SIGNATURE, SCANNER)
    assert done.outcome == "withdrawn"

    status = portal.status(document_id)
    assert (status["status"], status["final"]) == ("withdrawn", True)
    assert [r["code"] for r in status["reasons"]] == ["infected_on_rescan"]
    assert "upload a clean copy" in status["reasons"][0]["message"]
    assert status["message"].startswith("This file was withdrawn after it was accepted.")
    assert SIGNATURE in status["detail"] and SCANNER in status["detail"]

    for who in ("inspector", "lead_inspector"):
        refused = _content(portal, document_id, who)
        assert refused.status_code == 410
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["code"] == "document_withdrawn"
        assert problem["reasons"] == ["infected_on_rescan"]
        assert "clean copy" in problem["detail"] and "delete your copy" in problem["detail"]

    deadline, item = _item(portal, "1.1")
    assert (item["accepted"], item["withdrawn"]) == (0, 1)
    assert item["rejection_reasons"] == ["infected_on_rescan"]
    assert "1.1" in deadline["missing"] and "1.1" in deadline["rejected"]

    listed = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/documents",
        params={"status": "withdrawn"},
        headers=portal.auth("inspector"),
    ).json()["documents"]
    assert [(d["id"], d["viewing"]["rule"]) for d in listed] == [(document_id, "withdrawn")]

    mail = {message["To"]: message for message in _mail(portal)}
    assert set(mail) == {AGENCY_MAIL, LEAD_MAIL}
    assert "an upload for 1.1 was withdrawn" in mail[AGENCY_MAIL]["Subject"]
    assert not any("structures.pdf" in m["Subject"] + m.get_content() for m in mail.values())
    agency_body = mail[AGENCY_MAIL].get_content()
    assert "newer virus definitions" in agency_body and "clean copy" in agency_body
    assert f"/inspections/{portal.inspection_id}/checklist" in agency_body
    assert "delete their copy" in mail[LEAD_MAIL].get_content()

    actions = [e["action"] for e in portal.container.repository.audit_events(document_id)]
    assert actions[actions.index("document_accepted") :] == [
        "document_accepted",
        "document_viewed",
        "document_withdrawn",
        "withdrawn_content_deleted",
        "document_view_denied",  # the inspector's attempt
        "document_view_denied",  # the lead inspector's
    ]
    key = f"{portal.inspection_id}/{document_id}"
    assert not any(portal.container.store.exists(area, key) for area in Area)

    # A second call (the rescan run retried) changes nothing and sends nothing more.
    assert withdraw_infected(portal.container, document_id, SIGNATURE, SCANNER).outcome == (
        "already_withdrawn"
    )
    assert len(_mail(portal)) == 2
    assert len(portal.container.repository.audit_events(document_id)) == len(actions)


def test_a_clean_copy_is_accepted_and_completes_the_item_again(portal: PortalUnderTest) -> None:
    document_id = _accepted(portal, "structures.pdf")
    withdraw_infected(portal.container, document_id, SIGNATURE, SCANNER)

    copy = _accepted(portal, "structures-clean.pdf")

    assert not {w["code"] for w in portal.status(copy)["warnings"]} & {"duplicate"}
    deadline, item = _item(portal, "1.1")
    assert (item["accepted"], item["withdrawn"]) == (1, 1)
    assert "1.1" not in deadline["missing"] and "1.1" not in deadline["rejected"]
    assert _content(portal, copy).status_code == 200


def test_under_a_legal_hold_a_withdrawn_health_record_stays_quarantined_and_unreadable(
    portal: PortalUnderTest,
) -> None:
    document_id = _accepted(portal, "health-plan.pdf", health_information="true")
    key = f"{portal.inspection_id}/{document_id}"
    assert portal.container.store.exists(Area.onsite, key)
    with portal.container.store.open(Area.onsite, key) as accepted:
        accepted_bytes = accepted.read()
    hold_id = portal.place_hold()

    done = withdraw_infected(portal.container, document_id, SIGNATURE, SCANNER)

    assert done.hold_ids == (hold_id,)
    assert portal.status(document_id)["status"] == "withdrawn"
    assert not portal.container.store.exists(Area.onsite, key)
    assert not portal.container.store.exists(Area.clean, key)
    with portal.container.store.open(Area.quarantine, key) as kept:
        assert kept.read() == accepted_bytes
    for who in ("inspector", "lead_inspector"):
        assert _content(portal, document_id, who).json()["code"] == "document_withdrawn"
    events = portal.container.repository.audit_events(document_id)
    settled = next(e for e in events if e["action"] == "withdrawn_content_quarantined")
    assert settled["detail"]["hold_ids"] == [hold_id]
