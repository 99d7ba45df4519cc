"""What the set-up pages read and show: the new-inspection form, the token form and the
on-site viewing form as sent, checked field by field with messages that say how to put
each right. No I/O and no HTML here."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from portal.domain.access import Role
from portal.domain.chase import EMAIL_MAX_LENGTH, EMAIL_PATTERN, Contacts
from portal.domain.checklist import ThemePolicy
from portal.domain.identities import TokenInfo, User
from portal.domain.timeline import LONDON
from portal.services.inspections import NewInspection
from portal.web import views
from portal.web.lead_views import DAY_FIELDS, read_days_form

Error = dict[str, str]

EMAIL = re.compile(EMAIL_PATTERN)
"""An e-mail address as the API's contacts take it."""

AREA_NAME_MAX = 200
LABEL_MAX = 200
MAX_NETWORKS = 50
"""As many venues' networks as the API's on-site registration takes."""

ROLE_WORDS = {
    Role.agency_uploader: "Agency uploader",
    Role.inspector: "Inspector",
    Role.lead_inspector: "Lead inspector",
    Role.records_officer: "Records officer",
    Role.admin: "Administrator",
}

ISSUABLE_ROLES = (Role.agency_uploader, Role.inspector, Role.lead_inspector, Role.records_officer)
"""The roles a token of an inspection may have (an administrator's belongs to none)."""


def _error(field: str, text: str) -> Error:
    return {"href": f"#{field}", "text": text, "field": field}


def emails_from(text: str) -> list[str]:
    """The addresses in a box, one a line (commas and semicolons also separate them)."""
    return [e for e in re.split(r"[\s,;]+", text) if e]


def _bad_emails(text: str) -> list[str]:
    return [e for e in emails_from(text) if not EMAIL.fullmatch(e) or len(e) > EMAIL_MAX_LENGTH]


# -- creating an inspection ------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeChoice:
    """A theme variant as the form offers it: its radio's index, key, title and agencies."""

    index: int
    key: str
    title: str
    agencies: tuple[tuple[str, str], ...]


def theme_choices(themes: Mapping[str, ThemePolicy]) -> list[ThemeChoice]:
    """Every loaded theme variant, by title, with its agencies (code, name) in theme order."""
    ordered = sorted(themes.values(), key=lambda t: (t.title, t.key))
    return [
        ThemeChoice(n, t.key, t.title, tuple((a.code, a.name) for a in t.agencies))
        for n, t in enumerate(ordered, start=1)
    ]


def agencies_field(choice: ThemeChoice) -> str:
    """The checkboxes' name for one theme's agencies."""
    return f"agencies-{choice.index}"


def contact_field(choice: ThemeChoice, agency: str) -> str:
    """The contacts box's name for one agency of one theme."""
    return f"contacts-{choice.index}-{agency}"


@dataclass(frozen=True)
class InspectionForm:
    """The new-inspection form as sent: what to show again, its errors, and the inspection
    to create when there are none."""

    values: dict[str, str]
    ticked: dict[str, list[str]]
    errors: list[Error]
    new: NewInspection | None


def blank_inspection_form(choices: Sequence[ThemeChoice]) -> InspectionForm:
    """The form before anything is typed: no theme chosen, every agency ticked."""
    values = {f"{field}-{p}": "" for field in DAY_FIELDS for p in views.DATE_PARTS}
    values.update({"theme": "", "area_name": "", "lead_contacts": ""})
    values.update({contact_field(c, code): "" for c in choices for code, _ in c.agencies})
    ticked = {c.key: [code for code, _ in c.agencies] for c in choices}
    return InspectionForm(values, ticked, [], None)


def theme_step(choices: Sequence[ThemeChoice], theme: str | None, answered: bool) -> InspectionForm:
    """The blank form for `theme` if it is one of `choices`; else the theme question again,
    with an error if it was `answered` (or named a theme that is not loaded)."""
    form = blank_inspection_form(choices)
    if any(c.key == theme for c in choices):
        return InspectionForm({**form.values, "theme": theme or ""}, form.ticked, [], None)
    if answered or theme:
        error = _error("theme", "Select the theme variant the inspection follows")
        return InspectionForm(form.values, form.ticked, [error], None)
    return form


def read_inspection_form(
    fields: Mapping[str, str],
    ticks: Mapping[str, list[str]],
    choices: Sequence[ThemeChoice],
) -> InspectionForm:
    """The inspection the form asks for, or what to fix: a theme chosen from those loaded,
    an area name, at least one day (GOV.UK date inputs), at least one agency in scope, and
    contacts that are e-mail addresses of agencies in scope. `ticks` holds each checkbox
    group's ticked values by field name."""
    blank = blank_inspection_form(choices)
    values = dict(blank.values)
    values.update({k: fields.get(k, "").strip() for k in ("theme", "area_name", "lead_contacts")})
    ticked = dict(blank.ticked)
    for offered in choices:
        ticked[offered.key] = list(ticks.get(agencies_field(offered), []))
        for code, _ in offered.agencies:
            name = contact_field(offered, code)
            values[name] = fields.get(name, "").strip()
    errors: list[Error] = []
    choice = next((c for c in choices if c.key == values["theme"]), None)
    if choice is None:
        errors.append(_error("theme", "Select the theme variant the inspection follows"))
    if not values["area_name"]:
        errors.append(_error("area_name", "Enter the name of the local area"))
    elif len(values["area_name"]) > AREA_NAME_MAX:
        errors.append(
            _error("area_name", f"The area name must be {AREA_NAME_MAX} characters or fewer")
        )
    days = read_days_form(fields)
    values.update(days.values)
    errors.extend(days.errors)
    if _bad_emails(values["lead_contacts"]):
        errors.append(_error("lead_contacts", _email_message("the lead inspector")))
    contacts: dict[str, tuple[str, ...]] = {}
    if choice is not None:
        errors.extend(_agency_errors(choice, ticked[choice.key], values, contacts))
    if errors or choice is None:
        return InspectionForm(values, ticked, errors, None)
    new = NewInspection(
        theme=choice.key,
        area_name=values["area_name"],
        notification_date=days.notification,
        fieldwork_start=days.fieldwork_start,
        agencies=tuple(ticked[choice.key]),
        contacts=Contacts(
            lead_inspector=tuple(emails_from(values["lead_contacts"])), agencies=contacts
        ),
    )
    return InspectionForm(values, ticked, [], new)


def _email_message(whose: str) -> str:
    return (
        f"Enter {whose}’s e-mail addresses like name@example.org, one a line, "
        "or leave the box empty"
    )


def _agency_errors(
    choice: ThemeChoice,
    ticked: list[str],
    values: Mapping[str, str],
    contacts: dict[str, tuple[str, ...]],
) -> list[Error]:
    """What is wrong with the chosen theme's agencies and contacts; fills `contacts`."""
    errors: list[Error] = []
    if not ticked:
        errors.append(
            _error(agencies_field(choice), "Select at least one agency the inspection covers")
        )
    for code, name in choice.agencies:
        field = contact_field(choice, code)
        if not values[field]:
            continue
        if _bad_emails(values[field]):
            errors.append(_error(field, _email_message(name)))
        elif code not in ticked:
            errors.append(
                _error(
                    field,
                    f"{name} is not in scope: tick it, or clear its e-mail addresses",
                )
            )
        else:
            contacts[code] = tuple(emails_from(values[field]))
    return errors


def refusal_error(
    code: str, detail: str, form: InspectionForm, choices: Sequence[ThemeChoice]
) -> Error:
    """A refusal of `create_inspection`, in its own words, on the field it is about."""
    if code == "unknown_theme":
        return _error("theme", detail)
    if code == "unknown_agency":
        choice = next((c for c in choices if c.key == form.values["theme"]), None)
        return _error(agencies_field(choice) if choice else "theme", detail)
    entered_notification = any(form.values[f"notification-{p}"] for p in views.DATE_PARTS)
    field = "notification" if entered_notification else "fieldwork"
    return {"href": f"#{field}-day", "text": detail, "field": field}


# -- people and tokens -----------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRow:
    """One line of the people page: who, in which role and agency, and one of their tokens
    (never its secret)."""

    name: str
    role: str
    agency: str
    label: str
    state: views.Tag
    expires: str


def token_rows(
    people: Sequence[tuple[User, Sequence[TokenInfo]]], theme: ThemePolicy, now: datetime
) -> list[TokenRow]:
    """A row per token, oldest person first (a person without a token has one row too)."""
    rows: list[TokenRow] = []
    for user, tokens in people:
        agency = theme.agency(user.agency) if user.agency else None
        agency_name = agency.name if agency else (user.agency or "")
        shown: Sequence[TokenInfo | None] = tokens or [None]
        for token in shown:
            rows.append(
                TokenRow(
                    name=user.name,
                    role=ROLE_WORDS[user.role],
                    agency=agency_name,
                    label=token.label if token else "",
                    state=_token_tag(token, now),
                    expires=views.when_words(token.expires_at)
                    if token and token.expires_at
                    else "",
                )
            )
    return rows


def _token_tag(token: TokenInfo | None, now: datetime) -> views.Tag:
    if token is None:
        return views.Tag("No token", "grey")
    if token.revoked_at is not None:
        return views.Tag("Revoked", "red")
    if not token.usable(now):
        return views.Tag("Expired", "grey")
    return views.Tag("In use", "green")


@dataclass(frozen=True)
class TokenForm:
    """The token form as sent: what to show again, its errors, and what to issue."""

    values: dict[str, str]
    errors: list[Error]
    role: Role | None
    agency: str | None
    label: str
    email: str | None


def read_token_form(fields: Mapping[str, str]) -> TokenForm:
    """The role (and, for an uploader, the agency), a label and an optional e-mail address,
    or what to fix."""
    values = {k: fields.get(k, "").strip() for k in ("role", "agency", "label", "email")}
    errors: list[Error] = []
    role = next((r for r in ISSUABLE_ROLES if r.value == values["role"]), None)
    if role is None:
        errors.append(_error("role", "Select the role the token is for"))
    if role is Role.agency_uploader and not values["agency"]:
        errors.append(_error("agency", "Select the agency the uploader sends documents for"))
    if role not in (None, Role.agency_uploader) and values["agency"]:
        errors.append(
            _error(
                "agency", "Only agency uploaders have an agency: choose “Not an agency uploader”"
            )
        )
    if len(values["label"]) > LABEL_MAX:
        errors.append(_error("label", f"The label must be {LABEL_MAX} characters or fewer"))
    if values["email"] and not EMAIL.fullmatch(values["email"]):
        errors.append(
            _error("email", "Enter an e-mail address like name@example.org, or leave it empty")
        )
    agency = values["agency"] if role is Role.agency_uploader and values["agency"] else None
    return TokenForm(values, errors, role, agency, values["label"], values["email"] or None)


def token_refusal_field(code: str) -> str:
    """The field a refusal of `issue_inspection_token` is about."""
    return {"unknown_agency": "agency", "user_exists": "email"}.get(code, "role")


# -- on-site viewing -------------------------------------------------------------------------

WINDOW_FIELDS = {"start": "The window’s start", "end": "The window’s end"}


@dataclass(frozen=True)
class OnsiteForm:
    """The on-site form as sent: what to show again, its errors, and the networks and
    window to register."""

    values: dict[str, str]
    errors: list[Error]
    networks: list[str]
    window: tuple[datetime, datetime] | None


def onsite_form_values(
    networks: Sequence[str], start: datetime | None, end: datetime | None
) -> dict[str, str]:
    """The form filled with what is registered (London times)."""
    values = {"networks": "\n".join(networks)}
    for field, moment in (("start", start), ("end", end)):
        local = moment.astimezone(LONDON) if moment else None
        parts = (local.day, local.month, local.year) if local else ("", "", "")
        for p, v in zip(views.DATE_PARTS, parts, strict=True):
            values[f"{field}-{p}"] = str(v)
        values[f"{field}-time-hour"] = str(local.hour) if local else ""
        values[f"{field}-time-minute"] = f"{local.minute:02d}" if local else ""
    return values


def read_onsite_form(fields: Mapping[str, str]) -> OnsiteForm:
    """The venues' networks (one a line) and the window's start and end (date and time,
    London), or what to fix; whether each network is a CIDR and the window lies in
    fieldwork is the use case's to say."""
    names = ["networks"] + [
        f"{f}-{p}" for f in WINDOW_FIELDS for p in (*views.DATE_PARTS, "time-hour", "time-minute")
    ]
    values = {k: fields.get(k, "").strip() for k in names}
    errors: list[Error] = []
    networks = [n for n in values["networks"].split() if n]
    if not networks:
        errors.append(
            _error("networks", "Enter the network of at least one venue, for example 192.0.2.0/24")
        )
    elif len(networks) > MAX_NETWORKS:
        errors.append(_error("networks", f"Enter {MAX_NETWORKS} networks or fewer"))
    moments: dict[str, datetime | None] = {}
    for field, subject in WINDOW_FIELDS.items():
        moments[field] = _read_moment(values, field, subject, errors)
    start, end = moments["start"], moments["end"]
    window = (start, end) if start and end and not errors else None
    return OnsiteForm(values, errors, networks, window)


def _read_moment(
    values: Mapping[str, str], field: str, subject: str, errors: list[Error]
) -> datetime | None:
    day, error = views.date_from_parts(
        {p: values[f"{field}-{p}"] for p in views.DATE_PARTS},
        f"{subject} date",
        when_empty=f"Enter {subject[0].lower()}{subject[1:]} date",
    )
    if error:
        errors.append(_error(f"{field}-day", error))
        return None
    clock = _read_clock(values[f"{field}-time-hour"], values[f"{field}-time-minute"], subject)
    if isinstance(clock, str):
        errors.append(_error(f"{field}-time-hour", clock))
        return None
    assert day is not None
    return _london(day, clock)


def _read_clock(hour: str, minute: str, subject: str) -> tuple[int, int] | str:
    if not hour:
        return f"{subject} time must include an hour"
    minute = minute or "0"
    if not (hour.isdigit() and minute.isdigit()):
        return f"Enter {subject[0].lower()}{subject[1:]} time in numbers, for example 9 00"
    if int(hour) > 23:
        return "The hour must be between 0 and 23 (use the 24-hour clock)"
    if int(minute) > 59:
        return "The minutes must be between 0 and 59"
    return int(hour), int(minute)


def _london(day: date, clock: tuple[int, int]) -> datetime:
    return datetime(day.year, day.month, day.day, clock[0], clock[1], tzinfo=LONDON)
