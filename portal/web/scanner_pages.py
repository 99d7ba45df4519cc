"""The administrator's Scanner page: clamd's engine and signatures, their date and age,
and a plain warning when they are not fit for real documents (stale, or only the portal's
local test signatures). It mirrors GET /v1/scanner (Permission.administer) and calls the
same use case, `scanner_status`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from portal.domain.authorization import Permission, Target
from portal.services.signatures import scanner_status
from portal.web import scanner_views, views
from portal.web.pages import WebRoute, container_of, decide, render, signed_in

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/scanner")
def scanner(request: Request) -> Response:
    """clamd's engine and signatures as it reports them now, judged."""
    person = signed_in(request)
    decide(request, person.principal, Permission.administer, Target())
    container = container_of(request)
    return render(
        request,
        "scanner.html",
        person.page,
        title="Scanner",
        view=scanner_views.scanner_view(scanner_status(container)),
        as_of=views.when_words(container.clock.now()),
    )
