"""The `rescan` flow and its schedule: when clamd's signatures change, scan again what the
portal holds.

    signatures now -> select -> scan -> withdraw -> record
    then: a markdown artifact (key `rescan-run`) with the counts

Every JTAI_RESCAN_CRON (every 15 minutes, Europe/London) and on demand
(`prefect deployment run rescan/rescan`). A run asks clamd once which signatures it has
loaded; if every held document was judged under them, it returns at once. Otherwise it
takes a bounded batch (JTAI_RESCAN_BATCH_DOCUMENTS), newest inspections first; scans each
distinct content once (identical bytes already judged under these signatures are not
scanned again) with at most JTAI_RESCAN_CONNECTIONS scans at a time, the share of clamd
given to rescans; withdraws what is found; records the rest as judged clean. If clamd
stops answering, the run records what it reached and ends failed; the next run goes on.

The artifact, logs and return value carry counts, the signature version and document ids
only: never a filename.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.schedules import Cron

from flows.ingest import current_container
from portal.domain.rescan import GAVE_WAY, RescanCounts, RescanPlan, counts_markdown
from portal.domain.signatures import ScannedWith, Signatures
from portal.services.rescan import (
    Judged,
    ScanRound,
    Withdrawals,
    judged_documents,
    plan_batch,
    record_judged,
    scan_distinct,
    withdraw_found,
)

TIMEZONE = "Europe/London"


class RescanStopped(RuntimeError):
    """Raised at the end of a run that stopped early (clamd or the store did not answer):
    what it reached is recorded; the next run goes on with the rest."""


@task(name="signatures", persist_result=False, cache_policy=NONE)
def signatures_now() -> Signatures:
    """The signatures clamd has loaded now, asked once a run."""
    return current_container().scanner.signatures()


@task(name="select", persist_result=False, cache_policy=NONE)
def select(signatures: Signatures, max_documents: int) -> RescanPlan:
    """The held documents judged under other signatures: a bounded batch, newest
    inspections first, identical bytes grouped."""
    return plan_batch(current_container(), signatures, max_documents)


@task(name="scan", persist_result=False, cache_policy=NONE)
def scan(plan: RescanPlan, connections: int) -> ScanRound:
    """Each distinct content of the batch scanned once, `connections` at a time."""
    container = current_container()
    give_way = container.settings.rescan_gives_way
    return scan_distinct(container, plan.to_scan, connections, give_way=give_way)


@task(name="withdraw", persist_result=False, cache_policy=NONE)
def withdraw(judged: list[Judged], signatures: Signatures) -> Withdrawals:
    """The documents found infected withdrawn (and earlier withdrawals finished)."""
    return withdraw_found(current_container(), judged, signatures)


@task(name="record", persist_result=False, cache_policy=NONE)
def record(judged: list[Judged], scanned: ScannedWith) -> int:
    """The verdicts kept, the clean documents recorded under the new signatures."""
    return record_judged(current_container(), judged, scanned)


@flow(name="rescan", persist_result=False)
def rescan(max_documents: int | None = None) -> dict[str, int]:
    """Rescan the held documents judged under other signatures than clamd's now (at most
    `max_documents`, default JTAI_RESCAN_BATCH_DOCUMENTS); the counts: scanned (scans
    made), skipped_identical, withdrawn, clean, left (for the next run)."""
    container = current_container()
    settings = container.settings
    logger = get_run_logger()
    signatures = signatures_now()
    scanned_with = ScannedWith(signatures=signatures, at=container.clock.now())
    plan = select(signatures, max_documents or settings.rescan_batch_documents)
    unsettled = container.repository.unsettled_withdrawals()
    if not plan.to_scan and not plan.already_judged and not unsettled:
        logger.info("rescan: every held document was judged under %s", signatures.version)
        return RescanCounts(left=plan.left).as_dict()
    scans = scan(plan, settings.rescan_connections)
    judged = judged_documents(plan, scans)
    withdrawals = withdraw(judged, signatures)
    clean = record(judged, scanned_with)
    counts = RescanCounts(
        scanned=len(scans.verdicts),
        skipped_identical=sum(not j.scanned_itself for j in judged),
        withdrawn=len(withdrawals.withdrawn),
        clean=clean,
        left=plan.left + sum(len(g.documents) for g in scans.not_scanned),
    )
    stopped = scans.stopped or withdrawals.stopped
    create_markdown_artifact(
        key="rescan-run",
        markdown=counts_markdown(
            counts, signatures.version, stopped or (GAVE_WAY if scans.gave_way else None)
        ),
        description=f"Rescan under signatures {signatures.version}",
    )
    logger.info(
        "rescan under %s: %s; withdrawn: %s",
        signatures.version,
        counts.as_dict(),
        ", ".join(withdrawals.withdrawn) or "none",
    )
    if stopped:
        raise RescanStopped(f"rescan stopped early ({stopped}); {counts.left} documents left")
    return counts.as_dict()


def rescan_deployment(cron: str) -> object:
    """The `rescan` deployment on its schedule (JTAI_RESCAN_CRON, Europe/London); served by
    `jtai-portal scheduler` beside `chase` and `retention`."""
    return rescan.to_deployment(name="rescan", schedules=[Cron(cron, timezone=TIMEZONE)])


DEPLOYMENT = "rescan/rescan"


def request_rescan(api_url: str) -> str:
    """Ask the Prefect server at `api_url` to run the rescan deployment now (the scheduler
    serves it, and runs it when its worker polls); returns the flow run's name. Raises if
    the server or the deployment cannot be reached at once (no retries): the schedule's
    next run still comes, so a caller reports it and carries on."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url, PREFECT_CLIENT_MAX_RETRIES: 0}):
        run = run_deployment(DEPLOYMENT, timeout=0, tags=["signatures-installed"])
    return str(run.name)  # type: ignore[union-attr]  # called outside an event loop: a FlowRun
