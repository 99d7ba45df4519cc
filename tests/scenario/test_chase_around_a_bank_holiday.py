"""Chasing a domestic-abuse inspection whose week 1 holds the early May bank holiday:
one reminder per agency and deadline on the first working day of its window, none on the
holiday or at weekends, each exactly once under concurrent runs, and lead-inspector
alerts after each Tuesday and Thursday 5pm deadline, all captured by a real SMTP server."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest

from portal.adapters.mail import SmtpMailer
from portal.domain.timeline import LONDON
from portal.services.chasing import run_chase
from portal.settings import Settings
from tests.conftest import ClamdProcess
from tests.factories import build_portal
from tests.integration.smtp_fixtures import SmtpServer
from tests.scenario.harness import start_portal

FIELDWORK = date(2025, 5, 19)  # week 1 is 5-9 May 2025; Monday 5 May is a bank holiday
BANK_HOLIDAY = date(2025, 5, 5)


@pytest.fixture
def chased(
    settings: Settings, running_clamd: ClamdProcess, smtp_server: SmtpServer
) -> tuple[object, SmtpServer]:
    container = build_portal(settings)
    portal = start_portal(container, fieldwork_start=FIELDWORK)
    response = portal.client.post(
        "/v1/inspections",
        headers=portal.auth("admin"),
        json={
            "theme": "domestic-abuse/sept-2024",
            "area_name": "Mayshire",
            "fieldwork_start": FIELDWORK.isoformat(),
            "contacts": {
                "lead_inspector": ["lead@inspectorate.example"],
                "agencies": {
                    "local_authority": ["la@council.example"],
                    "police": ["police@force.example"],
                    "health": ["health@icb.example"],
                },
            },
        },
    )
    assert response.status_code == 201, response.text
    return (container, response.json()), smtp_server


def test_chasing_across_a_bank_holiday_week(chased: tuple[object, SmtpServer]) -> None:
    (container, inspection), server = chased  # type: ignore[misc]
    mailer = SmtpMailer(server.host, server.port, timeout=5)
    notification = date.fromisoformat(inspection["notification_date"])
    assert notification == date(2025, 5, 2)  # moved before the bank holiday
    sent_on: dict[date, list[str]] = {}
    day = notification
    while day < FIELDWORK:
        for hour in (9, 12):
            as_of = datetime.combine(day, time(hour), tzinfo=LONDON)
            before = len(server.inbox.message_keys())
            runs = [
                threading.Thread(target=run_chase, args=(container, mailer, as_of))
                for _ in range(2)
            ]
            for run in runs:
                run.start()
            for run in runs:
                run.join()
            sent_on.setdefault(day, []).extend(server.inbox.message_keys()[before:])
        day += timedelta(days=1)

    keys = [k for k in server.inbox.message_keys() if k.startswith(inspection["id"])]
    assert len(keys) == len(set(keys)), "a message went out twice"
    for quiet in (date(2025, 5, 3), date(2025, 5, 4), BANK_HOLIDAY, date(2025, 5, 10)):
        assert sent_on[quiet] == [], quiet
    reminders = Counter(d for d, ks in sent_on.items() for k in ks if k.endswith(":reminder"))
    assert reminders[date(2025, 5, 2)] > 0 and reminders[date(2025, 5, 6)] > 0
    # One reminder per agency and deadline, at the first run of its window (two working
    # days ahead, the bank holiday not counted, never before notification): Thursday's
    # lists on Tuesday, though the lead's Wednesday deadline comes between.
    reminded_on = {
        k.split(":", 1)[1]: d for d, ks in sent_on.items() for k in ks if k.endswith(":reminder")
    }
    assert {k: d for k, d in reminded_on.items() if k.startswith("local_authority:")} == {
        "local_authority:week1_tuesday_5pm:reminder": date(2025, 5, 2),
        "local_authority:week1_thursday_5pm:reminder": date(2025, 5, 6),
        "local_authority:week2_tuesday_5pm:reminder": date(2025, 5, 9),
    }
    assert reminded_on["police:week2_tuesday_5pm:reminder"] == date(2025, 5, 9)
    assert not any("_wednesday_" in k or "_friday_" in k for k in reminded_on)
    alerts = {k.split(":")[2] for k in keys if k.endswith(":lead_alert")}
    assert {"week1_tuesday_5pm", "week1_thursday_5pm", "week2_tuesday_5pm"} <= alerts
    first_alert_day = min(
        d
        for d, ks in sent_on.items()
        if any(k.endswith("week1_tuesday_5pm:lead_alert") for k in ks)
    )
    assert first_alert_day == date(2025, 5, 7)  # the morning after 5pm Tuesday 6 May
    alerts_api = container.repository.outbox(inspection["id"])  # type: ignore[attr-defined]
    assert all(m.status == "sent" and m.sent_at for m in alerts_api)
