"""The ingest steps, in order: scan -> classify -> sanitise -> check -> route -> record.

Each step gets its facts through a port, asks a pure `decide_*` function of the domain for a
verdict and returns it. Steps work on a micro-batch (`Batch`): `run_step` runs one step over
every document still in play, so a document stopped at one step skips the rest; `record`
commits each verdict before it touches the quarantined original, so a replay is harmless.
The ingest flow (flows/ingest.py) makes each of these a Prefect task; `process_batch` runs
them in a plain loop.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

from portal.domain.checklist import ThemePolicy
from portal.domain.child_lists import (
    ListedChild,
    UnreadableList,
    check_child_list,
    listed_children,
)
from portal.domain.documents import Area, Document, DocumentStatus, Outcome, Verdict
from portal.domain.errors import ObjectMissing, TransientError
from portal.domain.extra_items import ExtraItem
from portal.domain.file_types import FileTypePolicy, decide_file_type
from portal.domain.ports import (
    Classifier,
    IngestRepository,
    ObjectStore,
    OutcomeToRecord,
    Sanitiser,
    Scanner,
    TableFiles,
    UploadReads,
)
from portal.domain.reasons import ReasonCode, WarningCode
from portal.domain.receipt_order import earlier_uploads, receipt_order
from portal.domain.retention import LegalHold, active_holds
from portal.domain.sanitising import decide_sanitise
from portal.domain.scanning import decide_scan
from portal.domain.schedule import Schedule
from portal.domain.scope import (
    EXTRA_PREFIX,
    UploadFacts,
    area_for_upload,
    carries_child,
    child_list_of,
    decide_list_file,
    decide_upload,
)
from portal.domain.selection import Stage
from portal.domain.signatures import ScannedWith, Signatures
from portal.domain.upload_scan import scanned_clean_at_upload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestServices:
    """Everything the steps need, built once by portal.bootstrap."""

    store: ObjectStore
    scanner: Scanner
    classifier: Classifier
    sanitiser: Sanitiser
    tables: TableFiles
    table_file_types: frozenset[str]
    repository: IngestRepository
    themes: dict[str, ThemePolicy]
    file_types: FileTypePolicy
    retry_delay: timedelta
    claim_lease: timedelta
    clock: Callable[[], datetime]
    schedule_of: Callable[[str], Schedule | None]
    holds_of: Callable[[str], Sequence[LegalHold]]
    """Every legal hold of an inspection, active or lifted, read when a batch's verdicts
    are written (a rejected document's quarantined bytes stay while one is active)."""
    scan_connections: int = 1
    """How many documents of a batch `scan` sends to the scanner at once (the scanner's
    connection count, JTAI_CLAMD_CONNECTIONS)."""
    workspace_root: Path | None = None
    """Where batches keep their temp workspace (None: the system's temp directory): on the
    store's filesystem, a sanitised copy is renamed into the store rather than copied."""
    _theme_of_inspection: dict[str, ThemePolicy] = field(default_factory=dict)

    def theme_of(self, inspection_id: str) -> ThemePolicy:
        """The theme policy an inspection follows (an inspection never changes theme)."""
        if inspection_id not in self._theme_of_inspection:
            inspection = self.repository.get_inspection(inspection_id)
            if inspection is None:
                raise LookupError(f"no inspection {inspection_id}")
            self._theme_of_inspection[inspection_id] = self.themes[inspection.theme_key]
        return self._theme_of_inspection[inspection_id]


@dataclass
class WorkItem:
    """One document on its way through the steps, with what the steps have learnt so far.

    `original` is the local copy of its quarantined bytes; while `verdict` proceeds the
    document is in play, and once a step stops it (reject, or retry) the later steps skip it.
    """

    document: Document
    original: Path
    workdir: Path
    payload: Path
    file_type: str | None = None
    mime_type: str | None = None
    area: Area = Area.quarantine
    sha256_stored: str | None = None
    warnings: list[WarningCode] = field(default_factory=list)
    listed: tuple[ListedChild, ...] = ()
    notes: list[str] = field(default_factory=list)
    verdict: Verdict = field(default_factory=Verdict.proceed)
    seconds: float = 0.0
    scanned: ScannedWith | None = None

    @property
    def in_play(self) -> bool:
        """True until a step stops the document."""
        return self.verdict.outcome is Outcome.proceed

    @property
    def heading_for(self) -> DocumentStatus:
        """The status the document would be recorded with now."""
        if self.verdict.outcome is Outcome.reject:
            return DocumentStatus.rejected
        if self.verdict.outcome is Outcome.retry:
            return DocumentStatus.failed
        return DocumentStatus.processing

    def stop(self, verdict: Verdict) -> None:
        """Take the document out of play with `verdict` (a reject or a retry)."""
        self.verdict = verdict

    def fail(self, verdict: Verdict) -> None:
        """Take the document out of play for a retry, forgetting what the steps learnt: a
        document that failed midway is recorded as if no step had run."""
        self.verdict = verdict
        self.file_type = self.mime_type = self.sha256_stored = None
        self.scanned = None
        self.area = Area.quarantine
        self.warnings.clear()
        self.listed = ()
        self.notes.clear()


class Batch:
    """A micro-batch of claimed documents in its temp workspace, on its way through the steps.

    A plain class, not a dataclass: the ingest flow hands it from task to task, and Prefect
    does not walk into plain objects (the work items and policies need no inspection).
    """

    def __init__(self, items: list[WorkItem], claim_token: str, services: IngestServices) -> None:
        self.items = items
        self.claim_token = claim_token
        self.services = services
        self.results: list[DocumentResult] = []
        self._renewed_at = services.clock()
        self._signatures: Signatures | None = None
        self._signatures_lock = threading.Lock()
        self.reads = ReadOnce(
            services.repository,
            [(i.document.inspection_id, i.document.agency, i.document.item_number) for i in items],
        )

    def signatures(self) -> Signatures:
        """The signatures the scanner has loaded, asked once per batch, before its first
        scan: every scan of the batch uses these or newer ones, so a verdict never records
        newer signatures than those that judged it (at worst older ones, and a rescan
        looks at it again). Each batch asks anew, so a change between batches is seen.
        Safe to call from the scan step's threads: the first asks, the others wait for it
        (and ask again if it could not get an answer)."""
        with self._signatures_lock:
            if self._signatures is None:
                self._signatures = self.services.scanner.signatures()
            return self._signatures

    def keep_claim(self) -> None:
        """Renew the batch's claim when a third of its lease has passed since the last
        renewal: verdicts are recorded only at the end, so a slow batch must not look
        abandoned to the reconciler meanwhile."""
        now = self.services.clock()
        if now - self._renewed_at >= self.services.claim_lease / 3:
            self.services.repository.renew_claim(self.claim_token, now)
            self._renewed_at = now

    @property
    def in_play(self) -> list[WorkItem]:
        """The documents no step has stopped yet, in batch order."""
        return [item for item in self.items if item.in_play]

    def as_known(self) -> list[Document]:
        """The batch's documents with the status the batch knows them to be heading for:
        `processing` while in play, `rejected` or `failed` once a step stopped them (the
        database still says `processing` for all of them until `record`)."""
        return [
            item.document.model_copy(update={"status": item.heading_for}) for item in self.items
        ]

    def counts(self) -> dict[str, int]:
        """How many documents ended in each status (after `record`)."""
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.status.value] = counts.get(result.status.value, 0) + 1
        return counts


T = TypeVar("T")


class ReadOnce:
    """The scope checks' reads for one batch, each asked of the database once.

    What the check step finds is then as of its first look at an agency's items, a
    selection or an inspection, the same for every document of the batch that shares it
    (the batch's own documents are added by `upload_facts` as the batch knows them): a
    document recorded by another batch meanwhile counts as it would had it arrived a
    moment later. Reads are not shared between batches. Not for threads: the check step
    runs one document after another.

    `items`: the (inspection, agency, item) of the batch's documents. The first look at
    one agency's item reads what was sent for all of that agency's `items` at once.
    """

    def __init__(self, repository: UploadReads, items: Iterable[tuple[str, str, str]] = ()) -> None:
        self._repository = repository
        self._read: dict[tuple[str, ...], Any] = {}
        self._items_of: dict[tuple[str, str], set[str]] = {}
        for inspection_id, agency, item in items:
            self._items_of.setdefault((inspection_id, agency), set()).add(item)

    def _once(self, key: tuple[str, ...], read: Callable[[], T]) -> T:
        if key not in self._read:
            self._read[key] = read()
        return cast(T, self._read[key])

    def uploads_for_item(self, inspection_id: str, agency: str, item: str) -> list[Document]:
        """`UploadReads.uploads_for_item`, asked once per (inspection, agency, item), with
        the batch's other items of that agency."""
        key = ("uploads", inspection_id, agency, item)
        if key not in self._read:
            items = self._items_of.pop((inspection_id, agency), set()) | {item}
            found = self._repository.uploads_for_items(inspection_id, agency, items)
            for each, documents in found.items():
                self._read.setdefault(("uploads", inspection_id, agency, each), documents)
        return cast(list[Document], self._read[key])

    def uploads_for_items(
        self, inspection_id: str, agency: str, items: Collection[str]
    ) -> dict[str, list[Document]]:
        """`uploads_for_item` of each of `items`."""
        return {item: self.uploads_for_item(inspection_id, agency, item) for item in items}

    def selection(self, inspection_id: str, stage: str) -> tuple[str, ...]:
        """`UploadReads.selection`, asked once per (inspection, stage)."""
        return self._once(
            ("selection", inspection_id, stage),
            lambda: self._repository.selection(inspection_id, stage),
        )

    def extra_items(self, inspection_id: str) -> list[ExtraItem]:
        """`UploadReads.extra_items`, asked once per inspection."""
        return self._once(
            ("extra_items", inspection_id), lambda: self._repository.extra_items(inspection_id)
        )


Step = Callable[[WorkItem, Batch], Verdict]


def scan(item: WorkItem, batch: Batch) -> Verdict:
    """clamd reads every byte; anything but an exact clean reply stops the document. The
    verdict records which signatures judged it, and when. A document the API scanned clean
    as it arrived is not sent to clamd again: its verdict records that scan's signatures
    and time (the parts a PDF holds are still scanned, at `sanitise`).

    Runs for several documents of the batch at once (see `run_step`): it touches only its
    own item, and a document's verdict depends on its own bytes alone."""
    at_upload = scanned_clean_at_upload(item.document)
    if at_upload is not None:
        item.scanned = at_upload
        return Verdict.proceed()
    scanned = ScannedWith(signatures=batch.signatures(), at=batch.services.clock())
    with item.original.open("rb") as source:
        verdict = decide_scan(batch.services.scanner.scan(source))
    item.scanned = scanned
    return verdict


def classify(item: WorkItem, batch: Batch) -> Verdict:
    """libmagic types the bytes; the type must be allowed and agree with the extension."""
    services = batch.services
    facts = services.classifier.classify(item.original, item.document.original_filename)
    decision = decide_file_type(facts, services.file_types)
    item.file_type = decision.file_type
    item.mime_type = facts.mime_type
    return decision.verdict


def sanitise(item: WorkItem, batch: Batch) -> Verdict:
    """PDFs are rewritten without active content, attachments or metadata; others pass.

    Every file embedded in the PDF is scanned by clamd on its own, decoded (clamd does not
    see every attachment inside a PDF), and so is a copy that was decrypted: the first
    scan that is not clean decides the document (infected: the whole document is rejected).
    """
    services = batch.services
    allowed = services.file_types.type_by_code(item.file_type) if item.file_type else None
    if allowed is None or not allowed.is_pdf:
        return Verdict.proceed()
    target = item.workdir / "sanitised.pdf"
    embedded = item.workdir / "embedded"
    embedded.mkdir()
    report = services.sanitiser.sanitise_pdf(item.original, target, embedded)
    verdict = decide_sanitise(report)
    if verdict.outcome is not Outcome.proceed:
        return verdict
    parts = sorted(embedded.iterdir())
    if report.decrypted:
        parts.append(target)
    for part in parts:
        with part.open("rb") as source:
            scanned = decide_scan(services.scanner.scan(source))
        if scanned.outcome is not Outcome.proceed:
            what = "the decrypted PDF" if part == target else "a file embedded in the PDF"
            return scanned.model_copy(update={"detail": f"{what}: {scanned.detail}"})
    item.payload = target
    return verdict


def check(item: WorkItem, batch: Batch) -> Verdict:
    """The upload must be asked of its agency, for a selected child, within its look-back;
    a child-level list must pass its list definition, formula cells neutralised, and the
    children it names are kept on the item for `record`."""
    services = batch.services
    document = item.document
    theme = services.theme_of(document.inspection_id)
    facts = upload_facts(
        batch.reads,
        services.schedule_of(document.inspection_id),
        document,
        batch=batch.as_known(),
    )
    verdict = decide_upload(theme, facts)
    definition = child_list_of(theme, document.item_number)
    if verdict.outcome is not Outcome.proceed or definition is None:
        return verdict
    file_kind = decide_list_file(item.file_type, services.table_file_types)
    if file_kind.outcome is not Outcome.proceed or item.file_type is None:
        return file_kind
    try:
        table = services.tables.read(item.payload, item.file_type)
    except UnreadableList as exc:
        return Verdict.reject(exc.reason or ReasonCode.corrupt, detail=str(exc))
    checked = check_child_list(table, definition)
    if checked.verdict.outcome is Outcome.proceed and checked.neutralised_cells:
        target = item.workdir / f"neutralised.{item.file_type}"
        services.tables.write(checked.neutralised, target, item.file_type)
        item.payload = target
    if checked.verdict.outcome is not Outcome.proceed:
        return checked.verdict
    item.listed = listed_children(table, definition)
    return Verdict.proceed(
        *verdict.warnings,
        *checked.verdict.warnings,
        detail="; ".join(d for d in (verdict.detail, checked.verdict.detail) if d),
    )


def upload_facts(
    repository: UploadReads,
    schedule: Schedule | None,
    document: Document,
    batch: Sequence[Document] = (),
) -> UploadFacts:
    """Gather what the scope checks need to know about `document`: what was sent before it
    for its item comes from the database, except that the documents of its own `batch`
    count with the status the batch knows them by (see portal.domain.receipt_order)."""
    child_upload = carries_child(document.item_number)
    in_batch = {other.id: other for other in batch}
    stored = repository.uploads_for_item(
        document.inspection_id, document.agency, document.item_number
    )
    known = [in_batch.pop(other.id, other) for other in stored]
    earlier = earlier_uploads(document, [*known, *in_batch.values()])
    return UploadFacts(
        agency=document.agency,
        item=document.item_number,
        child_id=document.child_id,
        document_date=document.document_date,
        audited_children=(
            frozenset(repository.selection(document.inspection_id, Stage.audit.value))
            if child_upload
            else frozenset()
        ),
        shortlisted_children=(
            frozenset(repository.selection(document.inspection_id, Stage.shortlist.value))
            if child_upload
            else frozenset()
        ),
        notification=schedule.notification if schedule else None,
        sent_earlier_for_slot=earlier.in_slot,
        duplicate=earlier.same_bytes,
        extra_agency=_extra_agency(repository, document),
    )


def _extra_agency(repository: UploadReads, document: Document) -> str | None:
    """The agency the inspection's own item `document` is sent for is asked of, if it is
    sent for one and the inspection has it."""
    if not document.item_number.startswith(EXTRA_PREFIX):
        return None
    extras = repository.extra_items(document.inspection_id)
    return next((e.agency for e in extras if e.item == document.item_number), None)


def route(item: WorkItem, batch: Batch) -> Verdict:
    """Store the safe copy in the clean area, or the on-site area for health records."""
    services = batch.services
    document = item.document
    area = area_for_upload(
        services.theme_of(document.inspection_id),
        document.agency,
        document.item_number,
        document.health_information,
    )
    if item.payload.is_relative_to(item.workdir):
        # A copy the steps made (sanitised, neutralised): the store may take it over.
        stored = services.store.put_file(area, document.object_key, item.payload)
        item.payload = item.original
    else:
        # The quarantined original itself (or the store's local copy of it): copied, so
        # it stays in quarantine until the verdict is committed.
        with item.payload.open("rb") as source:
            stored = services.store.put(area, document.object_key, source)
    item.area = area
    item.sha256_stored = stored.sha256
    return Verdict.proceed()


STEPS: tuple[Step, ...] = (scan, classify, sanitise, check, route)
"""The steps that decide a document, in the order they run; `record` follows them."""

PIPELINE: tuple[str, ...] = ("scan", "classify", "sanitise", "check", "route", "record")
"""The pipeline's step names in the order DESIGN.md draws them: the plain loop (STEPS, then
record) and the ingest flow's tasks are both checked against it at start-up."""


def check_step_order(names: Sequence[str] | None = None) -> None:
    """Fail at start-up unless `names` are the steps DESIGN.md draws, in its order.

    By default `names` are those of the functions this module runs (STEPS, then record);
    the ingest flow passes the names of its tasks, in the order it runs them.
    """
    running = list(names) if names is not None else [*(s.__name__ for s in STEPS), "record"]
    if running != list(PIPELINE):
        raise RuntimeError(f"ingest steps are out of order: {running}, not {list(PIPELINE)}")


@dataclass(frozen=True)
class DocumentResult:
    """What happened to one document in one run, for the run's table artifact: ids, codes
    and counts only. No filename: the Prefect server is beyond the retention run's reach,
    and a filename may carry a child's name."""

    document_id: str
    item_number: str
    status: DocumentStatus
    reasons: tuple[ReasonCode, ...]
    warnings: tuple[WarningCode, ...]
    milliseconds: int
    recorded: bool

    @property
    def is_transient_failure(self) -> bool:
        """True when the document waits for a retry because a dependency failed."""
        return self.status is DocumentStatus.failed


@contextmanager
def open_batch(
    documents: Sequence[Document], claim_token: str, services: IngestServices
) -> Iterator[Batch]:
    """The batch's temp workspace: a local copy of each document's quarantined bytes and a
    scratch directory each, all removed on leaving. A document whose bytes cannot be read
    now enters the batch already stopped, for a retry."""
    with ExitStack() as workspace:
        if services.workspace_root is not None:
            services.workspace_root.mkdir(parents=True, exist_ok=True)
        root = Path(
            workspace.enter_context(
                tempfile.TemporaryDirectory(prefix=WORKSPACE_PREFIX, dir=services.workspace_root)
            )
        )
        items = []
        # In the order received, so that an upload's earlier ones in the batch have been
        # checked (and any rejection known) before it is.
        for number, document in enumerate(sorted(documents, key=receipt_order)):
            workdir = root / str(number)
            workdir.mkdir()
            unread = workdir / "unread"
            item = WorkItem(document, original=unread, workdir=workdir, payload=unread)
            _attempt(item, "open", partial(_open, item, workspace, services))
            items.append(item)
        yield Batch(items, claim_token, services)


WORKSPACE_PREFIX = "jtai-ingest-"


def sweep_workspaces(root: Path, older_than: datetime) -> int:
    """Remove the batch workspaces under `root` last changed before `older_than`: those of
    a worker that died mid-batch (a batch that ends removes its own). They hold documents'
    bytes, which must not outlive the documents out of the retention run's reach. Returns
    how many were removed."""
    removed = 0
    for workspace in root.glob(f"{WORKSPACE_PREFIX}*") if root.is_dir() else ():
        try:
            if workspace.stat().st_mtime >= older_than.timestamp():
                continue
        except FileNotFoundError:  # its batch ended meanwhile
            continue
        shutil.rmtree(workspace, ignore_errors=True)
        removed += 1
    return removed


def _open(item: WorkItem, workspace: ExitStack, services: IngestServices) -> Verdict:
    services.theme_of(item.document.inspection_id)  # an unknown inspection stops it here
    original = workspace.enter_context(
        services.store.local_copy(Area.quarantine, item.document.object_key)
    )
    item.original = item.payload = original
    return Verdict.proceed()


def run_step(step: Step, batch: Batch) -> Batch:
    """Run `step` on every document of the batch still in play; a document it stops keeps
    that verdict and skips the later steps. Returns the batch.

    `scan` runs for up to `scan_connections` documents at once (clamd works on each
    connection in a thread of its own, so one document's wait need not idle the others),
    and one after another when clamd has at most one of them still to read; every other
    step runs one document after another, in batch order. Either way each document gets
    the verdict it would get alone, and the batch keeps its order.
    """
    items = batch.in_play
    workers = _workers(step, items, batch.services.scan_connections)
    if workers <= 1 or len(items) <= 1:
        for item in items:
            batch.keep_claim()
            _attempt(item, step.__name__, partial(step, item, batch))
        return batch
    batch.keep_claim()
    with ThreadPoolExecutor(
        max_workers=min(workers, len(items)), thread_name_prefix=step.__name__
    ) as pool:
        running = [
            pool.submit(_attempt, item, step.__name__, partial(step, item, batch)) for item in items
        ]
        for finished in as_completed(running):
            finished.result()  # _attempt catches every Exception: only BaseException here
            batch.keep_claim()
    return batch


def _workers(step: Step, items: Sequence[WorkItem], scan_connections: int) -> int:
    """Threads for `step` over `items`: for `scan`, one per document clamd has still to
    read (those scanned clean at upload need none), up to the connections; else one."""
    if step is not scan:
        return 1
    to_read = sum(1 for item in items if scanned_clean_at_upload(item.document) is None)
    return min(scan_connections, to_read)


def _attempt(item: WorkItem, name: str, decide: Callable[[], Verdict]) -> None:
    """Run one step for one document; a dependency failure stops it for a retry."""
    started = time.perf_counter()
    try:
        verdict = decide()
        item.warnings.extend(verdict.warnings)
        if verdict.outcome is Outcome.proceed and verdict.detail:
            item.notes.append(verdict.detail)  # what the warnings were about, for `record`
        if verdict.outcome is not Outcome.proceed:
            log.info("document %s stopped at %s: %s", item.document.id, name, verdict.reason)
            item.stop(verdict)
    except TransientError as exc:
        log.warning("document %s will be retried: %s", item.document.id, exc)
        item.fail(Verdict.retry(exc.reason or ReasonCode.store_unavailable, detail=str(exc)))
    except (ObjectMissing, LookupError) as exc:
        # The quarantined bytes (or the inspection) are gone although the document was not
        # decided: a replay after "record" cannot reach here, as its claim fails. Retrying
        # cannot help, so the document is parked as failed for a person to look at.
        log.error("document %s cannot be processed: %s", item.document.id, exc)
        item.fail(Verdict.retry(ReasonCode.processing_error, detail=str(exc)))
    except Exception as exc:
        # A fault of ours with this document (a bug, a library failing on its bytes): the
        # rest of the batch is still recorded, and this one is parked as failed, not
        # retried, for a person to look at.
        log.exception("document %s failed at %s", item.document.id, name)
        item.fail(Verdict.retry(ReasonCode.processing_error, detail=type(exc).__name__))
    finally:
        item.seconds += time.perf_counter() - started


def record(batch: Batch) -> Batch:
    """Commit the verdicts of every document of the batch in one transaction, then delete
    each decided one's quarantined original, unless a legal hold keeps a rejected one; the
    results are in `batch.results`.

    Guarantees: a verdict is written before its quarantined original is deleted; a
    rejected document's original is kept (unreadable, in quarantine) if a legal hold
    covers it when the verdict is written (its audit event names the holds) or when the
    holds are read again after the commit, just before the deletion; nothing
    reached the clean or on-site area unless every step proceeded; a transient failure
    (clamd, store) leaves the document `failed` with a retry time, never accepted or lost;
    a document whose claim was lost gets nothing written; if the database fails, nothing
    of the batch is written (every document stays processing under its claim, for the
    run's retry or the reconciler) and the error is raised.
    """
    started = time.perf_counter()
    services = batch.services
    now = services.clock()
    outcomes = _kept_under_holds(
        [_outcome_of(item, now, services.retry_delay) for item in batch.items], batch
    )
    written = services.repository.record_outcomes(batch.claim_token, now, outcomes)
    kept = _held_after_commit(outcomes, batch)
    share = (time.perf_counter() - started) / max(1, len(batch.items))
    batch.results = [
        _after_record(item, outcome, recorded, services.store, share, item.document.id in kept)
        for item, outcome, recorded in zip(batch.items, outcomes, written, strict=True)
    ]
    return batch


def _kept_under_holds(outcomes: list[OutcomeToRecord], batch: Batch) -> list[OutcomeToRecord]:
    """The outcomes, each rejected one naming the active holds that keep its quarantined
    bytes (an inspection's holds read once, and only if one of its documents is rejected)."""
    holds: dict[str, Sequence[LegalHold]] = {}
    kept = []
    for item, outcome in zip(batch.items, outcomes, strict=True):
        if outcome.status is DocumentStatus.rejected:
            inspection_id = item.document.inspection_id
            if inspection_id not in holds:
                holds[inspection_id] = batch.services.holds_of(inspection_id)
            held_by = active_holds(holds[inspection_id], inspection_id, item.document.id)
            outcome = replace(outcome, quarantine_kept_by_holds=held_by)
        kept.append(outcome)
    return kept


def _held_after_commit(outcomes: list[OutcomeToRecord], batch: Batch) -> set[str]:
    """The rejected documents whose bytes stay: those the audit events say a hold keeps,
    and those a hold covers when the holds are read again once the verdicts are committed
    (a hold placed meanwhile keeps them too); every rejected one if the holds cannot be
    read: their bytes stay, unreadable, for retention to delete."""
    try:
        again = _kept_under_holds(outcomes, batch)
    except TransientError as exc:
        log.warning("kept every rejected document's bytes: holds could not be read (%s)", exc)
        return {o.document_id for o in outcomes if o.status is DocumentStatus.rejected}
    return {o.document_id for o in (*outcomes, *again) if o.quarantine_kept_by_holds}


def _outcome_of(item: WorkItem, now: datetime, retry_delay: timedelta) -> OutcomeToRecord:
    """What `record` writes for one document, from its verdict and what the steps learnt."""
    verdict = item.verdict
    if verdict.outcome is Outcome.retry:
        status = DocumentStatus.failed
    elif verdict.outcome is Outcome.reject:
        status = DocumentStatus.rejected
    else:
        status = DocumentStatus.accepted
    accepted = status is DocumentStatus.accepted
    return OutcomeToRecord(
        document_id=item.document.id,
        status=status,
        reasons=(verdict.reason,) if verdict.reason else (),
        warnings=tuple(dict.fromkeys(item.warnings)),
        detail=verdict.detail if not accepted else "; ".join(item.notes),
        file_type=item.file_type,
        mime_type=item.mime_type,
        sha256_stored=item.sha256_stored if accepted else None,
        area=item.area if accepted else None,
        listed_children=item.listed if accepted else (),
        scanned=item.scanned if status.is_final else None,
        next_attempt_at=(
            now + retry_delay
            if status is DocumentStatus.failed and verdict.reason is not ReasonCode.processing_error
            else None
        ),
    )


def _after_record(
    item: WorkItem,
    outcome: OutcomeToRecord,
    recorded: bool,
    store: ObjectStore,
    share: float,
    held: bool,
) -> DocumentResult:
    """Once the batch's verdicts are committed: delete a decided document's quarantined
    original unless it is `held` (a rejected one a legal hold covers), and say what
    happened to it."""
    started = time.perf_counter()
    document = item.document
    if recorded and held:
        log.info("%s rejected; its bytes stay in quarantine under a legal hold", document.id)
    elif recorded and outcome.status.is_final:
        _discard_quietly(store, Area.quarantine, document.object_key)
    elif not recorded and item.area is not Area.quarantine:
        log.warning("claim on %s was lost; its verdict was not recorded", document.id)
    item.seconds += share + time.perf_counter() - started
    return DocumentResult(
        document_id=document.id,
        item_number=document.item_number,
        status=outcome.status,
        reasons=tuple(outcome.reasons),
        warnings=tuple(outcome.warnings),
        milliseconds=round(item.seconds * 1000),
        recorded=recorded,
    )


def process_batch(
    documents: Sequence[Document], claim_token: str, services: IngestServices
) -> list[DocumentResult]:
    """Run every step over claimed documents in a plain loop (no Prefect) and commit their
    verdicts, with the guarantees of `record`."""
    with open_batch(documents, claim_token, services) as batch:
        for step in STEPS:
            run_step(step, batch)
        return record(batch).results


def process_document(
    document: Document, claim_token: str, services: IngestServices
) -> DocumentResult:
    """Run every step for one claimed document and commit its verdict (a batch of one)."""
    (result,) = process_batch([document], claim_token, services)
    return result


def _discard_quietly(store: ObjectStore, area: Area, key: str) -> None:
    try:
        store.delete(area, key)
    except TransientError as exc:
        # The verdict stands; a leftover quarantine object is unreadable and retention
        # sweeps it. Failing the document now would be wrong.
        log.warning("could not delete %s/%s yet: %s", area.value, key, exc)
