"""decide_sanitise and the SanitiseReport vocabulary."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from portal.domain.documents import Outcome
from portal.domain.reasons import ReasonCode, WarningCode
from portal.domain.sanitising import (
    ACTIVE_CONTENT,
    EMBEDDED_FILES,
    Removed,
    SanitiseReport,
    decide_sanitise,
)


def test_rejects_encrypted_pdf() -> None:
    verdict = decide_sanitise(SanitiseReport(problem="encrypted"))

    assert verdict.outcome is Outcome.reject
    assert verdict.reason is ReasonCode.encrypted


def test_rejects_corrupt_pdf() -> None:
    verdict = decide_sanitise(SanitiseReport(problem="corrupt"))

    assert verdict.outcome is Outcome.reject
    assert verdict.reason is ReasonCode.corrupt


def test_problem_wins_over_anything_removed() -> None:
    report = SanitiseReport(problem="corrupt", removed=("javascript",), metadata_stripped=True)

    assert decide_sanitise(report).reason is ReasonCode.corrupt


def test_lets_a_clean_pdf_through_without_warnings() -> None:
    verdict = decide_sanitise(SanitiseReport())

    assert verdict.outcome is Outcome.proceed
    assert verdict.reason is None
    assert verdict.warnings == ()
    assert verdict.detail == ""


def test_warns_only_metadata_stripped_when_only_metadata_went() -> None:
    verdict = decide_sanitise(SanitiseReport(metadata_stripped=True))

    assert verdict.outcome is Outcome.proceed
    assert verdict.warnings == (WarningCode.metadata_stripped,)


@pytest.mark.parametrize("removed", sorted(ACTIVE_CONTENT))
def test_warns_active_content_removed_for_scripts_and_actions(removed: Removed) -> None:
    verdict = decide_sanitise(SanitiseReport(removed=(removed,)))

    assert verdict.outcome is Outcome.proceed
    assert verdict.warnings == (WarningCode.active_content_removed,)


@pytest.mark.parametrize("removed", sorted(EMBEDDED_FILES))
def test_warns_embedded_files_removed_for_attachments(removed: Removed) -> None:
    verdict = decide_sanitise(SanitiseReport(removed=(removed,)))

    assert verdict.outcome is Outcome.proceed
    assert verdict.warnings == (WarningCode.embedded_files_removed,)


def test_gives_every_warning_once_in_a_fixed_order() -> None:
    report = SanitiseReport(
        removed=(
            "xfa",
            "embedded_files",
            "javascript",
            "open_action",
            "file_attachment_annotations",
        ),
        metadata_stripped=True,
    )

    verdict = decide_sanitise(report)

    assert verdict.warnings == (
        WarningCode.active_content_removed,
        WarningCode.embedded_files_removed,
        WarningCode.metadata_stripped,
    )
    assert verdict.detail == (
        "removed: embedded_files, file_attachment_annotations, javascript, open_action, xfa"
    )


def test_every_removed_name_leads_to_exactly_one_warning() -> None:
    assert set(Removed) == ACTIVE_CONTENT | EMBEDDED_FILES
    assert not ACTIVE_CONTENT & EMBEDDED_FILES


def test_report_refuses_names_outside_the_vocabulary() -> None:
    with pytest.raises(ValidationError):
        SanitiseReport(removed=("scripts",))


def test_report_refuses_unknown_problems() -> None:
    with pytest.raises(ValidationError):
        SanitiseReport.model_validate({"problem": "weird"})


def test_report_keeps_each_name_once_sorted() -> None:
    report = SanitiseReport(removed=("xfa", "javascript", "xfa"))

    assert report.removed == ("javascript", "xfa")


def test_report_is_frozen() -> None:
    report = SanitiseReport()

    with pytest.raises(ValidationError):
        report.metadata_stripped = True  # type: ignore[misc]


def test_a_decrypted_pdf_goes_on_with_a_warning_that_its_restrictions_were_removed() -> None:
    verdict = decide_sanitise(SanitiseReport(decrypted=True))

    assert verdict.outcome is Outcome.proceed
    assert verdict.warnings == (WarningCode.edit_restrictions_removed,)


def test_embedded_files_too_many_to_scan_reject_as_scan_limits_exceeded() -> None:
    verdict = decide_sanitise(SanitiseReport(problem="scan_limits", problem_detail="1001 files"))

    assert verdict.outcome is Outcome.reject
    assert verdict.reason is ReasonCode.scan_limits_exceeded
    assert verdict.detail == "1001 files"
