"""Least privilege for admins: they manage people, tokens, themes and inspections, and read
no case file and no name, through the API or the web pages (issue 15, item 8)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from portal.adapters.store_fs import FilesystemStore
from portal.app import create_app
from portal.domain.access import Role
from portal.services.identities import issue_token
from portal.settings import Settings
from tests.factories import add_document, add_inspection, build_portal

CASE_FILE = b"%PDF-1.4 the case file of a child at risk"


@dataclass
class Case:
    client: TestClient
    inspection_id: str
    document_id: str
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def case(tmp_path: Path) -> Iterator[Case]:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    container = build_portal(settings, store=FilesystemStore(tmp_path / "objects"))
    inspection_id = add_inspection(container)
    document = add_document(container, inspection_id, content=CASE_FILE)
    tokens = {
        who: issue_token(container, role, inspection_id=scope, label=who)[1]
        for who, role, scope in (
            ("admin", Role.admin, None),
            ("lead", Role.lead_inspector, inspection_id),
            ("inspector", Role.inspector, inspection_id),
        )
    }
    # 127.0.0.1: web sessions over plain HTTP are allowed only on localhost.
    with TestClient(create_app(container), base_url="http://127.0.0.1") as client:
        yield Case(client, inspection_id, document.id, tokens)


def _sign_in(client: TestClient, token: str) -> None:
    page = client.get("/sign-in")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    response = client.post(
        "/sign-in", data={"token": token, "csrf_token": found.group(1)}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def test_an_admin_cannot_read_a_documents_content_through_the_api(case: Case) -> None:
    url = f"/v1/documents/{case.document_id}/content"

    refused = case.client.get(url, headers=case.auth("admin"))

    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "forbidden"
    assert CASE_FILE not in refused.content
    # The inspection's inspector still reads it; the admin still sees its status.
    assert case.client.get(url, headers=case.auth("inspector")).content == CASE_FILE
    status = case.client.get(f"/v1/documents/{case.document_id}", headers=case.auth("admin"))
    assert status.status_code == 200, status.text


def test_an_admin_can_neither_read_nor_record_names_in_the_name_register(case: Case) -> None:
    url = f"/v1/inspections/{case.inspection_id}/name-register"
    recorded = case.client.post(
        url, json={"name": "Jayden Okafor", "reference": "C1"}, headers=case.auth("lead")
    )
    assert recorded.status_code == 201, recorded.text

    read = case.client.get(url, headers=case.auth("admin"))
    written = case.client.post(url, json={"name": "Someone Else"}, headers=case.auth("admin"))

    assert (read.status_code, read.json()["code"]) == (403, "forbidden")
    assert "Jayden" not in read.text
    assert (written.status_code, written.json()["code"]) == (403, "forbidden")
    names = case.client.get(url, headers=case.auth("inspector")).json()
    assert [n["name"] for n in names] == ["Jayden Okafor"]


def test_an_admin_still_manages_the_inspections_people(case: Case) -> None:
    response = case.client.get(
        f"/v1/inspections/{case.inspection_id}/users", headers=case.auth("admin")
    )

    assert response.status_code == 200, response.text


def test_an_admin_signed_in_to_the_web_pages_cannot_open_a_document(case: Case) -> None:
    _sign_in(case.client, case.tokens["admin"])

    content = case.client.get(f"/documents/{case.document_id}/content")
    listing = case.client.get(f"/inspections/{case.inspection_id}/documents")

    assert content.status_code == 403, content.text
    assert CASE_FILE not in content.content
    assert listing.status_code == 200, listing.text
    assert f"/documents/{case.document_id}/content" not in listing.text


@pytest.mark.parametrize("route", ["tokens", "users"])
def test_only_an_administrator_adds_a_lead_inspector_by_token_or_by_registration(
    case: Case, route: str
) -> None:
    url = f"/v1/inspections/{case.inspection_id}/{route}"
    body = {"role": "lead_inspector", "email": f"{route}@ofsted.example"}
    body |= {"label": "Second lead"} if route == "tokens" else {"name": "A Second Lead"}

    refused = case.client.post(url, headers=case.auth("lead"), json=body)
    added = case.client.post(url, headers=case.auth("admin"), json=body)

    assert refused.status_code == 403, refused.text
    assert "ask an administrator to add a lead inspector" in refused.json()["detail"]
    assert added.status_code == 201, added.text


def test_the_people_page_offers_a_lead_only_the_roles_a_lead_may_add(case: Case) -> None:
    _sign_in(case.client, case.tokens["lead"])

    page = case.client.get(f"/inspections/{case.inspection_id}/people")

    assert page.status_code == 200
    assert 'value="inspector"' in page.text and 'value="agency_uploader"' in page.text
    assert 'value="lead_inspector"' not in page.text
