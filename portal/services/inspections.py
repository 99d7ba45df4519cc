"""Use cases on an inspection as a whole: finding it, listing those a person may see,
creating it, closing or reopening it, registering where and when its health records may
be viewed on site, and reading its alerts and completeness."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from portal.domain.access import Inspection, InspectionState, Principal, Role
from portal.domain.authorization import Permission, Target, TargetKind, authorize
from portal.domain.chase import Contacts, OutboxMessage
from portal.domain.checklist import ThemePolicy
from portal.domain.completeness import Completeness
from portal.domain.errors import Refusal, Refused
from portal.domain.inspection_days import DaysRefused, entered_of, settle_days
from portal.domain.onsite import parse_networks

if TYPE_CHECKING:
    from portal.bootstrap import Container


class NewInspection(BaseModel):
    """What an inspection is created with: its theme variant, its area, its days, the
    agencies in scope (None: every agency of the theme) and who hears about it."""

    model_config = ConfigDict(frozen=True)

    theme: str
    area_name: str
    fieldwork_start: date | None = None
    notification_date: date | None = None
    agencies: tuple[str, ...] | None = None
    contacts: Contacts | None = None


def load_inspection(container: Container, inspection_id: str) -> Inspection:
    """The inspection with this id; Refused (not_found, `inspection_not_found`) if none."""
    inspection = container.repository.get_inspection(inspection_id)
    if inspection is None:
        raise Refused(
            Refusal.not_found,
            "inspection_not_found",
            "No such inspection",
            f"There is no inspection {inspection_id}.",
        )
    return inspection


def inspections_seen_by(container: Container, principal: Principal) -> list[Inspection]:
    """Every inspection `principal` may see, newest first: all of them to an administrator
    (and to a records officer of every inspection), their own to everyone else."""
    found = []
    for inspection_id in container.repository.list_inspection_ids():
        target = Target(kind=TargetKind.inspection, inspection_id=inspection_id)
        if not authorize(principal, Permission.view_inspection, target).allowed:
            continue
        inspection = container.repository.get_inspection(inspection_id)
        if inspection is not None:
            found.append(inspection)
    return sorted(found, key=lambda i: (i.created_at, i.id), reverse=True)


def create_inspection(container: Container, principal: Principal, new: NewInspection) -> Inspection:
    """A new open inspection, stored with its contacts and an audit event; nothing is
    stored if it is refused (invalid: `unknown_theme`, or `unknown_agency` when it or its
    contacts name an agency its theme does not ask anything of)."""
    theme = _theme_named(container, new.theme)
    agencies = _agencies_in_scope(theme, new.agencies)
    notification, fieldwork_start = settled_days(
        container, theme, new.notification_date, new.fieldwork_start
    )
    if new.contacts is not None:
        strangers = sorted(set(new.contacts.agencies) - set(agencies))
        if strangers:
            raise Refused(
                Refusal.invalid,
                "unknown_agency",
                "Unknown agency",
                f"Contacts name agencies not in this inspection: {strangers}.",
            )
    inspection = Inspection(
        id=uuid.uuid4().hex,
        theme_key=theme.key,
        area_name=new.area_name,
        fieldwork_start=fieldwork_start,
        notification_date=notification,
        entered_days=entered_of(new.notification_date, new.fieldwork_start),
        agencies=agencies,
        created_at=container.clock.now(),
    )
    container.repository.add_inspection(inspection, principal.actor)
    if new.contacts is not None:
        container.repository.set_contacts(inspection.id, new.contacts)
    return inspection


def settled_days(
    container: Container,
    theme: ThemePolicy,
    notification: date | None,
    fieldwork_start: date | None,
) -> tuple[date | None, date | None]:
    """The days as entered, the missing one derived from the theme's rule; Refused
    (invalid, `not_a_working_day` or `notification_after_fieldwork`) if they cannot be."""
    around = notification or fieldwork_start
    if around is None:
        return None, None
    try:
        return settle_days(
            theme.timeline.shape if theme.timeline else None,
            notification,
            fieldwork_start,
            container.working_calendar(around),
        )
    except DaysRefused as refused:
        raise Refused(
            Refusal.invalid, refused.code, "These days cannot be used", refused.detail
        ) from refused


def set_inspection_days(
    container: Container,
    principal: Principal,
    inspection_id: str,
    notification: date | None,
    fieldwork_start: date | None,
) -> Inspection:
    """The inspection with its days replaced: what is given kept as entered, the other
    derived from the theme's rule; its deadlines follow (the lead's moves stay). Refused
    invalid (`days_required`) if neither is given, or as `settled_days` says."""
    inspection = load_inspection(container, inspection_id)
    if notification is None and fieldwork_start is None:
        raise Refused(
            Refusal.invalid,
            "days_required",
            "Give at least one day",
            "Give the notification day, the day fieldwork starts, or both; the portal "
            "works out the other from the theme's timeline.",
        )
    theme = container.themes[inspection.theme_key]
    settled = settled_days(container, theme, notification, fieldwork_start)
    container.repository.set_inspection_days(
        inspection_id,
        *settled,
        entered_of(notification, fieldwork_start),
        principal.actor,
        container.clock.now(),
    )
    return load_inspection(container, inspection_id)


def _theme_named(container: Container, key: str) -> ThemePolicy:
    theme = container.themes.get(key)
    if theme is None:
        raise Refused(
            Refusal.invalid,
            "unknown_theme",
            "Unknown theme",
            f"There is no theme variant {key!r}. Choose one of: "
            f"{', '.join(sorted(container.themes))}.",
        )
    return theme


def _agencies_in_scope(theme: ThemePolicy, asked: tuple[str, ...] | None) -> tuple[str, ...]:
    """The agencies asked for (default: all the theme's), sorted and once each."""
    known = [a.code for a in theme.agencies]
    agencies = asked if asked is not None else tuple(known)
    unknown = sorted(set(agencies) - set(known))
    if unknown or not agencies:
        raise Refused(
            Refusal.invalid,
            "unknown_agency",
            "Unknown agency",
            f"{theme.key} asks nothing of {unknown or 'no agencies'}; "
            f"its agencies are {', '.join(known)}.",
        )
    return tuple(sorted(set(agencies)))


def set_inspection_state(
    container: Container,
    principal: Principal,
    inspection_id: str,
    state: InspectionState,
    reason: str,
) -> Inspection:
    """The inspection in its new state (closed or withdrawn: no longer chased and takes no
    uploads; open again: both resume), recorded with who changed it and why."""
    load_inspection(container, inspection_id)
    container.repository.set_inspection_state(
        inspection_id, state, reason, principal.actor, container.clock.now()
    )
    return load_inspection(container, inspection_id)


def register_onsite_window(
    container: Container,
    principal: Principal,
    inspection_id: str,
    networks: list[str],
    window_start: datetime,
    window_end: datetime,
) -> None:
    """Record the venues' networks (CIDRs) and the window in which the inspection's health
    records may be viewed, replacing any earlier one. Refused (invalid) unless every network
    is a CIDR (`invalid_network`), the window ends after it starts (`invalid_window`), and it
    lies inside the inspection's fieldwork (`fieldwork_not_dated`,
    `window_outside_fieldwork`, naming fieldwork's days)."""
    inspection = load_inspection(container, inspection_id)
    try:
        parse_networks(networks)
    except ValueError as exc:
        raise Refused(
            Refusal.invalid,
            "invalid_network",
            "Not a network",
            f"{exc}; give CIDRs such as '192.0.2.0/24'.",
        ) from exc
    if window_end <= window_start:
        raise Refused(
            Refusal.invalid,
            "invalid_window",
            "The window ends before it starts",
            "window_end must be after window_start.",
        )
    _check_inside_fieldwork(container, inspection, window_start, window_end)
    container.repository.set_onsite(
        inspection_id, networks, window_start, window_end, principal.actor, container.clock.now()
    )


def _check_inside_fieldwork(
    container: Container, inspection: Inspection, start: datetime, end: datetime
) -> None:
    fieldwork = container.fieldwork(inspection)
    if fieldwork is None:
        raise Refused(
            Refusal.invalid,
            "fieldwork_not_dated",
            "The inspection has no fieldwork dates",
            "Health records are viewed only during fieldwork, and this inspection has no "
            "fieldwork start; give the inspection its fieldwork start first.",
        )
    if not fieldwork.holds(start, end):
        raise Refused(
            Refusal.invalid,
            "window_outside_fieldwork",
            "The window is not inside fieldwork",
            f"Health records are viewed only during fieldwork, which runs from "
            f"{fieldwork.words()} (Europe/London). Give a window_start and window_end "
            "inside those days.",
        )


def alerts_of(container: Container, inspection_id: str) -> list[OutboxMessage]:
    """Every reminder, overdue notice and alert recorded for the inspection, oldest first:
    to whom, and whether it was sent."""
    load_inspection(container, inspection_id)
    return [row for row in container.repository.outbox(inspection_id)]


def completeness_as_of(
    container: Container,
    principal: Principal,
    inspection_id: str,
    as_of: datetime | None = None,
    agency: str | None = None,
) -> Completeness:
    """Per agency and deadline, what is required, accepted, rejected, missing and overdue
    as of a time (default now), for one agency if named. Inspection staff see every agency;
    an uploader sees only its own (Refused forbidden if it names another)."""
    inspection = load_inspection(container, inspection_id)
    if principal.role is Role.agency_uploader:
        if agency not in (None, principal.agency):
            raise Refused(
                Refusal.forbidden,
                "forbidden",
                "Not allowed",
                "An uploader sees only its own agency's completeness.",
            )
        agency = principal.agency
    moment = as_of or container.clock.now()
    return Completeness(
        as_of=moment, states=tuple(container.completeness(inspection, moment, agency))
    )
