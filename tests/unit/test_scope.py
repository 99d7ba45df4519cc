"""Uploads are checked against the theme and the selections: scope, look-back, warnings."""

from datetime import date

from portal.domain.checklist import ThemePolicy
from portal.domain.documents import Area, Outcome
from portal.domain.reasons import ReasonCode, WarningCode
from portal.domain.scope import (
    UploadFacts,
    area_for_upload,
    decide_upload,
    months_before,
    needs_document_date,
    target_title,
)

THEME = ThemePolicy.model_validate(
    {
        "theme": "test-theme",
        "variant": "v1",
        "title": "Test",
        "source": "test",
        "timeline": {
            "shape": {"fieldwork_week": 3, "notification_working_days_before_fieldwork": 10},
            "deadlines": {
                "w1": {
                    "rule": {"kind": "in_week", "week": 1, "weekday": "tuesday"},
                    "quote": "By 5pm on Tuesday in week 1",
                }
            },
        },
        "agencies": [
            {
                "code": "local_authority",
                "name": "The local authority",
                "items": [
                    {
                        "number": "1.4",
                        "title": "Practice audits",
                        "deadline": "w1",
                        "lookback": {
                            "quote": "over the 12 months before the inspection",
                            "months": 12,
                        },
                    },
                    {
                        "number": "1.8",
                        "title": "Strategic meetings",
                        "deadline": "w1",
                        "lookback": {
                            "quote": "the 3 most recent sets of minutes",
                            "most_recent": 3,
                        },
                    },
                ],
            },
            {
                "code": "health",
                "name": "Health",
                "items": [{"number": "4.1", "title": "Structure", "deadline": "w1"}],
            },
        ],
        "child_lists": [
            {
                "key": "ilacs_list_4",
                "title": "List 4",
                "ilacs_list": 4,
                "agency": "local_authority",
                "deadline": "w1",
            }
        ],
        "case_records": [
            {
                "agency": "health",
                "documents": ["health records"],
                "deadline": "w1",
                "health_record": True,
            },
            {"agency": "local_authority", "documents": ["assessments"], "deadline": "w1"},
        ],
        "audits": {"quote": "audits", "deadline": "w1", "shared_by": "local_authority"},
    }
)
NOTIFIED = date(2025, 6, 2)


def _facts(**changes: object) -> UploadFacts:
    base: dict[str, object] = {
        "agency": "local_authority",
        "item": "1.4",
        "document_date": date(2025, 1, 1),
        "notification": NOTIFIED,
    }
    base.update(changes)
    return UploadFacts.model_validate(base)


def test_a_document_inside_the_lookback_is_accepted() -> None:
    assert decide_upload(THEME, _facts()).outcome is Outcome.proceed


def test_a_document_dated_before_the_lookback_is_rejected() -> None:
    verdict = decide_upload(THEME, _facts(document_date=date(2024, 6, 1)))
    assert verdict.reason is ReasonCode.outside_lookback
    assert "2024-06-02" in verdict.detail


def test_an_item_with_a_lookback_needs_a_document_date() -> None:
    assert needs_document_date(THEME, "1.4")
    assert not needs_document_date(THEME, "1.8")
    verdict = decide_upload(THEME, _facts(document_date=None))
    assert verdict.reason is ReasonCode.document_date_required


def test_a_fourth_set_of_minutes_is_accepted_with_a_warning() -> None:
    third = decide_upload(THEME, _facts(item="1.8", sent_earlier_for_slot=2))
    fourth = decide_upload(THEME, _facts(item="1.8", sent_earlier_for_slot=3))
    assert third.warnings == ()
    assert fourth.outcome is Outcome.proceed
    assert fourth.warnings == (WarningCode.more_than_requested,)


def test_a_duplicate_is_accepted_with_a_warning() -> None:
    verdict = decide_upload(THEME, _facts(duplicate=True))
    assert verdict.outcome is Outcome.proceed
    assert WarningCode.duplicate in verdict.warnings


def test_a_case_record_for_a_child_not_selected_is_rejected() -> None:
    verdict = decide_upload(
        THEME, _facts(item="case_record", child_id="C1", audited_children=frozenset({"C2"}))
    )
    assert verdict.reason is ReasonCode.child_not_selected


def test_a_case_record_must_name_its_child() -> None:
    verdict = decide_upload(THEME, _facts(item="case_record", child_id=None))
    assert verdict.reason is ReasonCode.child_id_required


def test_a_case_record_for_a_selected_child_is_accepted() -> None:
    verdict = decide_upload(
        THEME, _facts(item="case_record", child_id="C2", audited_children=frozenset({"C2"}))
    )
    assert verdict.outcome is Outcome.proceed


def test_an_agency_asked_for_no_case_records_cannot_send_them() -> None:
    theme = THEME.model_copy(update={"case_records": ()})
    verdict = decide_upload(
        theme, _facts(item="case_record", child_id="C2", audited_children=frozenset({"C2"}))
    )
    assert verdict.reason is ReasonCode.not_for_agency


def test_a_child_list_is_accepted_only_from_the_agency_asked_for_it() -> None:
    assert decide_upload(THEME, _facts(item="list:ilacs_list_4")).outcome is Outcome.proceed
    assert decide_upload(THEME, _facts(item="list:ilacs_list_4", agency="health")).reason is (
        ReasonCode.not_for_agency
    )
    assert decide_upload(THEME, _facts(item="list:nope")).reason is ReasonCode.unknown_item


def test_health_case_records_go_to_the_onsite_area() -> None:
    assert area_for_upload(THEME, "health", "case_record") is Area.onsite
    assert area_for_upload(THEME, "local_authority", "case_record") is Area.clean
    assert area_for_upload(THEME, "health", "4.1") is Area.clean


def test_months_before_clamps_to_the_end_of_a_shorter_month() -> None:
    assert months_before(date(2025, 3, 31), 1) == date(2025, 2, 28)
    assert months_before(date(2025, 6, 2), 12) == date(2024, 6, 2)


def test_a_target_is_titled_by_its_item_its_list_or_its_child() -> None:
    assert target_title(THEME, "1.4", None) == "Practice audits"
    assert target_title(THEME, "case_record", "C123") == "Case records of child C123"
    assert target_title(THEME, "audit", "C123") == "Multi-agency audit of child C123"
    assert target_title(THEME, "agency_audit", "C123") == "Single-agency audit of child C123"
    assert target_title(THEME, "list:unknown", None) == "A list of children"
    assert target_title(THEME, "9.9", None) == "9.9"
