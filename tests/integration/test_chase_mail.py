"""Chase runs send through a real SMTP server, each message exactly once, on SQLite and
PostgreSQL, retrying after an SMTP failure without duplicates."""

from __future__ import annotations

import threading
from datetime import date, datetime
from pathlib import Path

import pytest

from portal.adapters.mail import OutboxDirectoryMailer, SmtpMailer
from portal.bootstrap import Container
from portal.domain.access import Inspection, InspectionState, Role
from portal.domain.chase import Contacts
from portal.domain.ports import OutgoingMail
from portal.domain.timeline import LONDON
from portal.services.chasing import run_chase
from portal.services.identities import issue_token
from portal.settings import Settings
from tests.conftest import ClamdProcess
from tests.factories import build_portal
from tests.integration.smtp_fixtures import SmtpServer, free_port

FIELDWORK = date(2025, 6, 16)
TUESDAY_9AM = datetime(2025, 6, 3, 9, 0, tzinfo=LONDON)
WEDNESDAY_9AM = datetime(2025, 6, 4, 9, 0, tzinfo=LONDON)


@pytest.fixture(params=["sqlite", "postgresql"])
def container(request: pytest.FixtureRequest, settings: Settings, clamd: ClamdProcess) -> Container:
    if request.param == "postgresql":
        settings = settings.model_copy(
            update={"database_url": request.getfixturevalue("postgres_url")}
        )
    container = build_portal(settings)
    for inspection_id in container.repository.list_inspection_ids():  # a shared PostgreSQL
        container.repository.set_contacts(inspection_id, Contacts())
    inspection = Inspection(
        id=f"chase{datetime.now():%H%M%S%f}",
        theme_key="domestic-abuse/sept-2024",
        area_name="Chaseshire",
        fieldwork_start=FIELDWORK,
        agencies=("local_authority", "police"),
        created_at=container.clock.now(),
    )
    container.repository.add_inspection(inspection, "test")
    container.repository.set_contacts(
        inspection.id,
        Contacts(
            lead_inspector=("lead@inspectorate.example",),
            agencies={
                "local_authority": ("la@council.example",),
                "police": ("police@force.example",),
            },
        ),
    )
    issue_token(container, Role.admin)
    return container


def _smtp(server: SmtpServer) -> SmtpMailer:
    return SmtpMailer(server.host, server.port, timeout=5)


def test_the_smtp_mailer_delivers_with_the_idempotency_key(smtp_server: SmtpServer) -> None:
    _smtp(smtp_server).send(
        OutgoingMail(
            key="k1",
            sender="portal@example",
            recipients=("a@example",),
            subject="Hello",
            body="Body\n",
        )
    )
    assert smtp_server.inbox.message_keys() == ["k1"]
    assert smtp_server.inbox.messages[0]["Subject"] == "Hello"


def test_reminders_go_only_to_agencies_with_items_missing_for_deadlines_in_their_window(
    container: Container,
    smtp_server: SmtpServer,
) -> None:
    report = run_chase(container, _smtp(smtp_server), TUESDAY_9AM)
    assert report.sent == report.recorded == len(report.planned) > 0
    recipients = {str(m["To"]) for m in smtp_server.inbox.messages}
    # Week 1's lists (Tuesday's, and Thursday's two working days ahead) are the local
    # authority's; of the police, only Thursday's details of the fieldwork week's meetings
    # (001 para 121) are in the window: week 2's opens on Friday.
    assert recipients == {"la@council.example", "police@force.example"}
    assert sorted(
        (
            str(m["To"]),
            next(d for d in ("5pm Tuesday 3 June", "5pm Thursday 5 June") if d in m.get_payload()),
        )
        for m in smtp_server.inbox.messages
    ) == [
        ("la@council.example", "5pm Thursday 5 June"),
        ("la@council.example", "5pm Tuesday 3 June"),
        ("police@force.example", "5pm Thursday 5 June"),
    ]


def test_concurrent_chase_runs_send_each_message_once(
    container: Container,
    smtp_server: SmtpServer,
) -> None:
    mailer = _smtp(smtp_server)
    threads = [
        threading.Thread(target=run_chase, args=(container, mailer, WEDNESDAY_9AM))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = smtp_server.inbox.message_keys()
    assert keys and len(keys) == len(set(keys))
    assert any(k.endswith(":lead_alert") for k in keys)


def test_a_failed_send_is_retried_by_the_next_run_without_duplicates(
    container: Container,
    smtp_server: SmtpServer,
) -> None:
    down = SmtpMailer("127.0.0.1", free_port(), timeout=2)
    first = run_chase(container, down, TUESDAY_9AM)
    assert first.sent == 0 and first.failed == first.recorded > 0
    second = run_chase(container, _smtp(smtp_server), TUESDAY_9AM)
    assert second.recorded == 0 and second.sent == first.failed
    third = run_chase(container, _smtp(smtp_server), TUESDAY_9AM)
    assert third.sent == 0
    assert len(smtp_server.inbox.message_keys()) == first.failed


def test_a_dry_run_records_and_sends_nothing(container: Container, smtp_server: SmtpServer) -> None:
    report = run_chase(container, _smtp(smtp_server), TUESDAY_9AM, dry_run=True)
    assert report.planned and report.recorded == report.sent == 0
    assert smtp_server.inbox.message_keys() == []


def test_the_embedded_default_writes_eml_files(tmp_path: Path) -> None:
    OutboxDirectoryMailer(tmp_path).send(
        OutgoingMail(
            key="insp:police:w1:reminder",
            sender="portal@example",
            recipients=("a@example",),
            subject="Hi",
            body="Body\n",
        )
    )
    (written,) = tmp_path.glob("*.eml")
    assert b"X-JTAI-Message-Key: insp:police:w1:reminder" in written.read_bytes()


def test_a_closed_or_withdrawn_inspection_is_not_chased(
    container: Container,
    smtp_server: SmtpServer,
) -> None:
    for inspection_id in container.repository.list_inspection_ids():
        container.repository.set_inspection_state(
            inspection_id, InspectionState.withdrawn, "deferred", "test", container.clock.now()
        )
    report = run_chase(container, _smtp(smtp_server), WEDNESDAY_9AM)
    assert report.planned == [] and smtp_server.inbox.message_keys() == []
