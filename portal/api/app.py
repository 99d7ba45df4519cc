"""The FastAPI application."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, FastAPI

from portal.api import (
    audit,
    chase,
    documents,
    health,
    inspections,
    names,
    retention,
    selections,
    users,
)
from portal.api.authz import RateLimits, gate
from portal.api.problems import (
    GATED_STATUSES,
    RequestHeaderCap,
    document_problems,
    problem_responses,
    register_problem_handlers,
)
from portal.api.uploads import UploadSlots
from portal.bootstrap import Container
from portal.web import install as install_web_assets
from portal.web import router as web_router


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
    app.state.rate_limits = RateLimits(
        container.settings.rate_limit, container.settings.rate_limit_unauthenticated
    )
    app.state.upload_slots = UploadSlots(
        container.settings.uploads_per_token, container.settings.uploads_concurrent
    )
    app.add_middleware(RequestHeaderCap, max_bytes=container.settings.max_request_header_bytes)
    register_problem_handlers(app)
    document_problems(app)
    # Every error is problem+json; each route declares its own (e.g. 409) besides these.
    # The authorisation gate guards every API route (health's are public in its table);
    # other routers (e.g. web pages with their own sessions) are not bearer-token routes.
    app.include_router(
        health.router, responses=problem_responses(500), dependencies=[Depends(gate)]
    )
    gated = problem_responses(*GATED_STATUSES)
    for router in (
        inspections.router,
        selections.router,
        documents.router,
        chase.router,
        retention.router,
        names.router,
        users.router,
        audit.router,
    ):
        app.include_router(router, responses=gated, dependencies=[Depends(gate)])
    # Web pages: their own signed sessions, each page authorised like the API route it mirrors.
    app.include_router(web_router)
    install_web_assets(app)
    return app
