"""People and their tokens: who they are, what role they have, and the tokens they use.

The gate (portal/api/authz.py) decides who reaches each route; the rules that depend on
the request body (which roles a lead inspector may give) are the identities use cases'.
"""

from __future__ import annotations

from fastapi import APIRouter

from portal.api.auth import ContainerDep, PrincipalDep
from portal.api.schemas import (
    MeOut,
    NewTokenIn,
    NewTokenOut,
    PortalUserIn,
    TokenInfoOut,
    UserIn,
    UserOut,
)
from portal.domain.identities import TokenInfo, User
from portal.http.problems import problem_responses
from portal.services import identities
from portal.services.identities import Registration

router = APIRouter(tags=["users"])


def _user_out(user: User) -> UserOut:
    return UserOut(**user.model_dump(exclude={"oidc_subject"}))


def _token_out(info: TokenInfo) -> TokenInfoOut:
    return TokenInfoOut(**info.model_dump(exclude={"user_id"}))


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
    registration = Registration.model_validate(body)
    user = identities.register_user(container, principal, registration, body.inspection_id)
    return _user_out(user)


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
    registration = Registration.model_validate(body)
    user = identities.register_in_inspection(container, principal, inspection_id, registration)
    return _user_out(user)


@router.get("/v1/inspections/{inspection_id}/users", response_model=list[UserOut])
def list_inspection_users(
    inspection_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[UserOut]:
    """Everyone registered in this inspection."""
    return [_user_out(u) for u in identities.users_of(container, inspection_id)]


@router.get("/v1/users/{user_id}", response_model=UserOut)
def get_user(user_id: str, principal: PrincipalDep, container: ContainerDep) -> UserOut:
    """A person's registration."""
    return _user_out(identities.find_user(container, user_id))


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
    info, token = identities.issue_token_for(
        container, principal, user_id, label=body.label, expires_in_days=body.expires_in_days
    )
    return NewTokenOut(**_token_out(info).model_dump(), token=token)


@router.get("/v1/users/{user_id}/tokens", response_model=list[TokenInfoOut])
def list_tokens(
    user_id: str, principal: PrincipalDep, container: ContainerDep
) -> list[TokenInfoOut]:
    """A person's tokens (never their secrets), newest first."""
    return [_token_out(t) for t in identities.tokens_of(container, user_id)]


@router.post("/v1/tokens/{token_id}/revoke", response_model=TokenInfoOut)
def revoke_token(token_id: str, principal: PrincipalDep, container: ContainerDep) -> TokenInfoOut:
    """Revoke a token at once (revoking twice changes nothing)."""
    return _token_out(identities.revoke_token(container, principal, token_id))
