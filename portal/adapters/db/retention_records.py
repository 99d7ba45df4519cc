"""What retention keeps in the metadata database: events, legal holds, the name register,
runs and their deletion records, and the tombstoning of deleted documents."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from portal.adapters.db import audit_log
from portal.adapters.db.engine import Tables
from portal.adapters.db.repository import _audit, _document_from_row
from portal.adapters.db.tables import (
    Base,
    ConcernRow,
    DeadlineOverrideRow,
    DocumentRow,
    ExtraItemRow,
    InspectionEventRow,
    InspectionRow,
    LegalHoldRow,
    ListedChildRow,
    NameRegisterRow,
    OnSiteSlotRow,
    OutboxRow,
    RetentionEntryRow,
    RetentionRunRow,
)
from portal.domain.after_fieldwork import LetterStep
from portal.domain.audit_chain import CHAIN_DELETED
from portal.domain.documents import Document, DocumentStatus
from portal.domain.moments import utc_aware
from portal.domain.retention import (
    LegalHold,
    NameEntry,
    RetentionEntry,
    RetentionEvent,
    RetentionRun,
    RunInProgress,
    initials_of,
    neutral_filename,
)
from portal.domain.retention import reduce_names as reduce_text

_SETTLED = (
    DocumentStatus.accepted.value,
    DocumentStatus.rejected.value,
    DocumentStatus.failed.value,
    DocumentStatus.withdrawn.value,
)
"""Documents no pipeline is working on: the only ones retention may mark for deletion."""


class RetentionRecords(Tables):
    """Retention's tables, beside SqlRepository on the same engine."""

    # events --------------------------------------------------------------------------

    def events(self, inspection_id: str) -> dict[RetentionEvent, date]:
        """The retention events recorded for an inspection."""
        with self._session() as session:
            rows = session.scalars(
                select(InspectionEventRow).where(
                    InspectionEventRow.inspection_id == inspection_id,
                    # The table also keeps the letter's other days (see letter_days).
                    InspectionEventRow.event.in_([e.value for e in RetentionEvent]),
                )
            ).all()
            return {RetentionEvent(r.event): r.on_date for r in rows}

    def letter_days(self, inspection_id: str) -> dict[LetterStep, date]:
        """The days recorded for the inspection's letter (its publication is the retention
        event of the same name)."""
        with self._session() as session:
            rows = session.scalars(
                select(InspectionEventRow).where(
                    InspectionEventRow.inspection_id == inspection_id,
                    InspectionEventRow.event.in_([s.value for s in LetterStep]),
                )
            ).all()
            return {LetterStep(r.event): r.on_date for r in rows}

    def set_letter_day(
        self, inspection_id: str, step: LetterStep, on: date, actor: str, now: datetime
    ) -> None:
        """Record (or correct) the day of a step of the letter, with an audit event."""
        self.set_letter_days(inspection_id, {step: on}, actor, now)

    def set_letter_days(
        self, inspection_id: str, days: Mapping[LetterStep, date], actor: str, now: datetime
    ) -> None:
        """Record (or correct) the days of several steps of the letter in one transaction
        (all or none), each with its audit event; the letter published is retention's event
        of that name."""
        with self._session() as session, session.begin():
            for step, on in days.items():
                audit = (
                    "retention_event_recorded"
                    if step is LetterStep.letter_published
                    else "letter_day_recorded"
                )
                self._set_day(session, inspection_id, step.value, on, actor, now, audit)

    def set_event(
        self, inspection_id: str, event: RetentionEvent, on: date, actor: str, now: datetime
    ) -> None:
        """Record (or correct) when an event happened, with an audit event."""
        with self._session() as session, session.begin():
            self._set_day(
                session, inspection_id, event.value, on, actor, now, "retention_event_recorded"
            )

    @staticmethod
    def _set_day(
        session: Session,
        inspection_id: str,
        event: str,
        on: date,
        actor: str,
        now: datetime,
        audit: str,
    ) -> None:
        row = session.get(InspectionEventRow, (inspection_id, event))
        if row is None:
            session.add(
                InspectionEventRow(
                    inspection_id=inspection_id,
                    event=event,
                    on_date=on,
                    set_by=actor,
                    set_at=now,
                )
            )
        else:
            row.on_date, row.set_by, row.set_at = on, actor, now
        _audit(
            session,
            now,
            actor,
            audit,
            inspection_id,
            detail={"event": event, "on": on.isoformat()},
        )

    # legal holds ---------------------------------------------------------------------

    def place_hold(
        self,
        inspection_id: str,
        document_id: str | None,
        reason: str,
        actor: str,
        now: datetime,
    ) -> LegalHold:
        """Place a hold on an inspection or one of its documents."""
        hold = LegalHold(
            id=uuid.uuid4().hex,
            inspection_id=inspection_id,
            document_id=document_id,
            reason=reason,
            placed_by=actor,
            placed_at=now,
        )
        with self._session() as session, session.begin():
            session.add(LegalHoldRow(**hold.model_dump(exclude={"lift_reason"}), lift_reason=""))
            _audit(
                session,
                now,
                actor,
                "legal_hold_placed",
                inspection_id,
                document_id,
                {"hold_id": hold.id},
            )
        return hold

    def lift_hold(self, hold_id: str, reason: str, actor: str, now: datetime) -> LegalHold | None:
        """Lift an active hold; None if there is no such hold. Lifting twice changes nothing."""
        with self._session() as session, session.begin():
            row = session.get(LegalHoldRow, hold_id)
            if row is None:
                return None
            if row.lifted_at is None:
                row.lifted_at, row.lifted_by, row.lift_reason = now, actor, reason
                _audit(
                    session,
                    now,
                    actor,
                    "legal_hold_lifted",
                    row.inspection_id,
                    row.document_id,
                    {"hold_id": hold_id},
                )
            return LegalHold.model_validate(row)

    def get_hold(self, hold_id: str) -> LegalHold | None:
        """The hold with this id, or None."""
        with self._session() as session:
            row = session.get(LegalHoldRow, hold_id)
            return LegalHold.model_validate(row) if row else None

    def holds(self, inspection_id: str | None = None) -> list[LegalHold]:
        """Every hold (of one inspection, if given), active or lifted, oldest first."""
        query = select(LegalHoldRow).order_by(LegalHoldRow.placed_at, LegalHoldRow.id)
        if inspection_id is not None:
            query = query.where(LegalHoldRow.inspection_id == inspection_id)
        with self._session() as session:
            return [LegalHold.model_validate(r) for r in session.scalars(query).all()]

    # the name register ---------------------------------------------------------------

    def add_name(
        self,
        inspection_id: str,
        name: str,
        reference: str,
        note: str,
        actor: str,
        now: datetime,
    ) -> NameEntry:
        """Record a name in the inspection's register (the audit event does not hold it)."""
        entry = NameEntry(
            id=uuid.uuid4().hex,
            inspection_id=inspection_id,
            name=name,
            reference=reference,
            note=note,
            recorded_by=actor,
            recorded_at=now,
        )
        with self._session() as session, session.begin():
            session.add(NameRegisterRow(**entry.model_dump()))
            _audit(session, now, actor, "name_recorded", inspection_id, detail={"entry": entry.id})
        return entry

    def names(self, inspection_id: str) -> list[NameEntry]:
        """The inspection's register, in the order names were recorded."""
        with self._session() as session:
            rows = session.scalars(
                select(NameRegisterRow)
                .where(NameRegisterRow.inspection_id == inspection_id)
                .order_by(NameRegisterRow.recorded_at, NameRegisterRow.id)
            ).all()
            return [NameEntry.model_validate(r) for r in rows]

    def names_reduced_at(self, inspection_id: str) -> datetime | None:
        """When the inspection's names were reduced to initials, if they have been."""
        with self._session() as session:
            value = session.scalar(
                select(InspectionRow.names_reduced_at).where(InspectionRow.id == inspection_id)
            )
            return utc_aware(value) if value else None

    def reduce_names(
        self,
        inspection_id: str,
        names: Sequence[str],
        run_id: str,
        entry: RetentionEntry,
        now: datetime,
    ) -> RetentionEntry:
        """Rewrite every free-text field of the inspection with the names reduced to
        initials, give each document a neutral filename, leave only initials in the
        register, then look for the names anywhere in the database.

        Audit events are not rewritten (that would break their hash chain): they never
        hold free text in the first place.

        One transaction, with its deletion-record entry: either all of it happens or none.
        Returns the entry, whose proof says what changed and what the search found (table
        and column names and counts, never the names).
        """
        changed: dict[str, int] = {}

        def reduce(text: str) -> str:
            return reduce_text(text, names)

        def count(table: str, before: object, after: object) -> None:
            if before != after:
                changed[table] = changed.get(table, 0) + 1

        with self._session() as session, session.begin():
            for doc in session.scalars(
                select(DocumentRow).where(
                    DocumentRow.inspection_id == inspection_id, DocumentRow.deleted_at.is_(None)
                )
            ):
                new_name = neutral_filename(doc.id, doc.original_filename)
                new_detail = reduce(doc.detail)
                count("documents", (doc.original_filename, doc.detail), (new_name, new_detail))
                doc.original_filename, doc.detail = new_name, new_detail
            for name in session.scalars(
                select(NameRegisterRow).where(NameRegisterRow.inspection_id == inspection_id)
            ):
                count("name_register", name.name, initials_of(name.name))
                name.name, name.note = initials_of(name.name), reduce(name.note)
                name.reduced_at = name.reduced_at or now
            for override in session.scalars(
                select(DeadlineOverrideRow).where(
                    DeadlineOverrideRow.inspection_id == inspection_id
                )
            ):
                new_reason = reduce(override.reason)
                count("deadline_overrides", override.reason, new_reason)
                override.reason = new_reason
            for hold in session.scalars(
                select(LegalHoldRow).where(LegalHoldRow.inspection_id == inspection_id)
            ):
                new = (reduce(hold.reason), reduce(hold.lift_reason))
                count("legal_holds", (hold.reason, hold.lift_reason), new)
                hold.reason, hold.lift_reason = new
            for mail in session.scalars(
                select(OutboxRow).where(OutboxRow.inspection_id == inspection_id)
            ):
                new_mail = (reduce(mail.subject), reduce(mail.body), reduce(mail.last_error))
                count("outbox", (mail.subject, mail.body, mail.last_error), new_mail)
                mail.subject, mail.body, mail.last_error = new_mail
            for slot in session.scalars(
                select(OnSiteSlotRow).where(OnSiteSlotRow.inspection_id == inspection_id)
            ):
                new_where = reduce(slot.arrangement) if slot.arrangement else slot.arrangement
                count("on_site_slots", slot.arrangement, new_where)
                slot.arrangement = new_where
            for extra in session.scalars(
                select(ExtraItemRow).where(ExtraItemRow.inspection_id == inspection_id)
            ):
                new_title = reduce(extra.title)
                count("extra_items", extra.title, new_title)
                extra.title = new_title
            for concern in session.scalars(
                select(ConcernRow).where(ConcernRow.inspection_id == inspection_id)
            ):
                _reduce_concern(concern, reduce, count)
            session.execute(
                update(InspectionRow)
                .where(InspectionRow.id == inspection_id)
                .values(names_reduced_at=now)
            )
            session.flush()
            found = _find_text(session, names)
            final = entry.model_copy(
                update={
                    "count": len(names),
                    "proof": {
                        **entry.proof,
                        "values_changed": changed,
                        "names_found_in_database": sum(found.values()),
                        "found_in_columns": sorted(found),
                    },
                }
            )
            _add_entry(session, run_id, final, now)
            _audit(
                session,
                now,
                f"retention:{run_id}",
                "names_reduced",
                inspection_id,
                detail={"values_changed": dict(changed)},
            )
        return final

    def find_text(self, needles: Sequence[str]) -> dict[str, int]:
        """Where any of `needles` occurs (ignoring case) in any text or JSON column of any
        table: "table.column" -> number of rows. Empty when none is found anywhere."""
        with self._session() as session:
            return _find_text(session, needles)

    # documents -----------------------------------------------------------------------

    def documents_of(self, inspection_id: str) -> list[Document]:
        """The inspection's documents that still have their bytes (not tombstoned)."""
        with self._session() as session:
            rows = session.scalars(
                select(DocumentRow)
                .where(DocumentRow.inspection_id == inspection_id, DocumentRow.deleted_at.is_(None))
                .order_by(DocumentRow.received_at, DocumentRow.id)
            ).all()
            return [_document_from_row(r) for r in rows]

    def unfinished_deletions(self) -> dict[str, str]:
        """Documents a run began to delete but did not tombstone: document id -> run id."""
        with self._session() as session:
            rows = session.execute(
                select(DocumentRow.id, DocumentRow.deletion_run_id).where(
                    DocumentRow.deletion_started_at.is_not(None), DocumentRow.deleted_at.is_(None)
                )
            ).all()
            return {doc_id: run_id or "" for doc_id, run_id in rows}

    def mark_deletion_started(self, document_id: str, run_id: str, now: datetime) -> bool:
        """Say, before any byte goes, that this run is deleting the document. False (nothing
        marked) if the document is being processed or is already a tombstone."""
        with self._session() as session, session.begin():
            result = session.execute(
                update(DocumentRow)
                .where(
                    DocumentRow.id == document_id,
                    DocumentRow.deleted_at.is_(None),
                    DocumentRow.status.in_(_SETTLED),
                )
                .values(deletion_run_id=run_id, deletion_started_at=now)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def clear_deletion_mark(self, document_id: str) -> None:
        """Forget an unfinished deletion (the document is held or no longer due)."""
        with self._session() as session, session.begin():
            session.execute(
                update(DocumentRow)
                .where(DocumentRow.id == document_id, DocumentRow.deleted_at.is_(None))
                .values(deletion_run_id=None, deletion_started_at=None)
            )

    def tombstone(
        self, document_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> None:
        """Clear the document's content fields, delete the children it listed (an accepted
        child-level list's), keep the tombstone, and write the entry (with how many listed
        children went), in one transaction."""
        with self._session() as session, session.begin():
            listed = session.execute(
                delete(ListedChildRow).where(ListedChildRow.document_id == document_id)
            )
            gone = int(listed.rowcount or 0)  # type: ignore[attr-defined]
            if gone:
                entry = entry.model_copy(
                    update={"proof": entry.proof | {"listed_children_deleted": gone}}
                )
            session.execute(
                update(DocumentRow)
                .where(DocumentRow.id == document_id)
                .values(
                    original_filename="",
                    declared_content_type=None,
                    child_id=None,
                    document_date=None,
                    detail="",
                    deleted_at=now,
                    deletion_run_id=run_id,
                    retention_class=entry.retention_class,
                    retention_rule=entry.rule,
                    claim_token=None,
                    next_attempt_at=None,
                )
            )
            _add_entry(session, run_id, entry, now)
            _audit(
                session,
                now,
                f"retention:{run_id}",
                "document_deleted",
                entry.inspection_id,
                document_id,
                {"class": entry.retention_class, "rule": entry.rule},
            )

    # the outbox and the audit log ----------------------------------------------------

    def outbox_count(self, inspection_id: str) -> int:
        """How many messages the inspection has in the outbox."""
        with self._session() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(OutboxRow.inspection_id == inspection_id)
                )
                or 0
            )

    def audit_log_count(self, inspection_id: str) -> int:
        """How many audit events the inspection's chain holds (its own and its documents')."""
        with self._session() as session:
            return audit_log.chain_count(session, inspection_id)

    def delete_outbox(
        self, inspection_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> int:
        """Delete the inspection's outbox messages and write the entry, in one transaction."""
        with self._session() as session, session.begin():
            result = session.execute(
                delete(OutboxRow).where(OutboxRow.inspection_id == inspection_id)
            )
            gone = int(result.rowcount)  # type: ignore[attr-defined]
            _add_entry(session, run_id, entry.model_copy(update={"count": gone}), now)
        return gone

    def on_site_count(self, inspection_id: str) -> int:
        """How many case-record slots to be seen on site the inspection holds records of
        (marks, arrangements, what was seen)."""
        return self._count_rows(OnSiteSlotRow, inspection_id)

    def delete_on_site(
        self, inspection_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> int:
        """Delete what the inspection holds of its slots to be seen on site (the
        arrangements' text with them) and write the entry, in one transaction."""
        return self._delete_rows(OnSiteSlotRow, inspection_id, run_id, entry, now)

    def extra_items_count(self, inspection_id: str) -> int:
        """How many items the lead asked beyond the theme the inspection holds."""
        return self._count_rows(ExtraItemRow, inspection_id)

    def delete_extra_items(
        self, inspection_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> int:
        """Delete the items the lead asked beyond the theme (their titles with them) and
        write the entry, in one transaction."""
        return self._delete_rows(ExtraItemRow, inspection_id, run_id, entry, now)

    def concerns_count(self, inspection_id: str) -> int:
        """How many issues of concern the inspection holds."""
        return self._count_rows(ConcernRow, inspection_id)

    def delete_concerns(
        self, inspection_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> int:
        """Delete the inspection's issues of concern (the forms' text with them: case
        numbers, service, issues, evaluation, chief officer) and write the entry, in one
        transaction."""
        return self._delete_rows(ConcernRow, inspection_id, run_id, entry, now)

    def _count_rows(
        self, table: type[OnSiteSlotRow | ExtraItemRow | ConcernRow], inspection_id: str
    ) -> int:
        with self._session() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(table.inspection_id == inspection_id)
                )
                or 0
            )

    def _delete_rows(
        self,
        table: type[OnSiteSlotRow | ExtraItemRow | ConcernRow],
        inspection_id: str,
        run_id: str,
        entry: RetentionEntry,
        now: datetime,
    ) -> int:
        with self._session() as session, session.begin():
            result = session.execute(delete(table).where(table.inspection_id == inspection_id))
            gone = int(result.rowcount)  # type: ignore[attr-defined]
            _add_entry(session, run_id, entry.model_copy(update={"count": gone}), now)
        return gone

    def delete_audit_log(
        self, inspection_id: str, run_id: str, entry: RetentionEntry, now: datetime
    ) -> int:
        """Delete the inspection's audit chain (every seq of it: the events of the
        inspection and of its documents), record `audit_chain_deleted` in the portal chain
        so that verification knows the absence is lawful, and write the entry (with the id,
        seq and hash of the last event deleted), in one transaction."""
        with self._session() as session, session.begin():
            deleted = audit_log.delete_chain(session, inspection_id)
            count = deleted.count if deleted else 0
            proof = dict(entry.proof)
            if deleted is not None:
                _audit(
                    session,
                    now,
                    f"retention:{run_id}",
                    CHAIN_DELETED,
                    detail=deleted.model_dump(exclude={"recorded_by"}),
                )
                proof |= {
                    "last_event_id": deleted.last_event_id,
                    "last_seq": deleted.last_seq,
                    "last_entry_hash": deleted.last_entry_hash,
                    "chain_verified": deleted.verified,
                }
            _add_entry(
                session, run_id, entry.model_copy(update={"count": count, "proof": proof}), now
            )
        return count

    # runs ----------------------------------------------------------------------------

    def start_run(
        self,
        run_id: str,
        *,
        dry_run: bool,
        as_of: datetime,
        actor: str,
        policy_sha256: str,
        now: datetime,
        lease_seconds: float,
    ) -> tuple[str, ...]:
        """Begin a run. A deleting run takes over deleting runs that went silent for longer
        than the lease (marked interrupted, completed by this one) and returns their ids;
        it raises RunInProgress if one is still alive. Dry runs never conflict; any run
        marks dead dry runs interrupted."""
        with self._session() as session, session.begin():
            taken: list[str] = []
            running = session.scalars(
                select(RetentionRunRow).where(RetentionRunRow.status == "running").with_for_update()
            ).all()
            for row in running:
                silent = (now - utc_aware(row.heartbeat_at)).total_seconds()
                if silent >= lease_seconds and row.dry_run:
                    row.status = "interrupted"  # a dead preview: nothing to finish
                elif silent >= lease_seconds and not dry_run:
                    row.status, row.completed_by = "interrupted", run_id
                    taken.append(row.id)
                elif not dry_run and not row.dry_run:
                    raise RunInProgress(
                        f"retention run {row.id} is still running (last heard of "
                        f"{int(silent)} s ago); wait for it to finish"
                    )
            session.add(
                RetentionRunRow(
                    id=run_id,
                    dry_run=dry_run,
                    as_of=as_of,
                    started_at=now,
                    heartbeat_at=now,
                    finished_at=None,
                    status="running",
                    started_by=actor,
                    policy_sha256=policy_sha256,
                    completed_by=None,
                    completes=taken,
                    summary={},
                )
            )
        return tuple(taken)

    def add_entry(self, run_id: str, entry: RetentionEntry, now: datetime) -> None:
        """Append a line to the run's record (and show the run is alive)."""
        with self._session() as session, session.begin():
            _add_entry(session, run_id, entry, now)

    def finish_run(
        self, run_id: str, summary: dict[str, Any], now: datetime, status: str = "completed"
    ) -> None:
        """Mark the run finished (`completed`, or `failed` when a check found what should
        be gone) with its summary counts."""
        with self._session() as session, session.begin():
            session.execute(
                update(RetentionRunRow)
                .where(RetentionRunRow.id == run_id)
                .values(status=status, finished_at=now, heartbeat_at=now, summary=summary)
            )

    def flush_deleted_values(self) -> bool:
        """Move what the write-ahead log holds into the database file and empty the log, so
        a value just overwritten (with secure_delete, zeroed) is in no file. SQLite only;
        True when the log was emptied (PostgreSQL: nothing to do here, True)."""
        if self.engine.dialect.name != "sqlite":
            return True
        with self.engine.connect() as connection:
            busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        return busy is not None and busy[0] == 0

    def get_run(self, run_id: str) -> RetentionRun | None:
        """The run with its record, or None."""
        with self._session() as session:
            row = session.get(RetentionRunRow, run_id)
            if row is None:
                return None
            entries = session.scalars(
                select(RetentionEntryRow)
                .where(RetentionEntryRow.run_id == run_id)
                .order_by(RetentionEntryRow.id)
            ).all()
            return _run(row, entries)

    def runs(self, limit: int = 50) -> list[RetentionRun]:
        """The newest runs first, without their entries."""
        with self._session() as session:
            rows = session.scalars(
                select(RetentionRunRow).order_by(RetentionRunRow.started_at.desc()).limit(limit)
            ).all()
            return [RetentionRun.model_validate(r) for r in rows]


def _find_text(session: Session, needles: Sequence[str]) -> dict[str, int]:
    patterns = sorted({p for n in needles for p in _search_forms(n)})
    found: dict[str, int] = {}
    if not patterns:
        return found
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String | Text | JSON):
                continue
            text = func.lower(cast(column, Text))
            hits = session.scalar(
                select(func.count())
                .select_from(table)
                .where(or_(*(text.like(f"%{_like(p)}%", escape="\\") for p in patterns)))
            )
            if hits:
                found[f"{table.name}.{column.name}"] = int(hits)
    return found


def _add_entry(session: Session, run_id: str, entry: RetentionEntry, now: datetime) -> None:
    data = entry.model_dump()
    data["hold_ids"] = list(entry.hold_ids)
    session.add(RetentionEntryRow(run_id=run_id, at=now, **data))
    session.execute(
        update(RetentionRunRow).where(RetentionRunRow.id == run_id).values(heartbeat_at=now)
    )


def _search_forms(needle: str) -> set[str]:
    """The needle as stored in text columns and as JSON stores it (non-ASCII escaped)."""
    lowered = needle.lower()
    return {lowered, json.dumps(lowered)[1:-1]} - {""}


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _run(row: RetentionRunRow, entries: Sequence[RetentionEntryRow]) -> RetentionRun:
    """The run with its entries. Not folded into one model_validate: the entries are rows
    of their own table, read by their own query, not attributes of the run's row."""
    run = RetentionRun.model_validate(row)
    lines = tuple(RetentionEntry.model_validate(e) for e in entries)
    return run.model_copy(update={"entries": lines})


def _reduce_concern(
    row: ConcernRow, reduce: Callable[[str], str], count: Callable[[str, object, object], None]
) -> None:
    """Reduce the names in an issue of concern's text: the form's every free-text field."""
    before = (row.case_numbers, row.service, row.issues, row.evaluation, row.chief_officer)
    after = (
        [reduce(number) for number in row.case_numbers],
        reduce(row.service),
        reduce(row.issues),
        reduce(row.evaluation) if row.evaluation else row.evaluation,
        reduce(row.chief_officer) if row.chief_officer else row.chief_officer,
    )
    count("issues_of_concern", before, after)
    row.case_numbers, row.service, row.issues, row.evaluation, row.chief_officer = after
