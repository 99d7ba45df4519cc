"""The scan step sends a batch's documents to clamd several at once, up to the clamd
connection count and no further, and each document gets the verdict it would get alone."""

from __future__ import annotations

import io
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from portal.adapters.clamd_scanner import ClamdScanner
from portal.bootstrap import Container, make_scanner
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.ports import Scanner
from portal.domain.reasons import ReasonCode
from portal.domain.scanning import ScanReply
from portal.ingest import DocumentResult, process_batch
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import T0, TEST_NOW, add_inspection, build_portal

ITEMS = ("1.1", "1.2", "1.3", "1.5", "1.6", "1.7", "1.8", "1.9")


class InFlightScanner:
    """The real clamd scanner, counting the scans under way at once (the most seen), and
    sending the documents a test names to a clamd that is not there."""

    def __init__(self, inner: Scanner, down: Scanner | None = None) -> None:
        self.inner = inner
        self.down = down
        self.fail_for: set[str] = set()
        self.in_flight = 0
        self.most = 0
        self.scans = 0
        self._lock = threading.Lock()

    def scan(self, source: BinaryIO) -> ScanReply:
        with self._lock:
            self.in_flight += 1
            self.scans += 1
            self.most = max(self.most, self.in_flight)
        try:
            name = str(getattr(source, "name", ""))
            if self.down is not None and any(i in name for i in self.fail_for):
                return self.down.scan(source)
            return self.inner.scan(source)
        finally:
            with self._lock:
                self.in_flight -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _batch_of(
    container: Container, contents: list[bytes], names: list[str] | None = None
) -> list[Document]:
    """Documents of one inspection, one per content (each for an item of its own, none with
    a look-back), in quarantine, received one second apart, claimed under "claim-1"."""
    inspection_id = add_inspection(container, agencies=("local_authority",))
    ids = []
    for n, content in enumerate(contents):
        received = T0.replace(second=n)
        document = Document(
            id=uuid.uuid4().hex,
            inspection_id=inspection_id,
            agency="local_authority",
            item_number=ITEMS[n],
            original_filename=names[n] if names else f"d{n}.pdf",
            status=DocumentStatus.received,
            received_at=received,
            updated_at=received,
        )
        stored = container.store.put(Area.quarantine, document.object_key, io.BytesIO(content))
        sizes = {"size_bytes": stored.size, "sha256_received": stored.sha256}
        container.repository.add_document(document.model_copy(update=sizes), "test")
        ids.append(document.id)
    return container.repository.claim_documents(ids, "claim-1", T0)


def _contents() -> list[bytes]:
    # Different sizes, so different bytes: clamd answers bytes it has seen from its cache.
    pdfs = [samples.pdf_of_size(1_500_000 + 10_000 * n) for n in range(5)]
    return [pdfs[0], pdfs[1], samples.eicar_pdf(), pdfs[2], pdfs[3], pdfs[4]]


def _outcomes(results: list[DocumentResult]) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    return [(r.status.value, r.reasons, r.warnings) for r in results]


def _run(settings: Settings, connections: int, contents: list[bytes]) -> tuple[Any, Any]:
    settings = settings.model_copy(update={"clamd_connections": connections})
    scanner = InFlightScanner(make_scanner(settings))
    container = build_portal(settings, scanner=scanner)
    documents = _batch_of(container, contents)
    results = process_batch(documents, "claim-1", container.ingest_services())
    return scanner, results


def test_a_batch_is_scanned_up_to_the_connection_count_at_once_and_no_further(
    settings: Settings, running_clamd: ClamdProcess, tmp_path: Path
) -> None:
    contents = _contents()
    one_by_one, alone = _run(settings.model_copy(update={"data_dir": tmp_path / "a"}), 1, contents)
    three_at_once, together = _run(
        settings.model_copy(update={"data_dir": tmp_path / "b"}), 3, contents
    )

    assert (one_by_one.most, three_at_once.most) == (1, 3)
    assert one_by_one.scans == three_at_once.scans == len(contents)
    # The same verdicts, in the same order, as one document after another.
    assert _outcomes(together) == _outcomes(alone)
    assert [r.status for r in together] == [
        DocumentStatus.accepted,
        DocumentStatus.accepted,
        DocumentStatus.rejected,
        DocumentStatus.accepted,
        DocumentStatus.accepted,
        DocumentStatus.accepted,
    ]
    assert together[2].reasons == (ReasonCode.infected,)


def test_clamd_failing_for_one_document_of_a_batch_stops_only_it_for_a_retry(
    settings: Settings, running_clamd: ClamdProcess, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"clamd_connections": 3, "retry_delay_seconds": 60})
    nowhere = ClamdScanner(unix_socket=tmp_path / "no-clamd.sock", timeout=2)
    scanner = InFlightScanner(make_scanner(settings), down=nowhere)
    container = build_portal(settings, scanner=scanner)
    documents = _batch_of(container, _contents())
    unlucky = documents[3]
    scanner.fail_for = {unlucky.id}

    results = process_batch(documents, "claim-1", container.ingest_services())

    assert [r.status for r in results] == [
        DocumentStatus.accepted,
        DocumentStatus.accepted,
        DocumentStatus.rejected,
        DocumentStatus.failed,
        DocumentStatus.accepted,
        DocumentStatus.accepted,
    ]
    failed = container.repository.get_document(unlucky.id)
    assert failed is not None
    assert failed.status is DocumentStatus.failed
    assert failed.reasons == (ReasonCode.scanner_unavailable,)
    assert failed.sha256_stored is None and failed.scan_signatures is None
    assert container.store.exists(Area.quarantine, unlucky.object_key)
    assert not container.store.exists(Area.clean, unlucky.object_key)

    # Waiting for its retry (60 s), then taken again and, clamd back, accepted.
    repository = container.repository
    assert repository.claim_next_batch("claim-2", TEST_NOW + timedelta(seconds=30), 10, 10**9) == []
    retried = repository.claim_next_batch("claim-2", TEST_NOW + timedelta(seconds=61), 10, 10**9)
    assert [d.id for d in retried] == [unlucky.id]
    scanner.fail_for = set()
    (result,) = process_batch(retried, "claim-2", container.ingest_services())
    assert result.status is DocumentStatus.accepted
