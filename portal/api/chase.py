"""Chase runs on demand: preview (dry run) or send what is owed at a moment."""

from __future__ import annotations

from fastapi import APIRouter

from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.schemas import ChaseRunIn, ChaseRunOut, PlannedOut
from portal.services.chasing import chase_on_demand

router = APIRouter(prefix="/v1/chase", tags=["chase"])


@router.post("/runs", response_model=ChaseRunOut)
def chase_run(body: ChaseRunIn, principal: PrincipalDep, container: ContainerDep) -> ChaseRunOut:
    """Plan (dry run, the default) or send every reminder and alert owed as of a time.

    Admins see every inspection; a lead inspector's dry run shows only theirs.
    """
    report = chase_on_demand(container, principal, body.as_of, dry_run=body.dry_run)
    return ChaseRunOut(
        as_of=report.as_of,
        dry_run=body.dry_run,
        planned=[PlannedOut.model_validate(m.model_dump()) for m in report.planned],
        recorded=report.recorded,
        sent=report.sent,
        failed=report.failed,
    )
