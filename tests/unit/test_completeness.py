"""Completeness as of any time: required, accepted, rejected, missing and overdue items."""

from datetime import UTC, datetime, timedelta

from portal.domain.checklist import (
    AgencyChecklist,
    AnnexAItem,
    AuditRequest,
    CaseRecordRequest,
    ThemePolicy,
    TimelinePolicy,
)
from portal.domain.completeness import DocumentFact, completeness
from portal.domain.documents import DocumentStatus
from portal.domain.reasons import ReasonCode
from portal.domain.timeline import InWeek, TimelineShape, Weekday

TUESDAY = datetime(2025, 6, 3, 16, 0, tzinfo=UTC)
THEME = ThemePolicy.model_validate(
    {
        "theme": "test-theme",
        "variant": "v1",
        "title": "Test",
        "source": "test",
        "timeline": TimelinePolicy.model_validate(
            {
                "shape": TimelineShape(
                    fieldwork_week=3, notification_working_days_before_fieldwork=10
                ),
                "deadlines": {
                    "week1_tuesday": {
                        "rule": InWeek(week=1, weekday=Weekday.tuesday),
                        "quote": "By 5pm on Tuesday in week 1",
                    }
                },
            }
        ),
        "agencies": [
            AgencyChecklist(
                code="police",
                name="Police",
                items=(
                    AnnexAItem(number="3.1", title="Structure", deadline="week1_tuesday"),
                    AnnexAItem(number="3.2", title="Audits", deadline="week1_tuesday"),
                    AnnexAItem(
                        number="3.3",
                        title="Any escalation policy",
                        deadline="week1_tuesday",
                        optional=True,
                    ),
                ),
            ),
            AgencyChecklist(
                code="health",
                name="Health",
                items=(AnnexAItem(number="4.1", title="Structure", deadline="week1_tuesday"),),
            ),
        ],
    }
)
DEADLINES = {"week1_tuesday": TUESDAY}


def _fact(
    item: str, status: DocumentStatus, decided: datetime | None, *reasons: ReasonCode
) -> DocumentFact:
    return DocumentFact(
        agency="police",
        item_number=item,
        status=status,
        reasons=reasons,
        received_at=TUESDAY - timedelta(days=1),
        decided_at=decided,
    )


def _police(states: list) -> object:  # type: ignore[type-arg]
    return next(s for s in states if s.agency == "police")


def test_nothing_uploaded_means_every_required_item_is_missing_and_not_yet_overdue() -> None:
    state = _police(completeness(THEME, ["police"], DEADLINES, [], TUESDAY - timedelta(hours=1)))
    assert state.required == 2
    assert state.missing == ("3.1", "3.2")
    assert state.overdue == ()


def test_missing_items_become_overdue_once_the_deadline_passes() -> None:
    state = _police(completeness(THEME, ["police"], DEADLINES, [], TUESDAY + timedelta(minutes=1)))
    assert state.overdue == ("3.1", "3.2")


def test_an_accepted_document_completes_its_item_from_the_time_it_was_decided() -> None:
    decided = TUESDAY - timedelta(hours=2)
    facts = [_fact("3.1", DocumentStatus.accepted, decided)]
    before = _police(
        completeness(THEME, ["police"], DEADLINES, facts, decided - timedelta(minutes=1))
    )
    after = _police(completeness(THEME, ["police"], DEADLINES, facts, TUESDAY))
    assert before.missing == ("3.1", "3.2")
    assert before.items[0].pending == 1
    assert after.missing == ("3.2",)
    assert after.accepted == 1


def test_a_rejected_item_is_listed_with_its_reasons_until_a_document_is_accepted() -> None:
    facts = [
        _fact("3.2", DocumentStatus.rejected, TUESDAY - timedelta(hours=3), ReasonCode.infected)
    ]
    state = _police(completeness(THEME, ["police"], DEADLINES, facts, TUESDAY))
    assert state.rejected == ("3.2",)
    assert state.items[1].rejection_reasons == (ReasonCode.infected,)
    facts.append(_fact("3.2", DocumentStatus.accepted, TUESDAY - timedelta(hours=1)))
    assert _police(completeness(THEME, ["police"], DEADLINES, facts, TUESDAY)).rejected == ()


def test_optional_items_are_never_missing() -> None:
    state = _police(completeness(THEME, ["police"], DEADLINES, [], TUESDAY + timedelta(days=1)))
    assert "3.3" not in state.missing


def test_agencies_outside_the_inspection_are_left_out() -> None:
    states = completeness(THEME, ["police"], DEADLINES, [], TUESDAY)
    assert {s.agency for s in states} == {"police"}


def test_case_records_and_audits_are_owed_for_each_audited_child() -> None:
    theme = THEME.model_copy(
        update={
            "case_records": (
                CaseRecordRequest(
                    agency="police", documents=("chronology",), deadline="week1_tuesday"
                ),
            ),
            "audits": AuditRequest(quote="audits", deadline="week1_tuesday", shared_by="police"),
        }
    )
    facts = [
        DocumentFact(
            agency="police",
            item_number="case_record",
            child_id="C1",
            status=DocumentStatus.accepted,
            received_at=TUESDAY,
            decided_at=TUESDAY,
        ),
        DocumentFact(
            agency="health",
            item_number="audit",
            child_id="C2",
            status=DocumentStatus.accepted,
            received_at=TUESDAY,
            decided_at=TUESDAY,
        ),
    ]
    states = completeness(
        theme, ["police", "health"], DEADLINES, facts, TUESDAY, audited=["C1", "C2"]
    )
    police = _police(states)
    # The police share the multi-agency audit for the partnership: the one from health
    # for C2 counts on the police's checklist.
    assert "case_record:C1" not in police.missing
    assert "case_record:C2" in police.missing
    assert "audit:C1" in police.missing and "audit:C2" not in police.missing
