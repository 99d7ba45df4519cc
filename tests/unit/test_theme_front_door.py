"""The front-door theme files transcribe the JTAI guidance and map its deadlines faithfully.

Expected values are quoted from the seed documents:
- five-week variant: /work/shared/seeds/000_6d4663349f4569d2.txt ("Solihull: inspecting the
  multi-agency response to identification of initial need and risk", 21 February 2022)
- three-week variant: /work/shared/seeds/003_52b89fc418982ea6.txt (two-minute guide, April
  2022) for its timeline and case counts, with Annex A taken from the 2022 guidance.

Deadlines are computed for fieldwork starting on Monday 16 June 2025 with no bank holidays.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from portal.adapters.policy_files import load_themes
from portal.domain.checklist import AnnexAItem, ThemePolicy
from portal.domain.timeline import (
    LONDON,
    WorkingCalendar,
    compute_deadlines,
    notification_day,
)

THEMES_DIR = Path(__file__).resolve().parents[2] / "policies" / "themes"
FIVE_WEEK_FILE = "front-door-2022-five-week.yaml"
THREE_WEEK_FILE = "front-door-2022-three-week.yaml"
BOTH_FILES = [FIVE_WEEK_FILE, THREE_WEEK_FILE]
FIELDWORK = date(2025, 6, 16)  # a Monday
NO_HOLIDAYS = WorkingCalendar()

# Annex A of the 2022 guidance, table by table, as numbered there.
ITEMS_BY_AGENCY = {
    "local_authority": ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9"],
    "masa": ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10"],
    "police": ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8"],
    "health": ["4.1", "4.2", "4.3", "4.4", "4.5"],
    "probation": ["5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8"],
    "youth_offending_team": ["6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7", "6.8", "6.9"],
}

# Items whose description begins with "Any".
OPTIONAL_ITEMS = [
    *["1.9", "2.10", "3.8", "4.4", "4.5"],
    *["5.6", "5.7", "5.8", "6.6", "6.7", "6.8", "6.9"],
]

AGENCY_HEADINGS = {
    "local_authority": "The local authority",
    "masa": "Multi-agency safeguarding arrangements",
    "police": "The police force",
    "health": "Health partners",
    "probation": "Probation Service",
    "youth_offending_team": "Youth offending team",
}

FIVE_QUESTIONS = [
    "Is the child known to the police?",
    "Are the child’s parents/carers known to the police?",
    "Has the child received support from health services above universal services?",
    "Is the child known to the youth offending team?",
    "Are the parents or adults in the household known to probation services?",
]

CASE_FILE_DOCUMENTS = [
    "initial referral/contact/notification (where applicable)",
    "most recent assessment, including an early help assessment",
    "strategy or other multi-agency discussion or equivalent",
    "section 47 investigation documentation/initial child protection conference minutes",
    "latest return-home interview and any subsequent risk assessments (where applicable)",
    "minutes of any multi-agency meetings in respect of the child",
    "a chronology of significant events in the 6 months before the inspection",
]


def _load_alone(filename: str, tmp_path_factory: pytest.TempPathFactory) -> ThemePolicy:
    """Load one file through the adapter, unaffected by other theme files being edited."""
    directory = tmp_path_factory.mktemp(filename.removesuffix(".yaml"))
    shutil.copy(THEMES_DIR / filename, directory / filename)
    (policy,) = load_themes(directory).values()
    return policy


@pytest.fixture(scope="module")
def five_week(tmp_path_factory: pytest.TempPathFactory) -> ThemePolicy:
    return _load_alone(FIVE_WEEK_FILE, tmp_path_factory)


@pytest.fixture(scope="module")
def three_week(tmp_path_factory: pytest.TempPathFactory) -> ThemePolicy:
    return _load_alone(THREE_WEEK_FILE, tmp_path_factory)


@pytest.fixture(scope="module", params=BOTH_FILES)
def front_door(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> ThemePolicy:
    return _load_alone(request.param, tmp_path_factory)


def _item(policy: ThemePolicy, number: str) -> AnnexAItem:
    found = policy.find_item(number)
    assert found is not None, f"item {number} missing from {policy.key}"
    return found[1]


def _deadlines(policy: ThemePolicy) -> dict[str, datetime]:
    assert policy.timeline is not None
    rules = {name: named.rule for name, named in policy.timeline.deadlines.items()}
    return compute_deadlines(rules, policy.timeline.shape, FIELDWORK, NO_HOLIDAYS)


def _at_5pm(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 17, 0, tzinfo=LONDON)


# --- both variants ------------------------------------------------------------


def test_both_front_door_variants_load_alongside_every_other_theme_file() -> None:
    themes = load_themes(THEMES_DIR)
    assert {"front-door/five-week-2022", "front-door/three-week-2022"} <= set(themes)
    other_files = {p.name for p in THEMES_DIR.glob("*.yaml")} - set(BOTH_FILES)
    assert len(themes) == len(other_files) + 2


def test_each_agency_is_asked_for_exactly_the_items_the_2022_guidance_numbers(
    front_door: ThemePolicy,
) -> None:
    asked = {a.code: [i.number for i in a.items] for a in front_door.agencies}
    assert asked == ITEMS_BY_AGENCY
    assert [a.code for a in front_door.agencies] == list(ITEMS_BY_AGENCY)


def test_agencies_are_named_by_the_table_headings_as_printed(front_door: ThemePolicy) -> None:
    assert {a.code: a.name for a in front_door.agencies} == AGENCY_HEADINGS


def test_every_item_is_due_with_the_performance_information(front_door: ThemePolicy) -> None:
    assert front_door.timeline is not None
    deadlines = {i.deadline for a in front_door.agencies for i in a.items}
    assert deadlines == {"performance_information"}
    assert "performance_information" in front_door.timeline.deadlines


def test_only_items_whose_description_begins_with_any_are_optional(
    front_door: ThemePolicy,
) -> None:
    optional = [i.number for a in front_door.agencies for i in a.items if i.optional]
    assert optional == OPTIONAL_ITEMS
    # 3.6 mentions "any audits" but begins "Copies of", so it is required.
    assert _item(front_door, "3.6").description.startswith("Copies of any audits")


def test_items_that_limit_their_period_carry_a_look_back(front_door: ThemePolicy) -> None:
    look_backs = {
        i.number: (i.lookback.months, i.lookback.most_recent)
        for a in front_door.agencies
        for i in a.items
        if i.lookback is not None
    }
    assert look_backs == {
        "1.4": (6, None),
        "2.3": (12, None),
        "2.7": (18, None),
        "3.5": (None, 3),
        "6.8": (12, None),
    }
    for number in look_backs:
        item = _item(front_door, number)
        assert item.lookback is not None
        assert item.lookback.quote in item.description


def test_item_titles_and_descriptions_are_quoted_exactly(front_door: ThemePolicy) -> None:
    health_structure = _item(front_door, "4.1")
    assert health_structure.title == (
        "Clinical commissioning group (CCG)/provider organisational structure"
    )
    commissioning = _item(front_door, "4.2")
    assert "young people’s substance misuse services" in commissioning.description
    masa_report = _item(front_door, "2.5")
    assert (masa_report.title, masa_report.description) == (
        "12-monthly report",
        "MASA annual report",
    )
    assert _item(front_door, "1.3").description == (
        "Assessment and threshold criteria for helping families and protecting children. "
        "Guidance related to the MASH or equivalent."
    )


def test_no_performance_item_or_case_record_is_a_health_record(front_door: ThemePolicy) -> None:
    assert not [i.number for a in front_door.agencies for i in a.items if i.health_record]
    assert not [r.agency for r in front_door.case_records if r.health_record]


def test_the_local_authority_shares_ilacs_lists_1_to_5(front_door: ThemePolicy) -> None:
    assert [c.ilacs_list for c in front_door.child_lists] == [1, 2, 3, 4, 5]
    assert {c.agency for c in front_door.child_lists} == {"local_authority"}
    assert {c.deadline for c in front_door.child_lists} == {"child_level_data_lists"}


def test_list_1_alone_has_a_free_text_contact_outcome_column(front_door: ThemePolicy) -> None:
    extra = {c.ilacs_list: [f.name for f in c.extra_fields] for c in front_door.child_lists}
    assert extra == {1: ["Contact outcome"], 2: [], 3: [], 4: [], 5: []}
    (contact_outcome,) = front_door.child_lists[0].extra_fields
    assert contact_outcome.allowed_values is None
    assert "headed ‘Contact outcome’ in child-level data list 1" in contact_outcome.quote


def test_the_five_questions_are_asked_about_each_of_the_30_children(
    front_door: ThemePolicy,
) -> None:
    assert front_door.selection is not None
    assert front_door.selection.shortlist_size == 30
    assert list(front_door.selection.shortlist_questions) == FIVE_QUESTIONS


def test_the_case_file_documents_are_quoted_one_per_string(front_door: ThemePolicy) -> None:
    (request,) = front_door.case_records
    assert list(request.documents) == CASE_FILE_DOCUMENTS
    assert request.deadline == "case_file_documents"


def test_both_variants_ask_for_the_same_annex_a_items_word_for_word(
    five_week: ThemePolicy, three_week: ThemePolicy
) -> None:
    assert five_week.agencies == three_week.agencies


@pytest.mark.parametrize("filename", BOTH_FILES)
def test_each_file_names_its_seed_in_a_leading_comment(filename: str) -> None:
    first_line = (THEMES_DIR / filename).read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# Transcribed from /work/shared/seeds/")


# --- five-week variant (Solihull guidance, February 2022) ----------------------


def test_five_week_variant_is_the_february_2022_solihull_guidance(
    five_week: ThemePolicy,
) -> None:
    assert five_week.key == "front-door/five-week-2022"
    assert "Updated 21 February 2022" in five_week.source
    assert five_week.timeline is not None
    assert five_week.timeline.shape.fieldwork_week == 5


def test_five_week_notification_is_the_monday_four_weeks_before_fieldwork(
    five_week: ThemePolicy,
) -> None:
    assert five_week.timeline is not None
    shape = five_week.timeline.shape
    assert notification_day(shape, FIELDWORK, NO_HOLIDAYS) == date(2025, 5, 19)


def test_five_week_audits_seven_of_the_30_children(five_week: ThemePolicy) -> None:
    assert five_week.selection is not None
    assert (five_week.selection.audit_min, five_week.selection.audit_max) == (7, 7)
    assert five_week.selection.audit_selected_by == "audit_cases_selected"


@pytest.mark.parametrize(
    ("name", "due", "words"),
    [
        # "By the end of week 1" -> friday of week 1 (week of 19 May 2025).
        ("audit_cases_selected", date(2025, 5, 23), "By the end of week 1"),
        # "2 working days before fieldwork starts" -> thursday before a monday start.
        ("local_partnership_audits", date(2025, 6, 12), "2 working days before fieldwork"),
        # "In the week before fieldwork" -> friday of week 4.
        ("performance_information", date(2025, 6, 13), "In the week before fieldwork"),
    ],
)
def test_five_week_deadlines_fall_where_the_guidance_words_put_them(
    five_week: ThemePolicy, name: str, due: date, words: str
) -> None:
    assert five_week.timeline is not None
    assert _deadlines(five_week)[name] == _at_5pm(due)
    assert words in five_week.timeline.deadlines[name].quote


def test_five_week_case_file_documents_are_due_in_week_4(five_week: ThemePolicy) -> None:
    assert _deadlines(five_week)["case_file_documents"] == _at_5pm(date(2025, 6, 13))


# --- three-week variant (two-minute guide, April 2022) -------------------------


def test_three_week_variant_follows_the_april_2022_two_minute_guide(
    three_week: ThemePolicy,
) -> None:
    assert three_week.key == "front-door/three-week-2022"
    assert "Commencing from April 2022" in three_week.source
    assert "Updated 21 February 2022" in three_week.source
    assert three_week.timeline is not None
    assert three_week.timeline.shape.fieldwork_week == 3


def test_three_week_notification_is_ten_working_days_before_fieldwork(
    three_week: ThemePolicy,
) -> None:
    assert three_week.timeline is not None
    shape = three_week.timeline.shape
    assert shape.notification_working_days_before_fieldwork == 10
    assert notification_day(shape, FIELDWORK, NO_HOLIDAYS) == date(2025, 6, 2)


def test_three_week_audits_five_of_the_30_children(three_week: ThemePolicy) -> None:
    assert three_week.selection is not None
    assert (three_week.selection.audit_min, three_week.selection.audit_max) == (5, 5)
    assert three_week.selection.audit_quote.startswith("Five children's cases are selected")


@pytest.mark.parametrize(
    ("name", "due", "words"),
    [
        # Guide, week 1: "Annex A information (Prescribed child level data) is provided".
        ("child_level_data_lists", date(2025, 6, 6), "Prescribed child level data"),
        # Guide, week 2 (no day); the guidance's 2 working days before fieldwork.
        ("local_partnership_audits", date(2025, 6, 12), "complete the audit of the five"),
        # Guide, week 2: "Additional performance and management information".
        ("performance_information", date(2025, 6, 13), "performance and management"),
    ],
)
def test_three_week_deadlines_fall_in_the_weeks_the_guide_describes(
    three_week: ThemePolicy, name: str, due: date, words: str
) -> None:
    assert three_week.timeline is not None
    assert _deadlines(three_week)[name] == _at_5pm(due)
    assert words in three_week.timeline.deadlines[name].quote
