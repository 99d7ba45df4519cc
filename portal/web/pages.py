"""The web pages: sign-in by token, an agency's checklist and uploads, a document's status,
and the lead inspector's completeness matrix.

Each page decides access as the API route it mirrors does, through the domain's
`authorize` with the same Permission and target: what is hidden answers the 404 page,
what is forbidden the 403 page, and every refusal is audited. Forms are plain HTML POSTs
with a CSRF token from the session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from portal.bootstrap import Container
from portal.domain.access import Inspection, InspectionState, Principal, Role
from portal.domain.authorization import Outcome, Permission, Target, TargetKind, authorize
from portal.domain.completeness import DeadlineState, ItemState
from portal.domain.documents import Document, StoredObject
from portal.domain.errors import Refused, TransientError
from portal.domain.extra_items import ExtraKind
from portal.domain.onsite import client_address, parse_networks
from portal.domain.reasons import ReasonCode, reason_sentence
from portal.domain.scope import CASE_RECORD, EXTRA_PREFIX, needs_document_date
from portal.domain.timeline import LONDON
from portal.http.problems import Problem, http_problem_response
from portal.http.rate_limits import RateLimits
from portal.http.uploads import MultipartUpload, receive_upload
from portal.services.documents import document_scan
from portal.services.extra_items import extra_items_of
from portal.services.identities import TOKEN_PREFIX, token_hash
from portal.services.selections import slots_of
from portal.services.uploads import UploadForm
from portal.web import views
from portal.web.scanner_views import scan_words
from portal.web.sessions import (
    CSRF_FIELD,
    Session,
    SessionKeyMissing,
    add_security_headers,
    clear_session_cookie,
    csrf_matches,
    new_session,
    read_session,
    same_origin,
    session_key,
    set_session_cookie,
)

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
ASSETS = HERE / "assets"
"""GOV.UK Frontend's built CSS, JavaScript, fonts and images, copied here from
web/node_modules by infra/install (git-ignored); its CSS expects them at /assets."""

SERVICE_NAME = "JTAI evidence portal"
MAX_FORM_BYTES = 16 * 1024
"""The largest sign-in or sign-out form read (a token, a CSRF token, a path)."""

_templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- errors pages answer ----------------------------------------------------------------


class WebError(Exception):
    """A request the pages answer with an error page."""

    def __init__(
        self, status: int, heading: str, *paragraphs: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(heading)
        self.status = status
        self.heading = heading
        self.paragraphs = paragraphs
        self.headers = headers or {}


class SignInNeeded(Exception):
    """No usable session: the browser is sent to the sign-in page."""


def not_found() -> WebError:
    """The same page for what does not exist and what this person may not know exists."""
    return WebError(
        404,
        "Page not found",
        "If you typed the web address, check it is correct.",
        "If you pasted the web address, check you copied the entire address.",
    )


def forbidden(detail: str) -> WebError:
    return WebError(403, "You cannot see this page", detail)


def bad_request() -> WebError:
    return WebError(
        400,
        "Sorry, we could not do that",
        "The page you sent the form from had expired or came from another site, so nothing "
        "was changed. Go back, reload the page and try again.",
    )


def _too_many(refused: Refused) -> WebError:
    wait = str(refused.retry_after or 60)
    return WebError(
        429,
        "Too many requests",
        f"You have made too many requests in a short time. Wait {wait} seconds, then try again.",
        headers={"Retry-After": wait},
    )


class WebRoute(APIRoute):
    """A page route: its errors are pages, and every response carries the security
    headers and is never cached."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInNeeded:
                response = RedirectResponse(_sign_in_url(request), status_code=303)
            except WebError as exc:
                response = _error_page(request, exc)
            except Problem as exc:  # the shared HTTP plumbing refused (e.g. an upload body)
                response = _error_page(request, WebError(exc.status, exc.title, exc.detail))
            except Refused as exc:  # a use case said no
                refused = Problem.of(exc)
                response = _error_page(
                    request, WebError(refused.status, refused.title, refused.detail)
                )
            except SessionKeyMissing as exc:
                log.error("web sign-in refused: %s", exc)
                response = _error_page(
                    request,
                    WebError(
                        503,
                        "Sorry, the service is unavailable",
                        "Signing in is not set up on this server yet. Tell the portal's "
                        "administrator (the session secret is not configured).",
                    ),
                )
            except TransientError as exc:
                log.warning("dependency unavailable on %s: %s", request.url.path, exc)
                response = _error_page(
                    request,
                    WebError(
                        503,
                        "Sorry, the service is unavailable",
                        "Nothing was saved. Try again in a few minutes.",
                    ),
                )
            add_security_headers(response)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return page_handler


router = APIRouter(route_class=WebRoute, include_in_schema=False)


class _Assets(StaticFiles):
    """Static files with the pages' security headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        add_security_headers(response)
        return response


def install(app: FastAPI) -> None:
    """Serve the pages' assets: GOV.UK Frontend's at /assets, the portal's own at /static;
    answer a browser asking for a page that does not exist with the 404 page."""
    if not (ASSETS / "govuk-frontend.min.css").is_file():
        log.warning("GOV.UK Frontend assets are missing from %s: run infra/install", ASSETS)
    app.mount("/assets", _Assets(directory=ASSETS, check_dir=False), name="govuk-frontend")
    app.mount("/static", _Assets(directory=STATIC), name="web-static")
    app.add_exception_handler(404, _no_such_page)


API_PATHS = ("/v1/", "/healthz", "/readyz", "/docs", "/openapi.json", "/redoc")
"""Paths whose errors stay problem+json whatever the client accepts."""


async def _no_such_page(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    wants_page = request.method in ("GET", "HEAD") and "text/html" in request.headers.get(
        "accept", ""
    )
    if not wants_page or request.url.path.startswith(API_PATHS):
        return http_problem_response(request, exc)
    response = _error_page(request, not_found())
    add_security_headers(response)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- rendering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    text: str
    href: str
    active: bool = False


@dataclass
class PageContext:
    """What every page's layout needs."""

    principal: Principal | None = None
    csrf: str = ""
    nav: list[NavItem] = field(default_factory=list)


def _nav(principal: Principal | None, path: str) -> list[NavItem]:
    if principal is None:
        return []
    links = views.nav_links(principal)
    # The longest link the path starts with is the current one: /retention/holds is
    # "Legal holds", not also "Retention".
    current = max((href for _, href in links if path.startswith(href)), key=len, default=None)
    items = [NavItem(text, href, href == current) for text, href in links]
    items.append(NavItem("Sign out", "/sign-out", path == "/sign-out"))
    return items


def render(
    request: Request,
    template: str,
    context: PageContext,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A page from its template: the layout's values plus the page's own."""
    html = _templates.get_template(template).render(
        service_name=SERVICE_NAME,
        here=request.url.path,
        principal=context.principal,
        csrf_field=CSRF_FIELD,
        csrf=context.csrf,
        nav=context.nav or _nav(context.principal, request.url.path),
        errors=values.pop("errors", []),
        **values,
    )
    return HTMLResponse(html, status_code=status)


def render_form(
    request: Request,
    template: str,
    context: PageContext,
    errors: Sequence[Mapping[str, str]] | None,
    **values: Any,
) -> HTMLResponse:
    """A page whose form posts back to it: 200, or 400 with GOV.UK's error summary when
    there are `errors` (each with the `field` it belongs to, the summary's `href` and the
    `text`); the template finds each field's message in `field_errors`."""
    found = list(errors or [])
    return render(
        request,
        template,
        context,
        status=400 if found else 200,
        action=request.url.path,
        field_errors={e["field"]: e["text"] for e in found},
        errors=[{"href": e["href"], "text": e["text"]} for e in found],
        **values,
    )


def _error_page(request: Request, error: WebError) -> HTMLResponse:
    response = render(
        request,
        "error.html",
        PageContext(),
        status=error.status,
        title=error.heading,
        paragraphs=error.paragraphs,
    )
    response.headers.update(error.headers)
    return response


# -- who is signed in, and may they ------------------------------------------------------


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _address(request: Request, container: Container) -> str:
    return client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        parse_networks(list(container.settings.trusted_proxies)),
    )


def _limits(request: Request) -> RateLimits:
    limits: RateLimits = request.app.state.rate_limits
    return limits


def _key(request: Request) -> bytes:
    return session_key(container_of(request).settings, request)


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    session: Session

    @property
    def page(self) -> PageContext:
        return PageContext(principal=self.principal, csrf=self.session.csrf)


def signed_in(request: Request) -> SignedIn:
    """The person behind the session, checked against their token now (revoked, expired
    and disabled end it), and counted against their token's rate limit."""
    container = container_of(request)
    session = read_session(_key(request), request)
    if session is None or session.token_hash is None:
        raise SignInNeeded
    principal = container.identities.principal_for_token(session.token_hash, container.clock.now())
    if principal is None:
        raise SignInNeeded
    try:
        _limits(request).spend(principal)
    except Refused as exc:
        raise _too_many(exc) from exc
    return SignedIn(principal, session)


def decide(
    request: Request,
    principal: Principal,
    permission: Permission,
    target: Target,
    document_id: str | None = None,
) -> None:
    """Allow, or raise the 404 or 403 page the API's gate would answer (and audit it)."""
    decision = authorize(principal, permission, target)
    if decision.allowed:
        return
    container = container_of(request)
    known = target.inspection_id and container.repository.get_inspection(target.inspection_id)
    route: Any = request.scope.get("route")
    container.identities.record_denial(
        principal.actor,
        target.inspection_id if known else None,
        document_id if known else None,
        {
            "method": request.method,
            "route": getattr(route, "path", request.url.path),
            "permission": permission.value,
            "outcome": decision.outcome.value,
        },
        container.clock.now(),
    )
    if decision.outcome is Outcome.hidden:
        raise not_found()
    raise forbidden(decision.detail)


def document_or_404(
    request: Request, person: SignedIn, permission: Permission, document_id: str
) -> Document:
    """The document, if this person has `permission` on it; else the 404 or 403 page (and
    the refusal audited), as the API's document routes answer."""
    document = container_of(request).repository.get_document(document_id)
    if document is None:
        raise not_found()
    decide(
        request,
        person.principal,
        permission,
        Target(
            kind=TargetKind.document,
            inspection_id=document.inspection_id,
            agency=document.agency,
        ),
        document_id=document_id,
    )
    return document


def inspection_target(inspection_id: str) -> Target:
    return Target(kind=TargetKind.inspection, inspection_id=inspection_id)


def inspection_or_404(container: Container, inspection_id: str) -> Inspection:
    inspection = container.repository.get_inspection(inspection_id)
    if inspection is None:
        raise not_found()
    return inspection


def _sign_in_url(request: Request) -> str:
    if request.method == "GET" and request.url.path not in ("/", "/sign-in"):
        return "/sign-in?next=" + quote(request.url.path, safe="/")
    return "/sign-in"


def _local_path(target: str | None) -> str | None:
    """A path on this site to go back to after signing in (never another site's)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# -- sign in and out ---------------------------------------------------------------------


@router.get("/")
def start(request: Request) -> Response:
    """Where a signed-in person starts; the sign-in page for anyone else."""
    person = signed_in(request)
    home = views.home_path(person.principal)
    if home is not None:
        return see_other(home)
    return render(request, "no_pages.html", person.page, title="You are signed in")


@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form; it gives the browser a session first, for the form's CSRF token."""
    key = _key(request)
    session = read_session(key, request)
    fresh = session is None
    if session is None:
        session = new_session()
    response = render(
        request,
        "sign_in.html",
        PageContext(csrf=session.csrf),
        title="Sign in with your portal token",
        next=_local_path(next) or "",
    )
    if fresh:
        set_session_cookie(key, request, response, session)
    return response


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Check the pasted token as the API checks a bearer token, then open a session."""
    container = container_of(request)
    key = _key(request)
    session = read_session(key, request)
    _refuse_large_form(request)
    async with request.form(max_files=0, max_fields=5) as form:
        token = str(form.get("token", "")).strip()
        submitted = str(form.get(CSRF_FIELD, ""))
        next_path = _local_path(str(form.get("next", ""))) or ""
    if not same_origin(request):
        raise bad_request()
    if not csrf_matches(session, submitted):
        return _sign_in_again(request, key, next_path)
    limits = _limits(request)
    address = _address(request, container)
    try:
        limits.refuse_if_exhausted(address)
    except Refused as exc:
        raise _too_many(exc) from exc
    error = _token_error(token)
    principal = None
    if error is None:
        principal = await anyio.to_thread.run_sync(
            container.identities.principal_for_token, token_hash(token), container.clock.now()
        )
        if principal is None:
            error = (
                "The token was not recognised, has expired or has been revoked. Check you "
                "copied all of it, or ask the lead inspector for a new one"
            )
    if principal is None:
        limits.spend_unauthenticated(address)
        assert session is not None
        return render(
            request,
            "sign_in.html",
            PageContext(csrf=session.csrf),
            status=400,
            title="Sign in with your portal token",
            next=next_path,
            errors=[{"href": "#token", "text": error or "Enter your portal token"}],
        )
    try:
        limits.spend(principal)
    except Refused as exc:
        raise _too_many(exc) from exc
    response = see_other(next_path or views.home_path(principal) or "/")
    # A new session (and CSRF token) on sign-in, so no earlier one can be ridden.
    set_session_cookie(key, request, response, new_session(token_hash(token)))
    return response


def _refuse_large_form(request: Request) -> None:
    """Sign-in and sign-out forms are a few fields: refuse a body that is not."""
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_FORM_BYTES:
        raise bad_request()


def _token_error(token: str) -> str | None:
    if not token:
        return "Enter your portal token"
    if not token.startswith(TOKEN_PREFIX):
        return f"Enter a portal token that starts with {TOKEN_PREFIX}"
    return None


def _sign_in_again(request: Request, key: bytes, next_path: str) -> Response:
    session = new_session()
    response = render(
        request,
        "sign_in.html",
        PageContext(csrf=session.csrf),
        status=400,
        title="Sign in with your portal token",
        next=next_path,
        errors=[
            {
                "href": "#token",
                "text": "The sign-in page had expired. Enter your portal token again",
            }
        ],
    )
    set_session_cookie(key, request, response, session)
    return response


@router.get("/sign-out")
def sign_out_page(request: Request) -> Response:
    """A button to sign out (signing out changes state, so it is a POST)."""
    person = signed_in(request)
    return render(request, "sign_out.html", person.page, title="Sign out")


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """End the session in this browser."""
    key = _key(request)
    session = read_session(key, request)
    _refuse_large_form(request)
    async with request.form(max_files=0, max_fields=5) as form:
        submitted = str(form.get(CSRF_FIELD, ""))
    if not same_origin(request) or not csrf_matches(session, submitted):
        raise bad_request()
    response = render(request, "signed_out.html", PageContext(), title="You have signed out")
    clear_session_cookie(request, response)
    return response


# -- an agency's checklist and uploads ---------------------------------------------------


@router.get("/inspections/{inspection_id}/checklist")
def checklist(inspection_id: str, request: Request) -> Response:
    """An uploader's items, grouped by deadline, each with its status (the page of
    GET /v1/inspections/{id}/completeness for the uploader's own agency)."""
    person = signed_in(request)
    principal = person.principal
    decide(request, principal, Permission.view_completeness, inspection_target(inspection_id))
    if principal.role is not Role.agency_uploader:
        return see_other(f"/inspections/{inspection_id}/completeness")
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    now = container.clock.now()
    agency = principal.agency or ""
    states = container.completeness(inspection, now, agency)
    on_site = frozenset(
        f"{CASE_RECORD}:{slot.child_id}"
        for slot in slots_of(container, inspection)
        if slot.agency == agency and slot.seen_on_site is not None
    )
    concerns = {
        extra.item: f"/inspections/{inspection.id}/concerns/{extra.id}"
        for extra in extra_items_of(container, principal, inspection.id)
        if extra.kind is ExtraKind.issue_of_concern
    }
    groups = views.checklist_groups(
        states, agency, container.schedule(inspection), now, on_site, concerns
    )
    theme = container.themes[inspection.theme_key]
    return render(
        request,
        "checklist.html",
        person.page,
        title="Your checklist",
        inspection=inspection,
        agency_name=views.agency_name(theme, agency),
        groups=groups,
        accepted=sum(g.accepted for g in groups),
        required=sum(g.required for g in groups),
        open=inspection.state is InspectionState.open,
        as_of=views.when_words(now),
    )


@dataclass(frozen=True)
class UploadPage:
    inspection: Inspection
    target: views.UploadTarget
    item: ItemState
    state: DeadlineState
    needs_date: bool
    today: date  # in London, when the page was asked for: a document's date is not after it


def upload_page_of(request: Request, person: SignedIn, inspection_id: str, key: str) -> UploadPage:
    """The upload page of one checklist key, if this person may upload to it (the gate of
    POST /v1/inspections/{id}/documents); the 404 or 403 page otherwise."""
    decide(request, person.principal, Permission.upload, inspection_target(inspection_id))
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    target = views.target_of(key)
    if target is None:
        raise not_found()
    agency = person.principal.agency or ""
    now = container.clock.now()
    for state in container.completeness(inspection, now, agency):
        if state.agency != agency:
            continue
        for item in state.items:
            if item.number == key:
                theme = container.themes[inspection.theme_key]
                return UploadPage(
                    inspection,
                    target,
                    item,
                    state,
                    needs_document_date(theme, target.item),
                    now.astimezone(LONDON).date(),
                )
    raise not_found()


def _render_upload(
    request: Request,
    person: SignedIn,
    page: UploadPage,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    date_parts: dict[str, str] | None = None,
    health_information: bool = False,
) -> HTMLResponse:
    container = container_of(request)
    theme = container.themes[page.inspection.theme_key]
    limit_mb = container.settings.max_upload_bytes // (1024 * 1024)
    due = (
        f"Due by {views.deadline_words(page.state.due, container.clock.now())}."
        if page.state.due
        else "No deadline has been set."
    )
    error_by_field = {e["href"].lstrip("#"): e["text"] for e in errors or []}
    return render(
        request,
        "upload.html",
        person.page,
        status=status,
        title=f"Upload {views.item_label(page.item)}",
        label=views.item_label(page.item),
        description=views.item_description(theme, page.target),
        due=due,
        limit_mb=limit_mb,
        action=request.url.path,
        checklist_url=f"/inspections/{page.inspection.id}/checklist",
        needs_date=page.needs_date,
        date=date_parts or {"day": "", "month": "", "year": ""},
        open=page.inspection.state is InspectionState.open,
        errors=errors or [],
        file_error=error_by_field.get("file", ""),
        date_error=error_by_field.get("document-date-day", ""),
        resumable_url=resumable_url(page.inspection.id, page.target.key),
        child_id=page.target.child_id or "",
        health_information_field=HEALTH_INFORMATION_FIELD,
        health_information=health_information,
        concern_url=_concern_url(container, person.principal, page),
    )


def _concern_url(container: Container, principal: Principal, page: UploadPage) -> str:
    """The page of the issue of concern whose written response this item is, or ''."""
    if not page.target.item.startswith(EXTRA_PREFIX):
        return ""
    for extra in extra_items_of(container, principal, page.inspection.id):
        if extra.item == page.target.item and extra.kind is ExtraKind.issue_of_concern:
            return f"/inspections/{page.inspection.id}/concerns/{extra.id}"
    return ""


def resumable_url(inspection_id: str, key: str) -> str:
    """Where the upload page's script sends a resumable (tus) upload: portal.web.resumable."""
    return f"/inspections/{quote(inspection_id, safe='')}/items/{quote(key, safe=':')}/resumable"


@router.get("/inspections/{inspection_id}/items/{key}/upload")
def upload_page(inspection_id: str, key: str, request: Request) -> Response:
    """One thing per page: choose the file for one item (the form of
    POST /v1/inspections/{id}/documents)."""
    person = signed_in(request)
    page = upload_page_of(request, person, inspection_id, key)
    return _render_upload(request, person, page)


class FormInvalid(Exception):
    """The upload form has errors to show next to its fields."""

    def __init__(
        self,
        errors: list[dict[str, str]],
        date_parts: dict[str, str],
        health_information: bool = False,
    ) -> None:
        super().__init__("; ".join(e["text"] for e in errors))
        self.errors = errors
        self.date_parts = date_parts
        self.health_information = health_information


def _form_reader(
    session: Session, page: UploadPage
) -> Callable[[MultipartUpload, StoredObject], UploadForm]:
    def read(upload: MultipartUpload, stored: StoredObject) -> UploadForm:
        fields = upload.fields
        if not csrf_matches(session, fields.get(CSRF_FIELD)):
            raise bad_request()
        date_parts = {
            part: fields.get(f"document-date-{part}", "").strip()
            for part in ("day", "month", "year")
        }
        return upload_form(
            page,
            date_parts,
            upload.filename,
            stored.size,
            health_information=fields.get(HEALTH_INFORMATION_FIELD) == "true",
        )

    return read


HEALTH_INFORMATION_FIELD = "health_information"
"""The upload page's checkbox (and the resumable upload's metadata key): "true" when the
uploader says the file holds health information, so it is kept and shown only on site."""


def upload_form(
    page: UploadPage,
    date_parts: dict[str, str],
    filename: str | None,
    size: int,
    *,
    health_information: bool = False,
) -> UploadForm:
    """The upload form's fields, checked as the upload page checks them (the form
    upload's and the resumable upload's): FormInvalid says what to fix. A file marked as
    holding health information goes, once accepted, to the on-site area."""
    errors: list[dict[str, str]] = []
    document_date = None
    if page.needs_date:
        document_date, message = _read_date(date_parts, page.today)
        if message:
            errors.append({"href": "#document-date-day", "text": message})
    if not filename:
        errors.append({"href": "#file", "text": "Select a file to upload"})
    elif size == 0:
        errors.append({"href": "#file", "text": "The selected file is empty"})
    if errors:
        raise FormInvalid(errors, date_parts, health_information)
    try:
        return UploadForm(
            item=page.target.item,
            child_id=page.target.child_id,
            document_date=document_date,
            health_information=health_information,
        )
    except ValidationError as exc:
        raise FormInvalid(
            [{"href": "#document-date-day", "text": "Enter a real date for the document"}],
            date_parts,
            health_information,
        ) from exc


def _read_date(parts: dict[str, str], today: date) -> tuple[date | None, str]:
    """The document's date from the date input, or what to fix (GOV.UK's messages)."""
    day, error = views.date_from_parts(
        parts, "The date of the document", when_empty="Enter the date of the document"
    )
    if day is None:
        return None, error
    if day > today:
        return None, "The date of the document must be today or in the past"
    if day.year < 2000:
        return None, "The date of the document must be after 1 January 2000"
    return day, ""


@router.post("/inspections/{inspection_id}/items/{key}/upload")
async def upload(inspection_id: str, key: str, request: Request) -> Response:
    """Stream the file into quarantine exactly as the API does, then show its status."""
    if not same_origin(request):
        raise bad_request()
    person = await anyio.to_thread.run_sync(signed_in, request)
    page = await anyio.to_thread.run_sync(upload_page_of, request, person, inspection_id, key)
    container = container_of(request)
    try:
        document = await receive_upload(
            request,
            inspection_id,
            person.principal,
            container,
            read_form=_form_reader(person.session, page),
        )
    except FormInvalid as exc:
        return _render_upload(
            request, person, page, 400, exc.errors, exc.date_parts, exc.health_information
        )
    except (Problem, Refused) as exc:
        problem = exc if isinstance(exc, Problem) else Problem.of(exc)
        message = problem_message(problem, container.settings.max_upload_bytes)
        # A stalled upload (408) and the bounds on uploads at once (429, 503) keep their
        # status and Retry-After; every other refusal is the form's error (400).
        status = problem.status if problem.status in (408, 429, 503) else 400
        errors = [{"href": "#file", "text": message}]
        refused = _render_upload(request, person, page, status, errors)
        if "Retry-After" in problem.headers:
            refused.headers["Retry-After"] = problem.headers["Retry-After"]
        return refused
    return see_other(f"/documents/{document.id}")


def problem_message(problem: Problem, limit: int) -> str:
    """What the uploader should do about a refused upload, in words."""
    if problem.code == ReasonCode.too_large.value:
        return f"The selected file must be smaller than {limit // (1024 * 1024)} MB"
    if problem.code in {reason.value for reason in ReasonCode}:
        return reason_sentence(ReasonCode(problem.code))
    if problem.code == "malformed_upload" and "has no file" in problem.detail:
        return "Select a file to upload"
    if problem.code in ("not_multipart", "malformed_upload"):
        return "The file could not be read. Select the file again and upload it"
    return problem.detail


# -- a document's status -----------------------------------------------------------------


@router.get("/documents/{document_id}")
def document_status(document_id: str, request: Request) -> Response:
    """A document's status, and what to do if it was not accepted (the page of
    GET /v1/documents/{id}); another agency's document is not found."""
    person = signed_in(request)
    container = container_of(request)
    document = document_or_404(request, person, Permission.view_document, document_id)
    inspection = inspection_or_404(container, document.inspection_id)
    theme = container.themes[inspection.theme_key]
    view = views.document_view(document)
    key = document.item_number
    if document.child_id is not None:
        key = f"{document.item_number}:{document.child_id}"
    uploader = person.principal.role is Role.agency_uploader
    return render(
        request,
        "document.html",
        person.page,
        title=view.heading,
        view=view,
        document=document,
        what=views.target_title(theme, document.item_number, document.child_id),
        agency_name=views.agency_name(theme, document.agency),
        received=views.when_words(document.received_at),
        decided=views.when_words(document.decided_at) if document.decided_at else "",
        size=_size_words(document.size_bytes),
        # Staff see which signatures judged it; an uploader needs only the outcome.
        scanned="" if uploader else scan_words(document_scan(document)),
        upload_url=(
            f"/inspections/{document.inspection_id}/items/{key}/upload" if uploader else ""
        ),
        back_url=views.home_path(person.principal) or "/",
        back_text="Return to your checklist" if uploader else "Return to completeness",
    )


def _size_words(size: int | None) -> str:
    if size is None:
        return "Unknown"
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


# -- the lead inspector's completeness matrix --------------------------------------------


@router.get("/inspections/{inspection_id}/completeness")
def completeness(inspection_id: str, request: Request) -> Response:
    """Agencies by deadlines: how much of what is due has been accepted, what is missing
    and what is overdue (the page of GET /v1/inspections/{id}/completeness)."""
    person = signed_in(request)
    decide(
        request, person.principal, Permission.view_completeness, inspection_target(inspection_id)
    )
    if person.principal.role is Role.agency_uploader:
        # An uploader sees only its own agency: its checklist.
        return see_other(f"/inspections/{inspection_id}/checklist")
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    now = container.clock.now()
    theme = container.themes[inspection.theme_key]
    matrix = views.completeness_matrix(
        container.completeness(inspection, now), theme, inspection.agencies, now
    )
    return render(
        request,
        "completeness.html",
        person.page,
        title="Completeness",
        inspection=inspection,
        matrix=matrix,
        as_of=views.when_words(now),
    )


@router.get("/inspections/{inspection_id}/completeness/{agency}/{deadline}")
def completeness_items(
    inspection_id: str, agency: str, deadline: str, request: Request
) -> Response:
    """The items one agency owes by one deadline, with their status."""
    person = signed_in(request)
    principal = person.principal
    decide(request, principal, Permission.view_completeness, inspection_target(inspection_id))
    if principal.role is Role.agency_uploader and agency != principal.agency:
        raise forbidden("An uploader sees only its own agency's completeness.")
    container = container_of(request)
    inspection = inspection_or_404(container, inspection_id)
    now = container.clock.now()
    state = next(
        (
            s
            for s in container.completeness(inspection, now, agency)
            if s.agency == agency and (s.deadline or views.UNDATED) == deadline
        ),
        None,
    )
    if state is None:
        raise not_found()
    theme = container.themes[inspection.theme_key]
    due = f"Due by {views.deadline_words(state.due, now)}" if state.due else "No deadline set"
    items = [
        {
            "label": views.item_label(item),
            "tag": views.item_tag(item),
            "optional": item.optional,
            "reasons": [reason_sentence(r) for r in item.rejection_reasons]
            if views.shows_reasons(views.item_tag(item))
            else [],
        }
        for item in state.items
    ]
    return render(
        request,
        "completeness_items.html",
        person.page,
        title=f"{views.agency_name(theme, agency)}: {due.lower()}",
        agency_name=views.agency_name(theme, agency),
        due=due,
        state=state,
        items=items,
        overdue=bool(state.overdue),
        back_url=f"/inspections/{inspection_id}/completeness",
        as_of=views.when_words(now),
    )
