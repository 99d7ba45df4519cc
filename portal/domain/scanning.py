"""What a virus scanner's reply means for a document. Fails closed: only an exact OK is clean."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from portal.domain.documents import Verdict
from portal.domain.reasons import ReasonCode

CLEAN_REPLY = "stream: OK"


class ScanStatus(StrEnum):
    clean = "clean"
    found = "found"
    unusable = "unusable"


class ScanReply(BaseModel):
    """clamd's reply to one INSTREAM, parsed; `raw` keeps the exact text for the audit trail."""

    model_config = ConfigDict(frozen=True)

    raw: str
    status: ScanStatus
    signature: str | None = None


def parse_scan_reply(raw: str) -> ScanReply:
    """Parse clamd's INSTREAM reply. Anything but the exact clean reply or a FOUND is unusable."""
    text = raw.rstrip("\0\n")
    if text == CLEAN_REPLY:
        return ScanReply(raw=text, status=ScanStatus.clean)
    if text.startswith("stream: ") and text.endswith(" FOUND"):
        signature = text[len("stream: ") : -len(" FOUND")].strip()
        if signature:
            return ScanReply(raw=text, status=ScanStatus.found, signature=signature)
    return ScanReply(raw=text, status=ScanStatus.unusable)


def decide_scan(reply: ScanReply) -> Verdict:
    """Turn a scan reply into a verdict.

    A found signature rejects the document as infected, except clamd's own heuristic alerts
    (limits exceeded, encrypted content, broken executable, macros), which reject it with the
    reason an uploader can act on. An unusable reply is retried, never taken as clean.
    """
    if reply.status is ScanStatus.clean:
        return Verdict.proceed()
    if reply.status is ScanStatus.found:
        signature = reply.signature or ""
        if signature.startswith("Heuristics.Limits.Exceeded"):
            return Verdict.reject(ReasonCode.scan_limits_exceeded, detail=signature)
        if signature.startswith("Heuristics.Encrypted"):
            return Verdict.reject(ReasonCode.encrypted, detail=signature)
        if signature.startswith("Heuristics.Broken.Executable"):
            return Verdict.reject(ReasonCode.file_type_not_allowed, detail=signature)
        if signature.startswith("Heuristics.OLE2.ContainsMacros"):
            return Verdict.reject(ReasonCode.macros_not_allowed, detail=signature)
        return Verdict.reject(ReasonCode.infected, detail=signature)
    if "size limit exceeded" in reply.raw:
        return Verdict.reject(ReasonCode.scan_limits_exceeded, detail=reply.raw)
    return Verdict.retry(ReasonCode.scanner_unavailable, detail=reply.raw or "empty reply")
