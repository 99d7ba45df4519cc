"""The records officer's pages:
retention dry runs and their results, legal holds, deletion records.

Each page calls the retention use case its API route calls (portal/services/retention.py)
with the same models, after deciding access with the route's Permission: starting a run
and reading run records need Permission.run_retention, holds Permission.keep_records on
their inspection (or, for a hold, on the hold). So retention's rules (a deleting run works
as of now, one deleting run at a time, a scoped records officer sees only its inspection's
entries, a document hold names a document of that inspection) hold here unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import anyio
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from portal.bootstrap import Container
from portal.domain.authorization import Permission, Target, TargetKind
from portal.domain.errors import Refusal, Refused
from portal.domain.retention import LegalHold, RetentionRun
from portal.domain.timeline import EARLIEST_DAY, LATEST_DAY, LONDON
from portal.services import retention as records
from portal.services.retention import LiftHold, PlaceHold
from portal.web import records_views, views
from portal.web.pages import (
    MAX_FORM_BYTES,
    SignedIn,
    WebRoute,
    bad_request,
    container_of,
    decide,
    inspection_target,
    not_found,
    render,
    see_other,
    signed_in,
)
from portal.web.sessions import CSRF_FIELD, csrf_matches, same_origin

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ANYWHERE = Target()
"""Runs are not about one inspection: the API's run routes name none."""

"""The years a day may fall in (the API's `Moment`): retention periods computed from days
outside them overflow."""

BANNERS = {
    "placed": "The legal hold was placed. Nothing it covers will be deleted until it is lifted.",
    "lifted": "The legal hold was lifted. The next deleting run deletes what it kept, if that "
    "is due.",
}


async def _form(request: Request) -> tuple[SignedIn, dict[str, str]]:
    """The signed-in person and their form's fields, its CSRF token checked."""
    if not same_origin(request):
        raise bad_request()
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_FORM_BYTES:
        raise bad_request()
    person = await anyio.to_thread.run_sync(signed_in, request)
    async with request.form(max_files=0, max_fields=10) as form:
        fields = {key: str(value) for key, value in form.items()}
    if not csrf_matches(person.session, fields.get(CSRF_FIELD)):
        raise bad_request()
    return person, fields


def _names(container: Container) -> dict[str, str]:
    names = {}
    for inspection_id in container.repository.list_inspection_ids():
        inspection = container.repository.get_inspection(inspection_id)
        if inspection is not None:
            names[inspection_id] = records_views.inspection_name(inspection)
    return names


# -- retention runs ----------------------------------------------------------------------


def _retention_page(
    request: Request,
    person: SignedIn,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    as_of: dict[str, str] | None = None,
) -> Response:
    runs = records.recent_runs(container_of(request), person.principal)
    error_by_field = {e["href"].lstrip("#"): e["text"] for e in errors or []}
    return render(
        request,
        "records_retention.html",
        person.page,
        status=status,
        title="Retention",
        latest=runs[0] if runs else None,
        latest_tag=records_views.run_tag(runs[0]) if runs else None,
        latest_kind=records_views.run_kind(runs[0]) if runs else "",
        latest_when=views.when_words(runs[0].started_at) if runs else "",
        as_of=as_of or {"day": "", "month": "", "year": ""},
        as_of_error=error_by_field.get("as-of-day", ""),
        run_error=error_by_field.get("start-dry-run", ""),
        errors=errors or [],
    )


@router.get("/retention")
def retention(request: Request) -> Response:
    """Start a dry run (and see the latest run); a deleting run is behind a confirmation
    (the page of POST /v1/retention/runs)."""
    person = signed_in(request)
    decide(request, person.principal, Permission.run_retention, ANYWHERE)
    return _retention_page(request, person)


def _read_as_of(parts: dict[str, str]) -> tuple[datetime | None, str]:
    """The day to look ahead to (midday, Europe/London), or what to fix."""
    day, error = views.date_from_parts(parts, "The date to look ahead to")
    if day is None:
        return None, error
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        return (
            None,
            f"The date to look ahead to must be between {EARLIEST_DAY.year} and {LATEST_DAY.year}",
        )
    return datetime(day.year, day.month, day.day, 12, tzinfo=LONDON), ""


@router.post("/retention/dry-run")
async def dry_run(request: Request) -> Response:
    """Run retention without deleting anything, then show what would go and what is held."""
    person, fields = await _form(request)
    await anyio.to_thread.run_sync(
        decide, request, person.principal, Permission.run_retention, ANYWHERE
    )
    parts = {p: fields.get(f"as-of-{p}", "").strip() for p in ("day", "month", "year")}
    as_of, message = _read_as_of(parts)
    if message:
        errors = [{"href": "#as-of-day", "text": message}]
        return await anyio.to_thread.run_sync(
            lambda: _retention_page(request, person, 400, errors, parts)
        )
    return await _start(request, person, dry_run=True, as_of=as_of, parts=parts)


async def _start(
    request: Request,
    person: SignedIn,
    *,
    dry_run: bool,
    as_of: datetime | None = None,
    parts: dict[str, str] | None = None,
) -> Response:
    """Start the run and show its record, or the retention page again while a deleting
    run is in progress."""
    container = container_of(request)

    def start() -> RetentionRun:
        return records.start_run(container, person.principal, dry_run=dry_run, as_of=as_of)

    try:
        run = await anyio.to_thread.run_sync(start)
    except Refused as exc:
        if exc.code != "retention_run_in_progress":
            raise
        errors = [
            {
                "href": "#start-dry-run",
                "text": "A deleting run is in progress. Wait for it to finish, then try again",
            }
        ]
        return await anyio.to_thread.run_sync(
            lambda: _retention_page(request, person, 409, errors, parts)
        )
    return see_other(f"/retention/runs/{run.id}?started=1")


@router.get("/retention/delete")
def confirm_delete(request: Request) -> Response:
    """'Are you sure': a deleting run deletes what is due now and cannot be undone."""
    person = signed_in(request)
    decide(request, person.principal, Permission.run_retention, ANYWHERE)
    return render(request, "records_delete.html", person.page, title="Delete what is due now")


@router.post("/retention/delete")
async def delete_due(request: Request) -> Response:
    """Run retention for real: delete what is due and not held, and record the proof."""
    person, _fields = await _form(request)
    await anyio.to_thread.run_sync(
        decide, request, person.principal, Permission.run_retention, ANYWHERE
    )
    return await _start(request, person, dry_run=False)


# -- deletion records --------------------------------------------------------------------


@router.get("/retention/runs")
def runs(request: Request) -> Response:
    """Every recent run, newest first (the page of GET /v1/retention/runs)."""
    person = signed_in(request)
    decide(request, person.principal, Permission.run_retention, ANYWHERE)
    found = records.recent_runs(container_of(request), person.principal)
    return render(
        request,
        "records_runs.html",
        person.page,
        title="Deletion records",
        runs=[
            {
                "run": run,
                "kind": records_views.run_kind(run),
                "tag": records_views.run_tag(run),
                "started": views.when_words(run.started_at),
                "summary": records_views.summary_lines(run),
            }
            for run in found
        ],
    )


@router.get("/retention/runs/{run_id}")
def run_record(run_id: str, request: Request, started: str = "") -> Response:
    """One run's record: what went (or would go) and why, what is held and by which
    hold, with hashes, sizes, classes, rules and proof (GET /v1/retention/runs/{id})."""
    person = signed_in(request)
    decide(request, person.principal, Permission.run_retention, ANYWHERE)
    container = container_of(request)
    try:
        run = records.find_run(container, person.principal, run_id)
    except Refused as exc:
        if exc.kind is Refusal.not_found:
            raise not_found() from exc
        raise
    return render(
        request,
        "records_run.html",
        person.page,
        title=f"{records_views.run_kind(run)} of {views.when_words(run.started_at)}",
        run=run,
        kind=records_views.run_kind(run),
        tag=records_views.run_tag(run),
        started=views.when_words(run.started_at),
        finished=views.when_words(run.finished_at) if run.finished_at else "",
        as_of=views.when_words(run.as_of),
        summary=records_views.summary_lines(run),
        groups=records_views.entry_groups(run, _names(container)),
        banner=bool(started),
    )


# -- legal holds -------------------------------------------------------------------------


def _holds_page(
    request: Request,
    person: SignedIn,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
    banner: str = "",
) -> Response:
    container = container_of(request)
    inspections = records.inspections_kept_by(container, person.principal)
    holds = records.holds_kept_by(container, inspections)
    names = {i.id: records_views.inspection_name(i) for i in inspections}
    error_by_field = {"inspection": "", "document-id": "", "reason": ""}
    error_by_field.update({e["href"].lstrip("#"): e["text"] for e in errors or []})
    return render(
        request,
        "records_holds.html",
        person.page,
        status=status,
        title="Legal holds",
        holds=records_views.hold_lines(holds, names),
        inspections=[(i.id, names[i.id]) for i in inspections],
        values=values or {"inspection": "", "document_id": "", "reason": ""},
        field_errors=error_by_field,
        banner=BANNERS.get(banner, ""),
        errors=errors or [],
    )


@router.get("/retention/holds")
def holds(request: Request, done: str = "") -> Response:
    """Legal holds across the inspections this person keeps records of, and a form to
    place one (the page of GET and POST /v1/inspections/{id}/legal-holds)."""
    person = signed_in(request)
    decide(request, person.principal, Permission.keep_records, ANYWHERE)
    return _holds_page(request, person, banner=done)


@dataclass(frozen=True)
class _HoldForm:
    inspection: str
    document_id: str
    reason: str

    def values(self) -> dict[str, str]:
        return {
            "inspection": self.inspection,
            "document_id": self.document_id,
            "reason": self.reason,
        }


def _hold_errors(form: _HoldForm) -> tuple[PlaceHold | None, list[dict[str, str]]]:
    errors = []
    if not form.inspection:
        errors.append({"href": "#inspection", "text": "Select the inspection to hold"})
    body = None
    try:
        body = PlaceHold(document_id=form.document_id or None, reason=form.reason)
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        if "document_id" in fields:
            errors.append(
                {
                    "href": "#document-id",
                    "text": "Enter a document ID of 32 characters or fewer, or leave it empty "
                    "to hold the whole inspection",
                }
            )
        if "reason" in fields:
            errors.append({"href": "#reason", "text": _reason_message(form.reason)})
    return (body if not errors else None), errors


def _reason_message(reason: str, empty: str = "Enter why the records must be kept") -> str:
    if not reason.strip():
        return empty
    if len(reason) > 2000:
        return "The reason must be 2,000 characters or fewer"
    return "The reason must be at least 3 characters"


@router.post("/retention/holds")
async def place(request: Request) -> Response:
    """Place a hold on an inspection or one of its documents: nothing held is deleted."""
    person, fields = await _form(request)
    await anyio.to_thread.run_sync(
        decide, request, person.principal, Permission.keep_records, ANYWHERE
    )
    form = _HoldForm(
        inspection=fields.get("inspection", "").strip(),
        document_id=fields.get("document-id", "").strip(),
        reason=fields.get("reason", "").strip(),
    )
    body, errors = _hold_errors(form)

    def answer(status: int, errors: list[dict[str, str]]) -> Response:
        return _holds_page(request, person, status, errors, form.values())

    if body is None:
        return await anyio.to_thread.run_sync(answer, 400, errors)
    await anyio.to_thread.run_sync(
        decide,
        request,
        person.principal,
        Permission.keep_records,
        inspection_target(form.inspection),
    )
    container = container_of(request)
    try:
        await anyio.to_thread.run_sync(
            records.place_hold, container, person.principal, form.inspection, body
        )
    except Refused as exc:
        field, text = _place_refusal(exc)
        return await anyio.to_thread.run_sync(answer, 400, [{"href": field, "text": text}])
    return see_other("/retention/holds?done=placed")


def _place_refusal(refused: Refused) -> tuple[str, str]:
    if refused.code == "inspection_not_found":
        return "#inspection", "Select an inspection from the list"
    if refused.code == "document_not_found":
        return (
            "#document-id",
            "This inspection has no document with that ID. Check the ID, or leave it empty "
            "to hold the whole inspection",
        )
    raise refused


def _hold_or_404(request: Request, person: SignedIn, hold_id: str) -> LegalHold:
    try:
        hold = records.find_hold(container_of(request), hold_id)
    except Refused as exc:
        raise not_found() from exc
    decide(
        request,
        person.principal,
        Permission.keep_records,
        Target(kind=TargetKind.hold, inspection_id=hold.inspection_id),
    )
    return hold


def _lift_page(
    request: Request,
    person: SignedIn,
    hold_id: str,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    reason: str = "",
) -> Response:
    hold = _hold_or_404(request, person, hold_id)
    container = container_of(request)
    (line,) = records_views.hold_lines([hold], _names(container))
    return render(
        request,
        "records_lift.html",
        person.page,
        status=status,
        title="Lift a legal hold",
        hold=line,
        reason=reason,
        reason_error=(errors or [{}])[0].get("text", ""),
        errors=errors or [],
    )


@router.get("/retention/holds/{hold_id}/lift")
def lift_page(hold_id: str, request: Request) -> Response:
    """Say why a hold is lifted (the form of POST /v1/legal-holds/{id}/lift)."""
    person = signed_in(request)
    return _lift_page(request, person, hold_id)


@router.post("/retention/holds/{hold_id}/lift")
async def lift(hold_id: str, request: Request) -> Response:
    """Lift the hold; the next deleting run deletes what it kept, if that is due."""
    person, fields = await _form(request)
    await anyio.to_thread.run_sync(_hold_or_404, request, person, hold_id)
    reason = fields.get("reason", "").strip()
    try:
        body = LiftHold(reason=reason)
    except ValidationError:
        text = _reason_message(reason, "Enter why the hold can be lifted")
        errors = [{"href": "#reason", "text": text}]
        return await anyio.to_thread.run_sync(
            lambda: _lift_page(request, person, hold_id, 400, errors, reason)
        )
    container = container_of(request)
    try:
        await anyio.to_thread.run_sync(
            records.lift_hold, container, person.principal, hold_id, body
        )
    except Refused as exc:
        if exc.kind is Refusal.not_found:
            raise not_found() from exc
        raise
    return see_other("/retention/holds?done=lifted")
