"""What a lead sees of a batch in the Prefect UI: the pipeline's six steps as task runs with
their document counts, a flow run named after what it carries, and a tag per inspection that
finds that inspection's runs (asked of a real Prefect server through its API)."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, TaskRun
from prefect.client.schemas.sorting import TaskRunSort

from portal.settings import Settings
from tests import samples
from tests.conftest import ClamdProcess
from tests.factories import build_portal
from tests.scenario.harness import PortalUnderTest, start_portal

pytestmark = pytest.mark.usefixtures("prefect_server")


async def _runs_tagged(tag: str) -> list[FlowRun]:
    async with get_client() as client:
        return await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag]))
        )


async def _task_runs_of(flow_run_id: UUID) -> list[TaskRun]:
    async with get_client() as client:
        return await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )


def _task_runs_once_recorded(flow_run_id: UUID, expected: int) -> list[TaskRun]:
    """Task runs reach the server as events, recorded in batches up to a few seconds
    after the flow run ends (PREFECT_SERVER_TUNING): wait for `expected` runs, each in a
    final state."""
    deadline = time.monotonic() + 30
    while True:
        runs = asyncio.run(_task_runs_of(flow_run_id))
        recorded = len(runs) >= expected and all(r.state and r.state.is_final() for r in runs)
        if recorded or time.monotonic() > deadline:
            return runs
        time.sleep(0.2)


def _upload(portal: PortalUnderTest, filename: str, data: bytes) -> str:
    response = portal.upload(filename, data)
    assert response.status_code == 202, response.text
    document_id: str = response.json()["id"]
    return document_id


def test_a_batch_shows_the_six_steps_with_their_counts_and_each_inspection_finds_its_runs(
    settings: Settings, running_clamd: ClamdProcess
) -> None:
    # The worker's steps are what the runs show: no scan on arrival stops EICAR before them.
    container = build_portal(settings.model_copy(update={"upload_scan_connections": 0}))
    first, second = start_portal(container), start_portal(container)
    uploaded = [
        _upload(first, "minutes.pdf", samples.pdf_text_pages(1)),
        _upload(first, "eicar.txt", samples.eicar()),  # stopped at scan
        _upload(first, "agenda.pdf", samples.pdf_text_pages(2)),
        _upload(second, "plan.pdf", samples.pdf_text_pages(3)),
    ]
    assert sorted(first.process_pending()) == sorted(uploaded)  # one batch, one flow run
    later = _upload(second, "structure.pdf", samples.pdf_text_pages(4))
    assert second.process_pending() == [later]

    (run,) = asyncio.run(_runs_tagged(f"inspection:{first.inspection_id}"))
    assert run.name == "ingest · 4 docs · 2 inspections"
    assert sorted(run.tags) == sorted(
        [f"inspection:{first.inspection_id}", f"inspection:{second.inspection_id}"]
    )
    task_runs = _task_runs_once_recorded(run.id, expected=6)
    assert [t.name for t in task_runs] == [
        "scan · 4 docs",
        "classify · 3 docs",
        "sanitise · 3 docs",
        "check · 3 docs",
        "route · 3 docs",
        "record · 4 docs",
    ]
    assert {t.state_type.value for t in task_runs if t.state_type} == {"COMPLETED"}

    second_runs = asyncio.run(_runs_tagged(f"inspection:{second.inspection_id}"))
    assert sorted(r.name for r in second_runs) == [
        "ingest · 1 doc · 1 inspection",
        "ingest · 4 docs · 2 inspections",
    ]
    assert first.status(uploaded[1])["status"] == "rejected"
    assert [first.status(i)["status"] for i in (uploaded[0], uploaded[2])] == ["accepted"] * 2
