"""Rescanning held documents when clamd's signatures change: the steps the `rescan` flow
orders (flows/rescan.py), each safe to repeat.

    signatures now -> select (newest inspections first, a bounded batch, verdicts already
    kept for identical bytes) -> scan each distinct content once, at a bounded share of
    clamd -> withdraw what is found -> record the rest as judged clean, and every verdict

Fails closed: a document is recorded clean under the new signatures only on clamd's exact
clean reply; if clamd (or the store) stops answering, the run stops scanning and records
what it reached; the rest stays as it was, for the next run. Nothing becomes readable
here: a rescan only ever withdraws.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from portal.domain.errors import ObjectMissing, ScannerUnavailable, TransientError
from portal.domain.rescan import (
    KnownVerdict,
    RescanCandidate,
    RescanPlan,
    RescanVerdict,
    SameBytes,
    judge_rescan,
    plan_rescan,
    select_batch,
)
from portal.domain.signatures import ScannedWith, Signatures
from portal.domain.withdrawal import RESCAN_ACTOR
from portal.services.withdrawal import withdraw_infected

if TYPE_CHECKING:
    from portal.bootstrap import Container

log = logging.getLogger(__name__)


def plan_batch(container: Container, signatures: Signatures, max_documents: int) -> RescanPlan:
    """This run's work under `signatures`: at most `max_documents` held documents judged
    under other signatures, newest inspections first; those whose bytes were judged under
    these signatures already take that verdict, the others grouped by identical bytes."""
    repository = container.repository
    candidates = repository.rescan_candidates(signatures.engine, signatures.version)
    batch = select_batch(candidates, signatures, max_documents)
    known = repository.scan_verdicts(batch.digests, signatures.engine, signatures.version)
    return plan_rescan(batch, known)


@dataclass
class ScanRound:
    """What scanning a batch's distinct contents reached: a verdict per content scanned,
    the contents not scanned (clamd stopped, or their bytes were gone), and why the round
    stopped early, if it did."""

    verdicts: dict[str, KnownVerdict] = field(default_factory=dict)
    not_scanned: list[SameBytes] = field(default_factory=list)
    stopped: str | None = None
    gave_way: bool = False
    """True when the round stopped because documents waited for the ingest pipeline."""


def scan_distinct(
    container: Container,
    groups: Sequence[SameBytes],
    connections: int,
    give_way: bool = False,
) -> ScanRound:
    """Scan each group's bytes once (the first document's stored copy), in order, at most
    `connections` scans at a time. A reply that is no verdict, or a scanner or store that
    does not answer, stops the round: scans not yet started are not made. With `give_way`,
    so does a document waiting for the ingest pipeline (looked for before each scan):
    uploads come first, the next run goes on."""
    outcome = ScanRound()
    stop = threading.Event()
    lock = threading.Lock()

    def scan_one(group: SameBytes) -> None:
        if not stop.is_set() and give_way and container.repository.waiting_for_pipeline():
            stop.set()
            with lock:
                outcome.gave_way = True
        if stop.is_set():
            with lock:
                outcome.not_scanned.append(group)
            return
        try:
            verdict = _scan_stored(container, group.first)
        except ObjectMissing:
            log.warning("rescan: the bytes of document %s are gone", group.first.document_id)
            verdict = None
        except TransientError as exc:
            stop.set()
            with lock:
                outcome.stopped = outcome.stopped or str(exc)
                outcome.not_scanned.append(group)
            return
        with lock:
            if verdict is None:
                outcome.not_scanned.append(group)
            else:
                outcome.verdicts[group.key] = verdict

    with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="rescan") as pool:
        list(pool.map(scan_one, groups))
    return outcome


def _scan_stored(container: Container, document: RescanCandidate) -> KnownVerdict:
    """The verdict of clamd on a document's stored bytes; raises ScannerUnavailable (a
    TransientError) for a reply that is no verdict."""
    with container.store.open(document.area, document.object_key) as source:
        reply = container.scanner.scan(source)
    verdict = judge_rescan(reply)
    if verdict is None:
        raise ScannerUnavailable(f"clamd gave no verdict on a rescan: {reply.raw[:80]!r}")
    return verdict


@dataclass(frozen=True)
class Judged:
    """A document of the batch and the verdict that judges it under the new signatures,
    and whether that came from a scan of its own bytes."""

    document: RescanCandidate
    verdict: KnownVerdict
    scanned_itself: bool


def judged_documents(plan: RescanPlan, scans: ScanRound) -> list[Judged]:
    """Every document of the plan that has a verdict now, in the plan's order: those
    judged by a kept verdict, then each scanned content's documents (the first scanned
    itself, the others judged by its scan)."""
    judged = [Judged(d, v, scanned_itself=False) for d, v in plan.already_judged]
    for group in plan.to_scan:
        verdict = scans.verdicts.get(group.key)
        if verdict is not None:
            judged += [Judged(d, verdict, i == 0) for i, d in enumerate(group.documents)]
    return judged


def scanner_words(signatures: Signatures) -> str:
    """The scanner as a withdrawn document's detail names it: `ClamAV <engine>/<version>`."""
    return f"ClamAV {signatures.engine}/{signatures.version}"


@dataclass
class Withdrawals:
    """What withdrawing the found documents did: those withdrawn (or finished), and why
    the step stopped early, if it did (the store; those documents are unreadable already
    and the next run finishes them)."""

    withdrawn: list[str] = field(default_factory=list)
    stopped: str | None = None


def withdraw_found(
    container: Container, judged: Sequence[Judged], signatures: Signatures
) -> Withdrawals:
    """Withdraw every judged document found infected, and finish every withdrawal an
    earlier run left unsettled. A store that cannot be changed stops nothing else: each
    document is tried, and the first failure said."""
    done = Withdrawals()
    found = [(j.document.document_id, j.verdict.signature) for j in judged if _infected(j)]
    unsettled = [(d, "") for d in container.repository.unsettled_withdrawals()]
    for document_id, signature in [*unsettled, *found]:
        try:
            withdrawal = withdraw_infected(
                container, document_id, signature, scanner_words(signatures), actor=RESCAN_ACTOR
            )
        except TransientError as exc:
            log.warning("rescan: withdrawing document %s waits for the next run", document_id)
            done.stopped = done.stopped or str(exc)
            continue
        if withdrawal.outcome.acts:
            done.withdrawn.append(document_id)
    return done


def _infected(judged: Judged) -> bool:
    return judged.verdict.verdict is RescanVerdict.infected


def record_judged(container: Container, judged: Sequence[Judged], scanned: ScannedWith) -> int:
    """Keep every verdict scanned under `scanned`'s signatures (by digest) and record each
    clean document as judged by them, in one transaction; how many were recorded."""
    digests = {
        j.document.sha256: j.verdict for j in judged if j.scanned_itself and j.document.sha256
    }
    clean = [j.document.document_id for j in judged if not _infected(j)]
    return container.repository.record_rescan(digests, clean, scanned, RESCAN_ACTOR)
