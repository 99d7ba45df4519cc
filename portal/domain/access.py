"""Who may do what: roles, the principal behind a token, and pure permission rules."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.inspection_days import EnteredDay


class Role(StrEnum):
    admin = "admin"
    lead_inspector = "lead_inspector"
    inspector = "inspector"
    records_officer = "records_officer"
    agency_uploader = "agency_uploader"


class Inspectorate(StrEnum):
    """The four inspectorates of a joint targeted area inspection."""

    ofsted = "ofsted"
    cqc = "cqc"
    hmicfrs = "hmicfrs"
    hmip = "hmip"


class Principal(BaseModel):
    """Who is behind a request: a person (user_id) through one of their tokens or an
    identity-provider token. Inspection-scoped roles carry their inspection id."""

    model_config = ConfigDict(frozen=True)

    token_id: str
    role: Role
    inspection_id: str | None = None
    agency: str | None = None
    user_id: str | None = None
    inspectorate: Inspectorate | None = None

    @property
    def actor(self) -> str:
        """How the audit trail names this principal: role and person (whose record holds
        their inspection and agency), or role, token and scope for a token of no person.
        At most 100 characters, the width of every actor column."""
        if self.user_id:
            return f"{self.role.value}:user-{self.user_id}"
        scope = f"{self.inspection_id}/{self.agency}" if self.agency else self.inspection_id
        return f"{self.role.value}:{self.token_id}" + (f"@{scope}" if scope else "")


class IdentityClaims(BaseModel):
    """What the portal uses of a token its identity provider vouched for."""

    model_config = ConfigDict(frozen=True)

    subject: str
    email: str | None = None
    email_verified: bool = False


class InspectionState(StrEnum):
    """Open until the lead inspector closes it (done) or withdraws it (deferred, cancelled)."""

    open = "open"
    closed = "closed"
    withdrawn = "withdrawn"


class Inspection(BaseModel):
    """An inspection of one local area, following one theme variant."""

    model_config = ConfigDict(frozen=True)

    id: str
    theme_key: str
    area_name: str
    fieldwork_start: date | None = None
    notification_date: date | None = None
    entered_days: frozenset[EnteredDay] = frozenset()
    agencies: tuple[str, ...]
    created_at: datetime
    state: InspectionState = InspectionState.open


def in_inspection(principal: Principal, inspection_id: str) -> bool:
    """Admins reach every inspection; every other token reaches only its own."""
    return principal.role is Role.admin or principal.inspection_id == inspection_id


def can_upload(principal: Principal, inspection_id: str, agency: str) -> bool:
    """Uploaders upload for their own agency of their own inspection only."""
    return (
        principal.role is Role.agency_uploader
        and principal.inspection_id == inspection_id
        and principal.agency == agency
    )


def can_see_status(principal: Principal, document: Document) -> bool:
    """Uploaders see their own agency's documents; inspection staff see all of theirs."""
    if principal.role is Role.agency_uploader:
        return (
            principal.inspection_id == document.inspection_id
            and principal.agency == document.agency
        )
    return in_inspection(principal, document.inspection_id)


def can_read_content(principal: Principal, document: Document) -> bool:
    """Only inspection staff read documents, and only accepted ones outside the on-site area.

    Health records (the on-site area) are refused here until on-site access is built.
    """
    return (
        principal.role in (Role.lead_inspector, Role.inspector)
        and principal.inspection_id == document.inspection_id
        and document.status is DocumentStatus.accepted
        and document.area is Area.clean
    )


def retention_scope(principal: Principal) -> str | None:
    """The one inspection a retention run started by `principal` covers, or None for all.

    A run covers only what its starter may keep records for: a records officer scoped to
    an inspection covers that inspection; an admin or a records officer of every
    inspection covers them all (as the scheduled run does).
    """
    if principal.role is Role.records_officer:
        return principal.inspection_id
    return None
