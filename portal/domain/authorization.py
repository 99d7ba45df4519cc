"""Who may reach what: one permission per API route, decided here and nowhere else.

portal/api/authz.py maps every route to a Permission and resolves its target (the
inspection, document, hold or user the path names); `authorize` decides. A target the
principal may not even know exists (another agency's document, another inspection's
document or hold, another inspection's user) is `hidden`: the API answers 404, not 403.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from portal.domain.access import Principal, Role


class Permission(StrEnum):
    """What a route does, in the terms authorisation decides on."""

    public = "public"
    authenticated = "authenticated"
    administer = "administer"
    create_inspection = "create_inspection"
    view_inspection = "view_inspection"
    manage_inspection = "manage_inspection"
    view_completeness = "view_completeness"
    upload = "upload"
    view_document = "view_document"
    read_document = "read_document"
    manage_document = "manage_document"
    run_chase = "run_chase"
    run_retention = "run_retention"
    keep_records = "keep_records"
    set_retention_events = "set_retention_events"
    record_names = "record_names"
    read_names = "read_names"
    manage_users = "manage_users"
    manage_user = "manage_user"
    verify_audit_log = "verify_audit_log"
    view_concerns = "view_concerns"
    raise_concern = "raise_concern"
    evaluate_concern = "evaluate_concern"
    sign_off_concern = "sign_off_concern"


class TargetKind(StrEnum):
    none = "none"
    inspection = "inspection"
    document = "document"
    hold = "hold"
    user = "user"


class Target(BaseModel):
    """What a request is about, as far as authorisation needs to know."""

    model_config = ConfigDict(frozen=True)

    kind: TargetKind = TargetKind.none
    inspection_id: str | None = None
    agency: str | None = None
    user_id: str | None = None


class Outcome(StrEnum):
    allowed = "allowed"
    forbidden = "forbidden"
    hidden = "hidden"


class AccessDecision(BaseModel):
    """The outcome and, when refused, a sentence saying who may do it."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    detail: str = ""

    @property
    def allowed(self) -> bool:
        """True only for an allowed request."""
        return self.outcome is Outcome.allowed


_ALLOW = AccessDecision(outcome=Outcome.allowed)
_STAFF = (Role.lead_inspector, Role.inspector)


def _forbid(detail: str) -> AccessDecision:
    return AccessDecision(outcome=Outcome.forbidden, detail=detail)


def _hide(what: str) -> AccessDecision:
    return AccessDecision(outcome=Outcome.hidden, detail=what)


def _in(principal: Principal, inspection_id: str | None) -> bool:
    """Admins and unscoped records officers reach every inspection; others their own."""
    if principal.role is Role.admin:
        return True
    if principal.role is Role.records_officer and principal.inspection_id is None:
        return True
    return inspection_id is not None and principal.inspection_id == inspection_id


def _leads(principal: Principal, inspection_id: str | None) -> bool:
    return principal.role is Role.admin or (
        principal.role is Role.lead_inspector and principal.inspection_id == inspection_id
    )


def _keeps_records(principal: Principal, inspection_id: str | None) -> bool:
    if principal.role is Role.admin:
        return True
    return principal.role is Role.records_officer and (
        principal.inspection_id is None or principal.inspection_id == inspection_id
    )


def authorize(principal: Principal, permission: Permission, target: Target) -> AccessDecision:
    """Whether `principal` may do `permission` to `target`.

    Guarantees: an agency uploader never reaches another agency's document, nor anyone
    another inspection's document, hold or user (hidden, so 404); inspection-scoped
    principals never act on another inspection (forbidden); admins manage people, tokens,
    themes and inspections but never upload (an upload belongs to an agency), read a
    document's content or record or read names (least privilege: case files and names
    are for the inspection's inspectors).
    """
    if permission in (Permission.public, Permission.authenticated):
        return _ALLOW
    hidden = _hidden(principal, target)
    if hidden is not None:
        return hidden
    if permission is Permission.manage_user and target.user_id == principal.user_id:
        return _ALLOW  # everyone manages their own tokens
    rule = _RULES[permission]
    return _ALLOW if rule.allows(principal, target) else _forbid(rule.refusal)


def _hidden(principal: Principal, target: Target) -> AccessDecision | None:
    """Documents, holds and users outside the principal's reach do not exist for it."""
    if target.kind not in (TargetKind.document, TargetKind.hold, TargetKind.user):
        return None
    if target.kind is TargetKind.user and principal.user_id == target.user_id:
        return None
    if not _in(principal, target.inspection_id):
        return _hide(target.kind.value)
    if (
        target.kind is TargetKind.document
        and principal.role is Role.agency_uploader
        and principal.agency != target.agency
    ):
        return _hide(target.kind.value)
    return None


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True)

    roles: frozenset[Role]
    refusal: str
    own_inspection: bool = True
    own_agency: bool = False
    or_records_officer: bool = False
    admin: bool = True

    def allows(self, principal: Principal, target: Target) -> bool:
        if principal.role is Role.admin:
            return self.admin
        if self.or_records_officer and _keeps_records(principal, target.inspection_id):
            return True
        if principal.role not in self.roles:
            return False
        if self.own_inspection and target.kind is not TargetKind.none:
            if principal.role is Role.records_officer:
                if not _keeps_records(principal, target.inspection_id):
                    return False
            elif principal.inspection_id != target.inspection_id:
                return False
        return not (
            self.own_agency
            and principal.role is Role.agency_uploader
            and target.agency not in (None, principal.agency)
        )


def _rule(*roles: Role, refusal: str, **options: bool) -> _Rule:
    return _Rule(roles=frozenset(roles), refusal=refusal, **options)


_EVERYONE = (Role.lead_inspector, Role.inspector, Role.records_officer, Role.agency_uploader)

_RULES: dict[Permission, _Rule] = {
    Permission.administer: _rule(refusal="Only an administrator does this."),
    Permission.create_inspection: _rule(refusal="Only an administrator creates inspections."),
    Permission.view_inspection: _rule(
        *_EVERYONE, refusal="Your token is for a different inspection."
    ),
    Permission.manage_inspection: _rule(
        Role.lead_inspector,
        refusal="Only an administrator or this inspection's lead inspector does this.",
    ),
    Permission.view_completeness: _rule(
        *_STAFF,
        Role.agency_uploader,
        refusal="Only the inspection's inspectors and agencies see its completeness.",
    ),
    Permission.upload: _rule(
        Role.agency_uploader,
        refusal="Only an agency uploader of this inspection uploads documents: uploads "
        "belong to an agency.",
        admin=False,
    ),
    Permission.view_document: _rule(
        *_EVERYONE, refusal="Your token is for a different inspection.", own_agency=True
    ),
    Permission.read_document: _rule(
        *_STAFF, refusal="Only the inspection's inspectors can read documents.", admin=False
    ),
    Permission.manage_document: _rule(
        Role.lead_inspector,
        refusal="Only an administrator or the lead inspector can re-run a document.",
    ),
    Permission.run_chase: _rule(
        Role.lead_inspector,
        refusal="Only an administrator or a lead inspector runs the chase.",
        own_inspection=False,
    ),
    Permission.run_retention: _rule(
        Role.records_officer,
        refusal="Only a records officer (or an administrator) runs retention.",
        own_inspection=False,
    ),
    Permission.keep_records: _rule(
        Role.records_officer,
        refusal="Only a records officer (or an administrator) does this.",
    ),
    Permission.set_retention_events: _rule(
        Role.lead_inspector,
        refusal="Only the lead inspector or a records officer does this.",
        or_records_officer=True,
    ),
    Permission.record_names: _rule(
        Role.lead_inspector, refusal="Only the lead inspector records names.", admin=False
    ),
    Permission.read_names: _rule(
        *_STAFF, refusal="Only the inspection's inspectors read the name register.", admin=False
    ),
    Permission.manage_users: _rule(
        Role.lead_inspector,
        refusal="Only an administrator or this inspection's lead inspector manages its people.",
    ),
    Permission.verify_audit_log: _rule(
        refusal="Only an administrator verifies the audit log.", own_inspection=False
    ),
    # Issues of concern (002 para 74, Annex C): case numbers and the issues are for the
    # inspection's inspectors and the agency concerned, never an admin.
    Permission.view_concerns: _rule(
        *_STAFF,
        Role.agency_uploader,
        refusal="Only the inspection's inspectors and agencies see its issues of concern.",
        admin=False,
    ),
    Permission.raise_concern: _rule(
        *_STAFF, refusal="Only the inspection's inspectors raise issues of concern.", admin=False
    ),
    Permission.evaluate_concern: _rule(
        *_STAFF,
        refusal="Only the inspection's inspectors evaluate an agency's response.",
        admin=False,
    ),
    Permission.sign_off_concern: _rule(
        Role.lead_inspector,
        Role.agency_uploader,
        refusal="Only the lead inspector and the agency concerned sign off an issue of concern.",
        admin=False,
    ),
    Permission.manage_user: _rule(
        Role.lead_inspector,
        refusal="Only an administrator, the inspection's lead inspector or the person "
        "themselves manages these tokens.",
    ),
}
