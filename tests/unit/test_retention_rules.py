"""Retention decisions: which rule applies, when it falls due across bank holidays, holds,
and how names are reduced. Pure domain, no services."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from portal.adapters.bank_holidays import england_and_wales_calendar
from portal.adapters.policy_files import PolicyFileError, load_retention_policy
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.retention import (
    Action,
    InspectionEvents,
    LegalHold,
    RetentionClass,
    RetentionEvent,
    RetentionPolicy,
    class_of_document,
    decide_record,
    fieldwork_week_end,
    initials_of,
    inspection_events,
    names_due,
    neutral_filename,
    reduce_names,
)

POLICY_FILE = Path(__file__).resolve().parents[2] / "policies" / "retention.yaml"
CALENDAR = england_and_wales_calendar(2025, 2027)
# Fieldwork starts Monday 30 March 2026; Good Friday (3 April) and Easter Monday (6 April)
# are bank holidays, so the fieldwork week ends on Thursday 2 April.
FIELDWORK_START = date(2026, 3, 30)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy() -> RetentionPolicy:
    return load_retention_policy(POLICY_FILE)


def events(policy: RetentionPolicy, **recorded: date) -> InspectionEvents:
    return inspection_events(
        "insp",
        {RetentionEvent(k): v for k, v in recorded.items()},
        FIELDWORK_START,
        policy.estimates,
        CALENDAR,
    )


def document(
    item: str = "1.1",
    status: DocumentStatus = DocumentStatus.accepted,
    area: Area = Area.clean,
    decided_at: datetime | None = T0,
    doc_id: str = "doc1",
) -> Document:
    return Document(
        id=doc_id,
        inspection_id="insp",
        agency="local_authority",
        item_number=item,
        original_filename="x.pdf",
        status=status,
        area=area,
        received_at=T0,
        updated_at=T0,
        decided_at=decided_at,
    )


def decide(
    policy: RetentionPolicy,
    retention_class: RetentionClass | None,
    today: date,
    *,
    holds: tuple[LegalHold, ...] = (),
    decided_at: datetime | None = None,
    **recorded: date,
) -> tuple[Action, date | None]:
    decision = decide_record(
        retention_class,
        policy,
        events(policy, **recorded),
        holds,
        CALENDAR,
        today,
        document_id="doc1",
        decided_at=decided_at,
    )
    return decision.action, decision.due


def hold(document_id: str | None = None, lifted: bool = False) -> LegalHold:
    return LegalHold(
        id="h1",
        inspection_id="insp",
        document_id=document_id,
        reason="claim 123",
        placed_by="records_officer:x",
        placed_at=T0,
        lifted_at=T0 if lifted else None,
    )


def test_the_shipped_policy_gives_every_retention_class_a_rule(
    policy: RetentionPolicy,
) -> None:
    assert set(policy.classes) == set(RetentionClass)
    assert policy.names.after is RetentionEvent.fieldwork_end
    assert policy.names.working_days == 0


def test_a_policy_without_a_rule_for_every_class_is_refused_naming_the_line(
    tmp_path: Path,
) -> None:
    text = POLICY_FILE.read_text(encoding="utf-8")
    broken = tmp_path / "retention.yaml"
    broken.write_text(text.replace("    working_days: 5\n", "    working_days: -5\n"), "utf-8")
    with pytest.raises(PolicyFileError) as error:
        load_retention_policy(broken)
    assert "retention.yaml:" in str(error.value)
    assert "classes.health_record.working_days" in str(error.value)


def test_fieldwork_ends_on_the_last_working_day_of_its_week() -> None:
    assert fieldwork_week_end(FIELDWORK_START, CALENDAR) == date(2026, 4, 2)
    assert fieldwork_week_end(date(2026, 6, 8), CALENDAR) == date(2026, 6, 12)


def test_documents_are_classed_by_what_they_were_uploaded_for() -> None:
    assert class_of_document(document("1.1")) is RetentionClass.annex_a_information
    assert class_of_document(document("list:ilacs_4")) is RetentionClass.child_list
    assert class_of_document(document("case_record")) is RetentionClass.case_record
    assert class_of_document(document("audit")) is RetentionClass.audit
    assert (
        class_of_document(document("case_record", area=Area.onsite)) is RetentionClass.health_record
    )
    rejected = document(status=DocumentStatus.rejected, area=Area.quarantine)
    assert class_of_document(rejected) is RetentionClass.rejected_upload
    withdrawn = document("case_record", status=DocumentStatus.withdrawn, area=Area.onsite)
    assert class_of_document(withdrawn) is RetentionClass.rejected_upload
    assert class_of_document(document(status=DocumentStatus.processing)) is None


def test_child_lists_go_ten_working_days_after_fieldwork_skipping_easter(
    policy: RetentionPolicy,
) -> None:
    assert decide(policy, RetentionClass.child_list, date(2026, 4, 17)) == (
        Action.keep,
        date(2026, 4, 20),
    )
    assert decide(policy, RetentionClass.child_list, date(2026, 4, 20)) == (
        Action.delete,
        date(2026, 4, 20),
    )


def test_health_records_go_five_working_days_after_fieldwork(policy: RetentionPolicy) -> None:
    assert decide(policy, RetentionClass.health_record, date(2026, 4, 10))[0] is Action.keep
    assert decide(policy, RetentionClass.health_record, date(2026, 4, 13)) == (
        Action.delete,
        date(2026, 4, 13),
    )


def test_evidence_waits_for_the_letter_to_be_recorded_not_for_its_estimate(
    policy: RetentionPolicy,
) -> None:
    decision = decide_record(
        RetentionClass.case_record,
        policy,
        events(policy),
        (),
        CALENDAR,
        date(2027, 1, 1),
    )
    assert decision.action is Action.keep
    assert "letter_published is not recorded yet" in decision.reason


def test_evidence_goes_when_the_complaint_window_closes_after_the_spring_bank_holiday(
    policy: RetentionPolicy,
) -> None:
    # Letter published Thursday 21 May 2026; Monday 25 May is a bank holiday, so the 10
    # working days of the complaint window end on Friday 5 June.
    published = {"letter_published": date(2026, 5, 21)}
    for retention_class in (
        RetentionClass.case_record,
        RetentionClass.annex_a_information,
        RetentionClass.audit,
    ):
        assert decide(policy, retention_class, date(2026, 6, 4), **published)[0] is Action.keep
        assert decide(policy, retention_class, date(2026, 6, 5), **published) == (
            Action.delete,
            date(2026, 6, 5),
        )


def test_rejected_uploads_go_ten_working_days_after_their_decision(
    policy: RetentionPolicy,
) -> None:
    decided = datetime(2026, 4, 1, 15, 0, tzinfo=UTC)
    keep = decide(policy, RetentionClass.rejected_upload, date(2026, 4, 16), decided_at=decided)
    go = decide(policy, RetentionClass.rejected_upload, date(2026, 4, 17), decided_at=decided)
    assert keep[0] is Action.keep
    assert go == (Action.delete, date(2026, 4, 17))


def test_the_audit_log_outlives_the_evidence(policy: RetentionPolicy) -> None:
    published = {"letter_published": date(2026, 5, 21)}
    action, due = decide(policy, RetentionClass.audit_log, date(2026, 12, 1), **published)
    assert action is Action.keep
    assert due is not None and due > date(2027, 5, 1)


def test_a_document_hold_or_an_inspection_hold_keeps_a_due_record(
    policy: RetentionPolicy,
) -> None:
    today = date(2026, 4, 20)
    for active in (hold("doc1"), hold(None)):
        decision = decide_record(
            RetentionClass.child_list,
            policy,
            events(policy),
            (active,),
            CALENDAR,
            today,
            document_id="doc1",
        )
        assert decision.action is Action.hold
        assert decision.hold_ids == ("h1",)


def test_a_lifted_hold_or_another_documents_hold_keeps_nothing(policy: RetentionPolicy) -> None:
    today = date(2026, 4, 20)
    for inactive in (hold("doc1", lifted=True), hold("doc2")):
        assert decide(policy, RetentionClass.child_list, today, holds=(inactive,))[0] is (
            Action.delete
        )


def test_a_document_still_being_processed_is_kept(policy: RetentionPolicy) -> None:
    assert decide(policy, None, date(2030, 1, 1))[0] is Action.keep


def test_a_withdrawn_inspection_goes_ten_working_days_after_withdrawal(
    policy: RetentionPolicy,
) -> None:
    withdrawn = inspection_events(
        "insp",
        {RetentionEvent.withdrawn: date(2026, 3, 10)},
        FIELDWORK_START,
        policy.estimates,
        CALENDAR,
        withdrawn=True,
    )
    decision = decide_record(
        RetentionClass.case_record, policy, withdrawn, (), CALENDAR, date(2026, 3, 24)
    )
    assert (decision.action, decision.due) == (Action.delete, date(2026, 3, 24))


def test_names_are_due_when_fieldwork_ends_unless_the_inspection_is_held(
    policy: RetentionPolicy,
) -> None:
    ev = events(policy)
    assert names_due(policy, ev, (), CALENDAR, date(2026, 4, 1)).action is Action.keep
    assert names_due(policy, ev, (), CALENDAR, date(2026, 4, 2)).action is Action.delete
    assert names_due(policy, ev, (hold(None),), CALENDAR, date(2026, 4, 2)).action is Action.hold
    assert names_due(policy, ev, (hold("doc1"),), CALENDAR, date(2026, 4, 2)).action is (
        Action.delete
    )


def test_names_are_reduced_to_initials_wherever_they_appear() -> None:
    names = ["Jayden Okafor", "Zoë Smith-Jones"]
    text = "Jayden  okafor's chronology; JAYDEN seen with zoë smith-jones. Annex Okaforville."
    assert reduce_names(text, names) == ("J.O.'s chronology; J. seen with Z.S.. Annex Okaforville.")
    assert reduce_names("Anne went to the Annex", ["Anne Lee"]) == "A. went to the Annex"


def test_initials_and_neutral_filenames_say_nothing_about_anyone() -> None:
    assert initials_of("Jane Mary Smith") == "J.M.S."
    assert initials_of("  ") == "?"
    assert neutral_filename("d1", "Jane Smith chronology.PDF") == "d1.pdf"
    assert neutral_filename("d1", "no extension") == "d1"
    assert neutral_filename("d1", "weird.ext with space") == "d1"
