"""Case records to be seen on site, not sent: which slots are, what an arrangement needs,
and how completeness counts a confirmed one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from portal.adapters.policy_files import load_themes
from portal.domain.completeness import completeness
from portal.domain.onsite import Fieldwork
from portal.domain.seen_on_site import (
    SEEN_ON_SITE_ONLY_DETAIL,
    WHERE_MOST,
    ArrangementProblem,
    MarkedBy,
    OnSiteRecord,
    arranged_slots,
    arrangement_words,
    decide_arrangement,
    marked_on_site,
)
from portal.domain.selection import case_record_slots

POLICIES = Path(__file__).resolve().parents[2] / "policies"
THEMES = load_themes(POLICIES / "themes", POLICIES / "deep-dives")
SYV = THEMES["serious-youth-violence/sept-2023"]
FIELDWORK = Fieldwork(first_day=date(2027, 4, 19), last_day=date(2027, 4, 23))
CONFIRMED = datetime(2027, 4, 6, 10, 0, tzinfo=UTC)
AGENCIES = ("local_authority", "police", "health", "youth_offending_team")


def _arranged(child: str, agency: str = "health", at: datetime = CONFIRMED) -> OnSiteRecord:
    return OnSiteRecord(
        child_id=child,
        agency=agency,
        where="Room 4, Civic Centre",
        day=date(2027, 4, 20),
        arranged_by="token:health",
        arranged_at=at,
    )


def test_serious_youth_violence_health_case_records_are_seen_on_site_by_the_theme() -> None:
    request = next(r for r in SYV.case_records if r.agency == "health")
    assert request.seen_on_site is not None
    assert "not electronically before fieldwork" in request.seen_on_site.quote
    slots = case_record_slots(SYV, ("C1",), AGENCIES)
    marked = {s.agency: s.seen_on_site for s in slots}
    assert marked == {
        "local_authority": None,
        "police": None,
        "health": MarkedBy.theme,
        "youth_offending_team": None,
    }


def test_another_agencys_slot_is_seen_on_site_only_once_the_lead_marks_it() -> None:
    assert marked_on_site(SYV, "police", None) is None
    unmarked = OnSiteRecord(child_id="C1", agency="police")
    assert marked_on_site(SYV, "police", unmarked) is None
    marked = unmarked.model_copy(update={"marked_by": "lead", "marked_at": CONFIRMED})
    assert marked_on_site(SYV, "police", marked) is MarkedBy.lead
    slots = case_record_slots(SYV, ("C1", "C2"), AGENCIES, {("C1", "police"): marked})
    police = {s.child_id: s.seen_on_site for s in slots if s.agency == "police"}
    assert police == {"C1": MarkedBy.lead, "C2": None}


def test_an_arrangement_needs_where_and_a_day_of_fieldwork() -> None:
    assert decide_arrangement("Room 4, Civic Centre", date(2027, 4, 19), FIELDWORK) is None
    assert decide_arrangement("Room 4", date(2027, 4, 23), FIELDWORK) is None
    problems = {
        "blank": decide_arrangement("  ", date(2027, 4, 20), FIELDWORK),
        "long": decide_arrangement("x" * (WHERE_MOST + 1), date(2027, 4, 20), FIELDWORK),
        "before": decide_arrangement("Room 4", date(2027, 4, 16), FIELDWORK),
        "after": decide_arrangement("Room 4", date(2027, 4, 24), FIELDWORK),
        "no fieldwork": decide_arrangement("Room 4", date(2027, 4, 20), None),
    }
    assert {k: p[0] if p else None for k, p in problems.items()} == {
        "blank": ArrangementProblem.where_missing,
        "long": ArrangementProblem.where_too_long,
        "before": ArrangementProblem.day_outside_fieldwork,
        "after": ArrangementProblem.day_outside_fieldwork,
        "no fieldwork": ArrangementProblem.no_fieldwork,
    }
    before = problems["before"]
    assert before is not None
    assert "Monday 19 April 2027 to Friday 23 April 2027" in before[1]


def test_a_confirmed_arrangement_counts_as_provided_neither_missing_nor_overdue() -> None:
    due = datetime(2027, 4, 13, 16, 0, tzinfo=UTC)
    after_deadline = due + timedelta(days=1)
    states = completeness(
        SYV,
        ["health"],
        {"week2_tuesday_5pm": due},
        [],
        after_deadline,
        audited=("C1", "C2"),
        arranged=arranged_slots(SYV, [_arranged("C1")], after_deadline),
    )
    case_records = next(s for s in states if s.deadline == "week2_tuesday_5pm")
    assert "case_record:C1" not in case_records.missing
    assert "case_record:C1" not in case_records.overdue
    assert "case_record:C2" in case_records.overdue
    item = next(i for i in case_records.items if i.number == "case_record:C1")
    assert item.is_accepted and item.arranged and item.accepted == 0


def test_an_arrangement_counts_only_from_when_it_was_confirmed() -> None:
    records = [_arranged("C1", at=CONFIRMED)]
    assert arranged_slots(SYV, records, CONFIRMED - timedelta(seconds=1)) == []
    assert arranged_slots(SYV, records, CONFIRMED) == [("health", "C1")]


def test_an_arrangement_for_a_slot_no_longer_seen_on_site_does_not_count() -> None:
    police = _arranged("C1", agency="police")  # never marked by the lead
    assert arranged_slots(SYV, [police], CONFIRMED) == []


def test_the_refusal_of_an_upload_says_not_to_upload_and_where_to_confirm_instead() -> None:
    detail = SEEN_ON_SITE_ONLY_DETAIL.format(child_id="C1")
    assert detail.startswith("Do not upload")
    assert "checklist page" in detail and "where and when" in detail


def test_the_lead_reads_where_and_when_a_slot_is_arranged() -> None:
    assert arrangement_words(None) == "to be seen on site: not yet arranged"
    assert arrangement_words(_arranged("C1")) == (
        "to be seen on site: arranged (Room 4, Civic Centre, Tuesday 20 April 2027)"
    )
