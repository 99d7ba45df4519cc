"""Schemathesis against the portal's own OpenAPI schema, in-process: a bounded,
deterministic run of every operation that must never answer 5xx and must answer only
what the schema documents (status code, content type and body).

The run: the fuzzing phase only (no explicit examples, no coverage phase, no stateful
phase), MAX_EXAMPLES generated cases per operation with a fixed seed, derandomised, no
Hypothesis database and no deadline. Each case is sent as an admin, the lead inspector of
inspection A or an uploader of A's `local_authority` (drawn with the case), so handlers
behind the authorisation gate run too. Path parameters name a real record about half the
time (see `_real_path_parameters`), else most requests would stop at 404.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
import schemathesis
from schemathesis import GenerationMode
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.adapters.store_fs import FilesystemStore
from portal.api.app import create_app
from portal.api.auth import issue_token, issue_user_token
from portal.api.authz import ROUTE_PERMISSIONS
from portal.bootstrap import Container, build
from portal.domain.access import Inspection, Role
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.reasons import ReasonCode
from portal.settings import Settings
from tests.samples import pdf_text_pages

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
THEME = "domestic-abuse/sept-2024"
MAX_EXAMPLES = 20
ROLES = ("admin", "lead", "uploader")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# GET /readyz answers 503 problem+json here by design: there is no clamd and no Prefect in
# this in-process run, and "not ready" is exactly what it must say then. Its 503 is
# declared in the schema, so every other check still applies to it.
EXCLUDED: dict[str, list[Any]] = {"GET /readyz": [not_a_server_error]}


@dataclass
class World:
    app: FastAPI
    container: Container
    tokens: dict[str, str] = field(default_factory=dict)
    # path parameter name -> real values to use about half the time
    ids: dict[str, list[str]] = field(default_factory=dict)


def _inspection(
    container: Container, fieldwork_start: date | None = date(2026, 12, 7)
) -> Inspection:
    inspection = Inspection(
        id=uuid.uuid4().hex,
        theme_key=THEME,
        area_name="Testshire",
        fieldwork_start=fieldwork_start,
        agencies=("local_authority", "police"),
        created_at=T0,
    )
    container.repository.add_inspection(inspection, actor="test")
    return inspection


def _document(
    container: Container,
    inspection_id: str,
    agency: str,
    status: DocumentStatus,
    area: Area = Area.clean,
    **fields: Any,
) -> str:
    doc = Document(
        id=uuid.uuid4().hex,
        inspection_id=inspection_id,
        agency=agency,
        item_number="1.1",
        original_filename="a.pdf",
        status=status,
        area=area,
        file_type="pdf",
        mime_type="application/pdf",
        size_bytes=1000,
        received_at=T0,
        updated_at=T0,
        decided_at=T0 if status.is_final else None,
        **fields,
    )
    container.repository.add_document(doc, "test")
    container.store.put(area, doc.object_key, io.BytesIO(pdf_text_pages(1)))
    return doc.id


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    settings = Settings(
        data_dir=tmp / "data",
        rate_limit="1000000/minute",
        rate_limit_unauthenticated="1000000/minute",
        _env_file=None,  # type: ignore[call-arg]
    )
    container = build(settings, store=FilesystemStore(tmp / "objects"))
    a = _inspection(container)
    b = _inspection(container)
    no_timeline = _inspection(container, fieldwork_start=None)
    world = World(create_app(container), container)
    principals = {}
    for who, role, scope, agency in (
        ("admin", Role.admin, None, None),
        ("lead", Role.lead_inspector, a.id, None),
        ("uploader", Role.agency_uploader, a.id, "local_authority"),
        ("other_uploader", Role.agency_uploader, b.id, "police"),
    ):
        principals[who], world.tokens[who] = issue_token(
            container, role, inspection_id=scope, agency=agency, label=who
        )

    def spare_token(who: str) -> str:
        # Tokens the run may revoke: never the ones it authenticates with.
        user = container.identities.get_user(principals[who].user_id or "")
        assert user is not None
        return issue_user_token(container, user, label="spare")[0].id

    documents = [
        _document(container, a.id, "local_authority", DocumentStatus.accepted),
        _document(container, a.id, "local_authority", DocumentStatus.received),
        _document(
            container,
            a.id,
            "local_authority",
            DocumentStatus.failed,
            reasons=(ReasonCode.scanner_unavailable,),
        ),
        _document(
            container,
            a.id,
            "local_authority",
            DocumentStatus.rejected,
            reasons=(ReasonCode.infected,),
            detail="Eicar-Test-Signature",
        ),
        _document(container, a.id, "local_authority", DocumentStatus.accepted, deleted_at=T0),
        _document(container, a.id, "local_authority", DocumentStatus.accepted, Area.onsite),
        _document(container, a.id, "police", DocumentStatus.accepted),
        _document(container, b.id, "police", DocumentStatus.failed),
    ]
    schedule = container.schedule(a)
    assert schedule is not None
    container.repository.set_onsite(
        a.id, ["127.0.0.0/8"], T0, datetime(2027, 1, 1, tzinfo=UTC), "test", T0
    )
    world.ids = {
        "inspection_id": [a.id, b.id, no_timeline.id],
        "document_id": documents,
        "hold_id": [
            container.records.place_hold(a.id, None, "claim 1", "test", T0).id,
            container.records.place_hold(b.id, documents[-1], "claim 2", "test", T0).id,
        ],
        "user_id": [
            principals["uploader"].user_id or "",
            principals["lead"].user_id or "",
            principals["other_uploader"].user_id or "",
        ],
        "token_id": [spare_token("uploader"), spare_token("other_uploader")],
        "deadline": list(schedule.due_times()),
    }
    run = world_run = None
    from fastapi.testclient import TestClient

    with TestClient(world.app) as client:
        run = client.post(
            "/v1/retention/runs",
            json={},
            headers={"Authorization": f"Bearer {world.tokens['admin']}"},
        )
        assert run.status_code == 201, run.text
        world_run = run.json()["id"]
    world.ids["run_id"] = [world_run]
    yield world


@pytest.fixture(scope="module")
def api_schema(world: World) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)

    @schema.hook
    def flatmap_path_parameters(
        context: schemathesis.HookContext, path_parameters: dict[str, Any]
    ) -> st.SearchStrategy[dict[str, Any]]:
        return _real_path_parameters(world, path_parameters)

    return schema


def _real_path_parameters(
    world: World, generated: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Each path parameter: the generated value or, about half the time, a real id."""
    if not isinstance(generated, dict):
        return st.just(generated)
    choices = {
        name: st.one_of(st.sampled_from(world.ids[name]), st.just(value))
        if name in world.ids
        else st.just(value)
        for name, value in generated.items()
    }
    return st.fixed_dictionaries(choices)


OPERATIONS = sorted(f"{method} {path}" for method, path in ROUTE_PERMISSIONS)


def test_the_run_covers_every_operation_of_the_schema(api_schema: schemathesis.BaseSchema) -> None:
    labels = {result.ok().label for result in api_schema.get_all_operations()}
    assert labels == set(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_answers_as_documented_and_never_with_a_server_error(
    label: str, api_schema: schemathesis.BaseSchema, world: World
) -> None:
    method, path = label.split(" ", 1)
    operation = api_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    excluded = EXCLUDED.get(label, [])

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, who=st.sampled_from(ROLES))
    def run(case: schemathesis.Case, who: str) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {world.tokens[who]}"},
            checks=CHECKS,
            excluded_checks=excluded,
        )

    run()
