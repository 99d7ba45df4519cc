"""The ingest steps run in the order DESIGN.md draws, and the start refuses any other."""

from __future__ import annotations

import pytest

from flows.ingest import PIPELINE_TASKS
from portal.ingest import PIPELINE, STEPS, check_step_order


def test_the_flow_runs_one_task_per_step_in_the_designs_order() -> None:
    assert [t.name for t in PIPELINE_TASKS] == list(PIPELINE)
    assert PIPELINE == ("scan", "classify", "sanitise", "check", "route", "record")


def test_the_plain_loop_runs_the_same_steps_in_the_same_order() -> None:
    assert [s.__name__ for s in STEPS] == list(PIPELINE[:-1])
    check_step_order()


@pytest.mark.parametrize(
    "names",
    [
        ["classify", "scan", "sanitise", "check", "route", "record"],
        ["scan", "classify", "check", "route", "record"],
        ["scan", "classify", "sanitise", "check", "route", "record", "route"],
    ],
)
def test_a_pipeline_out_of_order_or_missing_a_step_stops_the_start(names: list[str]) -> None:
    with pytest.raises(RuntimeError, match="out of order"):
        check_step_order(names)
