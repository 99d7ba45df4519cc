"""What was sent before an upload is counted in the order uploads were received, so "the 3
most recent" warns on the fourth received, however the uploads were batched or timed."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.domain.documents import Document, DocumentStatus
from portal.domain.reasons import WarningCode
from portal.domain.receipt_order import earlier_uploads
from portal.domain.scope import UploadFacts, decide_upload
from tests.unit.test_scope import THEME

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _upload(n: int, **changes: Any) -> Document:
    fields: dict[str, Any] = {
        "id": f"doc-{n}",
        "inspection_id": "insp",
        "agency": "local_authority",
        "item_number": "1.8",
        "original_filename": "minutes.pdf",
        "status": DocumentStatus.processing,
        "sha256_received": "same-bytes",
        "received_at": T0 + timedelta(seconds=n),
        "updated_at": T0,
        **changes,
    }
    return Document(**fields)


def _warnings(uploads: list[Document]) -> list[set[WarningCode]]:
    """Each upload's warnings for item 1.8 ("the 3 most recent sets of minutes")."""
    found = []
    for upload in uploads:
        earlier = earlier_uploads(upload, uploads)
        facts = UploadFacts(
            agency=upload.agency,
            item=upload.item_number,
            sent_earlier_for_slot=earlier.in_slot,
            duplicate=earlier.same_bytes,
        )
        found.append(set(decide_upload(THEME, facts).warnings))
    return found


FOURTH_OF_FOUR_IDENTICAL = [
    set(),
    {WarningCode.duplicate},
    {WarningCode.duplicate},
    {WarningCode.duplicate, WarningCode.more_than_requested},
]


@pytest.mark.parametrize(
    "statuses",
    list(itertools.product([DocumentStatus.accepted, DocumentStatus.processing], repeat=4)),
)
def test_the_fourth_upload_received_warns_whichever_are_decided_already(
    statuses: tuple[DocumentStatus, ...],
) -> None:
    uploads = [_upload(n, status=status) for n, status in enumerate(statuses)]
    assert _warnings(uploads) == FOURTH_OF_FOUR_IDENTICAL


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_the_count_does_not_depend_on_the_order_uploads_are_looked_at(
    order: tuple[int, ...],
) -> None:
    uploads = [_upload(n) for n in range(4)]
    shuffled = [uploads[i] for i in order]
    assert [earlier_uploads(u, shuffled).in_slot for u in uploads] == [0, 1, 2, 3]


def test_uploads_received_in_the_same_instant_are_ordered_by_id() -> None:
    uploads = [_upload(n, received_at=T0) for n in range(4)]
    assert [earlier_uploads(u, uploads).in_slot for u in uploads] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("status", "counts"),
    [
        (DocumentStatus.accepted, True),
        (DocumentStatus.received, True),
        (DocumentStatus.processing, True),
        (DocumentStatus.failed, True),
        (DocumentStatus.rejected, False),
        (DocumentStatus.withdrawn, False),
    ],
)
def test_an_earlier_upload_counts_unless_it_was_rejected_or_withdrawn(
    status: DocumentStatus, counts: bool
) -> None:
    earlier, later = _upload(0, status=status), _upload(1)
    found = earlier_uploads(later, [earlier, later])
    assert (found.in_slot, found.same_bytes) == ((1, True) if counts else (0, False))


def test_a_rejected_upload_leaves_the_fourth_sent_as_the_third() -> None:
    uploads = [_upload(n) for n in range(5)]
    uploads[1] = _upload(1, status=DocumentStatus.rejected)
    assert [earlier_uploads(u, uploads).in_slot for u in uploads] == [0, 1, 1, 2, 3]


def test_a_withdrawn_upload_no_longer_counts_among_the_3_most_recent() -> None:
    uploads = [_upload(n, status=DocumentStatus.accepted) for n in range(3)]
    uploads[0] = _upload(0, status=DocumentStatus.withdrawn)
    fourth = _upload(3)
    assert _warnings([*uploads, fourth])[-1] == {WarningCode.duplicate}


def test_later_uploads_and_other_items_agencies_and_inspections_do_not_count() -> None:
    upload = _upload(5)
    others = [
        _upload(6, id="later"),
        _upload(1, id="other-item", item_number="1.4"),
        _upload(1, id="other-agency", agency="health"),
        _upload(1, id="other-inspection", inspection_id="insp-2"),
    ]
    assert earlier_uploads(upload, [upload, *others]) == earlier_uploads(upload, [])


def test_case_records_count_per_child_but_the_same_bytes_for_another_child_are_a_duplicate() -> (
    None
):
    first = _upload(0, item_number="case_record", child_id="C1")
    other_child = _upload(1, item_number="case_record", child_id="C2")
    found = earlier_uploads(other_child, [first, other_child])
    assert found.in_slot == 0
    assert found.same_bytes


def test_different_bytes_are_not_a_duplicate_and_unknown_bytes_never_are() -> None:
    first = _upload(0)
    assert not earlier_uploads(_upload(1, sha256_received="other"), [first]).same_bytes
    assert not earlier_uploads(_upload(1, sha256_received=None), [first]).same_bytes
