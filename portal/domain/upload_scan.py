"""The scan made while an upload arrives (the API streams its bytes to clamd as it reads
them): what it means for the document, and what the worker's scan step takes from it.
Pure rules, no I/O.

Only two replies count: an exact `stream: OK` (the document is recorded scanned clean at
upload, and the worker does not send it to clamd again) and a signature found (the
document is rejected at once, with the reason the worker's scan would give). Anything else
(clamd's stream limit, an error, no reply) leaves the document unscanned at upload: the
worker scans it as it scans every other document, so nothing is accepted unscanned.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from portal.domain.documents import Document, DocumentStatus, Outcome, UploadScanVerdict
from portal.domain.scanning import ScanReply, ScanStatus, decide_scan
from portal.domain.signatures import ScannedWith, Signatures

_LOCAL = "local"

UPLOAD_SCAN_ACTOR = "upload_scan"
"""The audit log's actor of a rejection decided by the scan on arrival (the worker's are
`pipeline`)."""


class ScannedAtUpload(BaseModel):
    """clamd's verdict on an upload's bytes as they arrived, and the signatures asked for
    before it began (so never newer than those that judged it)."""

    model_config = ConfigDict(frozen=True)

    reply: ScanReply
    scanned: ScannedWith

    @property
    def counts(self) -> bool:
        """Whether the reply decides anything: exactly clean, or a signature found."""
        return self.reply.status in (ScanStatus.clean, ScanStatus.found)


def with_upload_scan(document: Document, scan: ScannedAtUpload, now: datetime) -> Document:
    """The received `document` with what its upload scan found: clean, recorded with its
    signatures (still `received`: the worker goes on from its next step); a signature
    found, `rejected` and decided now, with the reason and detail the worker's scan step
    gives and the signatures that judged it. A reply that decides nothing leaves the
    document as it is (the worker scans it)."""
    if not scan.counts:
        return document
    signatures, at = scan.scanned.signatures, scan.scanned.at
    facts: dict[str, object] = {
        "upload_scan_verdict": UploadScanVerdict(scan.reply.status.value),
        "upload_scan_engine": signatures.engine,
        "upload_scan_signatures": signatures.version,
        "upload_scan_signatures_date": signatures.database_date,
        "upload_scanned_at": at,
    }
    verdict = decide_scan(scan.reply)
    if verdict.outcome is Outcome.reject and verdict.reason is not None:
        facts |= {
            "status": DocumentStatus.rejected,
            "reasons": (verdict.reason,),
            "detail": verdict.detail,
            "decided_at": now,
            "updated_at": now,
            "scan_engine": signatures.engine,
            "scan_signatures": signatures.version,
            "scan_signatures_date": signatures.database_date,
            "scanned_at": at,
        }
    return document.model_copy(update=facts)


def scanned_clean_at_upload(document: Document) -> ScannedWith | None:
    """The signatures and time of the upload scan that found `document` clean, which its
    verdict then records; None if it was not scanned clean at upload (the worker scans it)."""
    if (
        document.upload_scan_verdict is not UploadScanVerdict.clean
        or document.upload_scan_engine is None
        or document.upload_scan_signatures is None
        or document.upload_scanned_at is None
    ):
        return None
    return ScannedWith(
        signatures=signatures_of_version(
            document.upload_scan_engine,
            document.upload_scan_signatures,
            document.upload_scan_signatures_date,
        ),
        at=document.upload_scanned_at,
    )


def signatures_of_version(engine: str, version: str, date: datetime | None) -> Signatures:
    """The Signatures whose `version` is `version` (`27505`, `27505+<id>`, `local+<id>`,
    `local`): the inverse of Signatures.version. ValueError for anything else."""
    number, _, database = version.partition("+")
    if number != _LOCAL and not number.isdigit():
        raise ValueError(f"not a signatures version: {version!r}")
    return Signatures(
        engine=engine,
        database_version=None if number == _LOCAL else int(number),
        database_date=date,
        database_id=database or None,
    )
