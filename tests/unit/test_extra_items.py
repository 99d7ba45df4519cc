"""The lead's own items in one inspection (004 para 127, 002 para 17): each is owed by one
agency by its own deadline, taken only from that agency, counted in completeness against
that deadline and chased like any item of the theme."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.domain.chase import ChasePolicy, Contacts, MessageKind, plan_chase
from portal.domain.completeness import DocumentFact, completeness
from portal.domain.documents import DocumentStatus, Outcome
from portal.domain.extra_items import (
    ExtraItem,
    ExtraKind,
    extra_requirements,
    with_extra_deadlines,
)
from portal.domain.reasons import ReasonCode
from portal.domain.schedule import schedule_of
from portal.domain.scope import UploadFacts, decide_upload
from portal.domain.timeline import LONDON, WorkingCalendar
from portal.web.views import UploadTarget, target_of
from tests.unit.two_deadline_theme import two_deadline_theme

THEME = two_deadline_theme()
CALENDAR = WorkingCalendar()
FIELDWORK = date(2025, 6, 16)
DUE = datetime(2025, 6, 10, 12, 0, tzinfo=LONDON)
EXTRA = ExtraItem(
    id="0123456789ab",
    inspection_id="insp1",
    agency="police",
    title="Missing-from-home return interviews, last 6 months",
    due=DUE,
    added_by="lead_inspector:user-1",
    added_at=datetime(2025, 6, 2, 9, tzinfo=UTC),
)
POLICY = ChasePolicy(reminder_working_days_before=2, why="test")
CONTACTS = Contacts(
    lead_inspector=("lead@inspectorate.example",),
    agencies={"police": ("police@force.example",), "health": ("health@icb.example",)},
)


def _schedule():  # type: ignore[no-untyped-def]
    base = schedule_of(THEME, FIELDWORK, CALENDAR, {})
    assert base is not None
    return with_extra_deadlines(base, [EXTRA], {})


def test_an_extra_item_is_taken_only_from_its_own_agency() -> None:
    mine = decide_upload(
        THEME, UploadFacts(agency="police", item=EXTRA.item, extra_agency="police")
    )
    theirs = decide_upload(
        THEME, UploadFacts(agency="health", item=EXTRA.item, extra_agency="police")
    )
    unknown = decide_upload(THEME, UploadFacts(agency="police", item="extra:ffffffffffff"))

    assert mine.outcome is Outcome.proceed
    assert (theirs.outcome, theirs.reason) == (Outcome.reject, ReasonCode.not_for_agency)
    assert (unknown.outcome, unknown.reason) == (Outcome.reject, ReasonCode.unknown_item)


def test_the_schedule_gains_the_items_own_deadline_in_due_order_quoting_the_lead() -> None:
    schedule = _schedule()

    ours = next(d for d in schedule.deadlines if d.key == "extra_0123456789ab")
    assert ours.due == DUE
    assert ours.quote == (
        "Asked by the lead inspector: Missing-from-home return interviews, last 6 months"
    )
    dues = [d.due for d in schedule.deadlines]
    assert dues == sorted(dues)


def test_an_issue_of_concern_quotes_the_forms_words() -> None:
    concern = EXTRA.model_copy(update={"kind": ExtraKind.issue_of_concern, "title": "Strategy"})

    assert concern.quote.endswith("Response and explanation required by:")


def test_completeness_counts_the_extra_item_against_its_own_deadline() -> None:
    schedule = _schedule()
    extra = extra_requirements([EXTRA], ["police", "health"])
    before = completeness(
        THEME,
        ["police", "health"],
        schedule.due_times(),
        [],
        datetime(2025, 6, 11, tzinfo=UTC),
        extra=extra,
    )
    accepted = DocumentFact(
        agency="police",
        item_number=EXTRA.item,
        status=DocumentStatus.accepted,
        received_at=datetime(2025, 6, 5, tzinfo=UTC),
        decided_at=datetime(2025, 6, 5, tzinfo=UTC),
    )
    after = completeness(
        THEME,
        ["police", "health"],
        schedule.due_times(),
        [accepted],
        datetime(2025, 6, 11, tzinfo=UTC),
        extra=extra,
    )

    ours = next(s for s in before if s.deadline == "extra_0123456789ab")
    assert (ours.agency, ours.due, ours.missing, ours.overdue) == (
        "police",
        DUE,
        (EXTRA.item,),
        (EXTRA.item,),
    )
    assert not [s for s in before if s.agency == "health" and s.deadline == ours.deadline]
    assert next(s for s in after if s.deadline == ours.deadline).missing == ()


def test_an_extra_item_of_an_agency_out_of_scope_asks_nothing() -> None:
    assert extra_requirements([EXTRA], ["health"]) == []


def test_the_agency_is_reminded_of_its_extra_item_and_the_lead_alerted_after_it() -> None:
    schedule = _schedule()
    extra = extra_requirements([EXTRA], ["police", "health"])

    def plan(as_of: datetime) -> list:  # type: ignore[type-arg]
        states = completeness(
            THEME, ["police", "health"], schedule.due_times(), [], as_of, extra=extra
        )
        return plan_chase("insp1", "T", schedule, states, CONTACTS, as_of, CALENDAR, "", POLICY)

    ahead = [
        m
        for m in plan(datetime(2025, 6, 9, 9, tzinfo=LONDON))
        if m.deadline == "extra_0123456789ab"
    ]
    passed = [
        m
        for m in plan(datetime(2025, 6, 10, 13, tzinfo=LONDON))
        if m.deadline == "extra_0123456789ab"
    ]

    assert [(m.kind, m.agency) for m in ahead] == [(MessageKind.reminder, "police")]
    assert "Missing-from-home return interviews" in ahead[0].body
    assert {m.kind for m in passed} == {MessageKind.overdue_notice, MessageKind.lead_alert}


def test_an_extra_items_checklist_key_opens_its_upload_page() -> None:
    assert target_of("extra:0123456789ab") == UploadTarget(
        key="extra:0123456789ab", item="extra:0123456789ab"
    )
    assert target_of("extra:NOT-AN-ID") is None
