"""The ASGI application: the two doors (api/ for HTTP clients, web/ for people) over one
wired container. The only module that knows both doors; neither imports the other."""

from __future__ import annotations

from fastapi import FastAPI

from portal.api.routes import include_api
from portal.bootstrap import Container, make_streaming_scanner
from portal.http.problems import RequestHeaderCap, register_problem_handlers
from portal.http.rate_limits import RateLimits
from portal.http.upload_scan import UploadScans
from portal.http.uploads import UploadSlots
from portal.web import include_web


def create_app(container: Container) -> FastAPI:
    """The portal's API and pages over a wired container."""
    app = FastAPI(
        title="JTAI evidence portal",
        version="1",
        description="Agencies upload Annex A documents for a joint targeted area inspection; "
        "inspectors read what was accepted. Errors are RFC 9457 problem+json with a stable "
        "`code`.",
    )
    app.state.container = container
    app.state.rate_limits = RateLimits(
        container.settings.rate_limit, container.settings.rate_limit_unauthenticated
    )
    app.state.upload_slots = UploadSlots(
        container.settings.uploads_per_token, container.settings.uploads_concurrent
    )
    connections = container.settings.upload_scan_connections
    app.state.upload_scans = UploadScans(
        make_streaming_scanner(container.settings) if connections else None,
        connections,
        container.clock,
    )
    app.add_middleware(RequestHeaderCap, max_bytes=container.settings.max_request_header_bytes)
    register_problem_handlers(app)
    include_api(app)
    # Web pages: their own signed sessions, each page authorised like the API route it mirrors.
    include_web(app)
    return app
