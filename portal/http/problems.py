"""RFC 9457 problem+json: the only place that builds error responses.

Every problem has a stable `code` (snake_case, added never renamed) besides type, title,
status, detail and instance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.domain.errors import (
    REFUSAL_OF_REASON,
    PortalError,
    Refusal,
    Refused,
    TransientError,
)
from portal.domain.reasons import ReasonCode, reason_sentence

log = logging.getLogger(__name__)


class ProblemFieldOut(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. 'query.as_of'.")
    message: str


class ProblemOut(BaseModel):
    """An RFC 9457 problem, as every error is answered (`application/problem+json`).

    Extension members may follow the standard ones, e.g. `errors` on 422 `invalid_request`,
    `rule` on 403 `onsite_only`, `checks` on 503 `not_ready`, `reasons` (codes) on 410
    `document_withdrawn`.
    """

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="A URI that names the problem type; it ends with `code`.")
    title: str = Field(description="A short summary, the same for every problem of this type.")
    status: int = Field(ge=400, le=599, description="The HTTP status code.")
    detail: str = Field(description="What went wrong this time, and what to do about it.")
    instance: str = Field(description="The path of the request.")
    code: str = Field(description="Stable snake_case code: added, never renamed.")
    errors: list[ProblemFieldOut] | None = Field(
        default=None, description="422 invalid_request: each field to correct."
    )


PROBLEM_TYPE_BASE = "https://jtai-portal.example/problems/"
MEDIA_TYPE = "application/problem+json"

STATUS_OF_REFUSAL: dict[Refusal, int] = {
    Refusal.malformed: 400,
    Refusal.invalid: 422,
    Refusal.not_found: 404,
    Refusal.forbidden: 403,
    Refusal.conflict: 409,
    Refusal.gone: 410,
    Refusal.busy: 503,
    Refusal.too_large: 413,
    Refusal.unsupported: 415,
    Refusal.too_many: 429,
}


PROBLEM_SCHEMA = "Problem"
"""The name of the problem's schema among the OpenAPI components."""

GATED_STATUSES = (401, 403, 404, 422, 429, 500, 503)
"""What any route behind the authorisation gate may answer besides its own success: the
gate's 401/403/404/429, request validation's 422, and 500/503 from the handlers below."""

_DESCRIPTIONS: dict[int, str] = {
    400: "The request body could not be read (`malformed_upload` for uploads).",
    401: "No valid bearer token (`unauthenticated`).",
    403: "This token may not do this here (`forbidden`), or not from here and now (`onsite_only`).",
    404: "What the path names does not exist, or this token may not know that it exists.",
    408: "The client sent nothing for a while in the middle of its upload "
    "(`upload_idle_timeout`); nothing was kept.",
    409: "The request conflicts with the current state of what it names.",
    410: "The content was deleted under the retention policy (`document_deleted`), or the "
    "document was withdrawn after a rescan found it infected (`document_withdrawn`).",
    413: "The upload is larger than allowed (`too_large`).",
    415: "Not a form upload (`not_multipart`), or a file type refused at once.",
    422: "The request is not valid (`invalid_request`, with `errors`), or a rule refuses it "
    "(its `code` says which).",
    429: "Too many requests from this token or address (`rate_limited`), or too many "
    "uploads at once from this token (`too_many_uploads`).",
    500: "Something went wrong on the portal's side (`internal_error`); nothing was saved.",
    503: "A service the portal needs is unavailable (`service_unavailable`), or the portal "
    "is receiving as many uploads as it can (`uploads_busy`, with Retry-After); nothing was "
    "saved.",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The authentication scheme: `Bearer`.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` declaring these statuses as problem+json (for `responses=`)."""
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, "A problem."),
            "content": {MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}}},
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in statuses
    }


def document_problems(app: FastAPI) -> None:
    """Complete the app's OpenAPI with its problems: the problem's schema among the
    components (the responses declared with `problem_responses` refer to it), and a 400
    on every operation with a request body, answered when the body cannot be read (e.g.
    JSON that is not UTF-8)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = app.openapi_schema
        if schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            definition = ProblemOut.model_json_schema(
                ref_template="#/components/schemas/{model}", mode="serialization"
            )
            components.update(definition.pop("$defs", {}))
            components[PROBLEM_SCHEMA] = definition
            for path_item in schema.get("paths", {}).values():
                for operation in path_item.values():
                    if "requestBody" in operation:
                        operation["responses"].setdefault("400", problem_responses(400)[400])
            app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class Problem(Exception):
    """An error the API answers with problem+json."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions

    @classmethod
    def of(cls, refused: Refused) -> Problem:
        """The problem a use case's refusal is answered with."""
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        return cls(
            STATUS_OF_REFUSAL[refused.kind],
            refused.code,
            refused.title,
            refused.detail,
            headers=headers,
            **refused.extensions,
        )

    @classmethod
    def for_reason(cls, reason: ReasonCode, detail: str = "", **extensions: Any) -> Problem:
        """A problem for a domain reason code, with the uploader's sentence as its title."""
        status = STATUS_OF_REFUSAL[REFUSAL_OF_REASON.get(reason, Refusal.invalid)]
        return cls(
            status,
            reason.value,
            reason_sentence(reason),
            detail or reason_sentence(reason),
            **extensions,
        )


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    """Render a Problem as an RFC 9457 response."""
    body = {
        "type": PROBLEM_TYPE_BASE + problem.code,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
        "code": problem.code,
        **problem.extensions,
    }
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else {}
    headers.update(problem.headers)
    return JSONResponse(body, status_code=problem.status, media_type=MEDIA_TYPE, headers=headers)


class RequestHeaderCap:
    """ASGI middleware: a request whose line and headers take more than `max_bytes` is
    answered 431 `request_headers_too_large` before any route sees it. (What the server
    buffers of a request still arriving is bounded by its parser: cli.api_server_options.)"""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on unless its headers are too large."""
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.max_bytes:
                response = problem_response(
                    Request(scope),
                    Problem(
                        431,
                        "request_headers_too_large",
                        "The request's headers are too large",
                        f"The request line and headers may take at most {self.max_bytes} "
                        "bytes. Send fewer or shorter headers (cookies included).",
                    ),
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def http_problem_response(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own errors (no such route, method not allowed) as problem+json."""
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return problem_response(
        request,
        Problem(
            exc.status_code,
            code,
            str(exc.detail),
            f"{request.method} {request.url.path}: {exc.detail}",
        ),
    )


def register_problem_handlers(app: FastAPI) -> None:
    """Make every error the app can raise come out as problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "message": e.get("msg", ""),
            }
            for e in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors) or "the request"
        return problem_response(
            request,
            Problem(
                422,
                "invalid_request",
                "The request is not valid",
                f"Please correct {fields} and send the request again.",
                errors=errors,
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_problem_response(request, exc)

    @app.exception_handler(TransientError)
    async def _transient(request: Request, exc: TransientError) -> JSONResponse:
        log.warning("dependency unavailable: %s", exc)
        return problem_response(
            request,
            Problem(
                503,
                "service_unavailable",
                "A service the portal needs is unavailable",
                "Nothing was saved. Please try again in a few minutes.",
                reason=exc.reason.value if exc.reason else None,
            ),
        )

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> JSONResponse:
        return problem_response(request, Problem.of(exc))

    @app.exception_handler(PortalError)
    async def _portal(request: Request, exc: PortalError) -> JSONResponse:
        if exc.reason is not None:
            return problem_response(request, Problem.for_reason(exc.reason, str(exc)))
        return problem_response(
            request, Problem(422, "invalid_request", "Request refused", str(exc))
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            request,
            Problem(
                500,
                "internal_error",
                "Something went wrong on our side",
                "The error has been logged. Nothing was saved; please try again later.",
            ),
        )
