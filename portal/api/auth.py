"""Bearer tokens: issue them (only their hash is stored) and resolve a request's principal."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Annotated

from fastapi import Depends, Request

from portal.api.problems import Problem
from portal.bootstrap import Container, utc_now
from portal.domain.access import Principal, Role, in_inspection

TOKEN_PREFIX = "jtai_"


def token_hash(token: str) -> str:
    """The sha256 under which a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    container: Container,
    role: Role,
    *,
    inspection_id: str | None = None,
    agency: str | None = None,
    label: str = "",
    actor: str = "system",
) -> tuple[Principal, str]:
    """Create a token; return its principal and the token itself (shown once, never stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    principal = Principal(
        token_id=uuid.uuid4().hex[:12], role=role, inspection_id=inspection_id, agency=agency
    )
    container.repository.add_token(principal, token_hash(token), label, utc_now(), actor)
    return principal, token


def container_of(request: Request) -> Container:
    """The application's wired container."""
    container: Container = request.app.state.container
    return container


def current_principal(
    request: Request, container: Annotated[Container, Depends(container_of)]
) -> Principal:
    """The principal behind the request's bearer token; 401 problem if there is none."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(
            401,
            "unauthenticated",
            "Sign-in needed",
            "Send your portal token as 'Authorization: Bearer <token>'.",
        )
    principal = container.repository.principal_for_token(token_hash(token.strip()))
    if principal is None:
        raise Problem(
            401,
            "invalid_token",
            "Token not recognised",
            "This token is unknown or has been revoked. Ask your administrator for a new one.",
        )
    return principal


def require_in_inspection(principal: Principal, inspection_id: str) -> None:
    """403 problem unless the token reaches this inspection."""
    if not in_inspection(principal, inspection_id):
        raise forbidden("Your token is for a different inspection.")


def forbidden(detail: str) -> Problem:
    """The problem for an authenticated principal acting outside its role or scope."""
    return Problem(403, "forbidden", "Not allowed", detail)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
ContainerDep = Annotated[Container, Depends(container_of)]
