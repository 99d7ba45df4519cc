"""policies/themes/framework-2016.yaml carries the generic requests of the JTAI framework.

Source: /work/shared/seeds/002_fdb87cb2edf2eb07.txt (Joint Targeted Area Inspections,
Inspection framework and guidance, published 14 January 2016): the working-day table
(day 0 = notification, week one Tuesday; fieldwork = day 9), paras 12-24, 50, 55-58 and 90.

Expected dates are worked by hand for fieldwork on Monday 16 June 2025 with no bank
holidays: nine working days back is Tuesday 3 June (day 0); day 1 Wed 4, day 2 Thu 5,
day 3 Fri 6, day 4 Mon 9, day 5 Tue 10, day 6 Wed 11, day 7 Thu 12, day 8 Fri 13 June;
day 9 Mon 16 June; day 31 is 22 working days after day 9: Wednesday 16 July.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from portal.adapters.policy_files import load_themes
from portal.domain.checklist import ChildSet, ThemePolicy
from portal.domain.timeline import (
    LONDON,
    Event,
    WorkingCalendar,
    WorkingDaysFrom,
    compute_deadlines,
    notification_day,
)
from tests.unit.guidance import paragraph

THEMES_DIR = Path(__file__).resolve().parents[2] / "policies" / "themes"
POLICY_FILE = THEMES_DIR / "framework-2016.yaml"
SEED = Path(__file__).parents[2] / "policies" / "sources" / "002_fdb87cb2edf2eb07.txt"
KEY = "framework-2016/generic"
FIELDWORK = date(2025, 6, 16)  # a Monday


@pytest.fixture(scope="module")
def framework(tmp_path_factory: pytest.TempPathFactory) -> ThemePolicy:
    """This file alone, through the real loader (other theme files may be mid-edit)."""
    directory = tmp_path_factory.mktemp("themes")
    shutil.copy(POLICY_FILE, directory / POLICY_FILE.name)
    return load_themes(directory)[KEY]


@pytest.fixture(scope="module")
def due(framework: ThemePolicy) -> dict[str, datetime]:
    assert framework.timeline is not None
    rules = {key: named.rule for key, named in framework.timeline.deadlines.items()}
    return compute_deadlines(rules, framework.timeline.shape, FIELDWORK, WorkingCalendar())


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=LONDON)


def test_the_themes_directory_loads_the_framework_as_the_generic_variant() -> None:
    themes = load_themes(THEMES_DIR)
    assert KEY in themes
    assert themes[KEY].theme == "framework-2016"
    assert themes[KEY].variant == "generic"


def test_the_source_is_the_framework_and_guidance_published_14_january_2016(
    framework: ThemePolicy,
) -> None:
    assert "Inspection framework and guidance" in framework.source
    assert "14 January 2016" in framework.source


def test_notification_is_nine_working_days_before_fieldwork_in_week_three(
    framework: ThemePolicy,
) -> None:
    assert framework.timeline is not None
    shape = framework.timeline.shape
    assert shape.fieldwork_week == 3
    assert shape.notification_working_days_before_fieldwork == 9
    assert notification_day(shape, FIELDWORK, WorkingCalendar()) == date(2025, 6, 3)


def test_every_request_list_case_record_and_audit_names_a_deadline_of_the_timeline(
    framework: ThemePolicy,
) -> None:
    assert framework.timeline is not None
    known = set(framework.timeline.deadlines)
    assert framework.requests
    assert all(r.deadline in known for r in framework.requests)
    assert all(c.deadline in known for c in framework.child_lists)
    assert all(r.deadline in known for r in framework.case_records)
    assert framework.audits is not None
    assert framework.audits.deadline in known


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("day0_end", _at(6, 3, 23, 59)),  # Tuesday 3 June, "By the end of the day"
        ("day1_midday", _at(6, 4, 12)),  # Wednesday 4 June, "By midday"
        ("day2_mid_afternoon", _at(6, 5, 15)),  # Thursday 5 June, "By mid-afternoon"
        ("day2_5pm", _at(6, 5, 17)),  # Thursday 5 June, "By 5pm"
        ("day2", _at(6, 5, 17)),  # Thursday 5 June, no time printed
        ("day5", _at(6, 10, 17)),  # Tuesday 10 June, no time printed
        ("day7_end", _at(6, 12, 23, 59)),  # Thursday 12 June, "By the end of the day"
        ("day8", _at(6, 13, 17)),  # Friday 13 June, "finalised by day 8", no time printed
        ("day8_end", _at(6, 13, 23, 59)),  # Friday 13 June, "by the end of Week two"
        ("day31_end", _at(7, 16, 23, 59)),  # Wednesday 16 July
    ],
)
def test_each_deadline_falls_on_the_hand_worked_day_and_time_for_june_2025_fieldwork(
    due: dict[str, datetime], key: str, expected: datetime
) -> None:
    assert due[key] == expected


def test_the_timeline_has_exactly_the_hand_worked_deadlines(due: dict[str, datetime]) -> None:
    assert set(due) == {
        "day0_end",
        "day1_midday",
        "day2_mid_afternoon",
        "day2_5pm",
        "day2",
        "day5",
        "day7_end",
        "day8",
        "day8_end",
        "day31_end",
    }


def test_day_2_requests_fall_on_thursday_5_june(due: dict[str, datetime]) -> None:
    for key in ("day2_mid_afternoon", "day2_5pm", "day2"):
        assert due[key].date() == date(2025, 6, 5)
        assert due[key].strftime("%A") == "Thursday"


def test_day_5_key_documents_fall_on_tuesday_10_june_not_monday_9_june(
    due: dict[str, datetime],
) -> None:
    assert due["day5"].date() == date(2025, 6, 10)
    assert due["day5"].strftime("%A") == "Tuesday"


def test_day_7_joint_evaluations_are_due_by_the_end_of_thursday_12_june(
    due: dict[str, datetime],
) -> None:
    assert due["day7_end"] == datetime(2025, 6, 12, 23, 59, tzinfo=LONDON)
    assert due["day7_end"].strftime("%A") == "Thursday"


@pytest.mark.parametrize(
    ("opening", "hour_minute"),
    [
        ("By the end of the day", (23, 59)),
        ("By midday", (12, 0)),
        ("By mid-afternoon", (15, 0)),
        ("By 5pm", (17, 0)),
    ],
)
def test_each_printed_time_of_day_is_read_as_agreed(
    framework: ThemePolicy, opening: str, hour_minute: tuple[int, int]
) -> None:
    assert framework.timeline is not None
    matching = [
        named for named in framework.timeline.deadlines.values() if named.quote.startswith(opening)
    ]
    assert matching
    assert all((n.rule.at.hour, n.rule.at.minute) == hour_minute for n in matching)


def test_every_rule_counts_working_days_from_notification(framework: ThemePolicy) -> None:
    assert framework.timeline is not None
    for key, named in framework.timeline.deadlines.items():
        rule = named.rule
        assert isinstance(rule, WorkingDaysFrom)
        assert rule.event is Event.notification
        assert re.fullmatch(rf"day{rule.working_days}(_[a-z0-9_]+)?", key)


def test_every_time_of_day_is_quoted_in_the_yaml() -> None:
    text = POLICY_FILE.read_text(encoding="utf-8")
    assert not re.search(r"\bat:\s*[0-9]", text)


def test_the_lead_inspector_shortlists_20_children_then_picks_5_to_7_by_5pm_on_day_2(
    framework: ThemePolicy,
) -> None:
    selection = framework.selection
    assert selection is not None
    assert selection.shortlist_size == 20
    assert "selects 20 children from the deep dive theme" in selection.shortlist_quote
    assert (selection.audit_min, selection.audit_max) == (5, 7)
    assert "between five and seven children" in selection.audit_quote
    assert selection.audit_selected_by == "day2_5pm"


def test_agencies_follow_para_90_with_no_items_of_our_own_numbering(
    framework: ThemePolicy,
) -> None:
    numbers = {a.code: [i.number for i in a.items] for a in framework.agencies}
    assert numbers == {
        "local_authority": [],
        "health": [],
        "police": [],
        "probation": [],
        "lscb": [],
    }


def test_the_generic_requests_are_owed_by_the_agencies_the_guidance_names_by_its_deadlines(
    framework: ThemePolicy,
) -> None:
    asked = {
        r.key: (r.agencies, r.deadline, r.per_child, r.optional, r.source)
        for r in framework.requests
    }
    assert asked == {
        "shortlisted_child_information": (
            ("local_authority",),
            "day2_mid_afternoon",
            ChildSet.shortlisted,
            False,
            "para 21",
        ),
        "multi_agency_meetings": (
            ("local_authority",),
            "day2",
            None,
            False,
            "timeline table, day 2",
        ),
        "practitioner_meetings": (("local_authority",), "day8", ChildSet.audited, False, "para 57"),
        "consent_to_speak": (
            ("local_authority", "health", "police", "probation"),
            "day8_end",
            None,
            False,
            "para 50",
        ),
        "summary_of_themes_and_learning": (
            ("local_authority",),
            "day7_end",
            None,
            True,
            "para 24",
        ),
    }


def test_para_21_asks_the_local_authority_for_additional_data_on_each_of_the_20(
    framework: ThemePolicy,
) -> None:
    request = framework.request("shortlisted_child_information")
    assert request is not None
    assert request.quote == (
        "The lead inspector will select 20 children from the deep dive list and ask the "
        "local authority to provide additional data on these 20."
    )
    assert request.per_child is ChildSet.shortlisted


def test_each_request_and_additional_request_quote_stands_in_the_paragraph_it_cites(
    framework: ThemePolicy,
) -> None:
    quoted = [(r.quote, r.source) for r in framework.requests]
    quoted += [(q.quote, q.source) for q in framework.additional_requests]
    assert ("para 17" in {source for _, source in quoted}) is True
    for quote, source in quoted:
        place = "timeline table" if source.startswith("timeline table") else source
        assert " ".join(quote.split()) in paragraph(SEED, place), source


def test_the_local_authority_sends_the_deep_dive_list_on_day_0_and_the_rest_on_day_2(
    framework: ThemePolicy,
) -> None:
    lists = {(c.key, c.title, c.agency, c.deadline) for c in framework.child_lists}
    assert lists == {
        (
            "deep_dive_children",
            "the list of children from the deep dive theme",
            "local_authority",
            "day0_end",
        ),
        (
            "remaining_lists",
            "the remaining lists of children and young people",
            "local_authority",
            "day2",
        ),
    }


def test_every_local_agency_but_the_lscb_shares_key_documents_by_day_5(
    framework: ThemePolicy,
) -> None:
    assert [r.agency for r in framework.case_records] == [
        "local_authority",
        "health",
        "police",
        "probation",
    ]
    assert all(r.deadline == "day5" for r in framework.case_records)
    assert all(
        r.documents
        == (
            "key documents relating to the children whose experiences they have been asked "
            "to evaluate",
        )
        for r in framework.case_records
    )


def test_the_joint_evaluations_are_due_by_the_end_of_day_7(framework: ThemePolicy) -> None:
    assert framework.audits is not None
    assert framework.audits.deadline == "day7_end"
    assert "joint evaluations of children" in framework.audits.quote


def test_every_quoted_phrase_appears_word_for_word_in_the_2016_guidance(
    framework: ThemePolicy,
) -> None:
    guidance = " ".join(SEED.read_text(encoding="utf-8").split())
    assert framework.timeline is not None
    selection = framework.selection
    assert selection is not None and framework.audits is not None
    phrases = [
        *(named.quote for named in framework.timeline.deadlines.values()),
        *(r.quote for r in framework.requests),
        *(q.quote for q in framework.additional_requests),
        *(c.title for c in framework.child_lists),
        *(d for r in framework.case_records for d in r.documents),
        selection.shortlist_quote,
        selection.audit_quote,
        framework.audits.quote,
    ]
    missing = [p for p in phrases if " ".join(p.split()) not in guidance]
    assert not missing
