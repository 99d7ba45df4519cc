"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from portal.api.auth import ContainerDep
from portal.api.schemas import ReadyOut, SignaturesOut
from portal.domain.errors import TransientError
from portal.http.problems import problem_responses
from portal.services.signatures import scanner_status

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=None,
    responses={
        200: {
            "model": ReadyOut,
            "description": "Every dependency answers: `ready`, or `degraded` when clamd's "
            "signatures are stale or not official (the portal still takes and scans uploads).",
        },
        # 503 problem (`not_ready`) with the same `checks`.
        **problem_responses(503),
    },
)
def readyz(container: ContainerDep) -> JSONResponse:
    """Every dependency answers now: clamd, the object store, the database and Prefect;
    and how fit clamd's signatures are. Stale or unofficial signatures answer 200 with
    status `degraded`: the portal still works, and taking it out of service would stop
    uploads before a deadline while every file is still scanned (README, "Signatures")."""
    scanner = scanner_status(container)
    checks: dict[str, dict[str, Any]] = {
        "clamd": {"ok": True} if scanner.answers else {"ok": False, "error": scanner.error},
        "store": _probe(container.store.check),
        "database": _probe(container.repository.check),
        "prefect": _probe(lambda: _check_prefect(container.settings.prefect_api_url)),
    }
    ready = all(c["ok"] for c in checks.values())
    state = scanner.state
    signatures = SignaturesOut.of(state).model_dump(mode="json") if state else None
    if ready:
        status = "degraded" if state is not None and state.degraded else "ready"
        return JSONResponse({"status": status, "checks": checks, "signatures": signatures})
    failing = ", ".join(name for name, c in checks.items() if not c["ok"])
    return JSONResponse(
        {
            "type": "https://jtai-portal.example/problems/not_ready",
            "title": "The portal is not ready",
            "status": 503,
            "detail": f"These dependencies do not answer: {failing}.",
            "instance": "/readyz",
            "code": "not_ready",
            "checks": checks,
            "signatures": signatures,
        },
        status_code=503,
        media_type="application/problem+json",
    )


def _probe(check: Any) -> dict[str, Any]:
    try:
        check()
    except (TransientError, OSError, httpx.HTTPError, RuntimeError) as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True}


def _check_prefect(api_url: str | None) -> None:
    if not api_url:
        raise RuntimeError("no Prefect API URL is configured (JTAI_PREFECT_API_URL)")
    response = httpx.get(api_url.rstrip("/") + "/health", timeout=3.0)
    response.raise_for_status()
