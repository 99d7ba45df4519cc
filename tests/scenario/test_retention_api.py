"""Records officers drive retention through the API: dry runs, deleting runs and their
records, legal holds, the events retention counts from, and the name register."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.adapters.store_fs import FilesystemStore
from portal.app import create_app
from portal.bootstrap import Container
from portal.domain.access import Role
from portal.domain.documents import Area, Document
from portal.services.identities import issue_token
from portal.services.retention_runs import run_retention
from portal.settings import Settings
from tests.factories import add_document, add_inspection, build_portal

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
FIELDWORK_START = date(2026, 3, 30)  # fieldwork ends Thursday 2 April 2026 (Good Friday)


@dataclass
class Api:
    container: Container
    client: TestClient
    tokens: dict[str, str]
    inspection_id: str
    other_inspection_id: str

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def document(self, item: str, inspection_id: str | None = None) -> Document:
        return add_document(
            self.container,
            inspection_id or self.inspection_id,
            item=item,
            child_id="C1" if item == "case_record" else None,
            original_filename="chronology.pdf",
            size_bytes=5,
            sha256_stored="c" * 64,
            content=b"bytes",
        )


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    container = build_portal(settings, store=FilesystemStore(tmp_path / "objects"))
    inspection_id = add_inspection(container, fieldwork_start=FIELDWORK_START)
    other = add_inspection(container, fieldwork_start=FIELDWORK_START, area_name="Elsewhere")
    tokens: dict[str, str] = {}
    for who, role, scope, agency in (
        ("admin", Role.admin, None, None),
        ("records", Role.records_officer, None, None),
        ("records_here", Role.records_officer, inspection_id, None),
        ("records_other", Role.records_officer, other, None),
        ("lead", Role.lead_inspector, inspection_id, None),
        ("inspector", Role.inspector, inspection_id, None),
        ("uploader", Role.agency_uploader, inspection_id, "local_authority"),
    ):
        _p, tokens[who] = issue_token(
            container, role, inspection_id=scope, agency=agency, label=who
        )
    with TestClient(create_app(container)) as client:
        yield Api(container, client, tokens, inspection_id, other)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def test_a_records_officer_previews_a_run_and_nothing_goes(api: Api) -> None:
    doc = api.document("list:ilacs_4")
    response = api.client.post("/v1/retention/runs", json={}, headers=api.as_("records"))
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["dry_run"] is True and run["status"] == "completed"
    entry = next(e for e in run["entries"] if e["record_id"] == doc.id)
    assert (entry["action"], entry["retention_class"]) == ("would_delete", "child_list")
    assert api.container.store.exists(Area.clean, doc.object_key)


def test_a_deleting_run_deletes_what_is_due_and_its_record_can_be_read_back(api: Api) -> None:
    child_list = api.document("list:ilacs_4")
    case_record = api.document("case_record")
    response = api.client.post(
        "/v1/retention/runs", json={"dry_run": False}, headers=api.as_("records")
    )
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]

    record = api.client.get(f"/v1/retention/runs/{run_id}", headers=api.as_("records")).json()
    deleted = {e["record_id"]: e for e in record["entries"] if e["action"] == "deleted"}
    assert child_list.id in deleted and case_record.id not in deleted
    assert deleted[child_list.id]["proof"]["versions_remaining"] == 0
    assert deleted[child_list.id]["sha256"] == "c" * 64
    listed = api.client.get("/v1/retention/runs", headers=api.as_("records")).json()
    assert listed[0]["id"] == run_id and listed[0]["entries"] == []

    content = api.client.get(f"/v1/documents/{child_list.id}/content", headers=api.as_("inspector"))
    _problem(content, 410, "document_deleted")
    status = api.client.get(f"/v1/documents/{child_list.id}", headers=api.as_("inspector"))
    assert status.json()["deleted_at"] is not None and status.json()["filename"] == ""


def test_only_a_dry_run_can_look_ahead(api: Api) -> None:
    response = api.client.post(
        "/v1/retention/runs",
        json={"dry_run": False, "as_of": "2030-01-01T00:00:00Z"},
        headers=api.as_("admin"),
    )
    _problem(response, 422, "as_of_needs_dry_run")


@pytest.mark.parametrize("who", ["lead", "inspector", "uploader"])
def test_only_records_officers_and_admins_run_retention(api: Api, who: str) -> None:
    response = api.client.post("/v1/retention/runs", json={}, headers=api.as_(who))
    _problem(response, 403, "forbidden")


def test_a_records_officer_of_one_inspection_sees_only_its_entries(api: Api) -> None:
    here = api.document("list:ilacs_4")
    there = api.document("list:ilacs_4", inspection_id=api.other_inspection_id)
    run = api.client.post("/v1/retention/runs", json={}, headers=api.as_("records_here")).json()
    ids = {e["record_id"] for e in run["entries"]}
    assert here.id in ids and there.id not in ids


def test_a_records_officer_of_one_inspection_deletes_in_that_inspection_only(api: Api) -> None:
    here = api.document("list:ilacs_4")
    there = api.document("list:ilacs_4", inspection_id=api.other_inspection_id)
    for inspection_id in (api.inspection_id, api.other_inspection_id):
        api.container.records.add_name(inspection_id, "Jayden Okafor", "C1", "", "lead", T0)

    response = api.client.post(
        "/v1/retention/runs", json={"dry_run": False}, headers=api.as_("records_here")
    )

    assert response.status_code == 201, response.text
    assert api.container.repository.get_document(here.id).deleted_at is not None  # type: ignore[union-attr]
    assert not api.container.store.exists(Area.clean, here.object_key)
    assert api.container.records.names_reduced_at(api.inspection_id) is not None
    # The other inspection's records are untouched, and not counted as if they had gone.
    assert api.container.repository.get_document(there.id).deleted_at is None  # type: ignore[union-attr]
    assert api.container.store.exists(Area.clean, there.object_key)
    assert api.container.records.names_reduced_at(api.other_inspection_id) is None
    assert [n.name for n in api.container.records.names(api.other_inspection_id)] == [
        "Jayden Okafor"
    ]
    assert response.json()["summary"].get("deleted") == 1

    # A records officer of every inspection (like an admin, or the scheduled run) covers all.
    everywhere = api.client.post(
        "/v1/retention/runs", json={"dry_run": False}, headers=api.as_("records")
    )
    assert everywhere.status_code == 201, everywhere.text
    assert not api.container.store.exists(Area.clean, there.object_key)
    assert api.container.records.names_reduced_at(api.other_inspection_id) is not None


def test_a_hold_keeps_a_document_until_it_is_lifted(api: Api) -> None:
    doc = api.document("list:ilacs_4")
    placed = api.client.post(
        f"/v1/inspections/{api.inspection_id}/legal-holds",
        json={"document_id": doc.id, "reason": "Subject access request SAR-77"},
        headers=api.as_("records_here"),
    )
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert hold["active"] is True and hold["placed_by"].startswith("records_officer:")

    run = api.client.post(
        "/v1/retention/runs", json={"dry_run": False}, headers=api.as_("records")
    ).json()
    held = next(e for e in run["entries"] if e["record_id"] == doc.id)
    assert (held["action"], held["hold_ids"]) == ("held", [hold["id"]])
    assert api.container.store.exists(Area.clean, doc.object_key)

    lifted = api.client.post(
        f"/v1/legal-holds/{hold['id']}/lift",
        json={"reason": "request answered"},
        headers=api.as_("records_here"),
    ).json()
    assert lifted["active"] is False and lifted["lift_reason"] == "request answered"
    holds = api.client.get(
        f"/v1/inspections/{api.inspection_id}/legal-holds", headers=api.as_("records")
    ).json()
    assert [h["id"] for h in holds] == [hold["id"]]

    api.client.post("/v1/retention/runs", json={"dry_run": False}, headers=api.as_("records"))
    assert not api.container.store.exists(Area.clean, doc.object_key)


def test_holds_are_refused_for_strangers_and_unknown_documents(api: Api) -> None:
    url = f"/v1/inspections/{api.inspection_id}/legal-holds"
    other_doc = api.document("1.1", inspection_id=api.other_inspection_id)
    _problem(
        api.client.post(url, json={"reason": "x" * 10}, headers=api.as_("records_other")),
        403,
        "forbidden",
    )
    _problem(
        api.client.post(url, json={"reason": "x" * 10}, headers=api.as_("lead")),
        403,
        "forbidden",
    )
    _problem(
        api.client.post(
            url,
            json={"document_id": other_doc.id, "reason": "x" * 10},
            headers=api.as_("records"),
        ),
        404,
        "document_not_found",
    )
    _problem(
        api.client.post(
            "/v1/legal-holds/nope/lift", json={"reason": "abc"}, headers=api.as_("records")
        ),
        404,
        "legal_hold_not_found",
    )


def test_recording_the_letter_sets_when_evidence_goes(api: Api) -> None:
    schedule_url = f"/v1/inspections/{api.inspection_id}/retention"
    before = api.client.get(schedule_url, headers=api.as_("records")).json()
    case_records = next(c for c in before["classes"] if c["retention_class"] == "case_record")
    assert "letter_published is not recorded yet" in case_records["waiting_for"]
    assert before["recorded"] == {"fieldwork_end": "2026-04-02"}
    assert before["estimated"]["letter_published"]

    response = api.client.put(
        f"/v1/inspections/{api.inspection_id}/events/letter_published",
        json={"on": "2026-05-21"},
        headers=api.as_("lead"),
    )
    assert response.status_code == 204, response.text
    after = api.client.get(schedule_url, headers=api.as_("lead")).json()
    case_records = next(c for c in after["classes"] if c["retention_class"] == "case_record")
    assert (case_records["due"], case_records["waiting_for"]) == ("2026-06-05", "")

    _problem(
        api.client.put(
            f"/v1/inspections/{api.inspection_id}/events/withdrawn",
            json={"on": "2026-05-21"},
            headers=api.as_("lead"),
        ),
        422,
        "event_not_recordable",
    )
    _problem(
        api.client.put(
            f"/v1/inspections/{api.inspection_id}/events/letter_published",
            json={"on": "2026-05-21"},
            headers=api.as_("inspector"),
        ),
        403,
        "forbidden",
    )


def test_the_name_register_is_kept_by_the_lead_and_reduced_after_fieldwork(api: Api) -> None:
    url = f"/v1/inspections/{api.inspection_id}/name-register"
    created = api.client.post(
        url,
        json={"name": "Jayden Okafor", "reference": "C1", "note": "Okafor family"},
        headers=api.as_("lead"),
    )
    assert created.status_code == 201, created.text
    _problem(api.client.get(url, headers=api.as_("uploader")), 403, "forbidden")
    _problem(
        api.client.post(url, json={"name": "Someone Else"}, headers=api.as_("inspector")),
        403,
        "forbidden",
    )
    assert [n["name"] for n in api.client.get(url, headers=api.as_("inspector")).json()] == [
        "Jayden Okafor"
    ]

    run_retention(api.container, dry_run=False, as_of=datetime(2026, 4, 2, 18, tzinfo=UTC))

    names = api.client.get(url, headers=api.as_("inspector")).json()
    assert [(n["name"], n["note"]) for n in names] == [("J.O.", "O. family")]
    _problem(
        api.client.post(url, json={"name": "Late Name"}, headers=api.as_("lead")),
        409,
        "names_already_reduced",
    )
