"""Sending a document's content: the response for what portal.services.onsite returns."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from portal.domain.documents import Document
from portal.services.onsite import DocumentContent


def content_response(content: DocumentContent) -> Response:
    """The response that sends a document's content: never cached, never sniffed, named
    after the document; streamed as it is read unless it is already whole."""
    headers = {
        "Content-Disposition": content_disposition(content.disposition, content.document),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    if content.chunks is not None:
        return StreamingResponse(content.chunks, media_type=content.media_type, headers=headers)
    return Response(content.whole, media_type=content.media_type, headers=headers)


def content_disposition(kind: str, document: Document) -> str:
    """The header with the document's name: an ASCII `filename` for every client and the
    exact name as RFC 6266 / 5987 `filename*` (UTF-8, percent-encoded)."""
    ascii_name = (
        "".join(
            c for c in document.original_filename if c.isascii() and (c.isalnum() or c in "._- ")
        ).strip()
        or "document"
    )
    exact = quote(document.original_filename or "document", safe="")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{exact}"
