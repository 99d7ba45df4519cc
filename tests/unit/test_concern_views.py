"""The issues-of-concern pages read their forms as the API checks its bodies: the time the
response is required by is UK time, case numbers are children's IDs, and each field that is
wrong says how to put it right."""

from __future__ import annotations

from datetime import datetime

from portal.domain.concerns import ConcernCategory
from portal.domain.timeline import LONDON
from portal.web.concern_views import (
    raise_values,
    read_evaluation_form,
    read_raise_form,
    read_sign_off_form,
    user_id_of,
)

FILLED = {
    "agency": "health",
    "case-numbers": "C1001, C1002\nC1003",
    "category": "2",
    "service": "Health visiting",
    "issues": "No strategy discussion.",
    "required-day": "1",
    "required-month": "6",
    "required-year": "2027",
    "time-hour": "9",
    "time-minute": "30",
}


def test_the_raise_form_asks_for_the_time_given_in_uk_time() -> None:
    form = read_raise_form(FILLED)

    assert form.errors == [] and form.asked is not None
    assert form.asked.case_numbers == ["C1001", "C1002", "C1003"]
    assert form.asked.category is ConcernCategory.service_offer
    assert form.asked.required_by == datetime(2027, 6, 1, 9, 30, tzinfo=LONDON)
    assert form.asked.required_by.utcoffset() is not None
    assert form.asked.required_by.isoformat().endswith("+01:00")


def test_a_new_raise_form_offers_5pm() -> None:
    values = raise_values({})

    assert (values["time-hour"], values["time-minute"]) == ("17", "00")


def test_the_raise_form_says_what_to_fix_in_each_field() -> None:
    form = read_raise_form(
        {**FILLED, "case-numbers": "Jane Doe's", "category": "", "issues": "", "time-hour": "25"}
    )

    assert form.asked is None
    assert {e["field"] for e in form.errors} == {"case-numbers", "category", "issues", "time"}
    assert any("never a name" in e["text"] for e in form.errors)


def test_the_evaluation_and_the_agencys_signature_need_their_text() -> None:
    assert read_evaluation_form({"evaluation": "  "}).errors[0]["field"] == "evaluation"
    assert read_evaluation_form({"evaluation": "Seen."}).asked is not None
    missing = read_sign_off_form({"chief-officer": ""}, for_agency=True)
    signed = read_sign_off_form({"chief-officer": "Dr A. Officer"}, for_agency=True)
    lead = read_sign_off_form({}, for_agency=False)

    assert missing.errors[0]["text"] == "Enter the chief officer's name"
    assert signed.asked is not None and signed.asked.chief_officer == "Dr A. Officer"
    assert lead.asked is not None and lead.asked.chief_officer is None


def test_an_actor_names_its_person() -> None:
    assert user_id_of("inspector:user-abc123") == "abc123"
    assert user_id_of("lead_inspector:tok@insp") is None
    assert user_id_of(None) is None
