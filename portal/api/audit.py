"""The audit log's verification, for administrators: the same check as
`jtai-portal audit verify` (HMACs under each entry's key, links, heads, lawful deletions,
anchors)."""

from __future__ import annotations

from fastapi import APIRouter

from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.schemas import AuditBreakOut, AuditVerifyOut
from portal.domain.audit_chain import ChainBreak
from portal.domain.errors import AnchorSinkUnsafe
from portal.http.problems import Problem, problem_responses
from portal.services.audit import verify_audit_log

router = APIRouter(tags=["audit"])


def _break_out(found: ChainBreak) -> AuditBreakOut:
    return AuditBreakOut(
        chain=found.chain,
        seq=found.seq,
        entry_id=found.entry_id,
        problem=found.problem.value,
        explanation=found.explanation,
    )


@router.get("/v1/audit/verify", response_model=AuditVerifyOut, responses=problem_responses(503))
def verify(principal: PrincipalDep, container: ContainerDep) -> AuditVerifyOut:
    """Verify the whole audit log now: 200 with `ok` true, or `ok` false naming the first
    broken entry; 503 if the anchor sink cannot be read (never a pass without anchors).
    The verification is itself audited."""
    try:
        verdict = verify_audit_log(container, principal)
    except AnchorSinkUnsafe as exc:
        # A fault of the deployment, not a refusal of the person: answered 503 like the
        # sink being unreachable, never as a pass.
        raise Problem(503, "anchor_sink_unsafe", "The anchor sink is not safe", str(exc)) from exc
    first = verdict.first
    return AuditVerifyOut(
        ok=verdict.ok,
        summary=verdict.summary(),
        chains=verdict.chains,
        entries=verdict.entries,
        unkeyed_entries=verdict.unkeyed_entries,
        deleted_chains=verdict.deleted_chains,
        anchors=verdict.anchors,
        first_break=_break_out(first) if first else None,
        breaks=[_break_out(b) for b in verdict.breaks],
    )
