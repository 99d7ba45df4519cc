"""In S3 mode the on-site area (health records) can live in a bucket of its own, encrypted
with its own KMS key, chosen by settings alone."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import SecretStr

from portal.adapters.store_routed import AreaRoutedStore
from portal.adapters.store_s3 import ensure_bucket
from portal.bootstrap import make_store
from portal.domain.documents import Area
from portal.settings import Settings

REGION = "eu-west-2"


@pytest.fixture
def aws() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        s3 = boto3.client(
            "s3", region_name=REGION, aws_access_key_id="AKIAFAKE", aws_secret_access_key="fake"
        )
        kms = boto3.client(
            "kms", region_name=REGION, aws_access_key_id="AKIAFAKE", aws_secret_access_key="fake"
        )
        key_id = kms.create_key(Description="jtai onsite")["KeyMetadata"]["KeyId"]
        for bucket in ("jtai-main", "jtai-onsite"):
            ensure_bucket(s3, bucket)
        yield s3, key_id


def test_health_records_go_to_their_own_bucket_under_their_own_kms_key(
    aws: tuple[Any, str],
    tmp_path: Path,
) -> None:
    s3, key_id = aws
    store = make_store(
        Settings(
            data_dir=tmp_path,
            store="s3",
            s3_bucket="jtai-main",
            s3_region=REGION,
            s3_access_key_id="AKIAFAKE",
            s3_secret_access_key=SecretStr("fake"),
            s3_onsite_bucket="jtai-onsite",
            s3_onsite_kms_key_id=key_id,
            _env_file=None,  # type: ignore[call-arg]
        )
    )
    assert isinstance(store, AreaRoutedStore)
    store.put(Area.onsite, "insp/health", io.BytesIO(b"%PDF-1.7 health record"))
    store.put(Area.clean, "insp/minutes", io.BytesIO(b"minutes"))

    onsite = s3.head_object(Bucket="jtai-onsite", Key="onsite/insp/health")
    assert onsite["ServerSideEncryption"] == "aws:kms"
    assert key_id in onsite["SSEKMSKeyId"]
    main_keys = [o["Key"] for o in s3.list_objects_v2(Bucket="jtai-main").get("Contents", [])]
    assert "clean/insp/minutes" in main_keys
    assert not any(k.startswith("onsite/") for k in main_keys)
    assert store.exists(Area.onsite, "insp/health")
    store.delete(Area.onsite, "insp/health")
    assert not store.exists(Area.onsite, "insp/health")
    store.check()
