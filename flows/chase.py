"""The `chase` flow and its schedule:

    plan what every inspection is owed now -> record it in the outbox -> send it

Scheduled on weekdays at 09:00 and 12:00, Europe/London: each agency's reminder of a
deadline goes at the first run inside its window (policies/chasing.yaml), overdue notices
and the lead's alert at the first run after the deadline (so the 12:00 run follows an 11am
one). The plan itself skips England and Wales bank holidays, so nothing goes out on them.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.schedules import Cron

from flows.ingest import current_container
from portal.services.chasing import run_chase

TIMEZONE = "Europe/London"


@flow(name="chase", retries=1, retry_delay_seconds=300, persist_result=False)
def chase(as_of: datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Send every reminder and alert owed now (or as of `as_of`); failed sends wait for the
    next run, never duplicated."""
    container = current_container()
    report = run_chase(container, container.mailer, as_of, dry_run=dry_run)
    rows = "\n".join(
        f"| {m.kind.value} | {m.agency or 'lead inspector'} | {m.deadline} | {m.subject} |"
        for m in report.planned
    )
    create_markdown_artifact(
        key="chase-run",
        markdown=f"# Chase as of {report.as_of:%Y-%m-%d %H:%M %Z}\n\nRecorded "
        f"{report.recorded}, sent {report.sent}, left for later {report.failed}.\n\n"
        "| kind | to | deadline | subject |\n|---|---|---|---|\n" + rows + "\n",
    )
    get_run_logger().info(
        "chase: %d planned, %d new, %d sent, %d failed",
        len(report.planned),
        report.recorded,
        report.sent,
        report.failed,
    )
    return {
        "planned": len(report.planned),
        "recorded": report.recorded,
        "sent": report.sent,
        "failed": report.failed,
    }


def chase_deployment(crons: tuple[str, ...]) -> object:
    """The `chase` deployment on the given cron schedules (JTAI_CHASE_CRONS), Europe/London;
    served by `jtai-portal scheduler`."""
    return chase.to_deployment(
        name="chase",
        schedules=[Cron(cron, timezone=TIMEZONE) for cron in crons],
    )
