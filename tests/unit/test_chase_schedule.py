"""The chase deployment runs on weekday mornings and middays, London time, as configured."""

from flows.chase import chase_deployment
from portal.settings import Settings


def test_the_chase_deployment_runs_at_9_and_12_on_weekdays_in_london() -> None:
    deployment = chase_deployment(Settings().chase_crons)
    schedules = [s.schedule for s in deployment.schedules]  # type: ignore[attr-defined]
    assert [(s.cron, s.timezone) for s in schedules] == [
        ("0 9 * * 1-5", "Europe/London"),
        ("0 12 * * 1-5", "Europe/London"),
    ]


def test_the_schedule_is_configurable() -> None:
    deployment = chase_deployment(("30 8 * * 1-5",))
    assert [s.schedule.cron for s in deployment.schedules] == ["30 8 * * 1-5"]  # type: ignore[attr-defined]
