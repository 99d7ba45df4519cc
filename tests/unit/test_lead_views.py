"""The lead inspector's pages in words: what is missing before each deadline, the timeline's
moves, and the form messages that say how to put a deadline move or a selection right."""

from datetime import UTC, date, datetime

from portal.domain.completeness import completeness
from portal.domain.schedule import schedule_of
from portal.domain.selection import SelectionProblem, Stage
from portal.domain.timeline import LONDON, WorkingCalendar
from portal.web import lead_views
from tests.unit.two_deadline_theme import two_deadline_theme

THEME = two_deadline_theme(
    police="The police force",
    health="Health partners",
    selection={
        "shortlist_size": 20,
        "shortlist_quote": "select 20",
        "audit_min": 6,
        "audit_max": 6,
        "audit_quote": "select 6",
        "audit_selected_by": "w2_tue",
    },
)
FIELDWORK = date(2025, 6, 16)
SCHEDULE = schedule_of(THEME, FIELDWORK, WorkingCalendar(), {})
POLICY = THEME.selection


def _alerts(now: datetime) -> lead_views.AlertSummary:
    assert SCHEDULE is not None
    states = completeness(THEME, ["health", "police"], SCHEDULE.due_times(), [], now)
    return lead_views.deadline_alerts("insp1", states, SCHEDULE, THEME, now)


def test_alerts_say_what_each_agency_still_owes_before_each_deadline_in_due_order() -> None:
    summary = _alerts(datetime(2025, 6, 1, 9, tzinfo=UTC))
    assert [d.deadline for d in summary.deadlines] == ["w1_tue", "w2_tue"]
    first = summary.deadlines[0]
    assert first.heading == "Due by 5pm Tuesday 3 June"
    assert [s.name for s in first.shortfalls] == ["The police force", "Health partners"]
    assert first.shortfalls[0].sentence == "1 of 1 required item still to send."
    assert first.shortfalls[0].href == "/inspections/insp1/completeness/police/w1_tue"
    assert summary.sentence == "3 required items are still missing."


def test_after_a_deadline_alerts_say_what_is_overdue_and_since_when() -> None:
    summary = _alerts(datetime(2025, 6, 4, 9, tzinfo=UTC))
    passed = summary.deadlines[0]
    assert passed.passed and passed.shortfalls[0].overdue
    assert passed.shortfalls[0].sentence == (
        "1 item was due by 5pm Tuesday 3 June and has not been sent."
    )
    assert summary.sentence == "3 required items are still missing, 2 of them overdue."


def test_the_timeline_shows_who_moved_a_deadline_from_when_and_why() -> None:
    moved_to = datetime(2025, 6, 4, 15, tzinfo=LONDON)
    schedule = schedule_of(THEME, FIELDWORK, WorkingCalendar(), {"w1_tue": moved_to})
    assert schedule is not None
    states = completeness(THEME, ["police"], schedule.due_times(), [], moved_to)
    move = lead_views.MoveRecord("w1_tue", "lead_inspector:t1@insp1", moved_to, "Asked for time")
    entries = lead_views.timeline_entries(
        schedule, SCHEDULE, states, [move], THEME, "lead_inspector:t1@insp1", moved_to
    )
    first = entries[0]
    assert first.heading == "3pm Wednesday 4 June"
    assert first.move is not None
    assert (first.move.was, first.move.by, first.move.reason) == (
        "5pm Tuesday 3 June",
        "you",
        "Asked for time",
    )
    assert entries[1].due == (
        "The police force: 1 required item (0 accepted)",
        "You choose 6 children to audit",
    )


def test_a_deadline_move_needs_a_reason_a_real_date_and_a_24_hour_time() -> None:
    form = lead_views.read_move_form(
        {"due-day": "31", "due-month": "2", "due-year": "2026", "time-hour": "25", "reason": " "}
    )
    assert form.move is None
    assert [e["text"] for e in form.errors] == [
        "The new date must be a real date",
        "The hour must be between 0 and 23 (use the 24-hour clock)",
        "Enter why you are moving this deadline",
    ]
    assert [e["href"] for e in form.errors] == ["#due-day", "#time-hour", "#reason"]
    partial = lead_views.read_move_form({"due-day": "2", "due-year": "2026"})
    assert partial.errors[0]["text"] == "The new date must include a month"


def test_a_deadline_move_is_read_in_uk_time_and_checked_as_the_api_checks_it() -> None:
    form = lead_views.read_move_form(
        {
            "due-day": "2",
            "due-month": "7",
            "due-year": "2026",
            "time-hour": "15",
            "time-minute": "",
            "reason": "The police asked",
        }
    )
    assert form.move is not None
    assert form.move.due.astimezone(UTC) == datetime(2026, 7, 2, 14, 0, tzinfo=UTC)
    too_long = lead_views.read_move_form(
        {
            "due-day": "2",
            "due-month": "7",
            "due-year": "2026",
            "time-hour": "9",
            "reason": "x" * 501,
        }
    )
    assert [e["text"] for e in too_long.errors] == ["The reason must be 500 characters or fewer"]
    too_late = lead_views.read_move_form(
        {"due-day": "2", "due-month": "7", "due-year": "2126", "time-hour": "9", "reason": "r"}
    )
    assert too_late.errors[0]["href"] == "#due-day"


def test_a_name_typed_into_the_shortlist_stays_one_entry_so_it_is_refused() -> None:
    ids = lead_views.child_ids_from("C-1\r\nJane Smith\n\n C-2 , C-3\n")
    assert ids == ["C-1", "Jane Smith", "C-2", "C-3"]
    message = lead_views.selection_message(
        Stage.shortlist, SelectionProblem.invalid_child_id, ids, POLICY
    )
    assert message.endswith("check entry 2")


def test_selection_messages_say_how_to_put_the_selection_right() -> None:
    def say(stage: Stage, problem: SelectionProblem, ids: list[str]) -> str:
        return lead_views.selection_message(stage, problem, ids, POLICY, ("A1", "A2"))

    assert say(Stage.shortlist, SelectionProblem.repeated_child_id, ["A1", "A1"]) == (
        "Enter each child once: A1 is entered more than once"
    )
    assert say(Stage.shortlist, SelectionProblem.wrong_number_of_children, ["A"] * 21) == (
        "Enter no more than 20 children for the shortlist (you entered 21)"
    )
    assert say(Stage.audit, SelectionProblem.wrong_number_of_children, ["A1"]) == (
        "Select 6 children to audit (you selected 1)"
    )
    assert say(Stage.audit, SelectionProblem.child_not_shortlisted, ["A1", "B7", "B8"]) == (
        "Select only children on the shortlist: check B7 and B8"
    )


def test_a_shortlist_off_the_lists_is_put_right_in_the_refusal_s_own_words() -> None:
    detail = (
        "not on any accepted list of children of this inspection: B7. Shortlist children "
        "from the lists the agencies provided."
    )
    message = lead_views.selection_message(
        Stage.shortlist,
        SelectionProblem.child_not_on_accepted_list,
        ["A1", "B7"],
        POLICY,
        (),
        detail,
    )
    assert message == (
        "Not on any accepted list of children of this inspection: B7. Shortlist children "
        "from the lists the agencies provided"
    )
