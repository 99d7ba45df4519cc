"""Audits are on the agencies' own checklists: the multi-agency audit of each audited child
on the checklist of the agency that shares it for the partnership, and the single-agency
audits the guidance asks of each agency (001 para 119) on that agency's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from portal.domain.checklist import ThemePolicy
from portal.domain.completeness import DocumentFact, completeness
from portal.domain.documents import Area, DocumentStatus, Outcome
from portal.domain.reasons import ReasonCode
from portal.domain.scope import UploadFacts, area_for_upload, decide_upload

THEMES_DIR = Path(__file__).resolve().parents[2] / "policies" / "themes"
DUE = datetime(2027, 4, 1, 22, 59, tzinfo=UTC)
BEFORE = datetime(2027, 3, 31, 12, tzinfo=UTC)


def _theme(filename: str) -> ThemePolicy:
    with (THEMES_DIR / filename).open(encoding="utf-8") as handle:
        return ThemePolicy.model_validate(yaml.safe_load(handle))


DA = _theme("domestic-abuse-2024.yaml")
SYV = _theme("serious-youth-violence-2023.yaml")
AGENCIES = ["local_authority", "police", "health"]


def _owed(
    theme: ThemePolicy, facts: list[DocumentFact] | None = None
) -> dict[str, dict[str, bool]]:
    """Agency -> audit key -> required, for two audited children."""
    assert theme.audits is not None
    states = completeness(
        theme, AGENCIES, {theme.audits.deadline: DUE}, facts or [], BEFORE, audited=["C1", "C2"]
    )
    owed: dict[str, dict[str, bool]] = {}
    for state in states:
        for item in state.items:
            if "audit:" in item.number:
                owed.setdefault(state.agency, {})[item.number] = not item.optional
    return owed


def test_the_multi_agency_audit_is_on_the_sharing_agencys_checklist_and_health_owes_its_own() -> (
    None
):
    owed = _owed(DA)

    assert owed["local_authority"] == {
        "audit:C1": True,
        "audit:C2": True,
        "agency_audit:C1": False,
        "agency_audit:C2": False,
    }
    assert owed["health"] == {"agency_audit:C1": True, "agency_audit:C2": True}
    assert owed["police"] == {"agency_audit:C1": False, "agency_audit:C2": False}
    assert "local_partnership" not in owed


def test_a_multi_agency_audit_sent_by_another_agency_counts_for_the_sharing_agency() -> None:
    sent = DocumentFact(
        agency="police",
        item_number="audit",
        child_id="C1",
        status=DocumentStatus.accepted,
        received_at=BEFORE,
        decided_at=BEFORE,
    )
    states = completeness(
        DA, AGENCIES, {"week2_end_of_thursday": DUE}, [sent], BEFORE, audited=["C1", "C2"]
    )
    local_authority = next(
        s for s in states if (s.agency, s.deadline) == ("local_authority", "week2_end_of_thursday")
    )
    assert "audit:C1" not in local_authority.missing
    assert "audit:C2" in local_authority.missing


def test_a_theme_asking_only_joint_evaluations_owes_no_single_agency_audits() -> None:
    assert _owed(SYV) == {"local_authority": {"audit:C1": True, "audit:C2": True}}


def _facts(agency: str, item: str) -> UploadFacts:
    return UploadFacts(agency=agency, item=item, child_id="C1", audited_children=frozenset({"C1"}))


def test_a_single_agency_audit_is_taken_from_an_agency_asked_for_one() -> None:
    assert decide_upload(DA, _facts("health", "agency_audit")).outcome is Outcome.proceed


def test_a_single_agency_audit_from_an_agency_not_asked_for_one_is_refused() -> None:
    verdict = decide_upload(SYV, _facts("police", "agency_audit"))
    assert verdict.outcome is Outcome.reject
    assert verdict.reason is ReasonCode.not_for_agency


def test_a_health_services_single_agency_audit_is_a_health_record_seen_on_site() -> None:
    assert area_for_upload(DA, "health", "agency_audit") is Area.onsite
    assert area_for_upload(DA, "police", "agency_audit") is Area.clean


def test_every_theme_names_who_shares_its_multi_agency_audit() -> None:
    for path in sorted(THEMES_DIR.glob("*.yaml")):
        theme = _theme(path.name)
        if theme.audits is not None:
            assert theme.agency(theme.audits.shared_by) is not None, path.name
