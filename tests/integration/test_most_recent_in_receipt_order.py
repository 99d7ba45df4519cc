"""Four identical uploads to a "3 most recent" item, run through the real steps (clamd,
libmagic, pikepdf, the database): exactly the fourth received carries
`more_than_requested`, and every one after the first `duplicate`, however they are
batched, whatever order the batches run in, and when two batches decide at once."""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from portal.bootstrap import Container, make_scanner, make_store
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.errors import ScannerUnavailable
from portal.domain.ports import ObjectStore, Scanner
from portal.domain.reasons import WarningCode
from portal.domain.scanning import ScanReply
from portal.ingest import process_batch
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import T0, add_inspection, build_portal

ITEM = "3.8"  # police: "The 3 most recent sets of minutes" (domestic-abuse-2024.yaml)
AGENCY = "police"


class StoreWithAGate:
    """The real store; once armed, each batch's routing of its first accepted copy waits
    for the other batch's: by then both batches have checked every document and neither
    has recorded anything, the widest window two runs can race in."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.gate: threading.Barrier | None = None
        self.waited: set[int] = set()

    def arm(self, parties: int) -> None:
        self.gate = threading.Barrier(parties, timeout=30)

    def put(self, area: Area, key: str, source: BinaryIO) -> Any:
        self._wait_at_the_gate(area)
        return self.inner.put(area, key, source)

    def put_file(self, area: Area, key: str, path: Path) -> Any:
        self._wait_at_the_gate(area)  # a sanitised copy is routed by put_file
        return self.inner.put_file(area, key, path)

    def _wait_at_the_gate(self, area: Area) -> None:
        thread = threading.get_ident()
        if self.gate and area is not Area.quarantine and thread not in self.waited:
            self.waited.add(thread)
            self.gate.wait()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class ScannerThatCanBeDown:
    """Real clamd, unless the test says clamd is down."""

    def __init__(self, inner: Scanner) -> None:
        self.inner = inner
        self.down = False

    def scan(self, source: BinaryIO) -> ScanReply:
        if self.down:
            raise ScannerUnavailable("clamd is down (the test says so)")
        return self.inner.scan(source)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return None


@pytest.fixture
def container(
    settings: Settings, running_clamd: ClamdProcess, database_url: str | None
) -> Iterator[Container]:
    settings = settings.model_copy(update={"database_url": database_url})
    built = build_portal(
        settings,
        store=StoreWithAGate(make_store(settings)),
        scanner=ScannerThatCanBeDown(make_scanner(settings)),
    )
    if database_url:
        _empty_database(built)
    yield built
    if database_url:
        _empty_database(built)


def _empty_database(container: Container) -> None:
    """The PostgreSQL database is shared by the session's tests: start each one empty."""
    from portal.adapters.db.tables import Base

    with container.repository.engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL jtai.audit_retention = 'on'")
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def _four_identical_uploads(container: Container) -> list[Document]:
    """Four uploads of the same minutes to item 3.8, received a second apart, oldest
    first; ids are chosen against receipt order so batch or id order cannot stand in."""
    inspection_id = add_inspection(container)
    data = samples.pdf_text_pages(2)
    uploads = []
    for n in range(4):
        document = Document(
            id=f"{9 - n}{uuid.uuid4().hex[:31]}",
            inspection_id=inspection_id,
            agency=AGENCY,
            item_number=ITEM,
            original_filename=f"minutes-{n}.pdf",
            status=DocumentStatus.received,
            received_at=T0 + timedelta(seconds=n),
            updated_at=T0 + timedelta(seconds=n),
        )
        stored = container.store.put(Area.quarantine, document.object_key, io.BytesIO(data))
        document = document.model_copy(
            update={"size_bytes": stored.size, "sha256_received": stored.sha256}
        )
        container.repository.add_document(document, "test")
        uploads.append(document)
    return uploads


def _decide(container: Container, batch: Sequence[Document]) -> None:
    services = container.ingest_services()
    token = uuid.uuid4().hex
    claimed = services.repository.claim_documents([d.id for d in batch], token, T0)
    assert len(claimed) == len(batch)
    process_batch(claimed, token, services)


def _warnings(container: Container, uploads: Sequence[Document]) -> list[set[WarningCode]]:
    decided = [container.repository.get_document(d.id) for d in uploads]
    assert all(d is not None and d.status is DocumentStatus.accepted for d in decided), decided
    return [set(d.warnings) for d in decided if d is not None]


EXPECTED = [
    set(),
    {WarningCode.duplicate},
    {WarningCode.duplicate},
    {WarningCode.duplicate, WarningCode.more_than_requested},
]


def test_four_uploads_in_one_batch_warn_on_the_fourth_received(container: Container) -> None:
    uploads = _four_identical_uploads(container)
    _decide(container, list(reversed(uploads)))
    assert _warnings(container, uploads) == EXPECTED


def test_four_uploads_decided_one_by_one_newest_first_warn_on_the_fourth_received(
    container: Container,
) -> None:
    uploads = _four_identical_uploads(container)
    for upload in reversed(uploads):
        _decide(container, [upload])
    assert _warnings(container, uploads) == EXPECTED


def test_the_first_upload_retried_after_the_others_leaves_the_warning_on_the_fourth(
    container: Container,
) -> None:
    uploads = _four_identical_uploads(container)
    scanner = container.scanner
    assert isinstance(scanner, ScannerThatCanBeDown)
    scanner.down = True
    _decide(container, uploads[:1])
    first = container.repository.get_document(uploads[0].id)
    assert first is not None and first.status is DocumentStatus.failed
    scanner.down = False
    _decide(container, uploads[1:])
    _decide(container, uploads[:1])  # the retry, once clamd is back
    assert _warnings(container, uploads) == EXPECTED


@pytest.mark.parametrize("split", [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((3,), (0, 1, 2))])
def test_four_uploads_in_two_batches_decided_at_once_warn_on_the_fourth_received(
    container: Container, split: tuple[tuple[int, ...], tuple[int, ...]]
) -> None:
    uploads = _four_identical_uploads(container)
    gated = container.store
    assert isinstance(gated, StoreWithAGate)
    gated.arm(parties=2)
    failures: list[BaseException] = []

    def decide(indices: tuple[int, ...]) -> None:
        try:
            _decide(container, [uploads[i] for i in indices])
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=decide, args=(part,)) for part in split]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert len(gated.waited) == 2, "the two batches did not meet between check and record"
    assert _warnings(container, uploads) == EXPECTED
