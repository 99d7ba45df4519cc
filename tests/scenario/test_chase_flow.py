"""The `chase` flow on Prefect reminds each agency of its own deadlines ahead of them, past
the lead inspector's own deadline, once however often it runs."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from flows.chase import chase
from flows.ingest import use_container
from portal.domain.chase import Contacts, MessageKind
from portal.domain.timeline import LONDON
from portal.settings import Settings
from tests.factories import add_inspection, build_portal, settable_clock

pytestmark = pytest.mark.usefixtures("prefect_server")

FIELDWORK = date(2027, 3, 1)  # notified Monday 15 February; week 1 is 15-19 February
WEDNESDAY_9AM = datetime(2027, 2, 17, 9, 0, tzinfo=LONDON)  # the lead selects by 5pm today
WEDNESDAY_NOON = datetime(2027, 2, 17, 12, 0, tzinfo=LONDON)
THURSDAY_9AM = datetime(2027, 2, 18, 9, 0, tzinfo=LONDON)


def test_the_chase_flow_reminds_of_thursdays_lists_past_the_leads_wednesday_once(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    container = build_portal(settings)
    inspection_id = add_inspection(container, fieldwork_start=FIELDWORK)
    container.repository.set_contacts(
        inspection_id,
        Contacts(
            lead_inspector=("lead@inspectorate.example",),
            agencies={
                "local_authority": ("la@council.example",),
                "police": ("police@force.example",),
            },
        ),
    )
    use_container(container)
    settable_clock(container).set(WEDNESDAY_9AM)

    first = chase(as_of=WEDNESDAY_9AM)
    assert first["recorded"] == first["sent"] == first["planned"] > 0
    reminders = {
        m.key.split(":", 1)[1]
        for m in container.repository.outbox(inspection_id)
        if m.kind is MessageKind.reminder
    }
    # The next deadline is the lead's (5pm Wednesday); Thursday's items are two working
    # days ahead: the local authority's lists and, for both agencies, the answers about
    # the shortlisted children and the fieldwork week's meetings (001 paras 115, 121).
    # The police's week 2 items are not yet in the window.
    assert reminders == {
        "local_authority:week1_thursday_5pm:reminder",
        "police:week1_thursday_5pm:reminder",
    }

    for as_of in (WEDNESDAY_9AM, WEDNESDAY_NOON, THURSDAY_9AM):
        settable_clock(container).set(as_of)
        again = chase(as_of=as_of)
        assert again["recorded"] == again["sent"] == 0, as_of
    assert len(list((settings.data_dir / "outbox").glob("*.eml"))) == first["sent"]
