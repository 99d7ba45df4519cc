"""Issues of concern in the metadata database: each concern's Annex C form, stored with the
item its written response is uploaded into (portal/domain/concerns.py).

Every change is one transaction with its audit event, whose detail holds ids, codes and
times only: the form's text may name a child, and audit events cannot be reduced later.
Evaluation and signatures are conditional UPDATEs guarded by the state they expect, so two
people acting at once cannot both win.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from portal.adapters.db.engine import Tables
from portal.adapters.db.repository import _audit
from portal.adapters.db.tables import ConcernRow, ExtraItemRow
from portal.domain.concerns import Concern, ConcernCategory, Signatory
from portal.domain.extra_items import ExtraItem
from portal.domain.moments import utc_aware


class ConcernRecords(Tables):
    """Issues of concern, beside SqlRepository on the same engine."""

    def add_concern(self, concern: Concern, item: ExtraItem) -> None:
        """Store the concern and the item of its written response together, with one audit
        event (ids, agency, category, due time and how many case numbers)."""
        with self._session() as session, session.begin():
            session.add(
                ExtraItemRow(
                    id=item.id,
                    inspection_id=item.inspection_id,
                    agency=item.agency,
                    kind=item.kind.value,
                    title=item.title,
                    due=item.due.astimezone(UTC),
                    added_by=item.added_by,
                    added_at=item.added_at,
                )
            )
            session.flush()  # the item first: the concern's id refers to it
            session.add(_row(concern))
            _audit(
                session,
                concern.referred_at,
                concern.referred_by,
                "concern_raised",
                concern.inspection_id,
                detail={
                    "concern": concern.id,
                    "extra_item": item.id,
                    "agency": concern.agency,
                    "category": concern.category.value,
                    "case_numbers": len(concern.case_numbers),
                    "due": item.due.astimezone(UTC).isoformat(),
                },
            )

    def concerns(self, inspection_id: str) -> list[Concern]:
        """The inspection's concerns in the order they were raised."""
        with self._session() as session:
            rows = session.scalars(
                select(ConcernRow)
                .where(ConcernRow.inspection_id == inspection_id)
                .order_by(ConcernRow.referred_at, ConcernRow.id)
            ).all()
            return [_concern(row) for row in rows]

    def get_concern(self, inspection_id: str, concern_id: str) -> Concern | None:
        """One concern of the inspection, or None."""
        with self._session() as session:
            row = session.get(ConcernRow, concern_id)
            return _concern(row) if row is not None and row.inspection_id == inspection_id else None

    def record_evaluation(
        self, inspection_id: str, concern_id: str, evaluation: str, actor: str, now: datetime
    ) -> bool:
        """Record (or replace) the inspectors' evaluation, with an audit event, unless
        either side has signed the form meanwhile (then False, and nothing changes)."""
        with self._session() as session, session.begin():
            result = session.execute(
                update(ConcernRow)
                .where(
                    ConcernRow.id == concern_id,
                    ConcernRow.inspection_id == inspection_id,
                    ConcernRow.lead_signed_at.is_(None),
                    ConcernRow.agency_signed_at.is_(None),
                )
                .values(evaluation=evaluation, evaluated_by=actor, evaluated_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            _audit(
                session,
                now,
                actor,
                "concern_evaluated",
                inspection_id,
                detail={"concern": concern_id},
            )
            return True

    def sign_concern(
        self,
        inspection_id: str,
        concern_id: str,
        signatory: Signatory,
        actor: str,
        chief_officer: str | None,
        now: datetime,
    ) -> bool:
        """Record one side's signature, with an audit event (never the chief officer's
        name), if the evaluation is recorded and that side has not signed (else False, and
        nothing changes)."""
        values: dict[str, Any]
        if signatory is Signatory.lead_inspector:
            unsigned = ConcernRow.lead_signed_at.is_(None)
            values = {"lead_signed_by": actor, "lead_signed_at": now}
        else:
            unsigned = ConcernRow.agency_signed_at.is_(None)
            values = {
                "chief_officer": chief_officer,
                "agency_signed_by": actor,
                "agency_signed_at": now,
            }
        with self._session() as session, session.begin():
            result = session.execute(
                update(ConcernRow)
                .where(
                    ConcernRow.id == concern_id,
                    ConcernRow.inspection_id == inspection_id,
                    ConcernRow.evaluation.is_not(None),
                    unsigned,
                )
                .values(**values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            _audit(
                session,
                now,
                actor,
                "concern_signed",
                inspection_id,
                detail={"concern": concern_id, "signatory": signatory.value},
            )
            return True


def _row(concern: Concern) -> ConcernRow:
    return ConcernRow(
        id=concern.id,
        inspection_id=concern.inspection_id,
        agency=concern.agency,
        case_numbers=list(concern.case_numbers),
        category=concern.category.value,
        service=concern.service,
        issues=concern.issues,
        referred_by=concern.referred_by,
        referred_at=concern.referred_at,
    )


def _concern(row: ConcernRow) -> Concern:
    def moment(value: datetime | None) -> datetime | None:
        return utc_aware(value) if value is not None else None

    return Concern(
        id=row.id,
        inspection_id=row.inspection_id,
        agency=row.agency,
        case_numbers=tuple(row.case_numbers),
        category=ConcernCategory(row.category),
        service=row.service,
        issues=row.issues,
        referred_by=row.referred_by,
        referred_at=utc_aware(row.referred_at),
        evaluation=row.evaluation,
        evaluated_by=row.evaluated_by,
        evaluated_at=moment(row.evaluated_at),
        lead_signed_by=row.lead_signed_by,
        lead_signed_at=moment(row.lead_signed_at),
        chief_officer=row.chief_officer,
        agency_signed_by=row.agency_signed_by,
        agency_signed_at=moment(row.agency_signed_at),
    )
