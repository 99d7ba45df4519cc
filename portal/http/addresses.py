"""Where a request comes from, as the on-site rule sees it."""

from __future__ import annotations

from starlette.requests import Request

from portal.domain.onsite import client_address, parse_networks
from portal.settings import Settings


def request_address(request: Request, settings: Settings) -> str:
    """The client's address (X-Forwarded-For believed only from a trusted proxy)."""
    return client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        parse_networks(list(settings.trusted_proxies)),
    )
