"""Hostile uploads are bounded before they cost anything: part and header counts, field
sizes, per-target size limits, and filenames that are never trusted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.adapters.store_fs import FilesystemStore
from portal.app import create_app
from portal.bootstrap import Container
from portal.domain.access import Role
from portal.services.identities import issue_token
from portal.settings import Settings
from tests.factories import add_inspection, build_portal

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BOUNDARY = "hostile-boundary"


@dataclass
class Upload:
    container: Container
    client: TestClient
    url: str
    headers: dict[str, str]
    objects: Path

    def raw(self, body: bytes) -> Any:
        return self.client.post(
            self.url,
            content=body,
            headers={
                **self.headers,
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            },
        )


@pytest.fixture
def upload(tmp_path: Path) -> Iterator[Upload]:
    settings = Settings(
        data_dir=tmp_path / "data",
        max_list_upload_bytes=1024,
        _env_file=None,  # type: ignore[call-arg]
    )
    container = build_portal(settings, store=FilesystemStore(tmp_path / "objects"))
    inspection_id = add_inspection(container)
    _p, token = issue_token(
        container, Role.agency_uploader, inspection_id=inspection_id, agency="local_authority"
    )
    with TestClient(create_app(container)) as client:
        yield Upload(
            container,
            client,
            f"/v1/inspections/{inspection_id}/documents",
            {"Authorization": f"Bearer {token}"},
            tmp_path / "objects",
        )


def _part(name: str, value: bytes, filename: str | None = None, extra: str = "") -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{extra}\r\n".encode()
        + value
        + b"\r\n"
    )


def _form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _stored_objects(upload: Upload) -> list[Path]:
    return [p for p in upload.objects.rglob("*") if p.is_file()]


def test_a_form_with_too_many_parts_is_refused_and_nothing_is_kept(upload: Upload) -> None:
    parts = [_part("item", b"1.1") for _ in range(30)]
    response = upload.raw(_form(_part("file", b"%PDF-1.4", "a.pdf"), *parts))
    assert response.status_code == 400 and response.json()["code"] == "malformed_upload"
    assert "parts" in response.json()["detail"]
    assert _stored_objects(upload) == []


def test_a_part_with_enormous_headers_is_refused(upload: Upload) -> None:
    padding = "X-Padding: " + "a" * 20_000 + "\r\n"
    response = upload.raw(_form(_part("item", b"1.1", extra=padding)))
    assert response.status_code == 400 and "header" in response.json()["detail"]


def test_a_field_longer_than_its_limit_is_refused(upload: Upload) -> None:
    response = upload.raw(_form(_part("item", b"1" * 20_000), _part("file", b"%PDF-1.4", "a.pdf")))
    assert response.status_code == 400 and "too long" in response.json()["detail"]
    assert _stored_objects(upload) == []


def test_a_list_of_children_over_its_own_limit_is_too_large(upload: Upload) -> None:
    rows = b"Child ID,Assessment start date\r\n" + b"DA-001,2025-01-03\r\n" * 100
    response = upload.raw(
        _form(_part("item", b"list:ilacs_list_4_assessments"), _part("file", rows, "l.csv"))
    )
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert "list of children" in response.json()["detail"]
    assert _stored_objects(upload) == []


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\x\\report.pdf", "report.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("tab\there.pdf", "tab here.pdf"),
        ("nul\x00byte.pdf", "nulbyte.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ("Zoë’s report – 2025.pdf", "Zoë’s report – 2025.pdf"),
    ],
)
def test_hostile_filenames_are_neutralised_and_never_used_as_paths(
    upload: Upload, sent: str, kept: str
) -> None:
    disposition = f'form-data; name="file"; filename="{sent}"'.encode()
    file_part = (
        f"--{BOUNDARY}\r\nContent-Disposition: ".encode()
        + disposition
        + b"\r\n\r\n%PDF-1.4 test\r\n"
    )
    response = upload.raw(_form(_part("item", b"1.1"), file_part))
    assert response.status_code == 202, response.text
    status = upload.client.get(response.json()["status_url"], headers=upload.headers).json()
    assert status["filename"] == kept
    # The bytes live under the document's id, wherever the name pointed.
    assert [p.name for p in _stored_objects(upload)] == [response.json()["id"]]


def test_an_overlong_filename_is_shortened_keeping_its_extension(upload: Upload) -> None:
    response = upload.client.post(
        upload.url,
        headers=upload.headers,
        data={"item": "1.1"},
        files={"file": ("a" * 300 + ".pdf", b"%PDF-1.4 test", "application/pdf")},
    )
    status = upload.client.get(response.json()["status_url"], headers=upload.headers).json()
    assert len(status["filename"]) <= 150 and status["filename"].endswith(".pdf")
