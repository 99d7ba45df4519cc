"""What a scan on arrival means for a document, and what the worker's scan step takes
from it (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.domain.documents import Document, DocumentStatus, UploadScanVerdict
from portal.domain.reasons import ReasonCode
from portal.domain.scanning import parse_scan_reply
from portal.domain.signatures import ScannedWith, Signatures
from portal.domain.upload_scan import (
    ScannedAtUpload,
    scanned_clean_at_upload,
    signatures_of_version,
    with_upload_scan,
)

T0 = datetime(2026, 11, 30, 9, tzinfo=UTC)
SIGNATURES = Signatures(
    engine="1.4.6",
    database_version=27505,
    database_date=datetime(2026, 11, 29, 8, tzinfo=UTC),
    database_id="d70512f927bd6fec",
)


def _received() -> Document:
    return Document(
        id="d1",
        inspection_id="i1",
        agency="police",
        item_number="1.1",
        original_filename="a.pdf",
        status=DocumentStatus.received,
        received_at=T0,
        updated_at=T0,
    )


def _scan(reply: str) -> ScannedAtUpload:
    return ScannedAtUpload(
        reply=parse_scan_reply(reply), scanned=ScannedWith(signatures=SIGNATURES, at=T0)
    )


def test_a_clean_scan_on_arrival_is_recorded_with_its_signatures_and_the_document_waits() -> None:
    document = with_upload_scan(_received(), _scan("stream: OK"), T0)
    assert document.status is DocumentStatus.received
    assert document.upload_scan_verdict is UploadScanVerdict.clean
    assert document.upload_scan_signatures == "27505+d70512f927bd6fec"
    assert document.upload_scan_engine == "1.4.6"
    assert document.upload_scanned_at == T0
    assert document.scan_signatures is None  # no verdict decided it yet


def test_a_signature_found_on_arrival_rejects_the_document_as_the_worker_would() -> None:
    document = with_upload_scan(_received(), _scan("stream: Eicar-Test-Signature FOUND"), T0)
    assert document.status is DocumentStatus.rejected
    assert document.reasons == (ReasonCode.infected,)
    assert document.detail == "Eicar-Test-Signature"
    assert document.decided_at == T0
    assert document.scan_signatures == "27505+d70512f927bd6fec"
    assert document.upload_scan_verdict is UploadScanVerdict.found


@pytest.mark.parametrize(
    "reply",
    ["INSTREAM size limit exceeded. ERROR", "stream: OK extra", "", "COMMAND READ TIMED OUT"],
)
def test_a_reply_that_decides_nothing_leaves_the_document_to_the_worker(reply: str) -> None:
    document = with_upload_scan(_received(), _scan(reply), T0)
    assert document == _received()
    assert scanned_clean_at_upload(document) is None


def test_the_worker_takes_the_signatures_and_time_of_a_clean_scan_on_arrival() -> None:
    document = with_upload_scan(_received(), _scan("stream: OK"), T0)
    assert scanned_clean_at_upload(document) == ScannedWith(signatures=SIGNATURES, at=T0)
    assert scanned_clean_at_upload(_received()) is None


@pytest.mark.parametrize(
    "signatures",
    [
        SIGNATURES,
        Signatures(engine="1.4.6", database_id="d70512f927bd6fec"),
        Signatures(engine="1.4.6"),
        Signatures(engine="1.4.6", database_version=27505),
    ],
)
def test_a_recorded_signatures_version_reads_back_as_the_same_signatures(
    signatures: Signatures,
) -> None:
    again = signatures_of_version(signatures.engine, signatures.version, signatures.database_date)
    assert again == signatures
    assert again.version == signatures.version


def test_a_version_that_is_no_signatures_version_is_refused() -> None:
    with pytest.raises(ValueError):
        signatures_of_version("1.4.6", "ClamAV 1.4.6", None)
