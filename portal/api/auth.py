"""Who is calling: the bearer token of each request, looked up by the identities use case
(per-user API tokens, or the identity provider's signed tokens when one is configured)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from portal.bootstrap import Container
from portal.domain.access import Principal
from portal.domain.identities import NotSignedIn
from portal.http.problems import Problem
from portal.services.identities import identify


def container_of(request: Request) -> Container:
    """The application's wired container."""
    container: Container = request.app.state.container
    return container


def authenticate(request: Request, container: Container) -> Principal:
    """The principal behind the request's bearer token; 401 problem if there is none or it
    names nobody (`unauthenticated`, `invalid_token`, `unknown_user`)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Problem(
            401,
            "unauthenticated",
            "Sign-in needed",
            "Send your portal token as 'Authorization: Bearer <token>'.",
        )
    try:
        return identify(container, token)
    except NotSignedIn as exc:
        raise Problem(401, exc.code, exc.title, exc.detail) from exc


def current_principal(
    request: Request, container: Annotated[Container, Depends(container_of)]
) -> Principal:
    """The principal the authorisation gate found (authenticating again if it did not)."""
    found = getattr(request.state, "principal", None)
    if isinstance(found, Principal):
        return found
    return authenticate(request, container)


def forbidden(detail: str) -> Problem:
    """The problem for an authenticated principal acting outside its role or scope."""
    return Problem(403, "forbidden", "Not allowed", detail)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
ContainerDep = Annotated[Container, Depends(container_of)]
