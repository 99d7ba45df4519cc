"""Web pages for agencies and inspectors: server-rendered, GOV.UK Design System markup,
sessions signed in by portal token. `router` holds the pages; `install` serves their
assets."""

from portal.web.pages import install, router

__all__ = ["install", "router"]
