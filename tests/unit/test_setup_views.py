"""The set-up forms read what was typed into what the use cases take, and say what to fix
in words a person can act on, before any use case is called."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.domain.access import Role
from portal.domain.chase import Contacts
from portal.web import setup_views
from portal.web.setup_views import ThemeChoice

DA = ThemeChoice(
    1,
    "domestic-abuse/sept-2024",
    "Children who are victims of domestic abuse (September 2024)",
    (("local_authority", "The local authority"), ("police", "The police force")),
)


def _inspection_fields(**extra: str) -> dict[str, str]:
    return {
        "theme": DA.key,
        "area_name": "Solihull",
        "fieldwork-day": "5",
        "fieldwork-month": "4",
        "fieldwork-year": "2027",
        **extra,
    }


def test_the_new_inspection_form_gives_the_ticked_agencies_and_their_contacts() -> None:
    form = setup_views.read_inspection_form(
        _inspection_fields(
            **{"contacts-1-police": "a@police.example, b@police.example", "lead_contacts": ""}
        ),
        {"agencies-1": ["police"]},
        [DA],
    )
    assert form.errors == []
    assert form.new is not None
    assert form.new.agencies == ("police",)
    assert form.new.fieldwork_start == date(2027, 4, 5) and form.new.notification_date is None
    assert form.new.contacts == Contacts(
        agencies={"police": ("a@police.example", "b@police.example")}
    )


def test_contacts_for_an_agency_left_out_of_scope_are_refused_not_dropped() -> None:
    form = setup_views.read_inspection_form(
        _inspection_fields(**{"contacts-1-local_authority": "duty@la.example"}),
        {"agencies-1": ["police"]},
        [DA],
    )
    assert form.new is None
    assert form.errors == [
        {
            "href": "#contacts-1-local_authority",
            "text": "The local authority is not in scope: tick it, or clear its e-mail addresses",
            "field": "contacts-1-local_authority",
        }
    ]


def test_a_new_inspection_needs_a_day_an_area_and_an_agency() -> None:
    fields = {"theme": DA.key, "lead_contacts": "not an address"}
    form = setup_views.read_inspection_form(fields, {"agencies-1": []}, [DA])
    assert form.new is None
    assert [e["href"] for e in form.errors] == [
        "#area_name",
        "#notification-day",
        "#lead_contacts",
        "#agencies-1",
    ]


def test_the_theme_question_is_asked_again_with_an_error_when_it_is_not_answered() -> None:
    assert setup_views.theme_step([DA], None, answered=False).errors == []
    assert setup_views.theme_step([DA], DA.key, answered=True).values["theme"] == DA.key
    for theme, answered in ((None, True), ("no-such/theme", False)):
        asked = setup_views.theme_step([DA], theme, answered)
        assert asked.values["theme"] == "" and asked.errors[0]["href"] == "#theme"


def test_only_an_uploader_token_names_an_agency() -> None:
    uploader = setup_views.read_token_form({"role": "agency_uploader", "agency": ""})
    assert [e["field"] for e in uploader.errors] == ["agency"]
    inspector = setup_views.read_token_form({"role": "inspector", "agency": "police"})
    assert [e["field"] for e in inspector.errors] == ["agency"]
    fine = setup_views.read_token_form({"role": "agency_uploader", "agency": "police"})
    assert fine.errors == [] and fine.role is Role.agency_uploader and fine.agency == "police"
    assert [e["field"] for e in setup_views.read_token_form({"role": "admin"}).errors] == ["role"]


def test_the_viewing_window_is_read_as_london_time() -> None:
    form = setup_views.read_onsite_form(
        {
            "networks": "192.0.2.0/24\n\n2001:db8::/48",
            "start-day": "8",
            "start-month": "7",
            "start-year": "2027",
            "start-time-hour": "9",
            "start-time-minute": "",
            "end-day": "8",
            "end-month": "7",
            "end-year": "2027",
            "end-time-hour": "17",
            "end-time-minute": "30",
        }
    )
    assert form.errors == []
    assert form.networks == ["192.0.2.0/24", "2001:db8::/48"]
    assert form.window == (
        datetime(2027, 7, 8, 8, 0, tzinfo=UTC),
        datetime(2027, 7, 8, 16, 30, tzinfo=UTC),
    )


def test_a_window_without_a_time_or_network_says_what_to_enter() -> None:
    form = setup_views.read_onsite_form(
        {"start-day": "8", "start-month": "7", "start-year": "2027", "start-time-hour": "25"}
    )
    assert form.window is None
    assert [e["href"] for e in form.errors] == ["#networks", "#start-time-hour", "#end-day"]
    assert form.errors[1]["text"] == "The hour must be between 0 and 23 (use the 24-hour clock)"
