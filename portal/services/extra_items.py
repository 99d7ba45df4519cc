"""Use cases on the items the lead inspector asks of one agency in one inspection, beyond
its theme's own (portal/domain/extra_items.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from portal.domain.access import Inspection, Principal, Role
from portal.domain.errors import Refusal, Refused
from portal.domain.extra_items import ExtraItem, ExtraItemRequest, ExtraKind
from portal.services.inspections import load_inspection

if TYPE_CHECKING:
    from portal.bootstrap import Container


def add_extra_item(
    container: Container, principal: Principal, inspection_id: str, asked: ExtraItemRequest
) -> ExtraItem:
    """The new item, stored with who added it and when (and an audit event without its
    title). From then on it is on the agency's checklist with its own deadline, counted in
    completeness and chased. Refused not_found if there is no such inspection, invalid
    (`agency_not_in_inspection`) if the agency is not one of the inspection's,
    (`raise_as_concern`) for an issue of concern (raised with its form instead), conflict
    (`no_timeline`) while the inspection has no deadlines to chase it with."""
    inspection = load_inspection(container, inspection_id)
    if asked.kind is ExtraKind.issue_of_concern:
        raise Refused(
            Refusal.invalid,
            "raise_as_concern",
            "Raise an issue of concern with its form",
            "An issue of concern is raised with the Annex C form: POST "
            f"/v1/inspections/{inspection.id}/concerns.",
        )
    check_owed(container, inspection, asked.agency)
    extra = ExtraItem(
        id=uuid.uuid4().hex[:12],
        inspection_id=inspection.id,
        agency=asked.agency,
        kind=asked.kind,
        title=asked.title.strip(),
        due=asked.due,
        added_by=principal.actor,
        added_at=container.clock.now(),
    )
    container.repository.add_extra_item(extra)
    return extra


def check_owed(container: Container, inspection: Inspection, agency: str) -> None:
    """Refused unless `agency` can owe the inspection an item of its own: invalid
    (`agency_not_in_inspection`) if it is not one of the inspection's agencies, conflict
    (`no_timeline`) while the inspection has no deadlines to chase it with."""
    if agency not in inspection.agencies:
        raise Refused(
            Refusal.invalid,
            "agency_not_in_inspection",
            "That agency is not in this inspection",
            f"Choose one of the inspection's agencies: {', '.join(inspection.agencies)}.",
        )
    if container.schedule(inspection) is None:
        raise Refused(
            Refusal.conflict,
            "no_timeline",
            "No timeline yet",
            "Set the inspection's days first: an item is chased against the inspection's "
            "timeline, and this inspection has none yet.",
        )


def extra_items_of(
    container: Container, principal: Principal, inspection_id: str
) -> list[ExtraItem]:
    """The inspection's own items in the order they were added: every agency's for
    inspection staff, its own agency's for an uploader. Refused not_found if there is no
    such inspection."""
    inspection = load_inspection(container, inspection_id)
    extras = container.repository.extra_items(inspection.id)
    if principal.role is Role.agency_uploader:
        return [e for e in extras if e.agency == principal.agency]
    return extras
