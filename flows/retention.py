"""The `retention` flow and its schedule:

    take over interrupted runs -> delete what is due, hold back what is held
    -> reduce names to initials -> record what went, with proof

Daily at night (JTAI_RETENTION_CRON, Europe/London) and on demand, e.g.
`prefect deployment run retention/retention -p dry_run=true`.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.schedules import Cron

from flows.ingest import current_container
from portal.services.retention_runs import run_retention

TIMEZONE = "Europe/London"


@flow(name="retention", retries=1, retry_delay_seconds=600, persist_result=False)
def retention(dry_run: bool = False) -> dict[str, int]:
    """Run retention as of now; a retry (or the next night's run) finishes what an
    interrupted attempt left. To look ahead, preview through POST /v1/retention/runs."""
    run = run_retention(current_container(), dry_run=dry_run, actor="prefect")
    rows = "\n".join(
        f"| {e.record_kind} | {e.record_id or ''} | {e.action} | {e.retention_class or ''} "
        f"| {e.rule} | {e.due or ''} | {e.reason} |"
        for e in run.entries
    )
    create_markdown_artifact(
        key="retention-run",
        markdown=f"# Retention run {run.id} ({'dry run' if run.dry_run else 'deleting'})\n\n"
        f"As of {run.as_of:%Y-%m-%d %H:%M %Z}. Summary: {run.summary}. "
        f"Completes interrupted runs: {', '.join(run.completes) or 'none'}.\n\n"
        "| record | id | action | class | rule | due | why |\n"
        "|---|---|---|---|---|---|---|\n" + rows + "\n",
    )
    get_run_logger().info("retention run %s: %s", run.id, run.summary)
    return {key: int(value) for key, value in run.summary.items()}


def retention_deployment(cron: str) -> object:
    """The `retention` deployment on its daily schedule (Europe/London); served by
    `jtai-portal scheduler` beside `chase`."""
    return retention.to_deployment(
        name="retention",
        schedules=[Cron(cron, timezone=TIMEZONE)],
        parameters={"dry_run": False},
    )
