"""Who is calling: per-user API tokens (random, stored hashed, expiring, revocable) and,
when an identity provider is configured, its signed bearer tokens (OIDC, PyJWT)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request

from portal.adapters.db.identities import TokenInfo, User
from portal.bootstrap import Container
from portal.domain.access import Inspectorate, Principal, Role, in_inspection
from portal.domain.errors import InvalidIdentityToken
from portal.http.problems import Problem

TOKEN_PREFIX = "jtai_"


def token_hash(token: str) -> str:
    """The sha256 under which a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_user(
    container: Container,
    role: Role,
    name: str,
    *,
    inspection_id: str | None = None,
    agency: str | None = None,
    email: str | None = None,
    inspectorate: Inspectorate | None = None,
    oidc_subject: str | None = None,
    actor: str = "system",
) -> User:
    """Record a new user (DuplicateUser if the e-mail or subject is taken)."""
    user = User(
        id=uuid.uuid4().hex,
        email=email,
        name=name,
        role=role,
        inspection_id=inspection_id,
        agency=agency,
        inspectorate=inspectorate,
        oidc_subject=oidc_subject,
        created_at=container.clock.now(),
    )
    return container.identities.add_user(user, actor)


def issue_user_token(
    container: Container,
    user: User,
    *,
    label: str = "",
    expires_at: datetime | None = None,
    actor: str = "system",
) -> tuple[TokenInfo, str]:
    """A new token for `user`, expiring at `expires_at` (at most the configured lifetime);
    returns its record and the token itself (shown once, never stored)."""
    now = container.clock.now()
    longest = now + timedelta(days=container.settings.token_lifetime_days)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    info = container.identities.add_token(
        user,
        uuid.uuid4().hex[:12],
        token_hash(token),
        label,
        min(expires_at or longest, longest),
        actor,
        now,
    )
    return info, token


def issue_token(
    container: Container,
    role: Role,
    *,
    inspection_id: str | None = None,
    agency: str | None = None,
    label: str = "",
    actor: str = "system",
    email: str | None = None,
    inspectorate: Inspectorate | None = None,
) -> tuple[Principal, str]:
    """A new user with one token: its principal and the token (shown once, never stored)."""
    user = new_user(
        container,
        role,
        label or role.value,
        inspection_id=inspection_id,
        agency=agency,
        email=email,
        inspectorate=inspectorate,
        actor=actor,
    )
    info, token = issue_user_token(container, user, label=label, actor=actor)
    principal = Principal(
        token_id=info.id,
        role=role,
        inspection_id=inspection_id,
        agency=agency,
        user_id=user.id,
        inspectorate=inspectorate,
    )
    return principal, token


def container_of(request: Request) -> Container:
    """The application's wired container."""
    container: Container = request.app.state.container
    return container


def authenticate(request: Request, container: Container) -> Principal:
    """The principal behind the request's bearer token; 401 problem if there is none.

    Portal tokens start with `jtai_`; anything else is tried as the identity provider's
    token when one is configured.
    """
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
    if token.startswith(TOKEN_PREFIX) or container.oidc is None:
        principal = container.identities.principal_for_token(
            token_hash(token), container.clock.now()
        )
    else:
        principal = _identity_provider_principal(container, token)
    if principal is None:
        raise Problem(
            401,
            "invalid_token",
            "Token not recognised",
            "This token is unknown, expired or revoked. Ask your administrator for a new one.",
        )
    return principal


def _identity_provider_principal(container: Container, token: str) -> Principal | None:
    assert container.oidc is not None
    try:
        claims = container.oidc.verify(token)
    except InvalidIdentityToken as exc:
        raise Problem(
            401,
            "invalid_token",
            "Sign-in not accepted",
            f"Your sign-in token was refused ({exc}). Sign in again.",
        ) from exc
    principal = container.identities.principal_for_subject(
        claims.subject, claims.email, claims.email_verified
    )
    if principal is None:
        raise Problem(
            401,
            "unknown_user",
            "Not registered",
            "You signed in, but the portal has no account for you. Ask the lead inspector "
            "or an administrator to add you.",
        )
    return principal


def current_principal(
    request: Request, container: Annotated[Container, Depends(container_of)]
) -> Principal:
    """The principal the authorisation gate found (authenticating again if it did not)."""
    found = getattr(request.state, "principal", None)
    if isinstance(found, Principal):
        return found
    return authenticate(request, container)


def require_in_inspection(principal: Principal, inspection_id: str) -> None:
    """403 problem unless the token reaches this inspection."""
    if not in_inspection(principal, inspection_id):
        raise forbidden("Your token is for a different inspection.")


def forbidden(detail: str) -> Problem:
    """The problem for an authenticated principal acting outside its role or scope."""
    return Problem(403, "forbidden", "Not allowed", detail)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
ContainerDep = Annotated[Container, Depends(container_of)]
