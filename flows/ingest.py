"""The `ingest` flow: one flow run over a micro-batch of claimed documents.

    for each document: scan -> classify -> sanitise -> check -> route -> record
    then: one table artifact listing every document of the run

A flow run costs ~120 ms of CPU here, so runs are per batch, not per document. Each
document's verdict is committed as it is reached (portal.ingest.process_document). A batch
in which a dependency failed raises at the end, so Prefect retries the run; documents
already decided are skipped on the retry.
"""

from __future__ import annotations

import asyncio

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

from portal.bootstrap import Container, build
from portal.domain.completeness import completeness_markdown
from portal.domain.documents import DocumentStatus
from portal.ingest import DocumentResult, process_document
from portal.services.chasing import notify_rejections
from portal.settings import Settings


class DependencyUnavailable(RuntimeError):
    """Raised at the end of a run in which documents failed for a transient reason."""


_wired: list[Container] = []


def use_container(container: Container) -> None:
    """Make flows in this process run on `container` (the worker and tests call this)."""
    _wired[:] = [container]


def current_container() -> Container:
    """The container flows in this process run on (built from the environment if unset)."""
    if not _wired:
        _wired.append(build(Settings(), run_migrations=False))
    return _wired[0]


@flow(
    name="ingest",
    persist_result=False,
    validate_parameters=False,
)
async def ingest(document_ids: list[str], claim_token: str) -> dict[str, int]:
    """Process a micro-batch of documents claimed under `claim_token`; return counts by status."""
    logger = get_run_logger()
    services = current_container().ingest_services()
    documents = services.repository.claim_documents(document_ids, claim_token, services.clock())
    results: list[DocumentResult] = []
    for document in documents:
        result = await asyncio.to_thread(process_document, document, claim_token, services)
        logger.info(
            "%s item %s: %s %s",
            document.id,
            document.item_number,
            result.status.value,
            ",".join(result.reasons),
        )
        results.append(result)
    await acreate_table_artifact(
        key="ingest-batch",
        table=[_artifact_row(r) for r in results],
        description=f"{len(results)} documents",
    )
    for inspection_id in sorted({d.inspection_id for d in documents}):
        await _publish_completeness(inspection_id)
    rejected = [r.document_id for r in results if r.status is DocumentStatus.rejected]
    if rejected:
        await asyncio.to_thread(notify_rejections, current_container(), rejected)
    failed = [r.document_id for r in results if r.is_transient_failure]
    if failed:
        raise DependencyUnavailable(f"{len(failed)} documents wait for a retry: {failed}")
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status.value] = counts.get(result.status.value, 0) + 1
    return counts


async def _publish_completeness(inspection_id: str) -> None:
    """Show the inspection's completeness matrix, as now, in the Prefect UI."""
    container = current_container()
    inspection = container.repository.get_inspection(inspection_id)
    if inspection is None:
        return
    now = container.clock.now()
    states = container.completeness(inspection, now)
    await acreate_markdown_artifact(
        key=f"completeness-{inspection_id.lower()}",
        markdown=completeness_markdown(
            f"{inspection.area_name} ({inspection.theme_key})", states, now
        ),
        description=f"Completeness of inspection {inspection_id}",
    )


def _artifact_row(result: DocumentResult) -> dict[str, str | int]:
    return {
        "document": result.document_id,
        "item": result.item_number,
        "status": result.status.value,
        "reasons": ", ".join(result.reasons),
        "warnings": ", ".join(result.warnings),
        "ms": result.milliseconds,
    }
