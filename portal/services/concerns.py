"""Use cases on issues of concern (portal/domain/concerns.py): an inspector raises one with
an agency, the agency's written response is uploaded into the concern's own item, the
inspectors share their evaluation of it, and the lead inspector and the agency sign the
form off. The form's text never goes into logs or audit events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from portal.domain.access import Inspection, Principal, Role
from portal.domain.concerns import (
    ALREADY_SIGNED,
    Concern,
    ConcernRequest,
    ConcernStage,
    ConcernState,
    EvaluationRequest,
    SignOffRequest,
    case_numbers_of,
    check_evaluation,
    check_required_by,
    check_sign_off,
    concern_state,
    response_item,
)
from portal.domain.documents import DocumentStatus
from portal.domain.errors import Refusal, Refused
from portal.services.extra_items import check_owed
from portal.services.inspections import load_inspection

if TYPE_CHECKING:
    from portal.bootstrap import Container


def raise_concern(
    container: Container, principal: Principal, inspection_id: str, asked: ConcernRequest
) -> ConcernState:
    """The new concern, referred by `principal` now, stored with the item its written
    response is uploaded into ("Issue of concern <ref>: written response", due by the time
    on the form): from then on that item is on the agency's checklist, counted in
    completeness and chased. Refused not_found if there is no such inspection; invalid
    (`agency_not_in_inspection`, `required_by_in_past`); conflict (`no_timeline`)."""
    inspection = load_inspection(container, inspection_id)
    check_owed(container, inspection, asked.agency)
    now = container.clock.now()
    check_required_by(asked.required_by, now)
    concern = Concern(
        id=uuid.uuid4().hex[:12],
        inspection_id=inspection.id,
        agency=asked.agency,
        case_numbers=case_numbers_of(asked.case_numbers),
        category=asked.category,
        service=asked.service,
        issues=asked.issues,
        referred_by=principal.actor,
        referred_at=now,
    )
    container.concerns.add_concern(concern, response_item(concern, asked.required_by))
    return _state(container, inspection, concern)


def concerns_of(
    container: Container, principal: Principal, inspection_id: str
) -> list[ConcernState]:
    """The inspection's concerns in the order raised, each with its stage: every agency's
    for inspectors, its own agency's for an uploader. Refused not_found if there is no
    such inspection."""
    inspection = load_inspection(container, inspection_id)
    dues = _dues(container, inspection)
    return [
        _state(container, inspection, concern, dues)
        for concern in container.concerns.concerns(inspection.id)
        if _may_see(principal, concern)
    ]


def concern_counts(container: Container, inspection: Inspection) -> tuple[int, int, int]:
    """(raised, still open, overdue) for the inspection's concerns as of now: counts only,
    for the lead's overview."""
    dues = _dues(container, inspection)
    states = [
        _state(container, inspection, c, dues) for c in container.concerns.concerns(inspection.id)
    ]
    still_open = [s for s in states if s.stage is not ConcernStage.completed]
    return len(states), len(still_open), sum(1 for s in states if s.overdue)


def concern_of(
    container: Container, principal: Principal, inspection_id: str, concern_id: str
) -> ConcernState:
    """One concern with its stage. Refused not_found (`concern_not_found`) if there is no
    such concern in the inspection, or it is another agency's and `principal` an uploader."""
    inspection = load_inspection(container, inspection_id)
    return _state(container, inspection, _concern(container, principal, inspection, concern_id))


def record_evaluation(
    container: Container,
    principal: Principal,
    inspection_id: str,
    concern_id: str,
    given: EvaluationRequest,
) -> ConcernState:
    """Record (or, until the form is signed, replace) the inspectors' evaluation of the
    accepted response: the agency sees it from then on. Refused as `check_evaluation`
    says, and not_found as `concern_of`."""
    inspection = load_inspection(container, inspection_id)
    concern = _concern(container, principal, inspection, concern_id)
    check_evaluation(_state(container, inspection, concern), principal)
    recorded = container.concerns.record_evaluation(
        inspection.id, concern.id, given.evaluation, principal.actor, container.clock.now()
    )
    if not recorded:
        raise _signed_meanwhile()
    return concern_of(container, principal, inspection.id, concern.id)


def sign_off(
    container: Container,
    principal: Principal,
    inspection_id: str,
    concern_id: str,
    given: SignOffRequest,
) -> ConcernState:
    """Sign the form: the lead inspector for the inspectors, an uploader of the concern's
    agency for its chief officer (by name); completed once both have. Refused as
    `check_sign_off` says, and not_found as `concern_of`."""
    inspection = load_inspection(container, inspection_id)
    concern = _concern(container, principal, inspection, concern_id)
    signatory = check_sign_off(
        _state(container, inspection, concern), principal, given.chief_officer
    )
    signed = container.concerns.sign_concern(
        inspection.id,
        concern.id,
        signatory,
        principal.actor,
        given.chief_officer,
        container.clock.now(),
    )
    if not signed:
        raise _signed_meanwhile()
    return concern_of(container, principal, inspection.id, concern.id)


def _may_see(principal: Principal, concern: Concern) -> bool:
    return principal.role is not Role.agency_uploader or principal.agency == concern.agency


def _concern(
    container: Container, principal: Principal, inspection: Inspection, concern_id: str
) -> Concern:
    concern = container.concerns.get_concern(inspection.id, concern_id)
    if concern is None or not _may_see(principal, concern):
        raise Refused(
            Refusal.not_found,
            "concern_not_found",
            "No such issue of concern",
            f"There is no issue of concern {concern_id} in this inspection.",
        )
    return concern


def _state(
    container: Container,
    inspection: Inspection,
    concern: Concern,
    dues: dict[str, datetime] | None = None,
) -> ConcernState:
    """The concern as it stands now: its response due when its item's deadline is, and
    the accepted uploads of its response."""
    due = (dues if dues is not None else _dues(container, inspection))[concern.deadline_key]
    responses = [
        document.id
        for document in container.repository.uploads_for_item(
            inspection.id, concern.agency, concern.item
        )
        if document.status is DocumentStatus.accepted
    ]
    return concern_state(concern, due, responses, container.clock.now())


def _dues(container: Container, inspection: Inspection) -> dict[str, datetime]:
    """Each item's deadline key -> its due time, as the lead may have moved it."""
    dues = {e.deadline_key: e.due for e in container.repository.extra_items(inspection.id)}
    schedule = container.schedule(inspection)
    return dues | (schedule.due_times() if schedule else {})


def _signed_meanwhile() -> Refused:
    return Refused(
        Refusal.conflict,
        ALREADY_SIGNED,
        "Already signed",
        "Someone signed the form at the same moment: reload it to see its final version.",
    )
