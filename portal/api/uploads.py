"""Streaming multipart uploads: the file part goes to the store chunk by chunk.

The API never holds a whole file in memory. `MultipartUpload` runs in a worker thread; it
pulls the request body through `next_chunk` (which hops back to the event loop) and hands
the single file part to the store as a reader, while collecting the text fields, whichever
order the client sent them in.
"""

from __future__ import annotations

from collections.abc import Callable

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from portal.domain.documents import Area, StoredObject
from portal.domain.errors import UploadTooLarge
from portal.domain.ports import ObjectStore

MAX_FIELD_BYTES = 16 * 1024
MAX_FIELDS = 20
MAX_PARTS = MAX_FIELDS + 1
"""Parts of one form, repeated names included: the fields and the one file."""
MAX_PART_HEADER_BYTES = 8 * 1024


class MalformedUpload(Exception):
    """The body is not a usable multipart form (the message says what to fix)."""


class MultipartUpload:
    """One multipart/form-data body with at most one file part."""

    def __init__(
        self, next_chunk: Callable[[], bytes | None], boundary: bytes, max_file_bytes: int
    ) -> None:
        self._next_chunk = next_chunk
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
        self._body_done = False
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

    # body pump ---------------------------------------------------------------------------

    def _pump(self) -> None:
        chunk = self._next_chunk()
        try:
            if not chunk:
                self._parser.finalize()
                self._body_done = True
                return
            self._parser.write(chunk)
        except FormParserError as exc:
            raise MalformedUpload(f"the form could not be parsed: {exc}") from exc

    def read(self, n: int = -1) -> bytes:
        """Read the file part's bytes (the store calls this); b"" once the part has ended."""
        while (n < 0 or len(self._buffer) < n) and not self._file_done and not self._body_done:
            self._pump()
        if self._body_done and self.filename is not None and not self._file_done:
            raise MalformedUpload("the upload ended before the file did; please send it again")
        size = len(self._buffer) if n < 0 else min(n, len(self._buffer))
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def store_into(self, store: ObjectStore, area: Area, key: str) -> StoredObject:
        """Stream the file part into the store and read the rest of the form.

        Raises MalformedUpload (after deleting what was stored) if there was no file part,
        and UploadTooLarge if it passed the limit (the store keeps nothing of it then).
        """
        stored = store.put(area, key, self)  # type: ignore[arg-type]
        try:
            while not self._body_done:
                self._pump()
            if self.filename is None:
                raise MalformedUpload("the form has no file: send it in a field named 'file'")
        except BaseException:
            store.delete(area, key)
            raise
        return stored


def boundary_of(content_type: str | None) -> bytes:
    """The multipart boundary of a Content-Type header; MalformedUpload if it is not a form."""
    media_type, params = parse_options_header(content_type)
    if media_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise MalformedUpload("send the document as multipart/form-data")
    return params[b"boundary"]
