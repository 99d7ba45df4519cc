"""Uploads are checked against the theme's checklist, and routed by it."""

from portal.domain.checklist import (
    AgencyChecklist,
    AnnexAItem,
    ThemePolicy,
    area_for_item,
    decide_scope,
)
from portal.domain.documents import Area, Outcome
from portal.domain.reasons import ReasonCode

THEME = ThemePolicy(
    theme="test-theme",
    variant="v1",
    title="Test",
    source="test",
    agencies=(
        AgencyChecklist(
            code="local_authority",
            name="The local authority",
            items=(AnnexAItem(number="1.1", title="Structures"),),
        ),
        AgencyChecklist(
            code="health",
            name="Health",
            items=(AnnexAItem(number="4.1", title="Child health record", health_record=True),),
        ),
    ),
)


def test_an_agency_may_upload_its_own_item() -> None:
    assert decide_scope(THEME, "local_authority", "1.1").outcome is Outcome.proceed


def test_an_item_nobody_is_asked_for_is_unknown() -> None:
    assert decide_scope(THEME, "local_authority", "9.9").reason is ReasonCode.unknown_item


def test_another_agencys_item_is_not_for_this_agency() -> None:
    verdict = decide_scope(THEME, "local_authority", "4.1")
    assert verdict.reason is ReasonCode.not_for_agency
    assert "health" in verdict.detail


def test_health_records_are_routed_to_the_onsite_area() -> None:
    assert area_for_item(THEME, "4.1") is Area.onsite
    assert area_for_item(THEME, "1.1") is Area.clean
