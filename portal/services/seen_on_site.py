"""Use cases on case records to be seen on site, not sent: the lead marks a slot, the
agency confirms where and when inspectors will see it, an inspector records that it was
seen. The arrangement's text never goes into logs or the audit chain."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from portal.domain.access import Inspection, Principal, Role
from portal.domain.errors import Refusal, Refused
from portal.domain.seen_on_site import (
    SEEN_ON_SITE_ONLY,
    SEEN_ON_SITE_ONLY_DETAIL,
    decide_arrangement,
)
from portal.domain.selection import CaseRecordSlot
from portal.services.inspections import load_inspection
from portal.services.selections import slots_of

if TYPE_CHECKING:
    from portal.bootstrap import Container


def mark_seen_on_site(
    container: Container, principal: Principal, inspection_id: str, agency: str, child_id: str
) -> CaseRecordSlot:
    """Mark one slot (an audited child's case records from one agency) to be seen on site
    for this inspection; the slot as it now is. Refused not_found (`no_such_slot`) if the
    audit list and theme make no such slot."""
    inspection = load_inspection(container, inspection_id)
    _slot(container, inspection, agency, child_id)
    container.repository.mark_on_site(
        inspection.id, child_id, agency, principal.actor, container.clock.now()
    )
    return _slot(container, inspection, agency, child_id)


def confirm_arrangement(
    container: Container,
    principal: Principal,
    inspection_id: str,
    agency: str,
    child_id: str,
    where: str,
    day: date,
) -> CaseRecordSlot:
    """Record where and how (short text, no names) and on which day of fieldwork the
    inspectors will see one slot's records; the slot as it now is. Refused: forbidden
    (`not_your_agency`) for another agency's slot, not_found (`no_such_slot`), conflict
    (`not_seen_on_site`) for a slot whose records are to be uploaded, invalid (the
    `ArrangementProblem`) for an empty or long text or a day outside fieldwork."""
    inspection = load_inspection(container, inspection_id)
    if principal.role is Role.agency_uploader and principal.agency != agency:
        raise Refused(
            Refusal.forbidden,
            "not_your_agency",
            "Not your agency's records",
            "You can confirm arrangements only for your own agency's case records.",
        )
    slot = _slot(container, inspection, agency, child_id)
    if slot.seen_on_site is None:
        raise Refused(
            Refusal.conflict,
            "not_seen_on_site",
            "These records are to be uploaded",
            "These case records are not to be seen on site: upload them from your "
            "checklist page instead.",
        )
    problem = decide_arrangement(where, day, container.fieldwork(inspection))
    if problem is not None:
        code, detail = problem
        raise Refused(Refusal.invalid, code.value, "The arrangement cannot be recorded", detail)
    container.repository.confirm_arrangement(
        inspection.id, child_id, agency, where.strip(), day, principal.actor, container.clock.now()
    )
    return _slot(container, inspection, agency, child_id)


def record_seen(
    container: Container, principal: Principal, inspection_id: str, agency: str, child_id: str
) -> CaseRecordSlot:
    """Record that `principal` (an inspector of the inspection, or its lead) saw one
    slot's records on site now; the slot as it now is. Refused not_found
    (`no_such_slot`), conflict (`not_seen_on_site`) for records to be uploaded."""
    inspection = load_inspection(container, inspection_id)
    slot = _slot(container, inspection, agency, child_id)
    if slot.seen_on_site is None:
        raise Refused(
            Refusal.conflict,
            "not_seen_on_site",
            "These records are uploaded, not seen on site",
            "Only case records marked to be seen on site are recorded as seen.",
        )
    container.repository.record_seen_on_site(
        inspection.id, child_id, agency, principal.actor, container.clock.now()
    )
    return _slot(container, inspection, agency, child_id)


def refuse_upload_if_seen_on_site(
    container: Container, inspection: Inspection, agency: str, child_id: str
) -> None:
    """Refuse at once (conflict, `seen_on_site_only`) an upload of case records into a
    slot whose records are to be seen on site, saying what to do instead."""
    slot = next(
        (
            s
            for s in slots_of(container, inspection)
            if s.agency == agency and s.child_id == child_id
        ),
        None,
    )
    if slot is not None and slot.seen_on_site is not None:
        raise Refused(
            Refusal.conflict,
            SEEN_ON_SITE_ONLY,
            "These records are to be seen on site, not uploaded",
            SEEN_ON_SITE_ONLY_DETAIL.format(child_id=child_id),
        )


def _slot(
    container: Container, inspection: Inspection, agency: str, child_id: str
) -> CaseRecordSlot:
    for slot in slots_of(container, inspection):
        if slot.agency == agency and slot.child_id == child_id:
            return slot
    raise Refused(
        Refusal.not_found,
        "no_such_slot",
        "No such case records",
        f"The audit list asks no case records of child {child_id} from {agency}: check "
        "the child's ID and the agency against the children to audit.",
    )
