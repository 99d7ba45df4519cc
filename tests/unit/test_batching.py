"""How a worker forms its batches (portal.domain.batching): a batch starts at once when no
run is going, and while one is, only when it is full or has lingered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.domain.batching import WaitingDocument, batch_is_due, choose_batch

NOW = datetime(2027, 3, 2, 16, 0, tzinfo=UTC)
LINGER = timedelta(seconds=1)


def _waiting(
    count: int, size: int = 100, waited: timedelta = timedelta(0)
) -> list[WaitingDocument]:
    return [
        WaitingDocument(id=f"d{n}", size_bytes=size, waiting_since=NOW - waited)
        for n in range(count)
    ]


def test_a_batch_takes_the_oldest_up_to_its_count_and_bytes_and_always_one() -> None:
    assert [d.id for d in choose_batch(_waiting(5), 3, 10_000)] == ["d0", "d1", "d2"]
    assert [d.id for d in choose_batch(_waiting(5, size=400), 10, 1_000)] == ["d0", "d1"]
    assert [d.id for d in choose_batch(_waiting(2, size=5_000), 10, 1_000)] == ["d0"]
    assert choose_batch([], 10, 1_000) == []


def test_with_no_run_going_any_batch_starts_at_once() -> None:
    waiting = _waiting(1)
    assert batch_is_due(waiting, waiting, 32, waited_enough_at=None)


def test_nothing_waiting_is_never_due() -> None:
    assert not batch_is_due([], [], 32, waited_enough_at=None)
    assert not batch_is_due([], [], 32, waited_enough_at=NOW - LINGER)


def test_while_a_run_is_going_a_young_partial_batch_waits() -> None:
    waiting = _waiting(5, waited=timedelta(milliseconds=300))
    assert not batch_is_due(waiting, waiting, 32, waited_enough_at=NOW - LINGER)


def test_while_a_run_is_going_a_batch_that_has_lingered_starts() -> None:
    waiting = _waiting(5, waited=LINGER)
    assert batch_is_due(waiting, waiting, 32, waited_enough_at=NOW - LINGER)


def test_while_a_run_is_going_a_full_batch_starts_however_young() -> None:
    waiting = _waiting(33)
    chosen = choose_batch(waiting, 32, 10**9)
    assert batch_is_due(chosen, waiting, 32, waited_enough_at=NOW - LINGER)


def test_a_batch_full_by_its_bytes_starts_however_young() -> None:
    waiting = _waiting(5, size=400)
    chosen = choose_batch(waiting, 32, 1_000)
    assert len(chosen) == 2
    assert batch_is_due(chosen, waiting, 32, waited_enough_at=NOW - LINGER)
