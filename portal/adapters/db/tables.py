"""Table definitions. Every schema change also gets an Alembic migration in migrations/versions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class InspectionRow(Base):
    __tablename__ = "inspections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    theme_key: Mapped[str] = mapped_column(String(100))
    area_name: Mapped[str] = mapped_column(String(200))
    fieldwork_start: Mapped[date | None] = mapped_column(Date)
    notification_date: Mapped[date | None] = mapped_column(Date)
    # Which of the two days the lead entered, comma-separated; the other was derived.
    entered_days: Mapped[str] = mapped_column(String(40), default="", server_default="")
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    onsite_networks: Mapped[list[str] | None] = mapped_column(JSON)
    fieldwork_window_start: Mapped[datetime | None]
    fieldwork_window_end: Mapped[datetime | None]
    names_reduced_at: Mapped[datetime | None]


class InspectionAgencyRow(Base):
    __tablename__ = "inspection_agencies"

    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)


class UserRow(Base):
    """A person (or a service) with one role, scoped to an inspection and agency where the
    role is. Tokens and identity-provider sign-ins resolve to a user."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_inspection", "inspection_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"))
    agency: Mapped[str | None] = mapped_column(String(64))
    inspectorate: Mapped[str | None] = mapped_column(String(16))
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    disabled_at: Mapped[datetime | None]


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user", "user_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"))
    agency: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime | None]


class DocumentRow(Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_documents_inspection_agency", "inspection_id", "agency"),
        Index("ix_documents_status_scan_signatures", "status", "scan_signatures"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"))
    agency: Mapped[str] = mapped_column(String(64))
    item_number: Mapped[str] = mapped_column(String(64))
    child_id: Mapped[str | None] = mapped_column(String(64))
    document_date: Mapped[date | None] = mapped_column(Date)
    health_information: Mapped[bool] = mapped_column(Boolean, default=False)
    original_filename: Mapped[str] = mapped_column(String(255))
    declared_content_type: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(default=list)
    warnings: Mapped[list[str]] = mapped_column(default=list)
    detail: Mapped[str] = mapped_column(Text, default="")
    file_type: Mapped[str | None] = mapped_column(String(32))
    mime_type: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    sha256_received: Mapped[str | None] = mapped_column(String(64))
    sha256_stored: Mapped[str | None] = mapped_column(String(64))
    area: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    # Retention: a run marks the row before it deletes the bytes, and tombstones it after.
    deletion_run_id: Mapped[str | None] = mapped_column(String(32))
    deletion_started_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    retention_class: Mapped[str | None] = mapped_column(String(32))
    retention_rule: Mapped[str | None] = mapped_column(String(100))
    # Which signatures judged it (portal.domain.signatures): the verdict that decided it.
    scan_engine: Mapped[str | None] = mapped_column(String(32))
    scan_signatures: Mapped[str | None] = mapped_column(String(64))
    scan_signatures_date: Mapped[datetime | None]
    scanned_at: Mapped[datetime | None]
    # What the API's scan on arrival found (portal.domain.upload_scan), and with which
    # signatures: kept apart from the verdict's own (a failed run clears those).
    upload_scan_verdict: Mapped[str | None] = mapped_column(String(16))
    upload_scan_engine: Mapped[str | None] = mapped_column(String(32))
    upload_scan_signatures: Mapped[str | None] = mapped_column(String(64))
    upload_scan_signatures_date: Mapped[datetime | None]
    upload_scanned_at: Mapped[datetime | None]


class ScanVerdictRow(Base):
    """What one clamd engine and signature version said of some bytes (by sha256), kept by
    the rescan so identical bytes are scanned once per version. Digests and signature
    names only: nothing of who uploaded them."""

    __tablename__ = "scan_verdicts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    scan_engine: Mapped[str] = mapped_column(String(32), primary_key=True)
    scan_signatures: Mapped[str] = mapped_column(String(64), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(500), default="")
    scanned_at: Mapped[datetime]


class SelectionRow(Base):
    __tablename__ = "selections"

    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    child_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    selected_by: Mapped[str] = mapped_column(String(100))
    selected_at: Mapped[datetime]


class ListedChildRow(Base):
    """A child an accepted child-level list names: its unique ID (never a name) as the
    domain's child_id_key, the row of the list and the mix group the list gives it. Written
    with the list's verdict, deleted with the list's document by retention."""

    __tablename__ = "listed_children"
    __table_args__ = (Index("ix_listed_children_inspection", "inspection_id"),)

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    child_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"))
    row: Mapped[int] = mapped_column(Integer)
    mix_group: Mapped[str | None] = mapped_column(String(200))


class OnSiteSlotRow(Base):
    """A case-record slot (child x agency) to be seen on site: the lead's mark (empty when
    the theme marks it), the agency's arrangement (evidence data: deleted by retention with
    the inspection's case records) and who saw the records, when."""

    __tablename__ = "on_site_slots"

    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    child_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    marked_by: Mapped[str | None] = mapped_column(String(100))
    marked_at: Mapped[datetime | None]
    arrangement: Mapped[str | None] = mapped_column(Text)
    arranged_day: Mapped[date | None] = mapped_column(Date)
    arranged_by: Mapped[str | None] = mapped_column(String(100))
    arranged_at: Mapped[datetime | None]
    seen_by: Mapped[str | None] = mapped_column(String(100))
    seen_at: Mapped[datetime | None]


class ExtraItemRow(Base):
    """An item the lead asked of one agency in one inspection (portal/domain/extra_items.py):
    its title is what the agency sees, never a child's name."""

    __tablename__ = "extra_items"
    __table_args__ = (Index("ix_extra_items_inspection", "inspection_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"))
    agency: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    due: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime]


class ConcernRow(Base):
    """An issue of concern (portal/domain/concerns.py): the Annex C form, whose written
    response is uploaded into the extra item of the same id. Its text (case numbers,
    service, issues, evaluation, chief officer) is evidence data: deleted by retention with
    the inspection's extra items, reduced by the names run."""

    __tablename__ = "issues_of_concern"
    __table_args__ = (Index("ix_issues_of_concern_inspection", "inspection_id"),)

    id: Mapped[str] = mapped_column(ForeignKey("extra_items.id"), primary_key=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"))
    agency: Mapped[str] = mapped_column(String(64))
    case_numbers: Mapped[list[str]]
    category: Mapped[int] = mapped_column(Integer)
    service: Mapped[str] = mapped_column(String(200))
    issues: Mapped[str] = mapped_column(Text)
    referred_by: Mapped[str] = mapped_column(String(100))
    referred_at: Mapped[datetime]
    evaluation: Mapped[str | None] = mapped_column(Text)
    evaluated_by: Mapped[str | None] = mapped_column(String(100))
    evaluated_at: Mapped[datetime | None]
    lead_signed_by: Mapped[str | None] = mapped_column(String(100))
    lead_signed_at: Mapped[datetime | None]
    chief_officer: Mapped[str | None] = mapped_column(String(100))
    agency_signed_by: Mapped[str | None] = mapped_column(String(100))
    agency_signed_at: Mapped[datetime | None]


class ContactRow(Base):
    __tablename__ = "inspection_contacts"

    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), primary_key=True)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status", "status"),
        Index("ix_outbox_inspection", "inspection_id"),
    )

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    inspection_id: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str | None] = mapped_column(String(64))
    deadline: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    recipients: Mapped[list[str]] = mapped_column()
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class DeadlineOverrideRow(Base):
    __tablename__ = "deadline_overrides"

    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    deadline: Mapped[str] = mapped_column(String(64), primary_key=True)
    due: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime]


class AuditEventRow(Base):
    """One event of the tamper-evident audit log (portal/domain/audit_chain.py): append-only,
    hash-chained per inspection (chain = inspection id, or "portal" for none). The detail
    holds ids, codes, counts and dates only, never free text."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_document", "document_id"),
        UniqueConstraint("chain", "seq", name="uq_audit_events_chain_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    inspection_id: Mapped[str | None] = mapped_column(String(32))
    document_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    chain: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(32))
    """The audit key the entry's HMAC is under; None for entries from before keys."""


class AuditChainRow(Base):
    """The head of each audit chain: its last seq and entry hash. Appending locks this row;
    verification compares it with the chain's newest entry, so a lost tail shows."""

    __tablename__ = "audit_chains"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_entry_hash: Mapped[str] = mapped_column(String(64))


class InspectionEventRow(Base):
    """When a retention event (fieldwork end, letter published, withdrawn) happened."""

    __tablename__ = "inspection_events"

    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    event: Mapped[str] = mapped_column(String(32), primary_key=True)
    on_date: Mapped[date] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime]


class LegalHoldRow(Base):
    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_inspection", "inspection_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"))
    document_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(100))
    placed_at: Mapped[datetime]
    lifted_by: Mapped[str | None] = mapped_column(String(100))
    lifted_at: Mapped[datetime | None]
    lift_reason: Mapped[str] = mapped_column(Text, default="")


class NameRegisterRow(Base):
    """A name the lead inspector records to connect a child's records across agencies."""

    __tablename__ = "name_register"
    __table_args__ = (Index("ix_name_register_inspection", "inspection_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"))
    name: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]
    reduced_at: Mapped[datetime | None]


class RetentionRunRow(Base):
    __tablename__ = "retention_runs"
    __table_args__ = (Index("ix_retention_runs_status", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dry_run: Mapped[bool] = mapped_column(Boolean)
    as_of: Mapped[datetime]
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    started_by: Mapped[str] = mapped_column(String(100))
    policy_sha256: Mapped[str] = mapped_column(String(64))
    completed_by: Mapped[str | None] = mapped_column(String(32))
    completes: Mapped[list[str]] = mapped_column(default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RetentionEntryRow(Base):
    """One line of a deletion record. Holds ids, hashes and sizes, never a name."""

    __tablename__ = "retention_entries"
    __table_args__ = (Index("ix_retention_entries_run", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("retention_runs.id"))
    inspection_id: Mapped[str | None] = mapped_column(String(32))
    record_kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(24))
    retention_class: Mapped[str | None] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(100), default="")
    due: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    count: Mapped[int | None] = mapped_column(Integer)
    hold_ids: Mapped[list[str]] = mapped_column(default=list)
    proof: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resumed_from: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]
