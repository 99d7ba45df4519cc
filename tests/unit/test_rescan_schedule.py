"""The rescan deployment looks for a signature change every 15 minutes, London time, and
takes a share of clamd a setting bounds (one scan at a time unless told)."""

from flows.rescan import rescan_deployment
from portal.settings import Settings


def test_the_rescan_deployment_runs_every_quarter_hour_in_london() -> None:
    deployment = rescan_deployment(Settings().rescan_cron)
    schedules = [s.schedule for s in deployment.schedules]  # type: ignore[attr-defined]
    assert [(s.cron, s.timezone) for s in schedules] == [("*/15 * * * *", "Europe/London")]


def test_a_rescan_takes_one_clamd_connection_unless_told_otherwise() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.rescan_connections, settings.rescan_batch_documents) == (1, 500)
