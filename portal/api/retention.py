"""Retention for records officers: runs and their deletion records, legal holds, the
events retention counts from, and each inspection's retention schedule."""

from __future__ import annotations

from fastapi import APIRouter

from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.schemas import (
    LegalHoldIn,
    LegalHoldLiftIn,
    LegalHoldOut,
    RetentionClassOut,
    RetentionEntryOut,
    RetentionEventIn,
    RetentionRunIn,
    RetentionRunOut,
    RetentionScheduleOut,
)
from portal.domain.retention import LegalHold, RetentionEvent, RetentionRun
from portal.http.problems import problem_responses
from portal.services import retention

router = APIRouter(tags=["retention"])


def _run_out(run: RetentionRun) -> RetentionRunOut:
    return RetentionRunOut(
        **run.model_dump(exclude={"entries", "completes", "summary"}),
        completes=list(run.completes),
        summary={k: int(v) for k, v in run.summary.items()},
        entries=[
            RetentionEntryOut(**e.model_dump(exclude={"hold_ids"}), hold_ids=list(e.hold_ids))
            for e in run.entries
        ],
    )


@router.post(
    "/v1/retention/runs",
    status_code=201,
    response_model=RetentionRunOut,
    responses=problem_responses(409),
)
def start_run(
    body: RetentionRunIn, principal: PrincipalDep, container: ContainerDep
) -> RetentionRunOut:
    """Run retention now: a dry run (the default) lists what would go and what is held;
    otherwise what is due is deleted and the record proves it. The run covers only what
    the caller keeps records for: a records officer of one inspection, that inspection."""
    run = retention.start_run(container, principal, dry_run=body.dry_run, as_of=body.as_of)
    return _run_out(run)


@router.get("/v1/retention/runs", response_model=list[RetentionRunOut])
def list_runs(principal: PrincipalDep, container: ContainerDep) -> list[RetentionRunOut]:
    """The newest 50 runs, without their entries."""
    return [_run_out(run) for run in retention.recent_runs(container, principal)]


@router.get("/v1/retention/runs/{run_id}", response_model=RetentionRunOut)
def get_run(run_id: str, principal: PrincipalDep, container: ContainerDep) -> RetentionRunOut:
    """A run's deletion record: what went, what was held back and why, and the proof."""
    return _run_out(retention.find_run(container, principal, run_id))


def _hold_out(hold: LegalHold) -> LegalHoldOut:
    return LegalHoldOut(**hold.model_dump(), active=hold.active)


@router.post(
    "/v1/inspections/{inspection_id}/legal-holds", status_code=201, response_model=LegalHoldOut
)
def place_hold(
    inspection_id: str, body: LegalHoldIn, principal: PrincipalDep, container: ContainerDep
) -> LegalHoldOut:
    """Hold the whole inspection or one of its documents: nothing held is deleted."""
    return _hold_out(retention.place_hold(container, principal, inspection_id, body))


@router.get("/v1/inspections/{inspection_id}/legal-holds", response_model=list[LegalHoldOut])
def list_holds(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[LegalHoldOut]:
    """Every hold of the inspection, active and lifted."""
    return [_hold_out(h) for h in retention.holds_of(container, inspection_id)]


@router.post("/v1/legal-holds/{hold_id}/lift", response_model=LegalHoldOut)
def lift_hold(
    hold_id: str, body: LegalHoldLiftIn, principal: PrincipalDep, container: ContainerDep
) -> LegalHoldOut:
    """Lift a hold; the next run deletes what it kept, if that is due."""
    return _hold_out(retention.lift_hold(container, principal, hold_id, body))


@router.put("/v1/inspections/{inspection_id}/events/{event}", status_code=204)
def record_event(
    inspection_id: str,
    event: RetentionEvent,
    body: RetentionEventIn,
    principal: PrincipalDep,
    container: ContainerDep,
) -> None:
    """Record when fieldwork ended or the letter was published (lead inspector, records
    officer or admin); retention counts from these days."""
    retention.record_event(container, principal, inspection_id, event, body.on)


@router.get("/v1/inspections/{inspection_id}/retention", response_model=RetentionScheduleOut)
def retention_schedule(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> RetentionScheduleOut:
    """When each class of the inspection's records is due to go, and what it waits for."""
    schedule = retention.retention_schedule(container, inspection_id)
    return RetentionScheduleOut(
        **schedule.model_dump(exclude={"recorded", "estimated", "classes"}),
        recorded={k.value: v for k, v in schedule.recorded.items()},
        estimated={k.value: v for k, v in schedule.estimated.items()},
        classes=[RetentionClassOut(**c.model_dump(mode="json")) for c in schedule.classes],
    )
