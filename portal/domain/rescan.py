"""Rescanning what the portal holds when clamd's signatures change: which documents, in
what order, and what a rescan's reply means. Pure rules, no I/O.

Held means readable: accepted, its content not deleted (nor being deleted by retention).
Documents still in the pipeline (received, processing, failed) are not rescanned: the
ingest pipeline scans each one before it can be accepted, asking clamd which signatures it
has loaded at that moment, so its verdict records them; one that a batch scanned just
before the change records the older version and is picked up here once accepted. The
rescan never reads the quarantine area, where the pipeline claims and deletes originals.

Identical bytes are scanned once per signature version: a verdict is kept by (sha256,
engine, signatures version), so a document that three agencies uploaded is scanned once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from portal.domain.documents import Area
from portal.domain.scanning import ScanReply, ScanStatus
from portal.domain.signatures import Signatures


class RescanVerdict(StrEnum):
    """What one signature version says of some bytes."""

    clean = "clean"
    infected = "infected"


class KnownVerdict(BaseModel):
    """A verdict kept for some bytes under one engine and signature version."""

    model_config = ConfigDict(frozen=True)

    verdict: RescanVerdict
    signature: str = ""
    """What clamd found (infected); empty when clean."""


class RescanCandidate(BaseModel):
    """A held document as the rescan sees it: where its bytes are, their digest, which
    signatures judged it, and how new its inspection is."""

    model_config = ConfigDict(frozen=True)

    document_id: str
    inspection_id: str
    inspection_created_at: datetime
    decided_at: datetime | None = None
    area: Area
    sha256: str | None = None
    """The digest of its stored bytes (None: never recorded; scanned on its own)."""
    scan_engine: str | None = None
    scan_signatures: str | None = None

    @property
    def object_key(self) -> str:
        """The key of its bytes inside its area (as Document.object_key)."""
        return f"{self.inspection_id}/{self.document_id}"


def needs_rescan(scan_engine: str | None, scan_signatures: str | None, now: Signatures) -> bool:
    """Whether a verdict recorded under `scan_engine` and `scan_signatures` was reached
    with other signatures than those loaded `now`: a different version or engine, or none
    recorded (scanned before verdicts recorded them)."""
    return scan_signatures != now.version or scan_engine != now.engine


def newest_inspections_first(candidates: Iterable[RescanCandidate]) -> list[RescanCandidate]:
    """The order documents are rescanned in: the newest inspection first (the one being
    read now), and within one inspection the most recently decided document first; ties
    by id, so every run agrees."""
    ordered = sorted(candidates, key=lambda c: c.document_id)
    ordered.sort(key=lambda c: (c.decided_at is not None, c.decided_at), reverse=True)
    ordered.sort(key=lambda c: (c.inspection_created_at, c.inspection_id), reverse=True)
    return ordered


class SameBytes(BaseModel):
    """Documents of one batch whose stored bytes are identical: scanned once, through the
    first of them, and judged together."""

    model_config = ConfigDict(frozen=True)

    key: str
    """Their sha256, or `document:<id>` for a document whose digest was never recorded."""
    documents: tuple[RescanCandidate, ...]

    @property
    def first(self) -> RescanCandidate:
        """The document whose bytes are read."""
        return self.documents[0]


class RescanBatch(BaseModel):
    """The documents one run takes, in order, and how many differing ones it leaves."""

    model_config = ConfigDict(frozen=True)

    documents: tuple[RescanCandidate, ...] = ()
    left: int = 0

    @property
    def empty(self) -> bool:
        """True when nothing differs: the run has nothing to do."""
        return not self.documents and not self.left

    @property
    def digests(self) -> set[str]:
        """The recorded sha256 of the batch's documents (whose verdicts may be known)."""
        return {d.sha256 for d in self.documents if d.sha256}


def select_batch(
    candidates: Iterable[RescanCandidate], now: Signatures, max_documents: int
) -> RescanBatch:
    """The run's documents: of the `candidates` judged under other signatures than `now`
    (or none recorded), the first `max_documents`, newest inspections first; the rest are
    counted as left for the next run."""
    if max_documents < 1:
        raise ValueError("a rescan takes at least one document a run")
    differing = [c for c in candidates if needs_rescan(c.scan_engine, c.scan_signatures, now)]
    ordered = newest_inspections_first(differing)
    return RescanBatch(
        documents=tuple(ordered[:max_documents]),
        left=max(len(ordered) - max_documents, 0),
    )


class RescanPlan(BaseModel):
    """What one run does with its batch: the bytes to scan, and the documents judged by a
    verdict already kept for their bytes under the new signatures."""

    model_config = ConfigDict(frozen=True)

    to_scan: tuple[SameBytes, ...] = ()
    already_judged: tuple[tuple[RescanCandidate, KnownVerdict], ...] = ()
    left: int = 0


def plan_rescan(batch: RescanBatch, known: Mapping[str, KnownVerdict]) -> RescanPlan:
    """The batch's work: documents whose bytes (sha256) already have a verdict in `known`
    (kept under the new signatures) are judged by it; the others are grouped by their
    bytes, in the batch's order, so each distinct content is scanned once."""
    judged: list[tuple[RescanCandidate, KnownVerdict]] = []
    groups: dict[str, list[RescanCandidate]] = {}
    for candidate in batch.documents:
        verdict = known.get(candidate.sha256) if candidate.sha256 else None
        if verdict is not None:
            judged.append((candidate, verdict))
        else:
            key = candidate.sha256 or f"document:{candidate.document_id}"
            groups.setdefault(key, []).append(candidate)
    return RescanPlan(
        to_scan=tuple(SameBytes(key=k, documents=tuple(d)) for k, d in groups.items()),
        already_judged=tuple(judged),
        left=batch.left,
    )


def judge_rescan(reply: ScanReply) -> KnownVerdict | None:
    """What a rescan's reply says of the bytes: clean only on clamd's exact clean reply;
    infected on anything clamd found (its heuristic alerts too: the pipeline would reject
    such a file today); None for a reply that is no verdict (clamd in trouble: the run
    stops, the document stays as it was)."""
    if reply.status is ScanStatus.clean:
        return KnownVerdict(verdict=RescanVerdict.clean)
    if reply.status is ScanStatus.found:
        return KnownVerdict(verdict=RescanVerdict.infected, signature=reply.signature or "")
    return None


class RescanCounts(BaseModel):
    """What one run did, in counts (what its artifact and return value show)."""

    scanned: int = 0
    """Scans clamd made: one per distinct bytes."""
    skipped_identical: int = 0
    """Documents judged without a scan of their own: their bytes were scanned under these
    signatures already (earlier, or through another document of the run)."""
    withdrawn: int = 0
    """Documents withdrawn, found infected (or a withdrawal interrupted before, finished)."""
    clean: int = 0
    """Documents recorded clean under the new signatures."""
    left: int = 0
    """Documents judged under other signatures still, for the next run."""

    def as_dict(self) -> dict[str, int]:
        """The counts by name."""
        return self.model_dump()


GAVE_WAY = "documents were waiting for the ingest pipeline, which comes first"
"""Why a run that gave way to uploads stopped early (JTAI_RESCAN_GIVES_WAY)."""


def counts_markdown(counts: RescanCounts, signatures: str, stopped: str | None) -> str:
    """The run's artifact: the signature version, the counts, and why it stopped early (a
    sentence with no document's name), if it did."""
    rows = "\n".join(f"| {name.replace('_', ' ')} | {n} |" for name, n in counts.as_dict().items())
    why = f"\n\nStopped early: {stopped}. The next run goes on." if stopped else ""
    return (
        f"# Rescan under signatures {signatures}\n\n| documents | count |\n|---|---|\n{rows}{why}\n"
    )
