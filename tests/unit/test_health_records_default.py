"""Health records are seen only on site in every theme: a health agency's case records and
audits are health records unless the theme quotes guidance saying otherwise, and an
uploader may mark any document as holding health information."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from portal.adapters.policy_files import load_themes
from portal.domain.checklist import AgencyKind, ThemePolicy
from portal.domain.documents import Area
from portal.domain.scope import AUDIT, CASE_RECORD, area_for_upload
from portal.domain.selection import case_record_slots

POLICIES = Path(__file__).resolve().parents[2] / "policies"
THEMES = load_themes(POLICIES / "themes", POLICIES / "deep-dives")
OPT_OUT = {
    "quote": "Health agencies may share their case records electronically before fieldwork.",
    "source": "para 131",
}


def _theme(case_record: dict[str, Any], audits: dict[str, Any] | None = None) -> ThemePolicy:
    return ThemePolicy.model_validate(
        {
            "theme": "test-theme",
            "variant": "v1",
            "title": "Test",
            "source": "test",
            "timeline": {
                "shape": {"fieldwork_week": 3, "notification_working_days_before_fieldwork": 10},
                "deadlines": {
                    "w1": {
                        "rule": {"kind": "in_week", "week": 1, "weekday": "tuesday"},
                        "quote": "By 5pm on Tuesday in week 1",
                    }
                },
            },
            "agencies": [
                {"code": "local_authority", "name": "LA", "items": []},
                {"code": "nhs", "name": "NHS providers", "kind": "health", "items": []},
            ],
            "case_records": [
                {"agency": "local_authority", "documents": ["assessments"], "deadline": "w1"},
                {"agency": "nhs", "documents": ["records"], "deadline": "w1", **case_record},
            ],
            "audits": {
                "quote": "audits",
                "deadline": "w1",
                "shared_by": "local_authority",
                **(audits or {}),
            },
        }
    )


@pytest.mark.parametrize("key", sorted(THEMES))
def test_every_shipped_theme_names_its_health_agency_a_health_agency(key: str) -> None:
    theme = THEMES[key]
    assert theme.agency("health") is not None
    assert theme.agency("health").kind is AgencyKind.health  # type: ignore[union-attr]


@pytest.mark.parametrize("key", sorted(THEMES))
def test_a_health_agencys_case_records_and_audits_go_on_site_in_every_theme(key: str) -> None:
    theme = THEMES[key]
    if any(r.agency == "health" for r in theme.case_records):
        assert area_for_upload(theme, "health", CASE_RECORD) is Area.onsite
    if theme.audits is not None:
        assert area_for_upload(theme, "health", AUDIT) is Area.onsite


def test_domestic_abuse_health_case_records_go_on_site_and_other_agencies_do_not() -> None:
    theme = THEMES["domestic-abuse/sept-2024"]
    assert area_for_upload(theme, "health", CASE_RECORD) is Area.onsite
    assert area_for_upload(theme, "health", AUDIT) is Area.onsite
    assert area_for_upload(theme, "police", CASE_RECORD) is Area.clean
    assert area_for_upload(theme, "local_authority", AUDIT) is Area.clean
    slots = case_record_slots(theme, ("DA-1",), ("health", "police"))
    assert {s.agency: s.health_record for s in slots} == {"health": True, "police": False}


def test_a_health_agency_is_on_site_by_default_whatever_its_code() -> None:
    theme = _theme({})
    assert area_for_upload(theme, "nhs", CASE_RECORD) is Area.onsite
    assert area_for_upload(theme, "nhs", AUDIT) is Area.onsite
    assert area_for_upload(theme, "local_authority", CASE_RECORD) is Area.clean


def test_a_theme_cannot_say_a_health_agencys_records_are_readable_off_site_without_a_quote() -> (
    None
):
    with pytest.raises(ValidationError, match="readable_off_site"):
        _theme({"health_record": False})


@pytest.mark.parametrize(
    "opt_out",
    [
        {"quote": "", "source": "para 131"},
        {"quote": OPT_OUT["quote"], "source": ""},
        {"quote": OPT_OUT["quote"], "source": "somewhere"},
        {"quote": OPT_OUT["quote"]},
    ],
)
def test_an_opt_out_needs_the_guidances_words_and_their_paragraph(opt_out: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        _theme({"health_record": False, "readable_off_site": opt_out})


def test_a_quoted_opt_out_lets_a_health_agencys_case_records_be_read_off_site() -> None:
    theme = _theme({"health_record": False, "readable_off_site": OPT_OUT})
    assert area_for_upload(theme, "nhs", CASE_RECORD) is Area.clean
    assert area_for_upload(theme, "nhs", AUDIT) is Area.onsite


def test_a_quoted_opt_out_for_audits_lets_a_health_agencys_audits_be_read_off_site() -> None:
    theme = _theme({}, audits={"health_agencies_readable_off_site": OPT_OUT})
    assert area_for_upload(theme, "nhs", AUDIT) is Area.clean
    assert area_for_upload(theme, "nhs", CASE_RECORD) is Area.onsite


def test_an_opt_out_on_an_agency_that_is_not_a_health_agency_is_refused() -> None:
    with pytest.raises(ValidationError, match="only for a health agency"):
        ThemePolicy.model_validate(
            {
                **_theme({}).model_dump(mode="json"),
                "case_records": [
                    {
                        "agency": "local_authority",
                        "documents": ["assessments"],
                        "deadline": "w1",
                        "readable_off_site": OPT_OUT,
                    }
                ],
            }
        )


@pytest.mark.parametrize("item", ["1.1", "list:ilacs_list_4", CASE_RECORD, AUDIT])
def test_anything_its_uploader_marks_as_health_information_goes_on_site(item: str) -> None:
    theme = THEMES["domestic-abuse/sept-2024"]
    assert area_for_upload(theme, "local_authority", item, health_information=True) is (Area.onsite)
