"""How a worker forms its batches (portal.domain.batching): a batch starts when it is full,
when its oldest document has lingered (longer while a run is going), or when uploads pause
with no run going."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.domain.batching import (
    LINGERS_BESIDE_A_RUN,
    BatchRule,
    WaitingDocument,
    batch_is_due,
    choose_batch,
    due_batch,
    next_look,
    uploads_paused,
)

NOW = datetime(2027, 3, 2, 16, 0, tzinfo=UTC)
LINGERED_SINCE = NOW - timedelta(seconds=1)


def _waiting(
    count: int, size: int = 100, waited: timedelta = timedelta(0)
) -> list[WaitingDocument]:
    return [
        WaitingDocument(id=f"d{n}", size_bytes=size, received_at=NOW - waited) for n in range(count)
    ]


def _due(chosen: list[WaitingDocument], waiting: list[WaitingDocument], paused: bool) -> bool:
    return batch_is_due(chosen, waiting, 32, waited_enough_at=LINGERED_SINCE, uploads_paused=paused)


def test_a_batch_takes_the_oldest_up_to_its_count_and_bytes_and_always_one() -> None:
    assert [d.id for d in choose_batch(_waiting(5), 3, 10_000)] == ["d0", "d1", "d2"]
    assert [d.id for d in choose_batch(_waiting(5, size=400), 10, 1_000)] == ["d0", "d1"]
    assert [d.id for d in choose_batch(_waiting(2, size=5_000), 10, 1_000)] == ["d0"]
    assert choose_batch([], 10, 1_000) == []


def test_nothing_waiting_is_never_due() -> None:
    assert not _due([], [], paused=True)


def test_a_young_partial_batch_waits_while_uploads_keep_arriving() -> None:
    waiting = _waiting(5, waited=timedelta(milliseconds=300))
    assert not _due(waiting, waiting, paused=False)


def test_a_partial_batch_starts_when_uploads_pause() -> None:
    waiting = _waiting(1)
    assert _due(waiting, waiting, paused=True)


def test_a_partial_batch_that_has_lingered_starts() -> None:
    waiting = _waiting(5, waited=timedelta(seconds=1))
    assert _due(waiting, waiting, paused=False)


def test_a_full_batch_starts_however_young() -> None:
    waiting = _waiting(33)
    assert _due(choose_batch(waiting, 32, 10**9), waiting, paused=False)


def test_a_batch_full_by_its_bytes_starts_however_young() -> None:
    waiting = _waiting(5, size=400)
    chosen = choose_batch(waiting, 32, 1_000)
    assert len(chosen) == 2
    assert _due(chosen, waiting, paused=False)


def test_uploads_have_paused_when_the_same_documents_waited_a_whole_poll_interval() -> None:
    first = next_look(None, _waiting(2), at=10.0)
    again = next_look(first, _waiting(2), at=10.04)
    assert again == first  # the same documents: their time keeps counting
    assert not uploads_paused(again, 10.04, runs_going=0, look_interval=0.1)
    assert uploads_paused(again, 10.15, runs_going=0, look_interval=0.1)


def test_uploads_have_not_paused_while_new_documents_arrive() -> None:
    first = next_look(None, _waiting(2), at=10.0)
    more = next_look(first, _waiting(3), at=10.5)
    assert more.since == 10.5
    assert not uploads_paused(more, 10.55, runs_going=0, look_interval=0.1)


def test_uploads_never_count_as_paused_while_a_run_is_going() -> None:
    look = next_look(None, _waiting(2), at=10.0)
    assert not uploads_paused(look, 20.0, runs_going=1, look_interval=0.1)


RULE = BatchRule(max_documents=32, max_bytes=10**9, linger=timedelta(seconds=1), look_interval=0.1)


def _due_with_runs(waiting: list[WaitingDocument], runs_going: int) -> bool:
    _, chosen = due_batch(waiting, None, RULE, now=NOW, at=10.0, runs_going=runs_going)
    return bool(chosen)


def test_while_a_run_is_going_a_lingered_partial_batch_gathers_for_the_next_run() -> None:
    lingered = _waiting(20, waited=timedelta(seconds=1))
    assert _due_with_runs(lingered, runs_going=0)
    assert not _due_with_runs(lingered, runs_going=1)


def test_beside_a_going_run_a_full_batch_starts_and_so_does_one_that_waited_long() -> None:
    assert _due_with_runs(_waiting(33), runs_going=1)
    waited_long = _waiting(3, waited=timedelta(seconds=LINGERS_BESIDE_A_RUN))
    assert _due_with_runs(waited_long, runs_going=1)
    nearly = _waiting(3, waited=timedelta(seconds=LINGERS_BESIDE_A_RUN) - timedelta(milliseconds=1))
    assert not _due_with_runs(nearly, runs_going=1)
