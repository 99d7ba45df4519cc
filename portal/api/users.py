"""People and their tokens: who they are, what role they have, and the tokens they use.

The gate (portal/api/authz.py) decides who reaches each route; the rules here are the ones
that depend on the request body (which roles a lead inspector may give).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter

from portal.adapters.db.identities import DuplicateUser, TokenInfo, User
from portal.api.auth import ContainerDep, PrincipalDep, forbidden, issue_user_token
from portal.api.schemas import (
    MeOut,
    NewTokenIn,
    NewTokenOut,
    PortalUserIn,
    TokenInfoOut,
    UserIn,
    UserOut,
)
from portal.bootstrap import Container
from portal.domain.access import Role
from portal.http.problems import Problem, problem_responses
from portal.services.inspections import load_inspection

router = APIRouter(tags=["users"])

LEAD_MAY_ADD = (Role.agency_uploader, Role.inspector, Role.records_officer)


def _user_out(user: User) -> UserOut:
    return UserOut(**user.model_dump(exclude={"oidc_subject"}))


def _token_out(info: TokenInfo) -> TokenInfoOut:
    return TokenInfoOut(**info.model_dump(exclude={"user_id"}))


def _create(container: Container, body: UserIn, inspection_id: str | None, actor: str) -> User:
    if body.role is Role.agency_uploader:
        agencies = load_inspection(container, inspection_id).agencies if inspection_id else ()
        if body.agency not in agencies:
            raise Problem(
                422,
                "unknown_agency",
                "Unknown agency",
                "An agency uploader needs one of the inspection's agencies: "
                f"{', '.join(agencies) or 'give an inspection_id first'}.",
            )
    if body.role is not Role.agency_uploader and body.agency is not None:
        raise Problem(
            422,
            "agency_not_allowed",
            "Only agency uploaders have an agency",
            "Leave out agency for this role.",
        )
    user = User(
        id=uuid.uuid4().hex,
        email=body.email,
        name=body.name.strip(),
        role=body.role,
        inspection_id=inspection_id,
        agency=body.agency,
        inspectorate=body.inspectorate,
        oidc_subject=body.oidc_subject,
        created_at=container.clock.now(),
    )
    try:
        return container.identities.add_user(user, actor)
    except DuplicateUser as exc:
        raise Problem(
            409,
            "user_exists",
            "Already registered",
            "Someone with this e-mail address or sign-in is already registered; issue them "
            "a token instead.",
        ) from exc


@router.get("/v1/me", response_model=MeOut)
def me(principal: PrincipalDep) -> MeOut:
    """Who the portal takes you to be."""
    return MeOut(**principal.model_dump())


@router.post("/v1/users", status_code=201, response_model=UserOut, responses=problem_responses(409))
def create_portal_user(
    body: PortalUserIn, principal: PrincipalDep, container: ContainerDep
) -> UserOut:
    """Register a person with any role (administrators only), e.g. a records officer for
    every inspection."""
    if principal.role is not Role.admin:
        raise forbidden("Only an administrator registers people outside an inspection.")
    if body.role not in (Role.admin, Role.records_officer) and body.inspection_id is None:
        raise Problem(
            422,
            "inspection_required",
            "This role belongs to an inspection",
            "Give the inspection_id for lead inspectors, inspectors and agency uploaders.",
        )
    if body.inspection_id is not None:
        load_inspection(container, body.inspection_id)
    return _user_out(_create(container, body, body.inspection_id, principal.actor))


@router.post(
    "/v1/inspections/{inspection_id}/users",
    status_code=201,
    response_model=UserOut,
    responses=problem_responses(409),
)
def create_inspection_user(
    inspection_id: str, body: UserIn, principal: PrincipalDep, container: ContainerDep
) -> UserOut:
    """Register a person in this inspection (lead inspector or administrator)."""
    load_inspection(container, inspection_id)
    if body.role is Role.admin:
        raise forbidden("Administrators are not scoped to an inspection.")
    if principal.role is not Role.admin and body.role not in LEAD_MAY_ADD:
        raise forbidden(
            "A lead inspector adds agency uploaders, inspectors and records officers; "
            "ask an administrator to add a lead inspector."
        )
    return _user_out(_create(container, body, inspection_id, principal.actor))


@router.get("/v1/inspections/{inspection_id}/users", response_model=list[UserOut])
def list_inspection_users(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[UserOut]:
    """Everyone registered in this inspection."""
    load_inspection(container, inspection_id)
    return [_user_out(u) for u in container.identities.users_of(inspection_id)]


def _user(container: Container, user_id: str) -> User:
    user = container.identities.get_user(user_id)
    if user is None:
        raise Problem(404, "user_not_found", "No such user", f"There is no user {user_id}.")
    return user


@router.get("/v1/users/{user_id}", response_model=UserOut)
def get_user(user_id: str, principal: PrincipalDep, container: ContainerDep) -> UserOut:
    """A person's registration."""
    return _user_out(_user(container, user_id))


@router.post(
    "/v1/users/{user_id}/tokens",
    status_code=201,
    response_model=NewTokenOut,
    responses=problem_responses(409),
)
def issue_token_for_user(
    user_id: str, body: NewTokenIn, principal: PrincipalDep, container: ContainerDep
) -> NewTokenOut:
    """A new token for this person, shown once; it expires after `expires_in_days` (at most
    the deployment's token lifetime)."""
    user = _user(container, user_id)
    if user.disabled_at is not None:
        raise Problem(409, "user_disabled", "Disabled", "This person can no longer sign in.")
    expires = container.clock.now() + timedelta(days=body.expires_in_days)
    info, token = issue_user_token(
        container, user, label=body.label, expires_at=expires, actor=principal.actor
    )
    return NewTokenOut(**_token_out(info).model_dump(), token=token)


@router.get("/v1/users/{user_id}/tokens", response_model=list[TokenInfoOut])
def list_tokens(
    user_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[TokenInfoOut]:
    """A person's tokens (never their secrets), newest first."""
    _user(container, user_id)
    return [_token_out(t) for t in container.identities.tokens_of(user_id)]


@router.post("/v1/tokens/{token_id}/revoke", response_model=TokenInfoOut)
def revoke_token(token_id: str, principal: PrincipalDep, container: ContainerDep) -> TokenInfoOut:
    """Revoke a token at once (revoking twice changes nothing)."""
    info = container.identities.revoke_token(token_id, principal.actor, container.clock.now())
    if info is None:
        raise Problem(404, "token_not_found", "No such token", f"There is no token {token_id}.")
    return _token_out(info)
