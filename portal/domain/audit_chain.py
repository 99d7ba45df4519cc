"""The tamper-evident audit log: one hash chain per inspection, plus the chain "portal" for
events of no inspection.

Every event carries its chain, its place in it (`seq`, 1, 2, ...), the hash of the event
before it (`prev_hash`; 64 zeros for the first) and its own hash (`entry_hash`), a sha256
over a canonical JSON of all of that. Changing, removing or reordering an event breaks the
chain at that event or the next one. Retention may delete an inspection's whole chain; it
then records `audit_chain_deleted` in the portal chain, with where the deleted part began
and ended, so the absence is lawful and a later event can continue the chain from it.

Pure: no I/O. The database adapter reads the events and hands them here in seq order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

PORTAL_CHAIN = "portal"
"""The chain of events that concern no inspection (e.g. admin tokens, deleted chains)."""

GENESIS_HASH = "0" * 64
"""The prev_hash of the first event of every chain."""

CHAIN_DELETED = "audit_chain_deleted"
"""The action, in the portal chain, that records retention deleting a chain."""


def chain_of(inspection_id: str | None) -> str:
    """The chain an event of this inspection (or of none) belongs to."""
    return PORTAL_CHAIN if inspection_id is None else inspection_id


def canonical_time(at: datetime) -> str:
    """ISO 8601 in UTC with microseconds, e.g. 2026-11-24T12:00:00.000000+00:00."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, ASCII only: the same bytes for the same value."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def entry_hash(
    *,
    chain: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    inspection_id: str | None,
    document_id: str | None,
    detail: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """The hex sha256 that seals one event and, through `prev_hash`, all before it."""
    payload = {
        "chain": chain,
        "seq": seq,
        "at": canonical_time(at),
        "actor": actor,
        "action": action,
        "inspection_id": inspection_id,
        "document_id": document_id,
        "detail": dict(detail),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("ascii")).hexdigest()


class AuditEntry(BaseModel):
    """One audit event as stored: what happened, and its place in its chain."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    chain: str
    seq: int
    at: datetime
    actor: str
    action: str
    inspection_id: str | None = None
    document_id: str | None = None
    detail: dict[str, Any] = {}
    prev_hash: str
    entry_hash: str

    def expected_hash(self) -> str:
        """The hash this entry's content gives now."""
        return entry_hash(
            chain=self.chain,
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            action=self.action,
            inspection_id=self.inspection_id,
            document_id=self.document_id,
            detail=self.detail,
            prev_hash=self.prev_hash,
        )


def seal(
    *,
    seq: int,
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    inspection_id: str | None,
    document_id: str | None,
    detail: Mapping[str, Any],
) -> AuditEntry:
    """The next entry of the chain whose last entry is (`seq` - 1, `prev_hash`).

    The detail is normalised through canonical JSON, so what is stored is what was hashed.
    """
    chain = chain_of(inspection_id)
    normal = json.loads(canonical_json(dict(detail)))
    at_utc = at.astimezone(UTC)
    return AuditEntry(
        chain=chain,
        seq=seq,
        at=at_utc,
        actor=actor,
        action=action,
        inspection_id=inspection_id,
        document_id=document_id,
        detail=normal,
        prev_hash=prev_hash,
        entry_hash=entry_hash(
            chain=chain,
            seq=seq,
            at=at_utc,
            actor=actor,
            action=action,
            inspection_id=inspection_id,
            document_id=document_id,
            detail=normal,
            prev_hash=prev_hash,
        ),
    )


class Problem(StrEnum):
    """What is wrong at the first broken place of a chain."""

    seq_gap = "seq_gap"
    prev_hash_mismatch = "prev_hash_mismatch"
    hash_mismatch = "hash_mismatch"
    wrong_chain = "wrong_chain"
    missing_tail = "missing_tail"
    missing_head = "missing_head"
    chain_missing = "chain_missing"
    bad_deletion_record = "bad_deletion_record"


class ChainBreak(BaseModel):
    """The first broken place of a chain: which entry (if one is there) and why."""

    model_config = ConfigDict(frozen=True)

    chain: str
    seq: int | None
    entry_id: int | None
    problem: Problem
    explanation: str

    def describe(self) -> str:
        """One line naming the entry and what is wrong with it."""
        where = f"entry id {self.entry_id}" if self.entry_id is not None else "no entry"
        seq = f", seq {self.seq}" if self.seq is not None else ""
        return f"{where} (chain {self.chain}{seq}): {self.problem.value}: {self.explanation}"


class ChainHead(BaseModel):
    """The last (seq, entry_hash) written to a chain, kept beside the entries so that
    losing the newest entries shows."""

    model_config = ConfigDict(frozen=True)

    chain: str
    last_seq: int
    last_entry_hash: str


class ChainDeletion(BaseModel):
    """What retention deleted of one chain, as its audit_chain_deleted event says."""

    model_config = ConfigDict(frozen=True)

    chain: str
    count: int
    first_seq: int
    first_prev_hash: str
    last_seq: int
    last_entry_hash: str
    verified: bool = True
    last_event_id: int | None = None
    recorded_by: int | None = None
    """The id of the portal-chain entry that records the deletion."""


def verify_chain(
    entries: Sequence[AuditEntry], *, seq: int = 1, prev_hash: str = GENESIS_HASH
) -> ChainBreak | None:
    """The first broken entry of one chain's entries (in seq order), or None.

    The first entry must have `seq` and `prev_hash` (1 and 64 zeros for a whole chain; the
    next seq and the last hash of a deleted part for a chain that retention cut). Each entry
    must follow the one before it without a gap, point at its hash, and hash to its own
    entry_hash.
    """
    expected_seq, expected_prev = seq, prev_hash
    chain = entries[0].chain if entries else PORTAL_CHAIN
    for entry in entries:
        if entry.chain != chain or entry.chain != chain_of(entry.inspection_id):
            return _break(
                entry,
                Problem.wrong_chain,
                f"an event of inspection {entry.inspection_id or '(none)'} "
                f"stands in chain {entry.chain}",
            )
        if entry.seq != expected_seq:
            if expected_seq == seq and entry.seq > seq:
                what = (
                    f"the chain starts at seq {entry.seq}: entries {seq}..{entry.seq - 1} "
                    "are missing and no audit_chain_deleted event records their deletion"
                )
            elif entry.seq > expected_seq:
                missing = f"{expected_seq}..{entry.seq - 1}"
                what = f"expected seq {expected_seq}: entries {missing} are missing"
            else:
                what = f"expected seq {expected_seq}, found {entry.seq} again or out of order"
            return _break(entry, Problem.seq_gap, what)
        if entry.prev_hash != expected_prev:
            return _break(
                entry,
                Problem.prev_hash_mismatch,
                f"prev_hash {entry.prev_hash[:12]}... is not the hash of the entry before "
                f"({expected_prev[:12]}...): that entry was changed, replaced or removed",
            )
        actual = entry.expected_hash()
        if actual != entry.entry_hash:
            return _break(
                entry,
                Problem.hash_mismatch,
                f"its content hashes to {actual[:12]}..., not its entry_hash "
                f"{entry.entry_hash[:12]}...: the entry was changed after it was written",
            )
        expected_seq, expected_prev = entry.seq + 1, entry.entry_hash
    return None


def deletion_of(entry: AuditEntry) -> ChainDeletion:
    """The deletion an audit_chain_deleted entry records; ValueError if it is malformed."""
    try:
        return ChainDeletion.model_validate({**entry.detail, "recorded_by": entry.id})
    except ValidationError as exc:
        raise ValueError(f"not a valid deletion record: {exc.error_count()} errors") from exc


class LogVerdict(BaseModel):
    """The result of walking every chain of the audit log."""

    model_config = ConfigDict(frozen=True)

    chains: int
    entries: int
    deleted_chains: int
    breaks: tuple[ChainBreak, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first(self) -> ChainBreak | None:
        """The broken entry written first (entries before chain-level problems)."""
        if not self.breaks:
            return None
        return min(
            self.breaks,
            key=lambda b: (b.entry_id is None, b.entry_id or 0, b.chain, b.seq or 0),
        )

    def summary(self) -> str:
        """One line: OK with the counts, or the first broken entry."""
        if self.ok:
            return (
                f"audit log OK: {self.chains} chains "
                f"({self.deleted_chains} lawfully deleted in whole or part), "
                f"{self.entries} entries verified"
            )
        first = self.first
        assert first is not None
        others = len(self.breaks) - 1
        more = f" (and {others} more broken chain{'s' if others != 1 else ''})" if others else ""
        return f"audit log BROKEN at {first.describe()}{more}"


def verify_log(
    portal: Sequence[AuditEntry],
    chains: Iterable[tuple[str, Sequence[AuditEntry]]],
    heads: Mapping[str, ChainHead],
    expected_chains: Iterable[str] = (),
) -> LogVerdict:
    """Verify the whole log: the portal chain, then every other chain (each given once, its
    entries in seq order), then chains that have no entries left.

    A chain (or its beginning) may be absent only where audit_chain_deleted events in the
    portal chain account for it, one after the other from seq 1; its head must match its
    newest entry (or, when all is deleted, the last deletion). `expected_chains` (the
    inspections) are chains that must exist in some form.
    """
    breaks: list[ChainBreak] = []
    deletions: dict[str, list[ChainDeletion]] = {}
    for entry in portal:
        if entry.action != CHAIN_DELETED:
            continue
        try:
            deletion = deletion_of(entry)
        except ValueError as exc:
            breaks.append(_break(entry, Problem.bad_deletion_record, str(exc)))
            continue
        deletions.setdefault(deletion.chain, []).append(deletion)

    seen: set[str] = set()
    total = 0
    if portal or PORTAL_CHAIN in heads:
        seen.add(PORTAL_CHAIN)
        total += len(portal)
        found = _verify_history(PORTAL_CHAIN, portal, [], heads.get(PORTAL_CHAIN))
        if found:
            breaks.append(found)
    for chain, entries in chains:
        if chain == PORTAL_CHAIN:
            continue
        seen.add(chain)
        total += len(entries)
        found = _verify_history(chain, entries, deletions.get(chain, []), heads.get(chain))
        if found:
            breaks.append(found)
    for chain in sorted((set(heads) | set(expected_chains) | set(deletions)) - seen):
        seen.add(chain)
        found = _verify_history(chain, [], deletions.get(chain, []), heads.get(chain))
        if found:
            breaks.append(found)
    return LogVerdict(
        chains=len(seen),
        entries=total,
        deleted_chains=len(deletions),
        breaks=tuple(breaks),
    )


def _verify_history(
    chain: str,
    entries: Sequence[AuditEntry],
    deletions: Sequence[ChainDeletion],
    head: ChainHead | None,
) -> ChainBreak | None:
    """One chain: its deleted parts in order, then the entries left, then its head."""
    seq, prev = 1, GENESIS_HASH
    for deletion in sorted(deletions, key=lambda d: d.last_seq):
        problem = _bad_deletion(deletion, seq, prev)
        if problem:
            return ChainBreak(
                chain=chain,
                seq=deletion.first_seq,
                entry_id=deletion.recorded_by,
                problem=Problem.bad_deletion_record,
                explanation=problem,
            )
        seq, prev = deletion.last_seq + 1, deletion.last_entry_hash
    found = verify_chain(entries, seq=seq, prev_hash=prev)
    if found:
        return found
    if entries:
        seq, prev = entries[-1].seq + 1, entries[-1].entry_hash
    last_seq = seq - 1
    if head is None:
        if last_seq == 0:
            return ChainBreak(
                chain=chain,
                seq=None,
                entry_id=None,
                problem=Problem.chain_missing,
                explanation="the inspection has no audit chain at all and no "
                "audit_chain_deleted event records its deletion",
            )
        return ChainBreak(
            chain=chain,
            seq=last_seq,
            entry_id=entries[-1].id if entries else None,
            problem=Problem.missing_head,
            explanation="the chain's head (its last seq and hash) is missing",
        )
    if head.last_seq > last_seq:
        if not entries and not deletions:
            what = (
                f"all {head.last_seq} entries are gone and no audit_chain_deleted event "
                "records their deletion"
            )
            return ChainBreak(
                chain=chain,
                seq=1,
                entry_id=None,
                problem=Problem.chain_missing,
                explanation=what,
            )
        return ChainBreak(
            chain=chain,
            seq=last_seq + 1,
            entry_id=None,
            problem=Problem.missing_tail,
            explanation=f"the head says the chain ends at seq {head.last_seq}; entries "
            f"{last_seq + 1}..{head.last_seq} are missing",
        )
    if head.last_seq != last_seq or head.last_entry_hash != prev:
        return ChainBreak(
            chain=chain,
            seq=last_seq,
            entry_id=entries[-1].id if entries else None,
            problem=Problem.missing_tail,
            explanation=f"the head (seq {head.last_seq}, {head.last_entry_hash[:12]}...) does "
            f"not match the chain's last entry (seq {last_seq}, {prev[:12]}...)",
        )
    return None


def _bad_deletion(deletion: ChainDeletion, seq: int, prev: str) -> str | None:
    if deletion.first_seq != seq or deletion.first_prev_hash != prev:
        return (
            f"the deletion of seq {deletion.first_seq}..{deletion.last_seq} does not "
            f"continue the chain (expected it to begin at seq {seq})"
        )
    if deletion.count != deletion.last_seq - deletion.first_seq + 1:
        return (
            f"seq {deletion.first_seq}..{deletion.last_seq} were deleted but only "
            f"{deletion.count} entries were there: the chain had a gap when it was deleted"
        )
    if not deletion.verified:
        return "the chain was already broken when retention deleted it"
    return None


def _break(entry: AuditEntry, problem: Problem, explanation: str) -> ChainBreak:
    return ChainBreak(
        chain=entry.chain,
        seq=entry.seq,
        entry_id=entry.id,
        problem=problem,
        explanation=explanation,
    )
