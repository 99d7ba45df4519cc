"""The lead's overview says how far each task has got and offers only the pages its reader
may open; the inspections list shows each inspection's days and state; the name form says
what to fix before any use case is called."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.domain.access import Inspection, InspectionState, Principal, Role
from portal.domain.authorization import Permission, Target, TargetKind, authorize
from portal.domain.retention import NAME_MAX, NAME_NOTE_MAX, NameEntry
from portal.services.progress import InspectionProgress
from portal.web import names_views, overview_views
from portal.web.views import nav_links

INSPECTION = Inspection(
    id="i1",
    theme_key="domestic-abuse/sept-2024",
    area_name="Solihull",
    fieldwork_start=date(2027, 4, 5),
    notification_date=date(2027, 3, 18),
    agencies=("health", "local_authority", "police"),
    created_at=datetime(2027, 3, 1, tzinfo=UTC),
)
NEW = InspectionProgress(
    inspection=INSPECTION,
    dated=True,
    agencies_with_uploader=0,
    onsite_registered=False,
    moved_deadlines=0,
    shortlisted=0,
    to_audit=0,
    extra_items=0,
    names=0,
    names_reduced=False,
    letter_days=0,
)


def _allowed(role: Role) -> frozenset[Permission]:
    principal = Principal(token_id="t", role=role, inspection_id=INSPECTION.id)
    target = Target(kind=TargetKind.inspection, inspection_id=INSPECTION.id)
    return frozenset(p for p in Permission if authorize(principal, p, target).allowed)


def _statuses(progress: InspectionProgress, role: Role = Role.lead_inspector) -> dict[str, str]:
    return {
        task.key: task.status.text if task.status else ""
        for group in overview_views.lead_tasks(progress, _allowed(role))
        for task in group.tasks
    }


def test_the_leads_tasks_come_in_the_order_of_the_inspection() -> None:
    assert list(_statuses(NEW)) == [
        "days",
        "people",
        "onsite",
        "timeline",
        "children",
        "extra-items",
        "names",
        "concerns",
        "letter",
    ]


def test_a_new_inspections_tasks_are_not_started_and_its_days_are_set() -> None:
    assert _statuses(NEW) == {
        "days": "Completed",
        "people": "Not yet started",
        "onsite": "Not yet started",
        "timeline": "No moves",
        "children": "Not yet started",
        "extra-items": "None asked",
        "names": "No names",
        "concerns": "None raised",
        "letter": "Not yet started",
    }


def test_issues_of_concern_say_how_many_are_open_and_overdue_before_all_are_completed() -> None:
    def concerns(raised: int, still_open: int, overdue: int) -> str:
        return _statuses(NEW.model_copy(update={"concerns": (raised, still_open, overdue)}))[
            "concerns"
        ]

    assert concerns(3, 2, 1) == "1 overdue"
    assert concerns(3, 2, 0) == "2 open"
    assert concerns(3, 0, 0) == "3 concerns, all completed"


def test_each_task_says_how_far_it_has_got() -> None:
    going = NEW.model_copy(
        update={
            "agencies_with_uploader": 2,
            "moved_deadlines": 1,
            "shortlisted": 20,
            "extra_items": 2,
            "names": 3,
            "letter_days": 1,
        }
    )
    done = going.model_copy(
        update={
            "agencies_with_uploader": 3,
            "onsite_registered": True,
            "to_audit": 6,
            "names_reduced": True,
            "letter_days": 3,
        }
    )

    assert [_statuses(going)[k] for k in ("people", "timeline", "children", "names")] == [
        "In progress",
        "1 deadline moved",
        "In progress",
        "3 names",
    ]
    assert _statuses(going)["extra-items"] == "2 asked"
    assert _statuses(going)["letter"] == "In progress"
    assert [_statuses(done)[k] for k in ("people", "onsite", "children", "names", "letter")] == [
        "Completed",
        "Completed",
        "Completed",
        "Reduced to initials",
        "Completed",
    ]


def test_without_its_days_the_timeline_and_on_site_viewing_cannot_start_yet() -> None:
    undated = NEW.model_copy(
        update={
            "dated": False,
            "inspection": INSPECTION.model_copy(update={"fieldwork_start": None}),
        }
    )
    groups = overview_views.lead_tasks(undated, _allowed(Role.lead_inspector))
    tasks = {t.key: t for g in groups for t in g.tasks}

    assert tasks["days"].status == overview_views.NOT_STARTED
    assert tasks["timeline"].status == overview_views.CANNOT_START
    assert tasks["onsite"].status == overview_views.CANNOT_START


def test_a_theme_without_letter_days_has_no_after_fieldwork_task() -> None:
    groups = overview_views.lead_tasks(
        NEW.model_copy(update={"letter_days": None}), _allowed(Role.lead_inspector)
    )

    assert "After fieldwork" not in [g.heading for g in groups]


def test_an_administrator_is_offered_no_name_register_and_no_documents() -> None:
    admin = _statuses(NEW, Role.admin)
    tracking = overview_views.tracking_links(INSPECTION.id, _allowed(Role.admin))

    assert "names" not in admin and "days" in admin and "people" in admin
    assert [t.name for t in tracking] == ["Completeness", "Alerts", "Documents"]
    assert [t.name for t in overview_views.tracking_links("other", frozenset())] == []


def test_an_inspection_row_shows_its_days_state_and_the_pages_open_to_its_reader() -> None:
    closed = INSPECTION.model_copy(update={"state": InspectionState.closed})

    row = overview_views.inspection_row(
        closed, {}, INSPECTION.notification_date, _allowed(Role.admin)
    )
    inspectors = overview_views.inspection_row(INSPECTION, {}, None, _allowed(Role.inspector))

    assert (row.area, row.notification, row.fieldwork) == (
        "Solihull",
        "Thursday 18 March 2027",
        "Monday 5 April 2027",
    )
    assert row.state.text == "Closed"
    assert [a.href for a in row.actions] == [
        "/inspections/i1/timeline",
        "/inspections/i1/people",
        "/inspections/i1/onsite",
    ]
    assert inspectors.notification == "Not set"
    assert [a.text for a in inspectors.actions] == ["Timeline"]


def test_the_menus_start_on_the_inspections_for_an_admin_and_the_overview_for_a_lead() -> None:
    admin = Principal(token_id="a", role=Role.admin)
    lead = Principal(token_id="l", role=Role.lead_inspector, inspection_id="i1")
    inspector = Principal(token_id="n", role=Role.inspector, inspection_id="i1")

    assert nav_links(admin)[0] == ("Inspections", "/inspections")
    assert nav_links(lead)[0] == ("Your inspection", "/inspections/i1")
    assert ("Names", "/inspections/i1/names") in nav_links(lead)
    assert ("Names", "/inspections/i1/names") in nav_links(inspector)


def test_the_name_form_needs_a_name_and_keeps_to_the_apis_limits() -> None:
    empty = names_views.read_name_form({"name": "  ", "reference": "C1"})
    long = names_views.read_name_form(
        {"name": "x" * (NAME_MAX + 1), "reference": "C1", "note": "n" * (NAME_NOTE_MAX + 1)}
    )
    good = names_views.read_name_form({"name": " Jayden Okafor ", "reference": " C104 "})

    assert [e["text"] for e in empty.errors] == ["Enter the name"]
    assert [e["field"] for e in long.errors] == ["name", "note"]
    assert long.errors[0]["text"] == f"The name must be {NAME_MAX} characters or fewer"
    assert good.errors == []
    assert good.values == {"name": "Jayden Okafor", "reference": "C104", "note": ""}


def test_the_register_shows_each_entry_with_when_it_was_recorded() -> None:
    entry = NameEntry(
        id="n1",
        inspection_id="i1",
        name="J.O.",
        reference="C104",
        note="O. family",
        recorded_by="lead_inspector:user-1",
        recorded_at=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
    )

    assert names_views.name_rows([entry]) == [
        names_views.NameRow("J.O.", "C104", "O. family", "10:30am on 1 December 2026")
    ]
