"""The on-site rule opens a health record only inside both the lead's window and the
inspection's fieldwork."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from ipaddress import ip_network

import pytest

from portal.domain.access import Principal, Role
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.onsite import OnSitePolicy, decide_onsite_view, fieldwork_of
from portal.domain.timeline import LONDON, WorkingCalendar

FIELDWORK = fieldwork_of(date(2026, 12, 7), None, WorkingCalendar())
INSPECTOR = Principal(token_id="t", role=Role.inspector, inspection_id="i1")
RECORD = Document(
    id="d1",
    inspection_id="i1",
    agency="health",
    item_number="case_record",
    original_filename="r.pdf",
    status=DocumentStatus.accepted,
    area=Area.onsite,
    received_at=datetime(2026, 12, 1, tzinfo=UTC),
    updated_at=datetime(2026, 12, 1, tzinfo=UTC),
)


def _policy(start: datetime, end: datetime) -> OnSitePolicy:
    return OnSitePolicy(
        networks=(ip_network("10.0.0.0/8"),),
        window_start=start,
        window_end=end,
        fieldwork=FIELDWORK,
    )


def test_fieldwork_runs_to_the_end_of_the_fieldwork_week_until_its_end_is_recorded() -> None:
    assert FIELDWORK is not None
    assert (FIELDWORK.first_day, FIELDWORK.last_day) == (date(2026, 12, 7), date(2026, 12, 11))
    recorded = fieldwork_of(date(2026, 12, 7), date(2026, 12, 9), WorkingCalendar())
    assert recorded is not None and recorded.last_day == date(2026, 12, 9)
    assert fieldwork_of(None, None, WorkingCalendar()) is None


@pytest.mark.parametrize(
    ("now", "allowed"),
    [
        (datetime(2026, 9, 2, 10, tzinfo=LONDON), False),  # inside the window, before fieldwork
        (datetime(2026, 12, 8, 10, tzinfo=LONDON), True),  # inside both
        (datetime(2026, 12, 14, 10, tzinfo=LONDON), False),  # inside the window, after fieldwork
    ],
)
def test_a_window_opens_a_record_only_while_fieldwork_runs(now: datetime, allowed: bool) -> None:
    policy = _policy(datetime(2026, 9, 1, tzinfo=LONDON), datetime(2026, 12, 31, tzinfo=LONDON))
    decision = decide_onsite_view(INSPECTOR, RECORD, policy, "10.1.2.3", now)
    assert decision.allowed is allowed
    assert decision.rule == ("on_site_during_fieldwork" if allowed else "outside_fieldwork")


def test_a_window_wholly_before_fieldwork_opens_nothing_and_says_so() -> None:
    start = datetime(2026, 9, 1, 9, tzinfo=LONDON)
    policy = _policy(start, start + timedelta(days=3))
    decision = decide_onsite_view(INSPECTOR, RECORD, policy, "10.1.2.3", start + timedelta(hours=1))
    assert decision.rule == "outside_fieldwork"
    assert policy.open_window() is None
    assert "No on-site venue or viewing window inside fieldwork" in policy.where_and_when()


def test_without_fieldwork_nothing_opens() -> None:
    now = datetime(2026, 12, 8, 10, tzinfo=LONDON)
    policy = _policy(now - timedelta(hours=1), now + timedelta(hours=1)).model_copy(
        update={"fieldwork": None}
    )
    assert not decide_onsite_view(INSPECTOR, RECORD, policy, "10.1.2.3", now).allowed
