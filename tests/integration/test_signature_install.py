"""Signature databases against a real clamd: what it says it has loaded, a second database
swapped in without stopping it (and a file the first did not find, found), a ClamAV
database's version and date read from VERSION, and directories that are no database
refused with nothing changed; through the service and through `jtai-portal`, which also
starts a rescan at once when it can."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from portal.adapters.clamd_scanner import ClamdScanner
from portal.domain.errors import InvalidSignatureDatabase
from portal.domain.scanning import ScanStatus
from portal.domain.signatures import LOCAL_TEST_DATABASE_ID, SignatureKind
from portal.settings import REPO_ROOT
from tests import samples
from tests.conftest import ClamdProcess
from tests.signature_databases import (
    OwnClamd,
    cud_database,
    ndb_database,
    own_clamd,  # noqa: F401 (a fixture)
    unique_pattern,
)


def test_clamd_says_it_runs_the_portals_local_test_signatures(running_clamd: ClamdProcess) -> None:
    signatures = ClamdScanner(unix_socket=running_clamd.socket, timeout=10).signatures()

    assert signatures.kind is SignatureKind.test
    assert signatures.database_version is None and signatures.database_date is None
    assert signatures.database_id == LOCAL_TEST_DATABASE_ID
    assert signatures.version == f"local+{LOCAL_TEST_DATABASE_ID}"
    clamd_version = subprocess.run(
        ["/usr/sbin/clamd", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert clamd_version.startswith(f"ClamAV {signatures.engine}")


def test_a_second_database_is_swapped_in_and_clamd_finds_what_the_first_did_not(
    tmp_path: Path,
    own_clamd: OwnClamd,  # noqa: F811
) -> None:
    pattern = unique_pattern("SECOND")
    upload = b"%PDF-1.4 minutes of the panel " + pattern + b" end"
    scanner = own_clamd.scanner()
    before = scanner.signatures()
    assert scanner.scan(io.BytesIO(upload)).status is ScanStatus.clean

    second = ndb_database(tmp_path / "second", {"Jtai.Test.Second": pattern})
    (second / "eicar.ndb").write_bytes(
        (REPO_ROOT / "infra/clamd/db/jtai-local-test.ndb").read_bytes()
    )
    own_clamd.install(second)

    after = scanner.signatures()
    reply = scanner.scan(io.BytesIO(upload))
    assert reply.status is ScanStatus.found and reply.signature == "Jtai.Test.Second.UNOFFICIAL"
    assert scanner.scan(io.BytesIO(samples.eicar())).status is ScanStatus.found
    # Local files alone do not change VERSION: the marker's database id tells them apart.
    assert after.engine == before.engine and after.database_version is None
    assert after.database_id != before.database_id
    assert after.version != before.version and after.kind is SignatureKind.local


def test_a_clamav_database_is_reported_by_its_version_and_publication_date(
    tmp_path: Path,
    own_clamd: OwnClamd,  # noqa: F811
) -> None:
    published = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    pattern = unique_pattern("DAILY")
    own_clamd.install(cud_database(tmp_path / "daily", 27600, published, {"Jtai.Daily": pattern}))

    signatures = own_clamd.scanner().signatures()
    assert signatures.kind is SignatureKind.official
    assert (signatures.database_version, signatures.database_date) == (27600, published)
    assert signatures.version == f"27600+{signatures.database_id}"
    assert own_clamd.scanner().scan(io.BytesIO(pattern)).status is ScanStatus.found

    own_clamd.install(
        cud_database(tmp_path / "next", 27601, published.replace(hour=9), {"Jtai.Daily": pattern})
    )
    assert own_clamd.scanner().signatures().database_version == 27601


def _malformed(folder: Path) -> Path:
    folder.mkdir()
    (folder / "broken.ndb").write_text("this is not a signature\n")
    return folder


def _no_database(folder: Path) -> Path:
    folder.mkdir()
    (folder / "notes.txt").write_text("signatures to come\n")
    return folder


def _corrupt_cud(folder: Path) -> Path:
    folder.mkdir()
    (folder / "daily.cud").write_bytes(b"ClamAV-VDB:garbage".ljust(600, b"x"))
    return folder


@pytest.mark.parametrize("make", [_malformed, _no_database, _corrupt_cud])
def test_a_directory_that_is_no_valid_database_is_refused_and_nothing_changes(
    tmp_path: Path,
    own_clamd: OwnClamd,  # noqa: F811
    make: object,
) -> None:
    before = own_clamd.scanner().signatures()
    in_use = own_clamd.link.resolve()
    versions = sorted((own_clamd.link.parent / "signatures.versions").iterdir())

    with pytest.raises(InvalidSignatureDatabase):
        own_clamd.install(make(tmp_path / "offered"))  # type: ignore[operator]

    assert own_clamd.link.resolve() == in_use
    assert sorted((own_clamd.link.parent / "signatures.versions").iterdir()) == versions
    assert own_clamd.scanner().signatures() == before


def _jtai_portal(own: OwnClamd, *args: str, **more_env: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "JTAI_DATA_DIR": str(own.link.parent / "data"),
        "JTAI_CLAMD_SOCKET": str(own.socket),
        "JTAI_CLAMD_DATABASE_DIR": str(own.link),
        **more_env,
    }
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_command_installs_a_database_and_refuses_one_that_is_not_plainly(
    tmp_path: Path,
    own_clamd: OwnClamd,  # noqa: F811
) -> None:
    shown = _jtai_portal(own_clamd, "signatures", "show")
    assert shown.returncode == 0, shown.stderr
    assert f"local+{LOCAL_TEST_DATABASE_ID} (test)" in shown.stdout
    assert "Only the portal's local test signatures are loaded" in shown.stdout

    pattern = unique_pattern("CLI")
    source = ndb_database(tmp_path / "new", {"Jtai.Test.Cli": pattern})
    done = _jtai_portal(own_clamd, "signatures", "install", str(source))
    assert done.returncode == 0, done.stderr
    loaded = own_clamd.scanner().signatures()
    assert f"clamd now reports {loaded.version}" in done.stdout
    assert own_clamd.scanner().scan(io.BytesIO(pattern)).status is ScanStatus.found

    refused = _jtai_portal(own_clamd, "signatures", "install", str(_malformed(tmp_path / "bad")))
    assert refused.returncode == 1
    assert "jtai-portal signatures install: " in refused.stderr
    assert "Malformed database" in refused.stderr
    assert own_clamd.scanner().signatures() == loaded


@pytest.mark.usefixtures("prefect_server")
def test_installing_signatures_starts_a_rescan_at_once(
    tmp_path: Path,
    own_clamd: OwnClamd,  # noqa: F811
) -> None:
    from prefect.settings import PREFECT_API_URL

    from flows.rescan import rescan_deployment

    rescan_deployment("0 3 * * *").apply()  # type: ignore[attr-defined]
    api_url = str(PREFECT_API_URL.value())
    source = ndb_database(tmp_path / "new", {"Jtai.Test.Kick": unique_pattern("KICK")})

    done = _jtai_portal(
        own_clamd, "signatures", "install", str(source), JTAI_PREFECT_API_URL=api_url
    )

    assert done.returncode == 0, done.stderr
    assert "rescan started: flow run " in done.stdout
    started = httpx.post(
        f"{api_url}/flow_runs/filter",
        json={"flow_runs": {"tags": {"all_": ["signatures-installed"]}}},
        timeout=30,
    ).json()
    names = {run["name"] for run in started}
    assert any(f"flow run {name} " in done.stdout for name in names)


def test_new_signatures_are_installed_when_no_rescan_can_be_started(
    tmp_path: Path,
    own_clamd: OwnClamd,  # noqa: F811
) -> None:
    source = ndb_database(tmp_path / "new", {"Jtai.Test.NoKick": unique_pattern("NOKICK")})

    done = _jtai_portal(
        own_clamd,
        "signatures",
        "install",
        str(source),
        JTAI_PREFECT_API_URL=f"http://127.0.0.1:{_closed_port()}/api",
    )

    assert done.returncode == 0, done.stderr
    assert "could not start a rescan now" in done.stdout
    assert "the scheduler's next rescan" in done.stdout
    assert "installed database " in done.stdout


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
