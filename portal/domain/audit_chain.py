"""The tamper-evident audit log: one hash chain per inspection, plus the chain "portal" for
events of no inspection.

Every event carries its chain, its place in it (`seq`, 1, 2, ...), the hash of the event
before it (`prev_hash`; 64 zeros for the first) and its own hash (`entry_hash`): an
HMAC-SHA256, under a key held outside the database and named by the event's `key_id`, of a
canonical JSON of all of that (key id included). Someone who can rewrite the database but
does not hold the key cannot recompute a valid chain. Events written before keys existed
(`key_id` None) carry a plain sha256; they are trusted only where an anchor covers them.

Anchors are chain heads (chain, seq, hash) copied from time to time to a sink the database
owner cannot rewrite (an append-only file, an S3 object under Object Lock). Every anchor
must still be a prefix of its chain: removing the newest events and moving the head back,
or rewriting an anchored event, fails verification even for someone holding the key.

Changing, removing or reordering an event breaks the chain at that event or the next one.
Retention may delete an inspection's whole chain; it then records `audit_chain_deleted`
in the portal chain, with where the deleted part began and ended, so the absence is
lawful and a later event can continue the chain from it.

Pure: no I/O. The database adapter reads the events and hands them here in seq order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PORTAL_CHAIN = "portal"
"""The chain of events that concern no inspection (e.g. admin tokens, deleted chains)."""

GENESIS_HASH = "0" * 64
"""The prev_hash of the first event of every chain."""

CHAIN_DELETED = "audit_chain_deleted"
"""The action, in the portal chain, that records retention deleting a chain."""


class AuditKey(BaseModel):
    """One secret the chain is keyed with, and the id events name it by."""

    model_config = ConfigDict(frozen=True)

    key_id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    secret: bytes = Field(min_length=32, repr=False)


class AuditKeyring(BaseModel):
    """Every key the log was ever keyed with, oldest first: new events use the newest,
    verification uses the key each event names."""

    model_config = ConfigDict(frozen=True)

    keys: tuple[AuditKey, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> AuditKeyring:
        ids = [k.key_id for k in self.keys]
        if len(ids) != len(set(ids)):
            raise ValueError("two audit keys share an id")
        return self

    @property
    def current(self) -> AuditKey:
        """The key new events are sealed with (the newest); ValueError if there is none."""
        if not self.keys:
            raise ValueError("no audit key: the audit log cannot be written")
        return self.keys[-1]

    def get(self, key_id: str) -> AuditKey | None:
        """The key with this id, or None if the keyring does not hold it."""
        return next((k for k in self.keys if k.key_id == key_id), None)


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
    key: AuditKey | None = None,
) -> str:
    """The hex digest that seals one event and, through `prev_hash`, all before it: the
    HMAC-SHA256 under `key` of the canonical JSON of the event and the key's id, or (with
    no key: events written before chains were keyed) the plain sha256 of the event."""
    payload: dict[str, Any] = {
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
    if key is None:
        return hashlib.sha256(canonical_json(payload).encode("ascii")).hexdigest()
    payload["key_id"] = key.key_id
    message = canonical_json(payload).encode("ascii")
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()


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
    key_id: str | None = None
    """The key the entry was sealed with; None for an entry written before keys."""

    def expected_hash(self, key: AuditKey | None) -> str:
        """The hash this entry's content gives now under `key` (its key, or None for an
        unkeyed entry)."""
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
            key=key,
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
    key: AuditKey | None,
) -> AuditEntry:
    """The next entry of the chain whose last entry is (`seq` - 1, `prev_hash`), sealed
    under `key` (None only for the migration that chained events written before keys).

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
        key_id=key.key_id if key else None,
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
            key=key,
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
    unknown_key = "unknown_key"
    unkeyed_after_keyed = "unkeyed_after_keyed"
    unkeyed_unanchored = "unkeyed_unanchored"
    anchor_mismatch = "anchor_mismatch"
    below_anchor = "below_anchor"


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


class Anchor(BaseModel):
    """A chain's head as it was copied out of the database at `at`: the chain must still
    hold this hash at this seq (or retention must have lawfully deleted it)."""

    model_config = ConfigDict(frozen=True)

    chain: str
    seq: int = Field(ge=1)
    entry_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    at: datetime


def anchors_due(
    heads: Iterable[ChainHead], anchored: Iterable[Anchor], at: datetime
) -> list[Anchor]:
    """The heads to anchor now: every chain with an event whose head is not already the
    newest anchor of that chain (so a quiet log adds nothing to the sink)."""
    newest: dict[str, Anchor] = {}
    for anchor in anchored:
        if anchor.chain not in newest or anchor.seq >= newest[anchor.chain].seq:
            newest[anchor.chain] = anchor
    due = []
    for head in sorted(heads, key=lambda h: h.chain):
        last = newest.get(head.chain)
        if head.last_seq < 1:
            continue
        if last and (last.seq, last.entry_hash) == (head.last_seq, head.last_entry_hash):
            continue
        due.append(
            Anchor(chain=head.chain, seq=head.last_seq, entry_hash=head.last_entry_hash, at=at)
        )
    return due


def verify_chain(
    entries: Sequence[AuditEntry],
    *,
    keys: AuditKeyring,
    seq: int = 1,
    prev_hash: str = GENESIS_HASH,
) -> ChainBreak | None:
    """The first broken entry of one chain's entries (in seq order), or None.

    The first entry must have `seq` and `prev_hash` (1 and 64 zeros for a whole chain; the
    next seq and the last hash of a deleted part for a chain that retention cut). Each entry
    must follow the one before it without a gap, point at its hash, name a key the keyring
    holds (or none, before any keyed entry of the chain) and hash under it to its own
    entry_hash.
    """
    expected_seq, expected_prev = seq, prev_hash
    chain = entries[0].chain if entries else PORTAL_CHAIN
    keyed_seen = False
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
        key: AuditKey | None = None
        if entry.key_id is None:
            if keyed_seen:
                return _break(
                    entry,
                    Problem.unkeyed_after_keyed,
                    "the entry has no key although an earlier entry of its chain was keyed: "
                    "it was rewritten with the unkeyed (sha256) algorithm",
                )
        else:
            keyed_seen = True
            key = keys.get(entry.key_id)
            if key is None:
                return _break(
                    entry,
                    Problem.unknown_key,
                    f"the entry names audit key {entry.key_id!r}, which the key file does "
                    "not hold (a key removed from the file, or a forged key id)",
                )
        actual = entry.expected_hash(key)
        if not hmac.compare_digest(actual, entry.entry_hash):
            how = "its HMAC under key " + entry.key_id if entry.key_id else "its content hashes"
            return _break(
                entry,
                Problem.hash_mismatch,
                f"{how} gives {actual[:12]}..., not its entry_hash "
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
    unkeyed_entries: int = 0
    anchors: int = 0
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
                f"{self.entries} entries verified "
                f"({self.entries - self.unkeyed_entries} keyed, "
                f"{self.unkeyed_entries} unkeyed and anchored), "
                f"{self.anchors} anchors hold"
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
    *,
    keys: AuditKeyring,
    anchors: Iterable[Anchor] = (),
) -> LogVerdict:
    """Verify the whole log: the portal chain, then every other chain (each given once, its
    entries in seq order), then chains that have no entries left.

    A chain (or its beginning) may be absent only where audit_chain_deleted events in the
    portal chain account for it, one after the other from seq 1; its head must match its
    newest entry (or, when all is deleted, the last deletion). `expected_chains` (the
    inspections) are chains that must exist in some form. Every entry must verify under the
    key it names; every anchor must still be a prefix of its chain; an unkeyed entry must
    lie at or below an anchor of its chain.
    """
    by_chain: dict[str, list[Anchor]] = {}
    for anchor in anchors:
        by_chain.setdefault(anchor.chain, []).append(anchor)
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
    total = unkeyed = 0

    def history(chain: str, entries: Sequence[AuditEntry], lawful: list[ChainDeletion]) -> None:
        nonlocal total, unkeyed
        seen.add(chain)
        total += len(entries)
        unkeyed += sum(1 for e in entries if e.key_id is None)
        found = _verify_history(
            chain, entries, lawful, heads.get(chain), by_chain.get(chain, []), keys
        )
        if found:
            breaks.append(found)

    if portal or PORTAL_CHAIN in heads:
        history(PORTAL_CHAIN, portal, [])
    for chain, entries in chains:
        if chain != PORTAL_CHAIN:
            history(chain, entries, deletions.get(chain, []))
    expected = set(heads) | set(expected_chains) | set(deletions) | set(by_chain)
    for chain in sorted(expected - seen):
        history(chain, [], deletions.get(chain, []))
    return LogVerdict(
        chains=len(seen),
        entries=total,
        deleted_chains=len(deletions),
        unkeyed_entries=unkeyed,
        anchors=sum(len(a) for a in by_chain.values()),
        breaks=tuple(breaks),
    )


def _verify_history(
    chain: str,
    entries: Sequence[AuditEntry],
    deletions: Sequence[ChainDeletion],
    head: ChainHead | None,
    anchors: Sequence[Anchor],
    keys: AuditKeyring,
) -> ChainBreak | None:
    """One chain: its deleted parts in order, then the entries left, its head, its
    anchors, and the anchors' cover of its unkeyed entries."""
    found = _verify_entries(chain, entries, deletions, head, keys)
    if found:
        return found
    return _verify_anchors(chain, entries, deletions, anchors)


def _verify_anchors(
    chain: str,
    entries: Sequence[AuditEntry],
    deletions: Sequence[ChainDeletion],
    anchors: Sequence[Anchor],
) -> ChainBreak | None:
    """Every anchor is still a prefix of the chain (an entry at its seq with its hash, or a
    lawful deletion that covers its seq); then every unkeyed entry lies at or below one."""
    at_seq = {e.seq: e for e in entries}
    last_seq = max(
        [e.seq for e in entries] + [d.last_seq for d in deletions] + [0],
    )
    for anchor in sorted(anchors, key=lambda a: (a.seq, a.at)):
        entry = at_seq.get(anchor.seq)
        when = canonical_time(anchor.at)
        if entry is not None:
            if not hmac.compare_digest(entry.entry_hash, anchor.entry_hash):
                return _break(
                    entry,
                    Problem.anchor_mismatch,
                    f"anchored on {when} with hash {anchor.entry_hash[:12]}..., it now has "
                    f"{entry.entry_hash[:12]}...: the entry (or one before it) was rewritten",
                )
            continue
        deletion = next((d for d in deletions if d.first_seq <= anchor.seq <= d.last_seq), None)
        if deletion is not None:
            if anchor.seq == deletion.last_seq and deletion.last_entry_hash != anchor.entry_hash:
                return ChainBreak(
                    chain=chain,
                    seq=anchor.seq,
                    entry_id=deletion.recorded_by,
                    problem=Problem.anchor_mismatch,
                    explanation=f"anchored on {when} with hash {anchor.entry_hash[:12]}..., "
                    "but the record of its deletion names another hash",
                )
            continue
        if anchor.seq > last_seq:
            first_gone = last_seq + 1
            return ChainBreak(
                chain=chain,
                seq=first_gone,
                entry_id=None,
                problem=Problem.below_anchor,
                explanation=f"the chain ends at seq {last_seq} but seq {anchor.seq} was "
                f"anchored on {when}: entries {first_gone}..{anchor.seq} were removed and the "
                "head moved back",
            )
        return ChainBreak(
            chain=chain,
            seq=anchor.seq,
            entry_id=None,
            problem=Problem.below_anchor,
            explanation=f"seq {anchor.seq}, anchored on {when}, is missing and no "
            "audit_chain_deleted event records its deletion",
        )
    covered = max((a.seq for a in anchors), default=0)
    for entry in entries:
        if entry.key_id is None and entry.seq > covered:
            return _break(
                entry,
                Problem.unkeyed_unanchored,
                "the entry has no key and no anchor covers it: written before the log was "
                "keyed and never anchored (run `jtai-portal audit anchor` once after the "
                "upgrade), or forged with the unkeyed (sha256) algorithm",
            )
    return None


def _verify_entries(
    chain: str,
    entries: Sequence[AuditEntry],
    deletions: Sequence[ChainDeletion],
    head: ChainHead | None,
    keys: AuditKeyring,
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
    found = verify_chain(entries, keys=keys, seq=seq, prev_hash=prev)
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
