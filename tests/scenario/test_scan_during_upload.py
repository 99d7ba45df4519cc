"""Uploads are scanned by real clamd while they arrive, through the API and the pages: a
clean one is recorded scanned with the signatures asked before its scan and the worker
does not send it to clamd again; an infected one is answered rejected at once, its
quarantined bytes gone (kept, quarantined, under a legal hold), audited and notified;
the parts of a PDF are still scanned by the worker."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient

from portal.app import create_app
from portal.bootstrap import make_scanner
from portal.domain.chase import Contacts
from portal.domain.documents import Area
from portal.domain.errors import ObjectMissing
from portal.domain.signatures import LOCAL_TEST_DATABASE_ID
from portal.settings import Settings
from tests import samples
from tests.clamd_peers import CountingScanner
from tests.conftest import ClamdProcess
from tests.factories import build_portal
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")

TEST_SIGNATURES = f"local+{LOCAL_TEST_DATABASE_ID}"
AGENCY_MAIL = "uploads@council.example"


@pytest.fixture
def worker_scanner(settings: Settings) -> CountingScanner:
    return CountingScanner(make_scanner(settings))


@pytest.fixture
def portal(
    settings: Settings, running_clamd: ClamdProcess, worker_scanner: CountingScanner
) -> PortalUnderTest:
    portal = start_portal(build_portal(settings, scanner=worker_scanner))
    portal.container.repository.set_contacts(
        portal.inspection_id, Contacts(agencies={"local_authority": (AGENCY_MAIL,)})
    )
    return portal


def _key(portal: PortalUnderTest, document_id: str) -> str:
    return f"{portal.inspection_id}/{document_id}"


def _rejection_mail(portal: PortalUnderTest) -> list[EmailMessage]:
    outbox = portal.container.settings.data_dir / "outbox"
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(outbox.glob("*rejection_notice.eml"))
    ]


def test_a_clean_upload_is_recorded_scanned_at_upload_and_the_worker_does_not_scan_it_again(
    portal: PortalUnderTest, worker_scanner: CountingScanner
) -> None:
    scanned_at = portal.container.clock.now()
    response = portal.upload("figures.csv", samples.csv_text(), item="1.1")

    assert response.status_code == 202, response.text
    assert (response.json()["status"], response.json()["final"]) == ("received", False)
    document = portal.container.repository.get_document(response.json()["id"])
    assert document is not None
    assert document.upload_scan_verdict == "clean"
    assert document.upload_scan_signatures == TEST_SIGNATURES
    assert document.upload_scanned_at == scanned_at

    portal.process_pending()

    assert worker_scanner.scans == 0
    decided = portal.status(document.id)
    assert decided["status"] == "accepted", decided
    assert decided["scan"]["signatures"] == TEST_SIGNATURES
    assert decided["scan"]["scanned_at"] == scanned_at.isoformat().replace("+00:00", "Z")


def test_an_infected_upload_is_answered_rejected_at_once_and_its_bytes_are_gone(
    portal: PortalUnderTest, worker_scanner: CountingScanner
) -> None:
    response = portal.upload("notes.txt", samples.eicar(), item="1.2")

    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["status"], answer["final"]) == ("rejected", True)
    assert [r["code"] for r in answer["reasons"]] == ["infected"]
    for area in Area:
        assert not portal.container.store.exists(area, _key(portal, answer["id"]))
    status = portal.status(answer["id"])
    assert status["status"] == "rejected"
    assert [r["code"] for r in status["reasons"]] == ["infected"]
    assert "Eicar" in status["detail"] or "EICAR" in status["detail"].upper()
    assert status["scan"]["signatures"] == TEST_SIGNATURES
    events = portal.container.repository.audit_events(answer["id"])
    assert [e["action"] for e in events] == ["document_received", "document_rejected"]
    assert events[1]["actor"] == "upload_scan"
    assert events[1]["detail"]["reasons"] == ["infected"]
    (notice,) = _rejection_mail(portal)
    assert notice["To"] == AGENCY_MAIL
    assert answer["id"] in notice.get_content()

    assert portal.process_pending() == []  # nothing left for the worker
    assert worker_scanner.scans == 0


def test_under_a_legal_hold_an_infected_upload_is_rejected_and_its_bytes_stay_quarantined(
    portal: PortalUnderTest,
) -> None:
    hold_id = portal.place_hold()

    answer = portal.upload("notes.txt", samples.eicar(), item="1.2").json()

    assert answer["status"] == "rejected"
    with portal.container.store.open(Area.quarantine, _key(portal, answer["id"])) as kept:
        assert kept.read() == samples.eicar()
    rejected = portal.container.repository.audit_events(answer["id"])[-1]
    assert rejected["detail"]["quarantine_kept_by_holds"] == [hold_id]
    read = portal.client.get(
        f"/v1/documents/{answer['id']}/content", headers=portal.auth("inspector")
    )
    assert read.status_code != 200


def test_under_a_legal_hold_a_document_the_worker_rejects_keeps_its_bytes_quarantined(
    portal: PortalUnderTest,
) -> None:
    # Clean to clamd as uploaded; the worker finds EICAR in the attachment it extracts.
    before = portal.upload("report.pdf", samples.eicar_pdf_attachment(), item="1.1").json()
    assert before["status"] == "received"  # for the worker to judge
    portal.process_pending()
    assert portal.status(before["id"])["status"] == "rejected"
    with (
        pytest.raises(ObjectMissing),
        portal.container.store.open(Area.quarantine, _key(portal, before["id"])),
    ):
        pass
    hold_id = portal.place_hold()

    answer = portal.upload("report.pdf", samples.eicar_pdf_attachment(), item="1.1").json()
    assert answer["status"] == "received"
    portal.process_pending()

    assert portal.status(answer["id"])["status"] == "rejected"
    with portal.container.store.open(Area.quarantine, _key(portal, answer["id"])) as kept:
        assert kept.read() == samples.eicar_pdf_attachment()
    rejected = portal.container.repository.audit_events(answer["id"])[-1]
    assert (rejected["action"], rejected["actor"]) == ("document_rejected", "pipeline")
    assert rejected["detail"]["quarantine_kept_by_holds"] == [hold_id]
    read = portal.client.get(
        f"/v1/documents/{answer['id']}/content", headers=portal.auth("inspector")
    )
    assert read.status_code != 200


def test_a_pdf_scanned_clean_at_upload_still_has_its_attachments_scanned_by_the_worker(
    portal: PortalUnderTest, worker_scanner: CountingScanner
) -> None:
    # clamd alone answers OK for this PDF; the sanitiser's extracted attachment is not.
    answer = portal.upload("report.pdf", samples.eicar_pdf_attachment(), item="1.1").json()
    assert answer["status"] == "received"
    document = portal.container.repository.get_document(answer["id"])
    assert document is not None and document.upload_scan_verdict == "clean"

    portal.process_pending()

    assert worker_scanner.scans == 1  # the attachment, not the whole file again
    status = portal.status(answer["id"])
    assert status["status"] == "rejected"
    assert [r["code"] for r in status["reasons"]] == ["infected"]
    assert "embedded" in status["detail"]


def _pages(portal: PortalUnderTest, who: str) -> TestClient:
    """A browser-like client signed in to the pages as `who`."""
    client = TestClient(create_app(portal.container), base_url="http://127.0.0.1")
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
    assert found
    client.post("/sign-in", data={"token": portal.tokens[who], "csrf_token": found.group(1)})
    return client


def test_the_upload_page_shows_an_infected_upload_not_accepted_at_once(
    portal: PortalUnderTest,
) -> None:
    client = _pages(portal, "local_authority")
    page = f"/inspections/{portal.inspection_id}/items/1.2/upload"
    form = client.get(page)
    assert form.status_code == 200, form.text[:300]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf

    sent = client.post(
        page,
        data={"csrf_token": csrf.group(1)},
        files={"file": ("notes.txt", samples.eicar(), "text/plain")},
        follow_redirects=True,
    )

    assert sent.status_code == 200, sent.text[:300]
    assert "Your file was not accepted" in sent.text
    assert "virus" in sent.text.lower()
