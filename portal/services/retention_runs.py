"""Retention runs: delete what is due, hold back what is held, reduce names, and prove it.

    take over interrupted runs -> per inspection: documents, outbox, names, audit log
    -> remove leftovers of interrupted writes -> record the run as completed

A document is deleted in three steps: its row is marked with the run's id, every object
of it (in every area, every version) is deleted and checked absent, then the row becomes a
tombstone and the run's record gets its entry, in one transaction. A run killed between
the steps leaves a marked row; the next deleting run finishes it and says so. The outbox,
the names and the audit log are each changed in one transaction with their entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from portal.domain.access import Inspection, InspectionState
from portal.domain.chase import MessageKind, PlannedMessage
from portal.domain.documents import Area, Document
from portal.domain.errors import ObjectMissing, TransientError
from portal.domain.ports import ObjectStore, RetentionRecordsStore
from portal.domain.retention import (
    Action,
    InspectionEvents,
    LegalHold,
    RetentionClass,
    RetentionDecision,
    RetentionEntry,
    RetentionPolicy,
    RetentionRun,
    class_of_document,
    decide_record,
    inspection_events,
    names_due,
)
from portal.domain.timeline import LONDON, WorkingCalendar
from portal.services.chasing import deliver_outbox

if TYPE_CHECKING:
    from portal.bootstrap import Container

log = logging.getLogger(__name__)

LEFTOVER_AGE = timedelta(days=1)
"""Interrupted writes older than this are removed (no put takes a day)."""


class DocumentStillPresent(TransientError):
    """A deleted object still answers in the store: the deletion is retried next run."""


@dataclass(frozen=True)
class InspectionContext:
    """What every retention decision about one inspection needs."""

    inspection: Inspection
    events: InspectionEvents
    holds: list[LegalHold]
    calendar: WorkingCalendar
    today: date


def policy_digest(policy: RetentionPolicy) -> str:
    """The sha256 of the policy in force, so a record says which rules it applied."""
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()


def run_retention(
    container: Container,
    *,
    dry_run: bool,
    as_of: datetime | None = None,
    actor: str = "retention",
    only_inspection: str | None = None,
) -> RetentionRun:
    """Run retention over every inspection as of `as_of` (default now) and return its record.

    A dry run changes nothing and lists what would go, what is held and why. A deleting run
    deletes what is due, never anything under an active legal hold, and finishes any
    deletion an interrupted run left. With `only_inspection` the run reads, deletes,
    reduces and counts nothing of any other inspection, and leaves the store's leftovers
    of interrupted writes to a whole run. Raises RunInProgress if another deleting run is
    alive.
    """
    records = container.records
    now = container.clock.now()
    as_of = as_of or now
    run_id = uuid.uuid4().hex
    taken = records.start_run(
        run_id,
        dry_run=dry_run,
        as_of=as_of,
        actor=actor,
        policy_sha256=policy_digest(container.retention_policy),
        now=now,
        lease_seconds=container.settings.retention_run_lease_seconds,
    )
    unfinished = records.unfinished_deletions()
    tally: Counter[str] = Counter()
    for inspection_id in container.repository.list_inspection_ids():
        if only_inspection is not None and inspection_id != only_inspection:
            continue
        inspection = container.repository.get_inspection(inspection_id)
        if inspection is not None:
            _run_inspection(
                container,
                run_id,
                dry_run,
                inspection_context(container, inspection, as_of),
                unfinished,
                tally,
            )
    if not dry_run and only_inspection is None:
        removed = container.store.purge_incomplete(container.clock.now() - LEFTOVER_AGE)
        if removed:
            records.add_entry(
                run_id,
                RetentionEntry(
                    inspection_id=None,
                    record_kind="leftovers",
                    record_id=None,
                    action="deleted",
                    count=removed,
                    reason="leftovers of interrupted writes",
                ),
                container.clock.now(),
            )
            tally["leftovers_deleted"] += removed
    failed = tally["names_check_failures"] > 0
    records.finish_run(
        run_id, dict(tally), container.clock.now(), status="failed" if failed else "completed"
    )
    run = records.get_run(run_id)
    assert run is not None
    if failed:
        _alert_names_left(container, run)
    if taken:
        log.info("retention run %s completed the work of interrupted runs %s", run_id, taken)
    return run


def _alert_names_left(container: Container, run: RetentionRun) -> None:
    """Say loudly that names were found after they were reduced: an error in the log and a
    message to the records officers of each inspection concerned (ids and counts only)."""
    for entry in run.entries:
        if entry.record_kind != "names" or entry.action != "names_reduced":
            continue
        in_database = int(entry.proof.get("names_found_in_database") or 0)
        in_metadata = int(entry.proof.get("names_found_in_stored_metadata") or 0)
        if not (in_database or in_metadata):
            continue
        where = ", ".join(entry.proof.get("found_in_columns") or []) or "stored metadata"
        log.error(
            "retention run %s FAILED its names check for inspection %s: %d in the database "
            "(%s), %d in stored metadata",
            run.id,
            entry.inspection_id,
            in_database,
            where,
            in_metadata,
        )
        recipients = container.identities.records_officer_emails(entry.inspection_id or "")
        if not recipients:
            log.error(
                "no records officer of inspection %s has an email address", entry.inspection_id
            )
            continue
        url = f"{container.settings.resolved_public_url}/retention/runs/{run.id}"
        container.repository.enqueue_messages(
            [
                PlannedMessage(
                    key=f"names-check-{run.id}-{entry.inspection_id}",
                    inspection_id=entry.inspection_id or "",
                    agency=None,
                    deadline="retention",
                    kind=MessageKind.records_alert,
                    recipients=tuple(recipients),
                    subject=f"Action needed: names left after reduction, inspection "
                    f"{entry.inspection_id}",
                    body=(
                        f"Retention run {run.id} reduced the names of inspection "
                        f"{entry.inspection_id} to initials, then found them again: {in_database} "
                        f"in the database ({where}) and {in_metadata} in stored metadata.\n\n"
                        "The run is marked failed. Find and remove what is left, then run "
                        f"retention again. The deletion record: {url}\n"
                    ),
                )
            ],
            container.clock.now(),
        )
    with contextlib.suppress(TransientError):
        deliver_outbox(container, container.mailer)


def inspection_context(
    container: Container, inspection: Inspection, as_of: datetime
) -> InspectionContext:
    """The inspection's events (recorded and estimated), holds and working calendar, and
    the day (Europe/London) of `as_of`."""
    today = as_of.astimezone(LONDON).date()
    first = inspection.fieldwork_start or inspection.created_at.date()
    calendar = container.working_calendar_between(min(first.year, today.year) - 1, today.year + 2)
    records = container.records
    events = inspection_events(
        inspection.id,
        records.events(inspection.id),
        inspection.fieldwork_start,
        container.retention_policy.estimates,
        calendar,
        withdrawn=inspection.state is InspectionState.withdrawn,
    )
    return InspectionContext(inspection, events, records.holds(inspection.id), calendar, today)


def _decide(
    container: Container,
    ctx: InspectionContext,
    retention_class: RetentionClass | None,
    document: Document | None = None,
) -> RetentionDecision:
    return decide_record(
        retention_class,
        container.retention_policy,
        ctx.events,
        ctx.holds,
        ctx.calendar,
        ctx.today,
        document_id=document.id if document else None,
        decided_at=(document.decided_at or document.updated_at) if document else None,
    )


def _run_inspection(
    container: Container,
    run_id: str,
    dry_run: bool,
    ctx: InspectionContext,
    unfinished: dict[str, str],
    tally: Counter[str],
) -> None:
    records = container.records
    for document in records.documents_of(ctx.inspection.id):
        decision = _decide(container, ctx, class_of_document(document), document)
        resumed = unfinished.get(document.id)
        if decision.action is Action.delete:
            if dry_run:
                _record(container, run_id, _document_entry(document, decision, "would_delete"))
                tally["would_delete"] += 1
            else:
                _delete_document(container, run_id, document, decision, resumed, tally)
            continue
        if resumed and not dry_run:
            records.clear_deletion_mark(document.id)
        if decision.action is Action.hold:
            entry = _document_entry(document, decision, "held")
            _record(container, run_id, entry.model_copy(update={"resumed_from": resumed}))
            tally["held"] += 1
        else:
            tally["kept"] += 1
    records = container.records
    inspection_id = ctx.inspection.id
    # The outbox; arrangements to see records on site (evidence of the case records: they
    # go when the case records do); issues of concern, then what the lead asked beyond
    # the theme (the forms' text and the items' titles go with the information sent for
    # them, the written responses among it; the forms first: each names its item).
    for kind, retention_class, count, delete in (
        ("outbox", RetentionClass.mail_outbox, records.outbox_count, records.delete_outbox),
        (
            "on_site_arrangements",
            RetentionClass.case_record,
            records.on_site_count,
            records.delete_on_site,
        ),
        (
            "concerns",
            RetentionClass.annex_a_information,
            records.concerns_count,
            records.delete_concerns,
        ),
        (
            "extra_items",
            RetentionClass.annex_a_information,
            records.extra_items_count,
            records.delete_extra_items,
        ),
    ):
        _retire_whole(
            container,
            run_id,
            dry_run,
            ctx,
            tally,
            kind=kind,
            retention_class=retention_class,
            count=count(inspection_id),
            delete=delete,
        )
    _reduce_names(container, run_id, dry_run, ctx, tally)
    _retire_whole(
        container,
        run_id,
        dry_run,
        ctx,
        tally,
        kind="audit_log",
        retention_class=RetentionClass.audit_log,
        count=records.audit_log_count(inspection_id),
        delete=records.delete_audit_log,
    )


def _document_entry(document: Document, decision: RetentionDecision, action: str) -> RetentionEntry:
    return RetentionEntry(
        inspection_id=document.inspection_id,
        record_kind="document",
        record_id=document.id,
        action=action,
        retention_class=decision.retention_class.value if decision.retention_class else None,
        rule=decision.rule,
        due=decision.due,
        reason=decision.reason,
        sha256=document.sha256_stored or document.sha256_received,
        size_bytes=document.size_bytes,
        hold_ids=decision.hold_ids,
    )


def _record(container: Container, run_id: str, entry: RetentionEntry) -> None:
    container.records.add_entry(run_id, entry, container.clock.now())


def _delete_document(
    container: Container,
    run_id: str,
    document: Document,
    decision: RetentionDecision,
    resumed: str | None,
    tally: Counter[str],
) -> None:
    """Mark, delete every object and version, prove them gone, tombstone."""
    records = container.records
    entry = _document_entry(document, decision, "deleted").model_copy(
        update={"resumed_from": resumed}
    )
    if not records.mark_deletion_started(document.id, run_id, container.clock.now()):
        tally["kept"] += 1  # the pipeline took it up again meanwhile; the next run decides
        return
    try:
        proof = _delete_everywhere(container.store, document.object_key, container.clock.now())
    except TransientError as exc:
        log.warning("could not delete document %s yet: %s", document.id, exc)
        _record(
            container, run_id, entry.model_copy(update={"action": "failed", "reason": str(exc)})
        )
        tally["failed"] += 1
        return
    records.tombstone(
        document.id, run_id, entry.model_copy(update={"proof": proof}), container.clock.now()
    )
    tally["deleted"] += 1
    tally["bytes_deleted"] += document.size_bytes or 0
    if resumed:
        tally["resumed"] += 1


def _delete_everywhere(store: ObjectStore, key: str, now: datetime) -> dict[str, object]:
    """Delete the object in every area (quarantine leftovers included), then check that
    no version or delete marker of it remains in any. Raises if one does."""
    for area in Area:
        store.delete(area, key)
    remaining = {area.value: list(store.versions(area, key)) for area in Area}
    left = {area: versions for area, versions in remaining.items() if versions}
    if left:
        raise DocumentStillPresent(f"versions remain after delete: {left}")
    return {
        "areas_checked": [area.value for area in Area],
        "versions_remaining": 0,
        "checked_at": now.isoformat(),
    }


def _inspection_entry(
    ctx: InspectionContext, kind: str, decision: RetentionDecision, action: str, count: int
) -> RetentionEntry:
    return RetentionEntry(
        inspection_id=ctx.inspection.id,
        record_kind=kind,
        record_id=ctx.inspection.id,
        action=action,
        retention_class=decision.retention_class.value if decision.retention_class else None,
        rule=decision.rule,
        due=decision.due,
        reason=decision.reason,
        count=count,
        hold_ids=decision.hold_ids,
    )


def _retire_whole(
    container: Container,
    run_id: str,
    dry_run: bool,
    ctx: InspectionContext,
    tally: Counter[str],
    *,
    kind: str,
    retention_class: RetentionClass,
    count: int,
    delete: Callable[[str, str, RetentionEntry, datetime], int],
) -> None:
    """Delete all of one kind of an inspection's records at once, when due and not held;
    `delete` writes its entry in the same transaction."""
    decision = _decide(container, ctx, retention_class)
    if not count or decision.action is Action.keep:
        return
    if decision.action is Action.hold or dry_run:
        action = "held" if decision.action is Action.hold else "would_delete"
        _record(container, run_id, _inspection_entry(ctx, kind, decision, action, count))
        tally[action] += 1
        return
    entry = _inspection_entry(ctx, kind, decision, "deleted", count)
    tally[f"{kind}_records_deleted"] += delete(
        ctx.inspection.id, run_id, entry, container.clock.now()
    )


def _reduce_names(
    container: Container, run_id: str, dry_run: bool, ctx: InspectionContext, tally: Counter[str]
) -> None:
    """Reduce the register's names to initials everywhere once names are no longer needed,
    check none is left in the database or the stored metadata, and record that."""
    records = container.records
    if records.names_reduced_at(ctx.inspection.id) is not None:
        return
    decision = names_due(container.retention_policy, ctx.events, ctx.holds, ctx.calendar, ctx.today)
    if decision.action is Action.keep:
        return
    names = [e.name for e in records.names(ctx.inspection.id) if e.reduced_at is None]
    if decision.action is Action.hold or dry_run:
        action = "held" if decision.action is Action.hold else "would_reduce_names"
        _record(container, run_id, _inspection_entry(ctx, "names", decision, action, len(names)))
        tally[action] += 1
        return
    checked, found = _names_in_stored_metadata(container.store, records, ctx.inspection.id, names)
    entry = _inspection_entry(ctx, "names", decision, "names_reduced", len(names))
    entry = entry.model_copy(
        update={
            "proof": {
                "objects_metadata_checked": checked,
                "names_found_in_stored_metadata": found,
            }
        }
    )
    final = records.reduce_names(ctx.inspection.id, names, run_id, entry, container.clock.now())
    if not records.flush_deleted_values():
        log.warning("the database's write-ahead log could not be emptied yet (readers busy)")
    tally["names_reduced"] += len(names)
    if final.proof.get("names_found_in_database") or found:
        tally["names_check_failures"] += 1


def _names_in_stored_metadata(
    store: ObjectStore, records: RetentionRecordsStore, inspection_id: str, names: list[str]
) -> tuple[int, int]:
    """How many stored objects' metadata were read, and in how many a name was found."""
    lowered = [n.lower() for n in names]
    checked = found = 0
    for document in records.documents_of(inspection_id):
        try:
            metadata = store.metadata(document.area, document.object_key)
        except ObjectMissing:
            continue
        checked += 1
        text = " ".join(f"{k} {v}" for k, v in metadata.items()).lower()
        if any(name in text for name in lowered):
            found += 1
    return checked, found
