"""Every route x every role x own/other agency x own/other inspection, through the real app.

EXPECTED names, for each route, who gets through on a target of their own (inspection A,
agency `local_authority`). The other cells follow rules stated once below:

- another inspection's target: scoped principals are refused (403 on inspection routes)
  or, for documents, holds, users and tokens, told it does not exist (404); admins, and
  records officers of every inspection where the route lets records officers in, pass;
- another agency's document: the uploader is told it does not exist (404); everyone else
  is treated as for their own agency's document;
- no token: 401, except on public routes.

A route of the app with no row here, or a row for a route the app does not have, fails
the test. Mutating requests carry a body the handler would reject (`[]`), so a request
that gets past the gate answers 4xx from the handler, never 401/403/404, and changes
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.adapters.store_fs import FilesystemStore
from portal.api.authz import ROUTE_PERMISSIONS
from portal.app import create_app
from portal.domain.access import Role
from portal.services.identities import issue_token, issue_user_token
from portal.settings import Settings
from tests.factories import T0, add_document, add_inspection, build_portal

ALL = frozenset({"admin", "lead", "inspector", "records", "records_all", "uploader"})
STAFF = frozenset({"admin", "lead", "inspector"})
# Who reads case files and names: the inspection's inspectors, never an admin.
READERS = frozenset({"lead", "inspector"})

# route -> (what its path names, who passes on their own target)
EXPECTED: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    ("GET", "/healthz"): ("none", ALL | {"anonymous"}),
    ("GET", "/readyz"): ("none", ALL | {"anonymous"}),
    ("GET", "/v1/me"): ("none", ALL),
    ("POST", "/v1/inspections"): ("none", frozenset({"admin"})),
    ("GET", "/v1/inspections"): ("none", ALL),
    ("POST", "/v1/users"): ("none", frozenset({"admin"})),
    ("GET", "/v1/audit/verify"): ("none", frozenset({"admin"})),
    ("GET", "/v1/scanner"): ("none", frozenset({"admin"})),
    ("GET", "/v1/inspections/{inspection_id}"): ("inspection", ALL),
    ("GET", "/v1/inspections/{inspection_id}/alerts"): (
        "inspection",
        frozenset({"admin", "lead"}),
    ),
    ("PUT", "/v1/inspections/{inspection_id}/onsite"): ("inspection", frozenset({"admin", "lead"})),
    ("PUT", "/v1/inspections/{inspection_id}/state"): ("inspection", frozenset({"admin", "lead"})),
    ("PUT", "/v1/inspections/{inspection_id}/days"): ("inspection", frozenset({"admin", "lead"})),
    ("PUT", "/v1/inspections/{inspection_id}/deadlines/{deadline}"): (
        "inspection",
        frozenset({"admin", "lead"}),
    ),
    ("GET", "/v1/inspections/{inspection_id}/completeness"): ("inspection", STAFF | {"uploader"}),
    ("POST", "/v1/inspections/{inspection_id}/tokens"): (
        "inspection",
        frozenset({"admin", "lead"}),
    ),
    ("POST", "/v1/inspections/{inspection_id}/users"): ("inspection", frozenset({"admin", "lead"})),
    ("GET", "/v1/inspections/{inspection_id}/users"): ("inspection", frozenset({"admin", "lead"})),
    ("POST", "/v1/inspections/{inspection_id}/selections"): (
        "inspection",
        frozenset({"admin", "lead"}),
    ),
    ("GET", "/v1/inspections/{inspection_id}/selections"): ("inspection", ALL),
    ("POST", "/v1/inspections/{inspection_id}/documents"): ("inspection", frozenset({"uploader"})),
    ("GET", "/v1/inspections/{inspection_id}/documents"): ("inspection", ALL),
    ("GET", "/v1/documents/{document_id}"): ("document", ALL),
    # each asked document is then checked as the row above checks one
    ("POST", "/v1/documents/status"): ("none", ALL),
    ("GET", "/v1/documents/{document_id}/content"): ("document", READERS),
    ("POST", "/v1/documents/{document_id}/reprocess"): ("document", frozenset({"admin", "lead"})),
    ("POST", "/v1/chase/runs"): ("none", frozenset({"admin", "lead"})),
    ("POST", "/v1/retention/runs"): ("none", frozenset({"admin", "records", "records_all"})),
    ("GET", "/v1/retention/runs"): ("none", frozenset({"admin", "records", "records_all"})),
    ("GET", "/v1/retention/runs/{run_id}"): (
        "none",
        frozenset({"admin", "records", "records_all"}),
    ),
    ("POST", "/v1/inspections/{inspection_id}/legal-holds"): (
        "inspection",
        frozenset({"admin", "records", "records_all"}),
    ),
    ("GET", "/v1/inspections/{inspection_id}/legal-holds"): (
        "inspection",
        frozenset({"admin", "records", "records_all"}),
    ),
    ("POST", "/v1/legal-holds/{hold_id}/lift"): (
        "hold",
        frozenset({"admin", "records", "records_all"}),
    ),
    ("PUT", "/v1/inspections/{inspection_id}/events/{event}"): (
        "inspection",
        frozenset({"admin", "lead", "records", "records_all"}),
    ),
    ("GET", "/v1/inspections/{inspection_id}/retention"): (
        "inspection",
        frozenset({"admin", "lead", "records", "records_all"}),
    ),
    ("POST", "/v1/inspections/{inspection_id}/name-register"): ("inspection", frozenset({"lead"})),
    ("GET", "/v1/inspections/{inspection_id}/name-register"): ("inspection", READERS),
    ("GET", "/v1/users/{user_id}"): ("user", frozenset({"admin", "lead", "uploader"})),
    ("POST", "/v1/users/{user_id}/tokens"): ("user", frozenset({"admin", "lead", "uploader"})),
    ("GET", "/v1/users/{user_id}/tokens"): ("user", frozenset({"admin", "lead", "uploader"})),
    ("POST", "/v1/tokens/{token_id}/revoke"): ("token", frozenset({"admin", "lead", "uploader"})),
    # after fieldwork: the letter's days and the deadlines they start
    ("GET", "/v1/inspections/{inspection_id}/after-fieldwork"): ("inspection", ALL),
    ("PUT", "/v1/inspections/{inspection_id}/letter/{step}"): (
        "inspection",
        frozenset({"admin", "lead"}),
    ),
    # records to be seen on site, not sent
    ("PUT", "/v1/inspections/{inspection_id}/case-records/{agency}/{child_id}/seen-on-site"): (
        "inspection",
        frozenset({"admin", "lead"}),
    ),
    ("PUT", "/v1/inspections/{inspection_id}/case-records/{agency}/{child_id}/arrangement"): (
        "inspection",
        frozenset({"uploader"}),
    ),
    ("POST", "/v1/inspections/{inspection_id}/case-records/{agency}/{child_id}/seen"): (
        "inspection",
        READERS,
    ),
    # extra items: what the lead asks of one agency in one inspection
    ("POST", "/v1/inspections/{inspection_id}/extra-items"): (
        "inspection",
        frozenset({"admin", "lead"}),
    ),
    ("GET", "/v1/inspections/{inspection_id}/extra-items"): ("inspection", ALL),
    # issues of concern: the inspection's inspectors and the agency concerned, never an admin
    ("POST", "/v1/inspections/{inspection_id}/concerns"): ("inspection", READERS),
    ("GET", "/v1/inspections/{inspection_id}/concerns"): ("inspection", READERS | {"uploader"}),
    ("GET", "/v1/inspections/{inspection_id}/concerns/{concern_id}"): (
        "inspection",
        READERS | {"uploader"},
    ),
    ("PUT", "/v1/inspections/{inspection_id}/concerns/{concern_id}/evaluation"): (
        "inspection",
        READERS,
    ),
    ("POST", "/v1/inspections/{inspection_id}/concerns/{concern_id}/sign-off"): (
        "inspection",
        frozenset({"lead", "uploader"}),
    ),
}
# Routes whose records officer of every inspection also passes on another inspection.
RECORDS_EVERYWHERE = {k for k, (_kind, who) in EXPECTED.items() if "records_all" in who}


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str]
    # target kind -> variant ("own", "other_agency", "other_inspection") -> path values
    targets: dict[str, dict[str, dict[str, str]]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("authz")
    settings = Settings(
        data_dir=tmp / "data",
        rate_limit="100000/minute",
        rate_limit_unauthenticated="100000/minute",
        _env_file=None,  # type: ignore[call-arg]
    )
    container = build_portal(settings, store=FilesystemStore(tmp / "objects"))
    a, b = add_inspection(container), add_inspection(container)
    tokens: dict[str, str] = {}
    principals = {}
    for who, role, scope, agency in (
        ("admin", Role.admin, None, None),
        ("lead", Role.lead_inspector, a, None),
        ("inspector", Role.inspector, a, None),
        ("records", Role.records_officer, a, None),
        ("records_all", Role.records_officer, None, None),
        ("uploader", Role.agency_uploader, a, "local_authority"),
        ("other_lead", Role.lead_inspector, b, None),
        ("other_uploader", Role.agency_uploader, b, "local_authority"),
    ):
        principals[who], tokens[who] = issue_token(
            container, role, inspection_id=scope, agency=agency, label=who
        )

    def spare_token(who: str) -> str:
        user = container.identities.get_user(principals[who].user_id or "")
        assert user is not None
        return issue_user_token(container, user, label="spare")[0].id

    targets = {
        "none": {"own": {}},
        "inspection": {"own": {"inspection_id": a}, "other_inspection": {"inspection_id": b}},
        "document": {
            "own": {"document_id": add_document(container, a).id},
            "other_agency": {"document_id": add_document(container, a, agency="police").id},
            "other_inspection": {"document_id": add_document(container, b).id},
        },
        "hold": {
            "own": {"hold_id": container.records.place_hold(a, None, "r", "t", T0).id},
            "other_inspection": {"hold_id": container.records.place_hold(b, None, "r", "t", T0).id},
        },
        "user": {
            "own": {"user_id": principals["uploader"].user_id or ""},
            "other_inspection": {"user_id": principals["other_uploader"].user_id or ""},
        },
        "token": {
            "own": {"token_id": spare_token("uploader")},
            "other_inspection": {"token_id": spare_token("other_uploader")},
        },
    }
    with TestClient(create_app(container)) as client:
        run = client.post(
            "/v1/retention/runs", json={}, headers={"Authorization": f"Bearer {tokens['admin']}"}
        )
        assert run.status_code == 201, run.text
        yield World(client, tokens, targets)


def test_every_route_of_the_app_has_a_permission_and_a_row_in_the_matrix(world: World) -> None:
    schema = world.client.app.openapi()  # type: ignore[attr-defined]
    routes = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
    }
    assert routes == set(ROUTE_PERMISSIONS), "ROUTE_PERMISSIONS differs from the app's routes"
    assert routes == set(EXPECTED), "the matrix differs from the app's routes"


def _cases() -> Iterator[Any]:
    who_all = sorted(ALL | {"other_lead", "anonymous"})
    variants = {
        "none": ("own",),
        "inspection": ("own", "other_inspection"),
        "document": ("own", "other_agency", "other_inspection"),
        "hold": ("own", "other_inspection"),
        "user": ("own", "other_inspection"),
        "token": ("own", "other_inspection"),
    }
    for (method, path), (kind, _allowed) in sorted(EXPECTED.items()):
        for variant in variants[kind]:
            for who in who_all:
                yield pytest.param(
                    method, path, variant, who, id=f"{method} {path} {variant} {who}"
                )


def _expected(method: str, path: str, variant: str, who: str) -> str:
    kind, allowed = EXPECTED[(method, path)]
    hides = kind in ("document", "hold", "user", "token")
    if who == "anonymous":
        return "allow" if who in allowed else "unauthenticated"
    if who == "other_lead":
        # The lead inspector of inspection B: A's targets are another inspection's, and
        # the "other inspection" targets are B's, so their own.
        variant = "own" if variant == "other_inspection" else "other_inspection"
        who = "lead"
    if variant == "other_inspection":
        if who == "admin" or (who == "records_all" and (method, path) in RECORDS_EVERYWHERE):
            return "allow" if who in allowed else "forbid"
        if kind == "none":
            return "allow" if who in allowed else "forbid"
        if who == "records_all" and hides:
            return "allow" if who in allowed else "forbid"
        return "hide" if hides else "forbid"
    if variant == "other_agency" and who == "uploader":
        return "hide"
    return "allow" if who in allowed else "forbid"


def _outcome(response: Any) -> str:
    is_json = "json" in response.headers.get("content-type", "")
    body = response.json() if is_json and response.content else None
    code = body.get("code") if isinstance(body, dict) else None
    # /readyz answers 503 here (no clamd, no Prefect): that is its answer, not an error.
    assert response.status_code < 500 or code == "not_ready", response.text
    if response.status_code == 401:
        return "unauthenticated"
    if response.status_code == 403 and code == "forbidden":
        return "forbid"
    if response.status_code == 404 and code in (
        "document_not_found",
        "legal_hold_not_found",
        "user_not_found",
        "token_not_found",
    ):
        return "hide"
    return "allow"


def _fill(world: World, path: str, kind: str, variant: str) -> str:
    values = dict(world.targets[kind][variant])
    if kind == "token" and "token_id" not in values:
        values = {}
    values.setdefault("deadline", "week1_tuesday_5pm")
    values.setdefault("event", "letter_published")
    values.setdefault("step", "draft_letter_shared")
    values.setdefault("run_id", "no-such-run")
    # records to be seen on site, not sent
    values.setdefault("agency", "local_authority")
    values.setdefault("child_id", "C1")
    values.setdefault("concern_id", "0123456789ab")
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.mark.parametrize(("method", "path", "variant", "who"), list(_cases()))
def test_the_gate_lets_in_exactly_who_should_be_there(
    world: World, method: str, path: str, variant: str, who: str
) -> None:
    kind, _allowed = EXPECTED[(method, path)]
    url = _fill(world, path, kind, variant)
    headers = {} if who == "anonymous" else {"Authorization": f"Bearer {world.tokens[who]}"}
    if method == "GET":
        response = world.client.get(url, headers=headers)
    else:
        response = world.client.request(method, url, headers=headers, json=[])
    assert _outcome(response) == _expected(method, path, variant, who), response.text
