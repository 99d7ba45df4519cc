"""The lead inspector's pages:
alerts, the timeline with its deadline overrides, and the shortlist and audit selection forms."""

from __future__ import annotations

from fastapi import APIRouter

from portal.web.pages import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
