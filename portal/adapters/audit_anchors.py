"""Anchor sinks (the AnchorSink port): where audit chain heads are copied so that whoever
can rewrite the database cannot rewrite them too.

- `FileAnchorSink`: one JSON line per anchor in a local file opened with O_APPEND (every
  write lands at the end, whatever else has the file open); make it append-only for real
  with `chattr +a` (infra/RUNBOOK.md), so not even its owner can truncate or rewrite it.
- `S3AnchorSink`: one object per batch of anchors in a bucket with Object Lock, each put
  under COMPLIANCE retention (no one, not even the account's root, can delete or overwrite
  it before it expires). A bucket without Object Lock is refused.
- `MemoryAnchorSink`: for tests of other things.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.exceptions  # type: ignore[import-untyped]
from pydantic import ValidationError

from portal.domain.audit_chain import Anchor, canonical_json, canonical_time
from portal.domain.errors import AnchorSinkUnavailable, AnchorSinkUnsafe


def _line(anchor: Anchor) -> str:
    return canonical_json(
        {
            "chain": anchor.chain,
            "seq": anchor.seq,
            "entry_hash": anchor.entry_hash,
            "at": canonical_time(anchor.at),
        }
    )


def _parse(text: str, where: str) -> list[Anchor]:
    anchors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            anchors.append(Anchor.model_validate_json(line))
        except ValidationError as exc:
            # A torn last line (power cut mid-write) or a forged one: never skipped quietly.
            raise AnchorSinkUnavailable(f"{where}, line {number}: not an anchor") from exc
    return anchors


class FileAnchorSink:
    """Anchors as JSON lines appended to a local file (mode 600, O_APPEND, fsync'd)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, anchors: Sequence[Anchor]) -> None:
        """Append the anchors in one write and fsync before returning."""
        if not anchors:
            return
        data = "".join(_line(a) + "\n" for a in anchors).encode("ascii")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(f"short write to {self.path}: {written} of {len(data)} bytes")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise AnchorSinkUnavailable(f"cannot append to {self.path}: {exc}") from exc

    def read(self) -> list[Anchor]:
        """Every anchor in the file (none if it does not exist yet)."""
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise AnchorSinkUnavailable(f"cannot read {self.path}: {exc}") from exc
        return _parse(text, str(self.path))


class S3AnchorSink:
    """Anchors as objects under `prefix` in a bucket with Object Lock, each locked in
    COMPLIANCE mode for `retain_days` from when it was written."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        prefix: str = "audit-anchors/",
        retain_days: int,
        now: Any,
    ) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self.retain_days = retain_days
        self._now = now

    def check(self) -> None:
        """AnchorSinkUnsafe unless the bucket has Object Lock enabled (anchors in a bucket
        without it could be deleted by whoever holds the portal's credentials)."""
        try:
            config = self._client.get_object_lock_configuration(Bucket=self.bucket)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ObjectLockConfigurationNotFoundError":
                raise AnchorSinkUnsafe(
                    f"bucket {self.bucket} has no Object Lock: anchors there could be deleted"
                ) from exc
            raise AnchorSinkUnavailable(f"bucket {self.bucket}: {code or exc}") from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise AnchorSinkUnavailable(f"bucket {self.bucket}: {exc}") from exc
        enabled = config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        if enabled != "Enabled":
            raise AnchorSinkUnsafe(f"bucket {self.bucket} has no Object Lock enabled")

    def append(self, anchors: Sequence[Anchor]) -> None:
        """Put one new object holding the anchors, locked in COMPLIANCE mode."""
        if not anchors:
            return
        self.check()
        at: datetime = self._now()
        body = "".join(_line(a) + "\n" for a in anchors).encode("ascii")
        key = f"{self.prefix}{at:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex}.jsonl"
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/x-ndjson",
                ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode(),
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=at + timedelta(days=self.retain_days),
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise AnchorSinkUnavailable(f"cannot put {key} in {self.bucket}: {exc}") from exc

    def read(self) -> list[Anchor]:
        """Every anchor of every object under the prefix."""
        anchors: list[Anchor] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    body = self._client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"]
                    anchors += _parse(
                        body.read().decode("ascii"), f"s3://{self.bucket}/{item['Key']}"
                    )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise AnchorSinkUnavailable(f"cannot read anchors from {self.bucket}: {exc}") from exc
        return anchors


class MemoryAnchorSink:
    """Anchors in a list, for tests about something else."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._anchors: list[Anchor] = []

    def append(self, anchors: Sequence[Anchor]) -> None:
        """Keep the anchors."""
        with self._lock:
            self._anchors.extend(anchors)

    def read(self) -> list[Anchor]:
        """Every anchor kept."""
        with self._lock:
            return list(self._anchors)
