"""The ingest steps, in order: scan -> classify -> sanitise -> check -> route, then record.

Each step gets its facts through a port, asks a pure `decide_*` function of the domain for a
verdict and returns it. `process_document` runs the steps for one claimed document and
commits its verdict before it touches the quarantined original, so a replay is harmless.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from portal.domain.checklist import ThemePolicy
from portal.domain.child_lists import UnreadableList, check_child_list
from portal.domain.documents import Area, Document, DocumentStatus, Outcome, Verdict
from portal.domain.errors import ObjectMissing, TransientError
from portal.domain.file_types import FileTypePolicy, decide_file_type
from portal.domain.ports import (
    Classifier,
    IngestRepository,
    ObjectStore,
    Sanitiser,
    Scanner,
    TableFiles,
)
from portal.domain.reasons import ReasonCode, WarningCode
from portal.domain.sanitising import decide_sanitise
from portal.domain.scanning import decide_scan
from portal.domain.schedule import Schedule
from portal.domain.scope import (
    AUDIT,
    CASE_RECORD,
    UploadFacts,
    area_for_upload,
    child_list_of,
    decide_list_file,
    decide_upload,
)
from portal.domain.selection import Stage

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
    clock: Callable[[], datetime]
    schedule_of: Callable[[str], Schedule | None]
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
    """One document on its way through the steps, with what the steps have learnt so far."""

    document: Document
    theme: ThemePolicy
    original: Path
    workdir: Path
    payload: Path
    file_type: str | None = None
    mime_type: str | None = None
    area: Area = Area.quarantine
    sha256_stored: str | None = None
    warnings: list[WarningCode] = field(default_factory=list)


Step = Callable[[WorkItem, IngestServices], Verdict]


def scan(item: WorkItem, services: IngestServices) -> Verdict:
    """clamd reads every byte; anything but an exact clean reply stops the document."""
    with item.original.open("rb") as source:
        return decide_scan(services.scanner.scan(source))


def classify(item: WorkItem, services: IngestServices) -> Verdict:
    """libmagic types the bytes; the type must be allowed and agree with the extension."""
    facts = services.classifier.classify(item.original, item.document.original_filename)
    decision = decide_file_type(facts, services.file_types)
    item.file_type = decision.file_type
    item.mime_type = facts.mime_type
    return decision.verdict


def sanitise(item: WorkItem, services: IngestServices) -> Verdict:
    """PDFs are rewritten without active content, attachments or metadata; others pass.

    Every file embedded in the PDF is scanned by clamd on its own, decoded (clamd does not
    see every attachment inside a PDF), and so is a copy that was decrypted: the first
    scan that is not clean decides the document (infected: the whole document is rejected).
    """
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


def check(item: WorkItem, services: IngestServices) -> Verdict:
    """The upload must be asked of its agency, for a selected child, within its look-back;
    a child-level list must pass its list definition, formula cells neutralised."""
    facts = upload_facts(
        services.repository, services.schedule_of(item.document.inspection_id), item.document
    )
    verdict = decide_upload(item.theme, facts)
    definition = child_list_of(item.theme, item.document.item_number)
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
    return Verdict.proceed(
        *verdict.warnings,
        *checked.verdict.warnings,
        detail=checked.verdict.detail or verdict.detail,
    )


def upload_facts(
    repository: IngestRepository, schedule: Schedule | None, document: Document
) -> UploadFacts:
    """Gather what the scope checks need to know about `document` from the database."""
    child_upload = document.item_number in (CASE_RECORD, AUDIT)
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
        notification=schedule.notification if schedule else None,
        accepted_for_item=repository.accepted_count(
            document.inspection_id,
            document.agency,
            document.item_number,
            document.child_id if child_upload else None,
        ),
        duplicate=(
            document.sha256_received is not None and repository.has_accepted_duplicate(document)
        ),
    )


def route(item: WorkItem, services: IngestServices) -> Verdict:
    """Store the safe copy in the clean area, or the on-site area for health records."""
    document = item.document
    area = area_for_upload(
        item.theme, document.agency, document.item_number, document.health_information
    )
    with item.payload.open("rb") as source:
        stored = services.store.put(area, item.document.object_key, source)
    item.area = area
    item.sha256_stored = stored.sha256
    return Verdict.proceed()


STEPS: tuple[tuple[str, Step], ...] = (
    ("scan", scan),
    ("classify", classify),
    ("sanitise", sanitise),
    ("check", check),
    ("route", route),
)


def check_step_order(steps: tuple[tuple[str, Step], ...] = STEPS) -> None:
    """Fail at start-up unless the steps run in the order DESIGN.md draws."""
    names = [name for name, _ in steps]
    if names != ["scan", "classify", "sanitise", "check", "route"]:
        raise RuntimeError(f"ingest steps are out of order: {names}")


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


def process_document(
    document: Document, claim_token: str, services: IngestServices
) -> DocumentResult:
    """Run every step for one claimed document and commit its verdict.

    Guarantees: the verdict is written before the quarantined original is deleted; nothing
    reaches the clean or on-site area unless every step proceeded; a transient failure
    (clamd, store) leaves the document `failed` with a retry time, never accepted or lost.
    """
    started = time.perf_counter()
    verdict, item = _run_steps(document, services)
    now = services.clock()
    if verdict.outcome is Outcome.retry:
        status = DocumentStatus.failed
    elif verdict.outcome is Outcome.reject:
        status = DocumentStatus.rejected
    else:
        status = DocumentStatus.accepted
    recorded = services.repository.record_outcome(
        document.id,
        claim_token,
        now,
        status=status,
        reasons=(verdict.reason,) if verdict.reason else (),
        warnings=tuple(dict.fromkeys(item.warnings)) if item else (),
        detail=verdict.detail,
        file_type=item.file_type if item else None,
        mime_type=item.mime_type if item else None,
        sha256_stored=item.sha256_stored if status is DocumentStatus.accepted and item else None,
        area=item.area if status is DocumentStatus.accepted and item else None,
        next_attempt_at=(
            now + services.retry_delay
            if status is DocumentStatus.failed and verdict.reason is not ReasonCode.processing_error
            else None
        ),
    )
    if recorded and status.is_final:
        _discard_quietly(services.store, Area.quarantine, document.object_key)
    elif not recorded and item is not None and item.area is not Area.quarantine:
        log.warning("claim on %s was lost; its verdict was not recorded", document.id)
    return DocumentResult(
        document_id=document.id,
        item_number=document.item_number,
        status=status,
        reasons=(verdict.reason,) if verdict.reason else (),
        warnings=tuple(dict.fromkeys(item.warnings)) if item else (),
        milliseconds=round((time.perf_counter() - started) * 1000),
        recorded=recorded,
    )


def _run_steps(document: Document, services: IngestServices) -> tuple[Verdict, WorkItem | None]:
    try:
        with (
            services.store.local_copy(Area.quarantine, document.object_key) as original,
            tempfile.TemporaryDirectory(prefix="jtai-ingest-") as workdir,
        ):
            theme = services.theme_of(document.inspection_id)
            item = WorkItem(document, theme, original, Path(workdir), payload=original)
            for name, step in STEPS:
                verdict = step(item, services)
                item.warnings.extend(verdict.warnings)
                if verdict.outcome is not Outcome.proceed:
                    log.info("document %s stopped at %s: %s", document.id, name, verdict.reason)
                    return verdict, item
            return Verdict.proceed(), item
    except TransientError as exc:
        reason = exc.reason or ReasonCode.store_unavailable
        log.warning("document %s will be retried: %s", document.id, exc)
        return Verdict.retry(reason, detail=str(exc)), None
    except (ObjectMissing, LookupError) as exc:
        # The quarantined bytes (or the inspection) are gone although the document was not
        # decided: a replay after "record" cannot reach here, as its claim fails. Retrying
        # cannot help, so the document is parked as failed for a person to look at.
        log.error("document %s cannot be processed: %s", document.id, exc)
        return Verdict.retry(ReasonCode.processing_error, detail=str(exc)), None


def _discard_quietly(store: ObjectStore, area: Area, key: str) -> None:
    try:
        store.delete(area, key)
    except TransientError as exc:
        # The verdict stands; a leftover quarantine object is unreadable and retention
        # sweeps it. Failing the document now would be wrong.
        log.warning("could not delete %s/%s yet: %s", area.value, key, exc)
