"""Issues of concern (002 para 74 and Annex C): the form's steps run in one order, the
inspector who raised it and the lead evaluate, the lead and the agency sign, and nothing a
person typed reaches the agency's checklist title or the deadline's words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from portal.adapters.policy_files import load_themes
from portal.domain.access import Principal, Role
from portal.domain.authorization import Permission, Target, TargetKind, authorize
from portal.domain.concerns import (
    CATEGORY_WORDS,
    Concern,
    ConcernCategory,
    ConcernRequest,
    ConcernStage,
    Signatory,
    SignOffRequest,
    check_evaluation,
    check_required_by,
    check_sign_off,
    concern_state,
    response_item,
)
from portal.domain.errors import Refusal, Refused
from portal.domain.extra_items import ExtraKind

POLICIES = Path(__file__).resolve().parents[2] / "policies"
THEMES = load_themes(POLICIES / "themes", POLICIES / "deep-dives")
GUIDANCE = "".join(p.read_text(encoding="utf-8") for p in (POLICIES / "sources").glob("*.txt"))
RAISED = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
RAISER = Principal(token_id="t1", role=Role.inspector, inspection_id="i1", user_id="u1")
OTHER_INSPECTOR = Principal(token_id="t2", role=Role.inspector, inspection_id="i1", user_id="u2")
LEAD = Principal(token_id="t3", role=Role.lead_inspector, inspection_id="i1", user_id="u3")
HEALTH = Principal(
    token_id="t4", role=Role.agency_uploader, inspection_id="i1", agency="health", user_id="u4"
)
ADMIN = Principal(token_id="t5", role=Role.admin, user_id="u5")
CONCERN = Concern(
    id="0123456789ab",
    inspection_id="i1",
    agency="health",
    case_numbers=("C1001", "C1002"),
    category=ConcernCategory.serious,
    service="Health visiting",
    issues="No strategy discussion after the disclosure by Jane Doe's mother.",
    referred_by=RAISER.actor,
    referred_at=RAISED,
)
EVALUATED = CONCERN.model_copy(
    update={"evaluation": "Response accepted.", "evaluated_by": LEAD.actor, "evaluated_at": DUE}
)


def _state(concern: Concern = CONCERN, responses: tuple[str, ...] = (), now: datetime = RAISED):
    return concern_state(concern, DUE, responses, now)


def _code(refused: pytest.ExceptionInfo[Refused]) -> tuple[Refusal, str]:
    return refused.value.kind, refused.value.code


def test_the_stage_follows_the_forms_steps_and_completes_once_both_have_signed() -> None:
    lead_signed = EVALUATED.model_copy(update={"lead_signed_by": LEAD.actor, "lead_signed_at": DUE})
    both = lead_signed.model_copy(
        update={
            "chief_officer": "A. Officer",
            "agency_signed_by": HEALTH.actor,
            "agency_signed_at": DUE,
        }
    )

    assert _state().stage is ConcernStage.awaiting_response
    assert _state(responses=("d1",)).stage is ConcernStage.response_received
    assert _state(EVALUATED, ("d1",)).stage is ConcernStage.evaluation_shared
    assert _state(lead_signed, ("d1",)).stage is ConcernStage.evaluation_shared
    assert _state(both, ("d1",)).stage is ConcernStage.completed


def test_a_concern_is_overdue_only_while_it_awaits_a_response_past_its_time() -> None:
    late = DUE + timedelta(minutes=1)

    assert not _state(now=DUE).overdue
    assert _state(now=late).overdue
    assert not _state(responses=("d1",), now=late).overdue


def test_the_raising_inspector_and_the_lead_evaluate_once_a_response_is_accepted() -> None:
    answered = _state(responses=("d1",))

    check_evaluation(answered, RAISER)
    check_evaluation(answered, LEAD)
    with pytest.raises(Refused) as other:
        check_evaluation(answered, OTHER_INSPECTOR)
    with pytest.raises(Refused) as agency:
        check_evaluation(answered, HEALTH)
    assert _code(other) == _code(agency) == (Refusal.forbidden, "not_concern_evaluator")


def test_evaluating_before_a_response_is_accepted_is_out_of_order() -> None:
    with pytest.raises(Refused) as refused:
        check_evaluation(_state(), LEAD)

    assert _code(refused) == (Refusal.conflict, "concern_step_order")


def test_the_evaluation_is_final_once_either_side_has_signed() -> None:
    signed = EVALUATED.model_copy(update={"lead_signed_by": LEAD.actor, "lead_signed_at": DUE})

    with pytest.raises(Refused) as refused:
        check_evaluation(_state(signed, ("d1",)), RAISER)

    assert _code(refused) == (Refusal.conflict, "concern_already_signed")


def test_signing_before_the_evaluation_is_shared_is_out_of_order() -> None:
    with pytest.raises(Refused) as lead:
        check_sign_off(_state(responses=("d1",)), LEAD, None)
    with pytest.raises(Refused) as agency:
        check_sign_off(_state(responses=("d1",)), HEALTH, "A. Officer")

    assert _code(lead) == _code(agency) == (Refusal.conflict, "concern_step_order")


def test_the_lead_signs_for_the_inspectors_and_the_agency_for_its_chief_officer() -> None:
    shared = _state(EVALUATED, ("d1",))

    assert check_sign_off(shared, LEAD, None) is Signatory.lead_inspector
    assert check_sign_off(shared, HEALTH, "A. Officer") is Signatory.chief_officer
    for nobody in (RAISER, ADMIN):
        with pytest.raises(Refused) as refused:
            check_sign_off(shared, nobody, None)
        assert _code(refused) == (Refusal.forbidden, "not_a_signatory")


def test_the_agency_names_its_chief_officer_and_the_lead_names_nobody() -> None:
    shared = _state(EVALUATED, ("d1",))

    with pytest.raises(Refused) as missing:
        check_sign_off(shared, HEALTH, None)
    with pytest.raises(Refused) as unexpected:
        check_sign_off(shared, LEAD, "A. Officer")

    assert _code(missing) == (Refusal.invalid, "chief_officer_missing")
    assert _code(unexpected) == (Refusal.invalid, "chief_officer_not_expected")
    with pytest.raises(ValidationError):
        SignOffRequest(chief_officer="A.\nOfficer")


def test_each_side_signs_once() -> None:
    signed = EVALUATED.model_copy(
        update={
            "chief_officer": "A. Officer",
            "agency_signed_by": HEALTH.actor,
            "agency_signed_at": DUE,
        }
    )

    with pytest.raises(Refused) as refused:
        check_sign_off(_state(signed, ("d1",)), HEALTH, "A. Officer")

    assert _code(refused) == (Refusal.conflict, "concern_already_signed")
    assert check_sign_off(_state(signed, ("d1",)), LEAD, None) is Signatory.lead_inspector


def test_the_agencys_item_carries_only_the_concerns_reference() -> None:
    item = response_item(CONCERN, DUE)

    assert item.kind is ExtraKind.issue_of_concern
    assert (item.id, item.agency, item.due) == (CONCERN.id, "health", DUE)
    assert item.title == "Issue of concern 012345: written response"
    assert item.quote == "Issue of concern 012345. Response and explanation required by:"
    assert "Jane" not in item.title + item.quote


def test_case_numbers_are_childrens_ids_never_names() -> None:
    fields = {
        "agency": "health",
        "category": 2,
        "service": "Health visiting",
        "issues": "See the chronology.",
        "required_by": "2026-12-10T17:00:00+00:00",
    }

    asked = ConcernRequest.model_validate({**fields, "case_numbers": [" C1001 ", "C-2002"]})

    assert asked.case_numbers == ["C1001", "C-2002"]
    assert asked.category is ConcernCategory.service_offer
    with pytest.raises(ValidationError):
        ConcernRequest.model_validate({**fields, "case_numbers": ["Jane Doe"]})
    with pytest.raises(ValidationError):
        ConcernRequest.model_validate({**fields, "case_numbers": []})


def test_a_response_is_required_by_a_time_after_the_referral() -> None:
    check_required_by(DUE, RAISED)
    with pytest.raises(Refused) as refused:
        check_required_by(RAISED, RAISED)

    assert _code(refused) == (Refusal.invalid, "required_by_in_past")


def test_the_categories_are_annex_cs_own_words() -> None:
    for words in CATEGORY_WORDS.values():
        assert words in GUIDANCE


@pytest.mark.parametrize("key", sorted(THEMES))
def test_every_theme_quotes_its_guidance_on_issues_of_concern_exactly(key: str) -> None:
    quoted = THEMES[key].issues_of_concern

    assert quoted is not None
    assert quoted.quote in GUIDANCE
    assert "senior officer" in quoted.quote


def test_who_may_reach_issues_of_concern() -> None:
    here = Target(kind=TargetKind.inspection, inspection_id="i1")
    elsewhere = Target(kind=TargetKind.inspection, inspection_id="i2")

    def allowed(principal: Principal, permission: Permission, target: Target = here) -> bool:
        return authorize(principal, permission, target).allowed

    assert allowed(RAISER, Permission.raise_concern) and allowed(LEAD, Permission.raise_concern)
    assert not allowed(HEALTH, Permission.raise_concern)
    assert not allowed(ADMIN, Permission.view_concerns)
    assert allowed(HEALTH, Permission.view_concerns)
    assert allowed(HEALTH, Permission.sign_off_concern)
    assert not allowed(RAISER, Permission.sign_off_concern)
    assert not allowed(LEAD, Permission.raise_concern, elsewhere)
