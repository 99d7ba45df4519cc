"""The lead inspector's alerts page says when agencies are reminded, as the chase policy
sets it."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from portal.app import create_app
from portal.domain.access import Role
from portal.services.identities import issue_token
from portal.settings import Settings
from tests.factories import add_inspection, build_portal


def test_before_any_message_the_alerts_page_says_how_far_ahead_agencies_are_reminded(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    container = build_portal(settings)
    inspection_id = add_inspection(container)
    _person, token = issue_token(container, Role.lead_inspector, inspection_id=inspection_id)
    # 127.0.0.1: web sessions over plain HTTP are allowed only on localhost.
    with TestClient(create_app(container), base_url="http://127.0.0.1") as client:
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
        assert found
        client.post("/sign-in", data={"token": token, "csrf_token": found.group(1)})
        page = client.get(f"/inspections/{inspection_id}/alerts")
    assert page.status_code == 200, page.text
    text = " ".join(page.text.split())
    assert (
        "is reminded once of each of its own deadlines, from 2 working days before it, never "
        "at a weekend or on a bank holiday" in text
    )
