"""The repository: the only code that reads and writes the metadata database.

Every state change of a document is a conditional UPDATE guarded by the state it expects,
so two processes racing for one document cannot both win.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    String,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from portal.adapters.db import audit_log
from portal.adapters.db.engine import DatabaseUnavailable, Tables
from portal.adapters.db.tables import (
    AuditEventRow,
    ContactRow,
    DeadlineOverrideRow,
    DocumentRow,
    ExtraItemRow,
    InspectionAgencyRow,
    InspectionEventRow,
    InspectionRow,
    ListedChildRow,
    OnSiteSlotRow,
    OutboxRow,
    ScanVerdictRow,
    SelectionRow,
)
from portal.domain.access import Inspection, InspectionState
from portal.domain.batching import WaitingDocument, choose_batch
from portal.domain.chase import Contacts, OutboxMessage, PlannedMessage
from portal.domain.child_lists import ListedChild
from portal.domain.completeness import DocumentFact
from portal.domain.documents import Area, Document, DocumentStatus
from portal.domain.extra_items import ExtraItem, ExtraKind
from portal.domain.inspection_days import EnteredDay
from portal.domain.moments import utc_aware
from portal.domain.onsite import OnSitePolicy, parse_networks
from portal.domain.ports import OutcomeToRecord
from portal.domain.reasons import ReasonCode, WarningCode
from portal.domain.rescan import KnownVerdict, RescanCandidate, RescanVerdict
from portal.domain.schedule import MovedDeadline
from portal.domain.seen_on_site import OnSiteRecord
from portal.domain.selection import ListEntry
from portal.domain.signatures import ScannedWith
from portal.domain.timeline import LONDON
from portal.domain.upload_scan import UPLOAD_SCAN_ACTOR
from portal.domain.withdrawal import CONTENT_AREAS

_CLAIMABLE = (DocumentStatus.received.value, DocumentStatus.failed.value)


class SqlRepository(Tables):
    """Inspections, tokens, documents and audit events in SQLite or PostgreSQL."""

    def check(self) -> None:
        """Raise DatabaseUnavailable unless a trivial query succeeds now."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as exc:
            raise DatabaseUnavailable(f"database unreachable: {exc.orig}") from exc

    # inspections -------------------------------------------------------------------------

    def add_inspection(self, inspection: Inspection, actor: str) -> None:
        """Store a new inspection and its agencies, with an audit event, in one transaction."""
        with self._session() as session, session.begin():
            session.add(
                InspectionRow(
                    id=inspection.id,
                    theme_key=inspection.theme_key,
                    area_name=inspection.area_name,
                    fieldwork_start=inspection.fieldwork_start,
                    notification_date=inspection.notification_date,
                    entered_days=_entered_text(inspection.entered_days),
                    created_at=inspection.created_at,
                    state=inspection.state.value,
                )
            )
            session.flush()
            session.add_all(
                InspectionAgencyRow(inspection_id=inspection.id, agency=agency)
                for agency in inspection.agencies
            )
            _audit(session, inspection.created_at, actor, "inspection_created", inspection.id)

    def get_inspection(self, inspection_id: str) -> Inspection | None:
        """The inspection with this id, or None."""
        with self._session() as session:
            row = session.get(InspectionRow, inspection_id)
            if row is None:
                return None
            agencies = session.scalars(
                select(InspectionAgencyRow.agency)
                .where(InspectionAgencyRow.inspection_id == inspection_id)
                .order_by(InspectionAgencyRow.agency)
            ).all()
            return Inspection(
                id=row.id,
                theme_key=row.theme_key,
                area_name=row.area_name,
                fieldwork_start=row.fieldwork_start,
                notification_date=row.notification_date,
                entered_days=frozenset(EnteredDay(d) for d in row.entered_days.split(",") if d),
                agencies=tuple(agencies),
                created_at=utc_aware(row.created_at),
                state=InspectionState(row.state),
            )

    def deadline_overrides(self, inspection_id: str) -> dict[str, datetime]:
        """The lead inspector's moved deadlines of one inspection (UTC)."""
        with self._session() as session:
            rows = session.scalars(
                select(DeadlineOverrideRow).where(
                    DeadlineOverrideRow.inspection_id == inspection_id
                )
            ).all()
            return {row.deadline: utc_aware(row.due) for row in rows}

    def deadline_moves(self, inspection_id: str) -> list[MovedDeadline]:
        """The moved deadlines of one inspection, with who moved each, when and why."""
        with self._session() as session:
            rows = session.scalars(
                select(DeadlineOverrideRow).where(
                    DeadlineOverrideRow.inspection_id == inspection_id
                )
            ).all()
            return [
                MovedDeadline(
                    deadline=row.deadline,
                    due=utc_aware(row.due),
                    reason=row.reason,
                    set_by=row.set_by,
                    set_at=utc_aware(row.set_at),
                )
                for row in rows
            ]

    def set_deadline_override(
        self,
        inspection_id: str,
        deadline: str,
        due: datetime,
        reason: str,
        actor: str,
        now: datetime,
    ) -> None:
        """Move one deadline of one inspection (replacing an earlier move), with an audit event."""
        with self._session() as session, session.begin():
            session.merge(
                DeadlineOverrideRow(
                    inspection_id=inspection_id,
                    deadline=deadline,
                    due=due.astimezone(UTC),
                    reason=reason,
                    set_by=actor,
                    set_at=now,
                )
            )
            _audit(
                session,
                now,
                actor,
                "deadline_moved",
                inspection_id,
                detail={"deadline": deadline, "due": due.isoformat()},
            )

    def selection(self, inspection_id: str, stage: str) -> tuple[str, ...]:
        """The children selected at one stage (shortlist or audit), in the order given."""
        with self._session() as session:
            return tuple(
                session.scalars(
                    select(SelectionRow.child_id)
                    .where(SelectionRow.inspection_id == inspection_id, SelectionRow.stage == stage)
                    .order_by(SelectionRow.position)
                ).all()
            )

    def add_extra_item(self, extra: ExtraItem) -> None:
        """Store an item the lead asked of one agency, with an audit event (ids, kind,
        agency and due time only: the title is free text)."""
        with self._session() as session, session.begin():
            session.add(
                ExtraItemRow(
                    id=extra.id,
                    inspection_id=extra.inspection_id,
                    agency=extra.agency,
                    kind=extra.kind.value,
                    title=extra.title,
                    due=extra.due.astimezone(UTC),
                    added_by=extra.added_by,
                    added_at=extra.added_at,
                )
            )
            _audit(
                session,
                extra.added_at,
                extra.added_by,
                "extra_item_added",
                extra.inspection_id,
                detail={
                    "extra_item": extra.id,
                    "kind": extra.kind.value,
                    "agency": extra.agency,
                    "due": extra.due.astimezone(UTC).isoformat(),
                },
            )

    def extra_items(self, inspection_id: str) -> list[ExtraItem]:
        """The items the lead asked in one inspection, in the order they were added."""
        with self._session() as session:
            rows = session.scalars(
                select(ExtraItemRow)
                .where(ExtraItemRow.inspection_id == inspection_id)
                .order_by(ExtraItemRow.added_at, ExtraItemRow.id)
            ).all()
            return [
                ExtraItem(
                    id=row.id,
                    inspection_id=row.inspection_id,
                    agency=row.agency,
                    kind=ExtraKind(row.kind),
                    title=row.title,
                    due=utc_aware(row.due),
                    added_by=row.added_by,
                    added_at=utc_aware(row.added_at),
                )
                for row in rows
            ]

    def replace_selection(
        self, inspection_id: str, stage: str, child_ids: Sequence[str], actor: str, now: datetime
    ) -> None:
        """Record a stage's selection, replacing the previous one, with an audit event."""
        with self._session() as session, session.begin():
            session.execute(
                delete(SelectionRow).where(
                    SelectionRow.inspection_id == inspection_id, SelectionRow.stage == stage
                )
            )
            session.add_all(
                SelectionRow(
                    inspection_id=inspection_id,
                    stage=stage,
                    child_id=child,
                    position=position,
                    selected_by=actor,
                    selected_at=now,
                )
                for position, child in enumerate(child_ids)
            )
            _audit(
                session,
                now,
                actor,
                f"{stage}_selected",
                inspection_id,
                detail={"children": len(child_ids)},
            )

    def on_site_records(self, inspection_id: str) -> list[OnSiteRecord]:
        """What is held about the inspection's case-record slots to be seen on site (the
        lead's marks, the agencies' arrangements, what was seen), by child then agency."""
        with self._session() as session:
            rows = session.scalars(
                select(OnSiteSlotRow)
                .where(OnSiteSlotRow.inspection_id == inspection_id)
                .order_by(OnSiteSlotRow.child_id, OnSiteSlotRow.agency)
            ).all()
            return [_on_site_record(row) for row in rows]

    def mark_on_site(
        self, inspection_id: str, child_id: str, agency: str, actor: str, now: datetime
    ) -> None:
        """Mark one slot's records to be seen on site (again: no change), with an audit
        event."""
        with self._session() as session, session.begin():
            row = _on_site_row(session, inspection_id, child_id, agency)
            if row.marked_at is not None:
                return
            row.marked_by, row.marked_at = actor, now
            _audit(
                session,
                now,
                actor,
                "slot_marked_seen_on_site",
                inspection_id,
                detail={"agency": agency},
            )

    def confirm_arrangement(
        self,
        inspection_id: str,
        child_id: str,
        agency: str,
        where: str,
        day: date,
        actor: str,
        now: datetime,
    ) -> None:
        """Record (or replace) where, how and when inspectors will see one slot's records,
        with an audit event that holds the day but never the text."""
        with self._session() as session, session.begin():
            row = _on_site_row(session, inspection_id, child_id, agency)
            row.arrangement, row.arranged_day = where, day
            row.arranged_by, row.arranged_at = actor, now
            _audit(
                session,
                now,
                actor,
                "on_site_arrangement_confirmed",
                inspection_id,
                detail={"agency": agency, "day": day.isoformat()},
            )

    def record_seen_on_site(
        self, inspection_id: str, child_id: str, agency: str, actor: str, now: datetime
    ) -> None:
        """Record that an inspector saw one slot's records on site, with an audit event."""
        with self._session() as session, session.begin():
            row = _on_site_row(session, inspection_id, child_id, agency)
            row.seen_by, row.seen_at = actor, now
            _audit(
                session,
                now,
                actor,
                "case_records_seen_on_site",
                inspection_id,
                detail={"agency": agency},
            )

    def listed_children(self, inspection_id: str) -> list[ListEntry]:
        """Every child named by an accepted, not deleted, child-level list of the
        inspection, list by list in the order they were decided, rows in file order."""
        with self._session() as session:
            rows = session.execute(
                select(ListedChildRow, DocumentRow.item_number)
                .join(DocumentRow, DocumentRow.id == ListedChildRow.document_id)
                .where(
                    ListedChildRow.inspection_id == inspection_id,
                    DocumentRow.status == DocumentStatus.accepted.value,
                    DocumentRow.deleted_at.is_(None),
                )
                .order_by(DocumentRow.decided_at, DocumentRow.id, ListedChildRow.row)
            ).all()
            return [
                ListEntry(
                    document_id=row.document_id,
                    item_number=item_number,
                    child_key=row.child_key,
                    row=row.row,
                    group=row.mix_group,
                )
                for row, item_number in rows
            ]

    def uploads_for_item(self, inspection_id: str, agency: str, item: str) -> list[Document]:
        """Every document uploaded for one agency's item in an inspection (every child's,
        for case records and audits), whatever its status, in the order received."""
        return self.uploads_for_items(inspection_id, agency, [item])[item]

    def uploads_for_items(
        self, inspection_id: str, agency: str, items: Collection[str]
    ) -> dict[str, list[Document]]:
        """`uploads_for_item` for each of one agency's `items`, in one query: every item
        asked is a key, its documents in the order received."""
        found: dict[str, list[Document]] = {item: [] for item in items}
        with self._session() as session:
            rows = session.scalars(
                select(DocumentRow)
                .where(
                    DocumentRow.inspection_id == inspection_id,
                    DocumentRow.agency == agency,
                    DocumentRow.item_number.in_(list(found)),
                )
                .order_by(DocumentRow.received_at, DocumentRow.id)
            )
            for row in rows:
                found[row.item_number].append(_document_from_row(row))
        return found

    def document_facts(self, inspection_id: str, agency: str | None = None) -> list[DocumentFact]:
        """What completeness needs of every document of an inspection (or one agency)."""
        query = select(
            DocumentRow.agency,
            DocumentRow.item_number,
            DocumentRow.child_id,
            DocumentRow.status,
            DocumentRow.reasons,
            DocumentRow.received_at,
            DocumentRow.decided_at,
        ).where(DocumentRow.inspection_id == inspection_id)
        if agency is not None:
            query = query.where(DocumentRow.agency == agency)
        with self._session() as session:
            rows = session.execute(query).all()
        return [
            DocumentFact(
                agency=row.agency,
                item_number=row.item_number,
                child_id=row.child_id,
                status=DocumentStatus(row.status),
                reasons=tuple(ReasonCode(r) for r in row.reasons),
                received_at=utc_aware(row.received_at),
                decided_at=utc_aware(row.decided_at) if row.decided_at else None,
            )
            for row in rows
        ]

    def list_inspection_ids(self, state: InspectionState | None = None) -> list[str]:
        """Every inspection's id (in one state, if given), oldest first."""
        query = select(InspectionRow.id).order_by(InspectionRow.created_at)
        if state is not None:
            query = query.where(InspectionRow.state == state.value)
        with self._session() as session:
            return list(session.scalars(query).all())

    def set_onsite(
        self,
        inspection_id: str,
        networks: list[str],
        window_start: datetime,
        window_end: datetime,
        actor: str,
        now: datetime,
    ) -> None:
        """Register where (CIDRs) and when health records of an inspection may be viewed."""
        with self._session() as session, session.begin():
            session.execute(
                update(InspectionRow)
                .where(InspectionRow.id == inspection_id)
                .values(
                    onsite_networks=networks,
                    fieldwork_window_start=window_start.astimezone(UTC),
                    fieldwork_window_end=window_end.astimezone(UTC),
                )
            )
            _audit(
                session,
                now,
                actor,
                "onsite_registered",
                inspection_id,
                detail={
                    "networks": networks,
                    "start": window_start.isoformat(),
                    "end": window_end.isoformat(),
                },
            )

    def onsite_policy(self, inspection_id: str) -> OnSitePolicy:
        """Where and when the inspection's health records may be viewed."""
        with self._session() as session:
            row = session.get(InspectionRow, inspection_id)
        if row is None:
            return OnSitePolicy()
        return OnSitePolicy(
            networks=parse_networks(row.onsite_networks or []),
            window_start=utc_aware(row.fieldwork_window_start)
            if row.fieldwork_window_start
            else None,
            window_end=utc_aware(row.fieldwork_window_end) if row.fieldwork_window_end else None,
        )

    def record_view(
        self, document: Document, actor: str, address: str, allowed: bool, rule: str, now: datetime
    ) -> None:
        """Audit one attempt to read a document's content, allowed or not."""
        with self._session() as session, session.begin():
            _audit(
                session,
                now,
                actor,
                "document_viewed" if allowed else "document_view_denied",
                document.inspection_id,
                document.id,
                {"address": address, "rule": rule, "area": document.area.value},
            )

    def set_inspection_days(
        self,
        inspection_id: str,
        notification: date | None,
        fieldwork_start: date | None,
        entered: frozenset[EnteredDay],
        actor: str,
        now: datetime,
    ) -> None:
        """Replace the inspection's notification and fieldwork days, with an audit event
        naming the days and which were entered."""
        with self._session() as session, session.begin():
            session.execute(
                update(InspectionRow)
                .where(InspectionRow.id == inspection_id)
                .values(
                    notification_date=notification,
                    fieldwork_start=fieldwork_start,
                    entered_days=_entered_text(entered),
                )
            )
            _audit(
                session,
                now,
                actor,
                "inspection_days_set",
                inspection_id,
                detail={
                    "notification": notification.isoformat() if notification else None,
                    "fieldwork_start": fieldwork_start.isoformat() if fieldwork_start else None,
                    "entered": sorted(entered),
                },
            )

    def set_inspection_state(
        self, inspection_id: str, state: InspectionState, reason: str, actor: str, now: datetime
    ) -> None:
        """Close, withdraw or reopen an inspection, with an audit event."""
        with self._session() as session, session.begin():
            session.execute(
                update(InspectionRow)
                .where(InspectionRow.id == inspection_id)
                .values(state=state.value)
            )
            if state is InspectionState.withdrawn:
                session.merge(
                    InspectionEventRow(
                        inspection_id=inspection_id,
                        event="withdrawn",
                        on_date=now.astimezone(LONDON).date(),
                        set_by=actor,
                        set_at=now,
                    )
                )
            _audit(
                session,
                now,
                actor,
                f"inspection_{state.value}",
                inspection_id,
            )

    # contacts and the mail outbox -----------------------------------------------------

    def set_contacts(self, inspection_id: str, contacts: Contacts) -> None:
        """Replace who hears about an inspection."""
        with self._session() as session, session.begin():
            session.execute(delete(ContactRow).where(ContactRow.inspection_id == inspection_id))
            session.add_all(
                ContactRow(
                    inspection_id=inspection_id, role="lead_inspector", agency="", email=email
                )
                for email in dict.fromkeys(contacts.lead_inspector)
            )
            session.add_all(
                ContactRow(inspection_id=inspection_id, role="agency", agency=agency, email=email)
                for agency, emails in contacts.agencies.items()
                for email in dict.fromkeys(emails)
            )

    def contacts(self, inspection_id: str) -> Contacts:
        """Who hears about an inspection."""
        with self._session() as session:
            rows = session.scalars(
                select(ContactRow)
                .where(ContactRow.inspection_id == inspection_id)
                .order_by(ContactRow.role, ContactRow.agency, ContactRow.email)
            ).all()
        agencies: dict[str, tuple[str, ...]] = {}
        for row in rows:
            if row.role == "agency":
                agencies[row.agency] = (*agencies.get(row.agency, ()), row.email)
        return Contacts(
            lead_inspector=tuple(r.email for r in rows if r.role == "lead_inspector"),
            agencies=agencies,
        )

    def enqueue_messages(self, messages: Sequence[PlannedMessage], now: datetime) -> int:
        """Record planned messages in the outbox unless their key is there already.

        The key is the primary key, so concurrent chase runs cannot both record one message.
        Returns how many were new.
        """
        added = 0
        for message in messages:
            try:
                with self._session() as session, session.begin():
                    if session.get(OutboxRow, message.key) is not None:
                        continue
                    session.add(
                        OutboxRow(
                            key=message.key,
                            inspection_id=message.inspection_id,
                            agency=message.agency,
                            deadline=message.deadline,
                            kind=message.kind.value,
                            recipients=list(message.recipients),
                            subject=message.subject,
                            body=message.body,
                            status="pending",
                            attempts=0,
                            last_error="",
                            created_at=now,
                        )
                    )
                added += 1
            except IntegrityError:
                continue  # another run recorded it first
        return added

    def claim_outbox(
        self, claim_token: str, now: datetime, stale_after: timedelta, limit: int = 100
    ) -> list[OutboxMessage]:
        """Claim pending messages (and ones a crashed run left claimed) for sending."""
        with self._session() as session:
            keys = session.scalars(
                select(OutboxRow.key)
                .where(
                    or_(
                        OutboxRow.status == "pending",
                        (OutboxRow.status == "sending")
                        & (OutboxRow.claimed_at < now - stale_after),
                    )
                )
                .order_by(OutboxRow.created_at)
                .limit(limit)
            ).all()
        claimed = []
        for key in keys:
            with self._session() as session, session.begin():
                result = session.execute(
                    update(OutboxRow)
                    .where(
                        OutboxRow.key == key,
                        or_(
                            OutboxRow.status == "pending",
                            (OutboxRow.status == "sending")
                            & (OutboxRow.claimed_at < now - stale_after),
                        ),
                    )
                    .values(
                        status="sending",
                        claim_token=claim_token,
                        claimed_at=now,
                        attempts=OutboxRow.attempts + 1,
                    )
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    row = session.get(OutboxRow, key)
                    if row is not None:
                        claimed.append(OutboxMessage.model_validate(row, from_attributes=True))
        return claimed

    def finish_outbox(
        self, key: str, claim_token: str, now: datetime, error: str | None = None
    ) -> None:
        """Mark a claimed message sent, or (with `error`) pending again for a later run."""
        values: dict[str, Any] = (
            {"status": "sent", "sent_at": now, "last_error": ""}
            if error is None
            else {"status": "pending", "last_error": error[:2000]}
        )
        with self._session() as session, session.begin():
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.key == key, OutboxRow.claim_token == claim_token)
                .values(**values)
            )

    def outbox(self, inspection_id: str) -> list[OutboxMessage]:
        """Every message recorded for an inspection, oldest first."""
        with self._session() as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.inspection_id == inspection_id)
                .order_by(OutboxRow.created_at, OutboxRow.key)
            ).all()
            return [OutboxMessage.model_validate(row, from_attributes=True) for row in rows]

    # documents ---------------------------------------------------------------------------

    def add_document(self, document: Document, actor: str, *, held_by: Sequence[str] = ()) -> None:
        """Record a newly received document, with an audit event; one rejected at intake
        (its upload scan found a signature) with its rejection's event too, naming the
        legal holds `held_by` that keep its bytes in quarantine."""
        with self._session() as session, session.begin():
            session.add(_row_from_document(document))
            _audit(
                session,
                document.received_at,
                actor,
                "document_received",
                document.inspection_id,
                document.id,
                {
                    "item": document.item_number,
                    "sha256": document.sha256_received,
                    "size": document.size_bytes,
                    **({"health_information": True} if document.health_information else {}),
                    **(
                        {"upload_scan": document.upload_scan_verdict.value}
                        if document.upload_scan_verdict
                        else {}
                    ),
                },
            )
            if document.status is DocumentStatus.rejected:
                _audit(
                    session,
                    document.decided_at or document.received_at,
                    UPLOAD_SCAN_ACTOR,
                    "document_rejected",
                    document.inspection_id,
                    document.id,
                    {
                        "reasons": [r.value for r in document.reasons],
                        "scan_signatures": document.scan_signatures,
                        "quarantine_kept_by_holds": list(held_by),
                    },
                )

    def get_document(self, document_id: str) -> Document | None:
        """The document with this id, or None."""
        with self._session() as session:
            row = session.get(DocumentRow, document_id)
            return None if row is None else _document_from_row(row)

    def get_documents(self, document_ids: Collection[str]) -> list[Document]:
        """The documents with these ids that exist, in one query (`WHERE id IN (...)`), in
        no particular order."""
        if not document_ids:
            return []
        with self._session() as session:
            rows = session.scalars(
                select(DocumentRow).where(DocumentRow.id.in_(list(document_ids)))
            ).all()
            return [_document_from_row(row) for row in rows]

    def inspection_documents(
        self,
        inspection_id: str,
        *,
        status: DocumentStatus | None = None,
        agency: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Document]:
        """The inspection's documents (of one status and one agency, if given) in the order
        they were received, starting after the document `after` (its id), at most `limit`."""
        query = (
            select(DocumentRow)
            .where(DocumentRow.inspection_id == inspection_id)
            .order_by(DocumentRow.received_at, DocumentRow.id)
        )
        if status is not None:
            query = query.where(DocumentRow.status == status.value)
        if agency is not None:
            query = query.where(DocumentRow.agency == agency)
        if after is not None:
            mark = select(DocumentRow.received_at).where(DocumentRow.id == after).scalar_subquery()
            query = query.where(
                or_(
                    DocumentRow.received_at > mark,
                    and_(DocumentRow.received_at == mark, DocumentRow.id > after),
                )
            )
        if limit is not None:
            query = query.limit(limit)
        with self._session() as session:
            return [_document_from_row(row) for row in session.scalars(query).all()]

    def waiting_documents(self, now: datetime, limit: int) -> list[WaitingDocument]:
        """Up to `limit` documents waiting for a batch, oldest first: received, or failed
        with their retry time passed, and none whose deletion has begun."""
        with self._session() as session:
            rows = session.execute(
                select(DocumentRow.id, DocumentRow.size_bytes, DocumentRow.received_at)
                .where(
                    or_(
                        DocumentRow.status == DocumentStatus.received.value,
                        (DocumentRow.status == DocumentStatus.failed.value)
                        & (DocumentRow.next_attempt_at <= now),
                    ),
                    # as claim_documents: one whose deletion has begun is never claimed
                    DocumentRow.deletion_started_at.is_(None),
                )
                .order_by(DocumentRow.received_at, DocumentRow.id)
                .limit(limit)
            ).all()
        return [
            WaitingDocument(id=document_id, size_bytes=size or 0, received_at=utc_aware(at))
            for document_id, size, at in rows
        ]

    def claim_next_batch(
        self, claim_token: str, now: datetime, max_documents: int, max_bytes: int
    ) -> list[Document]:
        """Claim up to `max_documents` (and about `max_bytes`) waiting documents, oldest first.

        Waiting means received, or failed with its retry time passed. The batch always takes
        at least one document, however large.
        """
        chosen = choose_batch(self.waiting_documents(now, max_documents), max_documents, max_bytes)
        return self.claim_documents([d.id for d in chosen], claim_token, now)

    def claim_documents(
        self, document_ids: Iterable[str], claim_token: str, now: datetime
    ) -> list[Document]:
        """Move each document to processing under `claim_token`, if nobody else holds it;
        the documents now held under it, in the order asked, each once.

        A document already processing under the same token stays claimed (a retried flow
        run re-claims its own batch) and is not counted as another attempt; final
        documents, those another token holds and those whose deletion has started are
        never claimed.
        """
        ids = list(dict.fromkeys(document_ids))
        if not ids:
            return []
        # Two statements for the batch, not two a document: the claim's UPDATE leaves every
        # document it took processing under `claim_token`, so one read finds those it took
        # and those a retried run already held.
        with self._session() as session, session.begin():
            session.execute(
                update(DocumentRow)
                .where(
                    DocumentRow.id.in_(ids),
                    DocumentRow.status.in_(_CLAIMABLE),
                    DocumentRow.deletion_started_at.is_(None),
                )
                .values(
                    status=DocumentStatus.processing.value,
                    claim_token=claim_token,
                    claimed_at=now,
                    attempts=DocumentRow.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            held = {
                row.id: _document_from_row(row)
                for row in session.scalars(
                    select(DocumentRow).where(
                        DocumentRow.id.in_(ids),
                        DocumentRow.status == DocumentStatus.processing.value,
                        DocumentRow.claim_token == claim_token,
                    )
                )
            }
        return [held[document_id] for document_id in ids if document_id in held]

    def record_outcome(
        self,
        document_id: str,
        claim_token: str,
        now: datetime,
        *,
        status: DocumentStatus,
        reasons: Sequence[ReasonCode] = (),
        warnings: Sequence[WarningCode] = (),
        detail: str = "",
        file_type: str | None = None,
        mime_type: str | None = None,
        sha256_stored: str | None = None,
        area: Area | None = None,
        next_attempt_at: datetime | None = None,
        listed_children: Sequence[ListedChild] = (),
        scanned: ScannedWith | None = None,
    ) -> bool:
        """Write a step's outcome if the document is still processing under `claim_token`,
        and, for an accepted child-level list, the children it names, in one transaction,
        with the signatures that judged it (`scanned`; None clears them: not scanned).

        Returns False (and writes nothing) if the claim was lost, e.g. to the reconciler.
        """
        outcome = OutcomeToRecord(
            document_id=document_id,
            status=status,
            reasons=reasons,
            warnings=warnings,
            detail=detail,
            file_type=file_type,
            mime_type=mime_type,
            sha256_stored=sha256_stored,
            area=area,
            next_attempt_at=next_attempt_at,
            listed_children=listed_children,
            scanned=scanned,
        )
        (written,) = self.record_outcomes(claim_token, now, [outcome])
        return written

    def record_outcomes(
        self, claim_token: str, now: datetime, outcomes: Sequence[OutcomeToRecord]
    ) -> list[bool]:
        """Write a batch's outcomes, each where the document is still processing under
        `claim_token` (with its listed children and audit event), in one transaction:
        every one whose claim holds, or none. Whether each was written, in the order given.

        The outcomes are written grouped by inspection (each inspection's in the order
        given), then their audit events appended together (`audit_log.append_many`: each
        chain locked once, in the order of the chains' names), so batches lock the audit
        chains they share in one order: no batch holds one chain while waiting for another
        that a second batch holds.
        """
        written = [False] * len(outcomes)
        if not outcomes:
            return written
        with self._session() as session, session.begin():
            rows = session.execute(
                select(DocumentRow.id, DocumentRow.inspection_id).where(
                    DocumentRow.id.in_([o.document_id for o in outcomes])
                )
            )
            inspections: dict[str, str] = {row.id: row.inspection_id for row in rows}
            order = sorted(
                range(len(outcomes)),
                key=lambda i: inspections.get(outcomes[i].document_id) or "",
            )
            # The outcomes' statements run on the connection, past the session: nothing the
            # session holds may wait behind them.
            session.flush()
            events: list[audit_log.AuditEvent] = []
            for i in order:
                inspection_id = inspections.get(outcomes[i].document_id)
                event = _write_outcome(session, claim_token, now, outcomes[i], inspection_id)
                if event is not None:
                    written[i] = True
                    events.append(event)
            audit_log.append_many(session, now, events)
        return written

    def renew_claim(self, claim_token: str, now: datetime) -> int:
        """Show that the documents processing under `claim_token` are still being worked
        on (their lease counts from `now`); how many were renewed."""
        with self._session() as session, session.begin():
            result = session.execute(
                update(DocumentRow)
                .where(
                    DocumentRow.claim_token == claim_token,
                    DocumentRow.status == DocumentStatus.processing.value,
                )
                .values(claimed_at=now)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def release_stale(self, now: datetime, lease_seconds: float) -> list[str]:
        """Return documents stuck in processing longer than the lease to received, for a re-run.

        Prefect does not retry a crashed flow run; this is how its documents are not lost.
        """
        cutoff = now - timedelta(seconds=lease_seconds)
        return self._release(
            now,
            "reconciler",
            DocumentRow.status == DocumentStatus.processing.value,
            DocumentRow.claimed_at < cutoff,
        )

    def release_claims(self, claim_prefix: str, now: datetime) -> list[str]:
        """Return to received every document in processing under a claim token that starts
        with `claim_prefix`: a restarted worker's claims from before it died, at once rather
        than after the lease."""
        return self._release(
            now,
            "worker_restart",
            DocumentRow.status == DocumentStatus.processing.value,
            DocumentRow.claim_token.startswith(claim_prefix, autoescape=True),
        )

    def _release(self, now: datetime, actor: str, *conditions: Any) -> list[str]:
        with self._session() as session, session.begin():
            held = session.execute(
                select(DocumentRow.id, DocumentRow.inspection_id).where(*conditions)
            ).all()
            released = []
            for document_id, inspection_id in held:
                result = session.execute(
                    update(DocumentRow)
                    .where(DocumentRow.id == document_id, *conditions)
                    .values(status=DocumentStatus.received.value, claim_token=None, updated_at=now)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    released.append(document_id)
                    _audit(session, now, actor, "document_released", inspection_id, document_id)
        return released

    def record_audit_verified(
        self, actor: str, now: datetime, *, ok: bool, breaks: int, entries: int
    ) -> None:
        """Record in the portal chain that `actor` verified the audit log, and the outcome
        (counts only)."""
        with self._session() as session, session.begin():
            detail = {"ok": ok, "breaks": breaks, "entries": entries}
            _audit(session, now, actor, "audit_log_verified", detail=detail)

    def request_reprocess(self, document_id: str, now: datetime, actor: str) -> bool:
        """Put a failed document back in the queue now. Returns False unless it was failed."""
        with self._session() as session, session.begin():
            result = session.execute(
                update(DocumentRow)
                .where(
                    DocumentRow.id == document_id,
                    DocumentRow.status == DocumentStatus.failed.value,
                    DocumentRow.deletion_started_at.is_(None),
                )
                .values(status=DocumentStatus.received.value, next_attempt_at=None, updated_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            inspection_id = session.scalar(
                select(DocumentRow.inspection_id).where(DocumentRow.id == document_id)
            )
            _audit(session, now, actor, "document_reprocess_requested", inspection_id, document_id)
        return True

    def withdraw_document(
        self,
        document_id: str,
        now: datetime,
        *,
        reason: ReasonCode,
        detail: str,
        signature: str,
        scanned_with: str,
        actor: str,
    ) -> bool:
        """Withdraw an accepted document whose content retention has not deleted: status
        `withdrawn`, the reason and detail, decided now, with an audit event (the reason,
        the signature, the scanner version and the area it was read from: no filename),
        in one transaction. False (nothing written) unless it was accepted and not deleted."""
        with self._session() as session, session.begin():
            result = session.execute(
                update(DocumentRow)
                .where(
                    DocumentRow.id == document_id,
                    DocumentRow.status == DocumentStatus.accepted.value,
                    DocumentRow.deleted_at.is_(None),
                )
                .values(
                    status=DocumentStatus.withdrawn.value,
                    reasons=[reason.value],
                    detail=detail[:2000],
                    updated_at=now,
                    decided_at=now,
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            inspection_id, area = session.execute(
                select(DocumentRow.inspection_id, DocumentRow.area).where(
                    DocumentRow.id == document_id
                )
            ).one()
            _audit(
                session,
                now,
                actor,
                "document_withdrawn",
                inspection_id,
                document_id,
                {
                    "reasons": [reason.value],
                    "signature": signature,
                    "scanned_with": scanned_with,
                    "area": area,
                },
            )
        return True

    def settle_withdrawal(
        self,
        document_id: str,
        now: datetime,
        *,
        kept_sha256: str | None,
        hold_ids: Sequence[str],
        actor: str,
    ) -> bool:
        """Record that a withdrawn document's bytes have left the content areas (area
        quarantine): kept there under the holds `hold_ids` (with `kept_sha256`, the
        sha256 of what was kept), or, with no hold, deleted; with an audit event, in one
        transaction. False (nothing written) unless it was withdrawn and not yet settled."""
        with self._session() as session, session.begin():
            result = session.execute(
                update(DocumentRow)
                .where(
                    DocumentRow.id == document_id,
                    DocumentRow.status == DocumentStatus.withdrawn.value,
                    DocumentRow.area != Area.quarantine.value,
                )
                .values(area=Area.quarantine.value, updated_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            inspection_id = session.scalar(
                select(DocumentRow.inspection_id).where(DocumentRow.id == document_id)
            )
            _audit(
                session,
                now,
                actor,
                "withdrawn_content_quarantined" if hold_ids else "withdrawn_content_deleted",
                inspection_id,
                document_id,
                {
                    "areas_emptied": [a.value for a in CONTENT_AREAS],
                    "hold_ids": list(hold_ids),
                    "kept_sha256": kept_sha256,
                },
            )
        return True

    def waiting_for_pipeline(self) -> int:
        """How many documents are received or processing (one count query)."""
        query = (
            select(func.count())
            .select_from(DocumentRow)
            .where(
                DocumentRow.status.in_(
                    [DocumentStatus.received.value, DocumentStatus.processing.value]
                )
            )
        )
        with self._session() as session:
            return int(session.execute(query).scalar_one())

    def rescan_candidates(self, engine: str, version: str) -> list[RescanCandidate]:
        """Every held document (accepted, its content neither deleted nor being deleted)
        whose verdict was reached under another engine or signature version than these, or
        under none recorded; with its inspection's creation time, in no particular order."""
        query = (
            select(
                DocumentRow.id,
                DocumentRow.inspection_id,
                InspectionRow.created_at,
                DocumentRow.decided_at,
                DocumentRow.area,
                DocumentRow.sha256_stored,
                DocumentRow.scan_engine,
                DocumentRow.scan_signatures,
            )
            .join(InspectionRow, InspectionRow.id == DocumentRow.inspection_id)
            .where(
                DocumentRow.status == DocumentStatus.accepted.value,
                DocumentRow.deleted_at.is_(None),
                DocumentRow.deletion_started_at.is_(None),
                or_(
                    DocumentRow.scan_signatures.is_(None),
                    DocumentRow.scan_signatures != version,
                    DocumentRow.scan_engine.is_(None),
                    DocumentRow.scan_engine != engine,
                ),
            )
        )
        with self._session() as session:
            rows = session.execute(query).all()
        return [
            RescanCandidate(
                document_id=row[0],
                inspection_id=row[1],
                inspection_created_at=utc_aware(row[2]),
                decided_at=utc_aware(row[3]) if row[3] else None,
                area=Area(row[4]),
                sha256=row[5],
                scan_engine=row[6],
                scan_signatures=row[7],
            )
            for row in rows
        ]

    def scan_verdicts(
        self, digests: Iterable[str], engine: str, version: str
    ) -> dict[str, KnownVerdict]:
        """The verdicts kept under this engine and signature version for these digests
        (sha256 -> verdict); digests never scanned under them are absent."""
        wanted = sorted(set(digests))
        found: dict[str, KnownVerdict] = {}
        with self._session() as session:
            for start in range(0, len(wanted), 500):  # within every database's bound
                rows = session.scalars(
                    select(ScanVerdictRow).where(
                        ScanVerdictRow.sha256.in_(wanted[start : start + 500]),
                        ScanVerdictRow.scan_engine == engine,
                        ScanVerdictRow.scan_signatures == version,
                    )
                )
                found.update(
                    (
                        r.sha256,
                        KnownVerdict(verdict=RescanVerdict(r.verdict), signature=r.signature),
                    )
                    for r in rows
                )
        return found

    def record_rescan(
        self,
        verdicts: Mapping[str, KnownVerdict],
        clean_documents: Sequence[str],
        scanned: ScannedWith,
        actor: str,
    ) -> int:
        """Record one rescan batch in one transaction: the verdicts reached for these
        digests under `scanned`'s signatures (kept once: a verdict already kept stays), and
        each of `clean_documents` as judged clean by them (its scan_* columns), if it is
        still accepted and not deleted; with one event in the portal's audit chain (counts
        and the version only). How many documents were recorded."""
        signatures = scanned.signatures
        with self._session() as session, session.begin():
            kept = (
                set(
                    session.scalars(
                        select(ScanVerdictRow.sha256).where(
                            ScanVerdictRow.sha256.in_(list(verdicts)),
                            ScanVerdictRow.scan_engine == signatures.engine,
                            ScanVerdictRow.scan_signatures == signatures.version,
                        )
                    )
                )
                if verdicts
                else set()
            )
            session.add_all(
                ScanVerdictRow(
                    sha256=digest,
                    scan_engine=signatures.engine,
                    scan_signatures=signatures.version,
                    verdict=verdict.verdict.value,
                    signature=verdict.signature[:500],
                    scanned_at=scanned.at,
                )
                for digest, verdict in verdicts.items()
                if digest not in kept
            )
            recorded = 0
            for document_id in clean_documents:
                result = session.execute(
                    update(DocumentRow)
                    .where(
                        DocumentRow.id == document_id,
                        DocumentRow.status == DocumentStatus.accepted.value,
                        DocumentRow.deleted_at.is_(None),
                    )
                    .values(
                        scan_engine=signatures.engine,
                        scan_signatures=signatures.version,
                        scan_signatures_date=signatures.database_date,
                        scanned_at=scanned.at,
                    )
                )
                recorded += int(result.rowcount)  # type: ignore[attr-defined]
            if recorded or verdicts:
                _audit(
                    session,
                    scanned.at,
                    actor,
                    "documents_rescanned",
                    detail={
                        "scan_signatures": signatures.version,
                        "scan_engine": signatures.engine,
                        "documents_clean": recorded,
                        "verdicts_kept": len(verdicts) - len(kept),
                    },
                )
        return recorded

    def unsettled_withdrawals(self) -> list[str]:
        """Documents withdrawn whose bytes are still recorded in a content area: a
        withdrawal that stopped before it settled them (reads are refused meanwhile)."""
        with self._session() as session:
            return list(
                session.scalars(
                    select(DocumentRow.id)
                    .where(
                        DocumentRow.status == DocumentStatus.withdrawn.value,
                        DocumentRow.area.in_([a.value for a in CONTENT_AREAS]),
                        DocumentRow.deleted_at.is_(None),
                    )
                    .order_by(DocumentRow.id)
                )
            )

    def audit_events(self, document_id: str) -> list[dict[str, Any]]:
        """The audit events of one document, oldest first."""
        with self._session() as session:
            rows = session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.document_id == document_id)
                .order_by(AuditEventRow.id)
            ).all()
            return [
                {"at": r.at, "actor": r.actor, "action": r.action, "detail": r.detail} for r in rows
            ]


def _on_site_row(session: Session, inspection_id: str, child_id: str, agency: str) -> OnSiteSlotRow:
    """The slot's row, added to the session if it had none."""
    row = session.get(OnSiteSlotRow, (inspection_id, child_id, agency))
    if row is None:
        row = OnSiteSlotRow(inspection_id=inspection_id, child_id=child_id, agency=agency)
        session.add(row)
    return row


def _on_site_record(row: OnSiteSlotRow) -> OnSiteRecord:
    def aware(moment: datetime | None) -> datetime | None:
        return utc_aware(moment) if moment is not None else None

    return OnSiteRecord(
        child_id=row.child_id,
        agency=row.agency,
        marked_by=row.marked_by,
        marked_at=aware(row.marked_at),
        where=row.arrangement,
        day=row.arranged_day,
        arranged_by=row.arranged_by,
        arranged_at=aware(row.arranged_at),
        seen_by=row.seen_by,
        seen_at=aware(row.seen_at),
    )


def _entered_text(entered: frozenset[EnteredDay]) -> str:
    return ",".join(sorted(entered))


# An outcome's two statements, built once and run on the session's connection: built anew
# through the ORM for each document (and an ORM object for each listed child), they were
# a fifth of the worker's own Python in a burst (py-spy, 300 documents).
_DOCUMENTS = cast(Table, DocumentRow.__table__)
_OUTCOME_COLUMNS = (
    "status",
    "reasons",
    "warnings",
    "detail",
    "file_type",
    "mime_type",
    "sha256_stored",
    "next_attempt_at",
    "updated_at",
    "decided_at",
    "scan_engine",
    "scan_signatures",
    "scan_signatures_date",
    "scanned_at",
)
_OUTCOME_KEYS = frozenset(_OUTCOME_COLUMNS)
_WRITE_OUTCOME = (
    update(_DOCUMENTS)
    .where(
        _DOCUMENTS.c.id == bindparam("b_id"),
        _DOCUMENTS.c.status == DocumentStatus.processing.value,
        _DOCUMENTS.c.claim_token == bindparam("b_token"),
    )
    .values(
        {name: bindparam(f"b_{name}") for name in _OUTCOME_COLUMNS}
        | {"area": func.coalesce(bindparam("b_area", type_=String), _DOCUMENTS.c.area)}
    )
)
_INSERT_LISTED = insert(cast(Table, ListedChildRow.__table__))


def _write_outcome(
    session: Session,
    claim_token: str,
    now: datetime,
    outcome: OutcomeToRecord,
    inspection_id: str | None,
) -> audit_log.AuditEvent | None:
    """Write one outcome in the session's transaction if the document is still processing
    under `claim_token`, and return the audit event that records it (for the caller to
    append with the batch's); None (nothing written) if the claim was lost."""
    status, scanned = outcome.status, outcome.scanned
    values: dict[str, Any] = {
        "status": status.value,
        "reasons": [r.value for r in outcome.reasons],
        "warnings": [w.value for w in outcome.warnings],
        "detail": outcome.detail[:2000],
        "file_type": outcome.file_type,
        "mime_type": outcome.mime_type,
        "sha256_stored": outcome.sha256_stored,
        "next_attempt_at": outcome.next_attempt_at,
        "updated_at": now,
        "decided_at": now if status.is_final else None,
        "scan_engine": scanned.signatures.engine if scanned else None,
        "scan_signatures": scanned.signatures.version if scanned else None,
        "scan_signatures_date": scanned.signatures.database_date if scanned else None,
        "scanned_at": scanned.at if scanned else None,
    }
    if values.keys() != _OUTCOME_KEYS:  # a value the statement has no column for is lost
        raise ValueError(f"outcome values {sorted(values)} are not {sorted(_OUTCOME_KEYS)}")
    connection = session.connection()
    result = connection.execute(
        _WRITE_OUTCOME,
        {f"b_{name}": value for name, value in values.items()}
        | {
            "b_id": outcome.document_id,
            "b_token": claim_token,
            "b_area": outcome.area.value if outcome.area is not None else None,
        },
    )
    if result.rowcount != 1:
        return None
    listed = outcome.listed_children
    if status is DocumentStatus.accepted and listed:
        connection.execute(
            _INSERT_LISTED,
            [
                {
                    "document_id": outcome.document_id,
                    "child_key": child.child_key,
                    "inspection_id": inspection_id,
                    "row": child.row,
                    "mix_group": child.group,
                }
                for child in listed
            ],
        )
    return audit_log.AuditEvent(
        "pipeline",
        f"document_{status.value}",
        inspection_id,
        outcome.document_id,
        {
            "reasons": values["reasons"],
            "warnings": values["warnings"],
            "sha256_stored": outcome.sha256_stored,
        }
        | ({"scan_signatures": values["scan_signatures"]} if scanned else {})
        | ({"children_listed": len(listed)} if listed and status is DocumentStatus.accepted else {})
        | (
            {"quarantine_kept_by_holds": list(outcome.quarantine_kept_by_holds)}
            if outcome.quarantine_kept_by_holds
            else {}
        ),
    )


def _audit(
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    inspection_id: str | None = None,
    document_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an event to the inspection's audit chain (or the portal chain), in the same
    transaction as the change it records.

    An event of a document names its inspection. The detail holds only ids, codes, counts
    and dates, never free text (reasons, notes, filenames) that could hold a name: events
    are hash-chained, so nothing can be reduced in them later.
    """
    audit_log.append(session, at, actor, action, inspection_id, document_id, detail or {})


def _row_from_document(document: Document) -> DocumentRow:
    """A new documents row holding every field of `document`, its codes as text."""
    # A new row is never a tombstone: deleted_at is set only by retention.
    fields = document.model_dump(exclude={"deleted_at"})
    return DocumentRow(**{name: _text(value) for name, value in fields.items()})


def _text(value: Any) -> Any:
    """Codes (enums) as their text, tuples of codes as lists of text; anything else as is."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return [_text(item) for item in value]
    return value


_TIMES = (
    "received_at",
    "updated_at",
    "decided_at",
    "deleted_at",
    "scan_signatures_date",
    "scanned_at",
    "upload_scan_signatures_date",
    "upload_scanned_at",
)


def _document_from_row(row: DocumentRow) -> Document:
    """The Document a documents row holds, its times in UTC (SQLite drops their zone)."""
    document = Document.model_validate(row, from_attributes=True)
    naive = {
        name: utc_aware(t) for name in _TIMES if (t := getattr(document, name)) and not t.tzinfo
    }
    return document.model_copy(update=naive) if naive else document
