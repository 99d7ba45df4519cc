"""Issues of concern: an inspector refers a child's case back to an agency's senior officer
on the form of 002 Annex C ("referring concerns to the local agencies").

"They will ask the senior officer to provide a written response to the inspector's
concerns using the form at Annex C. [...] The inspector who raised the concern and the
lead inspector will evaluate the response and share their evaluation with the senior
officer. The lead inspector and senior officer will sign the form to confirm that both
have seen the final version and that the process of review is completed." (002 para 74;
the same process in 000 paras 54-55, 001 paras 87-88, 004 paras 105-106.)

The written response is an upload into the concern's own item: an ExtraItem of kind
issue_of_concern with the concern's id (`extra:<id>`, deadline `extra_<id>`), so its
deadline, chasing and completeness are the item's. The steps run in one order:

    raised -> response accepted -> evaluation shared -> signed by both (completed)

The form's free text (case numbers, service, issues, evaluation, the chief officer's name)
is kept only in the concern's own row, never in the item's title, logs or audit events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from portal.domain.access import Principal, Role
from portal.domain.errors import Refusal, Refused
from portal.domain.extra_items import (
    DEADLINE_PREFIX,
    EXTRA_ID_PATTERN,
    REF_LENGTH,
    ExtraItem,
    ExtraKind,
)
from portal.domain.scope import EXTRA_PREFIX
from portal.domain.selection import CHILD_ID_PATTERN
from portal.domain.timeline import Moment

CASE_NUMBERS_MAX = 20
SERVICE_MAX = 200
TEXT_MAX = 5000
CHIEF_OFFICER_MAX = 100
STEP_ORDER = "concern_step_order"
ALREADY_SIGNED = "concern_already_signed"

CaseNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=CHILD_ID_PATTERN)]
"""A child's unique ID as the agencies' records hold it: never a name."""
OneLine = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^\r\n]*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True)]


class ConcernCategory(IntEnum):
    """Annex C's "Reasons for referral back (select one category)"."""

    serious = 1
    service_offer = 2

    @property
    def words(self) -> str:
        """The form's own words for the category."""
        return CATEGORY_WORDS[self]


CATEGORY_WORDS = {
    ConcernCategory.serious: "Serious issue of concern (for example, failure to follow child "
    "protection procedures and/or child at immediate risk of significant harm)",
    ConcernCategory.service_offer: "concern that the service offer or risk assessment may "
    "not be appropriate for the child's needs",
}
"""002 Annex C, quoted exactly."""


class ConcernRequest(BaseModel):
    """The Annex C form as the referring inspector fills it in. "Inspector referring" and
    "Date of referral" are who raises it and when; never a child's name anywhere."""

    model_config = ConfigDict(extra="forbid")

    agency: str = Field(min_length=1, max_length=64)
    case_numbers: list[CaseNumber] = Field(
        min_length=1,
        max_length=CASE_NUMBERS_MAX,
        description="Case number(s): the children's unique IDs (other children in the family "
        "or household too, if relevant), never their names.",
    )
    category: ConcernCategory = Field(
        description="1: serious issue of concern; 2: the service offer or risk assessment may "
        "not be appropriate for the child's needs (Annex C)."
    )
    service: OneLine = Field(min_length=1, max_length=SERVICE_MAX, description="Service:")
    issues: Text = Field(
        min_length=1,
        max_length=TEXT_MAX,
        description="What are the issues that led to the case being referred?",
    )
    required_by: Moment = Field(
        description="Response and explanation required by: a time with its UTC offset "
        "(Europe/London)."
    )


class EvaluationRequest(BaseModel):
    """The inspectors' evaluation of the agency's response, as they share it."""

    model_config = ConfigDict(extra="forbid")

    evaluation: Text = Field(
        min_length=1,
        max_length=TEXT_MAX,
        description="Inspector's evaluation of the information provided by the agency",
    )


class SignOffRequest(BaseModel):
    """A signature on the form: the lead inspector's (nothing to give), or the agency's for
    its chief officer (their name)."""

    model_config = ConfigDict(extra="forbid")

    chief_officer: OneLine | None = Field(
        default=None,
        min_length=1,
        max_length=CHIEF_OFFICER_MAX,
        description="Chief officer: the name of the agency's chief officer signing (the "
        "agency only).",
    )


class Concern(BaseModel):
    """One issue of concern: the Annex C form as raised, evaluated and signed off."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=f"^{EXTRA_ID_PATTERN}$")
    inspection_id: str
    agency: str
    case_numbers: tuple[str, ...]
    category: ConcernCategory
    service: str
    issues: str
    referred_by: str
    referred_at: AwareDatetime
    evaluation: str | None = None
    evaluated_by: str | None = None
    evaluated_at: AwareDatetime | None = None
    lead_signed_by: str | None = None
    lead_signed_at: AwareDatetime | None = None
    chief_officer: str | None = None
    agency_signed_by: str | None = None
    agency_signed_at: AwareDatetime | None = None

    @property
    def ref(self) -> str:
        """Its short reference, the same as its item's."""
        return self.id[:REF_LENGTH]

    @property
    def item(self) -> str:
        """The upload target of its written response ("extra:<id>")."""
        return EXTRA_PREFIX + self.id

    @property
    def deadline_key(self) -> str:
        """The key of its response's deadline in the inspection's schedule."""
        return DEADLINE_PREFIX + self.id

    @property
    def signed(self) -> bool:
        """Whether either side has signed the form."""
        return self.lead_signed_at is not None or self.agency_signed_at is not None


def concern_title(concern_id: str) -> str:
    """What the agency's checklist calls the written response: the reference only."""
    return f"Issue of concern {concern_id[:REF_LENGTH]}: written response"


def response_item(concern: Concern, due: datetime) -> ExtraItem:
    """The item the agency's written response is uploaded into, due when the form says."""
    return ExtraItem(
        id=concern.id,
        inspection_id=concern.inspection_id,
        agency=concern.agency,
        kind=ExtraKind.issue_of_concern,
        title=concern_title(concern.id),
        due=due,
        added_by=concern.referred_by,
        added_at=concern.referred_at,
    )


def check_required_by(required_by: datetime, now: datetime) -> None:
    """Refused invalid (`required_by_in_past`) unless the response is asked for later than
    `now`."""
    if required_by <= now:
        raise Refused(
            Refusal.invalid,
            "required_by_in_past",
            "Response date in the past",
            "The response and explanation must be required by a time after now.",
        )


def case_numbers_of(given: Sequence[str]) -> tuple[str, ...]:
    """The case numbers once each, in the order given."""
    return tuple(dict.fromkeys(given))


class ConcernStage(StrEnum):
    """Where a concern stands."""

    awaiting_response = "awaiting_response"
    response_received = "response_received"
    evaluation_shared = "evaluation_shared"
    completed = "completed"


class ConcernState(BaseModel):
    """A concern with what the inspection knows of it now: when its response is due (as
    the lead may have moved it), its stage, whether it is overdue, the accepted responses."""

    model_config = ConfigDict(frozen=True)

    concern: Concern
    due: AwareDatetime
    stage: ConcernStage
    overdue: bool
    responses: tuple[str, ...] = ()


def concern_state(
    concern: Concern, due: datetime, responses: Sequence[str], now: datetime
) -> ConcernState:
    """The concern's stage: completed once both have signed, evaluation shared once the
    evaluation is recorded, response received once a response is accepted; overdue while
    it awaits a response past its due time."""
    if concern.lead_signed_at is not None and concern.agency_signed_at is not None:
        stage = ConcernStage.completed
    elif concern.evaluation is not None:
        stage = ConcernStage.evaluation_shared
    elif responses:
        stage = ConcernStage.response_received
    else:
        stage = ConcernStage.awaiting_response
    return ConcernState(
        concern=concern,
        due=due,
        stage=stage,
        overdue=stage is ConcernStage.awaiting_response and now > due,
        responses=tuple(responses),
    )


class Signatory(StrEnum):
    """Who signs the form off (Annex C, "Sign off")."""

    lead_inspector = "lead_inspector"
    chief_officer = "chief_officer"


def may_evaluate(concern: Concern, principal: Principal) -> bool:
    """The inspector who raised the concern and the lead inspector evaluate the response."""
    return principal.role is Role.lead_inspector or (
        principal.role is Role.inspector and principal.actor == concern.referred_by
    )


def check_evaluation(state: ConcernState, principal: Principal) -> None:
    """Refused unless `principal` may record the evaluation now: forbidden
    (`not_concern_evaluator`) for anyone but the raising inspector and the lead; conflict
    (`concern_step_order`) before a response is accepted, (`concern_already_signed`) once
    either side has signed the final version."""
    if not may_evaluate(state.concern, principal):
        raise Refused(
            Refusal.forbidden,
            "not_concern_evaluator",
            "Not yours to evaluate",
            "The inspector who raised the concern and the lead inspector evaluate the response.",
        )
    if not state.responses:
        raise Refused(
            Refusal.conflict,
            STEP_ORDER,
            "No response accepted yet",
            "Evaluate the response once the agency's written response has been accepted.",
        )
    if state.concern.signed:
        raise _already_signed("The form has been signed: its evaluation is final.")


def signatory_of(principal: Principal) -> Signatory | None:
    """The side `principal` signs for: the lead inspector, or an agency's uploader for its
    chief officer; None for anyone else."""
    if principal.role is Role.lead_inspector:
        return Signatory.lead_inspector
    if principal.role is Role.agency_uploader:
        return Signatory.chief_officer
    return None


def check_sign_off(
    state: ConcernState, principal: Principal, chief_officer: str | None
) -> Signatory:
    """The side `principal` signs, if it may sign now. Refused: forbidden
    (`not_a_signatory`) for anyone but the lead and the agency; conflict
    (`concern_step_order`) before the evaluation is shared, (`concern_already_signed`) if
    that side has signed; invalid (`chief_officer_missing`) when the agency gives no chief
    officer's name, (`chief_officer_not_expected`) when the lead gives one."""
    signatory = signatory_of(principal)
    if signatory is None:
        raise Refused(
            Refusal.forbidden,
            "not_a_signatory",
            "Not a signatory",
            "The lead inspector and the agency's senior officer sign the form.",
        )
    concern = state.concern
    if concern.evaluation is None:
        raise Refused(
            Refusal.conflict,
            STEP_ORDER,
            "The evaluation has not been shared",
            "The form is signed once the inspectors have shared their evaluation of the response.",
        )
    signed_at = (
        concern.lead_signed_at
        if signatory is Signatory.lead_inspector
        else concern.agency_signed_at
    )
    if signed_at is not None:
        raise _already_signed("This side of the form has already been signed.")
    if signatory is Signatory.chief_officer and not (chief_officer or "").strip():
        raise Refused(
            Refusal.invalid,
            "chief_officer_missing",
            "Chief officer missing",
            "Enter the name of the chief officer signing for the agency.",
        )
    if signatory is Signatory.lead_inspector and chief_officer is not None:
        raise Refused(
            Refusal.invalid,
            "chief_officer_not_expected",
            "Not for the lead inspector",
            "The lead inspector signs as themselves: leave out chief_officer.",
        )
    return signatory


def _already_signed(detail: str) -> Refused:
    return Refused(Refusal.conflict, ALREADY_SIGNED, "Already signed", detail)
