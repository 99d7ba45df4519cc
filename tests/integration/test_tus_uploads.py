"""The upload pages' resumable uploads (tus 1.0.0: core, creation, termination, expiration)
over real HTTP: uvicorn serving the app on 127.0.0.1, a session signed in through the
sign-in page, real clamd and, for the pipeline, a Prefect server. No browser."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from portal.adapters.resumable_files import PartialUploads
from portal.app import create_app
from portal.domain.documents import Area
from portal.domain.resumable import PartialUpload
from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal, settable_clock
from tests.scenario.harness import PortalUnderTest, start_portal

PDF = samples.pdf_of_size(2_500_000)
MIB = 1024 * 1024


@dataclass
class Served:
    """The app over HTTP on 127.0.0.1 (so plain-HTTP sessions work), with its inspection."""

    url: str
    portal: PortalUnderTest

    @property
    def settings(self) -> Settings:
        return self.portal.container.settings

    @property
    def inspection_id(self) -> str:
        return self.portal.inspection_id

    def uploads_dir(self) -> Path:
        return self.settings.resumable_dir

    def kept_files(self) -> list[str]:
        folder = self.uploads_dir()
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def served(settings: Settings, running_clamd: ClamdProcess) -> Iterator[Served]:
    with _serving(settings) as served:
        yield served


@contextlib.contextmanager
def _serving(settings: Settings) -> Iterator[Served]:
    container = build_portal(settings)
    portal = start_portal(container)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(container), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", portal)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


class Tus:
    """One browser's signed-in session speaking tus to one upload page."""

    def __init__(self, served: Served, who: str | None, key: str = "1.1") -> None:
        self.served = served
        self.client = httpx.Client(base_url=served.url, timeout=30)
        self.endpoint = f"/inspections/{served.inspection_id}/items/{key}/resumable"
        self.csrf = ""
        if who is not None:
            self.sign_in(served.portal.tokens[who], key)

    def sign_in(self, token: str, key: str) -> None:
        page = self.client.get("/sign-in")
        response = self.client.post(
            "/sign-in", data={"token": token, "csrf_token": _csrf(page.text)}
        )
        assert response.status_code == 303, response.text
        upload_page = self.client.get(
            f"/inspections/{self.served.inspection_id}/items/{key}/upload"
        )
        if upload_page.status_code == 200:
            self.csrf = _csrf(upload_page.text)
        else:  # not this person's item: any page of theirs has the session's token
            self.csrf = _csrf(self.client.get("/sign-out").text)

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Tus-Resumable": "1.0.0", "X-CSRF-Token": self.csrf, **extra}

    def create(
        self, length: int, filename: str = "organisation.pdf", **metadata: str
    ) -> httpx.Response:
        values = {"filename": filename, "filetype": "application/pdf", **metadata}
        header = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())
        return self.client.post(
            self.endpoint,
            headers=self.headers(**{"Upload-Length": str(length), "Upload-Metadata": header}),
        )

    def created(self, length: int, **metadata: str) -> str:
        response = self.create(length, **metadata)
        assert response.status_code == 201, response.text
        location: str = response.headers["location"]
        assert location.startswith(self.endpoint + "/")
        return location

    def head(self, url: str) -> httpx.Response:
        return self.client.head(url, headers=self.headers())

    def patch(self, url: str, offset: int, data: bytes, **extra: str) -> httpx.Response:
        headers = {
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            **extra,
        }
        return self.client.patch(url, headers=self.headers(**headers), content=data)

    def send_all(self, url: str, data: bytes, offset: int = 0, chunk: int = MIB) -> httpx.Response:
        while True:
            response = self.patch(url, offset, data[offset : offset + chunk])
            assert response.status_code == 204, response.text
            offset = int(response.headers["upload-offset"])
            if offset == len(data):
                return response


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["code"] == code, body
    return body


# -- the protocol ------------------------------------------------------------------------


def test_options_tells_the_version_extensions_and_largest_file(served: Served) -> None:
    tus = Tus(served, "local_authority")
    response = tus.client.options(tus.endpoint)
    assert response.status_code == 204
    assert response.headers["tus-version"] == "1.0.0"
    assert response.headers["tus-resumable"] == "1.0.0"
    assert response.headers["tus-extension"] == "creation,termination,expiration"
    assert int(response.headers["tus-max-size"]) == served.settings.max_upload_bytes


def test_a_created_upload_reports_its_offset_and_expiry_as_it_grows(served: Served) -> None:
    tus = Tus(served, "local_authority")
    created = tus.create(len(PDF))
    assert created.status_code == 201
    assert created.headers["tus-resumable"] == "1.0.0"
    assert created.headers["upload-expires"].endswith(" GMT")
    url = created.headers["location"]

    head = tus.head(url)
    assert head.status_code == 200
    assert head.headers["upload-offset"] == "0"
    assert head.headers["upload-length"] == str(len(PDF))
    assert head.headers["cache-control"] == "no-store"
    assert (
        "filename " + base64.b64encode(b"organisation.pdf").decode()
        in head.headers["upload-metadata"]
    )

    patched = tus.patch(url, 0, PDF[:MIB])
    assert patched.status_code == 204
    assert patched.headers["upload-offset"] == str(MIB)
    assert patched.headers["upload-expires"].endswith(" GMT")
    assert tus.head(url).headers["upload-offset"] == str(MIB)
    # Partial bytes are kept in the data directory, away from the object store's areas.
    assert served.uploads_dir().parent == served.settings.data_dir
    assert not served.uploads_dir().is_relative_to(served.settings.store_root)


def test_a_patch_at_another_offset_is_a_conflict_and_appends_nothing(served: Served) -> None:
    tus = Tus(served, "local_authority")
    url = tus.created(len(PDF))
    assert tus.patch(url, 0, PDF[:1000]).status_code == 204
    for wrong in (0, 999, 2000):
        conflict = tus.patch(url, wrong, PDF[wrong : wrong + 1000])
        _problem(conflict, 409, "offset_mismatch")
        assert conflict.headers["upload-offset"] == "1000"
    assert tus.head(url).headers["upload-offset"] == "1000"


def test_a_patch_that_is_not_an_offset_octet_stream_is_unsupported(served: Served) -> None:
    tus = Tus(served, "local_authority")
    url = tus.created(len(PDF))
    response = tus.patch(url, 0, PDF[:1000], **{"Content-Type": "application/pdf"})
    _problem(response, 415, "not_offset_octet_stream")
    assert tus.head(url).headers["upload-offset"] == "0"


def test_a_patch_past_the_upload_length_is_refused(served: Served) -> None:
    tus = Tus(served, "local_authority")
    url = tus.created(1000)
    _problem(tus.patch(url, 0, b"x" * 1001), 413, "upload_exceeds_length")
    assert tus.head(url).headers["upload-offset"] == "0"


def test_a_file_over_the_size_limit_is_refused_before_anything_is_stored(
    served: Served,
) -> None:
    tus = Tus(served, "local_authority")
    too_big = served.settings.max_upload_bytes + 1
    body = _problem(tus.create(too_big), 413, "too_large")
    limit_mb = served.settings.max_upload_bytes // MIB
    assert body["errors"] == [
        {"field": "file", "message": f"The selected file must be smaller than {limit_mb} MB"}
    ]
    assert served.kept_files() == []


def test_creation_checks_the_form_as_the_upload_page_does(served: Served) -> None:
    dated = Tus(served, "local_authority", key="1.4")
    body = _problem(dated.create(len(PDF)), 422, "invalid_upload_form")
    assert body["errors"] == [
        {"field": "document-date-day", "message": "Enter the date of the document"}
    ]
    url = dated.created(
        len(PDF),
        **{"document-date-day": "1", "document-date-month": "2", "document-date-year": "2026"},
    )
    assert dated.head(url).status_code == 200

    tus = Tus(served, "local_authority")
    empty = _problem(tus.create(0), 422, "invalid_upload_form")
    assert empty["errors"] == [{"field": "file", "message": "The selected file is empty"}]
    nameless = _problem(tus.create(10, filename=""), 422, "invalid_upload_form")
    assert nameless["errors"] == [{"field": "file", "message": "Select a file to upload"}]
    missing = tus.client.post(tus.endpoint, headers=tus.headers())
    _problem(missing, 400, "upload_length_required")
    garbled = tus.client.post(
        tus.endpoint, headers=tus.headers(**{"Upload-Length": "10", "Upload-Metadata": "a b c"})
    )
    _problem(garbled, 400, "invalid_metadata")


def test_a_wrong_tus_version_is_refused_naming_the_supported_one(served: Served) -> None:
    tus = Tus(served, "local_authority")
    response = tus.client.post(
        tus.endpoint, headers={**tus.headers(**{"Upload-Length": "10"}), "Tus-Resumable": "0.2"}
    )
    _problem(response, 412, "tus_version_unsupported")
    assert response.headers["tus-version"] == "1.0.0"


def test_termination_deletes_the_upload_and_its_bytes(served: Served) -> None:
    tus = Tus(served, "local_authority")
    url = tus.created(len(PDF))
    assert tus.patch(url, 0, PDF[:MIB]).status_code == 204
    assert len(served.kept_files()) == 2
    deleted = tus.client.delete(url, headers=tus.headers())
    assert deleted.status_code == 204
    assert served.kept_files() == []
    assert tus.head(url).status_code == 404
    _problem(tus.patch(url, MIB, PDF[MIB : 2 * MIB]), 404, "upload_not_found")


def test_an_unfinished_upload_expires_and_is_cleaned_up(served: Served) -> None:
    tus = Tus(served, "local_authority")
    url = tus.created(len(PDF))
    assert tus.patch(url, 0, PDF[:MIB]).status_code == 204
    forgotten = tus.created(len(PDF))
    later = settable_clock(served.portal.container).advance(
        timedelta(seconds=served.settings.resumable_expiry_seconds + 60)
    )

    # Asked for, an expired upload is gone (and deleted there and then)...
    _problem(tus.patch(url, MIB, PDF[MIB : 2 * MIB]), 410, "upload_expired")
    assert tus.head(url).status_code == 404
    forgotten_id = forgotten.rsplit("/", 1)[1]
    assert served.kept_files() == [f"{forgotten_id}.json", f"{forgotten_id}.part"]
    # ...and the sweep deletes those nobody asks for again.
    swept = PartialUploads(served.uploads_dir()).sweep(later)
    assert swept == [forgotten_id]
    assert served.kept_files() == []


def test_one_person_may_keep_only_a_few_unfinished_uploads(served: Served) -> None:
    tus = Tus(served, "local_authority")
    for _ in range(served.settings.resumable_unfinished_per_person):
        tus.created(len(PDF))
    _problem(tus.create(len(PDF)), 409, "too_many_unfinished_uploads")


# -- who may ---------------------------------------------------------------------------


def test_another_agency_finds_neither_the_page_nor_the_upload(served: Served) -> None:
    owner = Tus(served, "local_authority")
    url = owner.created(len(PDF))
    assert owner.patch(url, 0, PDF[:1000]).status_code == 204

    other = Tus(served, "health")
    _problem(other.create(len(PDF)), 404, "not_found")
    assert other.head(url).status_code == 404
    _problem(other.patch(url, 1000, PDF[1000:2000]), 404, "not_found")
    _problem(other.client.delete(url, headers=other.headers()), 404, "not_found")
    assert owner.head(url).headers["upload-offset"] == "1000"


def test_another_inspection_is_refused_as_its_upload_page_is(served: Served) -> None:
    owner = Tus(served, "local_authority")
    url = owner.created(len(PDF))
    elsewhere = "0" * 32
    page = owner.client.get(f"/inspections/{elsewhere}/items/1.1/upload")
    assert page.status_code == 403  # a token of one inspection acts on no other
    assert owner.head(url.replace(served.inspection_id, elsewhere)).status_code == 403
    endpoint = owner.endpoint.replace(served.inspection_id, elsewhere)
    refused = owner.client.post(endpoint, headers=owner.headers(**{"Upload-Length": "10"}))
    _problem(refused, 403, "forbidden")


def test_another_person_of_the_same_agency_cannot_continue_the_upload(served: Served) -> None:
    owner = Tus(served, "local_authority")
    url = owner.created(len(PDF))
    response = served.portal.client.post(
        f"/v1/inspections/{served.inspection_id}/tokens",
        headers=served.portal.auth("admin"),
        json={"role": "agency_uploader", "agency": "local_authority"},
    )
    assert response.status_code == 201, response.text
    served.portal.tokens["colleague"] = response.json()["token"]
    colleague = Tus(served, "colleague")
    assert colleague.head(url).status_code == 404
    _problem(colleague.patch(url, 0, PDF[:1000]), 404, "upload_not_found")
    _problem(colleague.client.delete(url, headers=colleague.headers()), 404, "upload_not_found")
    assert owner.head(url).headers["upload-offset"] == "0"


def test_without_a_session_the_upload_is_unauthenticated(served: Served) -> None:
    owner = Tus(served, "local_authority")
    url = owner.created(len(PDF))
    stranger = Tus(served, None)
    _problem(stranger.create(len(PDF)), 401, "unauthenticated")
    assert stranger.head(url).status_code == 401
    _problem(stranger.patch(url, 0, PDF[:1000]), 401, "unauthenticated")


def test_changes_need_the_sessions_csrf_token_and_this_site(served: Served) -> None:
    tus = Tus(served, "local_authority")
    url = tus.created(len(PDF))
    tus.csrf = ""
    _problem(tus.create(len(PDF)), 403, "csrf_token_invalid")
    _problem(tus.patch(url, 0, PDF[:1000]), 403, "csrf_token_invalid")
    _problem(tus.client.delete(url, headers=tus.headers()), 403, "csrf_token_invalid")
    tus.csrf = "forged-" + "x" * 30
    _problem(tus.patch(url, 0, PDF[:1000]), 403, "csrf_token_invalid")
    tus2 = Tus(served, "local_authority")
    cross_site = tus2.patch(url, 0, PDF[:1000], Origin="https://evil.example")
    _problem(cross_site, 403, "cross_site_request")


# -- whole files become documents ----------------------------------------------------------


@pytest.mark.usefixtures("prefect_server")
def test_a_finished_upload_becomes_a_document_the_pipeline_accepts(served: Served) -> None:
    tus = Tus(served, "local_authority")
    url = tus.created(len(PDF))
    last = tus.send_all(url, PDF)
    document_id = last.headers["jtai-document-id"]
    assert tus.head(url).headers["jtai-document-id"] == document_id
    assert tus.head(url).headers["upload-offset"] == str(len(PDF))
    # The finished upload's bytes are gone from the partial uploads; only its record waits.
    assert served.kept_files() == [url.rsplit("/", 1)[1] + ".json"]

    container = served.portal.container
    document = container.repository.get_document(document_id)
    assert document is not None
    assert document.status.value == "received"
    assert (document.item_number, document.agency) == ("1.1", "local_authority")
    assert document.original_filename == "organisation.pdf"
    assert document.sha256_received == hashlib.sha256(PDF).hexdigest()
    events = container.repository.audit_events(document_id)
    assert [e["action"] for e in events] == ["document_received"]
    assert events[0]["actor"].startswith("agency_uploader:")

    # The same last PATCH again (its response was lost) tells the same document.
    again = tus.patch(url, len(PDF), b"")
    assert again.status_code == 204 and again.headers["jtai-document-id"] == document_id

    assert served.portal.process_pending() == [document_id]
    assert served.portal.status(document_id)["status"] == "accepted"


def test_an_upload_marked_as_holding_health_information_is_kept_on_site(served: Served) -> None:
    tus = Tus(served, "local_authority")
    url = tus.created(len(PDF), health_information="true")
    document_id = tus.send_all(url, PDF).headers["jtai-document-id"]
    container = served.portal.container
    document = container.repository.get_document(document_id)
    assert document is not None and document.health_information
    assert served.portal.process_pending() == [document_id]
    assert served.portal.status(document_id)["sensitivity"] == "on_site_only"
    key = f"{served.inspection_id}/{document_id}"
    assert container.store.exists(Area.onsite, key)
    assert not container.store.exists(Area.clean, key)


def test_finishing_again_after_the_finished_record_was_not_saved_makes_no_second_document(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    tus = Tus(served, "local_authority")
    url = tus.created(len(PDF))
    real_save = PartialUploads.save
    failures: list[str] = []

    def save_fails_once_when_finished(uploads: PartialUploads, upload: PartialUpload) -> None:
        if upload.document_id is not None and not failures:
            failures.append(upload.id)
            raise OSError(28, "No space left on device")
        real_save(uploads, upload)

    monkeypatch.setattr(PartialUploads, "save", save_fails_once_when_finished)
    tus.send_all(url, PDF[:-MIB])
    last = tus.patch(url, len(PDF) - MIB, PDF[-MIB:])
    assert last.status_code == 500 and failures  # recorded, but the record was not saved
    # The server closed that connection; the browser opens another, with its session.
    tus.client = httpx.Client(base_url=served.url, timeout=30, cookies=tus.client.cookies)
    assert tus.head(url).headers["upload-offset"] == str(len(PDF))

    again = tus.patch(url, len(PDF), b"")

    assert again.status_code == 204
    document_id = again.headers["jtai-document-id"]
    assert document_id == url.rsplit("/", 1)[1]
    repository = served.portal.container.repository
    actions = [event["action"] for event in repository.audit_events(document_id)]
    assert actions.count("document_received") == 1
    assert served.portal.process_pending() == [document_id]


def test_an_interrupted_upload_resumes_at_its_offset_with_identical_bytes(
    served: Served,
) -> None:
    data = samples.pdf_of_size(6_000_000)
    tus = Tus(served, "local_authority")
    url = tus.created(len(data))
    assert tus.patch(url, 0, data[:MIB]).status_code == 204

    # A PATCH of 4 MiB whose connection drops after about 2.5 MiB.
    with _raw_patch(served, tus, url, MIB, 4 * MIB) as connection:
        connection.sendall(data[MIB : MIB + 5 * MIB // 2])
        time.sleep(0.5)
    offset = _settled_offset(tus, url)
    assert MIB < offset <= MIB + 5 * MIB // 2

    last = tus.send_all(url, data, offset=offset)
    document = served.portal.container.repository.get_document(last.headers["jtai-document-id"])
    assert document is not None
    assert document.sha256_received == hashlib.sha256(data).hexdigest()
    with served.portal.container.store.open(Area.quarantine, document.object_key) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    record = PartialUploads(served.uploads_dir()).get(url.rsplit("/", 1)[1])
    assert record is not None and record.received_bytes == len(data)


@contextlib.contextmanager
def _raw_patch(
    served: Served, tus: Tus, url: str, offset: int, length: int
) -> Iterator[socket.socket]:
    """A PATCH's headers sent on a socket of its own: the test sends (or not) the body."""
    port = int(served.url.rsplit(":", 1)[1])
    head = (
        f"PATCH {url} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: jtai_session={tus.client.cookies['jtai_session']}\r\n"
        f"X-CSRF-Token: {tus.csrf}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n"
        "Content-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head)
        yield connection


def _settled_offset(tus: Tus, url: str) -> int:
    """The offset once the interrupted PATCH has let go of the upload."""
    deadline = time.monotonic() + 10
    while True:
        offset = int(tus.head(url).headers["upload-offset"])
        busy = tus.patch(url, offset, b"")
        if busy.status_code == 204 or time.monotonic() > deadline:
            assert busy.status_code == 204, busy.text
            return offset
        time.sleep(0.1)


def test_a_patch_body_goes_to_disk_without_being_held_in_memory(served: Served) -> None:
    data = b"%PDF-1.7\n" + b"0" * (24 * MIB)
    tus = Tus(served, "local_authority")
    url = tus.created(len(data) + 1)
    tracemalloc.start()
    try:
        # A raw socket sends the body in slices of it, so what is traced is the server's.
        with _raw_patch(served, tus, url, 0, len(data)) as connection:
            view = memoryview(data)
            for start in range(0, len(data), 256 * 1024):
                connection.sendall(view[start : start + 256 * 1024])
            assert connection.recv(4096).startswith(b"HTTP/1.1 204 ")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The body is 24 MiB (made before tracing began); the server holds a few pieces of it.
    assert peak < 8 * MIB, peak
    assert tus.head(url).headers["upload-offset"] == str(len(data))


def test_a_patch_that_falls_silent_ends_with_408_and_keeps_what_arrived(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    with _serving(settings.model_copy(update={"upload_idle_seconds": 1.0})) as served:
        tus = Tus(served, "local_authority")
        url = tus.created(3 * MIB)
        with _raw_patch(served, tus, url, 0, 2 * MIB) as connection:
            connection.sendall(b"%PDF-1.7\n" + b"0" * (MIB - 9))
            answer = connection.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"upload_idle_timeout" in answer and b"upload-offset: 1048576" in answer.lower()
        assert int(tus.head(url).headers["upload-offset"]) == MIB


def test_a_person_sending_too_many_patches_at_once_is_told_to_wait(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    with _serving(settings.model_copy(update={"uploads_per_token": 1})) as served:
        tus = Tus(served, "local_authority")
        first, second = tus.created(2 * MIB), tus.created(2 * MIB)
        with _raw_patch(served, tus, first, 0, MIB):
            time.sleep(1)  # the first PATCH is waiting for its body
            refused = tus.patch(second, 0, b"%PDF-1.7\n")
        _problem(refused, 429, "too_many_uploads")
        assert int(refused.headers["retry-after"]) >= 1
        assert int(tus.head(second).headers["upload-offset"]) == 0
