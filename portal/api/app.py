"""The FastAPI application."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from portal.api import chase, documents, health, inspections, names, retention, selections
from portal.api.problems import register_problem_handlers
from portal.bootstrap import Container


def create_app(container: Container, wake_dispatcher: Callable[[], None] | None = None) -> FastAPI:
    """The API over a wired container; `wake_dispatcher` is called after each upload."""
    app = FastAPI(
        title="JTAI evidence portal",
        version="1",
        description="Agencies upload Annex A documents for a joint targeted area inspection; "
        "inspectors read what was accepted. Errors are RFC 9457 problem+json with a stable "
        "`code`.",
    )
    app.state.container = container
    app.state.wake_dispatcher = wake_dispatcher
    register_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(inspections.router)
    app.include_router(selections.router)
    app.include_router(documents.router)
    app.include_router(chase.router)
    app.include_router(retention.router)
    app.include_router(names.router)
    return app
