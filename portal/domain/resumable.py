"""Resumable uploads (the tus protocol 1.0.0): what the portal keeps about one, and the
protocol's header values, without any I/O.

An upload is created with its length and metadata, receives its bytes in any number of
PATCH requests each appending at the current offset, and once whole is handed to the
same path as a form upload, which makes the document. Until then it belongs to the one
person who created it, for one upload page (inspection and checklist key), and it expires
`expiry` after it last received bytes.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, datetime, timedelta
from email.utils import format_datetime

from pydantic import BaseModel, ConfigDict, Field

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "termination", "expiration")
"""What the portal implements: not creation-defer-length (the size must be known to be
checked before anything is stored), creation-with-upload, checksum or concatenation."""

UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
MAX_METADATA_BYTES = 4096
"""The longest Upload-Metadata header read (a file name, its type and a few fields)."""
METADATA_KEYS = frozenset(
    {
        "filename",
        "filetype",
        "child_id",
        "document-date-day",
        "document-date-month",
        "document-date-year",
        "health_information",
    }
)
"""The metadata the upload pages send: the form's fields besides the file itself."""
_METADATA_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class MetadataInvalid(ValueError):
    """The Upload-Metadata header is not tus's `key base64, key base64` (the message says
    what is wrong)."""


def parse_metadata(header: str | None) -> dict[str, str]:
    """The known keys of an Upload-Metadata header, their values decoded (base64, UTF-8).

    A key may come without a value (an empty one); keys other than METADATA_KEYS are
    ignored; a repeated key, bad base64 or text that is not UTF-8 raises MetadataInvalid.
    """
    if not header or not header.strip():
        return {}
    if len(header) > MAX_METADATA_BYTES:
        raise MetadataInvalid(f"Upload-Metadata is longer than {MAX_METADATA_BYTES} characters")
    values: dict[str, str] = {}
    seen: set[str] = set()
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        if len(parts) > 2 or not _METADATA_KEY.fullmatch(parts[0]):
            raise MetadataInvalid("Upload-Metadata must be pairs of a key and a base64 value")
        key = parts[0]
        if key in seen:
            raise MetadataInvalid(f"Upload-Metadata names {key!r} twice")
        seen.add(key)
        try:
            value = base64.b64decode(parts[1], validate=True).decode() if len(parts) == 2 else ""
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise MetadataInvalid(f"the value of {key!r} is not base64-encoded UTF-8") from exc
        if key in METADATA_KEYS:
            values[key] = value
    return values


def encode_metadata(values: dict[str, str]) -> str:
    """An Upload-Metadata header of `values` (for HEAD responses)."""
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" if value else key
        for key, value in sorted(values.items())
    )


def parse_length(value: str | None) -> int | None:
    """A non-negative integer header (Upload-Length, Upload-Offset), or None if it is not one."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def http_date(moment: datetime) -> str:
    """RFC 9110's IMF-fixdate, as Upload-Expires carries it."""
    return format_datetime(moment, usegmt=True)


class PartialUpload(BaseModel):
    """One resumable upload: who may continue it, what it is for, how far it has got."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=UPLOAD_ID.pattern)
    owner: str = Field(description="The actor (Principal.actor) who created it; only they see it.")
    inspection_id: str
    key: str = Field(description="The upload page's checklist key (item, or item and child).")
    item: str
    child_id: str | None = None
    document_date: date | None = None
    health_information: bool = Field(
        default=False, description="Its uploader marked it as holding health information."
    )
    length: int = Field(ge=0)
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: datetime
    expires_at: datetime
    received_bytes: int = Field(
        default=0, ge=0, description="Every byte PATCH requests appended, for monitoring."
    )
    patches: int = Field(default=0, ge=0)
    document_id: str | None = Field(
        default=None, description="The document it became, once whole and received."
    )

    @property
    def filename(self) -> str:
        return self.metadata.get("filename", "")

    @property
    def filetype(self) -> str | None:
        return self.metadata.get("filetype") or None

    @property
    def finished(self) -> bool:
        """Whole and handed over: it is a document now."""
        return self.document_id is not None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def belongs_to(self, owner: str, inspection_id: str, key: str) -> bool:
        """Whether this is the upload of this person on this upload page."""
        return (self.owner, self.inspection_id, self.key) == (owner, inspection_id, key)

    def received(self, count: int, now: datetime, expiry: timedelta) -> PartialUpload:
        """After a PATCH appended `count` bytes: counted, and its expiry pushed back if any
        arrived (an empty PATCH does not keep an upload alive)."""
        return self.model_copy(
            update={
                "received_bytes": self.received_bytes + count,
                "patches": self.patches + 1,
                "expires_at": now + expiry if count else self.expires_at,
            }
        )

    def became(self, document_id: str, now: datetime, expiry: timedelta) -> PartialUpload:
        """Once its document is recorded: kept a while, so a client that lost the last
        response learns the document's id from a HEAD."""
        return self.model_copy(update={"document_id": document_id, "expires_at": now + expiry})
