"""The records officer's pages:
retention dry runs and their results, legal holds, deletion records."""

from __future__ import annotations

from fastapi import APIRouter

from portal.web.pages import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
