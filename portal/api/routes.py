"""The API's routes: every /v1 router behind the authorisation gate, and health."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from portal.api import (
    after_fieldwork,
    audit,
    chase,
    concerns,
    documents,
    extra_items,
    health,
    inspections,
    names,
    retention,
    scanner,
    selections,
    users,
)
from portal.api.authz import gate
from portal.http.problems import GATED_STATUSES, document_problems, problem_responses


def include_api(app: FastAPI) -> None:
    """Add every API route to `app`, each behind the authorisation gate, with its
    problems in the OpenAPI document."""
    document_problems(app)
    # Every error is problem+json; each route declares its own (e.g. 409) besides these.
    # The authorisation gate guards every API route (health's are public in its table).
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
        scanner.router,
        after_fieldwork.router,
        extra_items.router,
        concerns.router,
    ):
        app.include_router(router, responses=gated, dependencies=[Depends(gate)])
