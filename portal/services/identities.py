"""Use cases on who people are: registering users, issuing and revoking their tokens, and
finding the person behind a bearer token.

A token is random, shown once and stored only as its sha256 (`token_hash`). Who may
register whom is decided here where it depends on what is asked (which role, which
agency); who reaches each route at all is the authorisation gate's table.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from portal.domain.access import Inspectorate, Principal, Role
from portal.domain.errors import InvalidIdentityToken, Refusal, Refused
from portal.domain.identities import (
    DuplicateUser,
    NotSignedIn,
    TokenInfo,
    User,
    trusted_until,
)
from portal.services.inspections import load_inspection

if TYPE_CHECKING:
    from portal.bootstrap import Container

TOKEN_PREFIX = "jtai_"
"""How every portal token begins; any other bearer token is the identity provider's."""

LEAD_MAY_ADD = (Role.agency_uploader, Role.inspector, Role.records_officer)
"""The roles a lead inspector registers in their inspection (an administrator: any but
admin)."""


class Registration(BaseModel):
    """Who is being registered: their name, role and, where the role has them, agency,
    inspectorate, e-mail address and identity-provider subject."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    name: str
    email: str | None = None
    role: Role
    agency: str | None = None
    inspectorate: Inspectorate | None = None
    oidc_subject: str | None = None


def token_hash(token: str) -> str:
    """The sha256 under which a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def forbidden(detail: str) -> Refused:
    """The refusal for a person acting outside their role or scope."""
    return Refused(Refusal.forbidden, "forbidden", "Not allowed", detail)


# -- finding the person behind a token -----------------------------------------------------


def identify(container: Container, token: str) -> Principal:
    """The principal behind a bearer token; NotSignedIn (saying why) if it names nobody
    the portal serves.

    Portal tokens start with TOKEN_PREFIX and are looked up by their hash; anything else is
    tried as the identity provider's token when one is configured. A portal token found
    usable is trusted without a look-up for `token_cache_seconds` by the portal's clock
    (never past its expiry; a refusal is never remembered): that is how long a revocation
    made through another process takes to reach this one; `revoke_token` forgets it here
    at once.
    """
    if token.startswith(TOKEN_PREFIX) or container.oidc is None:
        principal = _portal_token_principal(container, token_hash(token))
    else:
        principal = _identity_provider_principal(container, token)
    if principal is None:
        raise NotSignedIn(
            "invalid_token",
            "Token not recognised",
            "This token is unknown, expired or revoked. Ask your administrator for a new one.",
        )
    return principal


def _portal_token_principal(container: Container, key: str) -> Principal | None:
    cache = container.token_cache
    now = container.clock.now()
    cached = cache.get(key, now)
    if cached is not None:
        return cached
    generation = cache.generation()
    verified = container.identities.verified_token(key, now)
    if verified is None:
        return None
    seconds = container.settings.token_cache_seconds
    if seconds > 0:
        until = trusted_until(now, seconds, verified.expires_at)
        cache.put(key, verified.principal, now, until, generation)
    return verified.principal


def _identity_provider_principal(container: Container, token: str) -> Principal:
    assert container.oidc is not None
    try:
        claims = container.oidc.verify(token)
    except InvalidIdentityToken as exc:
        raise NotSignedIn(
            "invalid_token",
            "Sign-in not accepted",
            f"Your sign-in token was refused ({exc}). Sign in again.",
        ) from exc
    principal = container.identities.principal_for_subject(
        claims.subject, claims.email, claims.email_verified
    )
    if principal is None:
        raise NotSignedIn(
            "unknown_user",
            "Not registered",
            "You signed in, but the portal has no account for you. Ask the lead inspector "
            "or an administrator to add you.",
        )
    return principal


# -- users ---------------------------------------------------------------------------------


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
    """Record a new user, as given (DuplicateUser if the e-mail or subject is taken)."""
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


def register_user(
    container: Container,
    principal: Principal,
    registration: Registration,
    inspection_id: str | None,
) -> User:
    """Register a person with any role, in an inspection or across all of them: an
    administrator's act. Refused when the principal is no administrator (forbidden), when
    a role that belongs to an inspection has none (`inspection_required`), when the
    inspection does not exist, and as `_register` refuses."""
    if principal.role is not Role.admin:
        raise forbidden("Only an administrator registers people outside an inspection.")
    if registration.role not in (Role.admin, Role.records_officer) and inspection_id is None:
        raise Refused(
            Refusal.invalid,
            "inspection_required",
            "This role belongs to an inspection",
            "Give the inspection_id for lead inspectors, inspectors and agency uploaders.",
        )
    if inspection_id is not None:
        load_inspection(container, inspection_id)
    return _register(container, registration, inspection_id, principal.actor)


def register_in_inspection(
    container: Container, principal: Principal, inspection_id: str, registration: Registration
) -> User:
    """Register a person in this inspection. Nobody registers an administrator here, and a
    lead inspector registers only LEAD_MAY_ADD roles (forbidden otherwise); refused too as
    `_register` refuses."""
    load_inspection(container, inspection_id)
    _may_add(principal, registration.role)
    return _register(container, registration, inspection_id, principal.actor)


def roles_they_may_add(principal: Principal) -> tuple[Role, ...]:
    """The roles `principal` may give a person of an inspection, by registering them or
    issuing them a token (one rule for both): an administrator any but an administrator's,
    a lead inspector LEAD_MAY_ADD."""
    if principal.role is Role.admin:
        return tuple(r for r in Role if r is not Role.admin)
    return LEAD_MAY_ADD


def _may_add(principal: Principal, role: Role) -> None:
    if role is Role.admin:
        raise forbidden("Administrators are not scoped to an inspection.")
    if role not in roles_they_may_add(principal):
        raise forbidden(
            "A lead inspector adds agency uploaders, inspectors and records officers; "
            "ask an administrator to add a lead inspector."
        )


def _register(
    container: Container, registration: Registration, inspection_id: str | None, actor: str
) -> User:
    """Record the person: an agency uploader needs one of the inspection's agencies
    (`unknown_agency`), no other role has one (`agency_not_allowed`), and nobody is
    registered twice (`user_exists`)."""
    role, agency = registration.role, registration.agency
    if role is Role.agency_uploader:
        agencies = load_inspection(container, inspection_id).agencies if inspection_id else ()
        if agency not in agencies:
            raise Refused(
                Refusal.invalid,
                "unknown_agency",
                "Unknown agency",
                "An agency uploader needs one of the inspection's agencies: "
                f"{', '.join(agencies) or 'give an inspection_id first'}.",
            )
    if role is not Role.agency_uploader and agency is not None:
        raise Refused(
            Refusal.invalid,
            "agency_not_allowed",
            "Only agency uploaders have an agency",
            "Leave out agency for this role.",
        )
    try:
        return new_user(
            container,
            role,
            registration.name.strip(),
            inspection_id=inspection_id,
            agency=agency,
            email=registration.email,
            inspectorate=registration.inspectorate,
            oidc_subject=registration.oidc_subject,
            actor=actor,
        )
    except DuplicateUser as exc:
        raise Refused(
            Refusal.conflict,
            "user_exists",
            "Already registered",
            "Someone with this e-mail address or sign-in is already registered; issue them "
            "a token instead.",
        ) from exc


def users_of(container: Container, inspection_id: str) -> list[User]:
    """Everyone registered in this inspection, oldest first (not_found if there is no such
    inspection)."""
    load_inspection(container, inspection_id)
    return container.identities.users_of(inspection_id)


def find_user(container: Container, user_id: str) -> User:
    """The user with this id; Refused (not_found, `user_not_found`) if none."""
    user = container.identities.get_user(user_id)
    if user is None:
        raise Refused(
            Refusal.not_found, "user_not_found", "No such user", f"There is no user {user_id}."
        )
    return user


# -- tokens --------------------------------------------------------------------------------


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
    """A new user with one token: its principal and the token (shown once, never stored).
    DuplicateUser if the e-mail is taken."""
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
    return user.principal(info.id), token


def issue_inspection_token(
    container: Container,
    principal: Principal,
    inspection_id: str,
    role: Role,
    *,
    agency: str | None = None,
    label: str = "",
    email: str | None = None,
    inspectorate: Inspectorate | None = None,
) -> tuple[Principal, str]:
    """A new person of this inspection with one token (an uploader's scoped to one of its
    agencies): their principal and the token, shown once. Refused (not_found) for no such
    inspection, (forbidden) for a role `roles_they_may_add` does not give them, (invalid,
    `unknown_agency`) for an uploader without one of its agencies, (conflict,
    `user_exists`) for an e-mail already taken."""
    inspection = load_inspection(container, inspection_id)
    _may_add(principal, role)
    if role is Role.agency_uploader and agency not in inspection.agencies:
        raise Refused(
            Refusal.invalid,
            "unknown_agency",
            "Unknown agency",
            f"An uploader token needs one of this inspection's agencies: "
            f"{', '.join(inspection.agencies)}.",
        )
    try:
        return issue_token(
            container,
            role,
            inspection_id=inspection_id,
            agency=agency if role is Role.agency_uploader else None,
            label=label,
            actor=principal.actor,
            email=email,
            inspectorate=inspectorate,
        )
    except DuplicateUser as exc:
        raise Refused(
            Refusal.conflict,
            "user_exists",
            "Already registered",
            "Someone with this e-mail address is already registered; issue them a token "
            "through POST /v1/users/{user_id}/tokens instead.",
        ) from exc


def issue_token_for(
    container: Container, principal: Principal, user_id: str, *, label: str, expires_in_days: int
) -> tuple[TokenInfo, str]:
    """A new token for this person, expiring after `expires_in_days` (at most the
    deployment's token lifetime): its record and the token, shown once. Refused when there
    is no such user (`user_not_found`) or they are disabled (`user_disabled`)."""
    user = find_user(container, user_id)
    if user.disabled_at is not None:
        raise Refused(
            Refusal.conflict, "user_disabled", "Disabled", "This person can no longer sign in."
        )
    expires = container.clock.now() + timedelta(days=expires_in_days)
    return issue_user_token(container, user, label=label, expires_at=expires, actor=principal.actor)


def tokens_of(container: Container, user_id: str) -> list[TokenInfo]:
    """A person's tokens (never their secrets), newest first; not_found if no such user."""
    find_user(container, user_id)
    return container.identities.tokens_of(user_id)


def revoke_token(container: Container, principal: Principal, token_id: str) -> TokenInfo:
    """Revoke a token at once (revoking twice changes nothing): refused from now on by this
    process, and by every other within `token_cache_seconds`. Refused (not_found,
    `token_not_found`) if there is no such token."""
    info = container.identities.revoke_token(token_id, principal.actor, container.clock.now())
    container.token_cache.forget(token_id)
    if info is None:
        raise Refused(
            Refusal.not_found, "token_not_found", "No such token", f"There is no token {token_id}."
        )
    return info
