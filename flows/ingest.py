"""The `ingest` flow: one flow run over a micro-batch of claimed documents, one task per step.

    claim -> scan -> classify -> sanitise -> check -> route -> record
    then: one table artifact listing every document, completeness, rejection notices

Each step is a Prefect task over the whole batch (portal.ingest.run_step: the step for every
document still in play), so orchestration costs six task runs and one flow run per batch, not
per document, and the Prefect UI shows the pipeline with each step's document count. The
tasks run in this process, one after another, on the batch's temp workspace, which the flow
opens once around them. Each verdict is committed by `record` before the quarantined
original is deleted; a batch in which a dependency failed raises at the end, so Prefect
retries the run, and documents already decided are not claimed again on the retry.

Run names, tags, task-run names, logs and the batch's artifact carry document ids, item
numbers, codes and counts only: never a filename (it may carry a child's name).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from contextlib import ExitStack
from functools import partial
from typing import Any

from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NONE
from prefect.settings import get_current_settings
from prefect.tasks import TaskRunNameCallbackWithParameters

from portal.bootstrap import Container, build
from portal.domain.completeness import completeness_markdown
from portal.domain.documents import DocumentStatus
from portal.ingest import (
    STEPS,
    Batch,
    DocumentResult,
    check_step_order,
    open_batch,
    record,
    run_step,
)
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


def run_name(document_count: int, inspection_count: int) -> str:
    """The name of a flow run over a batch: what it carries, in counts only."""
    documents = "doc" if document_count == 1 else "docs"
    inspections = "inspection" if inspection_count == 1 else "inspections"
    return f"ingest · {document_count} {documents} · {inspection_count} {inspections}"


def inspection_tags(inspection_ids: Iterable[str]) -> list[str]:
    """The tags of a flow run over documents of these inspections: `inspection:<id>` each,
    so the Prefect UI filters one inspection's runs."""
    return [f"inspection:{inspection_id}" for inspection_id in sorted(set(inspection_ids))]


BatchTask = Task[[Batch], Coroutine[Any, Any, Batch]]


def _as_task(name: str, work: Callable[[Batch], Batch]) -> BatchTask:
    """A Prefect task named `name` that runs `work` over the batch in a worker thread (the
    flow's event loop stays free), with no result persistence and no cache: a task run here
    costs a few state events, nothing more. Its runs are named `<name> · <n> docs`."""

    async def step(batch: Batch) -> Batch:
        return await asyncio.to_thread(work, batch)

    step.__name__ = step.__qualname__ = name
    return task(
        name=name, task_run_name=_CountedRunName(name), persist_result=False, cache_policy=NONE
    )(step)


class _CountedRunName(TaskRunNameCallbackWithParameters):
    """Names a step's task run after the documents it works on: all of the batch for
    record, those still in play for the others."""

    def __init__(self, step: str) -> None:
        self.step = step

    def __call__(self, parameters: dict[str, Any]) -> str:
        batch: Batch = parameters["batch"]
        count = len(batch.items) if self.step == "record" else len(batch.in_play)
        return f"{self.step} · {count} {'doc' if count == 1 else 'docs'}"


PIPELINE_TASKS: tuple[BatchTask, ...] = (
    *(_as_task(step.__name__, partial(run_step, step)) for step in STEPS),
    _as_task("record", record),
)
"""scan, classify, sanitise, check, route, record: the tasks the flow runs, in this order."""

check_step_order([t.name for t in PIPELINE_TASKS])


@flow(
    name="ingest",
    persist_result=False,
    # Nothing is ever stored there (no result is persisted); naming Prefect's own local
    # default saves each run asking the server for its default storage (a request a run).
    result_storage=get_current_settings().results.local_storage_path,
    validate_parameters=False,
)
async def ingest(document_ids: list[str], claim_token: str) -> dict[str, int]:
    """Process a micro-batch of documents claimed under `claim_token`; return counts by status."""
    services = current_container().ingest_services()
    documents = services.repository.claim_documents(document_ids, claim_token, services.clock())
    with ExitStack() as workspace:
        # Fetching the quarantined bytes (S3: downloads) blocks: not on the event loop.
        batch = await asyncio.to_thread(
            workspace.enter_context, open_batch(documents, claim_token, services)
        )
        for step in PIPELINE_TASKS:
            batch = await step(batch)
    results = batch.results
    _log_results(results)
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
    return batch.counts()


def _log_results(results: list[DocumentResult]) -> None:
    logger = get_run_logger()
    for result in results:
        logger.info(
            "%s item %s: %s %s",
            result.document_id,
            result.item_number,
            result.status.value,
            ",".join(result.reasons),
        )


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
