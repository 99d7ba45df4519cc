"""Stalled uploads cannot freeze the API, through the real API process: a client that
sends headers and part of a form and then nothing holds no thread (the body is read on
the event loop), is ended after JTAI_UPLOAD_IDLE_SECONDS with 408 and nothing kept; the
uploads one token and the process receive at once are bounded (429 / 503 with
Retry-After); and a request's headers are capped."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from portal.bootstrap import Container
from portal.domain.access import Role
from portal.domain.documents import Area
from portal.services.identities import issue_token
from portal.settings import Settings
from tests import samples
from tests.api_process import api_process
from tests.conftest import ClamdProcess
from tests.factories import add_inspection, build_beside_processes

BOUNDARY = "jtai-stalled-upload"
STALLED = 200
IDLE_SECONDS = 30
ITEMS = {"local_authority": "1.1", "police": "3.1"}


@dataclass
class Portal:
    url: str
    port: int
    container: Container
    inspection_id: str
    tokens: dict[str, str]

    @property
    def upload_path(self) -> str:
        return f"/v1/inspections/{self.inspection_id}/documents"


@contextlib.contextmanager
def _portal(settings: Settings, log: Path, **env: str) -> Iterator[Portal]:
    container = build_beside_processes(settings)
    inspection_id = add_inspection(container)
    tokens = {
        agency: issue_token(
            container, Role.agency_uploader, inspection_id=inspection_id, agency=agency
        )[1]
        for agency in ("local_authority", "police")
    }
    with api_process(settings, log, **env) as url:
        yield Portal(url, int(url.rsplit(":", 1)[1]), container, inspection_id, tokens)


def _form_head(item: str = "1.1") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="item"\r\n\r\n{item}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="slow.pdf"'
        "\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    ).encode()


def _stalled_upload(portal: Portal, token: str) -> socket.socket:
    """A connection that sends the request's headers and the start of its form (promising
    a megabyte more), then nothing."""
    head = _form_head()
    sock = socket.create_connection(("127.0.0.1", portal.port), timeout=10)
    sock.sendall(
        (
            f"POST {portal.upload_path} HTTP/1.1\r\nHost: 127.0.0.1:{portal.port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(head) + 1024 * 1024}\r\n\r\n"
        ).encode()
        + head
    )
    return sock


def _upload(portal: Portal, agency: str, timeout: float = 30) -> httpx.Response:
    """A whole upload by this agency's uploader, of an item asked of it."""
    return httpx.post(
        portal.url + portal.upload_path,
        headers={"Authorization": f"Bearer {portal.tokens[agency]}"},
        data={"item": ITEMS[agency]},
        files={"file": ("whole.pdf", samples.pdf_text_pages(1), "application/pdf")},
        timeout=timeout,
    )


def _nothing_answered(sock: socket.socket) -> bool:
    """Whether the server has neither answered nor closed this connection yet."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def _read_response(sock: socket.socket, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """The HTTP response the server sends on this connection: status, headers, body."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the middle of the answer"
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _stored_files(settings: Settings) -> list[Path]:
    return [p for p in (settings.store_root / Area.quarantine.value).rglob("*") if p.is_file()]


def test_two_hundred_stalled_uploads_leave_healthz_and_a_normal_upload_answering(
    settings: Settings, running_clamd: ClamdProcess, tmp_path: Path
) -> None:
    with _portal(
        settings,
        tmp_path / "api.log",
        JTAI_UPLOAD_IDLE_SECONDS=str(IDLE_SECONDS),
        JTAI_UPLOADS_PER_TOKEN="500",
        JTAI_UPLOADS_CONCURRENT="500",
    ) as portal:
        stalled = [
            _stalled_upload(portal, portal.tokens["local_authority"]) for _ in range(STALLED)
        ]
        try:
            time.sleep(3)  # every stalled upload reaches its handler and waits for bytes
            started = time.monotonic()
            health = httpx.get(portal.url + "/healthz", timeout=10)
            assert health.status_code == 200
            upload = _upload(portal, "police")
            assert upload.status_code == 202, upload.text
            assert time.monotonic() - started < IDLE_SECONDS / 2
            assert all(_nothing_answered(sock) for sock in stalled), "a stalled upload was ended"

            answers = [_read_response(sock, timeout=IDLE_SECONDS + 30) for sock in stalled]
        finally:
            for sock in stalled:
                sock.close()
        assert {status for status, _h, _b in answers} == {408}
        _status, headers, body = answers[0]
        assert headers["content-type"].startswith("application/problem+json")
        assert json.loads(body)["code"] == "upload_idle_timeout"
        recorded = portal.container.repository.inspection_documents(portal.inspection_id)
        assert [d.id for d in recorded] == [upload.json()["id"]]
        assert [p.name for p in _stored_files(settings)] == [upload.json()["id"]]
        assert list(settings.upload_spool_dir.iterdir()) == []


def test_uploads_past_a_tokens_bound_get_429_and_past_the_process_bound_503_until_one_ends(
    settings: Settings, running_clamd: ClamdProcess, tmp_path: Path
) -> None:
    with _portal(
        settings,
        tmp_path / "api.log",
        JTAI_UPLOADS_PER_TOKEN="2",
        JTAI_UPLOADS_CONCURRENT="3",
    ) as portal:
        council, police = portal.tokens["local_authority"], portal.tokens["police"]
        stalled = [_stalled_upload(portal, council) for _ in range(2)]
        try:
            time.sleep(2)
            own_bound = _upload(portal, "local_authority")
            stalled.append(_stalled_upload(portal, police))
            time.sleep(2)
            process_bound = _upload(portal, "police")
        finally:
            for sock in stalled:
                sock.close()
        assert own_bound.status_code == 429, own_bound.text
        assert own_bound.json()["code"] == "too_many_uploads"
        assert int(own_bound.headers["Retry-After"]) >= 1
        assert process_bound.status_code == 503, process_bound.text
        assert process_bound.json()["code"] == "uploads_busy"
        assert int(process_bound.headers["Retry-After"]) >= 1
        assert own_bound.headers["content-type"].startswith("application/problem+json")

        # The stalled clients went away: their slots are free again.
        deadline = time.monotonic() + 15
        while (answer := _upload(portal, "local_authority")).status_code != 202:
            assert answer.status_code in (429, 503) and time.monotonic() < deadline, answer.text
            time.sleep(0.2)


@pytest.mark.parametrize(("header_bytes", "refused"), [(8 * 1024, ()), (64 * 1024, (431,))])
def test_request_headers_past_the_cap_are_refused_with_431(
    settings: Settings,
    running_clamd: ClamdProcess,
    tmp_path: Path,
    header_bytes: int,
    refused: tuple[int, ...],
) -> None:
    with _portal(settings, tmp_path / "api.log") as portal:
        response = httpx.get(
            portal.url + "/healthz", headers={"X-Padding": "a" * header_bytes}, timeout=10
        )
        if not refused:
            assert response.status_code == 200
            return
        assert response.status_code == 431
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "request_headers_too_large"


def test_headers_that_never_end_are_cut_off_by_the_server(
    settings: Settings, running_clamd: ClamdProcess, tmp_path: Path
) -> None:
    with _portal(settings, tmp_path / "api.log") as portal:
        sock = socket.create_connection(("127.0.0.1", portal.port), timeout=10)
        answer = b""
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            with contextlib.suppress(OSError):  # the server may close while we still send
                for _ in range(40):  # 160 KiB of headers, and no end to them
                    sock.sendall(b"X-Padding: " + b"a" * 4096 + b"\r\n")
            # The server answers and closes (or resets) the connection; it does not wait.
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(65536):
                    answer += chunk
        finally:
            sock.close()
        assert answer == b"" or answer.split(b" ", 2)[1] in (b"400", b"431"), answer[:100]
