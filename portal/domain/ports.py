"""The ports: small Protocols through which the domain and flows reach the outside world.

Each has a real adapter and an in-memory one in portal/adapters/; one contract suite runs
against both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from pydantic import BaseModel, ConfigDict

from portal.domain.access import IdentityClaims, Inspection
from portal.domain.audit_chain import Anchor
from portal.domain.child_lists import ListTable
from portal.domain.documents import Area, Document, DocumentStatus, StoredObject
from portal.domain.file_types import FileFacts
from portal.domain.reasons import ReasonCode, WarningCode
from portal.domain.resumable import PartialUpload
from portal.domain.sanitising import SanitiseReport
from portal.domain.scanning import ScanReply


class Clock(Protocol):
    """Where the portal reads "now": the system's clock in service, one a test sets in tests."""

    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...


class Wakeup(Protocol):
    """Tells the ingest dispatcher that work is waiting, so it looks now rather than at its
    next poll. Best effort: a dispatcher that misses a wake-up still finds the work."""

    def wake(self) -> None:
        """Wake every dispatcher that listens."""
        ...

    def listen(self, listener: Callable[[], None]) -> None:
        """Call `listener` on every wake-up from now on."""
        ...


class IdentityProvider(Protocol):
    """The organisation's identity provider, whose bearer tokens people may use instead
    of portal tokens."""

    def verify(self, token: str) -> IdentityClaims:
        """The claims of a valid token; InvalidIdentityToken saying why otherwise."""
        ...


class AnchorSink(Protocol):
    """Where audit chain heads are copied to, out of reach of whoever can rewrite the
    database: what is appended is never changed or removed. Raises a TransientError
    subclass when the sink cannot be reached now."""

    def append(self, anchors: Sequence[Anchor]) -> None:
        """Add these anchors durably (all or nothing) before returning."""
        ...

    def read(self) -> list[Anchor]:
        """Every anchor ever appended, in no particular order."""
        ...


class ObjectStore(Protocol):
    """Durable bytes by area and key. A put is all-or-nothing: never a partial object."""

    def put(self, area: Area, key: str, source: BinaryIO) -> StoredObject:
        """Read `source` to its end and store it; return its size and sha256.

        Raises StoreUnavailable on a transient failure; nothing is left under `key` then.
        """
        ...

    def open(self, area: Area, key: str) -> AbstractContextManager[BinaryIO]:
        """Open an object for streaming reads. Raises ObjectMissing if absent."""
        ...

    def local_copy(self, area: Area, key: str) -> AbstractContextManager[Path]:
        """A local file path holding the object's bytes for the length of the block."""
        ...

    def delete(self, area: Area, key: str) -> None:
        """Delete the object and every version of it; deleting a missing object is not an error.

        Afterwards `versions(area, key)` is empty. Raises StoreUnavailable if that could not
        be achieved.
        """
        ...

    def exists(self, area: Area, key: str) -> bool:
        """Whether an object is stored under `key`."""
        ...

    def versions(self, area: Area, key: str) -> tuple[str, ...]:
        """Identifiers of every version and delete marker still stored under exactly `key`.

        The proof a retention deletion needs: an empty tuple means nothing of the object
        remains anywhere in the store, not even an old version. Keys that merely share the
        prefix ("a/b2" for "a/b") do not count. Leftovers of interrupted writes belong to no
        key; `purge_incomplete` removes them. Raises StoreUnavailable if the store cannot
        answer.
        """
        ...

    def metadata(self, area: Area, key: str) -> dict[str, str]:
        """The metadata the store keeps with the object, as text (e.g. its sha256).

        Lets a deletion of names prove that none sits in stored metadata. Raises
        ObjectMissing if there is no object under `key`.
        """
        ...

    def purge_incomplete(self, older_than: datetime) -> int:
        """Remove leftovers of interrupted writes that started before `older_than`.

        Returns how many leftovers were removed. Stored objects are never touched; a write
        still in progress is only when it began (or, on a filesystem, last wrote) before
        `older_than`, so pass a cutoff well in the past (the S3 lifecycle rules use a day).
        `older_than` must be timezone-aware (ValueError otherwise). Raises StoreUnavailable
        if the store cannot be listed or a leftover cannot be removed.
        """
        ...

    def check(self) -> None:
        """Raise StoreUnavailable unless the store can be written and read now."""
        ...


class Scanner(Protocol):
    """A virus scanner that reads a stream to its end and replies."""

    def scan(self, source: BinaryIO) -> ScanReply:
        """Scan all of `source`. Raises ScannerUnavailable if no reply could be had."""
        ...

    def check(self) -> None:
        """Raise ScannerUnavailable unless the scanner answers now."""
        ...


class Classifier(Protocol):
    """Finds out what a file is from its bytes, never from what the client said."""

    def classify(self, path: Path, filename: str) -> FileFacts:
        """Describe the file at `path` (uploaded under `filename`)."""
        ...


class Sanitiser(Protocol):
    """Makes a safe copy of a PDF."""

    def sanitise_pdf(
        self, source: Path, target: Path, embedded: Path | None = None
    ) -> SanitiseReport:
        """Write a sanitised copy of `source` to `target` and report what was removed.

        With `embedded` (an empty directory), every file embedded in the PDF is first
        written there, decoded, for the caller to scan. A PDF with only an owner password
        is written decrypted (report.decrypted). One that needs a password to open, or is
        unparseable, is reported (report.problem), not raised.
        """
        ...


class PartWriter(Protocol):
    """The bytes of one partial upload, held exclusively while it is written."""

    def size(self) -> int:
        """How many bytes have been received."""
        ...

    def append(self, data: bytes | bytearray) -> None:
        """Add `data` at the end, durably enough to resume after it."""
        ...

    def truncate(self, size: int) -> None:
        """Drop what was appended past `size`."""
        ...

    def reader(self) -> BinaryIO:
        """The bytes received, from the start (the caller closes it)."""
        ...


class PartialUploadFiles(Protocol):
    """Resumable uploads still arriving: their records and bytes, out of every store area.
    Writing, finishing and deleting one take it exclusively (UploadBusy otherwise)."""

    def create(self, upload: PartialUpload) -> None:
        """Keep a new upload's record and an empty body."""
        ...

    def save(self, upload: PartialUpload) -> None:
        """Replace the upload's record atomically."""
        ...

    def get(self, upload_id: str) -> PartialUpload | None:
        """The upload's record, or None if there is none."""
        ...

    def offset(self, upload: PartialUpload) -> int:
        """How many bytes of the upload have been received."""
        ...

    def writing(self, upload_id: str) -> AbstractContextManager[PartWriter]:
        """Hold the upload's bytes exclusively; UploadBusy if another request holds them,
        FileNotFoundError if they are gone."""
        ...

    def discard_part(self, upload_id: str) -> None:
        """Delete the bytes of a finished upload (its record stays until it expires)."""
        ...

    def delete(self, upload_id: str) -> None:
        """Forget the upload: its bytes, then its record."""
        ...

    def unfinished_of(self, owner: str, now: datetime) -> int:
        """How many unexpired, unfinished uploads `owner` has."""
        ...

    def sweep(self, now: datetime) -> list[str]:
        """Delete every expired upload nobody is busy with; the ids deleted."""
        ...


class Watermarker(Protocol):
    """Marks a PDF with who is reading it, where and when, before it is shown."""

    def watermark_pdf(self, source: Path, text: str) -> bytes:
        """A copy of the PDF at `source` with `text` drawn on every page."""
        ...


class OutgoingMail(BaseModel):
    """One message to send; `key` makes sending it idempotent."""

    model_config = ConfigDict(frozen=True)

    key: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str


class Mailer(Protocol):
    """Sends mail. Raises a TransientError subclass when it cannot send now."""

    def send(self, mail: OutgoingMail) -> None:
        """Send `mail` to its recipients."""
        ...


class TableFiles(Protocol):
    """Reads and writes child-level lists (CSV and XLSX) as tables of text."""

    def read(self, path: Path, file_type: str) -> ListTable:
        """The table in `path`; raises UnreadableList if it cannot be read as one."""
        ...

    def write(self, table: ListTable, target: Path, file_type: str) -> None:
        """Write `table` to `target` in the given format."""
        ...


class IngestRepository(Protocol):
    """What the ingest steps need of the metadata database."""

    def get_inspection(self, inspection_id: str) -> Inspection | None:
        """The inspection with this id, or None."""
        ...

    def selection(self, inspection_id: str, stage: str) -> tuple[str, ...]:
        """The children selected at one stage (shortlist or audit), in the order given."""
        ...

    def accepted_count(
        self, inspection_id: str, agency: str, item: str, child_id: str | None
    ) -> int:
        """How many documents are accepted for one agency's item (and child, if given)."""
        ...

    def has_accepted_duplicate(self, document: Document) -> bool:
        """Whether another accepted document of the same item and agency had the same bytes."""
        ...

    def claim_documents(
        self, document_ids: Iterable[str], claim_token: str, now: datetime
    ) -> list[Document]:
        """Move waiting documents to processing under `claim_token`; return those now held."""
        ...

    def record_outcome(
        self,
        document_id: str,
        claim_token: str,
        now: datetime,
        *,
        status: DocumentStatus,
        reasons: Sequence[ReasonCode] = (),
        warnings: Sequence[WarningCode] = (),
        detail: str = "",
        file_type: str | None = None,
        mime_type: str | None = None,
        sha256_stored: str | None = None,
        area: Area | None = None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        """Write an outcome if the claim still holds; False (nothing written) if it was lost."""
        ...
