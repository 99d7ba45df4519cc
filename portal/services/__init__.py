"""The use cases: what a person can do with the portal, one module per capability.

Both doors call these and nothing else for business rules: api/ translates HTTP to a use
case and its result (or `Refused`) to JSON or problem+json; web/ translates a form to a
use case and its result to a page (or the form again, with the refusal's words). A use
case:

- takes the wired `Container` (ports, policies, the clock), the acting `Principal` where
  the rule depends on who acts, and plain values or pydantic models;
- returns domain models, never an HTTP response or an `*Out` schema;
- says no by raising `portal.domain.errors.Refused` (kind, stable code, title, detail),
  and lets `TransientError` through (the doors answer "try again later");
- never imports fastapi, starlette, api/ or web/.
"""
