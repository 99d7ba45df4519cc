"""One contract for every ObjectStore: memory, filesystem, area-routed, S3 (moto in-process
and over HTTP).

The S3 cases at the end check what only S3 has: versions, encryption, multipart uploads.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]

from portal.adapters.store_fs import FilesystemStore
from portal.adapters.store_memory import MemoryStore
from portal.adapters.store_routed import AreaRoutedStore
from portal.adapters.store_s3 import (
    ABORT_MULTIPART_RULE_ID,
    SHA256_METADATA_KEY,
    STAGING_AREA,
    STAGING_LIFECYCLE_RULE_ID,
    S3Store,
    ensure_bucket,
)
from portal.domain.documents import Area
from portal.domain.errors import ObjectMissing, StoreUnavailable
from tests.integration.s3_fixtures import (  # noqa: F401  (fixtures are used by name)
    STORE_PREFIX,
    S3Target,
    closed_port_endpoint,
    moto_server,
    s3_inprocess,
    s3_server,
    s3_test_client,
    unique_bucket_name,
)

MiB = 1024 * 1024
KEY = "insp-1/doc-1"

Store = MemoryStore | FilesystemStore | S3Store | AreaRoutedStore


SERVER = pytest.param("s3-moto-server", marks=pytest.mark.services)


@pytest.fixture(params=["memory", "filesystem", "area-routed", "s3-moto-inprocess", SERVER])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Each ObjectStore implementation in turn, empty."""
    if request.param == "memory":
        return MemoryStore()
    if request.param == "filesystem":
        return FilesystemStore(tmp_path / "objects")
    if request.param == "area-routed":
        return AreaRoutedStore(FilesystemStore(tmp_path / "objects"), {Area.onsite: MemoryStore()})
    fixture = "s3_inprocess" if request.param == "s3-moto-inprocess" else "s3_server"
    target: S3Target = request.getfixturevalue(fixture)
    return target.store


@pytest.fixture(params=["s3-moto-inprocess", SERVER])
def s3(request: pytest.FixtureRequest) -> S3Target:
    """A fresh bucket and S3Store on each moto backend in turn."""
    target: S3Target = request.getfixturevalue(
        "s3_inprocess" if request.param == "s3-moto-inprocess" else "s3_server"
    )
    return target


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible-looking bytes."""
    block = hashlib.sha256(f"seed-{seed}".encode()).digest() * 4096  # 128 KiB
    return (block * (size // len(block) + 1))[:size]


class SourceBroke(Exception):
    """Raised by a test source part-way through, as a dropped client connection would."""


class BreakingSource(io.RawIOBase):
    """Yields `good` bytes, then raises SourceBroke."""

    def __init__(self, good: bytes) -> None:
        self._data = io.BytesIO(good)

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        chunk = self._data.read(-1 if n is None else n)
        if not chunk or n is None or n < 0:  # reading to the end reaches the break
            raise SourceBroke("client went away")
        return chunk


class TricklingSource(io.RawIOBase):
    """Returns at most `most` bytes per sized read, as a socket does; read() reads all."""

    def __init__(self, data: bytes, most: int) -> None:
        self._data = io.BytesIO(data)
        self._most = most

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            return self._data.read()
        return self._data.read(min(n, self._most))


def read_all(store: Store, area: Area, key: str) -> bytes:
    with store.open(area, key) as handle:
        return handle.read()


def s3_leftovers(store: Store) -> dict[str, list[str]]:
    """Pending multipart uploads and staging objects an S3Store left behind."""
    if not isinstance(store, S3Store):
        return {"uploads": [], "staging": []}
    client, bucket = store.client, store.bucket
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    listing = client.list_object_versions(Bucket=bucket, Prefix=f"{STORE_PREFIX}{STAGING_AREA}/")
    staging = [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]
    return {
        "uploads": [upload["Key"] for upload in uploads],
        "staging": [entry["Key"] for entry in staging],
    }


def full_key(area: Area, key: str = KEY) -> str:
    """The S3 key an S3Store made by the fixtures keeps `(area, key)` under."""
    return f"{STORE_PREFIX}{area.value}/{key}"


def listed_versions(s3: S3Target, s3_key: str) -> list[str]:
    """Version ids of every version and delete marker of exactly `s3_key`, from S3 itself."""
    listing = s3.client.list_object_versions(Bucket=s3.bucket, Prefix=s3_key)
    entries = [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]
    return [entry["VersionId"] for entry in entries if entry["Key"] == s3_key]


def pending_uploads(s3: S3Target) -> list[str]:
    """Keys of the incomplete multipart uploads in the bucket."""
    uploads = s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])
    return sorted(upload["Key"] for upload in uploads)


def count_calls(client: Any, operation: str) -> Callable[[], int]:
    """Count the client's calls of `operation` from now on."""
    calls: list[str] = []
    client.meta.events.register(f"before-call.s3.{operation}", lambda **_: calls.append(operation))
    return lambda: len(calls)


def count_requests(client: Any) -> Callable[[], list[str]]:
    """The names of the operations the client calls from now on, in order."""
    calls: list[str] = []
    client.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    return lambda: list(calls)


# --- the contract: every store ----------------------------------------------------------


def test_put_then_open_returns_the_same_bytes_and_the_sha256_and_size_put_reported(
    store: Store,
) -> None:
    data = payload(300_000)

    stored = store.put(Area.quarantine, KEY, io.BytesIO(data))

    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert read_all(store, Area.quarantine, KEY) == data
    assert store.exists(Area.quarantine, KEY)


def test_put_file_stores_the_same_bytes_and_sha256_as_put(store: Store, tmp_path: Path) -> None:
    data = payload(3 * MiB, seed=7)
    source = tmp_path / "sanitised.pdf"
    source.write_bytes(data)

    taken = store.put_file(Area.clean, KEY, source)
    copied = store.put(Area.onsite, KEY, io.BytesIO(data))

    assert taken == copied
    assert taken.sha256 == hashlib.sha256(data).hexdigest() and taken.size == len(data)
    assert read_all(store, Area.clean, KEY) == read_all(store, Area.onsite, KEY) == data


def test_a_20_mib_object_round_trips(store: Store) -> None:
    data = payload(20 * MiB, seed=1)

    stored = store.put(Area.clean, KEY, io.BytesIO(data))

    assert stored.size == 20 * MiB
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(read_all(store, Area.clean, KEY)).hexdigest() == stored.sha256


def test_an_empty_source_is_stored_as_an_empty_object(store: Store) -> None:
    stored = store.put(Area.quarantine, KEY, io.BytesIO(b""))

    assert stored.size == 0
    assert stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert read_all(store, Area.quarantine, KEY) == b""


def test_a_source_that_returns_short_reads_is_stored_whole(store: Store) -> None:
    data = payload(17 * MiB, seed=2)

    stored = store.put(Area.quarantine, KEY, TricklingSource(data, most=100_000))  # type: ignore[arg-type]

    assert stored.size == len(data)
    assert read_all(store, Area.quarantine, KEY) == data


def test_put_of_a_source_that_raises_mid_stream_leaves_no_object_under_the_key(
    store: Store,
) -> None:
    source = BreakingSource(payload(10 * MiB, seed=3))  # past the first 8 MiB part on S3

    with pytest.raises(SourceBroke):
        store.put(Area.quarantine, KEY, source)  # type: ignore[arg-type]

    assert not store.exists(Area.quarantine, KEY)
    with pytest.raises(ObjectMissing):
        read_all(store, Area.quarantine, KEY)
    assert s3_leftovers(store) == {"uploads": [], "staging": []}


def test_put_of_a_small_source_that_raises_leaves_no_object_under_the_key(store: Store) -> None:
    with pytest.raises(SourceBroke):
        store.put(Area.quarantine, KEY, BreakingSource(b"partial"))  # type: ignore[arg-type]

    assert not store.exists(Area.quarantine, KEY)
    assert s3_leftovers(store) == {"uploads": [], "staging": []}


def test_a_failed_put_keeps_the_object_already_under_the_key(store: Store) -> None:
    store.put(Area.quarantine, KEY, io.BytesIO(b"first version"))

    with pytest.raises(SourceBroke):
        store.put(Area.quarantine, KEY, BreakingSource(payload(10 * MiB)))  # type: ignore[arg-type]

    assert read_all(store, Area.quarantine, KEY) == b"first version"


def test_put_replaces_the_object_under_the_key(store: Store) -> None:
    store.put(Area.quarantine, KEY, io.BytesIO(b"first"))
    store.put(Area.quarantine, KEY, io.BytesIO(b"second"))

    assert read_all(store, Area.quarantine, KEY) == b"second"


def test_delete_removes_the_object_and_deleting_again_is_fine(store: Store) -> None:
    store.put(Area.quarantine, KEY, io.BytesIO(b"to be deleted"))

    store.delete(Area.quarantine, KEY)

    assert not store.exists(Area.quarantine, KEY)
    with pytest.raises(ObjectMissing):
        read_all(store, Area.quarantine, KEY)
    store.delete(Area.quarantine, KEY)
    store.delete(Area.quarantine, "insp-1/never-stored")


def test_open_of_a_missing_key_raises_object_missing(store: Store) -> None:
    with pytest.raises(ObjectMissing):
        read_all(store, Area.clean, "insp-1/missing")
    with pytest.raises(ObjectMissing), store.local_copy(Area.clean, "insp-1/missing"):
        pass
    assert not store.exists(Area.clean, "insp-1/missing")


def test_local_copy_gives_a_path_holding_the_bytes(store: Store) -> None:
    data = payload(9 * MiB, seed=4)
    store.put(Area.onsite, KEY, io.BytesIO(data))

    with store.local_copy(Area.onsite, KEY) as path:
        assert path.read_bytes() == data


def test_areas_are_separate_namespaces(store: Store) -> None:
    store.put(Area.quarantine, KEY, io.BytesIO(b"unchecked"))
    store.put(Area.clean, KEY, io.BytesIO(b"accepted"))

    assert read_all(store, Area.quarantine, KEY) == b"unchecked"
    assert read_all(store, Area.clean, KEY) == b"accepted"
    assert not store.exists(Area.onsite, KEY)

    store.delete(Area.quarantine, KEY)

    assert not store.exists(Area.quarantine, KEY)
    assert read_all(store, Area.clean, KEY) == b"accepted"


def test_check_passes_on_a_working_store(store: Store, tmp_path: Path) -> None:
    store.check()  # raises StoreUnavailable if the store is not usable

    # What check() probed is left as it was: nothing stored, every area usable.
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == []
    for area in Area:
        assert not store.exists(area, KEY)
        store.put(area, KEY, io.BytesIO(f"after check, in {area.value}".encode()))
        assert read_all(store, area, KEY) == f"after check, in {area.value}".encode()
    store.check()


def test_versions_of_a_stored_object_are_not_empty(store: Store) -> None:
    store.put(Area.quarantine, KEY, io.BytesIO(b"stored"))
    store.put(Area.onsite, KEY, io.BytesIO(b"stored on site"))

    assert store.versions(Area.quarantine, KEY) != ()
    assert store.versions(Area.onsite, KEY) != ()


def test_versions_are_empty_after_delete(store: Store) -> None:
    store.put(Area.quarantine, KEY, io.BytesIO(b"first"))
    store.put(Area.quarantine, KEY, io.BytesIO(b"second"))
    store.put(Area.onsite, KEY, io.BytesIO(b"on site"))

    store.delete(Area.quarantine, KEY)
    store.delete(Area.onsite, KEY)

    assert store.versions(Area.quarantine, KEY) == ()
    assert store.versions(Area.onsite, KEY) == ()


def test_versions_of_a_never_stored_key_are_empty(store: Store) -> None:
    store.put(Area.quarantine, "insp-1/doc-10", io.BytesIO(b"shares the prefix"))

    assert store.versions(Area.quarantine, KEY) == ()
    assert store.versions(Area.clean, "insp-1/doc-10") == ()


def test_metadata_of_a_missing_key_raises_object_missing(store: Store) -> None:
    with pytest.raises(ObjectMissing):
        store.metadata(Area.clean, "insp-1/missing")
    store.put(Area.clean, KEY, io.BytesIO(b"soon gone"))
    store.delete(Area.clean, KEY)
    with pytest.raises(ObjectMissing):
        store.metadata(Area.clean, KEY)


def test_metadata_holds_nothing_but_the_sha256_and_content_type(store: Store) -> None:
    stored = store.put(Area.clean, KEY, io.BytesIO(b"minutes"))

    found = store.metadata(Area.clean, KEY)

    assert set(found) <= {SHA256_METADATA_KEY, "content-type"}
    assert found.get(SHA256_METADATA_KEY, stored.sha256) == stored.sha256


def test_purge_incomplete_never_removes_a_stored_object(store: Store) -> None:
    store.put(Area.quarantine, KEY, io.BytesIO(b"kept"))
    store.put(Area.onsite, KEY, io.BytesIO(b"kept on site"))

    assert store.purge_incomplete(datetime.now(UTC) + timedelta(days=1)) == 0

    assert read_all(store, Area.quarantine, KEY) == b"kept"
    assert read_all(store, Area.onsite, KEY) == b"kept on site"


def test_purge_incomplete_refuses_a_cutoff_without_a_time_zone(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.purge_incomplete(datetime(2030, 1, 1))  # naive on purpose


# --- filesystem only --------------------------------------------------------------------


def test_purge_incomplete_removes_an_old_partial_file_and_keeps_a_fresh_one(
    tmp_path: Path,
) -> None:
    store = FilesystemStore(tmp_path / "objects")
    store.put(Area.quarantine, KEY, io.BytesIO(b"whole"))
    directory = tmp_path / "objects" / "quarantine" / "insp-1"
    old, fresh = directory / ".partial-x", directory / ".partial-y"
    old.write_bytes(b"left by a crash")
    fresh.write_bytes(b"being written")
    now = datetime.now(UTC)
    an_hour_ago = (now - timedelta(hours=1)).timestamp()
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(directory / "doc-1", (an_hour_ago, an_hour_ago))  # old, but not a leftover

    removed = store.purge_incomplete(now - timedelta(minutes=10))

    assert removed == 1
    assert not old.exists()
    assert fresh.exists()
    assert read_all(store, Area.quarantine, KEY) == b"whole"


def test_purge_incomplete_on_a_filesystem_store_that_was_never_written_removes_nothing(
    tmp_path: Path,
) -> None:
    store = FilesystemStore(tmp_path / "never-written")

    assert store.purge_incomplete(datetime.now(UTC)) == 0


def _directory_at_the_key(root: Path) -> None:
    """Something that is not the object's file sits where it should be (EISDIR)."""
    path = root / Area.quarantine.value / KEY
    path.rename(path.with_name("moved-away"))
    path.mkdir()


def _area_is_a_symlink_loop(root: Path) -> None:
    """The whole area cannot be resolved (ELOOP), whoever reads it, root included."""
    area = root / Area.quarantine.value
    area.rename(root / "quarantine-moved-away")
    area.symlink_to(area.name)


def _every_read_fails_with_eio(root: Path) -> None:
    """The file opens but reading it fails with a real EIO (this process's /proc/self/mem
    at offset 0, which is never mapped)."""
    path = root / Area.quarantine.value / KEY
    path.unlink()
    path.symlink_to("/proc/self/mem")


def test_a_filesystem_store_takes_a_file_on_its_filesystem_by_renaming_it(
    tmp_path: Path,
) -> None:
    store = FilesystemStore(tmp_path / "objects")
    data = payload(2 * MiB, seed=8)
    source = tmp_path / "workspace" / "sanitised.pdf"
    source.parent.mkdir()
    source.write_bytes(data)
    source.chmod(0o644)
    inode = source.stat().st_ino
    copied = store.put(Area.onsite, KEY, io.BytesIO(data))

    taken = store.put_file(Area.clean, KEY, source)

    stored = tmp_path / "objects" / "clean" / KEY
    assert not source.exists()
    assert stored.stat().st_ino == inode  # the same file: renamed, not copied
    assert taken == copied and stored.read_bytes() == data
    # The same mode as an object `put` wrote, and nothing left beside it.
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "objects" / "onsite" / KEY).stat().st_mode) == 0o600
    assert sorted(p.name for p in stored.parent.iterdir()) == ["doc-1"]


def test_a_filesystem_store_copies_a_file_from_another_filesystem_and_leaves_it(
    tmp_path: Path,
) -> None:
    # /dev/shm is a tmpfs: a rename from it into the store fails (EXDEV), so put_file copies.
    assert os.stat("/dev/shm").st_dev != tmp_path.stat().st_dev
    store = FilesystemStore(tmp_path / "objects")
    data = payload(1 * MiB, seed=9)
    with tempfile.TemporaryDirectory(dir="/dev/shm") as elsewhere:
        source = Path(elsewhere) / "sanitised.pdf"
        source.write_bytes(data)

        taken = store.put_file(Area.clean, KEY, source)

        assert source.read_bytes() == data
    assert taken.sha256 == hashlib.sha256(data).hexdigest()
    assert read_all(store, Area.clean, KEY) == data


def test_put_file_of_a_missing_file_is_store_unavailable_and_stores_nothing(
    tmp_path: Path,
) -> None:
    store = FilesystemStore(tmp_path / "objects")
    with pytest.raises(StoreUnavailable):
        store.put_file(Area.clean, KEY, tmp_path / "gone.pdf")
    assert not store.exists(Area.clean, KEY)


@pytest.mark.parametrize(
    "breakage", [_directory_at_the_key, _area_is_a_symlink_loop, _every_read_fails_with_eio]
)
def test_a_filesystem_object_that_cannot_be_read_is_store_unavailable_not_missing(
    tmp_path: Path, breakage: Callable[[Path], None]
) -> None:
    root = tmp_path / "objects"
    store = FilesystemStore(root)
    store.put(Area.quarantine, KEY, io.BytesIO(b"evidence"))
    breakage(root)

    with pytest.raises(StoreUnavailable), store.local_copy(Area.quarantine, KEY):
        pass


def test_a_filesystem_store_tells_a_symlink_loop_from_a_missing_object(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = FilesystemStore(root)
    store.put(Area.quarantine, KEY, io.BytesIO(b"evidence"))
    _area_is_a_symlink_loop(root)

    with pytest.raises(StoreUnavailable):
        store.exists(Area.quarantine, KEY)
    with pytest.raises(StoreUnavailable):
        store.versions(Area.quarantine, KEY)


# --- S3 only ----------------------------------------------------------------------------


def test_objects_on_s3_are_stored_with_sse_and_their_sha256_as_metadata(s3: S3Target) -> None:
    data = payload(20 * MiB, seed=5)
    stored = s3.store.put(Area.clean, KEY, io.BytesIO(data))

    head = s3.client.head_object(Bucket=s3.bucket, Key=f"{STORE_PREFIX}clean/{KEY}")

    assert head["ServerSideEncryption"] == "AES256"
    assert head["Metadata"] == {SHA256_METADATA_KEY: stored.sha256}
    assert head["ContentLength"] == len(data)


def test_s3_computes_its_own_sha256_of_the_stored_object_which_matches_put(s3: S3Target) -> None:
    data = payload(20 * MiB, seed=7)
    stored = s3.store.put(Area.clean, KEY, io.BytesIO(data))

    head = s3.client.head_object(
        Bucket=s3.bucket, Key=f"{STORE_PREFIX}clean/{KEY}", ChecksumMode="ENABLED"
    )

    assert base64.b64decode(head["ChecksumSHA256"]).hex() == stored.sha256


def test_s3_objects_live_under_prefix_area_and_key(s3: S3Target) -> None:
    s3.store.put(Area.onsite, KEY, io.BytesIO(b"health record"))

    listing = s3.client.list_objects_v2(Bucket=s3.bucket)

    assert [entry["Key"] for entry in listing["Contents"]] == [f"{STORE_PREFIX}onsite/{KEY}"]


def test_a_20_mib_put_goes_to_s3_as_a_multipart_upload_of_8_mib_parts(s3: S3Target) -> None:
    parts = count_calls(s3.client, "UploadPart")
    single_puts = count_calls(s3.client, "PutObject")

    s3.store.put(Area.quarantine, KEY, io.BytesIO(payload(20 * MiB)))

    assert (parts(), single_puts()) == (3, 0)


def test_an_object_below_the_multipart_threshold_is_one_put_carrying_its_sha256_checksum(
    s3: S3Target,
) -> None:
    requests = count_requests(s3.client)
    data = payload(MiB, seed=11)

    stored = s3.store.put(Area.clean, KEY, TricklingSource(data, most=10_000))  # type: ignore[arg-type]

    assert requests() == ["PutObject"]
    head = s3.client.head_object(
        Bucket=s3.bucket, Key=f"{STORE_PREFIX}clean/{KEY}", ChecksumMode="ENABLED"
    )
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == stored.sha256
    assert head["Metadata"] == {SHA256_METADATA_KEY: hashlib.sha256(data).hexdigest()}
    assert s3_leftovers(s3.store) == {"uploads": [], "staging": []}


def test_an_object_of_exactly_the_threshold_goes_through_staging_whole(s3: S3Target) -> None:
    data = payload(8 * MiB, seed=12)

    stored = s3.store.put(Area.clean, KEY, io.BytesIO(data))

    with s3.store.open(Area.clean, KEY) as source:
        assert source.read() == data
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert s3_leftovers(s3.store) == {"uploads": [], "staging": []}


def test_a_local_copy_on_s3_is_one_get_request(s3: S3Target) -> None:
    s3.store.put(Area.clean, KEY, io.BytesIO(payload(3 * MiB, seed=13)))
    requests = count_requests(s3.client)

    with s3.store.local_copy(Area.clean, KEY) as path:
        assert path.stat().st_size == 3 * MiB

    assert requests() == ["GetObject"]


def test_a_source_that_returns_short_reads_still_goes_to_s3_in_8_mib_parts(s3: S3Target) -> None:
    # s3transfer takes a short first read as "small object" and would then read the whole
    # rest of the stream into memory for one PutObject.
    parts = count_calls(s3.client, "UploadPart")
    single_puts = count_calls(s3.client, "PutObject")

    s3.store.put(Area.quarantine, KEY, TricklingSource(payload(17 * MiB), most=100_000))  # type: ignore[arg-type]

    assert (parts(), single_puts()) == (3, 0)


def test_delete_removes_every_version_of_an_overwritten_key_in_a_versioned_bucket(
    s3: S3Target,
) -> None:
    full_key = f"{STORE_PREFIX}quarantine/{KEY}"
    for version in range(3):
        s3.store.put(Area.quarantine, KEY, io.BytesIO(f"version {version}".encode()))
    s3.client.delete_object(Bucket=s3.bucket, Key=full_key)  # leaves a delete marker
    s3.store.put(Area.quarantine, KEY, io.BytesIO(b"after the marker"))
    before = s3.client.list_object_versions(Bucket=s3.bucket, Prefix=full_key)
    assert len(before["Versions"]) == 4
    assert len(before["DeleteMarkers"]) == 1

    s3.store.delete(Area.quarantine, KEY)

    after = s3.client.list_object_versions(Bucket=s3.bucket, Prefix=full_key)
    assert after.get("Versions", []) == []
    assert after.get("DeleteMarkers", []) == []


def test_each_put_of_the_same_key_keeps_a_version_in_a_versioned_bucket(s3: S3Target) -> None:
    for version in range(3):
        s3.store.put(Area.quarantine, KEY, io.BytesIO(f"version {version}".encode()))

    found = s3.store.versions(Area.quarantine, KEY)

    assert len(found) == 3
    assert sorted(found) == sorted(listed_versions(s3, full_key(Area.quarantine)))


def test_versions_report_the_delete_marker_a_plain_delete_object_leaves(s3: S3Target) -> None:
    for version in range(3):
        s3.store.put(Area.quarantine, KEY, io.BytesIO(f"version {version}".encode()))

    marker = s3.client.delete_object(Bucket=s3.bucket, Key=full_key(Area.quarantine))

    assert marker["DeleteMarker"] is True
    assert not s3.store.exists(Area.quarantine, KEY)
    found = s3.store.versions(Area.quarantine, KEY)
    assert len(found) == 4
    assert marker["VersionId"] in found


def test_delete_leaves_no_version_or_delete_marker_and_spares_a_key_sharing_the_prefix(
    s3: S3Target,
) -> None:
    for version in range(3):
        s3.store.put(Area.quarantine, KEY, io.BytesIO(f"version {version}".encode()))
    s3.client.delete_object(Bucket=s3.bucket, Key=full_key(Area.quarantine))
    s3.store.put(Area.quarantine, "insp-1/doc-10", io.BytesIO(b"ten"))
    s3.store.put(Area.quarantine, "insp-1/doc-10", io.BytesIO(b"ten again"))
    sibling = s3.store.versions(Area.quarantine, "insp-1/doc-10")

    s3.store.delete(Area.quarantine, KEY)

    assert s3.store.versions(Area.quarantine, KEY) == ()
    assert listed_versions(s3, full_key(Area.quarantine)) == []
    assert s3.store.versions(Area.quarantine, "insp-1/doc-10") == sibling
    assert len(sibling) == 2
    assert read_all(s3.store, Area.quarantine, "insp-1/doc-10") == b"ten again"


def test_versions_on_an_unversioned_bucket_are_the_null_version(s3: S3Target) -> None:
    bucket = unique_bucket_name()
    s3.client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.client.meta.region_name}
    )
    store = S3Store(s3.client, bucket)
    store.put(Area.clean, KEY, io.BytesIO(b"first"))
    store.put(Area.clean, KEY, io.BytesIO(b"second"))

    assert store.versions(Area.clean, KEY) == ("null",)
    store.delete(Area.clean, KEY)
    assert store.versions(Area.clean, KEY) == ()


def test_metadata_on_s3_holds_the_sha256_the_put_returned(s3: S3Target) -> None:
    stored = s3.store.put(Area.clean, KEY, io.BytesIO(payload(20 * MiB, seed=8)))

    found = s3.store.metadata(Area.clean, KEY)

    assert found[SHA256_METADATA_KEY] == stored.sha256
    assert set(found) == {SHA256_METADATA_KEY, "content-type"}


def test_metadata_on_s3_shows_stored_headers_a_name_could_hide_in(s3: S3Target) -> None:
    s3.client.put_object(
        Bucket=s3.bucket,
        Key=full_key(Area.clean),
        Body=b"written by someone else",
        ContentType="application/pdf",
        ContentDisposition='attachment; filename="Jane Doe.pdf"',
        Metadata={"uploader": "Jane Doe"},
    )

    assert s3.store.metadata(Area.clean, KEY) == {
        "uploader": "Jane Doe",
        "content-type": "application/pdf",
        "content-disposition": 'attachment; filename="Jane Doe.pdf"',
    }


def test_purge_incomplete_removes_staging_objects_modified_before_the_cutoff_only(
    s3: S3Target,
) -> None:
    staging = f"{STORE_PREFIX}{STAGING_AREA}/abandoned"
    s3.client.put_object(Bucket=s3.bucket, Key=staging, Body=b"left by a crash")
    s3.store.put(Area.quarantine, KEY, io.BytesIO(b"stored"))
    listing = s3.client.list_object_versions(Bucket=s3.bucket, Prefix=staging)
    written: datetime = listing["Versions"][0]["LastModified"]

    assert s3.store.purge_incomplete(written) == 0  # not before the cutoff: still fresh
    assert s3.store.purge_incomplete(written - timedelta(hours=1)) == 0
    assert listed_versions(s3, staging) != []

    assert s3.store.purge_incomplete(written + timedelta(seconds=1)) == 1
    assert listed_versions(s3, staging) == []
    assert read_all(s3.store, Area.quarantine, KEY) == b"stored"


def test_purge_incomplete_aborts_multipart_uploads_initiated_before_the_cutoff_only(
    s3: S3Target,
) -> None:
    # moto reports every upload as initiated at one fixed moment in 2010, so the cutoffs
    # are taken from what the bucket reports rather than from the clock.
    staging = f"{STORE_PREFIX}{STAGING_AREA}/abandoned"
    s3.client.create_multipart_upload(Bucket=s3.bucket, Key=staging)
    part_copy = s3.client.create_multipart_upload(Bucket=s3.bucket, Key=full_key(Area.clean))
    s3.client.upload_part(
        Bucket=s3.bucket,
        Key=full_key(Area.clean),
        UploadId=part_copy["UploadId"],
        PartNumber=1,
        Body=b"part",
    )
    s3.client.create_multipart_upload(Bucket=s3.bucket, Key="not-the-portal/upload")
    uploads = s3.client.list_multipart_uploads(Bucket=s3.bucket)["Uploads"]
    first = min(upload["Initiated"] for upload in uploads)
    last = max(upload["Initiated"] for upload in uploads)

    assert s3.store.purge_incomplete(first) == 0  # not before the cutoff: still fresh
    assert s3.store.purge_incomplete(first - timedelta(hours=1)) == 0
    assert len(pending_uploads(s3)) == 3

    assert s3.store.purge_incomplete(last + timedelta(seconds=1)) == 2
    assert pending_uploads(s3) == ["not-the-portal/upload"]

    s3.store.put(Area.quarantine, "insp-1/doc-1", io.BytesIO(b"one"))
    s3.store.put(Area.quarantine, "insp-1/doc-10", io.BytesIO(b"ten"))

    s3.store.delete(Area.quarantine, "insp-1/doc-1")

    assert read_all(s3.store, Area.quarantine, "insp-1/doc-10") == b"ten"


def test_delete_works_on_an_unversioned_bucket(s3: S3Target) -> None:
    bucket = unique_bucket_name()
    s3.client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.client.meta.region_name}
    )
    store = S3Store(s3.client, bucket)
    store.put(Area.clean, KEY, io.BytesIO(b"unversioned"))

    store.delete(Area.clean, KEY)
    store.delete(Area.clean, KEY)

    assert not store.exists(Area.clean, KEY)
    assert s3.client.list_object_versions(Bucket=bucket).get("Versions", []) == []


def test_purge_incomplete_removes_every_leftover_version_and_upload_and_counts_each(
    s3: S3Target,
) -> None:
    staging = f"{STORE_PREFIX}{STAGING_AREA}/abandoned"
    s3.client.put_object(Bucket=s3.bucket, Key=staging, Body=b"first")
    s3.client.put_object(Bucket=s3.bucket, Key=staging, Body=b"second")
    s3.client.delete_object(Bucket=s3.bucket, Key=staging)  # a delete marker
    s3.client.create_multipart_upload(Bucket=s3.bucket, Key=f"{STORE_PREFIX}{STAGING_AREA}/big")
    s3.store.put(Area.quarantine, KEY, io.BytesIO(b"stored"))
    tomorrow = datetime.now(UTC) + timedelta(days=1)

    assert s3.store.purge_incomplete(tomorrow) == 4

    assert s3_leftovers(s3.store) == {"uploads": [], "staging": []}
    assert read_all(s3.store, Area.quarantine, KEY) == b"stored"
    assert s3.store.purge_incomplete(tomorrow) == 0


def test_purge_incomplete_of_a_routed_store_purges_each_store_behind_it_once(
    s3: S3Target,
) -> None:
    onsite = S3Store(s3.client, s3.bucket, "onsite-portal/")
    routed = AreaRoutedStore(s3.store, {Area.onsite: onsite, Area.clean: s3.store})
    for prefix in (STORE_PREFIX, "onsite-portal/"):
        s3.client.put_object(
            Bucket=s3.bucket, Key=f"{prefix}{STAGING_AREA}/abandoned", Body=b"left"
        )

    assert routed.purge_incomplete(datetime.now(UTC) + timedelta(days=1)) == 2

    assert s3.client.list_object_versions(Bucket=s3.bucket).get("Versions", []) == []


def test_a_put_whose_source_fails_mid_stream_aborts_its_multipart_upload(s3: S3Target) -> None:
    calls = {
        operation: count_calls(s3.client, operation)
        for operation in (
            "CreateMultipartUpload",
            "UploadPart",
            "AbortMultipartUpload",
            "CompleteMultipartUpload",
            "CopyObject",
        )
    }

    with pytest.raises(SourceBroke):
        s3.store.put(Area.quarantine, KEY, BreakingSource(payload(20 * MiB)))  # type: ignore[arg-type]

    counted = {operation: count() for operation, count in calls.items()}
    # Whether a part finished before the source broke depends on thread timing; that the
    # upload was begun and then aborted does not.
    assert counted["CreateMultipartUpload"] == 1
    assert counted["AbortMultipartUpload"] == 1
    assert counted["CompleteMultipartUpload"] == counted["CopyObject"] == 0
    assert s3_leftovers(s3.store) == {"uploads": [], "staging": []}


def test_a_successful_put_leaves_no_staging_object_or_pending_upload(s3: S3Target) -> None:
    s3.store.put(Area.quarantine, KEY, io.BytesIO(payload(20 * MiB)))

    assert s3_leftovers(s3.store) == {"uploads": [], "staging": []}


def test_large_objects_are_copied_from_staging_in_parts_and_keep_their_sha256(
    s3: S3Target,
) -> None:
    copy_config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB)
    store = S3Store(s3.client, s3.bucket, STORE_PREFIX, copy_config=copy_config)
    part_copies = count_calls(s3.client, "UploadPartCopy")
    data = payload(20 * MiB, seed=6)

    stored = store.put(Area.clean, KEY, io.BytesIO(data))

    head = s3.client.head_object(Bucket=s3.bucket, Key=f"{STORE_PREFIX}clean/{KEY}")
    assert part_copies() == 3
    assert head["Metadata"] == {SHA256_METADATA_KEY: stored.sha256}
    assert head["ServerSideEncryption"] == "AES256"
    assert read_all(store, Area.clean, KEY) == data


def test_sse_kms_with_a_key_id_is_requested_for_every_object(s3: S3Target) -> None:
    kms_key = "arn:aws:kms:eu-west-2:123456789012:key/11111111-2222-3333-4444-555555555555"
    store = S3Store(s3.client, s3.bucket, STORE_PREFIX, sse="aws:kms", kms_key_id=kms_key)

    store.put(Area.clean, KEY, io.BytesIO(b"secret"))

    head = s3.client.head_object(Bucket=s3.bucket, Key=f"{STORE_PREFIX}clean/{KEY}")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == kms_key


def test_local_copy_on_s3_is_deleted_after_the_block(s3: S3Target) -> None:
    s3.store.put(Area.clean, KEY, io.BytesIO(b"evidence"))

    with s3.store.local_copy(Area.clean, KEY) as path:
        assert oct(path.stat().st_mode & 0o777) == oct(0o600)

    assert not path.exists()


def test_ensure_bucket_sets_versioning_encryption_public_access_block_and_lifecycle(
    s3: S3Target,
) -> None:
    s3.client.put_bucket_lifecycle_configuration(
        Bucket=s3.bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "someone-elses-rule",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "logs/"},
                    "Expiration": {"Days": 30},
                }
            ]
        },
    )

    ensure_bucket(s3.client, s3.bucket, prefix=STORE_PREFIX)  # a second time: nothing breaks

    client, bucket = s3.client, s3.bucket
    assert client.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    lifecycle = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert sorted(rule["ID"] for rule in lifecycle) == sorted(
        ["someone-elses-rule", ABORT_MULTIPART_RULE_ID, STAGING_LIFECYCLE_RULE_ID]
    )


def test_check_raises_store_unavailable_when_the_bucket_is_missing(s3: S3Target) -> None:
    store = S3Store(s3.client, unique_bucket_name())

    with pytest.raises(StoreUnavailable):
        store.check()


def test_a_missing_bucket_raises_store_unavailable_not_object_missing(s3: S3Target) -> None:
    store = S3Store(s3.client, unique_bucket_name())

    with pytest.raises(StoreUnavailable):
        store.put(Area.quarantine, KEY, io.BytesIO(b"data"))
    with pytest.raises(StoreUnavailable):
        read_all(store, Area.quarantine, KEY)
    with pytest.raises(StoreUnavailable), store.local_copy(Area.quarantine, KEY):
        pass
    with pytest.raises(StoreUnavailable):
        store.delete(Area.quarantine, KEY)
    with pytest.raises(StoreUnavailable):
        store.versions(Area.quarantine, KEY)
    with pytest.raises(StoreUnavailable):
        store.purge_incomplete(datetime.now(UTC))


def test_an_unreachable_s3_endpoint_raises_store_unavailable() -> None:
    client = s3_test_client(closed_port_endpoint(), connect_timeout=0.5, max_attempts=2)
    store = S3Store(client, "portal-unreachable")

    with pytest.raises(StoreUnavailable):
        store.put(Area.quarantine, KEY, io.BytesIO(b"data"))
    with pytest.raises(StoreUnavailable):
        store.put(Area.quarantine, KEY, io.BytesIO(payload(9 * MiB)))
    with pytest.raises(StoreUnavailable):
        store.check()
    with pytest.raises(StoreUnavailable):
        read_all(store, Area.quarantine, KEY)
    with pytest.raises(StoreUnavailable), store.local_copy(Area.quarantine, KEY):
        pass
    with pytest.raises(StoreUnavailable):
        store.exists(Area.quarantine, KEY)
    with pytest.raises(StoreUnavailable):
        store.delete(Area.quarantine, KEY)
    with pytest.raises(StoreUnavailable):
        store.versions(Area.quarantine, KEY)
    with pytest.raises(StoreUnavailable):
        store.metadata(Area.quarantine, KEY)
    with pytest.raises(StoreUnavailable):
        store.purge_incomplete(datetime.now(UTC))
