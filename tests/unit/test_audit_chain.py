"""The audit log's hash chains: hashing, verifying one chain, and verifying the whole log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.domain.audit_chain import (
    CHAIN_DELETED,
    GENESIS_HASH,
    PORTAL_CHAIN,
    Anchor,
    AuditEntry,
    AuditKey,
    AuditKeyring,
    ChainHead,
    LogVerdict,
    Problem,
    anchors_due,
    entry_hash,
    seal,
    verify_chain,
    verify_log,
)
from portal.domain.timeline import LONDON

T0 = datetime(2026, 6, 1, 9, 30, 15, 123456, tzinfo=UTC)
KEY = AuditKey(key_id="k1", secret=b"k" * 32)
KEYS = AuditKeyring(keys=(KEY,))


def _chain(
    inspection_id: str | None, count: int, *, start: int = 1, prev: str = GENESIS_HASH
) -> list[AuditEntry]:
    entries = []
    for n in range(start, start + count):
        entry = seal(
            seq=n,
            prev_hash=prev,
            at=T0 + timedelta(minutes=n),
            actor="lead_inspector:tok1",
            action="document_viewed",
            inspection_id=inspection_id,
            document_id=f"doc{n}" if inspection_id else None,
            detail={"rule": "on_site_during_fieldwork", "n": n},
            key=KEY,
        )
        entries.append(entry.model_copy(update={"id": n * 10 + len(inspection_id or "")}))
        prev = entry.entry_hash
    return entries


def _verify_log(*args: Any, **kwargs: Any) -> LogVerdict:
    return verify_log(*args, keys=KEYS, **kwargs)


def _head(entries: list[AuditEntry]) -> ChainHead:
    return ChainHead(
        chain=entries[-1].chain, last_seq=entries[-1].seq, last_entry_hash=entries[-1].entry_hash
    )


def _deletion(entries: list[AuditEntry], entry_id: int, **changes: Any) -> AuditEntry:
    detail = {
        "chain": entries[0].chain,
        "count": len(entries),
        "first_seq": entries[0].seq,
        "first_prev_hash": entries[0].prev_hash,
        "last_seq": entries[-1].seq,
        "last_entry_hash": entries[-1].entry_hash,
        "verified": True,
        **changes,
    }
    return seal(
        seq=1,
        prev_hash=GENESIS_HASH,
        at=T0,
        actor="retention:run1",
        action=CHAIN_DELETED,
        inspection_id=None,
        document_id=None,
        detail=detail,
        key=KEY,
    ).model_copy(update={"id": entry_id})


def _portal(*entries: AuditEntry) -> list[AuditEntry]:
    """Re-seal portal entries into one chain, keeping their ids and details."""
    chain, prev = [], GENESIS_HASH
    for n, entry in enumerate(entries, start=1):
        sealed = seal(
            seq=n,
            prev_hash=prev,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            inspection_id=None,
            document_id=None,
            detail=entry.detail,
            key=KEY,
        ).model_copy(update={"id": entry.id})
        chain.append(sealed)
        prev = sealed.entry_hash
    return chain


def test_the_same_event_hashes_the_same_whatever_the_key_order_or_time_zone() -> None:
    common: dict[str, Any] = {
        "chain": "insp1",
        "seq": 3,
        "actor": "a",
        "action": "b",
        "inspection_id": "insp1",
        "document_id": None,
        "prev_hash": GENESIS_HASH,
    }
    one = entry_hash(**common, at=T0, detail={"x": 1, "y": ["é", None]})
    two = entry_hash(**common, at=T0.astimezone(LONDON), detail={"y": ["é", None], "x": 1})
    assert one == two
    assert len(one) == 64 and int(one, 16) >= 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("chain", "insp2"),
        ("seq", 4),
        ("at", T0 + timedelta(microseconds=1)),
        ("actor", "someone else"),
        ("action", "document_viewed"),
        ("inspection_id", "insp2"),
        ("document_id", "doc9"),
        ("detail", {"x": 2}),
        ("prev_hash", "1" * 64),
    ],
)
def test_every_field_of_an_event_changes_its_hash(field: str, value: Any) -> None:
    fields: dict[str, Any] = {
        "chain": "insp1",
        "seq": 3,
        "at": T0,
        "actor": "a",
        "action": "b",
        "inspection_id": "insp1",
        "document_id": None,
        "detail": {"x": 1},
        "prev_hash": GENESIS_HASH,
    }
    assert entry_hash(**fields) != entry_hash(**{**fields, field: value})


def test_times_without_a_zone_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        entry_hash(
            chain="portal",
            seq=1,
            at=datetime(2026, 1, 1),
            actor="a",
            action="b",
            inspection_id=None,
            document_id=None,
            detail={},
            prev_hash=GENESIS_HASH,
        )


def test_an_event_goes_to_its_inspections_chain_or_else_the_portal_chain() -> None:
    assert _chain("insp1", 1)[0].chain == "insp1"
    assert _chain(None, 1)[0].chain == PORTAL_CHAIN


def test_a_sealed_chain_verifies() -> None:
    assert verify_chain(_chain("insp1", 5), keys=KEYS) is None
    assert verify_chain([], keys=KEYS) is None


def test_an_altered_detail_is_named_as_a_hash_mismatch() -> None:
    entries = _chain("insp1", 5)
    entries[2] = entries[2].model_copy(update={"detail": {"rule": "off_site", "n": 3}})
    found = verify_chain(entries, keys=KEYS)
    assert found is not None
    assert (found.problem, found.seq, found.entry_id) == (Problem.hash_mismatch, 3, entries[2].id)
    assert "changed after it was written" in found.explanation


def test_an_entry_altered_and_resealed_breaks_the_link_of_the_next() -> None:
    entries = _chain("insp1", 5)
    altered = entries[2].model_copy(update={"actor": "intruder"})
    entries[2] = altered.model_copy(update={"entry_hash": altered.expected_hash(KEY)})
    found = verify_chain(entries, keys=KEYS)
    assert found is not None
    assert (found.problem, found.seq) == (Problem.prev_hash_mismatch, 4)


def test_a_removed_entry_is_a_seq_gap_at_the_entry_after_it() -> None:
    entries = _chain("insp1", 5)
    del entries[1]
    found = verify_chain(entries, keys=KEYS)
    assert found is not None
    assert (found.problem, found.seq) == (Problem.seq_gap, 3)
    assert "entries 2..2 are missing" in found.explanation


def test_a_chain_missing_its_beginning_is_a_seq_gap_naming_the_missing_entries() -> None:
    entries = _chain("insp1", 5)[2:]
    found = verify_chain(entries, keys=KEYS)
    assert found is not None and found.problem is Problem.seq_gap
    assert "entries 1..2 are missing" in found.explanation


def test_an_event_filed_in_another_inspections_chain_is_found() -> None:
    entries = _chain("insp1", 3)
    entries[1] = entries[1].model_copy(update={"inspection_id": "insp2"})
    found = verify_chain(entries, keys=KEYS)
    assert found is not None and found.problem is Problem.wrong_chain


def test_a_whole_log_with_a_lawfully_deleted_chain_verifies() -> None:
    kept, deleted = _chain("insp1", 3), _chain("insp2", 4)
    portal = _portal(*_chain(None, 2), _deletion(deleted, 900))
    verdict = _verify_log(
        portal,
        [("insp1", kept)],
        {"insp1": _head(kept), "insp2": _head(deleted), "portal": _head(portal)},
        expected_chains=["insp1", "insp2"],
    )
    assert verdict.ok, verdict.summary()
    assert (verdict.chains, verdict.entries, verdict.deleted_chains) == (3, 6, 1)
    assert verdict.summary().startswith("audit log OK: 3 chains")


def test_a_chain_continues_after_its_deleted_part() -> None:
    first = _chain("insp1", 4)
    later = _chain("insp1", 2, start=5, prev=first[-1].entry_hash)
    portal = _portal(_deletion(first, 900))
    verdict = _verify_log(
        portal, [("insp1", later)], {"insp1": _head(later), "portal": _head(portal)}
    )
    assert verdict.ok, verdict.summary()


def test_a_chain_gone_without_a_deletion_record_is_caught() -> None:
    gone = _chain("insp2", 4)
    verdict = _verify_log([], [], {"insp2": _head(gone)}, expected_chains=["insp2"])
    assert verdict.first is not None
    assert verdict.first.problem is Problem.chain_missing
    assert "no audit_chain_deleted event" in verdict.first.explanation


def test_an_inspection_without_any_chain_is_caught() -> None:
    verdict = _verify_log([], [], {}, expected_chains=["insp3"])
    assert verdict.first is not None and verdict.first.problem is Problem.chain_missing


def test_lost_newest_entries_are_caught_by_the_head() -> None:
    entries = _chain("insp1", 5)
    verdict = _verify_log([], [("insp1", entries[:3])], {"insp1": _head(entries)})
    assert verdict.first is not None
    assert (verdict.first.problem, verdict.first.seq) == (Problem.missing_tail, 4)
    assert "entries 4..5 are missing" in verdict.first.explanation


def test_a_deletion_record_that_does_not_cover_the_missing_entries_is_caught() -> None:
    entries = _chain("insp1", 6)
    portal = _portal(_deletion(entries[2:4], 900))
    verdict = _verify_log(
        portal, [("insp1", entries[4:])], {"insp1": _head(entries), "portal": _head(portal)}
    )
    assert verdict.first is not None
    assert verdict.first.problem is Problem.bad_deletion_record
    assert verdict.first.entry_id == 900


def test_deleting_a_broken_chain_does_not_hide_that_it_was_broken() -> None:
    entries = _chain("insp1", 3)
    portal = _portal(_deletion(entries, 900, verified=False))
    verdict = _verify_log(portal, [], {"insp1": _head(entries), "portal": _head(portal)})
    assert verdict.first is not None and verdict.first.problem is Problem.bad_deletion_record
    assert "already broken" in verdict.first.explanation


def test_the_first_broken_entry_is_the_one_written_first() -> None:
    one, two = _chain("insp1", 3), _chain("insp22", 3)
    one[2] = one[2].model_copy(update={"actor": "x"})
    two[0] = two[0].model_copy(update={"actor": "x"})
    verdict = _verify_log(
        [], [("insp1", one), ("insp22", two)], {"insp1": _head(one), "insp22": _head(two)}
    )
    assert len(verdict.breaks) == 2
    assert verdict.first is not None and verdict.first.entry_id == min(one[2].id, two[0].id)  # type: ignore[type-var]
    line = verdict.summary()
    assert line.startswith(f"audit log BROKEN at entry id {verdict.first.entry_id} (chain ")
    assert "hash_mismatch" in line and "and 1 more broken chain" in line


def _anchor(entry: AuditEntry) -> Anchor:
    return Anchor(chain=entry.chain, seq=entry.seq, entry_hash=entry.entry_hash, at=T0)


def test_an_entry_rewritten_and_rehashed_without_the_key_is_a_hash_mismatch() -> None:
    entries = _chain("insp1", 4)
    victim = entries[1].model_copy(update={"actor": "someone else"})
    entries[1] = victim.model_copy(update={"entry_hash": victim.expected_hash(None)})
    found = verify_chain(entries, keys=KEYS)
    assert found is not None
    assert (found.problem, found.seq) == (Problem.hash_mismatch, 2)
    assert "HMAC under key k1" in found.explanation


def test_an_entry_under_a_key_the_keyring_lacks_is_named() -> None:
    found = verify_chain(_chain("insp1", 2), keys=AuditKeyring())
    assert found is not None and (found.problem, found.seq) == (Problem.unknown_key, 1)


def test_each_entry_verifies_under_the_key_it_names_after_a_rotation() -> None:
    new = AuditKey(key_id="k2", secret=b"n" * 32)
    old = _chain("insp1", 2)
    later = seal(
        seq=3,
        prev_hash=old[-1].entry_hash,
        at=T0,
        actor="a",
        action="b",
        inspection_id="insp1",
        document_id=None,
        detail={},
        key=new,
    )
    both = AuditKeyring(keys=(KEY, new))
    assert both.current == new
    assert verify_chain([*old, later], keys=both) is None
    assert later.expected_hash(KEY) != later.entry_hash


def test_an_unkeyed_entry_after_a_keyed_one_is_a_downgrade() -> None:
    entries = _chain("insp1", 3)
    victim = entries[2].model_copy(update={"key_id": None})
    entries[2] = victim.model_copy(update={"entry_hash": victim.expected_hash(None)})
    found = verify_chain(entries, keys=KEYS)
    assert found is not None and (found.problem, found.seq) == (Problem.unkeyed_after_keyed, 3)


def _unkeyed(count: int) -> list[AuditEntry]:
    entries, prev = [], GENESIS_HASH
    for n in range(1, count + 1):
        entry = seal(
            seq=n,
            prev_hash=prev,
            at=T0,
            actor="a",
            action="b",
            inspection_id="insp1",
            document_id=None,
            detail={},
            key=None,
        ).model_copy(update={"id": n})
        entries.append(entry)
        prev = entry.entry_hash
    return entries


def test_unkeyed_entries_verify_only_at_or_below_an_anchor() -> None:
    entries = _unkeyed(3)
    head = {"insp1": _head(entries)}
    unanchored = _verify_log([], [("insp1", entries)], head)
    assert unanchored.first is not None
    assert (unanchored.first.problem, unanchored.first.seq) == (Problem.unkeyed_unanchored, 1)
    partly = _verify_log([], [("insp1", entries)], head, anchors=[_anchor(entries[1])])
    assert partly.first is not None and partly.first.seq == 3
    whole = _verify_log([], [("insp1", entries)], head, anchors=[_anchor(entries[2])])
    assert whole.ok, whole.summary()
    assert whole.summary().endswith("(0 keyed, 3 unkeyed and anchored), 1 anchors hold")


def test_a_head_moved_back_below_an_anchor_names_the_first_removed_seq() -> None:
    entries = _chain("insp1", 6)
    kept = entries[:4]
    verdict = _verify_log(
        [], [("insp1", kept)], {"insp1": _head(kept)}, anchors=[_anchor(entries[5])]
    )
    assert verdict.first is not None
    assert (verdict.first.problem, verdict.first.seq) == (Problem.below_anchor, 5)
    assert "entries 5..6 were removed and the head moved back" in verdict.first.explanation


def test_an_anchored_entry_rewritten_with_the_key_is_caught_by_its_anchor() -> None:
    entries = _chain("insp1", 3)
    anchor = _anchor(entries[2])
    prev = entries[0].entry_hash
    forged = [entries[0]]
    for entry in entries[1:]:
        changed = entry.model_copy(update={"actor": "someone else", "prev_hash": prev})
        changed = changed.model_copy(update={"entry_hash": changed.expected_hash(KEY)})
        forged.append(changed)
        prev = changed.entry_hash
    verdict = _verify_log([], [("insp1", forged)], {"insp1": _head(forged)}, anchors=[anchor])
    assert verdict.first is not None
    assert (verdict.first.problem, verdict.first.seq) == (Problem.anchor_mismatch, 3)


def test_anchors_inside_a_lawfully_deleted_part_still_hold() -> None:
    entries = _chain("insp1", 4)
    portal = _portal(_deletion(entries, 900))
    verdict = _verify_log(
        portal,
        [],
        {"insp1": _head(entries), "portal": _head(portal)},
        anchors=[_anchor(entries[1]), _anchor(entries[3])],
    )
    assert verdict.ok, verdict.summary()


def test_only_heads_that_moved_since_their_last_anchor_are_due() -> None:
    one, two = _chain("insp1", 3), _chain("insp2", 2)
    heads = [
        _head(one),
        _head(two),
        ChainHead(chain="new", last_seq=0, last_entry_hash=GENESIS_HASH),
    ]
    first = anchors_due(heads, [], T0)
    assert [(a.chain, a.seq) for a in first] == [("insp1", 3), ("insp2", 2)]
    assert anchors_due(heads, first, T0) == []
    moved = [_head(_chain("insp1", 4)), _head(two)]
    assert [(a.chain, a.seq) for a in anchors_due(moved, first, T0)] == [("insp1", 4)]
