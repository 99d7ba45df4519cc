"""Chase runs: plan what each inspection is owed now, record it in the outbox, send it.

Exactly once: a message's idempotency key is the outbox's primary key, so concurrent runs
record it once; sending claims it first, so one run sends it; a failed send leaves it
pending for the next run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from portal.domain.access import InspectionState, Principal, Role
from portal.domain.chase import PlannedMessage, plan_chase, plan_rejection_notice
from portal.domain.errors import Refusal, Refused, TransientError
from portal.domain.letter_chase import plan_letter_chase
from portal.domain.ports import Mailer, OutgoingMail

if TYPE_CHECKING:
    from portal.bootstrap import Container

STALE_CLAIM = timedelta(minutes=10)


@dataclass(frozen=True)
class ChaseReport:
    """What one chase run planned, newly recorded, sent and left for later."""

    as_of: datetime
    planned: list[PlannedMessage]
    recorded: int
    sent: int
    failed: int


def plan_all(container: Container, as_of: datetime) -> list[PlannedMessage]:
    """Every message owed as of `as_of`, over every inspection that has a timeline."""
    repository = container.repository
    # Agencies work through the pages: the reminder links the checklist, where each
    # missing item has its upload page (the API's address is in the portal's docs).
    upload_help = (
        "Sign in with your agency's token and upload each from your checklist: "
        f"{container.settings.resolved_public_url}/inspections/{{id}}/checklist"
    )
    planned: list[PlannedMessage] = []
    for inspection_id in repository.list_inspection_ids(InspectionState.open):
        inspection = repository.get_inspection(inspection_id)
        schedule = container.schedule(inspection) if inspection else None
        if inspection is None or schedule is None:
            continue
        planned += plan_chase(
            inspection.id,
            inspection.area_name,
            schedule,
            container.completeness(inspection, as_of),
            repository.contacts(inspection.id),
            as_of,
            container.working_calendar(schedule.fieldwork_start),
            upload_help.replace("{id}", inspection.id),
            container.chase_policy,
        )
        letter = container.after_fieldwork(inspection)
        if letter is not None:
            planned += plan_letter_chase(
                inspection.id,
                inspection.area_name,
                letter,
                repository.contacts(inspection.id),
                as_of,
                container.working_calendar_between(as_of.year - 1, as_of.year + 1),
                container.chase_policy,
                schedule.notification,
            )
    return planned


def deliver_outbox(container: Container, mailer: Mailer) -> tuple[int, int]:
    """Send what the outbox holds unsent; returns (sent, left for a later run)."""
    token = uuid.uuid4().hex
    sent = failed = 0
    for row in container.repository.claim_outbox(token, container.clock.now(), STALE_CLAIM):
        mail = OutgoingMail(
            key=row.key,
            sender=container.settings.mail_from,
            recipients=tuple(row.recipients),
            subject=row.subject,
            body=row.body,
        )
        try:
            mailer.send(mail)
        except TransientError as exc:
            container.repository.finish_outbox(
                row.key, token, container.clock.now(), error=str(exc)
            )
            failed += 1
            continue
        container.repository.finish_outbox(row.key, token, container.clock.now())
        sent += 1
    return sent, failed


def notify_rejections(container: Container, document_ids: list[str]) -> int:
    """Record and send a rejection notice to each uploading agency; returns how many."""
    repository = container.repository
    planned: list[PlannedMessage] = []
    for document_id in document_ids:
        document = repository.get_document(document_id)
        inspection = repository.get_inspection(document.inspection_id) if document else None
        if document is None or inspection is None:
            continue
        notice = plan_rejection_notice(
            document, inspection.area_name, repository.contacts(inspection.id)
        )
        if notice is not None:
            planned.append(notice)
    if not planned:
        return 0
    repository.enqueue_messages(planned, container.clock.now())
    sent, _failed = deliver_outbox(container, container.mailer)
    return sent


def run_chase(
    container: Container, mailer: Mailer, as_of: datetime | None = None, *, dry_run: bool = False
) -> ChaseReport:
    """Plan, record and send everything owed as of `as_of` (default now).

    A dry run only plans: nothing is recorded or sent, so a lead inspector can preview.
    """
    moment = as_of or container.clock.now()
    planned = plan_all(container, moment)
    if dry_run:
        return ChaseReport(moment, planned, recorded=0, sent=0, failed=0)
    recorded = container.repository.enqueue_messages(planned, container.clock.now())
    sent, failed = deliver_outbox(container, mailer)
    return ChaseReport(moment, planned, recorded=recorded, sent=sent, failed=failed)


def chase_on_demand(
    container: Container, principal: Principal, as_of: datetime | None, *, dry_run: bool
) -> ChaseReport:
    """A chase run out of schedule: planned only (dry run), or recorded and sent (admin
    only: Refused forbidden for a lead inspector). The report's planned messages are those
    this person may see: every inspection's for an admin, their own inspection's for a lead
    inspector; its counts are the whole run's."""
    if principal.role is Role.lead_inspector and not dry_run:
        raise Refused(
            Refusal.forbidden,
            "forbidden",
            "Not allowed",
            "A lead inspector can preview the chase; only an administrator "
            "sends it out of schedule.",
        )
    report = run_chase(container, container.mailer, as_of, dry_run=dry_run)
    visible = [
        m
        for m in report.planned
        if principal.role is Role.admin or m.inspection_id == principal.inspection_id
    ]
    return replace(report, planned=visible)
