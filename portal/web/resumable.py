"""Resumable uploads for the web upload pages: the tus protocol 1.0.0 (core, creation,
termination and expiration), behind the pages' sessions.

The upload page's script (portal/web/static/upload.js, with tus-js-client) sends a large
file in chunks here, and after a dropped connection or a page reload carries on from the
offset the server reports. Without JavaScript the page's plain form upload is used.

    OPTIONS /inspections/{id}/items/{key}/resumable              what the server supports
    POST    /inspections/{id}/items/{key}/resumable              creation: 201 + Location
    HEAD    /inspections/{id}/items/{key}/resumable/{upload}     how far it has got
    PATCH   /inspections/{id}/items/{key}/resumable/{upload}     append at Upload-Offset
    DELETE  /inspections/{id}/items/{key}/resumable/{upload}     termination

Every request is authorised as the upload page and its form (POST /v1/inspections/{id}/
documents): a signed-in session, Permission.upload on the inspection and the key on the
uploader's own checklist, else 404 (audited); POST, PATCH and DELETE also need the
session's CSRF token in the X-CSRF-Token header and a same-origin request. An upload
belongs to the person who created it, on that page: to anyone else it is 404.

Creation checks everything that can be checked before a byte is stored, with the form
upload's own functions: the form's fields (file name, empty file, the document's date:
pages.upload_form), Upload-Length against the same size limits, the inspection being open
and the scope rules (services.uploads.check_before_receiving). PATCH bodies are streamed to the
upload's `.part` file under data_dir/resumable (adapters.resumable_files), never held in
memory (at most WRITE_BYTES buffered). When the last byte arrives the file is put into
quarantine and handed to services.uploads.record_upload, the end of every upload path, so the
document is recorded, queued and audited exactly as a form upload; the response carries its
id in JTAI-Document-Id, and so does a HEAD afterwards (the record is kept until it expires).
Unfinished uploads expire `resumable_expiry_seconds` after their last bytes (Upload-Expires)
and are deleted by a sweep run at most every SWEEP_SECONDS when uploads are created.
Errors are problem+json with a stable `code` (`errors` lists what the page shows beside
its fields), with tus's statuses: 409 offset_mismatch, 412, 413, 415, 423 upload_busy.

Why not tuspyserver (4.4.3, the maintained FastAPI tus router)? It installs with our pins
(fastapi 0.150, starlette 1.x) and its `auth`/`file_dep` dependencies could authorise each
request, but it cannot bound what it stores or keeps in memory: it answers a POST with a
body (creation-with-upload, always on) by reading the whole body into memory with no size
check (measured: a 40 MB body stored past a 10 MB max_size); it always offers
concatenation and defer-length, whose uploads escape a per-item size check made at
creation; it writes PATCH bodies and takes a blocking file lock on the event loop; its
expiry sweep (gc_files) raises on the dates it writes itself, and expiry is in whole days;
and its errors are {"detail": ...}. The core protocol is small, so it is written here.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from portal.bootstrap import Container
from portal.domain.documents import Area, StoredObject
from portal.domain.errors import Refused, TransientError, UploadBusy
from portal.domain.ports import ObjectStore, PartialUploadFiles, PartWriter
from portal.domain.resumable import (
    TUS_EXTENSIONS,
    TUS_VERSION,
    MetadataInvalid,
    PartialUpload,
    encode_metadata,
    http_date,
    parse_length,
    parse_metadata,
)
from portal.domain.scope import LIST_PREFIX
from portal.http.problems import Problem, problem_response
from portal.http.uploads import UploadSlots, UploadStalled, next_chunk, upload_stalled
from portal.services.uploads import (
    ReceivedFile,
    UploadForm,
    check_before_receiving,
    inspection_taking_uploads,
    record_upload,
)
from portal.web.pages import (
    HEALTH_INFORMATION_FIELD,
    FormInvalid,
    SignedIn,
    SignInNeeded,
    UploadPage,
    WebError,
    container_of,
    problem_message,
    resumable_url,
    signed_in,
    upload_form,
    upload_page_of,
)
from portal.web.sessions import SessionKeyMissing, add_security_headers, csrf_matches, same_origin

log = logging.getLogger(__name__)

CSRF_HEADER = "X-CSRF-Token"
DOCUMENT_HEADER = "JTAI-Document-Id"
"""Names the document a finished upload became (on the last PATCH's response and HEADs)."""
PATCH_MEDIA_TYPE = "application/offset+octet-stream"
WRITE_BYTES = 1024 * 1024
"""A PATCH body is written to disk in pieces of about this size: all it holds in memory."""
SWEEP_SECONDS = 60.0

_BASE = "/inspections/{inspection_id}/items/{key}/resumable"
_ONE = _BASE + "/{upload_id}"
_WEB_ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    429: "rate_limited",
    503: "service_unavailable",
}


# -- errors are problem+json, every answer speaks tus -------------------------------------


def _problem_of(exc: Exception, request: Request) -> Problem | None:
    """The problem+json an error of the pages' helpers answers here (None: not ours)."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, Refused):
        return Problem.of(exc)
    if isinstance(exc, FormInvalid):
        return Problem(
            422,
            "invalid_upload_form",
            "The upload form has errors",
            "; ".join(e["text"] for e in exc.errors) + ".",
            errors=[{"field": e["href"].lstrip("#"), "message": e["text"]} for e in exc.errors],
        )
    if isinstance(exc, SignInNeeded):
        return Problem(
            401,
            "unauthenticated",
            "Sign in again",
            "Your session has ended. Sign in again, then select the file and upload it: "
            "the upload carries on from where it stopped.",
        )
    if isinstance(exc, WebError):
        return Problem(
            exc.status,
            _WEB_ERROR_CODES.get(exc.status, "http_error"),
            exc.heading,
            " ".join(exc.paragraphs) or exc.heading,
            headers=exc.headers,
        )
    if isinstance(exc, SessionKeyMissing | TransientError):
        if isinstance(exc, TransientError):
            log.warning("dependency unavailable on %s: %s", request.url.path, exc)
        return Problem(
            503,
            "service_unavailable",
            "A service the portal needs is unavailable",
            "Try again in a few minutes: the upload carries on from where it stopped.",
            headers={"Retry-After": "30"},
        )
    return None


def _with_page_message(problem: Problem, request: Request) -> Problem:
    """Give every refusal an `errors` entry in the words the upload page shows."""
    if "errors" in problem.extensions:
        return problem
    limit = container_of(request).settings.max_upload_bytes
    problem.extensions["errors"] = [{"field": "file", "message": problem_message(problem, limit)}]
    return problem


class ResumableRoute(APIRoute):
    """A tus route: errors are problem+json (status and headers only for HEAD), and every
    response carries Tus-Resumable, the pages' security headers and no-store."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tus_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                problem = _problem_of(exc, request)
                if problem is None:
                    raise
                problem = _with_page_message(problem, request)
                response = problem_response(request, problem)
                if request.method == "HEAD":
                    response = Response(status_code=problem.status, headers=problem.headers)
            response.headers["Tus-Resumable"] = TUS_VERSION
            add_security_headers(response)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return tus_handler


router = APIRouter(route_class=ResumableRoute, include_in_schema=False)


# -- who may, and which upload -----------------------------------------------------------


@dataclass
class _Uploads:
    """The partial uploads of this app, and when expired ones were last swept."""

    files: PartialUploadFiles
    swept_at: float = -SWEEP_SECONDS


def _uploads(request: Request) -> _Uploads:
    state = request.app.state
    uploads: _Uploads | None = getattr(state, "resumable_uploads", None)
    if uploads is None:
        uploads = _Uploads(container_of(request).partial_uploads)
        state.resumable_uploads = uploads
    return uploads


def _expiry(container: Container) -> timedelta:
    return timedelta(seconds=container.settings.resumable_expiry_seconds)


@dataclass(frozen=True)
class Uploader:
    """A signed-in person allowed to upload on one upload page."""

    person: SignedIn
    page: UploadPage

    @property
    def actor(self) -> str:
        return self.person.principal.actor


def _check_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise Problem(
            412,
            "tus_version_unsupported",
            "Unsupported tus version",
            f"Send Tus-Resumable: {TUS_VERSION}.",
            headers={"Tus-Version": TUS_VERSION},
        )


def _authorise(request: Request, inspection_id: str, key: str, changes: bool) -> Uploader:
    """The upload page's gate; a request that changes something must also come from this
    site with the session's CSRF token in its header."""
    if changes and not same_origin(request):
        raise Problem(
            403,
            "cross_site_request",
            "Refused: sent from another site",
            "Uploads are only accepted from the portal's own pages.",
        )
    person = signed_in(request)
    if changes and not csrf_matches(person.session, request.headers.get(CSRF_HEADER)):
        raise Problem(
            403,
            "csrf_token_invalid",
            "The page has expired",
            "The upload page had expired. Reload it, select the file and upload it again.",
        )
    return Uploader(person, upload_page_of(request, person, inspection_id, key))


async def _authorised(request: Request, inspection_id: str, key: str, changes: bool) -> Uploader:
    return await anyio.to_thread.run_sync(_authorise, request, inspection_id, key, changes)


def _not_found(upload_id: str) -> Problem:
    return Problem(
        404,
        "upload_not_found",
        "No such upload",
        f"There is no upload {upload_id} of yours on this page. Upload the file again.",
    )


async def _own_upload(
    request: Request, inspection_id: str, key: str, upload_id: str, *, changes: bool
) -> tuple[Uploader, PartialUploadFiles, PartialUpload]:
    """The prelude of every request about one upload: tus's version, the upload page's
    authorisation, and this person's upload (404 for anyone else's, 410 once expired)."""
    _check_version(request)
    uploader = await _authorised(request, inspection_id, key, changes=changes)
    uploads = _uploads(request).files
    now = container_of(request).clock.now()
    upload = await anyio.to_thread.run_sync(_upload_of, uploads, uploader, upload_id, now)
    return uploader, uploads, upload


def _busy(detail: str) -> Problem:
    return Problem(423, "upload_busy", "The upload is busy", detail)


def _upload_of(
    uploads: PartialUploadFiles, uploader: Uploader, upload_id: str, now: datetime
) -> PartialUpload:
    """This person's upload on this page (404 for anyone else's); 410 once expired."""
    upload = uploads.get(upload_id)
    page = uploader.page
    if upload is None or not upload.belongs_to(uploader.actor, page.inspection.id, page.target.key):
        raise _not_found(upload_id)
    if upload.expired(now):
        with contextlib.suppress(UploadBusy):
            _delete(uploads, upload)
        raise Problem(
            410,
            "upload_expired",
            "The upload has expired",
            "Unfinished uploads are kept for a limited time. Upload the file again.",
        )
    return upload


def _tus_headers(upload: PartialUpload, offset: int) -> dict[str, str]:
    headers = {
        "Upload-Offset": str(offset),
        "Upload-Length": str(upload.length),
        "Upload-Expires": http_date(upload.expires_at),
    }
    if upload.document_id is not None:
        headers[DOCUMENT_HEADER] = upload.document_id
    return headers


def _max_size(container: Container, page: UploadPage) -> int:
    limit = container.settings.max_upload_bytes
    if page.target.item.startswith(LIST_PREFIX):
        limit = min(limit, container.settings.max_list_upload_bytes)
    return limit


# -- the protocol ------------------------------------------------------------------------


@router.options(_BASE)
async def discover(inspection_id: str, key: str, request: Request) -> Response:
    """What this server supports (tus discovery), for someone who may upload here."""
    uploader = await _authorised(request, inspection_id, key, changes=False)
    return Response(
        status_code=204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": ",".join(TUS_EXTENSIONS),
            "Tus-Max-Size": str(_max_size(container_of(request), uploader.page)),
        },
    )


@router.post(_BASE)
async def create(inspection_id: str, key: str, request: Request) -> Response:
    """Creation: check the announced file as the form upload would, then make an empty
    upload; 201 with its Location and Upload-Expires."""
    _check_version(request)
    uploader = await _authorised(request, inspection_id, key, changes=True)
    container = container_of(request)
    length = parse_length(request.headers.get("upload-length"))
    if length is None:
        raise Problem(
            400,
            "upload_length_required",
            "Upload-Length is required",
            "Send the file's size in bytes as Upload-Length (deferred lengths are not supported).",
        )
    if parse_length(request.headers.get("content-length")) not in (None, 0):
        raise Problem(
            400,
            "creation_with_upload_unsupported",
            "Send the bytes in PATCH requests",
            "Create the upload with an empty body, then send the file with PATCH.",
        )
    try:
        metadata = parse_metadata(request.headers.get("upload-metadata"))
    except MetadataInvalid as exc:
        raise Problem(400, "invalid_metadata", "Upload-Metadata cannot be read", str(exc)) from exc
    page = uploader.page
    if metadata.get("child_id", page.target.child_id or "") != (page.target.child_id or ""):
        raise Problem(
            400,
            "invalid_metadata",
            "Upload-Metadata names another child",
            "The child_id in Upload-Metadata is not this upload page's.",
        )
    date_parts = {
        part: metadata.get(f"document-date-{part}", "").strip() for part in ("day", "month", "year")
    }
    form = upload_form(
        page,
        date_parts,
        metadata.get("filename"),
        length,
        health_information=metadata.get(HEALTH_INFORMATION_FIELD) == "true",
    )
    await anyio.to_thread.run_sync(
        check_before_receiving, container, page.inspection, uploader.person.principal, form, length
    )
    upload = await anyio.to_thread.run_sync(_new_upload, request, uploader, form, length, metadata)
    return Response(
        status_code=201,
        headers={
            "Location": f"{resumable_url(page.inspection.id, page.target.key)}/{upload.id}",
            "Upload-Expires": http_date(upload.expires_at),
        },
    )


def _new_upload(
    request: Request, uploader: Uploader, form: UploadForm, length: int, metadata: dict[str, str]
) -> PartialUpload:
    container = container_of(request)
    uploads = _uploads(request)
    now = container.clock.now()
    clock = time.monotonic()
    if clock - uploads.swept_at >= SWEEP_SECONDS:
        uploads.swept_at = clock
        swept = uploads.files.sweep(now)
        if swept:
            log.info("deleted %d expired resumable uploads", len(swept))
    allowed = container.settings.resumable_unfinished_per_person
    if uploads.files.unfinished_of(uploader.actor, now) >= allowed:
        raise Problem(
            409,
            "too_many_unfinished_uploads",
            "Too many unfinished uploads",
            f"You have {allowed} unfinished uploads. Finish or cancel one of them, or wait "
            "for it to expire, then upload this file.",
        )
    page = uploader.page
    upload = PartialUpload(
        id=secrets.token_hex(16),
        owner=uploader.actor,
        inspection_id=page.inspection.id,
        key=page.target.key,
        item=form.item,
        child_id=form.child_id,
        document_date=form.document_date,
        health_information=form.health_information,
        length=length,
        metadata=metadata,
        created_at=now,
        expires_at=now + _expiry(container),
    )
    uploads.files.create(upload)
    return upload


@router.head(_ONE)
async def offset(inspection_id: str, key: str, upload_id: str, request: Request) -> Response:
    """How many bytes the upload has (and its document, once finished)."""
    _, uploads, upload = await _own_upload(request, inspection_id, key, upload_id, changes=False)
    headers = _tus_headers(upload, uploads.offset(upload))
    if upload.metadata:
        headers["Upload-Metadata"] = encode_metadata(upload.metadata)
    return Response(status_code=200, headers=headers)


@router.patch(_ONE)
async def append(inspection_id: str, key: str, upload_id: str, request: Request) -> Response:
    """Append the body at Upload-Offset; once the last byte is in, make the document."""
    uploader, uploads, upload = await _own_upload(
        request, inspection_id, key, upload_id, changes=True
    )
    media_type, _params = parse_options_header(request.headers.get("content-type"))
    if media_type.decode("latin-1").lower() != PATCH_MEDIA_TYPE:
        raise Problem(
            415,
            "not_offset_octet_stream",
            "Send the bytes as application/offset+octet-stream",
            f"A PATCH body must be sent with Content-Type: {PATCH_MEDIA_TYPE}.",
        )
    client_offset = parse_length(request.headers.get("upload-offset"))
    if client_offset is None:
        raise Problem(
            400,
            "upload_offset_required",
            "Upload-Offset is required",
            "Send the offset the bytes start at as Upload-Offset.",
        )
    declared = parse_length(request.headers.get("content-length"))
    if upload.finished:
        return _finished(upload, client_offset, declared)
    slots: UploadSlots = request.app.state.upload_slots
    with slots.hold(uploader.person.principal.token_id), contextlib.ExitStack() as stack:
        try:
            writer = await anyio.to_thread.run_sync(stack.enter_context, uploads.writing(upload_id))
        except UploadBusy as exc:
            raise _busy(
                "Another request is sending bytes of this upload; ask for its offset again."
            ) from exc
        except FileNotFoundError as exc:  # finished (or deleted) since it was read
            now = container_of(request).clock.now()
            upload = await anyio.to_thread.run_sync(_upload_of, uploads, uploader, upload_id, now)
            if upload.finished:
                return _finished(upload, client_offset, declared)
            raise _not_found(upload_id) from exc
        try:
            return await _append_locked(
                request, uploader, uploads, upload_id, writer, client_offset, declared
            )
        finally:
            await anyio.to_thread.run_sync(stack.pop_all().close)


async def _append_locked(
    request: Request,
    uploader: Uploader,
    uploads: PartialUploadFiles,
    upload_id: str,
    writer: PartWriter,
    client_offset: int,
    declared: int | None,
) -> Response:
    container = container_of(request)
    upload = await anyio.to_thread.run_sync(uploads.get, upload_id)
    if upload is None:
        raise _not_found(upload_id)
    if upload.finished:
        return _finished(upload, client_offset, declared)
    at = await anyio.to_thread.run_sync(writer.size)
    _check_offset(upload, at, client_offset, declared)
    written, ended = await _stream_body(request, writer, upload.length - at)
    upload = upload.received(written, container.clock.now(), _expiry(container))
    await anyio.to_thread.run_sync(uploads.save, upload)
    if ended == "stalled":
        log.info("resumable upload %s stalled at %d bytes", upload.id, at + written)
        problem = upload_stalled(
            container.settings.upload_idle_seconds,
            f"The {at + written} bytes that arrived are kept: carry on from there.",
        )
        problem.headers["Upload-Offset"] = str(at + written)
        raise problem
    if ended == "disconnected":
        log.info("resumable upload %s interrupted at %d bytes", upload.id, at + written)
        return Response(status_code=400)
    if at + written == upload.length:
        upload = await _finish(request, uploader, uploads, upload, writer)
    return Response(status_code=204, headers=_tus_headers(upload, at + written))


def _check_offset(upload: PartialUpload, at: int, client_offset: int, declared: int | None) -> None:
    """A PATCH must start where the upload is, and bring no more than it lacks."""
    if client_offset != at:
        raise Problem(
            409,
            "offset_mismatch",
            "The upload is at another offset",
            f"The upload has {at} bytes; send the bytes from there (HEAD tells the offset).",
            headers={"Upload-Offset": str(at)},
        )
    room = upload.length - at
    if declared is not None and declared > room:
        raise Problem(
            413,
            "upload_exceeds_length",
            "More bytes than Upload-Length",
            f"The upload needs {room} more bytes; this request has {declared}.",
        )


def _finished(upload: PartialUpload, client_offset: int, declared: int | None) -> Response:
    """A PATCH of nothing at the end of a finished upload is answered as its last one was
    (its client may have lost that answer)."""
    _check_offset(upload, upload.length, client_offset, declared)
    return Response(status_code=204, headers=_tus_headers(upload, upload.length))


async def _stream_body(request: Request, writer: PartWriter, room: int) -> tuple[int, str]:
    """Append the request body to the part file, WRITE_BYTES at a time; how many bytes
    were appended, and how the body ended: "complete", "disconnected" (the client went
    away) or "stalled" (it sent nothing for JTAI_UPLOAD_IDLE_SECONDS). What it sent
    still counts. No thread waits for the client. A body longer than `room` appends
    nothing (413)."""
    idle = container_of(request).settings.upload_idle_seconds
    start = await anyio.to_thread.run_sync(writer.size)
    written = 0
    pending = bytearray()
    body = request.stream()
    ended = "complete"
    while True:
        try:
            chunk = await next_chunk(body, idle)
        except ClientDisconnect:
            ended = "disconnected"
            break
        except UploadStalled:
            ended = "stalled"
            break
        if chunk is None:
            break
        if written + len(pending) + len(chunk) > room:
            await anyio.to_thread.run_sync(writer.truncate, start)
            raise Problem(
                413,
                "upload_exceeds_length",
                "More bytes than Upload-Length",
                f"The upload needed {room} more bytes; this request sent more.",
            )
        pending += chunk
        if len(pending) >= WRITE_BYTES:
            data, pending = pending, bytearray()
            await anyio.to_thread.run_sync(writer.append, data)
            written += len(data)
    if pending:
        await anyio.to_thread.run_sync(writer.append, pending)
        written += len(pending)
    return written, ended


async def _finish(
    request: Request,
    uploader: Uploader,
    uploads: PartialUploadFiles,
    upload: PartialUpload,
    writer: PartWriter,
) -> PartialUpload:
    """Hand the whole file to the form upload's path: quarantine, then record_upload.
    A refusal deletes the upload; a transient failure keeps it, so a PATCH of no bytes at
    its end tries again."""
    container = container_of(request)
    # The upload's id is its document's id, so finishing again (the last response lost, or
    # saving the finished record failed) finds the document instead of making a second one.
    document_id = upload.id
    recorded = await anyio.to_thread.run_sync(container.repository.get_document, document_id)
    if recorded is not None:
        return await _remember_finished(uploads, upload, recorded.id, container)
    try:
        inspection = await anyio.to_thread.run_sync(
            inspection_taking_uploads, container, upload.inspection_id
        )
        stored = await anyio.to_thread.run_sync(
            _put, container.store, f"{inspection.id}/{document_id}", writer
        )
        form = UploadForm(
            item=upload.item,
            child_id=upload.child_id,
            document_date=upload.document_date,
            health_information=upload.health_information,
        )
        document = await anyio.to_thread.run_sync(
            record_upload,
            container,
            inspection,
            uploader.person.principal,
            ReceivedFile(document_id, stored, upload.filename, upload.filetype),
            lambda: form,
        )
    except (Refused, Problem, FormInvalid):
        await anyio.to_thread.run_sync(uploads.delete, upload.id)
        raise
    finished = await _remember_finished(uploads, upload, document.id, container)
    log.info(
        "resumable upload %s became document %s (%d bytes in %d requests)",
        upload.id,
        document.id,
        finished.received_bytes,
        finished.patches,
    )
    return finished


async def _remember_finished(
    uploads: PartialUploadFiles, upload: PartialUpload, document_id: str, container: Container
) -> PartialUpload:
    """Keep the finished upload's record (a HEAD tells its document) and drop its bytes."""
    finished = upload.became(document_id, container.clock.now(), _expiry(container))
    await anyio.to_thread.run_sync(uploads.save, finished)
    await anyio.to_thread.run_sync(uploads.discard_part, upload.id)
    return finished


def _put(store: ObjectStore, key: str, writer: PartWriter) -> StoredObject:
    with writer.reader() as source:
        return store.put(Area.quarantine, key, source)


@router.delete(_ONE)
async def terminate(inspection_id: str, key: str, upload_id: str, request: Request) -> Response:
    """Termination: forget the upload and its bytes (a finished upload's document stays)."""
    _, uploads, upload = await _own_upload(request, inspection_id, key, upload_id, changes=True)
    try:
        await anyio.to_thread.run_sync(_delete, uploads, upload)
    except UploadBusy as exc:
        raise _busy(
            "Another request is sending bytes of this upload; try again in a moment."
        ) from exc
    return Response(status_code=204)


def _delete(uploads: PartialUploadFiles, upload: PartialUpload) -> None:
    try:
        with uploads.writing(upload.id):
            uploads.delete(upload.id)
    except FileNotFoundError:
        uploads.delete(upload.id)
