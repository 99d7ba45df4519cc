"""Request and response bodies of the v1 API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from portal.domain.access import InspectionState, Inspectorate, Role
from portal.domain.chase import EMAIL_MAX_LENGTH, EMAIL_PATTERN
from portal.domain.documents import Document
from portal.domain.extra_items import ExtraItem, ExtraItemRequest, ExtraKind
from portal.domain.reasons import CodeAndMessage, reason_sentence, warning_sentence
from portal.domain.retention import NAME_MAX, NAME_NOTE_MAX, NAME_REFERENCE_MAX
from portal.domain.schedule import DeadlineMove
from portal.domain.signatures import SignatureState
from portal.domain.timeline import LONDON, Day, Moment
from portal.services.documents import (
    MAX_STATUS_IDS,
    MAX_STATUS_WAIT_SECONDS,
    DocumentScan,
    document_scan,
)
from portal.services.retention import LiftHold, PlaceHold


class InspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = Field(description="Theme variant, e.g. 'domestic-abuse/sept-2024'.")
    area_name: str = Field(min_length=1, max_length=200)
    fieldwork_start: Day | None = Field(
        default=None, description="Kept as given; derived from notification_date if omitted."
    )
    notification_date: Day | None = Field(
        default=None, description="Kept as given; derived from fieldwork_start if omitted."
    )
    agencies: list[str] | None = Field(
        default=None, description="Agency codes in scope; default every agency of the theme."
    )
    contacts: ContactsIn | None = None


Email = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=EMAIL_MAX_LENGTH)]


class ContactsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead_inspector: list[Email] = Field(default_factory=list)
    agencies: dict[str, list[Email]] = Field(
        default_factory=dict, description="Agency code -> who is chased for it."
    )


class MessageOut(BaseModel):
    key: str
    kind: str
    agency: str | None
    deadline: str
    recipients: list[str]
    subject: str
    status: str = Field(description="pending, sending or sent")
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str


class ChaseRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: Moment | None = Field(default=None, description="Default: now.")
    dry_run: bool = True


class PlannedOut(BaseModel):
    key: str
    kind: str
    inspection_id: str
    agency: str | None
    deadline: str
    recipients: list[str]
    subject: str
    body: str


class ChaseRunOut(BaseModel):
    as_of: datetime
    dry_run: bool
    planned: list[PlannedOut]
    recorded: int
    sent: int
    failed: int


LondonTime = Annotated[
    datetime,
    PlainSerializer(lambda at: at.astimezone(LONDON).isoformat(), return_type=str),
]
"""A time shown in Europe/London with its offset: +00:00 in winter, +01:00 in summer."""


class DayShiftOut(BaseModel):
    rule_day: date = Field(description="The day the guidance's words give.")
    bank_holidays: list[date] = Field(description="The bank holidays it moved past.")
    after: str | None = Field(
        description="The deadline it must fall after, when a bank holiday moved that one."
    )


class DeadlineOut(BaseModel):
    key: str
    quote: str = Field(description="The guidance's words for this deadline.")
    due: LondonTime = Field(description="Absolute Europe/London time, with its offset.")
    moved: bool = Field(description="True if the lead inspector moved it.")
    depends_on: list[str] = Field(
        default_factory=list,
        description="Deadlines it always falls on a later working day than.",
    )
    shift: DayShiftOut | None = Field(
        default=None, description="Why it is not on the day the guidance's words give."
    )


class TimelineWarningOut(BaseModel):
    code: str = Field(description="notification_off_rule or deadline_order.")
    text: str


class InspectionDaysIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notification_date: Day | None = Field(
        default=None, description="Kept as given; derived from fieldwork_start if omitted."
    )
    fieldwork_start: Day | None = Field(
        default=None, description="Kept as given; derived from notification_date if omitted."
    )


class InspectionOut(BaseModel):
    id: str
    theme: str
    area_name: str
    fieldwork_start: date | None
    notification_date: date | None
    entered_days: list[str] = Field(
        default_factory=list,
        description="Which of notification and fieldwork_start the lead entered; the other "
        "was derived from the theme's rule.",
    )
    agencies: list[str]
    created_at: datetime
    state: InspectionState
    deadlines: list[DeadlineOut] = Field(
        default_factory=list, description="Every deadline, in due order (needs fieldwork_start)."
    )
    timeline_warnings: list[TimelineWarningOut] = Field(
        default_factory=list,
        description="Where the days disagree with the theme's rule, or moves break an order.",
    )


class InspectionStateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: InspectionState
    reason: str = Field(min_length=1, max_length=500)


class OnSiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    networks: list[str] = Field(
        min_length=1, max_length=50, description="CIDRs of the on-site venues' networks."
    )
    window_start: Moment
    window_end: Moment


class DeadlineMoveIn(DeadlineMove):
    pass


class ItemStateOut(BaseModel):
    number: str
    title: str
    optional: bool
    accepted: int
    rejected: int
    rejection_reasons: list[str] = Field(
        description="Why its documents were rejected or withdrawn, each code once."
    )
    pending: int
    withdrawn: int = Field(
        default=0,
        description="Documents accepted, then withdrawn because a rescan found them "
        "infected: they no longer count as sent.",
    )


class DeadlineStateOut(BaseModel):
    agency: str
    deadline: str | None
    due: datetime | None
    required: int
    accepted: int
    missing: list[str]
    overdue: list[str]
    rejected: list[str]
    items: list[ItemStateOut]


class CompletenessOut(BaseModel):
    inspection_id: str
    as_of: datetime
    deadlines: list[DeadlineStateOut]


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    agency: str | None = Field(default=None, description="Required for agency_uploader.")
    label: str = Field(default="", max_length=200)
    email: Email | None = Field(default=None, description="The person's e-mail, if known.")
    inspectorate: Inspectorate | None = Field(
        default=None, description="For inspectors and lead inspectors."
    )


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    email: Email | None = None
    role: Role
    agency: str | None = Field(default=None, description="Required for agency_uploader.")
    inspectorate: Inspectorate | None = Field(
        default=None, description="For inspectors and lead inspectors."
    )
    oidc_subject: str | None = Field(
        default=None, max_length=255, description="The identity provider's `sub`, if known."
    )


class PortalUserIn(UserIn):
    """An administrator's request: any role, in an inspection or across all of them."""

    inspection_id: str | None = Field(default=None, max_length=32)


class UserOut(BaseModel):
    id: str
    name: str
    email: str | None
    role: Role
    inspection_id: str | None
    agency: str | None
    inspectorate: Inspectorate | None
    created_at: datetime
    disabled_at: datetime | None


class MeOut(BaseModel):
    user_id: str | None
    role: Role
    inspection_id: str | None
    agency: str | None
    inspectorate: Inspectorate | None
    token_id: str


class NewTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=200)
    expires_in_days: int = Field(default=90, ge=1, le=365)


class TokenInfoOut(BaseModel):
    id: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenInfoOut):
    token: str = Field(description="Shown once; only its hash is kept.")


class TokenOut(BaseModel):
    token_id: str
    role: Role
    inspection_id: str | None
    agency: str | None
    token: str = Field(description="Shown once; only its hash is kept.")


class DocumentAccepted(BaseModel):
    """The answer to an upload: the document recorded, and where to follow it. Usually
    `received`; `rejected` (final, with its reasons, e.g. `infected`) when clamd found a
    signature while the file arrived: the document is recorded all the same, with its id,
    status and notice, so the answer stays 202 (a 4xx means nothing was recorded)."""

    id: str
    status: str
    status_url: str
    final: bool = Field(
        default=False, description="True if the status will not change (rejected at once)."
    )
    reasons: list[CodeAndMessage] = Field(
        default_factory=list, description="Why it was rejected, when it was rejected at once."
    )

    @classmethod
    def of(cls, document: Document, status_url: str) -> DocumentAccepted:
        """The answer for a recorded upload."""
        return cls(
            id=document.id,
            status=document.status.value,
            status_url=status_url,
            final=document.status.is_final,
            reasons=[
                CodeAndMessage(code=r.value, message=reason_sentence(r)) for r in document.reasons
            ],
        )


class DocumentOut(BaseModel):
    id: str
    inspection_id: str
    agency: str
    item: str
    child_id: str | None
    filename: str
    status: str
    final: bool
    message: str
    detail: str = Field(description="Technical detail for support staff, e.g. the signature.")
    reasons: list[CodeAndMessage]
    warnings: list[CodeAndMessage]
    file_type: str | None
    mime_type: str | None
    size_bytes: int | None
    sha256: str | None = Field(description="Of the stored (sanitised) copy once accepted.")
    sensitivity: str
    health_information: bool = Field(
        default=False,
        description="Its uploader marked it as holding health information (kept on site).",
    )
    received_at: datetime
    decided_at: datetime | None
    deleted_at: datetime | None = Field(
        default=None, description="When retention deleted its content (the record remains)."
    )
    scan: DocumentScan | None = Field(
        default=None,
        description="Which clamd engine and signatures judged it and when, once a verdict "
        "that scanned it is recorded.",
    )

    @classmethod
    def of(cls, document: Document) -> DocumentOut:
        """The API's view of a document, with sentences an uploader understands."""
        return cls(
            id=document.id,
            inspection_id=document.inspection_id,
            agency=document.agency,
            item=document.item_number,
            child_id=document.child_id,
            filename=document.original_filename,
            status=document.status.value,
            final=document.status.is_final,
            message=_status_message(document),
            detail=document.detail,
            reasons=[
                CodeAndMessage(code=r.value, message=reason_sentence(r)) for r in document.reasons
            ],
            warnings=[
                CodeAndMessage(code=w.value, message=warning_sentence(w)) for w in document.warnings
            ],
            file_type=document.file_type,
            mime_type=document.mime_type,
            size_bytes=document.size_bytes,
            sha256=document.sha256_stored or document.sha256_received,
            sensitivity="on_site_only"
            if document.area.value == "onsite" or document.health_information
            else "standard",
            health_information=document.health_information,
            received_at=document.received_at,
            decided_at=document.decided_at,
            deleted_at=document.deleted_at,
            scan=document_scan(document),
        )


class DocumentsStatusQuery(BaseModel):
    ids: list[str] = Field(
        description=f"The documents to follow: each the `id` of an upload's answer (32 "
        f"lowercase hexadecimal characters), at most {MAX_STATUS_IDS} (more: 400 "
        "`too_many_ids`); repeats count once.",
        examples=[["0123456789abcdef0123456789abcdef"]],
    )
    wait_seconds: float = Field(
        default=0,
        ge=0,
        le=MAX_STATUS_WAIT_SECONDS,
        description="0: answer at once. More: hold the answer until every asked document "
        "is final or this many seconds have passed, whichever is first (long-polling).",
    )


class DocumentsStatusOut(BaseModel):
    documents: list[DocumentOut] = Field(
        description="Every asked document you may see, in the order asked, as "
        "GET /v1/documents/{id} shows it."
    )
    pending: list[str] = Field(
        description="The ids of those not final yet (received, processing or failed and "
        "to be retried): ask again about these."
    )
    unknown: list[str] = Field(
        description="Ids of no document you may see: unknown, or another agency's or "
        "inspection's (not told apart)."
    )


def _status_message(document: Document) -> str:
    status = document.status.value
    if status in ("received", "processing"):
        return "We are checking this file. This usually takes a few seconds."
    if status == "accepted":
        return "This file was accepted and is ready for the inspectors."
    if status == "rejected":
        return "This file was not accepted. " + " ".join(
            reason_sentence(r) for r in document.reasons
        )
    if status == "withdrawn":
        return "This file was withdrawn after it was accepted. " + " ".join(
            reason_sentence(r) for r in document.reasons
        )
    return " ".join(reason_sentence(r) for r in document.reasons) or (
        "We could not finish checking this file; it will be retried."
    )


class RetentionRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = Field(default=True, description="List what would go; delete nothing.")
    as_of: Moment | None = Field(
        default=None, description="Dry runs only: look ahead to this time. Default now."
    )


class RetentionEntryOut(BaseModel):
    inspection_id: str | None
    record_kind: str = Field(description="document, outbox, names, audit_log or leftovers")
    record_id: str | None
    action: str = Field(
        description="deleted, would_delete, held, failed, names_reduced, would_reduce_names"
    )
    retention_class: str | None
    rule: str
    due: date | None
    reason: str
    sha256: str | None
    size_bytes: int | None
    count: int | None
    hold_ids: list[str]
    proof: dict[str, object]
    resumed_from: str | None = Field(description="The interrupted run this entry finishes.")


class RetentionRunOut(BaseModel):
    id: str
    dry_run: bool
    as_of: datetime
    started_at: datetime
    finished_at: datetime | None
    status: str = Field(description="running, completed or interrupted")
    started_by: str
    policy_sha256: str
    completed_by: str | None = Field(description="For an interrupted run: who finished it.")
    completes: list[str] = Field(description="Interrupted runs whose work this run finished.")
    summary: dict[str, int]
    entries: list[RetentionEntryOut]


# The use cases' models under the API's names; without docstrings of their own (pydantic
# does not inherit one), so their schemas say what their fields say, as before.
class LegalHoldIn(PlaceHold):
    pass


class LegalHoldLiftIn(LiftHold):
    pass


class LegalHoldOut(BaseModel):
    id: str
    inspection_id: str
    document_id: str | None
    reason: str
    placed_by: str
    placed_at: datetime
    active: bool
    lifted_by: str | None
    lifted_at: datetime | None
    lift_reason: str


class RetentionEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: Day = Field(description="The day it happened (Europe/London).")


class RetentionClassOut(BaseModel):
    retention_class: str
    rule: str
    why: str
    due: date | None
    waiting_for: str = Field(description="Why it cannot be acted on yet, if so.")


class RetentionScheduleOut(BaseModel):
    inspection_id: str
    recorded: dict[str, date]
    estimated: dict[str, date]
    classes: list[RetentionClassOut]
    names_rule: str
    names_due: date | None
    names_reduced_at: datetime | None
    active_holds: int


class NameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX, pattern=r"\S")
    reference: str = Field(
        default="",
        max_length=NAME_REFERENCE_MAX,
        description="The child's unique ID or a case reference.",
    )
    note: str = Field(default="", max_length=NAME_NOTE_MAX)


class NameOut(BaseModel):
    id: str
    name: str = Field(description="Initials only once names have been reduced.")
    reference: str
    note: str
    recorded_by: str
    recorded_at: datetime
    reduced_at: datetime | None


class DependencyCheckOut(BaseModel):
    ok: bool
    error: str | None = Field(default=None, description="Why it did not answer.")


class SignaturesOut(BaseModel):
    engine: str = Field(description="clamd's engine version, e.g. 1.4.6.")
    version: str = Field(
        description="The signatures as a verdict records them (a document's scan.signatures): "
        "the ClamAV database version, `+<id>` of a database the portal installed, or "
        "`local+<id>` for local signatures only."
    )
    database_version: int | None = Field(
        description="The ClamAV database version clamd's VERSION names (none: local "
        "signature files only)."
    )
    database_date: datetime | None = Field(description="When that database was published.")
    database_id: str | None = Field(
        description="The id the portal's marker gives the database (a digest of its files)."
    )
    kind: str = Field(
        description="official (a ClamAV database), local (local signature files only) or "
        "test (only the portal's local test signatures, which find the EICAR test file and "
        "nothing else)."
    )
    age_hours: float | None = Field(description="Hours since the database was published.")
    max_age_hours: float = Field(description="Older than this, the portal is degraded.")
    degraded: bool = Field(description="The signatures are not fit for real documents.")
    degraded_because: str | None = Field(
        description="test_signatures_only, no_official_signatures, signatures_stale or "
        "signatures_age_unknown."
    )
    warning: str = Field(description="Why, in a sentence (empty when not degraded).")

    @classmethod
    def of(cls, state: SignatureState) -> SignaturesOut:
        """The API's view of the scanner's signatures, judged."""
        signatures = state.signatures
        return cls(
            engine=signatures.engine,
            version=signatures.version,
            database_version=signatures.database_version,
            database_date=signatures.database_date,
            database_id=signatures.database_id,
            kind=signatures.kind.value,
            age_hours=round(state.age.total_seconds() / 3600, 1) if state.age else None,
            max_age_hours=state.max_age.total_seconds() / 3600,
            degraded=state.degraded,
            degraded_because=state.degraded_because.value if state.degraded_because else None,
            warning=state.warning,
        )


class ReadyOut(BaseModel):
    status: str = Field(
        description="ready, or degraded: every dependency answers, but clamd's signatures "
        "are stale or not official (see `signatures`)."
    )
    checks: dict[str, DependencyCheckOut] = Field(
        description="clamd, store, database and prefect: whether each answers now."
    )
    signatures: SignaturesOut | None = Field(
        default=None, description="clamd's signatures, their age and whether they are fit."
    )


class ScannerOut(BaseModel):
    answers: bool = Field(description="Whether clamd answers now.")
    error: str | None = Field(default=None, description="Why it does not.")
    signatures: SignaturesOut | None = Field(
        default=None, description="What it has loaded, their age and whether they are fit."
    )


class AuditBreakOut(BaseModel):
    chain: str = Field(description="The chain: an inspection id, or `portal`.")
    seq: int | None = Field(description="Where in the chain it breaks, if known.")
    entry_id: int | None = Field(description="The broken entry's id, if it is still there.")
    problem: str = Field(
        description="hash_mismatch, prev_hash_mismatch, seq_gap, missing_tail, "
        "chain_missing, unknown_key, unkeyed_after_keyed, unkeyed_unanchored, "
        "anchor_mismatch, below_anchor, ..."
    )
    explanation: str


class AuditVerifyOut(BaseModel):
    ok: bool = Field(description="Every chain verifies under its keys and every anchor holds.")
    summary: str = Field(description="The line `jtai-portal audit verify` prints.")
    chains: int
    entries: int
    unkeyed_entries: int = Field(description="Entries from before keyed chains (anchored).")
    deleted_chains: int = Field(description="Chains retention deleted in whole or part.")
    anchors: int = Field(description="Anchors read from the anchor sink and checked.")
    first_break: AuditBreakOut | None = Field(description="The first broken entry, if any.")
    breaks: list[AuditBreakOut] = Field(description="The first break of each broken chain.")


# -- after fieldwork -------------------------------------------------------------------------


class LetterDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: Day = Field(description="The day the letter reached this step (Europe/London).")


class LetterDeadlineOut(BaseModel):
    key: str = Field(description="factual_accuracy or statement_of_action.")
    quote: str = Field(description="The guidance's words for this deadline.")
    source: str = Field(description="Where they stand in the guidance.")
    working_days: int
    after: str = Field(description="The step of the letter it counts from.")
    due: LondonTime | None = Field(
        description="Absolute Europe/London time, with its offset; null until `after` is recorded."
    )
    waiting_for: str | None = Field(description="What it waits for, while `due` is null.")


class AfterFieldworkOut(BaseModel):
    recorded: dict[str, date] = Field(
        description="The letter's recorded days: draft_letter_shared, final_letter_sent, "
        "letter_published."
    )
    deadlines: list[LetterDeadlineOut]


# extra items: what the lead asks of one agency in one inspection
class ExtraItemIn(ExtraItemRequest):
    pass


class ExtraItemOut(BaseModel):
    id: str
    item: str = Field(description="The upload target: 'extra:<id>'.")
    deadline: str = Field(description="The key of its own deadline in the timeline.")
    agency: str
    kind: ExtraKind
    title: str
    due: LondonTime
    added_by: str
    added_at: datetime

    @classmethod
    def of(cls, extra: ExtraItem) -> ExtraItemOut:
        """The API's view of one item."""
        return cls(
            id=extra.id,
            item=extra.item,
            deadline=extra.deadline_key,
            agency=extra.agency,
            kind=extra.kind,
            title=extra.title,
            due=extra.due,
            added_by=extra.added_by,
            added_at=extra.added_at,
        )
