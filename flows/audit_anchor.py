"""The `audit-anchor` flow and its schedule: copy every audit chain head that moved since
its last anchor to the anchor sink (an append-only file, or an S3 bucket under Object
Lock), so that whoever can rewrite the database cannot remove or rewrite anchored events
unseen. Every few minutes (JTAI_AUDIT_ANCHOR_CRON); a quiet log writes nothing.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.schedules import Cron

from flows.ingest import current_container
from portal.services.audit import anchor_heads

TIMEZONE = "Europe/London"


@flow(name="audit-anchor", retries=2, retry_delay_seconds=30, persist_result=False)
def audit_anchor() -> int:
    """Anchor the moved heads now; the number of chains anchored (ids and counts only in
    the log: chain ids are inspection ids)."""
    container = current_container()
    anchored = anchor_heads(container.audit_log, container.anchor_sink, container.clock.now())
    get_run_logger().info("audit anchor: %d chain heads anchored", len(anchored))
    return len(anchored)


def audit_anchor_deployment(cron: str) -> object:
    """The `audit-anchor` deployment on its schedule; served by `jtai-portal scheduler`."""
    return audit_anchor.to_deployment(
        name="audit-anchor", schedules=[Cron(cron, timezone=TIMEZONE)]
    )
