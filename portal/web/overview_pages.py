"""The pages that find an inspection and show what to do in it: the list of inspections
(an administrator's start page) and an inspection's overview, "Your inspection" (the lead
inspector's start page), which lists the lead's tasks in the order of the inspection.

The list mirrors GET /v1/inspections (Permission.view_inspection; the use case
`inspections_seen_by` keeps what each person may see); the overview needs
Permission.manage_inspection, and shows only the tasks whose pages its reader may open.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from portal.domain.access import Principal
from portal.domain.authorization import Permission, Target, authorize
from portal.services.inspections import inspections_seen_by
from portal.services.progress import progress_of
from portal.web import overview_views
from portal.web.pages import (
    WebRoute,
    container_of,
    decide,
    inspection_or_404,
    inspection_target,
    render,
    signed_in,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _allowed(principal: Principal, target: Target) -> frozenset[Permission]:
    """What `principal` may do to `target`, to offer only the links they may follow (each
    page decides again, and audits a refusal)."""
    return frozenset(p for p in Permission if authorize(principal, p, target).allowed)


@router.get("/inspections")
def inspections_page(request: Request) -> Response:
    """Every inspection the person may see, newest first, with its days and state and a
    link to each page of it they may use (the page of GET /v1/inspections), and the way to
    create one for those who may."""
    person = signed_in(request)
    decide(request, person.principal, Permission.view_inspection, Target())
    container = container_of(request)
    rows = []
    for inspection in inspections_seen_by(container, person.principal):
        notification = inspection.notification_date
        if notification is None:
            schedule = container.schedule(inspection)
            notification = schedule.notification if schedule else None
        allowed = _allowed(person.principal, inspection_target(inspection.id))
        rows.append(
            overview_views.inspection_row(inspection, container.themes, notification, allowed)
        )
    return render(
        request,
        "inspections.html",
        person.page,
        title="Inspections",
        rows=rows,
        may_create=authorize(person.principal, Permission.create_inspection, Target()).allowed,
    )


@router.get("/inspections/{inspection_id}")
def overview_page(inspection_id: str, request: Request) -> Response:
    """The lead's tasks in the order of the inspection, each linking to its page with how
    far it has got, and the pages that follow the inspection as it goes."""
    person = signed_in(request)
    target = inspection_target(inspection_id)
    decide(request, person.principal, Permission.manage_inspection, target)
    container = container_of(request)
    inspection_or_404(container, inspection_id)
    progress = progress_of(container, inspection_id)
    allowed = _allowed(person.principal, target)
    theme = container.themes[progress.inspection.theme_key]
    return render(
        request,
        "overview.html",
        person.page,
        title="Your inspection",
        inspection=progress.inspection,
        theme=theme.title,
        state=overview_views.STATE_TAGS[progress.inspection.state],
        groups=overview_views.lead_tasks(progress, allowed),
        tracking=overview_views.tracking_links(inspection_id, allowed),
    )
