"""Only an exact clean reply from clamd lets a document go on."""

import pytest

from portal.domain.documents import Outcome
from portal.domain.reasons import ReasonCode
from portal.domain.scanning import ScanStatus, decide_scan, parse_scan_reply


def test_an_exact_ok_reply_is_clean() -> None:
    assert decide_scan(parse_scan_reply("stream: OK\0")).outcome is Outcome.proceed


def test_a_found_signature_rejects_the_document_as_infected() -> None:
    verdict = decide_scan(parse_scan_reply("stream: Win.Test.EICAR_HDB-1 FOUND"))
    assert verdict.outcome is Outcome.reject
    assert verdict.reason is ReasonCode.infected
    assert verdict.detail == "Win.Test.EICAR_HDB-1"


def test_a_limit_alert_rejects_as_scan_limits_exceeded_not_clean() -> None:
    verdict = decide_scan(parse_scan_reply("stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND"))
    assert verdict.reason is ReasonCode.scan_limits_exceeded


def test_an_encrypted_content_alert_rejects_as_encrypted() -> None:
    verdict = decide_scan(parse_scan_reply("stream: Heuristics.Encrypted.PDF FOUND"))
    assert verdict.reason is ReasonCode.encrypted


def test_the_instream_size_limit_error_is_never_clean() -> None:
    reply = parse_scan_reply("INSTREAM size limit exceeded. ERROR")
    assert reply.status is ScanStatus.unusable
    assert decide_scan(reply).reason is ReasonCode.scan_limits_exceeded


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "stream: ok",
        "stream: OK extra",
        "OK",
        "stream: ERROR",
        "stream:  FOUND",
        "lstat() failed: No such file or directory. ERROR",
        "UNKNOWN COMMAND",
    ],
)
def test_any_other_reply_is_retried_never_clean(raw: str) -> None:
    verdict = decide_scan(parse_scan_reply(raw))
    assert verdict.outcome is Outcome.retry
    assert verdict.reason is ReasonCode.scanner_unavailable


def test_heuristic_alerts_give_the_reason_an_uploader_can_act_on() -> None:
    broken = decide_scan(parse_scan_reply("stream: Heuristics.Broken.Executable FOUND"))
    macros = decide_scan(parse_scan_reply("stream: Heuristics.OLE2.ContainsMacros FOUND"))
    assert broken.reason is ReasonCode.file_type_not_allowed
    assert macros.reason is ReasonCode.macros_not_allowed
