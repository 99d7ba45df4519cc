"""The request and response bodies of the issues-of-concern routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from portal.api.schemas import LondonTime
from portal.domain.concerns import (
    ConcernRequest,
    ConcernStage,
    ConcernState,
    EvaluationRequest,
    SignOffRequest,
)


class ConcernIn(ConcernRequest):
    pass


class EvaluationIn(EvaluationRequest):
    pass


class SignOffIn(SignOffRequest):
    pass


class ConcernOut(BaseModel):
    """One issue of concern: the Annex C form's fields, where it stands and its response."""

    id: str
    ref: str = Field(description="Its short reference, as the agency's checklist shows it.")
    item: str = Field(description="Where the agency uploads its written response: 'extra:<id>'.")
    deadline: str = Field(description="The key of the response's deadline in the timeline.")
    agency: str
    case_numbers: list[str] = Field(description="Case number(s): children's unique IDs.")
    category: int = Field(description="1 or 2 (Annex C).")
    category_words: str = Field(description="The category in the form's own words.")
    service: str
    issues: str = Field(description="What are the issues that led to the case being referred?")
    required_by: LondonTime = Field(
        description="Response and explanation required by: (as the lead may have moved it)."
    )
    inspector_referring: str
    date_of_referral: datetime
    stage: ConcernStage
    overdue: bool = Field(description="Awaiting a response past the time it was required by.")
    responses: list[str] = Field(description="The accepted uploads of the written response.")
    evaluation: str | None = Field(
        description="Inspector's evaluation of the information provided by the agency"
    )
    evaluated_by: str | None
    evaluated_at: datetime | None
    lead_signed_by: str | None
    lead_signed_at: datetime | None
    chief_officer: str | None
    agency_signed_by: str | None
    agency_signed_at: datetime | None

    @classmethod
    def of(cls, state: ConcernState) -> ConcernOut:
        """The API's view of one concern as it stands."""
        concern = state.concern
        return cls(
            id=concern.id,
            ref=concern.ref,
            item=concern.item,
            deadline=concern.deadline_key,
            agency=concern.agency,
            case_numbers=list(concern.case_numbers),
            category=concern.category.value,
            category_words=concern.category.words,
            service=concern.service,
            issues=concern.issues,
            required_by=state.due,
            inspector_referring=concern.referred_by,
            date_of_referral=concern.referred_at,
            stage=state.stage,
            overdue=state.overdue,
            responses=list(state.responses),
            evaluation=concern.evaluation,
            evaluated_by=concern.evaluated_by,
            evaluated_at=concern.evaluated_at,
            lead_signed_by=concern.lead_signed_by,
            lead_signed_at=concern.lead_signed_at,
            chief_officer=concern.chief_officer,
            agency_signed_by=concern.agency_signed_by,
            agency_signed_at=concern.agency_signed_at,
        )
