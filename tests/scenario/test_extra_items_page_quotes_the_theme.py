"""The lead's page "Ask an agency for more" quotes what the inspection's own guidance says
about asking for more than it lists (the theme's `additional_requests`), or says that it
says nothing."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from portal.app import create_app
from portal.bootstrap import Container
from portal.domain.access import Role
from portal.services.identities import issue_token
from portal.settings import Settings
from tests.factories import THEME, add_inspection, build_portal


def _page(container: Container, inspection_id: str) -> str:
    _person, token = issue_token(container, Role.lead_inspector, inspection_id=inspection_id)
    # 127.0.0.1: web sessions over plain HTTP are allowed only on localhost.
    with TestClient(create_app(container), base_url="http://127.0.0.1") as client:
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
        assert found
        client.post("/sign-in", data={"token": token, "csrf_token": found.group(1)})
        page = client.get(f"/inspections/{inspection_id}/extra-items")
    assert page.status_code == 200, page.text
    return " ".join(page.text.split())


def _container(tmp_path: Path) -> Container:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    return build_portal(settings)


def test_the_page_quotes_the_inspections_own_guidance_with_its_paragraph(
    tmp_path: Path,
) -> None:
    container = _container(tmp_path)
    inspection_id = add_inspection(container)

    text = _page(container, inspection_id)

    assert (
        "“Inspectors may ask for additional information not set out in Annex A and may agree "
        "to look at additional information provided by the local partnership.” (para 36)"
    ) in text
    assert "Children who are victims of domestic abuse (September 2024)" in text
    assert "paragraph 127" not in text and "para 17)" not in text


def test_where_the_guidance_says_nothing_the_page_says_so(tmp_path: Path) -> None:
    container = _container(tmp_path)
    container.themes[THEME] = container.themes[THEME].model_copy(update={"additional_requests": ()})
    inspection_id = add_inspection(container)

    text = _page(container, inspection_id)

    assert "says nothing about asking agencies for more than it lists" in text
    assert "para 36" not in text
    assert "Ask the agency" in text
