"""The audit log's hash chains: hashing, verifying one chain, and verifying the whole log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.domain.audit_chain import (
    CHAIN_DELETED,
    GENESIS_HASH,
    PORTAL_CHAIN,
    AuditEntry,
    ChainHead,
    Problem,
    entry_hash,
    seal,
    verify_chain,
    verify_log,
)
from portal.domain.timeline import LONDON

T0 = datetime(2026, 6, 1, 9, 30, 15, 123456, tzinfo=UTC)


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
        )
        entries.append(entry.model_copy(update={"id": n * 10 + len(inspection_id or "")}))
        prev = entry.entry_hash
    return entries


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
    assert verify_chain(_chain("insp1", 5)) is None
    assert verify_chain([]) is None


def test_an_altered_detail_is_named_as_a_hash_mismatch() -> None:
    entries = _chain("insp1", 5)
    entries[2] = entries[2].model_copy(update={"detail": {"rule": "off_site", "n": 3}})
    found = verify_chain(entries)
    assert found is not None
    assert (found.problem, found.seq, found.entry_id) == (Problem.hash_mismatch, 3, entries[2].id)
    assert "changed after it was written" in found.explanation


def test_an_entry_altered_and_resealed_breaks_the_link_of_the_next() -> None:
    entries = _chain("insp1", 5)
    altered = entries[2].model_copy(update={"actor": "intruder"})
    entries[2] = altered.model_copy(update={"entry_hash": altered.expected_hash()})
    found = verify_chain(entries)
    assert found is not None
    assert (found.problem, found.seq) == (Problem.prev_hash_mismatch, 4)


def test_a_removed_entry_is_a_seq_gap_at_the_entry_after_it() -> None:
    entries = _chain("insp1", 5)
    del entries[1]
    found = verify_chain(entries)
    assert found is not None
    assert (found.problem, found.seq) == (Problem.seq_gap, 3)
    assert "entries 2..2 are missing" in found.explanation


def test_a_chain_missing_its_beginning_is_a_seq_gap_naming_the_missing_entries() -> None:
    entries = _chain("insp1", 5)[2:]
    found = verify_chain(entries)
    assert found is not None and found.problem is Problem.seq_gap
    assert "entries 1..2 are missing" in found.explanation


def test_an_event_filed_in_another_inspections_chain_is_found() -> None:
    entries = _chain("insp1", 3)
    entries[1] = entries[1].model_copy(update={"inspection_id": "insp2"})
    found = verify_chain(entries)
    assert found is not None and found.problem is Problem.wrong_chain


def test_a_whole_log_with_a_lawfully_deleted_chain_verifies() -> None:
    kept, deleted = _chain("insp1", 3), _chain("insp2", 4)
    portal = _portal(*_chain(None, 2), _deletion(deleted, 900))
    verdict = verify_log(
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
    verdict = verify_log(
        portal, [("insp1", later)], {"insp1": _head(later), "portal": _head(portal)}
    )
    assert verdict.ok, verdict.summary()


def test_a_chain_gone_without_a_deletion_record_is_caught() -> None:
    gone = _chain("insp2", 4)
    verdict = verify_log([], [], {"insp2": _head(gone)}, expected_chains=["insp2"])
    assert verdict.first is not None
    assert verdict.first.problem is Problem.chain_missing
    assert "no audit_chain_deleted event" in verdict.first.explanation


def test_an_inspection_without_any_chain_is_caught() -> None:
    verdict = verify_log([], [], {}, expected_chains=["insp3"])
    assert verdict.first is not None and verdict.first.problem is Problem.chain_missing


def test_lost_newest_entries_are_caught_by_the_head() -> None:
    entries = _chain("insp1", 5)
    verdict = verify_log([], [("insp1", entries[:3])], {"insp1": _head(entries)})
    assert verdict.first is not None
    assert (verdict.first.problem, verdict.first.seq) == (Problem.missing_tail, 4)
    assert "entries 4..5 are missing" in verdict.first.explanation


def test_a_deletion_record_that_does_not_cover_the_missing_entries_is_caught() -> None:
    entries = _chain("insp1", 6)
    portal = _portal(_deletion(entries[2:4], 900))
    verdict = verify_log(
        portal, [("insp1", entries[4:])], {"insp1": _head(entries), "portal": _head(portal)}
    )
    assert verdict.first is not None
    assert verdict.first.problem is Problem.bad_deletion_record
    assert verdict.first.entry_id == 900


def test_deleting_a_broken_chain_does_not_hide_that_it_was_broken() -> None:
    entries = _chain("insp1", 3)
    portal = _portal(_deletion(entries, 900, verified=False))
    verdict = verify_log(portal, [], {"insp1": _head(entries), "portal": _head(portal)})
    assert verdict.first is not None and verdict.first.problem is Problem.bad_deletion_record
    assert "already broken" in verdict.first.explanation


def test_the_first_broken_entry_is_the_one_written_first() -> None:
    one, two = _chain("insp1", 3), _chain("insp22", 3)
    one[2] = one[2].model_copy(update={"actor": "x"})
    two[0] = two[0].model_copy(update={"actor": "x"})
    verdict = verify_log(
        [], [("insp1", one), ("insp22", two)], {"insp1": _head(one), "insp22": _head(two)}
    )
    assert len(verdict.breaks) == 2
    assert verdict.first is not None and verdict.first.entry_id == min(one[2].id, two[0].id)  # type: ignore[type-var]
    line = verdict.summary()
    assert line.startswith(f"audit log BROKEN at entry id {verdict.first.entry_id} (chain ")
    assert "hash_mismatch" in line and "and 1 more broken chain" in line
