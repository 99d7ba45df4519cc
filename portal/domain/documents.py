"""Documents as the inspection sees them: status, where their bytes live, step verdicts."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from portal.domain.reasons import ReasonCode, WarningCode


class DocumentStatus(StrEnum):
    """received -> processing -> accepted | rejected | failed (failed is retried);
    accepted -> withdrawn when a later check finds it unsafe (e.g. infected on rescan)."""

    received = "received"
    processing = "processing"
    accepted = "accepted"
    rejected = "rejected"
    failed = "failed"
    withdrawn = "withdrawn"
    """Accepted, then found unsafe: never readable again, its item missing again."""

    @property
    def is_final(self) -> bool:
        """True once nothing more will happen to the document without a person asking."""
        return self in (DocumentStatus.accepted, DocumentStatus.rejected, DocumentStatus.withdrawn)


class UploadScanVerdict(StrEnum):
    """What clamd said of a document's bytes as they arrived (the API's upload scan)."""

    clean = "clean"  # exactly `stream: OK`
    found = "found"  # a signature: the document was rejected at once


class Area(StrEnum):
    """Where an object lives: quarantine (unchecked, or withdrawn and kept under a legal
    hold: never readable), clean (accepted), onsite (health records)."""

    quarantine = "quarantine"
    clean = "clean"
    onsite = "onsite"


class Outcome(StrEnum):
    """What a step decided: go on, stop for good, or try again later."""

    proceed = "proceed"
    reject = "reject"
    retry = "retry"


class Verdict(BaseModel):
    """The frozen result of one step's decision."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    reason: ReasonCode | None = None
    warnings: tuple[WarningCode, ...] = ()
    detail: str = ""

    @classmethod
    def proceed(cls, *warnings: WarningCode, detail: str = "") -> Verdict:
        """A verdict that lets the document go on to the next step."""
        return cls(outcome=Outcome.proceed, warnings=warnings, detail=detail)

    @classmethod
    def reject(cls, reason: ReasonCode, detail: str = "") -> Verdict:
        """A verdict that ends processing: the document is not accepted."""
        return cls(outcome=Outcome.reject, reason=reason, detail=detail)

    @classmethod
    def retry(cls, reason: ReasonCode, detail: str = "") -> Verdict:
        """A verdict that leaves the document failed, to be processed again."""
        return cls(outcome=Outcome.retry, reason=reason, detail=detail)


class Document(BaseModel):
    """One uploaded file and everything the portal knows about it."""

    model_config = ConfigDict(frozen=True)

    id: str
    inspection_id: str
    agency: str
    item_number: str
    child_id: str | None = None
    document_date: date | None = None
    health_information: bool = False
    """Its uploader said it holds health information: a health record, seen only on site."""
    original_filename: str
    declared_content_type: str | None = None
    status: DocumentStatus
    reasons: tuple[ReasonCode, ...] = ()
    warnings: tuple[WarningCode, ...] = ()
    detail: str = ""
    file_type: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None
    sha256_received: str | None = None
    sha256_stored: str | None = None
    area: Area = Area.quarantine
    attempts: int = 0
    received_at: datetime
    updated_at: datetime
    decided_at: datetime | None = None
    """When its final status was reached: accepted or rejected, or, once withdrawn, withdrawn."""
    deleted_at: datetime | None = None
    """Set when retention deleted the bytes; the row stays as a tombstone."""
    scan_engine: str | None = None
    """The clamd engine whose scan decided it (VERSION's first part, e.g. 1.4.6)."""
    scan_signatures: str | None = None
    """The signatures that judged it: portal.domain.signatures.Signatures.version, e.g.
    `27505` or `local+d70512f927bd6fec`. None until a verdict that scanned it."""
    scan_signatures_date: datetime | None = None
    """When those signatures were published (VERSION's date; None for local ones)."""
    scanned_at: datetime | None = None
    """When clamd was asked, for the verdict that decided it."""
    upload_scan_verdict: UploadScanVerdict | None = None
    """What clamd said while the upload arrived; None: not scanned at upload (pool busy,
    clamd down or gone mid-upload, past its stream limit), so the worker scans it."""
    upload_scan_engine: str | None = None
    """The clamd engine of the upload scan."""
    upload_scan_signatures: str | None = None
    """The signatures asked for before the upload scan (Signatures.version)."""
    upload_scan_signatures_date: datetime | None = None
    """When those signatures were published (None for local ones)."""
    upload_scanned_at: datetime | None = None
    """When the upload scan began."""

    @property
    def object_key(self) -> str:
        """The key of this document's bytes inside its area; the same in every area."""
        return f"{self.inspection_id}/{self.id}"


class StoredObject(BaseModel):
    """What the store knows of an object it has written in full."""

    model_config = ConfigDict(frozen=True)

    size: int
    sha256: str
