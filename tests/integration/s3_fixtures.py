"""Reusable S3 fixtures: moto in-process and moto's standalone server over real HTTP.

Import the fixtures you need into a test module, e.g.
`from tests.integration.s3_fixtures import moto_server, s3_inprocess, s3_server  # noqa: F401`.

Both backends use fake credentials passed as arguments; nothing here writes os.environ
(moto's `mock_aws` patches it for its own lifetime and restores it). The threaded server
runs in this process and shares moto's backends with `mock_aws`, so:

- a request to the server while `mock_aws` is active would be answered by the in-process
  mock instead; `s3_server` refuses to run then;
- `mock_aws` resets every backend when it starts and stops, which empties the server too;
  every test therefore gets a bucket of its own, created by the fixture.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws
from moto.core.models import botocore_stubber
from moto.server import ThreadedMotoServer

from portal.adapters.store_s3 import S3Store, ensure_bucket, make_s3_client

REGION = "eu-west-2"
FAKE_ACCESS_KEY = "AKIAFAKEFAKEFAKEFAKE"
FAKE_SECRET_KEY = "fake-secret-key-for-moto"
STORE_PREFIX = "portal/"


@dataclass(frozen=True)
class S3Target:
    """A ready bucket, a client that reaches it and an S3Store over both."""

    client: Any
    bucket: str
    store: S3Store


def s3_test_client(endpoint_url: str | None, **tuning: Any) -> Any:
    """A client with fake credentials; `tuning` goes to make_s3_client (timeouts, retries)."""
    return make_s3_client(endpoint_url, REGION, FAKE_ACCESS_KEY, FAKE_SECRET_KEY, **tuning)


def unique_bucket_name() -> str:
    """A bucket name no other test uses."""
    return f"portal-test-{uuid.uuid4().hex[:20]}"


def closed_port_endpoint() -> str:
    """An http://127.0.0.1:<port> URL where nothing listens (the port was just freed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _wait_until_answering(endpoint: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"moto server at {endpoint} did not answer within {timeout}s")
        time.sleep(0.05)


def _target(client: Any) -> S3Target:
    bucket = unique_bucket_name()
    ensure_bucket(client, bucket, prefix=STORE_PREFIX)
    return S3Target(client=client, bucket=bucket, store=S3Store(client, bucket, STORE_PREFIX))


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's standalone S3 server on a free port for this module; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        _wait_until_answering(endpoint)
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def s3_server(moto_server: str) -> S3Target:
    """A fresh versioned, encrypted bucket on the moto server, reached over real HTTP."""
    if botocore_stubber.enabled:
        raise RuntimeError("mock_aws is active: requests would never reach the moto server")
    return _target(s3_test_client(moto_server))


@pytest.fixture
def s3_inprocess() -> Iterator[S3Target]:
    """A fresh versioned, encrypted bucket in moto's in-process mock (`mock_aws`)."""
    with mock_aws():
        yield _target(s3_test_client(None))
