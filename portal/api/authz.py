"""The authorisation gate: every route's permission in one table, checked before any
handler runs (and before its body is read or validated).

The gate authenticates the caller, applies the per-token rate limit, finds what the path
names (inspection, document, hold, user or token) and asks the domain's `authorize`. A
route missing from ROUTE_PERMISSIONS is refused with 500: new routes fail closed until
they are given a permission (and a row in the authorisation matrix test).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from portal.api.auth import authenticate, container_of
from portal.bootstrap import Container
from portal.domain.authorization import Outcome, Permission, Target, TargetKind, authorize
from portal.domain.onsite import client_address, parse_networks
from portal.http.problems import Problem
from portal.http.rate_limits import RateLimits

P = Permission
ROUTE_PERMISSIONS: dict[tuple[str, str], Permission] = {
    ("GET", "/healthz"): P.public,
    ("GET", "/readyz"): P.public,
    ("GET", "/v1/scanner"): P.administer,
    ("GET", "/v1/me"): P.authenticated,
    ("POST", "/v1/inspections"): P.create_inspection,
    ("GET", "/v1/inspections"): P.view_inspection,  # the use case lists only what each may view
    ("GET", "/v1/inspections/{inspection_id}"): P.view_inspection,
    ("GET", "/v1/inspections/{inspection_id}/alerts"): P.manage_inspection,
    ("PUT", "/v1/inspections/{inspection_id}/onsite"): P.manage_inspection,
    ("PUT", "/v1/inspections/{inspection_id}/state"): P.manage_inspection,
    ("PUT", "/v1/inspections/{inspection_id}/days"): P.manage_inspection,
    ("PUT", "/v1/inspections/{inspection_id}/deadlines/{deadline}"): P.manage_inspection,
    ("GET", "/v1/inspections/{inspection_id}/completeness"): P.view_completeness,
    ("POST", "/v1/inspections/{inspection_id}/tokens"): P.manage_users,
    ("POST", "/v1/inspections/{inspection_id}/users"): P.manage_users,
    ("GET", "/v1/inspections/{inspection_id}/users"): P.manage_users,
    ("POST", "/v1/inspections/{inspection_id}/selections"): P.manage_inspection,
    ("GET", "/v1/inspections/{inspection_id}/selections"): P.view_inspection,
    ("POST", "/v1/inspections/{inspection_id}/documents"): P.upload,
    ("GET", "/v1/inspections/{inspection_id}/documents"): P.view_document,
    ("GET", "/v1/documents/{document_id}"): P.view_document,
    # each asked document is checked by the use case as the route above checks one
    ("POST", "/v1/documents/status"): P.authenticated,
    ("GET", "/v1/documents/{document_id}/content"): P.read_document,
    ("POST", "/v1/documents/{document_id}/reprocess"): P.manage_document,
    ("POST", "/v1/chase/runs"): P.run_chase,
    ("POST", "/v1/retention/runs"): P.run_retention,
    ("GET", "/v1/retention/runs"): P.run_retention,
    ("GET", "/v1/retention/runs/{run_id}"): P.run_retention,
    ("POST", "/v1/inspections/{inspection_id}/legal-holds"): P.keep_records,
    ("GET", "/v1/inspections/{inspection_id}/legal-holds"): P.keep_records,
    ("POST", "/v1/legal-holds/{hold_id}/lift"): P.keep_records,
    ("PUT", "/v1/inspections/{inspection_id}/events/{event}"): P.set_retention_events,
    ("GET", "/v1/inspections/{inspection_id}/retention"): P.set_retention_events,
    ("POST", "/v1/inspections/{inspection_id}/name-register"): P.record_names,
    ("GET", "/v1/inspections/{inspection_id}/name-register"): P.read_names,
    ("POST", "/v1/users"): P.administer,
    ("GET", "/v1/users/{user_id}"): P.manage_user,
    ("POST", "/v1/users/{user_id}/tokens"): P.manage_user,
    ("GET", "/v1/users/{user_id}/tokens"): P.manage_user,
    ("POST", "/v1/tokens/{token_id}/revoke"): P.manage_user,
    ("GET", "/v1/audit/verify"): P.verify_audit_log,
    # after fieldwork: the letter's days and the deadlines they start
    ("GET", "/v1/inspections/{inspection_id}/after-fieldwork"): P.view_inspection,
    ("PUT", "/v1/inspections/{inspection_id}/letter/{step}"): P.manage_inspection,
    # records to be seen on site, not sent
    ("PUT", "/v1/inspections/{inspection_id}/case-records/{agency}/{child_id}/seen-on-site"): (
        P.manage_inspection
    ),
    ("PUT", "/v1/inspections/{inspection_id}/case-records/{agency}/{child_id}/arrangement"): (
        P.upload
    ),
    ("POST", "/v1/inspections/{inspection_id}/case-records/{agency}/{child_id}/seen"): (
        P.read_document
    ),
    # extra items: what the lead asks of one agency in one inspection
    ("POST", "/v1/inspections/{inspection_id}/extra-items"): P.manage_inspection,
    ("GET", "/v1/inspections/{inspection_id}/extra-items"): P.view_inspection,
    # issues of concern: raised, answered (an upload), evaluated and signed off
    ("POST", "/v1/inspections/{inspection_id}/concerns"): P.raise_concern,
    ("GET", "/v1/inspections/{inspection_id}/concerns"): P.view_concerns,
    ("GET", "/v1/inspections/{inspection_id}/concerns/{concern_id}"): P.view_concerns,
    ("PUT", "/v1/inspections/{inspection_id}/concerns/{concern_id}/evaluation"): (
        P.evaluate_concern
    ),
    ("POST", "/v1/inspections/{inspection_id}/concerns/{concern_id}/sign-off"): (
        P.sign_off_concern
    ),
}


def gate(request: Request) -> None:
    """Authenticate, rate-limit and authorise the request against its route's permission."""
    container = container_of(request)
    route: Any = request.scope.get("route")
    key = (request.method, getattr(route, "path", ""))
    permission = ROUTE_PERMISSIONS.get(key)
    if permission is None:
        raise Problem(
            500,
            "route_without_permission",
            "Not available",
            "This route has no permission configured, so it is refused.",
        )
    if permission is Permission.public:
        return
    limits: RateLimits = request.app.state.rate_limits
    address = _address(request, container)
    limits.refuse_if_exhausted(address)
    try:
        principal = authenticate(request, container)
    except Problem:
        limits.spend_unauthenticated(address)
        raise
    limits.spend(principal)
    request.state.principal = principal
    target = _target(container, dict(request.path_params))
    decision = authorize(principal, permission, target)
    if not decision.allowed:
        known = target.inspection_id and container.repository.get_inspection(target.inspection_id)
        container.identities.record_denial(
            principal.actor,
            # A probe of an inspection that does not exist goes in the portal's own chain.
            target.inspection_id if known else None,
            request.path_params.get("document_id") if known else None,
            {
                "method": request.method,
                "route": key[1],
                "permission": permission.value,
                "outcome": decision.outcome.value,
            },
            container.clock.now(),
        )
    if decision.outcome is Outcome.hidden:
        raise _not_found(target, request.path_params)
    if decision.outcome is Outcome.forbidden:
        raise Problem(403, "forbidden", "Not allowed", decision.detail)


def _address(request: Request, container: Container) -> str:
    return client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        parse_networks(list(container.settings.trusted_proxies)),
    )


def _target(container: Container, params: dict[str, str]) -> Target:
    """What the path names; 404 problem if it names something that does not exist."""
    if "document_id" in params:
        document = container.repository.get_document(params["document_id"])
        if document is None:
            raise _missing("document", params["document_id"])
        return Target(
            kind=TargetKind.document,
            inspection_id=document.inspection_id,
            agency=document.agency,
        )
    if "hold_id" in params:
        hold = container.records.get_hold(params["hold_id"])
        if hold is None:
            raise _missing("legal_hold", params["hold_id"])
        return Target(kind=TargetKind.hold, inspection_id=hold.inspection_id)
    if "token_id" in params:
        token = container.identities.get_token(params["token_id"])
        user = container.identities.get_user(token.user_id) if token and token.user_id else None
        if user is None:
            raise _missing("token", params["token_id"])
        return Target(kind=TargetKind.user, inspection_id=user.inspection_id, user_id=user.id)
    if "user_id" in params:
        user = container.identities.get_user(params["user_id"])
        if user is None:
            raise _missing("user", params["user_id"])
        return Target(kind=TargetKind.user, inspection_id=user.inspection_id, user_id=user.id)
    if "inspection_id" in params:
        return Target(kind=TargetKind.inspection, inspection_id=params["inspection_id"])
    return Target()


def _missing(kind: str, identifier: str) -> Problem:
    words = kind.replace("_", " ")
    return Problem(
        404, f"{kind}_not_found", f"No such {words}", f"There is no {words} {identifier}."
    )


def _not_found(target: Target, params: Any) -> Problem:
    """The same answer as for something that does not exist."""
    kind = {"hold": "legal_hold"}.get(target.kind.value, target.kind.value)
    if "token_id" in params:
        kind = "token"
    identifier = next(
        (params[p] for p in ("document_id", "hold_id", "token_id", "user_id") if p in params), ""
    )
    return _missing(kind, identifier)
