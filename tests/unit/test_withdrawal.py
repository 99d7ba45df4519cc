"""A document found infected after it was accepted is withdrawn: what that does to the
document, its item's completeness, the words people read and the notices they get."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.domain.chase import (
    Contacts,
    MessageKind,
    plan_rejection_notice,
    plan_withdrawal_notices,
)
from portal.domain.completeness import DocumentFact, completeness
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.reasons import ReasonCode, reason_sentence
from portal.domain.schedule import say_moment
from portal.domain.withdrawal import (
    WithdrawalOutcome,
    decide_withdrawal,
    rescan_detail,
    why_withdrawn,
)
from portal.web import views
from tests.unit.test_chase import _plan
from tests.unit.test_completeness import DEADLINES, THEME, TUESDAY, _police

ACCEPTED_AT = TUESDAY - timedelta(days=1)
WITHDRAWN_AT = TUESDAY - timedelta(hours=2)
CONTACTS = Contacts(
    lead_inspector=("lead@inspectorate.example",),
    agencies={"police": ("police@force.example", "deputy@force.example")},
)


def _document(**changes: Any) -> Document:
    fields: dict[str, Any] = {
        "id": "doc1",
        "inspection_id": "insp",
        "agency": "police",
        "item_number": "3.1",
        "original_filename": "structure.pdf",
        "status": DocumentStatus.accepted,
        "area": Area.clean,
        "received_at": ACCEPTED_AT,
        "updated_at": ACCEPTED_AT,
        "decided_at": ACCEPTED_AT,
        **changes,
    }
    return Document(**fields)


def _withdrawn(**changes: Any) -> Document:
    return _document(
        status=DocumentStatus.withdrawn,
        reasons=(ReasonCode.infected_on_rescan,),
        detail="Win.Test.EICAR_HDB-1 (found on rescan by ClamAV 1.0.7/27432)",
        decided_at=WITHDRAWN_AT,
        **changes,
    )


@pytest.mark.parametrize(
    ("document", "outcome"),
    [
        (_document(), WithdrawalOutcome.withdrawn),
        (_document(area=Area.onsite), WithdrawalOutcome.withdrawn),
        (_withdrawn(area=Area.clean), WithdrawalOutcome.finished),
        (_withdrawn(area=Area.onsite), WithdrawalOutcome.finished),
        (_withdrawn(area=Area.quarantine), WithdrawalOutcome.already_withdrawn),
        (_document(status=DocumentStatus.rejected), WithdrawalOutcome.not_accepted),
        (_document(status=DocumentStatus.received), WithdrawalOutcome.not_accepted),
        (_document(status=DocumentStatus.failed), WithdrawalOutcome.not_accepted),
        (_document(deleted_at=TUESDAY), WithdrawalOutcome.deleted),
        (None, WithdrawalOutcome.not_found),
    ],
)
def test_only_an_accepted_document_is_withdrawn_and_an_unsettled_withdrawal_is_finished(
    document: Document | None, outcome: WithdrawalOutcome
) -> None:
    assert decide_withdrawal(document) is outcome
    assert outcome.acts == (outcome in (WithdrawalOutcome.withdrawn, WithdrawalOutcome.finished))


def test_a_withdrawn_document_is_final() -> None:
    assert DocumentStatus.withdrawn.is_final


def test_the_detail_names_the_signature_and_the_scanner_that_found_it() -> None:
    assert rescan_detail(" Win.Test.EICAR_HDB-1 ", "ClamAV 1.0.7/27432/Mon Dec 1") == (
        "Win.Test.EICAR_HDB-1 (found on rescan by ClamAV 1.0.7/27432/Mon Dec 1)"
    )
    assert len(rescan_detail("x" * 5000, "y" * 5000)) < 1100


def test_inspectors_are_told_when_and_why_and_to_delete_a_copy_they_downloaded() -> None:
    said = why_withdrawn(["infected_on_rescan"], datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    assert said.startswith("This document was withdrawn on 30 November 2026:")
    assert "newer virus definitions" in said
    assert "clean copy" in said and "delete your copy" in said


def _fact(status: DocumentStatus, decided_at: datetime) -> DocumentFact:
    withdrawn = status is DocumentStatus.withdrawn
    return DocumentFact(
        agency="police",
        item_number="3.1",
        status=status,
        reasons=(ReasonCode.infected_on_rescan,) if withdrawn else (),
        received_at=ACCEPTED_AT - timedelta(minutes=5),
        decided_at=decided_at,
    )


def test_a_withdrawn_document_leaves_its_item_missing_again_with_the_reason() -> None:
    facts = [_fact(DocumentStatus.withdrawn, WITHDRAWN_AT)]
    state = _police(completeness(THEME, ["police"], DEADLINES, facts, TUESDAY))
    item = state.items[0]
    assert (item.accepted, item.rejected, item.withdrawn) == (0, 0, 1)
    assert item.rejection_reasons == (ReasonCode.infected_on_rescan,)
    assert state.missing == ("3.1", "3.2")
    assert state.rejected == ("3.1",)
    assert state.accepted == 0


def test_a_clean_copy_accepted_after_the_withdrawal_completes_the_item_again() -> None:
    facts = [
        _fact(DocumentStatus.withdrawn, WITHDRAWN_AT),
        _fact(DocumentStatus.accepted, WITHDRAWN_AT + timedelta(minutes=30)),
    ]
    state = _police(completeness(THEME, ["police"], DEADLINES, facts, TUESDAY))
    assert state.missing == ("3.2",)
    assert state.rejected == ()
    assert views.item_tag(state.items[0]) is views.ACCEPTED


def test_the_checklist_says_withdrawn_and_what_to_do() -> None:
    facts = [_fact(DocumentStatus.withdrawn, WITHDRAWN_AT)]
    states = completeness(THEME, ["police"], DEADLINES, facts, TUESDAY)
    (group,) = views.checklist_groups(states, "police", None, TUESDAY)
    item = next(i for i in group.items if i.key == "3.1")
    assert item.tag == views.Tag("Withdrawn", "red")
    assert item.hints == (reason_sentence(ReasonCode.infected_on_rescan),)


def test_the_agency_s_document_page_says_withdrawn_and_offers_a_clean_copy() -> None:
    view = views.document_view(_withdrawn())
    assert view.heading == "Your file was withdrawn"
    assert view.tag.text == "Withdrawn" and view.final
    assert view.reasons == (reason_sentence(ReasonCode.infected_on_rescan),)
    assert "clean copy" in view.reasons[0] and "newer virus definitions" in view.reasons[0]
    assert (view.decided_label, view.again) == ("Withdrawn", "Upload a clean copy")
    assert views.document_view(_document(status=DocumentStatus.rejected)).again == (
        "Upload the file again"
    )


def test_the_agency_and_the_lead_are_each_told_once_what_happened_and_what_to_do() -> None:
    notices = plan_withdrawal_notices(
        _withdrawn(),
        "Testshire",
        "3.1 Structure",
        CONTACTS,
        "https://portal.example/inspections/insp/checklist",
    )
    agency, lead = notices
    assert {m.kind for m in notices} == {MessageKind.withdrawal_notice}
    assert agency.recipients == ("police@force.example", "deputy@force.example")
    assert agency.key == "insp:police:doc1:withdrawal_notice"
    assert agency.subject == "JTAI Testshire: an upload for 3.1 was withdrawn"
    assert f"received at {say_moment(ACCEPTED_AT)}" in agency.body
    assert reason_sentence(ReasonCode.infected_on_rescan) in agency.body
    assert "Win.Test.EICAR_HDB-1" in agency.body
    assert "https://portal.example/inspections/insp/checklist" in agency.body
    assert "doc1" in agency.body
    assert lead.recipients == ("lead@inspectorate.example",) and lead.agency is None
    assert lead.key == "insp:*:doc1:withdrawal_notice"
    assert "3.1 Structure" in lead.body and "delete their copy" in lead.body
    assert "missing again" in lead.body


def test_withdrawal_notices_name_no_file_for_a_filename_may_carry_a_childs_name() -> None:
    document = _withdrawn(original_filename="Case record Jane Doe.pdf")
    notices = plan_withdrawal_notices(document, "Testshire", "3.1 Structure", CONTACTS, "-")
    assert len(notices) == 2
    for notice in notices:
        assert "Jane" not in notice.subject + notice.body
        assert "doc1" in notice.body


def test_a_rejection_notice_names_no_file_but_says_when_the_upload_arrived() -> None:
    document = _document(
        original_filename="Case record Jane Doe.pdf",
        status=DocumentStatus.rejected,
        area=Area.quarantine,
        reasons=(ReasonCode.infected,),
    )
    notice = plan_rejection_notice(document, "Testshire", CONTACTS)
    assert notice is not None
    assert notice.subject == "JTAI Testshire: an upload for 3.1 was not accepted"
    assert "Jane" not in notice.subject + notice.body
    assert f"received at {say_moment(ACCEPTED_AT)}" in notice.body
    assert "doc1" in notice.body


def test_no_notice_for_a_document_that_is_not_withdrawn_or_for_no_one() -> None:
    assert plan_withdrawal_notices(_document(), "T", "3.1", CONTACTS, "u") == []
    assert plan_withdrawal_notices(_withdrawn(), "T", "3.1", Contacts(), "u") == []
    only_lead = Contacts(lead_inspector=("lead@inspectorate.example",))
    (lead,) = plan_withdrawal_notices(_withdrawn(), "T", "3.1", only_lead, "u")
    assert lead.agency is None


def test_the_reminder_lists_a_withdrawn_item_as_withdrawn_with_what_to_do() -> None:
    at = datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
    withdrawn = DocumentFact(
        agency="police",
        item_number="3.1",
        status=DocumentStatus.withdrawn,
        reasons=(ReasonCode.infected_on_rescan,),
        received_at=at - timedelta(days=2),
        decided_at=at - timedelta(hours=1),
    )
    police = next(
        m for m in _plan(at, [withdrawn]) if m.kind is MessageKind.reminder and m.agency == "police"
    )
    assert "These uploads were not accepted, or were withdrawn:" in police.body
    assert reason_sentence(ReasonCode.infected_on_rescan) in police.body
