"""Withdrawing a document found infected after it was accepted: what a withdrawal does to
a document, and what it says.

A file that scanned clean when it was accepted may be known malware under newer
signatures. Once a rescan finds it, the document is withdrawn at once: its status says
`withdrawn` with the reason (`infected_on_rescan`) and what the scanner found; nothing
reads it again; its bytes leave the areas documents are read from (clean, onsite); its
item counts as missing again. A legal hold keeps the bytes, in quarantine, where nothing
is ever read; otherwise they are deleted, as an infected upload's are when it is rejected.

Withdrawal is settled in two recorded steps, so a call interrupted between them is
finished by the next one: the status (reads are refused from then on), then the bytes
(recorded by the document's area becoming quarantine).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.reasons import ReasonCode
from portal.domain.timeline import LONDON

CONTENT_AREAS = (Area.clean, Area.onsite)
"""The areas a document's content is read from: a withdrawn document has nothing left in
either, not even an old version."""

RESCAN_ACTOR = "rescan"
"""How the audit log names the rescan that withdraws a document."""

DETAIL_MAX = 500
"""The longest signature or scanner version kept (clamd's replies are far shorter)."""


class WithdrawalOutcome(StrEnum):
    """What one call to withdraw a document did."""

    withdrawn = "withdrawn"
    """It was accepted; it is withdrawn now."""
    finished = "finished"
    """An earlier call withdrew it but stopped before its bytes were settled; this call
    settled them."""
    already_withdrawn = "already_withdrawn"
    """Nothing more to do: it was withdrawn and its bytes settled before."""
    not_accepted = "not_accepted"
    """It is still being checked, or was rejected: there is nothing readable to withdraw
    (the pipeline's own scan decides what is still waiting)."""
    deleted = "deleted"
    """Retention deleted its content already."""
    not_found = "not_found"
    """There is no such document."""

    @property
    def acts(self) -> bool:
        """Whether a call with this outcome changes the document (status, bytes or both)."""
        return self in (WithdrawalOutcome.withdrawn, WithdrawalOutcome.finished)


def decide_withdrawal(document: Document | None) -> WithdrawalOutcome:
    """What withdrawing `document` as it is stored now would do: withdraw it (accepted,
    content not deleted), finish an interrupted withdrawal (withdrawn, its bytes still
    recorded in a content area), or nothing, and why."""
    if document is None:
        return WithdrawalOutcome.not_found
    if document.deleted_at is not None:
        return WithdrawalOutcome.deleted
    if document.status is DocumentStatus.accepted:
        return WithdrawalOutcome.withdrawn
    if document.status is DocumentStatus.withdrawn:
        if document.area in CONTENT_AREAS:
            return WithdrawalOutcome.finished
        return WithdrawalOutcome.already_withdrawn
    return WithdrawalOutcome.not_accepted


def rescan_detail(signature: str, scanned_with: str) -> str:
    """The withdrawn document's technical detail: the signature that found it and the
    scanner (engine and signature version) that ran, e.g.
    "Win.Test.EICAR_HDB-1 (found on rescan by ClamAV 1.0.7/27432)"."""
    found = signature.strip()[:DETAIL_MAX] or "unnamed signature"
    scanner = scanned_with.strip()[:DETAIL_MAX] or "an unnamed scanner version"
    return f"{found} (found on rescan by {scanner})"


def why_withdrawn(reasons: Iterable[str], withdrawn_at: datetime | None) -> str:
    """Why a document withdrawn at `withdrawn_at` for `reasons` (codes) cannot be read, and
    what to do, for the inspection's staff."""
    day = withdrawn_at.astimezone(LONDON) if withdrawn_at else None
    when = f" on {day.day} {day:%B %Y}" if day else ""
    if ReasonCode.infected_on_rescan in set(reasons):
        cause = (
            "when it was checked again with newer virus definitions, the virus scanner "
            "found something harmful in it"
        )
    else:
        cause = "a later check found it unsafe"
    return (
        f"This document was withdrawn{when}: {cause}. Its content can no longer be read. "
        f"The agency has been asked to send a clean copy; read that once it is accepted. "
        "If you downloaded this document earlier, delete your copy without opening it."
    )
