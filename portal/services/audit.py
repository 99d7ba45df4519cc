"""Use cases of the audit log's protection: anchoring chain heads and verifying the log.

Anchoring copies each chain's committed head (chain, seq, hash) to the anchor sink when it
has moved since its last anchor. It runs as the Prefect deployment `audit-anchor` every
few minutes (JTAI_AUDIT_ANCHOR_CRON), after `jtai-portal migrate` and on demand
(`jtai-portal audit anchor`): not inside each request's transaction, so a transaction that
rolls back is never anchored and no request waits on S3; the price is that the newest few
minutes of events are protected by their HMACs alone until the next anchor.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from portal.domain.access import Principal
from portal.domain.audit_chain import Anchor, AuditKeyring, LogVerdict, anchors_due
from portal.domain.ports import AnchorSink, AuditLog

if TYPE_CHECKING:
    from portal.bootstrap import Container


def anchor_heads(log: AuditLog, sink: AnchorSink, now: datetime) -> list[Anchor]:
    """Append to the anchor sink every chain head that moved since its last anchor, and
    return what was appended (nothing when the log is quiet). A sink that cannot be read
    or written raises a TransientError and nothing is anchored."""
    due = anchors_due(log.chain_heads(), sink.read(), now)
    sink.append(due)
    return due


def verify_audit(log: AuditLog, keys: AuditKeyring, sink: AnchorSink) -> LogVerdict:
    """Verify every chain under the keys its entries name, and every anchor in the sink
    against the chains (a TransientError if the sink cannot be read: never a pass)."""
    return log.verify(keys, sink.read())


def verify_audit_log(container: Container, principal: Principal) -> LogVerdict:
    """Verify the whole audit log now and audit that `principal` did, with the verdict.

    Never a pass without anchors: AnchorSinkUnsafe if the anchor sink would not keep them
    out of reach, AnchorSinkUnavailable if it cannot be read now (nothing is audited then).
    """
    verdict = verify_audit(container.audit_log, container.audit_keys, container.anchor_sink)
    container.repository.record_audit_verified(
        principal.actor,
        container.clock.now(),
        ok=verdict.ok,
        breaks=len(verdict.breaks),
        entries=verdict.entries,
    )
    return verdict
