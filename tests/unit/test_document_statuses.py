"""The status of many documents in one call: which ids are asked, and how a waiting call
decides to look again or answer (its clocks, its looks and its client are the test's)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from portal.domain.documents import Document, DocumentStatus
from portal.domain.errors import Refused
from portal.services.documents import MAX_STATUS_IDS, Statuses, checked_ids, hold_until_final

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _id(n: int) -> str:
    return f"{n:032x}"


def _document(n: int, status: DocumentStatus) -> Document:
    return Document(
        id=_id(n),
        inspection_id="i",
        agency="police",
        item_number="1.1",
        original_filename="a.pdf",
        status=status,
        received_at=T0,
        updated_at=T0,
    )


def _refusal(ids: list[str]) -> Refused:
    with pytest.raises(Refused) as refused:
        checked_ids(ids)
    return refused.value


def test_the_asked_ids_are_kept_in_order_each_once() -> None:
    assert checked_ids([_id(2), _id(1), _id(2)]) == [_id(2), _id(1)]


def test_the_most_ids_one_call_may_ask_about_are_taken() -> None:
    assert len(checked_ids([_id(n) for n in range(MAX_STATUS_IDS)])) == MAX_STATUS_IDS


def test_one_id_more_than_the_limit_is_refused_saying_the_limit_and_what_to_do() -> None:
    refused = _refusal([_id(n) for n in range(MAX_STATUS_IDS + 1)])
    assert (refused.code, refused.extensions["limit"]) == ("too_many_ids", MAX_STATUS_IDS)
    assert "split" in refused.detail and str(MAX_STATUS_IDS) in refused.detail


def test_repeats_do_not_count_against_the_limit() -> None:
    assert checked_ids([_id(1)] * (MAX_STATUS_IDS + 1)) == [_id(1)]


def test_no_ids_is_refused() -> None:
    assert _refusal([]).code == "no_ids"


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "A" * 32, _id(1)[:-1], _id(1) + "0", "", "0" * 31 + "g"]
)
def test_an_id_that_is_not_a_documents_is_refused_naming_it(bad: str) -> None:
    refused = _refusal([_id(1), bad])
    assert refused.code == "malformed_ids"
    assert repr(bad[:40]) in refused.detail


class Waiting:
    """A waiting call's world: the portal's clock and the monotonic clock move only when
    it sleeps (or when a test moves them), each look answers what the test has set."""

    def __init__(self, statuses: dict[int, DocumentStatus]) -> None:
        self.statuses = statuses
        self.now = T0
        self.monotonic = 1000.0
        self.looks: list[list[str]] = []
        self.sleeps: list[float] = []
        self.gone = False
        self.on_sleep: Callable[[], None] = lambda: None

    def snapshot(self, ids: list[str] | None = None) -> Statuses:
        wanted = ids if ids is not None else [_id(n) for n in self.statuses]
        return Statuses(
            documents=[_document(int(i, 16), self.statuses[int(i, 16)]) for i in wanted],
            unknown=[],
        )

    async def look_again(self, pending: list[str]) -> Statuses:
        self.looks.append(pending)
        return self.snapshot(pending)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        self.monotonic += seconds
        self.on_sleep()

    async def client_gone(self) -> bool:
        return self.gone

    def hold(self, wait_seconds: float, interval: float = 0.5) -> Statuses:
        async def run() -> Statuses:
            return await hold_until_final(
                self.snapshot(),
                self.look_again,
                wait_seconds=wait_seconds,
                interval=interval,
                now=lambda: self.now,
                client_gone=self.client_gone,
                monotonic=lambda: self.monotonic,
                sleep=self.sleep,
            )

        result: Statuses = anyio.run(run)
        return result


def _after_looks(world: Waiting, looks: int, change: Callable[[], None]) -> Callable[[], None]:
    def on_sleep() -> None:
        if len(world.sleeps) == looks:
            change()

    return on_sleep


def test_a_wait_with_nothing_pending_answers_without_looking_again() -> None:
    world = Waiting({1: DocumentStatus.accepted, 2: DocumentStatus.rejected})
    assert world.hold(30).pending == []
    assert world.looks == [] and world.sleeps == []


def test_a_wait_answers_at_the_first_look_that_finds_every_document_final() -> None:
    world = Waiting({1: DocumentStatus.accepted, 2: DocumentStatus.received})
    world.on_sleep = _after_looks(
        world, 3, lambda: world.statuses.__setitem__(2, DocumentStatus.rejected)
    )
    answer = world.hold(30)
    assert answer.pending == []
    assert [d.status for d in answer.documents] == [
        DocumentStatus.accepted,
        DocumentStatus.rejected,
    ]
    # Only the pending document is looked at again, once a sleep.
    assert world.looks == [[_id(2)]] * 3


def test_a_wait_ends_when_the_portals_clock_reaches_its_end() -> None:
    world = Waiting({1: DocumentStatus.processing})
    world.on_sleep = lambda: setattr(world, "now", T0 + timedelta(seconds=11))
    answer = world.hold(10)
    assert answer.pending == [_id(1)]
    # The first sleep moved the portal's clock past the end: one look after it, then the answer.
    assert len(world.looks) == 1


def test_a_wait_never_lasts_longer_than_asked_by_the_monotonic_clock() -> None:
    world = Waiting({1: DocumentStatus.processing})
    # The portal's clock stands still (as a test's does, or a machine's stepped back).
    world.on_sleep = lambda: setattr(world, "now", T0)
    answer = world.hold(2, interval=0.5)
    assert answer.pending == [_id(1)]
    assert sum(world.sleeps) == pytest.approx(2)
    assert len(world.looks) == 4


def test_the_last_sleep_is_cut_to_the_end_of_the_wait() -> None:
    world = Waiting({1: DocumentStatus.received})
    world.hold(1.2, interval=0.5)
    assert world.sleeps == pytest.approx([0.5, 0.5, 0.2])


def test_a_portal_clock_that_goes_back_ends_the_wait() -> None:
    world = Waiting({1: DocumentStatus.received})
    world.on_sleep = lambda: setattr(world, "now", T0 - timedelta(hours=1))
    world.hold(30)
    assert len(world.looks) == 1


def test_a_client_that_has_gone_ends_the_wait_without_another_look() -> None:
    world = Waiting({1: DocumentStatus.received})
    world.on_sleep = _after_looks(world, 2, lambda: setattr(world, "gone", True))
    world.hold(30)
    assert len(world.looks) == 1 and len(world.sleeps) == 2


def test_statuses_updated_keep_the_asked_order_and_the_unknown() -> None:
    first = Statuses(
        documents=[_document(1, DocumentStatus.received), _document(2, DocumentStatus.received)],
        unknown=[_id(9)],
    )
    later = first.updated([_document(1, DocumentStatus.accepted)])
    assert [d.id for d in later.documents] == [_id(1), _id(2)]
    assert (later.pending, later.unknown) == ([_id(2)], [_id(9)])
