"""Domain errors. They carry a ReasonCode, never an HTTP status; the API maps them."""

from enum import StrEnum
from typing import Any

from portal.domain.reasons import ReasonCode


class PortalError(Exception):
    """Base of every error the portal raises on purpose."""

    reason: ReasonCode | None = None

    def __init__(self, message: str, *, reason: ReasonCode | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class TransientError(PortalError):
    """A dependency failed; the same work may succeed later, so it is retried."""


class ScannerUnavailable(TransientError):
    """clamd could not give a verdict (down, timeout, broken pipe, empty or unknown reply)."""

    reason = ReasonCode.scanner_unavailable


class StoreUnavailable(TransientError):
    """The object store could not be reached or refused the operation."""

    reason = ReasonCode.store_unavailable


class InvalidSignatureDatabase(PortalError):
    """A directory offered as clamd's signature database is not one libclamav loads (no
    database files, or a file it refuses): nothing was installed."""


class SignatureInstallFailed(PortalError):
    """A valid signature database was put in place, but clamd did not report it in time
    (or does not answer): what clamd runs with is as the message says."""


class ObjectMissing(PortalError):
    """The object store holds no object under the key asked for."""


class UploadTooLarge(PortalError):
    """An upload passed the configured size limit; nothing of it was kept."""

    reason = ReasonCode.too_large


class InvalidIdentityToken(PortalError):
    """The bearer token is not a valid token of the configured identity provider."""


class UploadBusy(PortalError):
    """Another request is appending to, finishing or deleting this resumable upload now."""


class AuditKeyError(PortalError):
    """The audit key file is missing, unreadable, malformed or open to other users: the
    audit log can be neither written nor verified until it is put right."""


class AnchorSinkUnavailable(TransientError):
    """The audit anchor sink (append-only file, Object Lock bucket) could not be read or
    written now."""


class AnchorSinkUnsafe(PortalError):
    """The anchor sink would not keep anchors out of reach (e.g. a bucket without Object
    Lock): refused rather than trusted."""


class Refusal(StrEnum):
    """What kind of "no" a use case gives: the doors turn it into an HTTP status or an
    error page, the use case never names one."""

    malformed = "malformed"  # the request cannot be read or followed as it stands
    invalid = "invalid"  # the request breaks a rule: correct it and send again
    not_found = "not_found"  # what it names does not exist (or may not be known to exist)
    forbidden = "forbidden"  # this person may not do this
    conflict = "conflict"  # the current state of what it names does not allow it
    gone = "gone"  # it existed and was deleted (retention)
    busy = "busy"  # the portal is doing as much as it can; try again shortly
    too_large = "too_large"  # bigger than allowed
    unsupported = "unsupported"  # a kind of content the portal refuses at once
    too_many = "too_many"  # this caller has done too much too quickly


class Refused(PortalError):
    """A use case said no: a stable snake_case `code` (added, never renamed), a short
    `title`, a `detail` that says what was wrong and what to do, and any facts the caller
    may need (`extensions`, e.g. a rule or the fields to correct)."""

    def __init__(
        self,
        kind: Refusal,
        code: str,
        title: str,
        detail: str,
        *,
        retry_after: int | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.code = code
        self.title = title
        self.detail = detail
        self.retry_after = retry_after
        self.extensions = extensions


REFUSAL_OF_REASON: dict[ReasonCode, Refusal] = {
    ReasonCode.too_large: Refusal.too_large,
    ReasonCode.file_type_not_allowed: Refusal.unsupported,
    ReasonCode.archive_not_allowed: Refusal.unsupported,
    ReasonCode.macros_not_allowed: Refusal.unsupported,
    ReasonCode.type_mismatch: Refusal.unsupported,
}
"""The kind of refusal an upload refused at once for a reason gets; any other reason is
`Refusal.invalid`."""
