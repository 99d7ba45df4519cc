"""Who people are to the portal: users with one role each, and the API tokens they use.

A token is random, shown once and stored only as its sha256; it belongs to one user,
expires and can be revoked. Disabling a user stops every token of theirs at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from portal.domain.access import Inspectorate, Principal, Role
from portal.domain.errors import PortalError
from portal.domain.moments import UtcDatetime


class DuplicateUser(PortalError):
    """Another user already has this e-mail address or identity-provider subject."""


class NotSignedIn(PortalError):
    """A bearer token that names nobody the portal will serve: unknown, expired, revoked,
    refused by the identity provider, or of a person not registered. `code`, `title` and
    `detail` say which, in the words the person is answered with."""

    def __init__(self, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.title = title
        self.detail = detail


class User(BaseModel):
    """A person (or service) with one role."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    email: str | None = None
    name: str
    role: Role
    inspection_id: str | None = None
    agency: str | None = None
    inspectorate: Inspectorate | None = None
    oidc_subject: str | None = None
    created_at: UtcDatetime
    disabled_at: UtcDatetime | None = None

    def principal(self, token_id: str) -> Principal:
        """This user acting through the token `token_id` ("oidc" for an identity provider's)."""
        return Principal(
            token_id=token_id,
            role=self.role,
            inspection_id=self.inspection_id,
            agency=self.agency,
            user_id=self.id,
            inspectorate=self.inspectorate,
        )


class TokenInfo(BaseModel):
    """What is known of a token besides its secret (which is never stored)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    user_id: str | None
    label: str
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    revoked_at: UtcDatetime | None

    def usable(self, now: datetime) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class VerifiedToken(BaseModel):
    """A portal token found usable just now: whom it stands for and when it expires."""

    model_config = ConfigDict(frozen=True)

    principal: Principal
    expires_at: UtcDatetime | None


def trusted_until(
    verified_at: datetime, cache_seconds: float, expires_at: datetime | None
) -> datetime:
    """Until when a token verified at `verified_at` may be taken as usable without looking
    it up again: `cache_seconds` later, and never past the token's own expiry."""
    until = verified_at + timedelta(seconds=cache_seconds)
    return until if expires_at is None else min(until, expires_at)
