"""While a document waits on clamd, its ingest holds no database connection: at a deadline
every worker may be scanning at once, and the pool must not run dry."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import BinaryIO

from portal.bootstrap import make_scanner
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.scanning import ScanReply
from portal.domain.signatures import Signatures
from portal.ingest import process_document
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import add_inspection, build_portal

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


class WatchingScanner:
    """The real clamd scanner, noting how many database connections are checked out while
    each scan runs."""

    def __init__(self, inner: object, pool: object) -> None:
        self.inner = inner
        self.pool = pool
        self.checked_out: list[int] = []

    def scan(self, source: BinaryIO) -> ScanReply:
        self.checked_out.append(self.pool.checkedout())  # type: ignore[attr-defined]
        reply: ScanReply = self.inner.scan(source)  # type: ignore[attr-defined]
        self.checked_out.append(self.pool.checkedout())  # type: ignore[attr-defined]
        return reply

    def check(self) -> None:
        self.inner.check()  # type: ignore[attr-defined]

    def signatures(self) -> Signatures:
        signatures: Signatures = self.inner.signatures()  # type: ignore[attr-defined]
        return signatures


def test_no_connection_is_checked_out_while_clamd_scans(
    settings: Settings, running_clamd: ClamdProcess, postgres_url: str
) -> None:
    settings = settings.model_copy(
        update={"database_url": postgres_url, "database_pool_size": 1, "database_max_overflow": 0}
    )
    scanner = WatchingScanner(make_scanner(settings), pool=None)
    container = build_portal(settings, scanner=scanner)  # type: ignore[arg-type]
    scanner.pool = container.repository.engine.pool
    inspection_id = add_inspection(container, agencies=("local_authority",))
    document = Document(
        id=uuid.uuid4().hex,
        inspection_id=inspection_id,
        agency="local_authority",
        item_number="1.1",
        original_filename="structure.pdf",
        status=DocumentStatus.received,
        received_at=T0,
        updated_at=T0,
    )
    stored = container.store.put(
        Area.quarantine, document.object_key, io.BytesIO(samples.pdf_text_pages(2))
    )
    document = document.model_copy(
        update={"size_bytes": stored.size, "sha256_received": stored.sha256}
    )
    container.repository.add_document(document, "test")
    services = container.ingest_services()
    claimed = services.repository.claim_documents([document.id], "claim-1", T0)

    result = process_document(claimed[0], "claim-1", services)

    assert result.status is DocumentStatus.accepted
    assert scanner.checked_out == [0, 0]
