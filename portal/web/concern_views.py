"""What the issues-of-concern pages show and how their forms are read: each concern's stage
as a tag, the Annex C form as a summary list, the raise, evaluation and sign-off forms
checked as the API checks them. No I/O and no HTML here."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from portal.domain.checklist import ThemePolicy
from portal.domain.concerns import (
    CASE_NUMBERS_MAX,
    CATEGORY_WORDS,
    CHIEF_OFFICER_MAX,
    SERVICE_MAX,
    TEXT_MAX,
    ConcernCategory,
    ConcernRequest,
    ConcernStage,
    ConcernState,
    EvaluationRequest,
    SignOffRequest,
)
from portal.domain.selection import CHILD_ID_PATTERN
from portal.domain.timeline import LONDON
from portal.web import views

STAGE_TAGS = {
    ConcernStage.awaiting_response: views.Tag("Awaiting response", "blue"),
    ConcernStage.response_received: views.Tag("Response received", "yellow"),
    ConcernStage.evaluation_shared: views.Tag("Evaluation shared", "purple"),
    ConcernStage.completed: views.Tag("Completed", "green"),
}
OVERDUE = views.Tag("Overdue", "red")
CATEGORIES = [(str(c.value), f"Category {c.value}: {w}") for c, w in CATEGORY_WORDS.items()]
TIME_PARTS = ("hour", "minute")
_CASE_NUMBER = re.compile(CHILD_ID_PATTERN)
_SEPARATORS = re.compile(r"[\s,;]+")
_DIGITS = re.compile(r"^[0-9]{1,2}$")
Errors = list[dict[str, str]]


def _error(field: str, text: str, anchor: str | None = None) -> dict[str, str]:
    return {"href": f"#{anchor or field}", "text": text, "field": field}


def user_id_of(actor: str | None) -> str | None:
    """The person an actor names ("inspector:user-<id>"), or None for a token of nobody."""
    if actor is None or ":user-" not in actor:
        return None
    return actor.split(":user-", 1)[1]


@dataclass(frozen=True)
class ConcernRow:
    """One concern in the list of an inspection's concerns."""

    ref: str
    href: str
    agency: str
    case_numbers: str
    category: str
    due: str
    tag: views.Tag
    overdue: bool


def concern_rows(
    states: list[ConcernState], theme: ThemePolicy, inspection_id: str, now: datetime
) -> list[ConcernRow]:
    """The concerns as the list shows them, in the order raised."""
    return [
        ConcernRow(
            ref=s.concern.ref,
            href=f"/inspections/{inspection_id}/concerns/{s.concern.id}",
            agency=views.agency_name(theme, s.concern.agency),
            case_numbers=", ".join(s.concern.case_numbers),
            category=f"Category {s.concern.category.value}",
            due=views.deadline_words(s.due, now),
            tag=STAGE_TAGS[s.stage],
            overdue=s.overdue,
        )
        for s in states
    ]


def form_rows(
    state: ConcernState, theme: ThemePolicy, names: Callable[[str | None], str], now: datetime
) -> list[tuple[str, str]]:
    """The Annex C form's fields as (key, value) rows, in the form's words; `names` says
    who an actor is."""
    concern = state.concern
    return [
        ("Agency", views.agency_name(theme, concern.agency)),
        ("Case number(s)", ", ".join(concern.case_numbers)),
        (
            "Reasons for referral back",
            f"Category {concern.category.value}: {concern.category.words}",
        ),
        ("Inspector referring", names(concern.referred_by)),
        ("Date of referral", views.when_words(concern.referred_at)),
        ("What are the issues that led to the case being referred?", concern.issues),
        ("Service", concern.service),
        ("Response and explanation required by", views.deadline_words(state.due, now)),
    ]


def sign_off_rows(state: ConcernState, names: Callable[[str | None], str]) -> list[tuple[str, str]]:
    """Annex C's "Sign off": each side's signature and date, or that it is awaited."""
    concern = state.concern
    chief = (
        f"{concern.chief_officer}, {views.when_words(concern.agency_signed_at)}"
        if concern.agency_signed_at is not None
        else "Not signed yet"
    )
    lead = (
        f"{names(concern.lead_signed_by)}, {views.when_words(concern.lead_signed_at)}"
        if concern.lead_signed_at is not None
        else "Not signed yet"
    )
    return [("Chief officer", chief), ("Lead inspector", lead)]


# -- forms ------------------------------------------------------------------------------


Asked = TypeVar("Asked", bound=BaseModel)


@dataclass(frozen=True)
class Form(Generic[Asked]):
    """A form as sent: its values to show again, its errors, and the request it makes."""

    values: dict[str, str]
    errors: Errors
    asked: Asked | None


RAISE_FIELDS = (
    "agency",
    "case-numbers",
    "category",
    "service",
    "issues",
    *(f"required-{p}" for p in views.DATE_PARTS),
    *(f"time-{p}" for p in TIME_PARTS),
)


def raise_values(fields: Mapping[str, str]) -> dict[str, str]:
    """The raise form's fields as typed (the time 5pm when new)."""
    values = {n: fields.get(n, "").strip() for n in RAISE_FIELDS}
    if not fields:
        values.update({"time-hour": "17", "time-minute": "00"})
    return values


def read_raise_form(fields: Mapping[str, str]) -> Form[ConcernRequest]:
    """The concern the form raises, due at the date and time given (Europe/London), or the
    errors saying what to fix (GOV.UK's words)."""
    values = raise_values(fields)
    case_numbers = [n for n in _SEPARATORS.split(values["case-numbers"]) if n]
    errors = _raise_errors(values, case_numbers)
    due, when_errors = _required_by(values)
    errors += when_errors
    if errors or due is None:
        return Form(values, errors, None)
    try:
        asked = ConcernRequest(
            agency=values["agency"] or "-",
            case_numbers=case_numbers,
            category=ConcernCategory(int(values["category"])),
            service=values["service"],
            issues=values["issues"],
            required_by=due,
        )
    except ValidationError:
        text = "The date must be between 1 January 2000 and 31 December 2099"
        return Form(values, [_error("required", text, "required-day")], None)
    return Form(values, [], asked)


def _raise_errors(values: dict[str, str], case_numbers: list[str]) -> Errors:
    errors: Errors = []
    if not case_numbers:
        errors.append(_error("case-numbers", "Enter the case number of each child"))
    elif len(case_numbers) > CASE_NUMBERS_MAX:
        text = f"Enter at most {CASE_NUMBERS_MAX} case numbers"
        errors.append(_error("case-numbers", text))
    elif not all(_CASE_NUMBER.fullmatch(n) for n in case_numbers):
        text = (
            "Enter each child's unique ID, never a name: letters, numbers, hyphens and "
            "underscores, separated by commas or spaces"
        )
        errors.append(_error("case-numbers", text))
    if values["category"] not in {value for value, _ in CATEGORIES}:
        errors.append(_error("category", "Select the reason for referral back"))
    if not values["service"]:
        errors.append(_error("service", "Enter the service"))
    elif len(values["service"]) > SERVICE_MAX or "\n" in values["service"]:
        text = f"The service must be one line of {SERVICE_MAX} characters or fewer"
        errors.append(_error("service", text))
    if not values["issues"]:
        text = "Enter the issues that led to the case being referred"
        errors.append(_error("issues", text))
    elif len(values["issues"]) > TEXT_MAX:
        text = f"The issues must be {TEXT_MAX} characters or fewer"
        errors.append(_error("issues", text))
    return errors


def _required_by(values: dict[str, str]) -> tuple[datetime | None, Errors]:
    day, date_error = views.date_from_parts(
        {p: values[f"required-{p}"] for p in views.DATE_PARTS},
        "The date the response is required by",
        when_empty="Enter the date the response is required by",
    )
    hour, minute = values["time-hour"], values["time-minute"] or "0"
    time_error = ""
    if not values["time-hour"]:
        time_error = "Enter the time the response is required by"
    elif not (_DIGITS.fullmatch(hour) and _DIGITS.fullmatch(minute)):
        time_error = "Enter the time in numbers, for example 17 00 for 5pm"
    elif int(hour) > 23 or int(minute) > 59:
        time_error = "Enter a real time, on the 24-hour clock"
    errors: Errors = []
    if date_error:
        errors.append(_error("required", date_error, "required-day"))
    if time_error:
        errors.append(_error("time", time_error, "time-hour"))
    if errors or day is None:
        return None, errors
    return datetime(day.year, day.month, day.day, int(hour), int(minute), tzinfo=LONDON), []


def read_evaluation_form(fields: Mapping[str, str]) -> Form[EvaluationRequest]:
    """The evaluation the form shares, or what to fix."""
    values = {"evaluation": fields.get("evaluation", "").strip()}
    if not values["evaluation"]:
        text = "Enter your evaluation of the information provided by the agency"
        return Form(values, [_error("evaluation", text)], None)
    if len(values["evaluation"]) > TEXT_MAX:
        text = f"The evaluation must be {TEXT_MAX} characters or fewer"
        return Form(values, [_error("evaluation", text)], None)
    return Form(values, [], EvaluationRequest(evaluation=values["evaluation"]))


def read_sign_off_form(fields: Mapping[str, str], for_agency: bool) -> Form[SignOffRequest]:
    """The signature the form gives: the agency's names its chief officer, the lead
    inspector's nobody."""
    values = {"chief-officer": fields.get("chief-officer", "").strip()}
    if not for_agency:
        return Form(values, [], SignOffRequest())
    name = values["chief-officer"]
    if not name:
        return Form(values, [_error("chief-officer", "Enter the chief officer's name")], None)
    if len(name) > CHIEF_OFFICER_MAX or "\n" in name:
        text = (
            f"The chief officer's name must be one line of {CHIEF_OFFICER_MAX} characters or fewer"
        )
        return Form(values, [_error("chief-officer", text)], None)
    return Form(values, [], SignOffRequest(chief_officer=name))
