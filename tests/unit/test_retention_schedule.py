"""The retention deployment runs every night, London time, as configured, deleting."""

from flows.retention import retention_deployment
from portal.settings import Settings


def test_the_retention_deployment_runs_nightly_in_london_and_deletes() -> None:
    deployment = retention_deployment(Settings().retention_cron)
    schedules = [s.schedule for s in deployment.schedules]  # type: ignore[attr-defined]
    assert [(s.cron, s.timezone) for s in schedules] == [("30 2 * * *", "Europe/London")]
    assert deployment.parameters == {"dry_run": False}  # type: ignore[attr-defined]
