"""A batch's scope checks ask the database once per item, selection and inspection."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import UTC, datetime

from portal.domain.documents import Document, DocumentStatus
from portal.domain.extra_items import ExtraItem
from portal.ingest import ReadOnce


class _CountingReads:
    def __init__(self) -> None:
        self.asked: Counter[tuple[str, ...]] = Counter()

    def selection(self, inspection_id: str, stage: str) -> tuple[str, ...]:
        self.asked["selection", inspection_id, stage] += 1
        return (f"{inspection_id}-{stage}",)

    def extra_items(self, inspection_id: str) -> list[ExtraItem]:
        self.asked["extra_items", inspection_id] += 1
        return []

    def uploads_for_item(self, inspection_id: str, agency: str, item: str) -> list[Document]:
        self.asked["uploads_for_item", inspection_id, agency, item] += 1
        return []

    def uploads_for_items(
        self, inspection_id: str, agency: str, items: Collection[str]
    ) -> dict[str, list[Document]]:
        self.asked["uploads_for_items", inspection_id, agency, *sorted(items)] += 1
        return {item: [_sent(inspection_id, agency, item)] for item in items}


def _sent(inspection_id: str, agency: str, item: str) -> Document:
    """A document sent for this item, its id naming where it was sent."""
    return Document(
        id=f"{inspection_id}-{agency}-{item}",
        inspection_id=inspection_id,
        agency=agency,
        item_number=item,
        original_filename="a.pdf",
        status=DocumentStatus.received,
        size_bytes=1,
        received_at=datetime(2027, 3, 2, 9, tzinfo=UTC),
        updated_at=datetime(2027, 3, 2, 9, tzinfo=UTC),
    )


def test_each_read_is_asked_of_the_database_once_per_batch_and_answers_the_same() -> None:
    database = _CountingReads()
    reads = ReadOnce(database)
    for _ in range(3):
        assert reads.uploads_for_item("i1", "police", "3.1") == [_sent("i1", "police", "3.1")]
        assert reads.uploads_for_item("i1", "health", "3.1") == [_sent("i1", "health", "3.1")]
        assert reads.selection("i1", "audit") == ("i1-audit",)
        assert reads.selection("i2", "audit") == ("i2-audit",)
        assert reads.extra_items("i1") == []
    assert set(database.asked.values()) == {1}
    assert len(database.asked) == 5


def test_the_first_look_at_an_agencys_item_reads_all_its_items_in_the_batch_at_once() -> None:
    database = _CountingReads()
    batch = [("i1", "police", "3.1"), ("i1", "police", "3.2"), ("i1", "health", "3.1")]
    reads = ReadOnce(database, batch)
    for inspection_id, agency, item in [*batch, ("i1", "police", "3.3"), *batch]:
        (sent,) = reads.uploads_for_item(inspection_id, agency, item)
        assert sent.id == f"{inspection_id}-{agency}-{item}"  # each item its own documents
    assert database.asked == {
        ("uploads_for_items", "i1", "police", "3.1", "3.2"): 1,
        ("uploads_for_items", "i1", "health", "3.1"): 1,
        ("uploads_for_items", "i1", "police", "3.3"): 1,
    }


def test_another_batch_asks_again() -> None:
    database = _CountingReads()
    ReadOnce(database).selection("i1", "shortlist")
    ReadOnce(database).selection("i1", "shortlist")
    assert database.asked["selection", "i1", "shortlist"] == 2
