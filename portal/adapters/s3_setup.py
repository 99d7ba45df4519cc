"""Setting up and looking after the S3 buckets of a scaled deployment.

`secure_bucket` makes a bucket fit to hold children's records: versioned, encrypted by
default, public access blocked, and a bucket policy that refuses requests without TLS and
(for SSE-KMS) uploads not encrypted under KMS. `rekey` moves every current object to a new
KMS key in place (S3 copies; no bytes pass through this process).
"""

from __future__ import annotations

import json
from typing import Any

from portal.adapters.store_s3 import SseMode, _translated, ensure_bucket


def bucket_policy(bucket: str, require_kms: bool) -> dict[str, Any]:
    """The bucket policy: TLS on every request; SSE-KMS on every upload when `require_kms`."""
    arn = f"arn:aws:s3:::{bucket}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyWithoutTLS",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if require_kms:
        statements.append(
            {
                "Sid": "DenyUploadsNotUnderKms",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"{arn}/*",
                "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def secure_bucket(
    client: Any,
    bucket: str,
    *,
    prefix: str = "",
    sse: SseMode = "AES256",
    kms_key_id: str | None = None,
    apply_policy: bool = True,
) -> None:
    """Create or update `bucket` as the portal needs it (safe to repeat); with
    `apply_policy` off, everything but the bucket policy (for a local S3 that cannot
    evaluate it, such as moto's server over plain HTTP).

    Raises StoreUnavailable if S3 refuses.
    """
    ensure_bucket(client, bucket, prefix=prefix, sse=sse, kms_key_id=kms_key_id)
    if not apply_policy:
        return
    policy = bucket_policy(bucket, require_kms=sse == "aws:kms")
    with _translated(f"bucket policy of {bucket}"):
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def rekey(client: Any, bucket: str, prefix: str, kms_key_id: str) -> int:
    """Set the bucket's default key to `kms_key_id` and re-encrypt every current object
    under `prefix` with it; return how many objects were copied.

    Older versions stay under the key they were written with: keep that key enabled until
    they expire.
    """
    with _translated(f"rekey {bucket}"):
        client.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": kms_key_id,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        copied = 0
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                key = entry["Key"]
                head = client.head_object(Bucket=bucket, Key=key)
                if _same_key(head.get("SSEKMSKeyId"), kms_key_id):
                    continue
                client.copy_object(
                    Bucket=bucket,
                    Key=key,
                    CopySource={"Bucket": bucket, "Key": key},
                    MetadataDirective="COPY",
                    ServerSideEncryption="aws:kms",
                    SSEKMSKeyId=kms_key_id,
                )
                copied += 1
    return copied


def _same_key(current: str | None, wanted: str) -> bool:
    """KMS reports a key as its full ARN; the setting may hold the id, an alias or the ARN."""
    return current is not None and (current == wanted or current.endswith(f"/{wanted}"))
