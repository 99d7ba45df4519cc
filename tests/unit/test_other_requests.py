"""The guidance's other requests (answers about each shortlisted child, details of the
fieldwork week's meetings, practitioner meetings, the ambulance service's information, a
list of multi-agency audits) are items each named agency owes: on its checklist, once or
once per chosen child, taken only from it and only for a chosen child."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from portal.domain.checklist import ThemePolicy
from portal.domain.completeness import completeness
from portal.domain.documents import Outcome
from portal.domain.reasons import ReasonCode
from portal.domain.scope import UploadFacts, decide_upload, target_title
from portal.web.views import UploadTarget, target_of

THEMES_DIR = Path(__file__).resolve().parents[2] / "policies" / "themes"
AS_OF = datetime(2027, 3, 24, 12, tzinfo=UTC)


def _theme(filename: str) -> ThemePolicy:
    with (THEMES_DIR / filename).open(encoding="utf-8") as handle:
        return ThemePolicy.model_validate(yaml.safe_load(handle))


DA = _theme("domestic-abuse-2024.yaml")
SYV = _theme("serious-youth-violence-2023.yaml")
FRAMEWORK = _theme("framework-2016.yaml")
SHORTLIST = ["DA-001", "DA-002", "DA-003"]
AUDITED = ["DA-001"]


def _requests_owed(theme: ThemePolicy, agencies: list[str]) -> dict[str, list[str]]:
    states = completeness(theme, agencies, {}, [], AS_OF, AUDITED, SHORTLIST)
    owed: dict[str, list[str]] = {}
    for state in states:
        owed.setdefault(state.agency, []).extend(
            i.number for i in state.items if i.number.startswith("request:")
        )
    return owed


def test_each_agency_answers_about_each_shortlisted_child_in_domestic_abuse() -> None:
    owed = _requests_owed(DA, ["local_authority", "police", "health", "probation", "masa"])

    for agency in ("local_authority", "police", "health", "probation"):
        answers = [k for k in owed[agency] if "shortlisted_child_information" in k]
        assert answers == [f"request:shortlisted_child_information:{c}" for c in SHORTLIST]
    assert owed["masa"] == []


def test_meetings_practitioners_and_the_ambulance_service_are_asked_of_the_right_agencies() -> None:
    owed = _requests_owed(DA, ["local_authority", "police", "health"])

    assert "request:fieldwork_week_meetings" in owed["local_authority"]
    assert "request:fieldwork_week_meetings" in owed["police"]
    assert "request:practitioner_meetings:DA-001" in owed["local_authority"]
    assert "request:ambulance_service_information:DA-001" in owed["health"]
    assert not any("ambulance" in k for k in owed["police"])


def test_in_serious_youth_violence_the_local_authority_alone_answers_about_the_20() -> None:
    owed = _requests_owed(SYV, ["local_authority", "police", "health"])

    assert [k for k in owed["local_authority"] if "shortlisted" in k] == [
        f"request:shortlisted_child_information:{c}" for c in SHORTLIST
    ]
    assert not any("shortlisted" in k for k in owed["police"] + owed["health"])


def test_in_the_2016_framework_the_local_authority_owes_data_on_each_of_the_20() -> None:
    owed = _requests_owed(FRAMEWORK, ["local_authority", "health", "police", "probation", "lscb"])

    assert sorted(owed["local_authority"]) == sorted(
        [
            *(f"request:shortlisted_child_information:{c}" for c in SHORTLIST),
            "request:multi_agency_meetings",
            *(f"request:practitioner_meetings:{c}" for c in AUDITED),
            "request:consent_to_speak",
            "request:summary_of_themes_and_learning",
        ]
    )
    for agency in ("health", "police", "probation"):
        assert owed[agency] == ["request:consent_to_speak"]
    assert owed.get("lscb", []) == []


def _facts(agency: str, child: str | None) -> UploadFacts:
    return UploadFacts(
        agency=agency,
        item="request:shortlisted_child_information",
        child_id=child,
        shortlisted_children=frozenset(SHORTLIST),
        audited_children=frozenset(AUDITED),
    )


def test_answers_about_a_shortlisted_child_are_taken_from_an_agency_asked() -> None:
    assert decide_upload(DA, _facts("health", "DA-002")).outcome is Outcome.proceed


@pytest.mark.parametrize(
    ("agency", "child", "reason"),
    [
        ("masa", "DA-002", ReasonCode.not_for_agency),
        ("health", "DA-999", ReasonCode.child_not_selected),
        ("health", None, ReasonCode.child_id_required),
    ],
)
def test_answers_are_refused_from_an_agency_not_asked_or_for_a_child_not_shortlisted(
    agency: str, child: str | None, reason: ReasonCode
) -> None:
    verdict = decide_upload(DA, _facts(agency, child))
    assert verdict.outcome is Outcome.reject and verdict.reason is reason


def test_a_request_the_theme_does_not_make_is_unknown() -> None:
    facts = UploadFacts(agency="police", item="request:no_such_thing")
    assert decide_upload(DA, facts).reason is ReasonCode.unknown_item


def test_a_checklist_key_names_its_request_and_child() -> None:
    assert target_of("request:fieldwork_week_meetings") == UploadTarget(
        key="request:fieldwork_week_meetings", item="request:fieldwork_week_meetings"
    )
    assert target_of("request:practitioner_meetings:DA-001") == UploadTarget(
        key="request:practitioner_meetings:DA-001",
        item="request:practitioner_meetings",
        child_id="DA-001",
    )
    assert target_of("request:practitioner_meetings:../x") is None


def test_a_request_upload_is_titled_by_its_request() -> None:
    assert (
        target_title(DA, "request:ambulance_service_information", "DA-001")
        == "Additional information from the ambulance service about an audited child: child DA-001"
    )
