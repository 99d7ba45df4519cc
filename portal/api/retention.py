"""Retention for records officers: runs and their deletion records, legal holds, the
events retention counts from, and each inspection's retention schedule."""

from __future__ import annotations

from fastapi import APIRouter

from portal.adapters.db.retention_records import RetentionRun, RunInProgress
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
from portal.domain.access import Principal, retention_scope
from portal.domain.retention import (
    LegalHold,
    RetentionClass,
    RetentionEvent,
    due_date,
    names_due,
)
from portal.http.problems import Problem, problem_responses
from portal.retention import inspection_context, run_retention
from portal.services.inspections import load_inspection

router = APIRouter(tags=["retention"])

RECORDED_BY_PEOPLE = (RetentionEvent.fieldwork_end, RetentionEvent.letter_published)


def _run_out(run: RetentionRun, principal: Principal) -> RetentionRunOut:
    """A run's record; a records officer scoped to one inspection sees only its entries."""
    scope = principal.inspection_id
    return RetentionRunOut(
        **run.model_dump(exclude={"entries", "completes", "summary"}),
        completes=list(run.completes),
        summary={k: int(v) for k, v in run.summary.items()},
        entries=[
            RetentionEntryOut(**e.model_dump(exclude={"hold_ids"}), hold_ids=list(e.hold_ids))
            for e in run.entries
            if scope is None or e.inspection_id == scope
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
    if body.as_of is not None and not body.dry_run:
        raise Problem(
            422,
            "as_of_needs_dry_run",
            "Only a dry run can look ahead",
            "A deleting run works as of now. Leave out as_of, or set dry_run to true.",
        )
    try:
        run = run_retention(
            container,
            dry_run=body.dry_run,
            as_of=body.as_of,
            actor=principal.actor,
            only_inspection=retention_scope(principal),
        )
    except RunInProgress as exc:
        raise Problem(409, "retention_run_in_progress", "A run is in progress", str(exc)) from exc
    return _run_out(run, principal)


@router.get("/v1/retention/runs", response_model=list[RetentionRunOut])
def list_runs(principal: PrincipalDep, container: ContainerDep) -> list[RetentionRunOut]:
    """The newest 50 runs, without their entries."""
    return [_run_out(run, principal) for run in container.records.runs()]


@router.get("/v1/retention/runs/{run_id}", response_model=RetentionRunOut)
def get_run(run_id: str, principal: PrincipalDep, container: ContainerDep) -> RetentionRunOut:
    """A run's deletion record: what went, what was held back and why, and the proof."""
    run = container.records.get_run(run_id)
    if run is None:
        raise Problem(404, "retention_run_not_found", "No such run", f"There is no run {run_id}.")
    return _run_out(run, principal)


def _hold_out(hold: LegalHold) -> LegalHoldOut:
    return LegalHoldOut(**hold.model_dump(), active=hold.active)


@router.post(
    "/v1/inspections/{inspection_id}/legal-holds", status_code=201, response_model=LegalHoldOut
)
def place_hold(
    inspection_id: str, body: LegalHoldIn, principal: PrincipalDep, container: ContainerDep
) -> LegalHoldOut:
    """Hold the whole inspection or one of its documents: nothing held is deleted."""
    load_inspection(container, inspection_id)
    if body.document_id is not None:
        document = container.repository.get_document(body.document_id)
        if document is None or document.inspection_id != inspection_id:
            raise Problem(
                404,
                "document_not_found",
                "No such document",
                f"This inspection has no document {body.document_id}.",
            )
    hold = container.records.place_hold(
        inspection_id, body.document_id, body.reason, principal.actor, container.clock.now()
    )
    return _hold_out(hold)


@router.get("/v1/inspections/{inspection_id}/legal-holds", response_model=list[LegalHoldOut])
def list_holds(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[LegalHoldOut]:
    """Every hold of the inspection, active and lifted."""
    load_inspection(container, inspection_id)
    return [_hold_out(h) for h in container.records.holds(inspection_id)]


@router.post("/v1/legal-holds/{hold_id}/lift", response_model=LegalHoldOut)
def lift_hold(
    hold_id: str, body: LegalHoldLiftIn, principal: PrincipalDep, container: ContainerDep
) -> LegalHoldOut:
    """Lift a hold; the next run deletes what it kept, if that is due."""
    lifted = container.records.lift_hold(
        hold_id, body.reason, principal.actor, container.clock.now()
    )
    if lifted is None:
        raise Problem(404, "legal_hold_not_found", "No such hold", f"There is no hold {hold_id}.")
    return _hold_out(lifted)


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
    load_inspection(container, inspection_id)
    if event not in RECORDED_BY_PEOPLE:
        raise Problem(
            422,
            "event_not_recordable",
            "This event is not recorded by hand",
            f"Record one of: {', '.join(e.value for e in RECORDED_BY_PEOPLE)}. "
            "An inspection is withdrawn through its state.",
        )
    container.records.set_event(
        inspection_id, event, body.on, principal.actor, container.clock.now()
    )


@router.get("/v1/inspections/{inspection_id}/retention", response_model=RetentionScheduleOut)
def retention_schedule(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> RetentionScheduleOut:
    """When each class of the inspection's records is due to go, and what it waits for."""
    inspection = load_inspection(container, inspection_id)
    now = container.clock.now()
    ctx = inspection_context(container, inspection, now)
    policy = container.retention_policy
    classes = []
    for retention_class in RetentionClass:
        rule = policy.rule_for(retention_class, ctx.events.withdrawn)
        if rule.after is RetentionEvent.decided:
            due, waiting = None, "counted from each document's acceptance or rejection"
        else:
            due, waiting = due_date(rule, ctx.events, ctx.calendar, policy.estimates)
        classes.append(
            RetentionClassOut(
                retention_class=retention_class.value,
                rule=rule.describe(),
                why=rule.why,
                due=due,
                waiting_for=waiting,
            )
        )
    names = names_due(policy, ctx.events, ctx.holds, ctx.calendar, ctx.today)
    return RetentionScheduleOut(
        inspection_id=inspection_id,
        recorded={k.value: v for k, v in ctx.events.recorded.items()},
        estimated={k.value: v for k, v in ctx.events.estimated.items()},
        classes=classes,
        names_rule=policy.names.describe(),
        names_due=names.due,
        names_reduced_at=container.records.names_reduced_at(inspection_id),
        active_holds=sum(1 for h in ctx.holds if h.active),
    )
