"""Web pages for agencies and inspectors: server-rendered, GOV.UK Design System markup,
sessions signed in by portal token. `router` holds every audience's pages (and the upload
pages' resumable uploads); `install` serves their assets."""

from fastapi import APIRouter, FastAPI

from portal.web import (
    concern_pages,
    inspector_pages,
    lead_pages,
    names_pages,
    onsite_pages,
    overview_pages,
    pages,
    records_pages,
    resumable,
    scanner_pages,
    setup_pages,
)
from portal.web.pages import install

router = APIRouter(include_in_schema=False)
for _audience in (
    pages,
    resumable,
    lead_pages,
    inspector_pages,
    records_pages,
    scanner_pages,
    setup_pages,
    onsite_pages,
    concern_pages,
    names_pages,
    overview_pages,  # after setup_pages: its /inspections/{id} must not take /inspections/new
):
    router.include_router(_audience.router)


def include_web(app: FastAPI) -> None:
    """Add every page (and the pages' resumable uploads) to `app`, and serve their assets."""
    app.include_router(router)
    install(app)


__all__ = ["include_web", "install", "router"]
