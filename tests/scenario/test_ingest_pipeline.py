"""Uploads go through the API, the ingest flow (on a Prefect server) and real clamd,
libmagic and pikepdf, into the store; only safe, typed, sanitised files become readable."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, BinaryIO

import pikepdf
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from flows.dispatcher import Dispatcher
from portal.adapters.clamd_scanner import ClamdScanner
from portal.adapters.mail import SmtpMailer
from portal.bootstrap import make_scanner
from portal.domain.batching import LINGERS_BESIDE_A_RUN
from portal.domain.chase import Contacts
from portal.domain.documents import Area
from portal.domain.ports import Scanner
from portal.domain.scanning import ScanReply
from portal.domain.signatures import Signatures
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal, settable_clock
from tests.integration.smtp_fixtures import SmtpServer
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture
def portal(settings: Settings, running_clamd: ClamdProcess) -> PortalUnderTest:
    return start_portal(build_portal(settings))


def _upload_and_process(
    portal: PortalUnderTest, filename: str, data: bytes, item: str = "1.1"
) -> dict[str, object]:
    response = portal.upload(filename, data, item=item)
    assert response.status_code == 202, response.text
    document_id = response.json()["id"]
    portal.process_pending()
    return portal.status(document_id)


@pytest.mark.parametrize(
    ("filename", "make"),
    [
        ("eicar.txt", samples.eicar),
        ("evidence.zip", samples.eicar_zip),
        ("nested.zip", samples.eicar_nested_zip),
        ("report.pdf", samples.eicar_pdf),
    ],
)
def test_rejects_eicar_wherever_it_hides_as_infected(
    portal: PortalUnderTest, filename: str, make: object
) -> None:
    status = _upload_and_process(portal, filename, make())  # type: ignore[operator]
    assert status["status"] == "rejected"
    assert [r["code"] for r in status["reasons"]] == ["infected"]
    assert "virus" in status["message"]
    assert not portal.container.store.exists(
        Area.quarantine, f"{portal.inspection_id}/{status['id']}"
    )
    assert not portal.container.store.exists(Area.clean, f"{portal.inspection_id}/{status['id']}")


@pytest.mark.parametrize("make", [samples.pe_executable, samples.elf_executable])
def test_rejects_an_executable_named_pdf(portal: PortalUnderTest, make: object) -> None:
    status = _upload_and_process(portal, "minutes.pdf", make())  # type: ignore[operator]
    assert status["status"] == "rejected"
    assert [r["code"] for r in status["reasons"]] == ["file_type_not_allowed"]


def test_accepts_pdf_with_javascript_and_attachment_and_stores_a_copy_without_them(
    portal: PortalUnderTest,
) -> None:
    status = _upload_and_process(portal, "plan.pdf", samples.pdf_with_active_content())
    assert status["status"] == "accepted", status
    warnings = {w["code"] for w in status["warnings"]}
    assert {"active_content_removed", "embedded_files_removed", "metadata_stripped"} <= warnings

    response = portal.client.get(
        f"/v1/documents/{status['id']}/content", headers=portal.auth("inspector")
    )
    assert response.status_code == 200
    stored = response.content
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        assert "/OpenAction" not in pdf.Root
        assert "/Names" not in pdf.Root or "/EmbeddedFiles" not in pdf.Root.Names
        assert not pdf.attachments
        assert "/Author" not in pdf.docinfo
        assert len(pdf.pages) >= 1
    assert b"/JavaScript" not in stored and b"/JS" not in stored
    assert b"Jane Example" not in stored
    assert (
        status["sha256"] != portal.container.repository.get_document(status["id"]).sha256_received
    )


def test_rejects_an_encrypted_pdf_as_encrypted(portal: PortalUnderTest) -> None:
    status = _upload_and_process(portal, "locked.pdf", samples.encrypted_pdf())
    assert status["status"] == "rejected"
    assert [r["code"] for r in status["reasons"]] == ["encrypted"]


@pytest.mark.parametrize(
    "make", [samples.eicar_pdf_attachment, samples.eicar_pdf_in_pdf_attachment]
)
def test_rejects_eicar_in_a_pdf_attachment_that_clamd_misses_as_infected(
    portal: PortalUnderTest, clamd: ClamdProcess, make: object
) -> None:
    data = make()  # type: ignore[operator]
    with io.BytesIO(data) as whole:  # clamd alone would let it through
        assert ClamdScanner(unix_socket=clamd.socket, timeout=10).scan(whole).raw == "stream: OK"

    status = _upload_and_process(portal, "report.pdf", data)

    assert status["status"] == "rejected", status
    assert [r["code"] for r in status["reasons"]] == ["infected"]
    assert "embedded" in status["detail"]
    assert status["warnings"] == []
    for area in Area:
        assert not portal.container.store.exists(area, f"{portal.inspection_id}/{status['id']}")


def test_rejects_a_pdf_with_a_zip_joined_to_it_as_type_mismatch(portal: PortalUnderTest) -> None:
    status = _upload_and_process(portal, "minutes.pdf", samples.pdf_zip_polyglot())

    assert status["status"] == "rejected", status
    assert [r["code"] for r in status["reasons"]] == ["type_mismatch"]
    assert "zip" in status["reasons"][0]["message"]
    assert "zip" in status["detail"]


def test_accepts_a_pdf_with_only_an_owner_password_decrypted_with_a_warning(
    portal: PortalUnderTest,
) -> None:
    status = _upload_and_process(portal, "restricted.pdf", samples.encrypted_pdf(user_password=""))

    assert status["status"] == "accepted", status
    assert "edit_restrictions_removed" in {w["code"] for w in status["warnings"]}
    response = portal.client.get(
        f"/v1/documents/{status['id']}/content", headers=portal.auth("inspector")
    )
    assert response.status_code == 200
    with pikepdf.open(io.BytesIO(response.content)) as pdf:
        assert not pdf.is_encrypted
        assert b"Encrypted case notes." in pdf.pages[0].Contents.read_bytes()


def test_rejects_a_truncated_pdf_as_corrupt(portal: PortalUnderTest) -> None:
    status = _upload_and_process(portal, "cut.pdf", samples.truncated_pdf())
    assert status["status"] == "rejected"
    assert [r["code"] for r in status["reasons"]] == ["corrupt"]


def test_a_document_uploaded_while_clamd_is_down_fails_then_is_accepted_after_a_rerun(
    portal: PortalUnderTest,
    clamd: ClamdProcess,
) -> None:
    clamd.stop()
    try:
        response = portal.upload("minutes.pdf", samples.pdf_text_pages(2))
        assert response.status_code == 202
        document_id = response.json()["id"]
        portal.process_pending()
        failed = portal.status(document_id)
        assert failed["status"] == "failed"
        assert [r["code"] for r in failed["reasons"]] == ["scanner_unavailable"]
        assert (
            portal.client.get(
                f"/v1/documents/{document_id}/content", headers=portal.auth("inspector")
            ).status_code
            == 409
        )
        assert portal.container.store.exists(
            Area.quarantine, f"{portal.inspection_id}/{document_id}"
        )
    finally:
        clamd.start()
    portal.process_pending()
    assert portal.status(document_id)["status"] == "accepted"


def test_a_document_whose_quarantine_area_cannot_be_read_is_retried_not_given_up(
    portal: PortalUnderTest,
) -> None:
    # The area is made unreadable for real, for any uid (root included, which chmod 000
    # would not stop): the directory is moved aside and a symlink loop put in its place,
    # so every read under it fails with ELOOP, an error that proves nothing is missing.
    document_id = portal.upload("minutes.pdf", samples.pdf_text_pages(2)).json()["id"]
    area = portal.container.settings.store_root / Area.quarantine.value
    aside = area.with_name("quarantine-unreadable")
    area.rename(aside)
    area.symlink_to(area.name)
    try:
        portal.process_pending()
        failed = portal.status(document_id)
    finally:
        area.unlink()
        aside.rename(area)

    assert failed["status"] == "failed", failed
    assert [r["code"] for r in failed["reasons"]] == ["store_unavailable"]
    assert "retried automatically" in failed["message"]
    assert not failed["final"]
    assert portal.container.store.exists(Area.quarantine, f"{portal.inspection_id}/{document_id}")

    portal.process_pending()  # the retry comes round once the area is readable again
    assert portal.status(document_id)["status"] == "accepted"


def test_a_lead_inspector_can_rerun_a_failed_document_at_once(
    portal: PortalUnderTest,
    clamd: ClamdProcess,
) -> None:
    clamd.stop()
    try:
        document_id = portal.upload("a.csv", samples.csv_text()).json()["id"]
        portal.process_pending()
    finally:
        clamd.start()
    response = portal.client.post(
        f"/v1/documents/{document_id}/reprocess", headers=portal.auth("lead_inspector")
    )
    assert response.status_code == 202, response.text
    portal.process_pending()
    assert portal.status(document_id)["status"] == "accepted"


@pytest.fixture
def dispatched_portal(settings: Settings, running_clamd: ClamdProcess) -> Iterator[PortalUnderTest]:
    container = build_portal(settings)
    dispatcher = Dispatcher(container)
    portal = start_portal(container)
    thread = threading.Thread(target=dispatcher.run_forever, daemon=True)
    thread.start()
    yield portal
    dispatcher.stop()
    thread.join(timeout=60)


def test_uploads_reach_a_final_status_through_the_dispatcher_without_further_calls(
    dispatched_portal: PortalUnderTest,
) -> None:
    ids = [
        dispatched_portal.upload(f"doc{i}.pdf", samples.pdf_of_size(50_000 + i)).json()["id"]
        for i in range(5)
    ]
    ids.append(dispatched_portal.upload("eicar.txt", samples.eicar()).json()["id"])
    final = [dispatched_portal.wait_final(i) for i in ids]
    assert [f["status"] for f in final] == ["accepted"] * 5 + ["rejected"]


def test_a_prefect_retry_of_the_flow_run_accepts_documents_once_clamd_is_back(
    settings: Settings,
    clamd: ClamdProcess,
) -> None:
    portal = start_portal(
        build_portal(
            settings.model_copy(update={"flow_retries": 1, "flow_retry_delay_seconds": 2.0})
        )
    )
    clamd.stop()
    try:
        document_id = portal.upload("minutes.pdf", samples.pdf_text_pages(1)).json()["id"]
        clamd.start_in_background(after_seconds=0.5)
        portal.process_pending()
    finally:
        if not clamd.running:
            clamd.start()
    assert portal.status(document_id)["status"] == "accepted"


def test_rerunning_a_finished_batch_changes_nothing(portal: PortalUnderTest) -> None:
    document_id = portal.upload("minutes.pdf", samples.pdf_text_pages(1)).json()["id"]
    dispatcher = Dispatcher(portal.container)
    token, ids = dispatcher.claim_batch()
    dispatcher.run_batch(ids, token)
    first = portal.status(document_id)
    events = portal.container.repository.audit_events(document_id)

    dispatcher.run_batch(ids, token)
    dispatcher.close()

    assert portal.status(document_id) == first
    assert portal.container.repository.audit_events(document_id) == events
    assert [e["action"] for e in events] == ["document_received", "document_accepted"]


def test_documents_of_a_crashed_run_are_released_by_the_reconciler_and_accepted(
    settings: Settings,
    running_clamd: ClamdProcess,
) -> None:
    container = build_portal(settings.model_copy(update={"processing_lease_seconds": 0.01}))
    portal = start_portal(container)
    document_id = portal.upload("minutes.pdf", samples.pdf_text_pages(1)).json()["id"]
    dispatcher = Dispatcher(container)
    _token, ids = dispatcher.claim_batch()  # the run that claimed them never finishes
    assert ids == [document_id]
    assert portal.status(document_id)["status"] == "processing"

    settable_clock(container).advance(timedelta(seconds=1))
    assert dispatcher.reconcile() == [document_id]
    portal.process_pending()
    assert portal.status(document_id)["status"] == "accepted"


class _ScannerWithSideEffects:
    """The real scanner, with something done around each scan (a test's doing)."""

    def __init__(self, inner: Scanner) -> None:
        self.inner = inner
        self.before: Callable[[], None] = lambda: None
        self.after: Callable[[], None] = lambda: None

    def scan(self, source: BinaryIO) -> ScanReply:
        self.before()
        reply = self.inner.scan(source)
        self.after()
        return reply

    def check(self) -> None:
        self.inner.check()

    def signatures(self) -> Signatures:
        return self.inner.signatures()


def test_a_batch_slower_than_its_lease_keeps_its_claim_from_the_reconciler(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    # Verdicts are recorded at the end of the batch, so a batch that takes longer than the
    # lease must renew its claim as it goes: each scan here takes 20 s of the portal's
    # clock, and a reconciler (another worker's) looks after each one. One clamd
    # connection: the scans follow each other, as the 20 s each on the test's clock say.
    scanner = _ScannerWithSideEffects(make_scanner(settings))
    container = build_portal(
        settings.model_copy(update={"processing_lease_seconds": 30, "clamd_connections": 1}),
        scanner=scanner,
    )
    portal = start_portal(container)
    ids = [portal.upload(f"m{n}.pdf", samples.pdf_text_pages(n + 1)).json()["id"] for n in range(3)]
    reconciler, released = Dispatcher(container), []

    def slow_scan_watched() -> None:
        settable_clock(container).advance(timedelta(seconds=20))
        released.extend(reconciler.reconcile())

    scanner.after = slow_scan_watched
    assert sorted(portal.process_pending()) == sorted(ids)
    assert released == []
    assert [portal.status(i)["status"] for i in ids] == ["accepted"] * 3


def test_a_document_that_breaks_a_step_is_parked_and_the_rest_of_its_batch_recorded(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    # The worker's scan step is what breaks here: no scan on arrival takes its place. One
    # clamd connection: the batch's scans follow each other in receipt order, so "the first
    # scan" is the first document's (with more, they race and either may come first).
    settings = settings.model_copy(update={"upload_scan_connections": 0, "clamd_connections": 1})
    scanner = _ScannerWithSideEffects(make_scanner(settings))
    portal = start_portal(build_portal(settings, scanner=scanner))
    ids = []
    for n in range(2):
        ids.append(portal.upload(f"m{n}.pdf", samples.pdf_text_pages(n + 1)).json()["id"])
        # A second apart: a batch is scanned in receipt order, and uploads received in the
        # same instant are ordered by (random) id.
        settable_clock(portal.container).advance(timedelta(seconds=1))
    first, second = ids
    scans = []

    def fail_the_first_scan() -> None:
        scans.append(1)
        if len(scans) == 1:
            raise RuntimeError("a fault of ours, not of a dependency")

    scanner.before = fail_the_first_scan
    assert sorted(portal.process_pending()) == sorted([first, second])
    parked, recorded = portal.status(first), portal.status(second)
    assert parked["status"] == "failed"
    assert [r["code"] for r in parked["reasons"]] == ["processing_error"]
    assert recorded["status"] == "accepted"
    portal.process_pending()  # parked for a person: not retried by itself
    assert portal.status(first)["status"] == "failed"


def test_the_same_file_uploaded_twice_for_an_item_is_accepted_with_a_duplicate_warning(
    portal: PortalUnderTest,
) -> None:
    data = samples.pdf_text_pages(2)
    first = _upload_and_process(portal, "minutes.pdf", data)
    # A second later: uploads received in the same instant are ordered by id.
    settable_clock(portal.container).advance(timedelta(seconds=1))
    second = _upload_and_process(portal, "minutes-copy.pdf", data)
    assert first["status"] == second["status"] == "accepted"
    assert "duplicate" not in {w["code"] for w in first["warnings"]}
    assert "duplicate" in {w["code"] for w in second["warnings"]}


def test_the_same_file_uploaded_twice_in_one_batch_is_accepted_once_plain_once_as_duplicate(
    portal: PortalUnderTest,
) -> None:
    data = samples.pdf_text_pages(2)
    ids = []
    for name in ("minutes.pdf", "copy.pdf"):
        ids.append(portal.upload(name, data).json()["id"])
        # A second apart: uploads received in the same instant are ordered by id.
        settable_clock(portal.container).advance(timedelta(seconds=1))
    assert sorted(portal.process_pending()) == sorted(ids)  # one flow run over both
    first, second = (portal.status(i) for i in ids)
    assert first["status"] == second["status"] == "accepted"
    assert "duplicate" not in {w["code"] for w in first["warnings"]}
    assert "duplicate" in {w["code"] for w in second["warnings"]}


def test_each_ingest_run_publishes_the_inspections_completeness_to_prefect(
    portal: PortalUnderTest,
) -> None:
    _upload_and_process(portal, "structure.pdf", samples.pdf_text_pages(1))

    async def latest() -> list[object]:
        async with get_client() as client:
            key = f"completeness-{portal.inspection_id}"
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
            )

    artifacts = asyncio.run(latest())
    assert artifacts, "no completeness artifact"
    markdown = str(artifacts[-1].data)  # type: ignore[attr-defined]
    assert "| local_authority | week2_tuesday_5pm |" in markdown


def test_a_rejected_upload_is_told_to_its_agency_at_once(
    settings: Settings,
    running_clamd: ClamdProcess,
    smtp_server: SmtpServer,
) -> None:
    container = build_portal(settings, mailer=SmtpMailer(smtp_server.host, smtp_server.port))
    portal = start_portal(container)
    container.repository.set_contacts(
        portal.inspection_id, Contacts(agencies={"local_authority": ("la@council.example",)})
    )
    status = _upload_and_process(portal, "minutes.txt", samples.eicar())
    assert status["status"] == "rejected"
    (notice,) = smtp_server.inbox.messages
    assert notice["To"] == "la@council.example"
    assert "virus scanner" in notice.get_content()
    assert status["id"] in notice.get_content()


def test_no_filename_reaches_prefect_in_artifacts_run_names_or_logs(
    portal: PortalUnderTest,
) -> None:
    """The Prefect server is beyond the retention run's reach: a filename carrying a
    child's name must never be sent there."""
    status = _upload_and_process(portal, "Jayden Okafor chronology.pdf", samples.pdf_text_pages(1))
    assert status["status"] == "accepted"

    async def every_page(read: Any) -> list[Any]:
        # The server answers a page at a time (200 by default): the whole suite's runs
        # leave more than that, so read them all, or the check could miss the one.
        found: list[Any] = []
        while page := await read(limit=200, offset=len(found)):
            found += page
        return found

    async def everything_prefect_holds() -> str:
        async with get_client() as client:
            artifacts = await every_page(client.read_artifacts)
            runs = await every_page(client.read_flow_runs)
            logs = await every_page(client.read_logs)
        return "\n".join(
            [str(a.data) + str(a.description) for a in artifacts]
            + [f"{r.name} {r.parameters} {r.tags}" for r in runs]
            + [log.message for log in logs]
        )

    held = asyncio.run(everything_prefect_holds())
    assert status["id"] in held, "the run's artifact should name the document by its id"
    assert "okafor" not in held.lower() and "jayden" not in held.lower()


def test_a_restarted_worker_takes_back_its_own_claims_at_once_and_no_one_elses(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    container = build_portal(settings.model_copy(update={"worker_id": "worker-a"}))
    portal = start_portal(container)
    mine = portal.upload("minutes.pdf", samples.pdf_text_pages(1)).json()["id"]
    _token, ids = Dispatcher(container).claim_batch()  # then worker-a dies mid-batch
    assert ids == [mine]
    other = build_portal(settings.model_copy(update={"worker_id": "worker-b"}))
    theirs = portal.upload("agenda.pdf", samples.pdf_text_pages(2)).json()["id"]
    assert Dispatcher(other).claim_batch()[1] == [theirs]  # worker-b is alive and busy

    # worker-a starts again, long before the 15-minute lease is up.
    assert Dispatcher(container).reclaim_own() == [mine]
    assert portal.status(mine)["status"] == "received"
    assert portal.status(theirs)["status"] == "processing"
    portal.process_pending()
    assert portal.status(mine)["status"] == "accepted"


def test_a_batch_starts_when_full_lingered_or_uploads_pause_but_not_while_they_arrive_or_a_run_goes(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    poll = 0.05
    container = build_portal(
        settings.model_copy(
            update={
                "batch_max_documents": 3,
                "batch_linger_seconds": 1.0,
                "dispatcher_poll_seconds": poll,
            }
        )
    )
    portal = start_portal(container)
    clock = settable_clock(container)
    dispatcher = Dispatcher(container)

    def upload(n: int) -> str:
        return str(portal.upload(f"note-{n}.pdf", samples.pdf_text_pages(n)).json()["id"])

    first = upload(1)
    assert dispatcher.claim_due_batch(runs_going=0)[1] == []  # just arrived: look again
    time.sleep(poll)
    second = upload(2)
    assert dispatcher.claim_due_batch(runs_going=0)[1] == []  # still arriving
    assert dispatcher.claim_due_batch(runs_going=0)[1] == []  # a look too soon after
    time.sleep(poll)
    claimed = dispatcher.claim_due_batch(runs_going=0)[1]  # nothing new for a poll: paused
    assert {d.id for d in claimed} == {first, second}

    third = upload(3)
    assert dispatcher.claim_due_batch(runs_going=1)[1] == []
    time.sleep(poll)
    assert dispatcher.claim_due_batch(runs_going=1)[1] == []  # a run is going: it waits
    clock.advance(timedelta(seconds=1))
    assert dispatcher.claim_due_batch(runs_going=1)[1] == []  # lingered: for the next run
    clock.advance(timedelta(seconds=LINGERS_BESIDE_A_RUN - 1))
    assert [d.id for d in dispatcher.claim_due_batch(runs_going=1)[1]] == [third]  # waited long

    full = {upload(n) for n in (4, 5, 6)}
    assert {d.id for d in dispatcher.claim_due_batch(runs_going=1)[1]} == full  # full: at once


def test_an_ingest_run_does_not_ask_the_server_where_to_store_results_it_never_stores(
    portal: PortalUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prefect.results

    asked: list[int] = []
    ask = prefect.results._read_server_default_result_storage_block_id
    monkeypatch.setattr(
        prefect.results,
        "_read_server_default_result_storage_block_id",
        lambda: asked.append(1) or ask(),
    )
    assert _upload_and_process(portal, "minutes.pdf", samples.pdf_text_pages(1))["status"] == (
        "accepted"
    )
    assert asked == []
