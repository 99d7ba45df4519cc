"""The theme policy YAML files transcribe Annex A of the JTAI guidance exactly.

Expected values are quoted from the seed guidance:
- domestic abuse: /work/shared/seeds/001_0b4502cca47843a8.txt, lines 721-795 (items);
  paras 25-46 and 108-124 (timeline, lists, selection, case records, audits)
- serious youth violence: /work/shared/seeds/004_e19ff684d5e0a5fb.txt, lines 533-606
  (items); paras 42-66 and 123-138 (timeline, lists, selection, case records, audits)
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from portal.domain.checklist import AnnexAItem, LookBack, ThemePolicy
from portal.domain.timeline import LONDON, WorkingCalendar, compute_deadlines, notification_day

THEMES_DIR = Path(__file__).resolve().parents[2] / "policies" / "themes"
THEME_FILES = ["domestic-abuse-2024.yaml", "serious-youth-violence-2023.yaml"]

# Fieldwork on Monday 16 June 2025 with no bank holidays: week 1 starts Monday 2 June.
FIELDWORK_START = date(2025, 6, 16)
NO_HOLIDAYS = WorkingCalendar()


def _load(filename: str) -> ThemePolicy:
    with (THEMES_DIR / filename).open(encoding="utf-8") as handle:
        return ThemePolicy.model_validate(yaml.safe_load(handle))


def _numbers(prefix: int, last: int) -> list[str]:
    return [f"{prefix}.{n}" for n in range(1, last + 1)]


def _item(policy: ThemePolicy, number: str) -> AnnexAItem:
    found = policy.find_item(number)
    assert found is not None, f"item {number} missing from {policy.key}"
    return found[1]


def _agency_numbers(policy: ThemePolicy, code: str) -> list[str]:
    agency = policy.agency(code)
    assert agency is not None, f"agency {code} missing from {policy.key}"
    return [item.number for item in agency.items]


def _deadlines(policy: ThemePolicy) -> dict[str, datetime]:
    assert policy.timeline is not None, f"{policy.key} has no timeline"
    rules = {name: named.rule for name, named in policy.timeline.deadlines.items()}
    return compute_deadlines(rules, policy.timeline.shape, FIELDWORK_START, NO_HOLIDAYS)


def _london(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 6, day, hour, minute, tzinfo=LONDON)


def _ilacs_lists(policy: ThemePolicy, deadline: str) -> list[int | None]:
    return [c.ilacs_list for c in policy.child_lists if c.ilacs_list and c.deadline == deadline]


@pytest.fixture(scope="module")
def domestic_abuse() -> ThemePolicy:
    return _load("domestic-abuse-2024.yaml")


@pytest.fixture(scope="module")
def serious_youth_violence() -> ThemePolicy:
    return _load("serious-youth-violence-2023.yaml")


# --- domestic abuse, September 2024 ---------------------------------------


def test_domestic_abuse_policy_is_the_sept_2024_variant(
    domestic_abuse: ThemePolicy,
) -> None:
    assert domestic_abuse.key == "domestic-abuse/sept-2024"
    assert "12 September 2024" in domestic_abuse.source


def test_domestic_abuse_asks_exactly_five_agencies_in_guidance_order(
    domestic_abuse: ThemePolicy,
) -> None:
    assert [a.code for a in domestic_abuse.agencies] == [
        "local_authority",
        "masa",
        "police",
        "health",
        "probation",
    ]


def test_domestic_abuse_asks_local_authority_for_items_1_1_to_1_11(
    domestic_abuse: ThemePolicy,
) -> None:
    assert _agency_numbers(domestic_abuse, "local_authority") == _numbers(1, 11)


def test_domestic_abuse_asks_masa_for_items_2_1_to_2_10(
    domestic_abuse: ThemePolicy,
) -> None:
    assert _agency_numbers(domestic_abuse, "masa") == _numbers(2, 10)


def test_domestic_abuse_asks_police_for_items_3_1_to_3_13(
    domestic_abuse: ThemePolicy,
) -> None:
    assert _agency_numbers(domestic_abuse, "police") == _numbers(3, 13)


def test_domestic_abuse_asks_health_for_items_4_1_to_4_7(
    domestic_abuse: ThemePolicy,
) -> None:
    assert _agency_numbers(domestic_abuse, "health") == _numbers(4, 7)


def test_domestic_abuse_asks_probation_for_items_5_1_to_5_9(
    domestic_abuse: ThemePolicy,
) -> None:
    assert _agency_numbers(domestic_abuse, "probation") == _numbers(5, 9)


def test_domestic_abuse_item_3_13_quotes_the_marac_mappa_row(
    domestic_abuse: ThemePolicy,
) -> None:
    item = _item(domestic_abuse, "3.13")
    assert item.title == "MARAC/MAPPA"
    assert item.description == (
        "The three most recent sets of minutes from MARAC and MAPPA meetings (where these "
        "relate to domestic abuse). Depending on local arrangements, these can be shared by "
        "the police or probation services"
    )


def test_domestic_abuse_item_2_2_keeps_the_colon_in_its_description(
    domestic_abuse: ThemePolicy,
) -> None:
    item = _item(domestic_abuse, "2.2")
    assert item.title == "Management information reports"
    assert item.description == (
        "Management information reports: please inform the lead inspector if these are the "
        "same as the reports shared by the individual agencies"
    )


def test_domestic_abuse_marks_only_the_any_items_optional(
    domestic_abuse: ThemePolicy,
) -> None:
    optional = [i.number for a in domestic_abuse.agencies for i in a.items if i.optional]
    assert optional == ["1.11", "2.5", "2.10", "3.10", "4.5", "5.9"]


# --- serious youth violence, September 2023 --------------------------------


def test_serious_youth_violence_policy_is_the_sept_2023_variant(
    serious_youth_violence: ThemePolicy,
) -> None:
    assert serious_youth_violence.key == "serious-youth-violence/sept-2023"
    assert "22 September 2023" in serious_youth_violence.source


def test_serious_youth_violence_asks_exactly_seven_agencies_in_guidance_order(
    serious_youth_violence: ThemePolicy,
) -> None:
    assert [a.code for a in serious_youth_violence.agencies] == [
        "local_authority",
        "community_safety_partnership",
        "violence_reduction_unit",
        "masa",
        "police",
        "health",
        "youth_offending_team",
    ]


@pytest.mark.parametrize(
    ("code", "prefix", "last"),
    [
        ("local_authority", 1, 6),
        ("community_safety_partnership", 2, 3),
        ("violence_reduction_unit", 3, 7),
        ("masa", 4, 7),
        ("police", 5, 12),
        ("health", 6, 8),
        ("youth_offending_team", 7, 6),
    ],
)
def test_serious_youth_violence_asks_each_agency_for_its_numbered_items_in_order(
    serious_youth_violence: ThemePolicy, code: str, prefix: int, last: int
) -> None:
    assert _agency_numbers(serious_youth_violence, code) == _numbers(prefix, last)


def test_serious_youth_violence_item_7_2_keeps_the_en_dash_in_its_title(
    serious_youth_violence: ThemePolicy,
) -> None:
    item = _item(serious_youth_violence, "7.2")
    assert item.title == "Policy \u2013 child protection"
    assert item.description == "Policy/procedures on child protection and safeguarding"


def test_serious_youth_violence_item_4_2_keeps_the_colon_in_its_description(
    serious_youth_violence: ThemePolicy,
) -> None:
    item = _item(serious_youth_violence, "4.2")
    assert item.title == "Management information reports"
    assert item.description == (
        "Management information reports relevant to the theme: please inform the lead "
        "inspector if these are the same as the reports shared by the individual agencies"
    )


def test_serious_youth_violence_marks_only_the_any_items_optional(
    serious_youth_violence: ThemePolicy,
) -> None:
    optional = [i.number for a in serious_youth_violence.agencies for i in a.items if i.optional]
    assert optional == ["5.11", "6.6"]


# --- both files -------------------------------------------------------------


@pytest.mark.parametrize(
    "filename", ["domestic-abuse-2024.yaml", "serious-youth-violence-2023.yaml"]
)
def test_performance_information_items_are_never_health_records(filename: str) -> None:
    policy = _load(filename)
    assert not [i.number for a in policy.agencies for i in a.items if i.health_record]


@pytest.mark.parametrize(
    "filename", ["domestic-abuse-2024.yaml", "serious-youth-violence-2023.yaml"]
)
def test_every_item_has_a_printed_description(filename: str) -> None:
    policy = _load(filename)
    assert all(i.description.strip() for a in policy.agencies for i in a.items)


@pytest.mark.parametrize(
    "filename", ["domestic-abuse-2024.yaml", "serious-youth-violence-2023.yaml"]
)
def test_policy_file_names_its_seed_in_a_leading_comment(filename: str) -> None:
    first_line = (THEMES_DIR / filename).read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# Transcribed from /work/shared/seeds/")


# --- timelines, lists, selection, case records and audits: both files -----


@pytest.mark.parametrize("filename", THEME_FILES)
def test_every_annex_a_item_names_a_deadline_of_its_theme_timeline(filename: str) -> None:
    policy = _load(filename)
    assert policy.timeline is not None
    items = [i for a in policy.agencies for i in a.items]
    assert [i.number for i in items if i.deadline not in policy.timeline.deadlines] == []


@pytest.mark.parametrize("filename", THEME_FILES)
def test_every_annex_a_item_is_due_by_5pm_on_tuesday_in_week_2(filename: str) -> None:
    policy = _load(filename)
    due = _deadlines(policy)
    assert {due[i.deadline] for a in policy.agencies for i in a.items if i.deadline} == {
        _london(10, 17)
    }


@pytest.mark.parametrize("filename", THEME_FILES)
def test_every_deadline_time_in_the_file_is_a_quoted_string_not_a_yaml_sexagesimal(
    filename: str,
) -> None:
    with (THEMES_DIR / filename).open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    times = [d["rule"]["at"] for d in raw["timeline"]["deadlines"].values()]
    assert times and all(isinstance(at, str) for at in times)


@pytest.mark.parametrize("filename", THEME_FILES)
def test_notification_is_10_working_days_before_fieldwork_on_the_monday_of_week_1(
    filename: str,
) -> None:
    policy = _load(filename)
    assert policy.timeline is not None
    assert policy.timeline.shape.fieldwork_week == 3
    assert notification_day(policy.timeline.shape, FIELDWORK_START, NO_HOLIDAYS) == date(2025, 6, 2)


@pytest.mark.parametrize("filename", THEME_FILES)
def test_each_theme_asks_for_three_separate_lists_of_up_to_10_children(filename: str) -> None:
    policy = _load(filename)
    capped = [c for c in policy.child_lists if c.max_children == 10]
    assert len(capped) == 3
    assert all(c.title.startswith("up to 10 children") for c in capped)
    assert {c.deadline for c in capped} == {"week1_tuesday_5pm"}


@pytest.mark.parametrize("filename", THEME_FILES)
def test_performance_items_without_a_stated_period_have_no_look_back(filename: str) -> None:
    policy = _load(filename)
    assert _item(policy, "1.1").lookback is None
    assert _item(policy, "1.3").lookback is None


# --- domestic abuse: timeline and requests -----------------------------------


@pytest.mark.parametrize(
    ("key", "guidance", "expected"),
    [
        # paras 111-112: ILACS lists 4, 6, 7 and the three lists of up to 10 children
        ("week1_tuesday_5pm", "By 5pm on Tuesday in week 1", _london(3, 17)),
        # para 115: the lead inspector selects 20 children
        ("week1_wednesday_5pm", "By 5pm on Wednesday", _london(4, 17)),
        # paras 115, 121: answers about the 20; the fieldwork week's meetings
        ("week1_thursday_5pm", "By 5pm on Thursday in week 1", _london(5, 17)),
        # para 116: the lead inspector selects 6 children from the 20
        ("week1_friday_11am", "By 11am on Friday in week one", _london(6, 11)),
        # paras 118, 123: case records; performance and management information
        ("week2_tuesday_5pm", "by 5pm on Tuesday in week 2", _london(10, 17)),
        # para 119: the local partnership's audits
        ("week2_end_of_thursday", "by the end of Thursday in week 2", _london(12, 23, 59)),
    ],
)
def test_domestic_abuse_deadline_falls_on_the_day_and_time_the_guidance_states(
    domestic_abuse: ThemePolicy, key: str, guidance: str, expected: datetime
) -> None:
    assert domestic_abuse.timeline is not None
    assert domestic_abuse.timeline.deadlines[key].quote == guidance
    assert _deadlines(domestic_abuse)[key] == expected


def test_domestic_abuse_has_exactly_the_six_deadlines_of_annex_a(
    domestic_abuse: ThemePolicy,
) -> None:
    assert domestic_abuse.timeline is not None
    assert sorted(domestic_abuse.timeline.deadlines) == [
        "week1_friday_11am",
        "week1_thursday_5pm",
        "week1_tuesday_5pm",
        "week1_wednesday_5pm",
        "week2_end_of_thursday",
        "week2_tuesday_5pm",
    ]


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("1.4", LookBack(quote="over the 12 months before the inspection", months=12)),
        ("2.3", LookBack(quote="from the 12 months before the inspection", months=12)),
        ("2.7", LookBack(quote="in the 18 months before the inspection", months=18)),
        ("3.8", LookBack(quote="The 3 most recent sets of minutes", most_recent=3)),
        ("3.13", LookBack(quote="The three most recent sets of minutes", most_recent=3)),
        ("5.3", LookBack(quote="over the 12 months before the inspection", months=12)),
    ],
)
def test_domestic_abuse_item_reaches_back_as_far_as_its_description_says(
    domestic_abuse: ThemePolicy, number: str, expected: LookBack
) -> None:
    item = _item(domestic_abuse, number)
    assert item.lookback == expected
    assert expected.quote in item.description


def test_domestic_abuse_look_backs_are_only_on_items_whose_description_limits_the_period(
    domestic_abuse: ThemePolicy,
) -> None:
    limited = [i.number for a in domestic_abuse.agencies for i in a.items if i.lookback]
    assert limited == ["1.4", "2.3", "2.6", "2.7", "3.8", "3.9", "3.13", "5.3"]


def test_domestic_abuse_asks_for_ilacs_lists_4_6_and_7_by_5pm_tuesday_in_week_1(
    domestic_abuse: ThemePolicy,
) -> None:
    assert _ilacs_lists(domestic_abuse, "week1_tuesday_5pm") == [4, 6, 7]


def test_domestic_abuse_adds_a_y_n_victim_field_to_ilacs_lists_4_and_6_but_not_7(
    domestic_abuse: ThemePolicy,
) -> None:
    by_number = {c.ilacs_list: c for c in domestic_abuse.child_lists if c.ilacs_list}
    for number in (4, 6):
        (field,) = by_number[number].extra_fields
        assert field.name == "Has the child been a victim of domestic abuse? (Y/N)"
        assert field.allowed_values == ("Y", "N")
    assert by_number[7].extra_fields == ()


def test_domestic_abuse_asks_for_ilacs_lists_1_2_3_and_5_with_the_week_1_thursday_requests(
    domestic_abuse: ThemePolicy,
) -> None:
    assert _ilacs_lists(domestic_abuse, "week1_thursday_5pm") == [1, 2, 3, 5]


def test_domestic_abuse_shortlists_20_children_and_audits_6_chosen_by_11am_friday(
    domestic_abuse: ThemePolicy,
) -> None:
    selection = domestic_abuse.selection
    assert selection is not None
    assert selection.shortlist_size == 20
    assert (selection.audit_min, selection.audit_max) == (6, 6)
    assert selection.audit_selected_by == "week1_friday_11am"
    assert len(selection.shortlist_questions) == 5
    assert "are any relevant adults known to the police?" in selection.shortlist_questions


def test_domestic_abuse_case_records_come_from_four_agencies_only_healths_kept_for_site(
    domestic_abuse: ThemePolicy,
) -> None:
    records = {r.agency: r for r in domestic_abuse.case_records}
    assert list(records) == ["local_authority", "police", "health", "probation"]
    assert [a for a in records if domestic_abuse.case_records_are_health_records(a)] == ["health"]
    assert {r.deadline for r in records.values()} == {"week2_tuesday_5pm"}
    assert "incident logs" in records["police"].documents


def test_domestic_abuse_audits_are_due_by_the_end_of_thursday_in_week_2(
    domestic_abuse: ThemePolicy,
) -> None:
    assert domestic_abuse.audits is not None
    assert domestic_abuse.audits.deadline == "week2_end_of_thursday"
    assert "by the end of Thursday in week 2" in domestic_abuse.audits.quote


# --- serious youth violence: timeline and requests ---------------------------


@pytest.mark.parametrize(
    ("key", "guidance", "expected"),
    [
        # paras 126-127: ILACS lists 4, 6, 7, 8 and the three lists of up to 10 children
        ("week1_tuesday_5pm", "By 5pm on Tuesday in week 1", _london(3, 17)),
        # para 128: the lead inspector selects 20 children
        ("week1_wednesday_5pm", "By 5pm on Wednesday", _london(4, 17)),
        # paras 128, 134: answers about the 20; the fieldwork week's meetings
        ("week1_thursday_5pm", "By 5pm on Thursday in week 1", _london(5, 17)),
        # para 129: the lead inspector selects 5 to 7 children from the 20
        ("week1_friday_11am", "By 11am on Friday in week 1", _london(6, 11)),
        # paras 131, 137: case records; performance and management information
        ("week2_tuesday_5pm", "by 5pm on Tuesday in week 2", _london(10, 17)),
        # para 132: the local partnership's joint evaluations
        ("week2_thursday_5pm", "by 5pm on Thursday in week 2", _london(12, 17)),
    ],
)
def test_serious_youth_violence_deadline_falls_on_the_day_and_time_the_guidance_states(
    serious_youth_violence: ThemePolicy, key: str, guidance: str, expected: datetime
) -> None:
    assert serious_youth_violence.timeline is not None
    assert serious_youth_violence.timeline.deadlines[key].quote == guidance
    assert _deadlines(serious_youth_violence)[key] == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("1.4", LookBack(quote="over the 12 months before the inspection", months=12)),
        ("4.4", LookBack(quote="in the last 12 months", months=12)),
        ("4.6", LookBack(quote="in the 18 months before the inspection", months=18)),
        ("5.10", LookBack(quote="3 most recent sets of minutes", most_recent=3)),
        ("7.6", LookBack(quote="past 12 months", months=12)),
    ],
)
def test_serious_youth_violence_item_reaches_back_as_far_as_its_description_says(
    serious_youth_violence: ThemePolicy, number: str, expected: LookBack
) -> None:
    item = _item(serious_youth_violence, number)
    assert item.lookback == expected
    assert expected.quote in item.description


def test_serious_youth_violence_look_backs_are_only_on_items_whose_description_limits_it(
    serious_youth_violence: ThemePolicy,
) -> None:
    limited = [i.number for a in serious_youth_violence.agencies for i in a.items if i.lookback]
    assert limited == ["1.4", "2.3", "4.3", "4.4", "4.6", "5.10", "7.6"]


def test_serious_youth_violence_asks_for_ilacs_lists_4_6_7_and_8_by_5pm_tuesday_in_week_1(
    serious_youth_violence: ThemePolicy,
) -> None:
    assert _ilacs_lists(serious_youth_violence, "week1_tuesday_5pm") == [4, 6, 7, 8]


def test_serious_youth_violence_asks_for_ilacs_lists_3_and_5_with_the_thursday_requests(
    serious_youth_violence: ThemePolicy,
) -> None:
    assert _ilacs_lists(serious_youth_violence, "week1_thursday_5pm") == [3, 5]


def test_serious_youth_violence_asks_about_criminal_exploitation_on_every_ilacs_list(
    serious_youth_violence: ThemePolicy,
) -> None:
    ilacs = [c for c in serious_youth_violence.child_lists if c.ilacs_list]
    question = "Is the child at risk of or subject to criminal exploitation?"
    assert all(question in [f.name for f in c.extra_fields] for c in ilacs)
    list_4 = next(c for c in ilacs if c.ilacs_list == 4)
    assert [f.name for f in list_4.extra_fields] == [
        question,
        "Is the child subject to physical abuse (child-on-child)?",
    ]


def test_serious_youth_violence_shortlists_20_children_and_audits_5_to_7(
    serious_youth_violence: ThemePolicy,
) -> None:
    selection = serious_youth_violence.selection
    assert selection is not None
    assert selection.shortlist_size == 20
    assert (selection.audit_min, selection.audit_max) == (5, 7)
    assert selection.audit_selected_by == "week1_friday_11am"
    assert selection.shortlist_questions == (
        "whether the child is known to the police",
        "whether the child’s parents/carers are known to the police",
        "which health services the child has received support from (for example, universal, "
        "urgent emergency care, mental health, sexual health and substance misuse services)",
        "whether the child is known to the youth offending team",
    )


def test_serious_youth_violence_marks_only_health_case_records_as_seen_on_site(
    serious_youth_violence: ThemePolicy,
) -> None:
    records = {r.agency: r for r in serious_youth_violence.case_records}
    assert list(records) == ["local_authority", "police", "health", "youth_offending_team"]
    assert [a for a in records if serious_youth_violence.case_records_are_health_records(a)] == [
        "health"
    ]
    assert "custody records" in records["police"].documents
    assert "latest pre-sentence report for the child" in records["youth_offending_team"].documents


def test_serious_youth_violence_audits_are_due_by_5pm_thursday_in_week_2(
    serious_youth_violence: ThemePolicy,
) -> None:
    assert serious_youth_violence.audits is not None
    assert serious_youth_violence.audits.deadline == "week2_thursday_5pm"


@pytest.mark.parametrize("field", ["child_lists", "requests"])
def test_a_child_list_or_request_key_given_twice_is_refused(field: str) -> None:
    data = yaml.safe_load((THEMES_DIR / "domestic-abuse-2024.yaml").read_text())
    assert data[field], f"the shipped theme has {field} to repeat"
    data[field].append(data[field][0])
    with pytest.raises(ValueError, match=f"keys repeated: \\['{data[field][0]['key']}'\\]"):
        ThemePolicy.model_validate(data)
