"""`record` commits a batch's verdicts in one transaction: a database failing while it
writes them leaves every document of the batch undecided (processing, under its claim),
nothing half-written and every quarantined original in place; the run's retry records them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from portal.bootstrap import Container
from portal.domain.documents import Area, DocumentStatus
from portal.domain.errors import TransientError
from portal.domain.retention import LegalHold
from portal.ingest import process_batch
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal
from tests.integration.test_batch_scans import _batch_of
from tests.integration.test_most_recent_in_receipt_order import _empty_database
from tests.integration.test_repository import _fail_updates_deciding


@pytest.fixture(params=["sqlite", "postgresql"])
def container(
    request: pytest.FixtureRequest, settings: Settings, running_clamd: ClamdProcess
) -> Iterator[Container]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    built = build_portal(settings.model_copy(update={"database_url": url}))
    if url:
        _empty_database(built)
    yield built
    if url:
        with built.repository.engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS jtai_test_refuse ON documents")
        _empty_database(built)


def test_a_database_failure_while_recording_a_batch_leaves_all_of_it_undecided(
    container: Container,
) -> None:
    contents = [samples.pdf_text_pages(2), samples.eicar(), samples.pdf_text_pages(3)]
    documents = _batch_of(container, contents)
    repository = container.repository
    _fail_updates_deciding(repository.engine, documents[2].id)

    with pytest.raises(Exception, match="refused by the test"):
        process_batch(documents, "claim-1", container.ingest_services())

    for document in documents:
        stored = repository.get_document(document.id)
        assert stored is not None
        assert (stored.status, stored.decided_at, stored.sha256_stored) == (
            DocumentStatus.processing,
            None,
            None,
        )
        assert [e["action"] for e in repository.audit_events(document.id)] == ["document_received"]
        assert container.store.exists(Area.quarantine, document.object_key)

    with repository.engine.begin() as connection:
        on = " ON documents" if repository.engine.dialect.name == "postgresql" else ""
        connection.exec_driver_sql("DROP TRIGGER jtai_test_refuse" + on)
    results = process_batch(documents, "claim-1", container.ingest_services())  # the retry

    assert [r.status for r in results] == [
        DocumentStatus.accepted,
        DocumentStatus.rejected,
        DocumentStatus.accepted,
    ]
    for document in documents:
        assert not container.store.exists(Area.quarantine, document.object_key)
        assert len(repository.audit_events(document.id)) == 2


def _holds_that(*answers: list[LegalHold] | Exception) -> Callable[[str], list[LegalHold]]:
    """A holds reader answering each call with the next of `answers` (raising it if it is
    an exception)."""
    left = list(answers)

    def holds_of(_inspection_id: str) -> list[LegalHold]:
        answer = left.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return holds_of


def _hold_on(inspection_id: str) -> LegalHold:
    return LegalHold(
        id="hold-1",
        inspection_id=inspection_id,
        reason="Complaint CL-19",
        placed_by="records officer",
        placed_at=datetime(2026, 12, 7, 9, tzinfo=UTC),
    )


@pytest.mark.parametrize("second_read", ["a hold placed meanwhile", "the holds cannot be read"])
def test_a_rejected_documents_bytes_stay_when_the_holds_after_the_commit_say_so_or_are_unknown(
    container: Container, second_read: str
) -> None:
    documents = _batch_of(container, [samples.pdf_text_pages(2), samples.eicar()])
    accepted, rejected = documents
    again = (
        [_hold_on(rejected.inspection_id)]
        if second_read == "a hold placed meanwhile"
        else TransientError("the database is restarting")
    )
    services = replace(container.ingest_services(), holds_of=_holds_that([], again))

    results = process_batch(documents, "claim-1", services)

    assert [r.status for r in results] == [DocumentStatus.accepted, DocumentStatus.rejected]
    assert not container.store.exists(Area.quarantine, accepted.object_key)
    assert container.store.exists(Area.quarantine, rejected.object_key)
