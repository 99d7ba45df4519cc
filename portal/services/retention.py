"""Use cases of the records officer and of whoever records retention's events: retention
runs and their deletion records, legal holds, the events retention counts from, each
inspection's retention schedule, and the name register.

The run itself (what is deleted, held and reduced, and the proof) is
portal/services/retention_runs.py;
these use cases start it for a person and decide what that person sees of its record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from portal.domain.access import Inspection, Principal, retention_scope
from portal.domain.authorization import Permission, Target, TargetKind, authorize
from portal.domain.errors import Refusal, Refused
from portal.domain.retention import (
    ClassSchedule,
    LegalHold,
    NameEntry,
    RetentionClass,
    RetentionEvent,
    RetentionRun,
    RetentionSchedule,
    RunInProgress,
    due_date,
    names_due,
)
from portal.services.inspections import load_inspection
from portal.services.retention_runs import inspection_context, run_retention

if TYPE_CHECKING:
    from portal.bootstrap import Container

RECORDED_BY_PEOPLE = (RetentionEvent.fieldwork_end, RetentionEvent.letter_published)
"""The events a person records; the others the portal knows by itself."""


class PlaceHold(BaseModel):
    """What a legal hold covers (one document, or the whole inspection) and why."""

    model_config = ConfigDict(extra="forbid")

    document_id: str | None = Field(
        default=None, max_length=32, description="Omit to hold the whole inspection."
    )
    reason: str = Field(min_length=3, max_length=2000, description="Why, e.g. the claim's ref.")


class LiftHold(BaseModel):
    """Why a legal hold may be lifted."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


# -- retention runs ------------------------------------------------------------------------


def start_run(
    container: Container, principal: Principal, *, dry_run: bool, as_of: datetime | None
) -> RetentionRun:
    """Run retention now and return its record as `principal` sees it (`seen_by`).

    A dry run lists what would go and what is held, as of `as_of` (default now); a
    deleting run deletes what is due now. The run covers only what the principal keeps
    records for (`retention_scope`). Refused (invalid, `as_of_needs_dry_run`) for a
    deleting run that looks ahead, and (conflict, `retention_run_in_progress`) while
    another deleting run is alive.
    """
    if as_of is not None and not dry_run:
        raise Refused(
            Refusal.invalid,
            "as_of_needs_dry_run",
            "Only a dry run can look ahead",
            "A deleting run works as of now. Leave out as_of, or set dry_run to true.",
        )
    try:
        run = run_retention(
            container,
            dry_run=dry_run,
            as_of=as_of,
            actor=principal.actor,
            only_inspection=retention_scope(principal),
        )
    except RunInProgress as exc:
        raise Refused(
            Refusal.conflict, "retention_run_in_progress", "A run is in progress", str(exc)
        ) from exc
    return seen_by(run, principal)


def seen_by(run: RetentionRun, principal: Principal) -> RetentionRun:
    """A run's record as `principal` may see it: a person whose token is scoped to one
    inspection sees only that inspection's entries."""
    return run.seen_from(principal.inspection_id)


def recent_runs(container: Container, principal: Principal) -> list[RetentionRun]:
    """The newest 50 runs, newest first, without their entries."""
    return [seen_by(run, principal) for run in container.records.runs()]


def find_run(container: Container, principal: Principal, run_id: str) -> RetentionRun:
    """A run's deletion record as `principal` sees it; Refused (not_found,
    `retention_run_not_found`) if there is no such run."""
    run = container.records.get_run(run_id)
    if run is None:
        raise Refused(
            Refusal.not_found,
            "retention_run_not_found",
            "No such run",
            f"There is no run {run_id}.",
        )
    return seen_by(run, principal)


# -- legal holds ---------------------------------------------------------------------------


def place_hold(
    container: Container, principal: Principal, inspection_id: str, hold: PlaceHold
) -> LegalHold:
    """Hold the whole inspection or one of its documents (nothing held is deleted).
    Refused (not_found) if there is no such inspection (`inspection_not_found`) or the
    inspection has no such document (`document_not_found`)."""
    load_inspection(container, inspection_id)
    if hold.document_id is not None:
        document = container.repository.get_document(hold.document_id)
        if document is None or document.inspection_id != inspection_id:
            raise Refused(
                Refusal.not_found,
                "document_not_found",
                "No such document",
                f"This inspection has no document {hold.document_id}.",
            )
    return container.records.place_hold(
        inspection_id, hold.document_id, hold.reason, principal.actor, container.clock.now()
    )


def holds_of(container: Container, inspection_id: str) -> list[LegalHold]:
    """Every hold of the inspection, active and lifted, oldest first (not_found if there
    is no such inspection)."""
    load_inspection(container, inspection_id)
    return container.records.holds(inspection_id)


def find_hold(container: Container, hold_id: str) -> LegalHold:
    """The hold with this id; Refused (not_found, `legal_hold_not_found`) if none."""
    hold = container.records.get_hold(hold_id)
    if hold is None:
        raise _no_hold(hold_id)
    return hold


def lift_hold(
    container: Container, principal: Principal, hold_id: str, lifting: LiftHold
) -> LegalHold:
    """Lift a hold (lifting twice changes nothing); the next run deletes what it kept, if
    that is due. Refused (not_found, `legal_hold_not_found`) if there is no such hold."""
    lifted = container.records.lift_hold(
        hold_id, lifting.reason, principal.actor, container.clock.now()
    )
    if lifted is None:
        raise _no_hold(hold_id)
    return lifted


def _no_hold(hold_id: str) -> Refused:
    return Refused(
        Refusal.not_found, "legal_hold_not_found", "No such hold", f"There is no hold {hold_id}."
    )


def inspections_kept_by(container: Container, principal: Principal) -> list[Inspection]:
    """The inspections whose records `principal` keeps (holds are placed on these)."""
    found = []
    for inspection_id in container.repository.list_inspection_ids():
        target = Target(kind=TargetKind.inspection, inspection_id=inspection_id)
        if not authorize(principal, Permission.keep_records, target).allowed:
            continue
        inspection = container.repository.get_inspection(inspection_id)
        if inspection is not None:
            found.append(inspection)
    return found


def holds_kept_by(container: Container, inspections: list[Inspection]) -> list[LegalHold]:
    """Every hold, active and lifted, on any of `inspections` (those whose records a
    person keeps: `inspections_kept_by`)."""
    kept = {i.id for i in inspections}
    return [h for h in container.records.holds() if h.inspection_id in kept]


# -- retention events and the schedule -----------------------------------------------------


def record_event(
    container: Container,
    principal: Principal,
    inspection_id: str,
    event: RetentionEvent,
    on: date,
) -> None:
    """Record (or correct) the day fieldwork ended or the letter was published; retention
    counts from these days. Refused (invalid, `event_not_recordable`) for any other event,
    and not_found if there is no such inspection."""
    load_inspection(container, inspection_id)
    if event not in RECORDED_BY_PEOPLE:
        raise Refused(
            Refusal.invalid,
            "event_not_recordable",
            "This event is not recorded by hand",
            f"Record one of: {', '.join(e.value for e in RECORDED_BY_PEOPLE)}. "
            "An inspection is withdrawn through its state.",
        )
    container.records.set_event(inspection_id, event, on, principal.actor, container.clock.now())


def retention_schedule(container: Container, inspection_id: str) -> RetentionSchedule:
    """When each class of the inspection's records is due to go (as of now) and what it
    waits for, when its names are due to be reduced, and how many holds are active."""
    inspection = load_inspection(container, inspection_id)
    ctx = inspection_context(container, inspection, container.clock.now())
    policy = container.retention_policy
    classes = []
    for retention_class in RetentionClass:
        rule = policy.rule_for(retention_class, ctx.events.withdrawn)
        if rule.after is RetentionEvent.decided:
            due, waiting = None, "counted from each document's acceptance or rejection"
        else:
            due, waiting = due_date(rule, ctx.events, ctx.calendar, policy.estimates)
        classes.append(
            ClassSchedule(
                retention_class=retention_class,
                rule=rule.describe(),
                why=rule.why,
                due=due,
                waiting_for=waiting,
            )
        )
    names = names_due(policy, ctx.events, ctx.holds, ctx.calendar, ctx.today)
    return RetentionSchedule(
        inspection_id=inspection_id,
        recorded=ctx.events.recorded,
        estimated=ctx.events.estimated,
        classes=tuple(classes),
        names_rule=policy.names.describe(),
        names_due=names.due,
        names_reduced_at=container.records.names_reduced_at(inspection_id),
        active_holds=sum(1 for h in ctx.holds if h.active),
    )


# -- the name register ---------------------------------------------------------------------


def record_name(
    container: Container,
    principal: Principal,
    inspection_id: str,
    *,
    name: str,
    reference: str,
    note: str,
) -> NameEntry:
    """Record a name in the inspection's register, only while names are still needed.
    Refused (conflict, `names_already_reduced`) once retention has reduced them, and
    not_found if there is no such inspection."""
    load_inspection(container, inspection_id)
    if container.records.names_reduced_at(inspection_id) is not None:
        raise Refused(
            Refusal.conflict,
            "names_already_reduced",
            "Names are no longer kept",
            "This inspection's names were reduced to initials at the end of fieldwork. "
            "Record initials and the child's unique ID in the evidence record instead.",
        )
    return container.records.add_name(
        inspection_id, name.strip(), reference, note, principal.actor, container.clock.now()
    )


def name_register(container: Container, inspection_id: str) -> list[NameEntry]:
    """The inspection's register in the order names were recorded (initials only once
    reduced); not_found if there is no such inspection."""
    load_inspection(container, inspection_id)
    return container.records.names(inspection_id)
