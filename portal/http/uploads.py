"""Streaming multipart uploads: the body is read on the event loop, the file part goes to
a spool file in pieces, then to the store from there.

The API never holds a whole file in memory, and no thread waits for a client: the body is
read asynchronously (`receive_form`), each read bounded by an idle timeout, and only a
complete piece of file bytes is handed to a worker thread to write. `MultipartUpload`
parses the form as it is fed, collecting the text fields whichever order the client sent
them in. `UploadSlots` bounds how many uploads one token, and the process, receive at once.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import anyio
import anyio.to_thread
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from portal.bootstrap import Container
from portal.domain.access import Principal
from portal.domain.documents import Area, Document, StoredObject
from portal.domain.errors import UploadTooLarge
from portal.domain.upload_scan import ScannedAtUpload
from portal.http.problems import Problem
from portal.http.upload_scan import UploadScan, UploadScans
from portal.services.uploads import (
    ReceivedFile,
    UploadForm,
    inspection_taking_uploads,
    record_upload,
    upload_too_large,
)

MAX_FIELD_BYTES = 16 * 1024
MAX_FIELDS = 20
MAX_PARTS = MAX_FIELDS + 1
"""Parts of one form, repeated names included: the fields and the one file."""
MAX_PART_HEADER_BYTES = 8 * 1024
WRITE_BYTES = 1024 * 1024
"""File bytes are written to the spool file in pieces of about this size: with one read
of the body, all an upload holds in memory."""
RETRY_AFTER_SECONDS = 10
"""What a refused upload is told to wait before it tries again."""
FORM_OVERHEAD_BYTES = 1024 * 1024
"""What a form may add to its file: a body declared larger than the limit and this is
refused before any of it is read."""


class MalformedUpload(Exception):
    """The body is not a usable multipart form (the message says what to fix)."""


class UploadStalled(Exception):
    """The client sent nothing for the idle timeout while its body was being read."""


class MultipartUpload:
    """One multipart/form-data body with at most one file part, parsed as it is fed."""

    def __init__(self, boundary: bytes, max_file_bytes: int) -> None:
        self._max_file_bytes = max_file_bytes
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
        )
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_content_type: str | None = None
        self.file_field: str | None = None
        self._headers: dict[str, str] = {}
        self._header_field = b""
        self._header_value = b""
        self._part_name: str | None = None
        self._part_value = bytearray()
        self._in_file = False
        self._file_done = False
        self._file_bytes = 0
        self._buffer = bytearray()
        self._parts = 0
        self._header_bytes = 0

    # parser callbacks --------------------------------------------------------------------

    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise MalformedUpload(f"the form has more than {MAX_PARTS} parts")
        self._headers = {}
        self._header_bytes = 0
        self._part_name = None
        self._part_value = bytearray()

    def _count_header_bytes(self, count: int) -> None:
        self._header_bytes += count
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise MalformedUpload("a part of the form has headers that are too long")

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        # Latin-1 keeps every byte: browsers send filenames as raw UTF-8, which is decoded
        # once the header has been parsed (parse_options_header works on bytes).
        self._headers[self._header_field.decode("latin-1").lower()] = self._header_value.decode(
            "latin-1"
        )
        self._header_field = b""
        self._header_value = b""

    def _on_headers_finished(self) -> None:
        _disposition, params = parse_options_header(self._headers.get("content-disposition"))
        name = params.get(b"name")
        if name is None:
            raise MalformedUpload("every part of the form needs a name")
        self._part_name = name.decode("utf-8", "replace")
        if b"filename" in params:
            if self.filename is not None:
                raise MalformedUpload("send one file per request")
            self.filename = params[b"filename"].decode("utf-8", "replace")
            self.file_field = self._part_name
            self.file_content_type = self._headers.get("content-type")
            self._in_file = True

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._file_bytes += end - start
            if self._file_bytes > self._max_file_bytes:
                raise UploadTooLarge(f"the file is larger than {self._max_file_bytes} bytes")
            self._buffer += data[start:end]
            return
        self._part_value += data[start:end]
        if len(self._part_value) > MAX_FIELD_BYTES:
            raise MalformedUpload(f"the form field {self._part_name!r} is too long")

    def _on_part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_done = True
            return
        if self._part_name is not None:
            if len(self.fields) >= MAX_FIELDS:
                raise MalformedUpload("the form has too many fields")
            self.fields[self._part_name] = self._part_value.decode("utf-8", "replace").strip()

    # feeding ---------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        """Parse the next piece of the body; its file bytes wait in `take_file_bytes`.
        Raises MalformedUpload, or UploadTooLarge once the file passes the limit."""
        try:
            self._parser.write(chunk)
        except FormParserError as exc:
            raise MalformedUpload(f"the form could not be parsed: {exc}") from exc

    def finish(self) -> None:
        """The body has ended: MalformedUpload unless it held a whole form with a file."""
        try:
            self._parser.finalize()
        except FormParserError as exc:
            raise MalformedUpload(f"the form could not be parsed: {exc}") from exc
        if self.filename is None:
            raise MalformedUpload("the form has no file: send it in a field named 'file'")
        if not self._file_done:
            raise MalformedUpload("the upload ended before the file did; please send it again")

    @property
    def buffered(self) -> int:
        """File bytes parsed and not yet taken."""
        return len(self._buffer)

    def take_file_bytes(self) -> bytes:
        """The file bytes parsed since the last call (and forget them)."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


async def next_chunk(body: AsyncIterator[bytes], idle_seconds: float) -> bytes | None:
    """The body's next piece, None at its end; UploadStalled if the client sends nothing
    for `idle_seconds`. Waits on the event loop, never in a thread."""
    while True:
        try:
            with anyio.fail_after(idle_seconds):
                chunk = await body.__anext__()
        except StopAsyncIteration:
            return None
        except TimeoutError as exc:
            raise UploadStalled(f"nothing arrived for {idle_seconds:g} s") from exc
        if chunk:
            return chunk


async def receive_form(
    body: AsyncIterator[bytes],
    upload: MultipartUpload,
    spool: BinaryIO,
    idle_seconds: float,
    scan: UploadScan | None = None,
) -> None:
    """Read the whole body into `upload`, appending its file part to `spool` WRITE_BYTES
    at a time (only then is a worker thread used, to write), each piece fed to `scan` too
    while it is written. Raises UploadStalled, MalformedUpload or UploadTooLarge; `spool`
    may then hold part of the file."""
    while (chunk := await next_chunk(body, idle_seconds)) is not None:
        upload.feed(chunk)
        if upload.buffered >= WRITE_BYTES:
            await _write_and_scan(spool, upload.take_file_bytes(), scan)
    upload.finish()
    if upload.buffered:
        await _write_and_scan(spool, upload.take_file_bytes(), scan)


async def _write_and_scan(spool: BinaryIO, data: bytes, scan: UploadScan | None) -> None:
    """Write a piece of the file to the spool (in a thread) while clamd is sent it (on the
    event loop); a scan that fails only stops scanning."""
    if scan is None or not scan.live:
        await anyio.to_thread.run_sync(spool.write, data)
        return
    async with anyio.create_task_group() as group:
        group.start_soon(scan.feed, data)
        await anyio.to_thread.run_sync(spool.write, data)


def open_spool(directory: Path) -> BinaryIO:
    """A new anonymous spool file in `directory` (mode 600, gone once closed, or if the
    process dies: nothing to sweep)."""
    directory.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryFile(dir=directory)


class UploadSlots:
    """The uploads this process is receiving: at most `per_token` for one token and
    `overall` in all. Beyond them an upload is refused at once (429 `too_many_uploads`,
    503 `uploads_busy`, each with Retry-After) before any of its body is read."""

    def __init__(self, per_token: int, overall: int) -> None:
        self._per_token = per_token
        self._overall = overall
        self._lock = threading.Lock()
        self._by_token: dict[str, int] = {}
        self._total = 0

    @contextmanager
    def hold(self, token_id: str) -> Iterator[None]:
        """Take a slot for one upload of this token while the block runs; Problem if none
        is free."""
        with self._lock:
            held = self._by_token.get(token_id, 0)
            if held >= self._per_token:
                raise Problem(
                    429,
                    "too_many_uploads",
                    "Too many uploads at once",
                    f"You are already sending {held} files, the most you may send at once. "
                    f"Wait for one to finish, then try again in {RETRY_AFTER_SECONDS} seconds.",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            if self._total >= self._overall:
                raise Problem(
                    503,
                    "uploads_busy",
                    "The portal is receiving too many uploads",
                    "Nothing was saved. The portal is receiving as many files as it can; "
                    f"please try again in {RETRY_AFTER_SECONDS} seconds.",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            self._by_token[token_id] = held + 1
            self._total += 1
        try:
            yield
        finally:
            with self._lock:
                self._total -= 1
                left = self._by_token[token_id] - 1
                if left:
                    self._by_token[token_id] = left
                else:
                    del self._by_token[token_id]


def boundary_of(content_type: str | None) -> bytes:
    """The multipart boundary of a Content-Type header; MalformedUpload if it is not a form."""
    media_type, params = parse_options_header(content_type)
    if media_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise MalformedUpload("send the document as multipart/form-data")
    return params[b"boundary"]


FormReader = Callable[[MultipartUpload, StoredObject], UploadForm]
"""Reads an upload's form once its file is stored: the API's reads the `item`,
`child_id`, `document_date` and `health_information` fields; the web pages' checks their
CSRF token too."""


async def receive_upload(
    request: Request,
    inspection_id: str,
    principal: Principal,
    container: Container,
    read_form: FormReader,
) -> Document:
    """Stream the request's file into quarantine (and to clamd, when an upload scan
    connection is free), then record it as received (which wakes the dispatcher), or as
    rejected at once if clamd found a signature in it; the recorded document. Raises
    Refused for what the use cases refuse, Problem for a body that cannot be received
    (`not_multipart`, `malformed_upload`, `upload_idle_timeout`, and the bounds on uploads
    at once), and whatever `read_form` raises; nothing stays stored after a refusal."""
    inspection = await anyio.to_thread.run_sync(inspection_taking_uploads, container, inspection_id)
    limit = container.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD_BYTES:
        raise upload_too_large(limit)
    try:
        boundary = boundary_of(request.headers.get("content-type"))
    except MalformedUpload as exc:
        raise Problem(415, "not_multipart", "Send a form upload", str(exc)) from exc

    document_id = uuid.uuid4().hex
    key = f"{inspection_id}/{document_id}"
    body = request.stream()
    upload = MultipartUpload(boundary, limit)
    idle = container.settings.upload_idle_seconds
    slots: UploadSlots = request.app.state.upload_slots
    scans: UploadScans = request.app.state.upload_scans
    with slots.hold(principal.token_id):
        scan = await scans.start()
        try:
            stored, scanned = await _receive_into_quarantine(body, upload, container, key, scan)
        except UploadTooLarge as exc:
            await _discard_rest(body, cap=limit, idle_seconds=idle)
            raise upload_too_large(limit) from exc
        except MalformedUpload as exc:
            raise Problem(
                400, "malformed_upload", "The upload could not be read", str(exc)
            ) from exc
        except UploadStalled as exc:
            raise upload_stalled(idle, "Nothing was kept; please upload the file again.") from exc
        finally:
            scan.abort()

    received = ReceivedFile(
        document_id=document_id,
        stored=stored,
        filename=upload.filename,
        content_type=upload.file_content_type,
        scanned_at_upload=scanned,
    )
    return await anyio.to_thread.run_sync(
        record_upload,
        container,
        inspection,
        principal,
        received,
        lambda: read_form(upload, stored),
    )


def upload_stalled(idle_seconds: float, kept: str) -> Problem:
    """408 `upload_idle_timeout`: the client sent nothing for `idle_seconds`; `kept` says
    what became of what it had sent."""
    return Problem(
        408,
        "upload_idle_timeout",
        "The upload stopped arriving",
        f"Nothing arrived for {idle_seconds:g} seconds, so the upload was ended. {kept}",
    )


async def _receive_into_quarantine(
    body: AsyncIterator[bytes],
    upload: MultipartUpload,
    container: Container,
    key: str,
    scan: UploadScan,
) -> tuple[StoredObject, ScannedAtUpload | None]:
    """Read the whole form (no thread waits for the client), spooling its file and feeding
    it to `scan`, then store the file in quarantine under `key` while clamd gives its
    verdict. Nothing is stored unless the whole form arrived."""
    spool = await anyio.to_thread.run_sync(open_spool, container.settings.upload_spool_dir)
    scanned: ScannedAtUpload | None = None

    async def verdict() -> None:
        nonlocal scanned
        scanned = await scan.result()

    try:
        try:
            await receive_form(body, upload, spool, container.settings.upload_idle_seconds, scan)
        except BaseException:
            scan.abort()  # at once: not after the rest of a refused body is read
            raise
        await anyio.to_thread.run_sync(spool.seek, 0)
        async with anyio.create_task_group() as group:
            group.start_soon(verdict)
            stored = await anyio.to_thread.run_sync(
                container.store.put, Area.quarantine, key, spool
            )
        return stored, scanned
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(spool.close)


async def _discard_rest(body: AsyncIterator[bytes], cap: int, idle_seconds: float) -> None:
    """Read and drop what the client still sends (up to `cap`, while it keeps sending), so
    it gets our answer."""
    discarded = 0
    with contextlib.suppress(UploadStalled):
        while (chunk := await next_chunk(body, idle_seconds)) is not None:
            discarded += len(chunk)
            if discarded > cap:
                return
