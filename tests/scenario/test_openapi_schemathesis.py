"""Schemathesis against the portal's own OpenAPI schema, in-process: every operation, a
bounded and deterministic run, must never answer 5xx and must answer only what the schema
documents (status code, content type, headers and body).

The bound: for each operation, at most MAX_EXAMPLES cases, positive and negative, from
Hypothesis with `derandomize=True` (the same cases every run), no example database, no
deadline and no shrinking (a failure reports the case as found, so a failing run stays
bounded too). Each case is sent as the admin, the lead inspector of inspection A or an
uploader of A's `local_authority`, drawn with the case, so the handlers behind the
authorisation gate run as well as the gate. Path parameters and a few body and query
fields (theme, agency, item...) name real records about half the time; otherwise nearly
every request would stop at 404 or 422 before reaching a handler's logic.

The schema comes from the app itself (`/openapi.json` through ASGI). The operations are
pytest parameters taken from ROUTE_PERMISSIONS, which the authorisation matrix test
checks against the app's routes; the first test checks it against the schema.
(Schemathesis' own `from_fixture(...).parametrize()` is not used: 4.32.5 writes pytest's
private `Node._nodeid`, which pytest 9.2 no longer has.)
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
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.adapters.store_fs import FilesystemStore
from portal.api.authz import ROUTE_PERMISSIONS
from portal.app import create_app
from portal.bootstrap import Container
from portal.domain.access import Inspection, Role
from portal.domain.chase import Contacts
from portal.domain.concerns import ConcernCategory, ConcernRequest
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.reasons import ReasonCode
from portal.services.chasing import run_chase
from portal.services.concerns import raise_concern
from portal.services.identities import issue_token, issue_user_token
from portal.services.retention_runs import run_retention
from portal.settings import Settings
from tests.factories import build_portal
from tests.samples import pdf_text_pages

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
THEME = "domestic-abuse/sept-2024"
MAX_EXAMPLES = 25
ROLES = ("admin", "lead", "uploader")
OPERATIONS = sorted(f"{method} {path}" for method, path in ROUTE_PERMISSIONS)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXCLUDED_CHECKS: dict[str, list[Any]] = {
    # /readyz answers 503 problem+json here by design: this in-process run has no clamd
    # and no Prefect, and "not ready" is then its correct answer. The 503 is declared, so
    # the status, content type and body are still checked.
    "GET /readyz": [not_a_server_error],
}


@dataclass
class World:
    app: FastAPI
    container: Container
    tokens: dict[str, str] = field(default_factory=dict)
    # parameter or body field name -> real values, used about half the time
    real: dict[str, list[Any]] = field(default_factory=dict)


def _inspection(container: Container, fieldwork_start: date | None) -> Inspection:
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
    document = Document(
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
    container.repository.add_document(document, "test")
    container.store.put(area, document.object_key, io.BytesIO(pdf_text_pages(1)))
    return document.id


@pytest.fixture(scope="module", autouse=True)
def _hypothesis_home_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hypothesis keeps caches in its home directory (.hypothesis/ of the working
    directory unless told otherwise) even with no example database: not in the repo."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The real app over SQLite and a filesystem store, with records the cases can name:
    inspection A (timeline, selections, on-site window, contacts, sent messages), another
    inspection B and one without a timeline; documents in every state; holds; users with
    spare tokens; a retention run."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    settings = Settings(
        data_dir=tmp / "data",
        rate_limit="1000000/minute",
        rate_limit_unauthenticated="1000000/minute",
        _env_file=None,  # type: ignore[call-arg]
    )
    container = build_portal(settings, store=FilesystemStore(tmp / "objects"))
    a = _inspection(container, date(2026, 12, 7))
    b = _inspection(container, date(2026, 12, 7))
    no_timeline = _inspection(container, None)
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

    la = "local_authority"
    documents = [
        _document(container, a.id, la, DocumentStatus.accepted),
        _document(container, a.id, la, DocumentStatus.received),
        _document(
            container, a.id, la, DocumentStatus.failed, reasons=(ReasonCode.scanner_unavailable,)
        ),
        _document(
            container,
            a.id,
            la,
            DocumentStatus.rejected,
            reasons=(ReasonCode.infected,),
            detail="Eicar-Test-Signature",
        ),
        _document(container, a.id, la, DocumentStatus.accepted, deleted_at=T0),
        _document(container, a.id, la, DocumentStatus.accepted, Area.onsite),
        _document(container, a.id, "police", DocumentStatus.accepted),
        _document(container, b.id, "police", DocumentStatus.failed),
    ]
    schedule = container.schedule(a)
    assert schedule is not None
    children = ["C001", "C002", "C003", "C004"]
    container.repository.replace_selection(a.id, "shortlist", children, "test", T0)
    container.repository.replace_selection(a.id, "audit", children[:2], "test", T0)
    container.repository.set_onsite(
        a.id, ["127.0.0.0/8"], T0, datetime(2027, 1, 1, tzinfo=UTC), "test", T0
    )
    # Messages owed for A's first deadlines, recorded and sent, so /alerts lists some.
    container.repository.set_contacts(
        a.id,
        Contacts(lead_inspector=("lead@example.org",), agencies={"police": ("p@example.org",)}),
    )
    assert run_chase(container, container.mailer, datetime(2026, 12, 2, 10, tzinfo=UTC)).sent
    concern = raise_concern(
        container,
        principals["lead"],
        a.id,
        ConcernRequest(
            agency="local_authority",
            case_numbers=["C001"],
            category=ConcernCategory.serious,
            service="Front door",
            issues="No strategy discussion.",
            required_by=datetime(2026, 12, 10, 17, tzinfo=UTC),
        ),
    )
    world.real = {
        # A twice: the lead inspector and the uploader belong to it.
        "inspection_id": [a.id, a.id, b.id, no_timeline.id],
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
        "run_id": [run_retention(container, dry_run=True, actor="test").id],
        "deadline": list(schedule.due_times()),
        "theme": sorted(container.themes),
        "agency": ["local_authority", "police"],
        "agencies": [["local_authority", "police"], ["police"]],
        "item": ["1.1", "case_record", "audit"],
        "child_id": children,
        "child_ids": [children, children[:2]],
        "networks": [["127.0.0.0/8", "192.0.2.0/24"]],
        "concern_id": [concern.concern.id],
    }
    yield world


@pytest.fixture(scope="module")
def api_schema(world: World) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)

    @schema.hook
    def flatmap_path_parameters(
        context: schemathesis.HookContext, path_parameters: Any
    ) -> st.SearchStrategy[Any]:
        return _sometimes_real(world, path_parameters)

    @schema.hook
    def flatmap_query(context: schemathesis.HookContext, query: Any) -> st.SearchStrategy[Any]:
        return _sometimes_real(world, query)

    @schema.hook
    def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
        return _sometimes_real(world, body)

    return schema


def _sometimes_real(world: World, generated: Any) -> st.SearchStrategy[Any]:
    """The generated values, each known name replaced by a real value about half the time
    (negative cases included: a real id next to an invalid field is a useful case too)."""
    if not isinstance(generated, dict):
        return st.just(generated)
    return st.fixed_dictionaries(
        {
            name: st.one_of(st.sampled_from(world.real[name]), st.just(value))
            if name in world.real
            else st.just(value)
            for name, value in generated.items()
        }
    )


def test_the_run_covers_every_operation_of_the_schema(api_schema: schemathesis.BaseSchema) -> None:
    results = list(api_schema.get_all_operations())
    invalid = [result.err() for result in results if isinstance(result, Err)]
    assert not invalid, "operations schemathesis cannot read"
    assert {result.ok().label for result in results if isinstance(result, Ok)} == set(OPERATIONS)


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

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, who=st.sampled_from(ROLES))
    def run(case: schemathesis.Case[Any], who: str) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {world.tokens[who]}"},
            checks=CHECKS,
            excluded_checks=EXCLUDED_CHECKS.get(label, []),
        )

    for who, values in _happy_paths(world).get(label, []):
        run = example(case=operation.Case(**values), who=who)(run)
    run()


def _happy_paths(world: World) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Explicit cases, run before the generated ones, for handlers that generated data
    seldom gets through to: uploads need the one role, inspection and form that fit."""
    a = world.real["inspection_id"][0]
    pdf = pdf_text_pages(1)
    return {
        "POST /v1/inspections/{inspection_id}/documents": [
            (
                "uploader",
                {
                    "path_parameters": {"inspection_id": a},
                    "body": {"file": pdf, "item": "1.1"},
                    "media_type": "multipart/form-data",
                },
            ),
            (
                "uploader",
                {
                    "path_parameters": {"inspection_id": a},
                    "body": {"file": pdf, "item": "case_record", "child_id": "C001"},
                    "media_type": "multipart/form-data",
                },
            ),
        ],
    }
