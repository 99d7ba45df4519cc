"""Withdrawing a document that a rescan found infected after it was accepted.

The rescan flow calls `withdraw_infected` for each accepted document its scanner now
finds infected. In this order, each step safe to repeat:

1. the status: `withdrawn` with the reason and what the scanner found, and its audit
   event, in one transaction. Every read of content checks the status first, so from this
   commit no read is allowed, through the API or the pages, whatever happens next. (A read
   already streaming when it commits finishes: the audit log shows it.)
2. the notices to the uploading agency and the lead inspector are queued in the outbox
   (keyed by the document: queued once however often this runs).
3. the bytes: under an active legal hold they are copied into quarantine first; then
   every version of them goes from the clean and on-site areas; without a hold any
   quarantined copy goes too (as an infected upload's bytes go when it is rejected).
   What is left is checked: nothing of the key in the content areas.
4. the document's area becomes quarantine, with its audit event: the withdrawal is
   settled. A call that stopped before this is finished by the next call (step 1 is
   skipped, 2 queues nothing new, 3 and 4 run); a call after it does nothing.

Then the outbox is delivered, whatever happened to the bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portal.domain.chase import plan_withdrawal_notices
from portal.domain.documents import Area, Document, StoredObject
from portal.domain.errors import ObjectMissing, StoreUnavailable
from portal.domain.ports import ObjectStore
from portal.domain.reasons import ReasonCode
from portal.domain.retention import active_holds
from portal.domain.scope import target_title
from portal.domain.withdrawal import (
    CONTENT_AREAS,
    DETAIL_MAX,
    RESCAN_ACTOR,
    WithdrawalOutcome,
    decide_withdrawal,
    rescan_detail,
)
from portal.services.chasing import deliver_outbox

if TYPE_CHECKING:
    from portal.bootstrap import Container

log = logging.getLogger(__name__)


class ContentStillPresent(StoreUnavailable):
    """A version of a withdrawn document is still in a content area after deleting it: the
    next call tries again (reads are refused by its status meanwhile)."""


@dataclass(frozen=True)
class Withdrawal:
    """What one call did to one document: its outcome, and the legal holds that keep its
    bytes in quarantine (none: its bytes were deleted)."""

    document_id: str
    outcome: WithdrawalOutcome
    hold_ids: tuple[str, ...] = ()


def withdraw_infected(
    container: Container,
    document_id: str,
    signature: str,
    scanned_with: str,
    *,
    actor: str = RESCAN_ACTOR,
) -> Withdrawal:
    """Withdraw an accepted document that the scanner `scanned_with` (clamd's VERSION
    reply: engine and signature version) now finds infected with `signature`.

    Guarantees: once this returns (or raises after step 1, see the module), the document
    says `withdrawn` (reason `infected_on_rescan`) and no read of its content is allowed;
    on return nothing of it is left in the clean or on-site area, in any version; under an
    active legal hold its bytes are kept in quarantine, otherwise none are kept; the
    agency's contacts and the lead inspector have a notice queued (and delivery was
    tried); the audit log records the withdrawal and where the bytes went. Repeating the
    call changes nothing more (outcome `already_withdrawn`); a call after an interrupted
    one finishes it (`finished`). A document that is not accepted, deleted or unknown is
    left alone (the outcome says which). Raises a TransientError (StoreUnavailable) if the
    store cannot be changed now: call again later.
    """
    repository = container.repository
    document = repository.get_document(document_id)
    outcome = decide_withdrawal(document)
    if outcome is WithdrawalOutcome.withdrawn and document is not None:
        detail = rescan_detail(signature, scanned_with)
        if not repository.withdraw_document(
            document_id,
            container.clock.now(),
            reason=ReasonCode.infected_on_rescan,
            detail=detail,
            signature=signature.strip()[:DETAIL_MAX],
            scanned_with=scanned_with.strip()[:DETAIL_MAX],
            actor=actor,
        ):
            # Another call (or retention) changed it meanwhile: go by what it is now.
            document = repository.get_document(document_id)
            outcome = decide_withdrawal(document)
            if outcome is WithdrawalOutcome.withdrawn:  # it cannot be accepted again
                outcome = WithdrawalOutcome.not_accepted
    if not outcome.acts or document is None:
        return Withdrawal(document_id, outcome)
    withdrawn = repository.get_document(document_id) or document
    _queue_notices(container, withdrawn)
    try:
        hold_ids = _settle_content(container, document, actor)
    finally:
        deliver_outbox(container, container.mailer)
    return Withdrawal(document_id, outcome, hold_ids)


def _queue_notices(container: Container, document: Document) -> None:
    repository = container.repository
    inspection = repository.get_inspection(document.inspection_id)
    if inspection is None:
        return
    theme = container.themes[inspection.theme_key]
    notices = plan_withdrawal_notices(
        document,
        inspection.area_name,
        target_title(theme, document.item_number, document.child_id),
        repository.contacts(inspection.id),
        f"{container.settings.resolved_public_url}/inspections/{inspection.id}/checklist",
    )
    if notices:
        repository.enqueue_messages(notices, container.clock.now())


def _settle_content(container: Container, document: Document, actor: str) -> tuple[str, ...]:
    """Move the bytes of a withdrawn document out of the content areas (into quarantine
    under a legal hold, else nowhere) and record it; the holds that keep them."""
    holds = container.records.holds(document.inspection_id)
    hold_ids = active_holds(holds, document.inspection_id, document.id)
    store, key = container.store, document.object_key
    kept = _copy_to_quarantine(store, document) if hold_ids else None
    emptied = CONTENT_AREAS if hold_ids else (*CONTENT_AREAS, Area.quarantine)
    for area in emptied:
        store.delete(area, key)
    left = {area.value: versions for area in emptied if (versions := store.versions(area, key))}
    if left:
        raise ContentStillPresent(f"versions of {key} remain after withdrawal: {left}")
    if hold_ids and kept is None and not store.exists(Area.quarantine, key):
        log.warning("document %s: no bytes were left to keep under hold", document.id)
    container.repository.settle_withdrawal(
        document.id,
        container.clock.now(),
        kept_sha256=kept.sha256 if kept else None,
        hold_ids=hold_ids,
        actor=actor,
    )
    return hold_ids


def _copy_to_quarantine(store: ObjectStore, document: Document) -> StoredObject | None:
    """Copy the bytes of `document` from the area it was read from into quarantine; None
    if they are no longer there (an interrupted call moved them already)."""
    try:
        with store.open(document.area, document.object_key) as source:
            kept = store.put(Area.quarantine, document.object_key, source)
    except ObjectMissing:
        return None
    if document.sha256_stored and kept.sha256 != document.sha256_stored:
        log.warning(
            "document %s: the bytes kept under hold are not those accepted (sha256 %s)",
            document.id,
            kept.sha256,
        )
    return kept
