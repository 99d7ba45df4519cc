"""The theme policy YAML files transcribe Annex A of the JTAI guidance exactly.

Expected values are quoted from the seed guidance:
- domestic abuse: /work/shared/seeds/001_0b4502cca47843a8.txt, lines 721-795
- serious youth violence: /work/shared/seeds/004_e19ff684d5e0a5fb.txt, lines 533-606
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from portal.domain.checklist import AnnexAItem, ThemePolicy

THEMES_DIR = Path(__file__).resolve().parents[2] / "policies" / "themes"


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
