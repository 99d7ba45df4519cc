"""On-site viewing of health records: only inspectors of the inspection, from a registered
on-site network, inside the viewing window, and only while the inspection's fieldwork runs."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from pydantic import BaseModel, ConfigDict

from portal.domain.access import Principal, Role
from portal.domain.documents import Document
from portal.domain.retention import fieldwork_week_end
from portal.domain.timeline import LONDON, WorkingCalendar


class Fieldwork(BaseModel):
    """The days an inspection's fieldwork runs (Europe/London), first and last included."""

    model_config = ConfigDict(frozen=True)

    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        """Midnight (London) at the start of the first day."""
        return datetime.combine(self.first_day, time(0), LONDON)

    @property
    def end(self) -> datetime:
        """Midnight (London) at the end of the last day."""
        return datetime.combine(self.last_day + timedelta(days=1), time(0), LONDON)

    def holds(self, start: datetime, end: datetime) -> bool:
        """Whether the span from `start` to `end` lies wholly inside fieldwork."""
        return self.start <= start <= end <= self.end

    def words(self) -> str:
        """E.g. 'Monday 7 December 2026 to Friday 11 December 2026'."""
        first, last = self.first_day, self.last_day
        return f"{first:%A} {first.day} {first:%B %Y} to {last:%A} {last.day} {last:%B %Y}"


def fieldwork_of(
    fieldwork_start: date | None, recorded_end: date | None, calendar: WorkingCalendar
) -> Fieldwork | None:
    """An inspection's fieldwork: from its start day to the day its end was recorded, or
    until then to the last working day of the fieldwork week. None while the inspection
    has no fieldwork start (then no health record can be viewed)."""
    if fieldwork_start is None:
        return None
    if recorded_end is None:
        recorded_end = fieldwork_week_end(fieldwork_start, calendar)
    return Fieldwork(first_day=fieldwork_start, last_day=recorded_end)


class OnSitePolicy(BaseModel):
    """Where and when an inspection's health records may be viewed: the lead inspector's
    networks and window, and the inspection's fieldwork, which bounds the window."""

    model_config = ConfigDict(frozen=True)

    networks: tuple[IPv4Network | IPv6Network, ...] = ()
    window_start: datetime | None = None
    window_end: datetime | None = None
    fieldwork: Fieldwork | None = None

    def open_window(self) -> tuple[datetime, datetime] | None:
        """When health records may be opened: the part of the registered window that lies
        inside fieldwork; None if there is no such part (no window, no fieldwork, or a
        window wholly outside it)."""
        if self.window_start is None or self.window_end is None or self.fieldwork is None:
            return None
        start = max(self.window_start, self.fieldwork.start)
        end = min(self.window_end, self.fieldwork.end)
        return (start, end) if start <= end else None

    def where_and_when(self) -> str:
        """A sentence for the person refused: where and when they can view it."""
        window = self.open_window()
        if not self.networks or window is None:
            return (
                "No on-site venue or viewing window inside fieldwork is registered for this "
                "inspection yet; ask the lead inspector."
            )
        return (
            f"It can be viewed only on site, from the inspection venue's network, "
            f"between {window[0].astimezone(LONDON):%A %d %B %H:%M} and "
            f"{window[1].astimezone(LONDON):%A %d %B %H:%M}."
        )


class ViewDecision(BaseModel):
    """Whether a view is allowed, and if not, which rule refused it."""

    model_config = ConfigDict(frozen=True)

    allowed: bool
    rule: str


def parse_networks(cidrs: list[str]) -> tuple[IPv4Network | IPv6Network, ...]:
    """CIDRs as networks; ValueError naming the bad one."""
    return tuple(ip_network(cidr, strict=False) for cidr in cidrs)


def decide_onsite_view(
    principal: Principal,
    document: Document,
    policy: OnSitePolicy,
    client_address: str,
    now: datetime,
) -> ViewDecision:
    """Allow only an inspector or lead inspector of the document's inspection, from a
    registered on-site network, inside the registered window and inside fieldwork: a
    window (or the part of one) outside fieldwork never opens a record."""
    if principal.role not in (Role.inspector, Role.lead_inspector) or (
        principal.inspection_id != document.inspection_id
    ):
        return ViewDecision(allowed=False, rule="not_an_inspector_of_this_inspection")
    try:
        address = ip_address(client_address)
    except ValueError:
        return ViewDecision(allowed=False, rule="unknown_client_address")
    if not any(address in network for network in policy.networks):
        return ViewDecision(allowed=False, rule="off_site")
    window = policy.open_window()
    if window is None or not (window[0] <= now <= window[1]):
        return ViewDecision(allowed=False, rule="outside_fieldwork")
    return ViewDecision(allowed=True, rule="on_site_during_fieldwork")


def client_address(
    peer: str | None,
    forwarded_for: str | None,
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...],
) -> str:
    """The client as the server sees it; X-Forwarded-For only when the peer is a trusted
    proxy (then its right-most address not itself a trusted proxy)."""
    if not peer:
        return ""
    try:
        trusted = any(ip_address(peer) in net for net in trusted_proxies)
    except ValueError:
        return peer
    if not trusted or not forwarded_for:
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        try:
            if not any(ip_address(hop) in net for net in trusted_proxies):
                return hop
        except ValueError:
            return peer
    return peer
