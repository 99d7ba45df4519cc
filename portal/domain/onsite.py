"""On-site viewing of health records: only inspectors of the inspection, from a registered
on-site network, inside the fieldwork window."""

from __future__ import annotations

from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from pydantic import BaseModel, ConfigDict

from portal.domain.access import Principal, Role
from portal.domain.documents import Document
from portal.domain.timeline import LONDON


class OnSitePolicy(BaseModel):
    """Where and when an inspection's health records may be viewed."""

    model_config = ConfigDict(frozen=True)

    networks: tuple[IPv4Network | IPv6Network, ...] = ()
    window_start: datetime | None = None
    window_end: datetime | None = None

    def where_and_when(self) -> str:
        """A sentence for the person refused: where and when they can view it."""
        if not self.networks or self.window_start is None or self.window_end is None:
            return (
                "No on-site venue or fieldwork window is registered for this inspection "
                "yet; ask the lead inspector."
            )
        return (
            f"It can be viewed only on site, from the inspection venue's network, "
            f"between {self.window_start.astimezone(LONDON):%A %d %B %H:%M} and "
            f"{self.window_end.astimezone(LONDON):%A %d %B %H:%M}."
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
    registered on-site network, inside the fieldwork window."""
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
    if (
        policy.window_start is None
        or policy.window_end is None
        or not (policy.window_start <= now <= policy.window_end)
    ):
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
