"""Every verdict records which clamd engine and signatures judged it, through the API and
the ingest flow on real clamd: asked once per batch, a change between batches seen; new
signatures put in place judge the next upload (a file the old ones let through, found);
/readyz and GET /v1/scanner say plainly when only the test signatures are loaded, and
report the portal degraded once the signatures are older than allowed (the container's
clock, never the machine's, against the database's date)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import pytest
from prefect.settings import PREFECT_API_URL

from portal.domain.ports import Scanner
from portal.domain.scanning import ScanReply
from portal.domain.signatures import LOCAL_TEST_DATABASE_ID, Signatures
from portal.http.upload_scan import SIGNATURES_REUSE_SECONDS
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal, settable_clock
from tests.scenario.harness import PortalUnderTest, start_portal
from tests.signature_databases import (
    OwnClamd,
    cud_database,
    ndb_database,
    own_clamd,  # noqa: F401 (a fixture)
    unique_pattern,
)

pytestmark = pytest.mark.usefixtures("prefect_server")

TEST_SIGNATURES = f"local+{LOCAL_TEST_DATABASE_ID}"


def _upload_and_process(
    portal: PortalUnderTest, filename: str, data: bytes, item: str = "1.1"
) -> dict[str, object]:
    response = portal.upload(filename, data, item=item)
    assert response.status_code == 202, response.text
    portal.process_pending()
    return portal.status(response.json()["id"])


def _pdf_with(pattern: bytes) -> bytes:
    """A clean PDF that carries `pattern` in a comment after its end."""
    return samples.pdf_text_pages(1) + b"%" + pattern + b"\n"


def test_an_accepted_document_records_the_engine_and_signatures_that_judged_it(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    portal = start_portal(build_portal(settings))
    scanned_at = portal.container.clock.now()

    accepted = _upload_and_process(portal, "structure.pdf", samples.pdf_text_pages(2))
    assert accepted["status"] == "accepted"
    engine = portal.container.scanner.signatures().engine
    assert accepted["scan"] == {
        "engine": engine,
        "signatures": TEST_SIGNATURES,
        "signatures_date": None,
        "local_test_signatures": True,
        "scanned_at": scanned_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    listed = portal.client.get(
        f"/v1/inspections/{portal.inspection_id}/documents", headers=portal.auth("inspector")
    ).json()["documents"]
    assert [d["scan"]["signatures"] for d in listed] == [TEST_SIGNATURES]

    infected = _upload_and_process(portal, "eicar.txt", samples.eicar(), item="1.2")
    assert infected["status"] == "rejected"
    assert infected["scan"]["signatures"] == TEST_SIGNATURES  # type: ignore[index]


class CountingScanner:
    """The real scanner, counting how often it is asked for its signatures, and reporting
    a ClamAV database version a test sets on top of what clamd says."""

    def __init__(self, inner: Scanner) -> None:
        self.inner = inner
        self.asked = 0
        self.database_version: int | None = None

    def scan(self, source: BinaryIO) -> ScanReply:
        return self.inner.scan(source)

    def check(self) -> None:
        self.inner.check()

    def signatures(self) -> Signatures:
        self.asked += 1
        loaded = self.inner.signatures()
        return loaded.model_copy(update={"database_version": self.database_version})


def test_signatures_are_asked_once_per_batch_and_a_change_between_batches_is_recorded(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    # The worker's asking is what this test watches: no scan on arrival answers for it.
    settings = settings.model_copy(update={"upload_scan_connections": 0})
    container = build_portal(settings)
    scanner = CountingScanner(container.scanner)
    portal = start_portal(build_portal(settings, scanner=scanner))
    scanner.database_version = 27505
    first = [
        portal.upload(f"{item}.pdf", samples.pdf_text_pages(n), item=item).json()["id"]
        for n, item in ((1, "1.1"), (2, "1.2"), (3, "1.3"))
    ]
    assert sorted(portal.process_pending()) == sorted(first)
    assert scanner.asked == 1

    scanner.database_version = 27506
    second = portal.upload("1.5.pdf", samples.pdf_text_pages(4), item="1.5").json()["id"]
    portal.process_pending()
    assert scanner.asked == 2

    recorded = [portal.status(d)["scan"]["signatures"] for d in [*first, second]]
    assert recorded == [f"27505+{LOCAL_TEST_DATABASE_ID}"] * 3 + [f"27506+{LOCAL_TEST_DATABASE_ID}"]


def test_new_signatures_judge_the_next_upload_and_each_verdict_names_its_own(
    tmp_path: Path,
    settings: Settings,
    own_clamd: OwnClamd,  # noqa: F811
) -> None:
    portal = start_portal(
        build_portal(settings.model_copy(update={"clamd_socket": own_clamd.socket}))
    )
    pattern = unique_pattern("RESCAN")
    upload = _pdf_with(pattern)

    before = _upload_and_process(portal, "panel-minutes.pdf", upload)
    assert before["status"] == "accepted", before
    assert before["scan"]["signatures"] == TEST_SIGNATURES  # type: ignore[index]

    own_clamd.install(ndb_database(tmp_path / "new", {"Jtai.Test.Panel": pattern}))
    # The API reads clamd's signatures again once its last reading has served its time.
    settable_clock(portal.container).advance(timedelta(seconds=SIGNATURES_REUSE_SECONDS))
    after = _upload_and_process(portal, "panel-minutes.pdf", upload, item="1.2")

    assert after["status"] == "rejected" and after["reasons"][0]["code"] == "infected"  # type: ignore[index]
    new_version = own_clamd.scanner().signatures().version
    assert after["scan"]["signatures"] == new_version != TEST_SIGNATURES  # type: ignore[index]
    assert portal.status(before["id"])["scan"]["signatures"] == TEST_SIGNATURES  # type: ignore[arg-type]


def test_readyz_says_plainly_that_only_the_local_test_signatures_are_loaded(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    ready_settings = settings.model_copy(update={"prefect_api_url": PREFECT_API_URL.value()})
    portal = start_portal(build_portal(ready_settings))

    response = portal.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "degraded"
    assert all(check["ok"] for check in body["checks"].values())
    signatures = body["signatures"]
    assert signatures["kind"] == "test"
    assert signatures["version"] == TEST_SIGNATURES
    assert signatures["degraded_because"] == "test_signatures_only"
    assert signatures["warning"].startswith("Only the portal's local test signatures are loaded")

    scanner = portal.client.get("/v1/scanner", headers=portal.auth("admin")).json()
    assert scanner["answers"] is True and scanner["signatures"] == signatures


def test_readyz_reports_degraded_once_the_signatures_are_older_than_allowed(
    tmp_path: Path,
    settings: Settings,
    own_clamd: OwnClamd,  # noqa: F811
) -> None:
    published = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    own_clamd.install(
        cud_database(tmp_path / "daily", 27600, published, {"Jtai.Daily": unique_pattern("X")})
    )
    ready_settings = settings.model_copy(
        update={"prefect_api_url": PREFECT_API_URL.value(), "clamd_socket": own_clamd.socket}
    )
    portal = start_portal(build_portal(ready_settings), now=published + timedelta(days=2))

    fresh = portal.client.get("/readyz").json()
    assert fresh["status"] == "ready"
    assert fresh["signatures"]["kind"] == "official"
    assert fresh["signatures"]["database_version"] == 27600
    assert fresh["signatures"]["age_hours"] == 48.0
    assert fresh["signatures"]["degraded"] is False

    settable_clock(portal.container).set(published + timedelta(days=3, hours=1))
    response = portal.client.get("/readyz")
    assert response.status_code == 200
    stale = response.json()
    assert stale["status"] == "degraded"
    assert stale["signatures"]["degraded_because"] == "signatures_stale"
    assert stale["signatures"]["age_hours"] == 73.0
    assert "3 days 1 hour old" in stale["signatures"]["warning"]


def test_readyz_is_not_ready_and_the_scanner_view_says_so_when_clamd_does_not_answer(
    settings: Settings, clamd: ClamdProcess
) -> None:
    portal = start_portal(build_portal(settings))
    clamd.stop()
    try:
        ready = portal.client.get("/readyz")
        scanner = portal.client.get("/v1/scanner", headers=portal.auth("admin")).json()
    finally:
        clamd.start()
    assert ready.status_code == 503 and ready.json()["signatures"] is None
    assert scanner["answers"] is False and "clamd" in scanner["error"]
