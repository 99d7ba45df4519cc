"""The ports: small Protocols through which the domain and flows reach the outside world.

Each has a real adapter and an in-memory one in portal/adapters/; one contract suite runs
against both.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from pydantic import BaseModel, ConfigDict

from portal.domain.access import IdentityClaims, Inspection, InspectionState, Principal
from portal.domain.after_fieldwork import LetterStep
from portal.domain.audit_chain import Anchor, AuditKeyring, ChainHead, LogVerdict
from portal.domain.batching import WaitingDocument
from portal.domain.chase import Contacts, OutboxMessage, PlannedMessage
from portal.domain.child_lists import ListedChild, ListTable
from portal.domain.completeness import DocumentFact
from portal.domain.concerns import Concern, Signatory
from portal.domain.documents import Area, Document, DocumentStatus, StoredObject
from portal.domain.extra_items import ExtraItem
from portal.domain.file_types import FileFacts
from portal.domain.identities import TokenInfo, User, VerifiedToken
from portal.domain.inspection_days import EnteredDay
from portal.domain.onsite import OnSitePolicy
from portal.domain.reasons import ReasonCode, WarningCode
from portal.domain.rescan import KnownVerdict, RescanCandidate
from portal.domain.resumable import PartialUpload
from portal.domain.retention import (
    LegalHold,
    NameEntry,
    RetentionEntry,
    RetentionEvent,
    RetentionRun,
)
from portal.domain.sanitising import SanitiseReport
from portal.domain.scanning import ScanReply
from portal.domain.schedule import MovedDeadline
from portal.domain.seen_on_site import OnSiteRecord
from portal.domain.selection import ListEntry
from portal.domain.signatures import ScannedWith, Signatures, StagedDatabase
from portal.domain.timeline import WorkingCalendar


class Clock(Protocol):
    """Where the portal reads "now": the system's clock in service, one a test sets in tests."""

    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        ...


class WorkingCalendars(Protocol):
    """Where working days come from: weekends and the bank holidays of England and Wales."""

    def between(self, first_year: int, last_year: int) -> WorkingCalendar:
        """Working days from 1 January of `first_year` to 31 December of `last_year`."""
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

    def unlisten(self, listener: Callable[[], None]) -> None:
        """Stop calling `listener` (not listening is not an error)."""
        ...


class IdentityProvider(Protocol):
    """The organisation's identity provider, whose bearer tokens people may use instead
    of portal tokens."""

    def verify(self, token: str) -> IdentityClaims:
        """The claims of a valid token; InvalidIdentityToken saying why otherwise."""
        ...


class AuditLog(Protocol):
    """The tamper-evident audit log, read whole: what anchoring and verification need."""

    def chain_heads(self) -> list[ChainHead]:
        """Every chain's head as committed now (what anchoring copies out)."""
        ...

    def verify(self, keys: AuditKeyring, anchors: Sequence[Anchor]) -> LogVerdict:
        """Every chain's HMACs and links under the keys its entries name, and every anchor
        still a prefix of its chain, in one consistent snapshot."""
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

    def put_file(self, area: Area, key: str, path: Path) -> StoredObject:
        """Store the bytes of the local file `path` under `key`, all or nothing, as `put`
        does; return their size and sha256. The caller gives the file up: a store that can
        (a filesystem store, `path` on its filesystem) takes it over by renaming it into
        place instead of copying it, so `path` may be gone afterwards. The others copy it
        (`put` of the file's bytes) and leave it to the caller to delete.
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

    def signatures(self) -> Signatures:
        """The signatures the scanner has loaded now (a scan started after this returns
        uses these or newer ones). Raises ScannerUnavailable if it cannot say."""
        ...


class ScanStream(Protocol):
    """One scan whose bytes are sent as they arrive (clamd's INSTREAM), on the event loop."""

    async def feed(self, data: bytes) -> None:
        """Send the next bytes. Raises ScannerUnavailable if the scanner stopped taking
        them (gone, timed out, or closed the stream early, e.g. at its size limit)."""
        ...

    async def finish(self) -> ScanReply:
        """End the stream and wait for the scanner's reply to all the bytes fed. Raises
        ScannerUnavailable if no reply could be had."""
        ...

    def abort(self) -> None:
        """Drop the stream without a verdict (safe to call at any time, and again)."""
        ...


class StreamingScanner(Protocol):
    """A virus scanner reached without holding a thread: scans fed as bytes arrive."""

    async def open_stream(self) -> ScanStream:
        """Start a scan. Raises ScannerUnavailable if the scanner cannot be reached."""
        ...

    async def signatures(self) -> Signatures:
        """The signatures the scanner has loaded now (a scan started after this returns
        uses these or newer ones). Raises ScannerUnavailable if it cannot say."""
        ...


class ReloadableScanner(Scanner, Protocol):
    """A scanner that can be told to load its signature database again."""

    def reload(self) -> None:
        """Ask the scanner to load its database again; it goes on scanning with the old
        one until the new one is loaded. Raises ScannerUnavailable if it cannot be asked."""
        ...


class SignatureValidator(Protocol):
    """Checks that a directory is a signature database the scanner can load."""

    def validate(self, directory: Path) -> int:
        """How many signatures load from `directory`; InvalidSignatureDatabase, saying
        why, if none does or a file is refused."""
        ...


class SignatureDirectory(Protocol):
    """The scanner's database directory as a name that points at one complete version at
    a time: a new version is staged beside the current one, then the name is switched to
    it in one step, so a load of the directory sees one version whole, never a mix."""

    def locked(self) -> AbstractContextManager[None]:
        """Hold the directory against another install for the length of the block."""
        ...

    def current(self) -> Path | None:
        """The version the name points at now (None: no database installed yet)."""
        ...

    def stage(self, source: Path) -> StagedDatabase:
        """Copy the database files of `source` into a new version beside the current one,
        with the marker of its database id. InvalidSignatureDatabase if `source` holds no
        database file (nothing is left behind then)."""
        ...

    def discard(self, staged: StagedDatabase) -> None:
        """Remove a staged version that will not be used."""
        ...

    def point_at(self, version: Path) -> None:
        """Make the name point at `version` in one atomic step."""
        ...

    def prune(self, keep: Sequence[Path]) -> None:
        """Remove every version but those in `keep`."""
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


@dataclass(frozen=True)
class OutcomeToRecord:
    """The outcome of one document of a batch, as `record_outcomes` writes it (the fields
    of `IngestRepository.record_outcome`)."""

    document_id: str
    status: DocumentStatus
    reasons: Sequence[ReasonCode] = ()
    warnings: Sequence[WarningCode] = ()
    detail: str = ""
    file_type: str | None = None
    mime_type: str | None = None
    sha256_stored: str | None = None
    area: Area | None = None
    next_attempt_at: datetime | None = None
    listed_children: Sequence[ListedChild] = ()
    scanned: ScannedWith | None = None
    quarantine_kept_by_holds: Sequence[str] = ()
    """The active legal holds that keep a rejected document's quarantined bytes (its
    audit event names them); empty: the bytes go once the verdict is committed."""


class UploadReads(Protocol):
    """What the scope checks read of the metadata database about an upload."""

    def selection(self, inspection_id: str, stage: str) -> tuple[str, ...]:
        """The children selected at one stage (shortlist or audit), in the order given."""
        ...

    def extra_items(self, inspection_id: str) -> list[ExtraItem]:
        """The items the lead asked in one inspection, in the order they were added."""
        ...

    def uploads_for_item(self, inspection_id: str, agency: str, item: str) -> list[Document]:
        """Every document uploaded for one agency's item in an inspection (every child's,
        for case records and audits), whatever its status."""
        ...

    def uploads_for_items(
        self, inspection_id: str, agency: str, items: Collection[str]
    ) -> dict[str, list[Document]]:
        """`uploads_for_item` for each of one agency's `items`, read at once: every item
        asked is a key (with [] if nothing was sent for it)."""
        ...


class IngestRepository(UploadReads, Protocol):
    """What the ingest steps need of the metadata database."""

    def get_inspection(self, inspection_id: str) -> Inspection | None:
        """The inspection with this id, or None."""
        ...

    def claim_documents(
        self, document_ids: Iterable[str], claim_token: str, now: datetime
    ) -> list[Document]:
        """Move waiting documents to processing under `claim_token`; return those now held."""
        ...

    def renew_claim(self, claim_token: str, now: datetime) -> int:
        """Restart the lease of every document processing under `claim_token` at `now`, so
        the reconciler does not hand a slow batch to another run; how many were renewed."""
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
        listed_children: Sequence[ListedChild] = (),
        scanned: ScannedWith | None = None,
    ) -> bool:
        """Write an outcome if the claim still holds, with the children an accepted list
        names and the signatures that judged it (`scanned`: None if it was not scanned),
        in one transaction; False (nothing written) if the claim was lost."""
        ...

    def record_outcomes(
        self, claim_token: str, now: datetime, outcomes: Sequence[OutcomeToRecord]
    ) -> list[bool]:
        """Write the outcomes of a batch, each as `record_outcome` would (only where the
        document is still processing under `claim_token`, with its listed children and its
        audit event), all in one transaction: either every outcome whose claim holds is
        written, or (an error raised) none is. Returns, in the order given, whether each
        was written (False: its claim was lost, nothing of it written)."""
        ...


class InspectionRecords(Protocol):
    """What the use cases keep of inspections: their dates, state, contacts, selections
    and on-site viewing, each change with an audit event."""

    def add_extra_item(self, extra: ExtraItem) -> None:
        """Store an item the lead asked of one agency, with an audit event (ids, kind,
        agency and due time only: the title is free text)."""
        ...

    def add_inspection(self, inspection: Inspection, actor: str) -> None:
        """Store a new inspection and its agencies, with an audit event, in one transaction."""
        ...

    def get_inspection(self, inspection_id: str) -> Inspection | None:
        """The inspection with this id, or None."""
        ...

    def list_inspection_ids(self, state: InspectionState | None = None) -> list[str]:
        """Every inspection's id (in one state, if given), oldest first."""
        ...

    def set_inspection_days(
        self,
        inspection_id: str,
        notification: date | None,
        fieldwork_start: date | None,
        entered: frozenset[EnteredDay],
        actor: str,
        now: datetime,
    ) -> None:
        """Replace the inspection's notification and fieldwork days, with an audit event
        naming the days and which were entered."""
        ...

    def set_inspection_state(
        self, inspection_id: str, state: InspectionState, reason: str, actor: str, now: datetime
    ) -> None:
        """Close, withdraw or reopen an inspection, with an audit event."""
        ...

    def deadline_overrides(self, inspection_id: str) -> dict[str, datetime]:
        """The lead inspector's moved deadlines of one inspection (UTC)."""
        ...

    def deadline_moves(self, inspection_id: str) -> list[MovedDeadline]:
        """The moved deadlines of one inspection, with who moved each, when and why."""
        ...

    def set_deadline_override(
        self,
        inspection_id: str,
        deadline: str,
        due: datetime,
        reason: str,
        actor: str,
        now: datetime,
    ) -> None:
        """Move one deadline of one inspection (replacing an earlier move), with an audit event."""
        ...

    def selection(self, inspection_id: str, stage: str) -> tuple[str, ...]:
        """The children selected at one stage (shortlist or audit), in the order given."""
        ...

    def replace_selection(
        self, inspection_id: str, stage: str, child_ids: Sequence[str], actor: str, now: datetime
    ) -> None:
        """Record a stage's selection, replacing the previous one, with an audit event."""
        ...

    def listed_children(self, inspection_id: str) -> list[ListEntry]:
        """Every child named by an accepted, not deleted, child-level list of the
        inspection, list by list in the order they were decided, rows in file order."""
        ...

    def on_site_records(self, inspection_id: str) -> list[OnSiteRecord]:
        """What is held about the inspection's case-record slots to be seen on site (the
        lead's marks, the agencies' arrangements, what was seen), by child then agency."""
        ...

    def mark_on_site(
        self, inspection_id: str, child_id: str, agency: str, actor: str, now: datetime
    ) -> None:
        """Mark one slot's records to be seen on site (again: no change), with an audit
        event."""
        ...

    def confirm_arrangement(
        self,
        inspection_id: str,
        child_id: str,
        agency: str,
        where: str,
        day: date,
        actor: str,
        now: datetime,
    ) -> None:
        """Record (or replace) where, how and when inspectors will see one slot's records,
        with an audit event that holds the day but never the text."""
        ...

    def record_seen_on_site(
        self, inspection_id: str, child_id: str, agency: str, actor: str, now: datetime
    ) -> None:
        """Record that an inspector saw one slot's records on site, with an audit event."""
        ...

    def set_onsite(
        self,
        inspection_id: str,
        networks: list[str],
        window_start: datetime,
        window_end: datetime,
        actor: str,
        now: datetime,
    ) -> None:
        """Register where (CIDRs) and when health records of an inspection may be viewed."""
        ...

    def onsite_policy(self, inspection_id: str) -> OnSitePolicy:
        """Where and when the inspection's health records may be viewed."""
        ...

    def set_contacts(self, inspection_id: str, contacts: Contacts) -> None:
        """Replace who hears about an inspection."""
        ...

    def contacts(self, inspection_id: str) -> Contacts:
        """Who hears about an inspection."""
        ...


class DocumentRecords(IngestRepository, Protocol):
    """What the use cases and the dispatcher keep of documents, besides the ingest steps'
    own needs: every state change guarded by the state it expects."""

    def add_document(self, document: Document, actor: str, *, held_by: Sequence[str] = ()) -> None:
        """Record a newly received document, with an audit event; one rejected at intake
        (its scan on arrival found a signature) with its rejection's event too, naming the
        legal holds `held_by` that keep its bytes in quarantine."""
        ...

    def get_document(self, document_id: str) -> Document | None:
        """The document with this id, or None."""
        ...

    def get_documents(self, document_ids: Collection[str]) -> list[Document]:
        """The documents with these ids that exist, in one query, in no particular order."""
        ...

    def inspection_documents(
        self,
        inspection_id: str,
        *,
        status: DocumentStatus | None = None,
        agency: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Document]:
        """The inspection's documents (of one status and one agency, if given) in the order
        they were received, starting after the document `after` (its id), at most `limit`."""
        ...

    def document_facts(self, inspection_id: str, agency: str | None = None) -> list[DocumentFact]:
        """What completeness needs of every document of an inspection (or one agency)."""
        ...

    def waiting_documents(self, now: datetime, limit: int) -> list[WaitingDocument]:
        """Up to `limit` documents waiting for a batch (received, or failed with their
        retry time passed; none whose deletion has begun), oldest first."""
        ...

    def claim_next_batch(
        self, claim_token: str, now: datetime, max_documents: int, max_bytes: int
    ) -> list[Document]:
        """Claim up to `max_documents` (and about `max_bytes`) waiting documents, oldest
        first; at least one, however large, if any waits."""
        ...

    def release_stale(self, now: datetime, lease_seconds: float) -> list[str]:
        """Return documents stuck in processing longer than the lease to received."""
        ...

    def release_claims(self, claim_prefix: str, now: datetime) -> list[str]:
        """Return to received every document processing under a claim token that starts
        with `claim_prefix` (a restarted worker's own claims)."""
        ...

    def request_reprocess(self, document_id: str, now: datetime, actor: str) -> bool:
        """Put a failed document back in the queue now. Returns False unless it was failed."""
        ...

    def record_view(
        self, document: Document, actor: str, address: str, allowed: bool, rule: str, now: datetime
    ) -> None:
        """Audit one attempt to read a document's content, allowed or not."""
        ...

    def withdraw_document(
        self,
        document_id: str,
        now: datetime,
        *,
        reason: ReasonCode,
        detail: str,
        signature: str,
        scanned_with: str,
        actor: str,
    ) -> bool:
        """Withdraw an accepted, not deleted document (status, reason, detail, decided
        now) with an audit event, in one transaction; False (nothing written) otherwise."""
        ...

    def settle_withdrawal(
        self,
        document_id: str,
        now: datetime,
        *,
        kept_sha256: str | None,
        hold_ids: Sequence[str],
        actor: str,
    ) -> bool:
        """Record that a withdrawn document's bytes left the content areas (its area becomes
        quarantine: kept there under `hold_ids`, or deleted), with an audit event; False
        (nothing written) unless it was withdrawn and not yet settled."""
        ...

    def rescan_candidates(self, engine: str, version: str) -> list[RescanCandidate]:
        """Every held document (accepted, content neither deleted nor being deleted) whose
        verdict was reached under another engine or signature version, or none recorded."""
        ...

    def waiting_for_pipeline(self) -> int:
        """How many documents wait for the ingest pipeline or are in it now (received or
        processing): what a rescan gives way to."""
        ...

    def scan_verdicts(
        self, digests: Iterable[str], engine: str, version: str
    ) -> dict[str, KnownVerdict]:
        """The verdicts kept under this engine and signature version for these digests."""
        ...

    def record_rescan(
        self,
        verdicts: Mapping[str, KnownVerdict],
        clean_documents: Sequence[str],
        scanned: ScannedWith,
        actor: str,
    ) -> int:
        """Keep the verdicts reached for these digests and record the clean documents as
        judged by `scanned`'s signatures (those still accepted), in one transaction; how
        many documents were recorded."""
        ...

    def unsettled_withdrawals(self) -> list[str]:
        """Documents withdrawn whose bytes are still recorded in a content area."""
        ...

    def record_audit_verified(
        self, actor: str, now: datetime, *, ok: bool, breaks: int, entries: int
    ) -> None:
        """Record that `actor` verified the audit log, and the outcome (counts only)."""
        ...


class Outbox(Protocol):
    """The chase messages owed and sent: each recorded once by its key, sent at least once."""

    def enqueue_messages(self, messages: Sequence[PlannedMessage], now: datetime) -> int:
        """Record planned messages unless their key is there already; how many were new."""
        ...

    def claim_outbox(
        self, claim_token: str, now: datetime, stale_after: timedelta, limit: int = 100
    ) -> list[OutboxMessage]:
        """Claim pending messages (and ones a crashed run left claimed) for sending."""
        ...

    def finish_outbox(
        self, key: str, claim_token: str, now: datetime, error: str | None = None
    ) -> None:
        """Mark a claimed message sent, or (with `error`) pending again for a later run."""
        ...

    def outbox(self, inspection_id: str) -> list[OutboxMessage]:
        """Every message recorded for an inspection, oldest first."""
        ...


class Repository(InspectionRecords, DocumentRecords, Outbox, Protocol):
    """The metadata database, as the use cases see it."""

    def check(self) -> None:
        """Raise a TransientError subclass unless the database answers now."""
        ...


class ConcernStore(Protocol):
    """Issues of concern: each Annex C form, stored with the item of its written response.
    Audit events name ids, codes and times only, never the form's text."""

    def add_concern(self, concern: Concern, item: ExtraItem) -> None:
        """Store the concern and the item of its written response together, with one audit
        event."""
        ...

    def concerns(self, inspection_id: str) -> list[Concern]:
        """The inspection's concerns in the order they were raised."""
        ...

    def get_concern(self, inspection_id: str, concern_id: str) -> Concern | None:
        """One concern of the inspection, or None."""
        ...

    def record_evaluation(
        self, inspection_id: str, concern_id: str, evaluation: str, actor: str, now: datetime
    ) -> bool:
        """Record (or replace) the inspectors' evaluation, with an audit event, unless
        either side has signed the form meanwhile (then False, and nothing changes)."""
        ...

    def sign_concern(
        self,
        inspection_id: str,
        concern_id: str,
        signatory: Signatory,
        actor: str,
        chief_officer: str | None,
        now: datetime,
    ) -> bool:
        """Record one side's signature, with an audit event, if the evaluation is recorded
        and that side has not signed (else False, and nothing changes)."""
        ...


class RetentionRecordsStore(Protocol):
    """What retention keeps and deletes: runs and their entries, legal holds, retention
    events and the register of names."""

    def events(self, inspection_id: str) -> dict[RetentionEvent, date]:
        """The retention events recorded for an inspection."""
        ...

    def set_event(
        self, inspection_id: str, event: RetentionEvent, on: date, actor: str, now: datetime
    ) -> None:
        """Record (or correct) when an event happened, with an audit event."""
        ...

    def letter_days(self, inspection_id: str) -> dict[LetterStep, date]:
        """The days recorded for the inspection's letter (its publication is the retention
        event letter_published, the same record)."""
        ...

    def set_letter_day(
        self, inspection_id: str, step: LetterStep, on: date, actor: str, now: datetime
    ) -> None:
        """Record (or correct) the day of a step of the letter, with an audit event."""
        ...

    def set_letter_days(
        self, inspection_id: str, days: Mapping[LetterStep, date], actor: str, now: datetime
    ) -> None:
        """Record (or correct) the days of several steps of the letter in one transaction
        (all or none), each with its audit event."""
        ...

    def place_hold(
        self,
        inspection_id: str,
        document_id: str | None,
        reason: str,
        actor: str,
        now: datetime,
    ) -> LegalHold:
        """Place a hold on an inspection or one of its documents."""
        ...

    def lift_hold(self, hold_id: str, reason: str, actor: str, now: datetime) -> LegalHold | None:
        """Lift an active hold; None if there is no such hold. Lifting twice changes nothing."""
        ...

    def get_hold(self, hold_id: str) -> LegalHold | None:
        """The hold with this id, or None."""
        ...

    def holds(self, inspection_id: str | None = None) -> list[LegalHold]:
        """Every hold (of one inspection, if given), active or lifted, oldest first."""
        ...

    def add_name(
        self,
        inspection_id: str,
        name: str,
        reference: str,
        note: str,
        actor: str,
        now: datetime,
    ) -> NameEntry:
        """Record a name in the inspection's register (the audit event does not hold it)."""
        ...

    def names(self, inspection_id: str) -> list[NameEntry]:
        """The inspection's register, in the order names were recorded."""
        ...

    def names_reduced_at(self, inspection_id: str) -> datetime | None:
        """When the inspection's names were reduced to initials, if they have been."""
        ...

    def reduce_names(
        self,
        inspection_id: str,
        names: Sequence[str],
        run_id: str,
        entry: RetentionEntry,
        now: datetime,
    ) -> RetentionEntry:
        """Rewrite every free-text field of the inspection with the names reduced to initials,
        give each document a neutral filename, leave only initials in the register, then
        look for the names anywhere in the database."""
        ...

    def documents_of(self, inspection_id: str) -> list[Document]:
        """The inspection's documents that still have their bytes (not tombstoned)."""
        ...

    def unfinished_deletions(self) -> dict[str, str]:
        """Documents a run began to delete but did not tombstone: document id -> run id."""
        ...

    def mark_deletion_started(self, document_id: str, run_id: str, now: datetime) -> bool:
        """Say, before any byte goes, that this run is deleting the document. False (nothing
        marked) if the document is being processed or is already a tombstone."""
        ...

    def clear_deletion_mark(self, document_id: str) -> None:
        """Forget an unfinished deletion (the document is held or no longer due)."""
        ...

    def tombstone(
        self, document_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> None:
        """Clear the document's content fields, keep the tombstone, and write the entry, in one
        transaction."""
        ...

    def outbox_count(self, inspection_id: str) -> int:
        """How many messages the inspection has in the outbox."""
        ...

    def audit_log_count(self, inspection_id: str) -> int:
        """How many audit events the inspection's chain holds (its own and its documents')."""
        ...

    def delete_outbox(
        self, inspection_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> int:
        """Delete the inspection's outbox messages and write the entry, in one transaction."""
        ...

    def on_site_count(self, inspection_id: str) -> int:
        """How many case-record slots to be seen on site the inspection holds records of
        (marks, arrangements, what was seen)."""
        ...

    def delete_on_site(
        self, inspection_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> int:
        """Delete what the inspection holds of its slots to be seen on site (the
        arrangements' text with them) and write the entry, in one transaction."""
        ...

    def extra_items_count(self, inspection_id: str) -> int:
        """How many items the lead asked beyond the theme the inspection holds."""
        ...

    def concerns_count(self, inspection_id: str) -> int:
        """How many issues of concern the inspection holds."""
        ...

    def delete_concerns(
        self, inspection_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> int:
        """Delete the inspection's issues of concern (the forms' text with them: case
        numbers, service, issues, evaluation, chief officer) and write the entry, in one
        transaction."""
        ...

    def delete_extra_items(
        self, inspection_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> int:
        """Delete the items the lead asked beyond the theme (their titles with them) and
        write the entry, in one transaction."""
        ...

    def delete_audit_log(
        self, inspection_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> int:
        """Delete the inspection's audit chain (every seq of it: the events of the inspection
        and of its documents), record `audit_chain_deleted` in the portal chain so that
        verification knows the absence is lawful, and write the entry (with the id, seq and
        hash of the last event deleted), in one transaction."""
        ...

    def start_run(
        self,
        run_id: str,
        *,
        dry_run: bool,
        as_of: datetime,
        actor: str,
        policy_sha256: str,
        now: datetime,
        lease_seconds: float,
    ) -> tuple[str, ...]:
        """Begin a run. A deleting run takes over deleting runs that went silent for longer
        than the lease (marked interrupted, completed by this one) and returns their ids; it
        raises RunInProgress if one is still alive. Dry runs never conflict; any run marks
        dead dry runs interrupted."""
        ...

    def add_entry(self, run_id: str, entry: RetentionEntry, now: datetime) -> None:
        """Append a line to the run's record (and show the run is alive)."""
        ...

    def finish_run(
        self, run_id: str, summary: dict[str, Any], now: datetime, status: str = "completed"
    ) -> None:
        """Mark the run finished (`completed`, or `failed` when a check found what should be
        gone) with its summary counts."""
        ...

    def flush_deleted_values(self) -> bool:
        """Move what the write-ahead log holds into the database file and empty the log, so a
        value just overwritten (with secure_delete, zeroed) is in no file. SQLite only; True
        when the log was emptied (PostgreSQL: nothing to do here, True)."""
        ...

    def get_run(self, run_id: str) -> RetentionRun | None:
        """The run with its record, or None."""
        ...

    def runs(self, limit: int = 50) -> list[RetentionRun]:
        """The newest runs first, without their entries."""
        ...


class TokenCache(Protocol):
    """Portal tokens verified a moment ago, by their sha256, in one process: bounded in
    size, never holding a refusal, each entry trusted only inside the times it was put
    with. Safe to use from many threads."""

    def generation(self) -> int:
        """A number that changes whenever something is forgotten: read it before looking a
        token up, and give it to `put`, so a look that raced a revocation is not kept."""
        ...

    def get(self, token_sha256: str, now: datetime) -> Principal | None:
        """The principal put for this token, if `now` is inside its entry's times."""
        ...

    def put(
        self,
        token_sha256: str,
        principal: Principal,
        verified_at: datetime,
        until: datetime,
        generation: int,
    ) -> None:
        """Keep this token's principal from `verified_at` until `until`, unless something
        was forgotten since `generation` was read."""
        ...

    def forget(self, token_id: str) -> None:
        """Drop every entry of this token (revoked, or its person changed)."""
        ...


class IdentityStore(Protocol):
    """Users and their API tokens: who may sign in, as whom, and until when."""

    def add_user(self, user: User, actor: str) -> User:
        """Record a new user; DuplicateUser if the e-mail or subject is taken."""
        ...

    def get_user(self, user_id: str) -> User | None:
        """The user with this id, or None."""
        ...

    def users_of(self, inspection_id: str) -> list[User]:
        """The inspection's users, oldest first."""
        ...

    def records_officer_emails(self, inspection_id: str) -> list[str]:
        """The email addresses of the enabled records officers who keep this inspection's
        records: its own, and those of every inspection."""
        ...

    def add_token(
        self,
        user: User,
        token_id: str,
        token_sha256: str,
        label: str,
        expires_at: datetime,
        actor: str,
        now: datetime,
    ) -> TokenInfo:
        """Store a token's hash for `user` (never the token itself)."""
        ...

    def get_token(self, token_id: str) -> TokenInfo | None:
        """The token with this id (without its secret), or None."""
        ...

    def tokens_of(self, user_id: str) -> list[TokenInfo]:
        """A user's tokens, newest first."""
        ...

    def revoke_token(self, token_id: str, actor: str, now: datetime) -> TokenInfo | None:
        """Revoke a token (revoking twice changes nothing); None if there is no such token."""
        ...

    def principal_for_token(self, token_sha256: str, now: datetime) -> Principal | None:
        """The principal of a usable token with this hash, or None if it is unknown, revoked or
        expired, or its user is disabled."""
        ...

    def verified_token(self, token_sha256: str, now: datetime) -> VerifiedToken | None:
        """As principal_for_token, with the token's expiry."""
        ...

    def principal_for_subject(
        self, subject: str, email: str | None, email_verified: bool
    ) -> Principal | None:
        """The principal of an identity-provider sign-in: the user bound to `subject`, or (on a
        first sign-in) the user with that verified e-mail, who is then bound to it."""
        ...

    def record_denial(
        self,
        actor: str,
        inspection_id: str | None,
        document_id: str | None,
        detail: dict[str, str],
        now: datetime,
    ) -> None:
        """Audit a request the authorisation gate refused."""
        ...

    def has_usable_admin_token(self, now: datetime) -> bool:
        """Whether any admin token can still be used."""
        ...
