"""The anchor sinks (AnchorSink port), one contract for all: the append-only file, the
in-memory sink and an S3 bucket under Object Lock on moto's server; and what only each
real one guarantees (O_APPEND and mode 600; COMPLIANCE retention, a bucket without Object
Lock refused)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from portal.adapters.audit_anchors import FileAnchorSink, MemoryAnchorSink, S3AnchorSink
from portal.domain.audit_chain import Anchor
from portal.domain.errors import AnchorSinkUnavailable, AnchorSinkUnsafe
from portal.domain.ports import AnchorSink
from tests.factories import TEST_NOW
from tests.integration.s3_fixtures import (  # noqa: F401
    REGION,
    moto_server,
    s3_test_client,
    unique_bucket_name,
)

A1 = Anchor(chain="insp1", seq=3, entry_hash="a" * 64, at=TEST_NOW)
A2 = Anchor(chain="portal", seq=9, entry_hash="b" * 64, at=TEST_NOW)
A3 = Anchor(chain="insp1", seq=5, entry_hash="c" * 64, at=TEST_NOW + timedelta(minutes=5))


def _locked_bucket(client: Any) -> str:
    bucket = unique_bucket_name()
    client.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": REGION},
        ObjectLockEnabledForBucket=True,
    )
    return bucket


@pytest.fixture(params=["file", "memory", "s3"])
def sink(request: pytest.FixtureRequest, tmp_path: Path) -> AnchorSink:
    if request.param == "file":
        return FileAnchorSink(tmp_path / "anchors" / "audit-anchors.jsonl")
    if request.param == "memory":
        return MemoryAnchorSink()
    client = s3_test_client(request.getfixturevalue("moto_server"))
    return S3AnchorSink(client, _locked_bucket(client), retain_days=30, now=lambda: TEST_NOW)


def test_a_sink_gives_back_every_anchor_appended_to_it(sink: AnchorSink) -> None:
    assert sink.read() == []
    sink.append([A1, A2])
    sink.append([])
    sink.append([A3])
    assert sorted(sink.read(), key=lambda a: (a.chain, a.seq)) == [A1, A3, A2]


def test_the_file_sink_appends_with_o_append_and_mode_600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit-anchors.jsonl"
    opened: list[int] = []
    real_open: Callable[..., int] = os.open

    def spy(file: Any, flags: int, *args: Any) -> int:
        if Path(file) == path:
            opened.append(flags)
        return real_open(file, flags, *args)

    monkeypatch.setattr(os, "open", spy)
    sink = FileAnchorSink(path)
    sink.append([A1])
    sink.append([A2])
    assert opened and all(flags & os.O_APPEND for flags in opened)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().count("\n") == 2


def test_a_torn_or_forged_line_in_the_anchor_file_is_never_skipped(tmp_path: Path) -> None:
    path = tmp_path / "audit-anchors.jsonl"
    sink = FileAnchorSink(path)
    sink.append([A1])
    with path.open("a") as handle:
        handle.write('{"chain": "insp1", "seq": 4')
    with pytest.raises(AnchorSinkUnavailable, match="line 2: not an anchor"):
        sink.read()


def test_s3_anchors_are_locked_in_compliance_mode_and_cannot_be_deleted(
    moto_server: str,  # noqa: F811
) -> None:
    client = s3_test_client(moto_server)
    bucket = _locked_bucket(client)
    S3AnchorSink(client, bucket, retain_days=30, now=lambda: TEST_NOW).append([A1])
    [item] = client.list_objects_v2(Bucket=bucket)["Contents"]
    head = client.head_object(Bucket=bucket, Key=item["Key"])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == TEST_NOW + timedelta(days=30)
    version = client.list_object_versions(Bucket=bucket)["Versions"][0]["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
        client.delete_object(
            Bucket=bucket, Key=item["Key"], VersionId=version, BypassGovernanceRetention=True
        )


def test_a_bucket_without_object_lock_is_refused_as_an_anchor_sink(
    moto_server: str,  # noqa: F811
) -> None:
    client = s3_test_client(moto_server)
    bucket = unique_bucket_name()
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    sink = S3AnchorSink(client, bucket, retain_days=30, now=lambda: TEST_NOW)
    with pytest.raises(AnchorSinkUnsafe, match="no Object Lock"):
        sink.append([A1])
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
