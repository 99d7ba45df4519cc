"""Which held documents a rescan takes, in what order, what it scans once for identical
bytes, and what clamd's reply on a rescan means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.domain.documents import Area
from portal.domain.rescan import (
    KnownVerdict,
    RescanCandidate,
    RescanCounts,
    RescanVerdict,
    counts_markdown,
    judge_rescan,
    needs_rescan,
    newest_inspections_first,
    plan_rescan,
    select_batch,
)
from portal.domain.scanning import parse_scan_reply
from portal.domain.signatures import Signatures

OLD = Signatures(engine="1.4.3", database_version=27505)
NEW = Signatures(engine="1.4.3", database_version=27506)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CLEAN = KnownVerdict(verdict=RescanVerdict.clean)


def _candidate(document_id: str, **changes: Any) -> RescanCandidate:
    fields: dict[str, Any] = {
        "document_id": document_id,
        "inspection_id": "older",
        "inspection_created_at": T0,
        "decided_at": T0,
        "area": Area.clean,
        "sha256": f"sha-{document_id}",
        "scan_engine": OLD.engine,
        "scan_signatures": OLD.version,
        **changes,
    }
    return RescanCandidate(**fields)


def test_a_verdict_under_other_signatures_or_none_recorded_needs_a_rescan() -> None:
    assert needs_rescan(OLD.engine, OLD.version, NEW)
    assert needs_rescan(None, None, NEW)  # scanned before verdicts recorded signatures
    assert needs_rescan("1.4.2", NEW.version, NEW)  # another engine: changed too
    assert not needs_rescan(NEW.engine, NEW.version, NEW)


def test_the_newest_inspection_goes_first_and_within_it_the_latest_decided() -> None:
    newer = T0 + timedelta(days=7)
    documents = [
        _candidate("a"),
        _candidate("b", inspection_id="newer", inspection_created_at=newer),
        _candidate("c", inspection_id="newer", inspection_created_at=newer, decided_at=newer),
        _candidate("d", decided_at=None),
        _candidate("e", decided_at=T0 + timedelta(hours=1)),
    ]

    ordered = [c.document_id for c in newest_inspections_first(documents)]

    assert ordered == ["c", "b", "e", "a", "d"]


def test_a_batch_takes_only_documents_judged_under_other_signatures_and_counts_the_rest() -> None:
    documents = [
        _candidate("a", decided_at=T0 + timedelta(hours=3)),
        _candidate("b", decided_at=T0 + timedelta(hours=2)),
        _candidate("current", scan_signatures=NEW.version),
        _candidate("c", decided_at=T0 + timedelta(hours=1)),
    ]

    batch = select_batch(documents, NEW, max_documents=2)

    assert [d.document_id for d in batch.documents] == ["a", "b"]
    assert batch.left == 1
    assert select_batch(documents[2:3], NEW, max_documents=2).empty


def test_a_batch_takes_at_least_one_document() -> None:
    with pytest.raises(ValueError, match="at least one"):
        select_batch([], NEW, max_documents=0)


def test_identical_bytes_are_scanned_once_and_bytes_judged_already_not_again() -> None:
    documents = [
        _candidate("a", sha256="same"),
        _candidate("b", sha256="judged"),
        _candidate("c", sha256="same"),
        _candidate("d", sha256=None),
        _candidate("e", sha256=None),
    ]
    batch = select_batch(documents, NEW, max_documents=10)

    plan = plan_rescan(batch, {"judged": CLEAN})

    assert [(g.key, [d.document_id for d in g.documents]) for g in plan.to_scan] == [
        ("same", ["a", "c"]),
        ("document:d", ["d"]),  # no digest recorded: its own bytes, scanned on their own
        ("document:e", ["e"]),
    ]
    assert [(d.document_id, v) for d, v in plan.already_judged] == [("b", CLEAN)]


def test_only_clamds_exact_clean_reply_is_clean_on_a_rescan() -> None:
    assert judge_rescan(parse_scan_reply("stream: OK")) == CLEAN
    found = judge_rescan(parse_scan_reply("stream: Pdf.Exploit.Rescan-1 FOUND"))
    assert found == KnownVerdict(verdict=RescanVerdict.infected, signature="Pdf.Exploit.Rescan-1")
    heuristic = judge_rescan(parse_scan_reply("stream: Heuristics.Encrypted.PDF FOUND"))
    assert heuristic is not None and heuristic.verdict is RescanVerdict.infected
    assert judge_rescan(parse_scan_reply("stream: something else")) is None
    assert judge_rescan(parse_scan_reply("")) is None


def test_the_run_artifact_gives_counts_and_the_version_and_says_why_it_stopped() -> None:
    counts = RescanCounts(scanned=3, skipped_identical=1, withdrawn=1, clean=3, left=2)

    text = counts_markdown(counts, NEW.version, "cannot connect to clamd")

    assert "# Rescan under signatures 27506" in text
    for row in (
        "| scanned | 3 |",
        "| skipped identical | 1 |",
        "| withdrawn | 1 |",
        "| left | 2 |",
    ):
        assert row in text
    assert "Stopped early: cannot connect to clamd." in text
    assert "Stopped" not in counts_markdown(counts, NEW.version, None)
