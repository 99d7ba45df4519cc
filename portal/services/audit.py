"""Use case of an administrator: verifying the audit log, the same check as
`jtai-portal audit verify` (HMACs under each entry's key, links, heads, lawful deletions,
anchors)."""

from __future__ import annotations

from portal.audit import verify_audit
from portal.bootstrap import Container
from portal.domain.access import Principal
from portal.domain.audit_chain import LogVerdict


def verify_audit_log(container: Container, principal: Principal) -> LogVerdict:
    """Verify the whole audit log now and audit that `principal` did, with the verdict.

    Never a pass without anchors: AnchorSinkUnsafe if the anchor sink would not keep them
    out of reach, AnchorSinkUnavailable if it cannot be read now (nothing is audited then).
    """
    verdict = verify_audit(container.repository.engine, container.audit_keys, container.anchor_sink)
    container.repository.record_audit_verified(
        principal.actor,
        container.clock.now(),
        ok=verdict.ok,
        breaks=len(verdict.breaks),
        entries=verdict.entries,
    )
    return verdict
