"""Chase runs on demand: preview (dry run) or send what is owed at a moment."""

from __future__ import annotations

from fastapi import APIRouter

from portal.api.auth import ContainerDep, PrincipalDep, forbidden
from portal.api.schemas import ChaseRunIn, ChaseRunOut, PlannedOut
from portal.chasing import run_chase
from portal.domain.access import Role

router = APIRouter(prefix="/v1/chase", tags=["chase"])


@router.post("/runs", response_model=ChaseRunOut)
def chase_run(body: ChaseRunIn, principal: PrincipalDep, container: ContainerDep) -> ChaseRunOut:
    """Plan (dry run, the default) or send every reminder and alert owed as of a time.

    Admins see every inspection; a lead inspector's dry run shows only theirs.
    """
    if principal.role is Role.lead_inspector and not body.dry_run:
        raise forbidden(
            "A lead inspector can preview the chase; only an administrator "
            "sends it out of schedule."
        )
    report = run_chase(container, container.mailer, body.as_of, dry_run=body.dry_run)
    visible = [
        m
        for m in report.planned
        if principal.role is Role.admin or m.inspection_id == principal.inspection_id
    ]
    return ChaseRunOut(
        as_of=report.as_of,
        dry_run=body.dry_run,
        planned=[
            PlannedOut(
                key=m.key,
                kind=m.kind.value,
                inspection_id=m.inspection_id,
                agency=m.agency,
                deadline=m.deadline,
                recipients=list(m.recipients),
                subject=m.subject,
                body=m.body,
            )
            for m in visible
        ],
        recorded=report.recorded,
        sent=report.sent,
        failed=report.failed,
    )
