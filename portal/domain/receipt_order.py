"""What an agency had already sent for an item when an upload arrived, in the order uploads
were received.

"The 3 most recent sets of minutes" (001 Annex A 3.8) is a count per slot (one agency's
item, or one child's case record or audit), and a duplicate is the same bytes sent again
for the same item. Both are taken over the uploads received before this one, by
`received_at` then id, never over what happens to be decided already. That is the
serialisation: what comes before an upload is fixed when it is received, so its outcome
does not depend on how the uploads were batched, in which order the batches ran, or
whether two batches decided the same slot at once. No lock is needed, on SQLite or
PostgreSQL: an upload reads only the statuses of uploads received before it, and nothing
about those changes its count unless one of them is rejected.

An earlier upload counts unless it was rejected or withdrawn: accepted, or not yet decided
(received, processing, or failed and waiting to be tried again), since it will be accepted
unless something is wrong with it. A withdrawn upload (accepted, then found infected on a
rescan) is no longer sent: the inspectors cannot read it, so "the 3 most recent" are counted
without it and a clean copy of it is not a duplicate. If an upload is rejected or withdrawn
after a later one was decided, that later one keeps its warning: warnings never reject, and
a verdict is not rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from portal.domain.documents import Document, DocumentStatus
from portal.domain.scope import carries_child


class EarlierUploads(BaseModel):
    """What was sent before one upload: how many for its slot, and whether the same bytes
    were sent for its item."""

    model_config = ConfigDict(frozen=True)

    in_slot: int = 0
    same_bytes: bool = False


def receipt_order(document: Document) -> tuple[datetime, str]:
    """The key uploads are ordered by: when received, then id (uploads received in the same
    instant still have one order, the same every time it is asked)."""
    return (document.received_at, document.id)


def counts_as_sent(status: DocumentStatus) -> bool:
    """Whether an upload counts as sent for its item: anything but a rejected or a
    withdrawn one."""
    return status not in (DocumentStatus.rejected, DocumentStatus.withdrawn)


def same_item(a: Document, b: Document) -> bool:
    """Whether two uploads are for the same item of the same agency in one inspection."""
    return (a.inspection_id, a.agency, a.item_number) == (b.inspection_id, b.agency, b.item_number)


def same_slot(a: Document, b: Document) -> bool:
    """Whether two uploads fill the same slot: the same item, and for a case record or an
    audit the same child."""
    if not same_item(a, b):
        return False
    return not carries_child(a.item_number) or a.child_id == b.child_id


def earlier_uploads(document: Document, others: Iterable[Document]) -> EarlierUploads:
    """Count the uploads among `others` that were received before `document`, fill its slot
    and count as sent; and say whether any received before it for its item and counting as
    sent had the same bytes. `others` may hold anything (the document itself, later
    uploads, other items): only what came before it for its item is looked at."""
    before = [
        other
        for other in others
        if same_item(other, document)
        and receipt_order(other) < receipt_order(document)
        and counts_as_sent(other.status)
    ]
    return EarlierUploads(
        in_slot=sum(1 for other in before if same_slot(other, document)),
        same_bytes=document.sha256_received is not None
        and any(other.sha256_received == document.sha256_received for other in before),
    )
