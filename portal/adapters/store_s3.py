"""The S3 object store: AWS S3 or any S3 API (MinIO, Ceph RGW) through boto3.

Layout: the object for `(area, key)` lives at `f"{prefix}{area}/{key}"`; every object is
written with server-side encryption and carries its sha256 as the user metadata `sha256`.

How a put works, and why:

An object smaller than the multipart threshold (8 MiB by default; most documents) is read
into memory, hashed, and sent with one PutObject carrying its sha256 as metadata and as the
`ChecksumSHA256` S3 verifies before storing it. A PutObject is atomic, so nothing more is
needed. A larger object cannot be held in memory, and its sha256 is only known at the end:

1. The source is streamed once, through a HashingReader, into a staging object
   `f"{prefix}{STAGING_AREA}/<random>"` with the transfer manager (`upload_fileobj`): objects
   of 8 MiB or more go as a multipart upload. If anything fails (the source raises, the
   network drops), s3transfer aborts the multipart upload, so no parts are left behind.
2. Only when the whole stream has been read is its sha256 known. S3 fixes an object's
   metadata when the upload starts, so the staging object is copied server-side (no bytes
   pass through this process) to the real key with `Metadata={"sha256": ...}`. A copy is
   atomic: the real key holds the complete new object or whatever it held before.
3. The staging object (every version of it) is deleted, whether the put succeeded or not.

If the process dies between the steps, a staging object or an incomplete multipart upload
may remain; `ensure_bucket` installs lifecycle rules that remove both after a day.

Memory: the API streams every upload through here, several at once, so a put must hold a
bounded amount whatever the object's size: a small object at most the threshold, a large
one what the transfer manager holds. The transfer manager reads a non-seekable stream
into in-memory parts; with `default_transfer_config()` a put peaks at about 4 parts of 8 MiB
(measured: 35 MiB for a 160 MiB stream; 99 MiB with s3transfer's stock in-memory limit).
"""

from __future__ import annotations

import base64
import logging
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

import boto3  # type: ignore[import-untyped]
import boto3.exceptions  # type: ignore[import-untyped]
import botocore.exceptions  # type: ignore[import-untyped]
import s3transfer.exceptions  # type: ignore[import-untyped]
from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

from portal.adapters.hashing import HashingReader
from portal.domain.documents import Area, StoredObject
from portal.domain.errors import ObjectMissing, StoreUnavailable

log = logging.getLogger(__name__)

MiB = 1024 * 1024
GiB = 1024 * MiB

SseMode = Literal["AES256", "aws:kms"]

STAGING_AREA = ".staging"
"""Where puts stream to before the finished object is copied under its key (not an Area)."""

SHA256_METADATA_KEY = "sha256"
"""User metadata key (sent as `x-amz-meta-sha256`) holding the hex sha256 of the object."""

_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")

# Error codes meaning "no such object". HEAD requests have no body, so botocore only knows
# the HTTP status and reports it as the code (a missing bucket looks the same to HEAD; a GET
# or a listing says NoSuchBucket, which is not in this set).
_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound"})

_COPY_CHUNK = MiB
"""How much of an object's body local_copy holds in memory at a time."""

_DELETE_ROUNDS = 3
"""How many times delete lists and deletes a key's versions before giving up on it."""

_STORED_HEADERS = (
    ("ContentType", "content-type"),
    ("ContentDisposition", "content-disposition"),
    ("ContentEncoding", "content-encoding"),
    ("ContentLanguage", "content-language"),
    ("CacheControl", "cache-control"),
)
"""HeadObject fields S3 stores with an object, and the names metadata() gives them."""

# Errors raised while talking to the endpoint rather than by S3's answer: transient.
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    botocore.exceptions.ConnectionError,  # endpoint, connect timeout, proxy, TLS
    botocore.exceptions.HTTPClientError,  # read timeout, connection closed, broken stream
    botocore.exceptions.IncompleteReadError,
    botocore.exceptions.ChecksumError,
    botocore.exceptions.FlexibleChecksumError,
    botocore.exceptions.NoCredentialsError,
    botocore.exceptions.PartialCredentialsError,
    botocore.exceptions.CredentialRetrievalError,
    s3transfer.exceptions.RetriesExceededError,  # a download stream kept failing
    boto3.exceptions.RetriesExceededError,
)


def default_transfer_config() -> TransferConfig:
    """A TransferConfig that bounds a transfer's memory to a few 8 MiB parts (~35 MiB).

    The API streams uploads through `S3Store.put`, so many may run at once. A multipart
    upload from a stream holds parts in memory: up to max_in_memory_upload_chunks parts
    queued or being sent, one being read, and botocore's copy while checksumming, so about
    (max_in_memory_upload_chunks + 2) x multipart_chunksize. boto3's TransferConfig does
    not take max_in_memory_upload_chunks and s3transfer's default is 10 (~100 MiB per
    upload with 8 MiB parts), so it is set here to max_concurrency (2): two part uploads in
    flight keep one upload moving while the next part is read. 8 MiB parts allow objects up
    to 80 GB (10,000 parts). Downloads go to a file through an io queue of at most
    max_io_queue x io_chunksize = 4 MiB.

    A TransferConfig built elsewhere and passed to S3Store keeps s3transfer's default of 10
    unless its max_in_memory_upload_chunks attribute is set the same way.
    """
    config = TransferConfig(
        multipart_threshold=8 * MiB,
        multipart_chunksize=8 * MiB,
        max_concurrency=2,
        max_io_queue=16,
        io_chunksize=256 * 1024,
    )
    config.max_in_memory_upload_chunks = 2
    return config


def default_copy_config() -> TransferConfig:
    """A TransferConfig for the server-side copy from staging to the real key.

    No object bytes pass through this process during a copy, so memory is not a concern:
    objects below 4 GiB are copied with one atomic CopyObject (its limit is 5 GB), larger
    ones with parallel UploadPartCopy requests of 256 MiB.
    """
    return TransferConfig(
        multipart_threshold=4 * GiB,
        multipart_chunksize=256 * MiB,
        max_concurrency=8,
    )


class S3Store:
    """Objects in one S3 bucket under `f"{prefix}{area}/{key}"`, encrypted at rest.

    `client` is a boto3 S3 client (see `make_s3_client`); `prefix` is "" or ends in "/".
    `sse` is "AES256" (SSE-S3) or "aws:kms" (SSE-KMS, with `kms_key_id` or the account's
    default key). `transfer_config` bounds the memory of uploads and downloads and defaults
    to `default_transfer_config()`; `copy_config` tunes the server-side copy of step 2 of a
    put (see the module docstring) and defaults to `default_copy_config()`.

    The credentials need s3:PutObject, s3:GetObject, s3:GetObjectVersion,
    s3:DeleteObject, s3:DeleteObjectVersion, s3:ListBucket, s3:ListBucketVersions and
    s3:AbortMultipartUpload on the prefix (with s3:ListBucket S3 answers 404, not 403, for a
    missing key), plus kms:GenerateDataKey and kms:Decrypt on the key for SSE-KMS.
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        sse: SseMode = "AES256",
        kms_key_id: str | None = None,
        transfer_config: TransferConfig | None = None,
        copy_config: TransferConfig | None = None,
    ) -> None:
        if prefix and not prefix.endswith("/"):
            raise ValueError(f"S3 key prefix must be empty or end with '/': {prefix!r}")
        if sse not in ("AES256", "aws:kms"):
            raise ValueError(f"unsupported server-side encryption {sse!r}")
        if kms_key_id is not None and sse != "aws:kms":
            raise ValueError("kms_key_id is only used with sse='aws:kms'")
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self._sse_args: dict[str, str] = {"ServerSideEncryption": sse}
        if kms_key_id is not None:
            self._sse_args["SSEKMSKeyId"] = kms_key_id
        self._transfer_config = transfer_config or default_transfer_config()
        self._copy_config = copy_config or default_copy_config()

    @property
    def client(self) -> Any:
        """The boto3 S3 client this store talks through."""
        return self._client

    def object_key(self, area: Area, key: str) -> str:
        """The S3 key of `(area, key)`; raises ValueError for a key that is not a safe path."""
        if not _SAFE_KEY.match(key):
            raise ValueError(f"unsafe object key {key!r}")
        return f"{self.prefix}{area.value}/{key}"

    def put(self, area: Area, key: str, source: BinaryIO) -> StoredObject:
        """Stream all of `source` to S3 under `key`; return its size and sha256.

        All or nothing: the key holds the complete new object, with SSE and its sha256 as
        metadata, or, if this raises, whatever it held before. An exception raised by
        `source` propagates unchanged; S3 failures raise StoreUnavailable. Either way the
        multipart upload is aborted and the staging object deleted.
        """
        target = self.object_key(area, key)
        reader = HashingReader(source)
        threshold = self._transfer_config.multipart_threshold
        head = _ReadFully(reader).read(threshold)
        if len(head) < threshold:
            self._put_whole(target, head, reader.sha256)
        else:
            stream = _Continued(head, reader)
            del head  # the stream holds the first part only until s3transfer has read it
            self._put_streamed(target, stream, reader)
        return StoredObject(size=reader.size, sha256=reader.sha256)

    def put_file(self, area: Area, key: str, path: Path) -> StoredObject:
        """Upload the file's bytes as `put` does (the file is left as it was)."""
        with path.open("rb") as source:
            return self.put(area, key, source)

    def _put_whole(self, target: str, body: bytes, sha256: str) -> None:
        """One atomic PutObject; S3 refuses it unless the bytes it got have this sha256."""
        with _translated(f"put {target}"):
            self._client.put_object(
                Bucket=self.bucket,
                Key=target,
                Body=body,
                Metadata={SHA256_METADATA_KEY: sha256},
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode("ascii"),
                **self._sse_args,
            )

    def _put_streamed(self, target: str, stream: _Continued, reader: HashingReader) -> None:
        """Stream to a staging object, then copy it under `target` with the sha256 learnt."""
        staging = f"{self.prefix}{STAGING_AREA}/{uuid.uuid4().hex}"
        try:
            with _translated(f"put {target}"):
                self._client.upload_fileobj(
                    stream,
                    self.bucket,
                    staging,
                    ExtraArgs=dict(self._sse_args),
                    Config=self._transfer_config,
                )
                self._client.copy(
                    {"Bucket": self.bucket, "Key": staging},
                    self.bucket,
                    target,
                    ExtraArgs={
                        **self._sse_args,
                        "Metadata": {SHA256_METADATA_KEY: reader.sha256},
                        "MetadataDirective": "REPLACE",
                        # S3 computes a checksum of the copy: for a single CopyObject it is
                        # the object's sha256 again, verified by S3 itself. (Without it the
                        # staging object's per-part checksum would be carried over.)
                        "ChecksumAlgorithm": "SHA256",
                    },
                    Config=self._copy_config,
                )
        finally:
            self._discard_staging(staging)

    @contextmanager
    def open(self, area: Area, key: str) -> Iterator[BinaryIO]:
        """Stream the object's bytes; raises ObjectMissing if there is no object under `key`.

        The response body is closed when the block ends. A connection failure while reading
        the body inside the block raises StoreUnavailable.
        """
        target = self.object_key(area, key)
        with _translated(f"open {target}", missing=True):
            body = self._client.get_object(Bucket=self.bucket, Key=target)["Body"]
        try:
            yield cast(BinaryIO, body)
        except _TRANSPORT_ERRORS as exc:
            raise StoreUnavailable(f"read {target}: {exc}") from exc
        finally:
            body.close()

    @contextmanager
    def local_copy(self, area: Area, key: str) -> Iterator[Path]:
        """A private temporary file holding the object's bytes, deleted when the block ends.

        Raises ObjectMissing if there is no object under `key`.
        """
        # One streamed GET: the transfer manager's download would add a HEAD request and
        # start a pool of threads for every object, most of which are small. A body cut
        # short raises StoreUnavailable (not retried here): the ingest run retries.
        with tempfile.NamedTemporaryFile(prefix="portal-s3-") as tmp:
            with self.open(area, key) as body:
                shutil.copyfileobj(body, tmp, _COPY_CHUNK)
            tmp.flush()
            yield Path(tmp.name)

    def delete(self, area: Area, key: str) -> None:
        """Delete every version and delete marker of the object; a missing object is fine.

        Works on versioned, suspended and unversioned buckets (unversioned objects are
        listed with version id "null"). The key is listed again until nothing of it is
        left, so afterwards `versions(area, key)` is empty, even if a put raced the delete;
        if something still remains after a few rounds this raises StoreUnavailable.
        """
        target = self.object_key(area, key)
        with _translated(f"delete {target}"):
            for _ in range(_DELETE_ROUNDS):
                if not self._delete_listed_versions(target):
                    return
            remaining = len(self._version_ids(target))
        if remaining:
            raise StoreUnavailable(f"delete {target}: {remaining} versions remain")

    def exists(self, area: Area, key: str) -> bool:
        """Whether a current (not deleted) object is stored under `key`."""
        target = self.object_key(area, key)
        try:
            with _translated(f"head {target}", missing=True):
                self._client.head_object(Bucket=self.bucket, Key=target)
        except ObjectMissing:
            return False
        return True

    def versions(self, area: Area, key: str) -> tuple[str, ...]:
        """The version ids of every version and delete marker stored under exactly `key`.

        Lists ListObjectVersions to the last page and keeps entries of this very key, not
        of keys that merely share the prefix ("a/b2" for "a/b"). An object in an unversioned
        bucket is listed with version id "null". () proves nothing of the object is left in
        the bucket. Raises StoreUnavailable if S3 cannot be asked or refuses.
        """
        target = self.object_key(area, key)
        with _translated(f"list versions of {target}"):
            return self._version_ids(target)

    def metadata(self, area: Area, key: str) -> dict[str, str]:
        """The current object's user metadata ({"sha256": ...}) and the headers S3 keeps.

        Besides the user metadata (`x-amz-meta-*`, sent by put as {"sha256": ...}) this
        gives "content-type" and, where set, "content-disposition", "content-encoding",
        "content-language" and "cache-control": the stored headers a name could hide in.
        Raises ObjectMissing if no current object is stored under `key`.
        """
        target = self.object_key(area, key)
        with _translated(f"head {target}", missing=True):
            head = self._client.head_object(Bucket=self.bucket, Key=target)
        found = {str(name): str(value) for name, value in head.get("Metadata", {}).items()}
        for field, name in _STORED_HEADERS:
            if head.get(field):
                found[name] = str(head[field])
        return found

    def purge_incomplete(self, older_than: datetime) -> int:
        """Remove what interrupted puts left behind before `older_than`; return the count.

        Every version and delete marker under `f"{prefix}{STAGING_AREA}/"` last modified
        before `older_than`, and every incomplete multipart upload under the prefix (the
        whole bucket for prefix "") initiated before it (aborted, its parts discarded).
        Each version, delete marker and upload removed counts one. The lifecycle rules of
        `ensure_bucket` do the same after a day; this does it now, for buckets without them.
        Raises StoreUnavailable if S3 cannot be asked or refuses.
        """
        if older_than.tzinfo is None:
            raise ValueError("older_than must be timezone-aware")
        staging = f"{self.prefix}{STAGING_AREA}/"
        removed = 0
        with _translated(f"purge staging objects under {staging}"):
            for entry in self._version_entries(staging):
                if entry["LastModified"] < older_than:
                    self._client.delete_object(
                        Bucket=self.bucket, Key=entry["Key"], VersionId=entry["VersionId"]
                    )
                    removed += 1
        with _translated(f"purge incomplete multipart uploads under {self.prefix!r}"):
            paginator = self._client.get_paginator("list_multipart_uploads")
            stale = [
                upload
                for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix)
                for upload in page.get("Uploads", [])
                if upload["Initiated"] < older_than
            ]
            for upload in stale:
                if self._abort_upload(upload["Key"], upload["UploadId"]):
                    removed += 1
        return removed

    def check(self) -> None:
        """Raise StoreUnavailable unless the bucket answers HeadBucket (reachable, permitted)."""
        with _translated(f"check bucket {self.bucket}"):
            self._client.head_bucket(Bucket=self.bucket)

    def _version_entries(self, prefix: str) -> list[dict[str, Any]]:
        """Every version and delete marker whose key starts with `prefix`, all pages."""
        paginator = self._client.get_paginator("list_object_versions")
        entries: list[dict[str, Any]] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            entries.extend(page.get("Versions", []))
            entries.extend(page.get("DeleteMarkers", []))
        return entries

    def _version_ids(self, target: str) -> tuple[str, ...]:
        # Prefix matching also lists "a/b2" for "a/b": keep the exact key only.
        return tuple(
            str(entry["VersionId"])
            for entry in self._version_entries(target)
            if entry["Key"] == target
        )

    def _delete_listed_versions(self, target: str) -> int:
        """Delete the versions of `target` a full listing finds; return how many it found.

        The listing is complete before the first delete, so deleting cannot shift the
        pages of a listing still in progress.
        """
        found = self._version_ids(target)
        for version_id in found:
            self._client.delete_object(Bucket=self.bucket, Key=target, VersionId=version_id)
        return len(found)

    def _abort_upload(self, key: str, upload_id: str) -> bool:
        """Abort one multipart upload; False if it had already ended (completed or aborted)."""
        try:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
                return False
            raise
        return True

    def _discard_staging(self, staging: str) -> None:
        """Best effort: a failure here must not hide the put's own outcome or error."""
        try:
            with _translated(f"discard {staging}"):
                self._delete_listed_versions(staging)
        except StoreUnavailable as exc:
            log.warning(
                "could not delete staging object %s (a lifecycle rule will): %s", staging, exc
            )


class _Continued:
    """The bytes already read from a source, then the rest of it, each read(n) full."""

    def __init__(self, head: bytes, rest: HashingReader) -> None:
        self._head = head
        self._rest = _ReadFully(rest)

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        if len(self._head) >= n:
            data, self._head = self._head[:n], self._head[n:]
            return data
        data, self._head = self._head, b""
        return data + self._rest.read(n - len(data))


class _ReadFully:
    """Make every read(n) return n bytes unless the stream ends.

    s3transfer takes a short read as the end of a small object, or uploads it as a short
    part (S3 refuses parts under 5 MiB but the last), so a stream that returns what it
    has (a socket, a request body) must be read until the chunk is full.
    """

    def __init__(self, source: HashingReader) -> None:
        self._source = source

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            return self._source.read()
        parts: list[bytes] = []
        wanted = n
        while wanted > 0:
            data = self._source.read(wanted)
            if not data:
                break
            parts.append(data)
            wanted -= len(data)
        return b"".join(parts)


@contextmanager
def _translated(what: str, *, missing: bool = False) -> Iterator[None]:
    """Turn botocore/s3transfer errors raised in the block into domain errors.

    With `missing`, "no such key" becomes ObjectMissing; otherwise (in a put the staging
    object vanishing, in a delete or check) every S3 refusal is StoreUnavailable.
    """
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if missing and code in _MISSING_CODES:
            raise ObjectMissing(f"{what}: no such object ({code})") from exc
        # Throttling, 5xx and refusals (AccessDenied, NoSuchBucket, KMS): the store refused.
        # The work is retried; once the store or its configuration is right it succeeds.
        raise StoreUnavailable(f"{what}: S3 answered {code or status}") from exc
    except _TRANSPORT_ERRORS as exc:
        raise StoreUnavailable(f"{what}: {exc}") from exc


def make_s3_client(
    endpoint_url: str | None,
    region: str,
    access_key: str | None,
    secret_key: str | None,
    *,
    connect_timeout: float = 5,
    read_timeout: float = 60,
    max_attempts: int = 5,
    addressing_style: Literal["auto", "path", "virtual"] = "auto",
) -> Any:
    """A boto3 S3 client with explicit timeouts and bounded retries.

    `endpoint_url` None means AWS itself; with `access_key`/`secret_key` None boto3's
    credential chain (instance role, environment) is used. Nothing is read from or written
    to the process environment here; no request is made. Retries use botocore's "standard"
    mode (throttling and 5xx back off), `max_attempts` counting the first try.
    """
    session = boto3.session.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
    )
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "max_attempts": max_attempts},
        s3={"addressing_style": addressing_style},
        signature_version="s3v4",
    )
    return session.client("s3", endpoint_url=endpoint_url, config=config)


STAGING_LIFECYCLE_RULE_ID = "portal-expire-staging"
ABORT_MULTIPART_RULE_ID = "portal-abort-incomplete-multipart-uploads"


def ensure_bucket(
    client: Any,
    bucket: str,
    *,
    prefix: str = "",
    sse: SseMode = "AES256",
    kms_key_id: str | None = None,
) -> None:
    """Make `bucket` ready for S3Store; safe to run again on a bucket that is ready.

    Creates the bucket if missing (in the client's region), then turns on versioning,
    default encryption (`sse`, with `kms_key_id` for aws:kms), the public access block
    (all four settings) and two lifecycle rules: abort multipart uploads left incomplete
    for a day, and expire staging objects under `f"{prefix}{STAGING_AREA}/"` after a day.
    Lifecycle rules with other ids are kept. Raises StoreUnavailable if S3 refuses.
    """
    with _translated(f"ensure bucket {bucket}"):
        _create_bucket_if_missing(client, bucket)
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        default: dict[str, str] = {"SSEAlgorithm": sse}
        if kms_key_id is not None:
            default["KMSMasterKeyID"] = kms_key_id
        client.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": default,
                        "BucketKeyEnabled": sse == "aws:kms",
                    }
                ]
            },
        )
        client.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        _put_lifecycle_rules(client, bucket, prefix)


def _create_bucket_if_missing(client: Any, bucket: str) -> None:
    try:
        client.head_bucket(Bucket=bucket)
        return
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise
    region = client.meta.region_name
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    with suppress(client.exceptions.BucketAlreadyOwnedByYou):  # created meanwhile
        client.create_bucket(**kwargs)


def _put_lifecycle_rules(client: Any, bucket: str, prefix: str) -> None:
    ours = {STAGING_LIFECYCLE_RULE_ID, ABORT_MULTIPART_RULE_ID}
    try:
        existing = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchLifecycleConfiguration":
            raise
        existing = []
    rules = [rule for rule in existing if rule.get("ID") not in ours]
    rules.append(
        {
            "ID": ABORT_MULTIPART_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": prefix},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    )
    rules.append(
        {
            "ID": STAGING_LIFECYCLE_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": f"{prefix}{STAGING_AREA}/"},
            "Expiration": {"Days": 1},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        }
    )
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": rules}
    )
