"""Domain errors. They carry a ReasonCode, never an HTTP status; the API maps them."""

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


class ObjectMissing(PortalError):
    """The object store holds no object under the key asked for."""


class UploadTooLarge(PortalError):
    """An upload passed the configured size limit; nothing of it was kept."""

    reason = ReasonCode.too_large


class AuditKeyError(PortalError):
    """The audit key file is missing, unreadable, malformed or open to other users: the
    audit log can be neither written nor verified until it is put right."""


class AnchorSinkUnavailable(TransientError):
    """The audit anchor sink (append-only file, Object Lock bucket) could not be read or
    written now."""


class AnchorSinkUnsafe(PortalError):
    """The anchor sink would not keep anchors out of reach (e.g. a bucket without Object
    Lock): refused rather than trusted."""
