"""The inspectors' pages:
the inspection's accepted documents; a health record shows where and when it can be viewed."""

from __future__ import annotations

from fastapi import APIRouter

from portal.web.pages import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
