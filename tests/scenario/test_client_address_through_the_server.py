"""The address the portal acts on is the connection's, through the real API process:
headers that name another address (X-Forwarded-For, X-Real-IP, Forwarded) change nothing
unless JTAI_TRUSTED_PROXIES names the peer, not even from 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from portal.domain.access import Role
from portal.domain.documents import Area
from portal.services.identities import issue_token
from portal.settings import Settings
from tests import samples
from tests.api_process import api_process
from tests.conftest import ClamdProcess
from tests.factories import add_document, add_inspection, build_beside_processes

ON_SITE = "10.20.30.40"
FORGED = [
    {"X-Forwarded-For": ON_SITE},
    {"X-Real-IP": ON_SITE},
    {"Forwarded": f"for={ON_SITE}"},
    {"X-Forwarded-For": f"{ON_SITE}, 127.0.0.1"},
]


@pytest.fixture
def health_record(
    settings: Settings, running_clamd: ClamdProcess, tmp_path: Path
) -> Iterator[tuple[str, str, str]]:
    """An accepted health record of an inspection whose venue is 10.20.30.0/24, during
    its fieldwork window, and the API process serving it with no trusted proxy: its URL,
    the document's id and an inspector's token."""
    container = build_beside_processes(settings)
    inspection_id = add_inspection(container)
    document = add_document(
        container,
        inspection_id,
        agency="police",
        area=Area.onsite,
        file_type="pdf",
        mime_type="application/pdf",
        content=samples.pdf_text_pages(1),
    )
    now = container.clock.now()
    container.repository.set_onsite(
        inspection_id,
        ["10.20.30.0/24"],
        now - timedelta(hours=1),
        now + timedelta(hours=8),
        "test",
        now,
    )
    _p, inspector = issue_token(container, Role.inspector, inspection_id=inspection_id)
    with api_process(settings, tmp_path / "api.log") as url:
        yield url, document.id, inspector


@pytest.mark.parametrize(
    "forged", FORGED, ids=["x_forwarded_for", "x_real_ip", "forwarded", "x_forwarded_for_hops"]
)
def test_a_forged_venue_address_from_the_same_host_does_not_open_a_health_record(
    settings: Settings, health_record: tuple[str, str, str], forged: dict[str, str]
) -> None:
    url, document_id, inspector = health_record
    response = httpx.get(
        f"{url}/v1/documents/{document_id}/content",
        headers={"Authorization": f"Bearer {inspector}", **forged},
        timeout=30,
    )
    assert response.status_code == 403, response.text[:200]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "onsite_only"
    assert response.json()["rule"] == "off_site"
    events = build_beside_processes(settings, run_migrations=False).repository.audit_events(
        document_id
    )
    assert [e["detail"]["address"] for e in events if e["action"].startswith("document_view")] == [
        "127.0.0.1"
    ]


def test_rotating_forged_addresses_does_not_escape_the_per_address_limit(
    settings: Settings, running_clamd: ClamdProcess, tmp_path: Path
) -> None:
    build_beside_processes(settings)  # migrates the database the process serves
    with api_process(
        settings, tmp_path / "api.log", JTAI_RATE_LIMIT_UNAUTHENTICATED="3/minute"
    ) as url:
        answers = [
            httpx.get(
                url + "/v1/me",
                headers={"Authorization": "Bearer jtai_guess", "X-Forwarded-For": f"192.0.2.{n}"},
                timeout=30,
            )
            for n in range(1, 5)
        ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
