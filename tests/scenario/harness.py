"""A portal wired on real services, driven through its HTTP API, with the ingest flow run
the way the worker runs it (claim a batch, one `ingest` flow run over it)."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock_time
from typing import Any

from fastapi.testclient import TestClient

from flows.dispatcher import Dispatcher
from flows.ingest import DependencyUnavailable, use_container
from portal.app import create_app
from portal.bootstrap import Container
from portal.domain.access import Role
from portal.domain.timeline import LONDON
from portal.services.identities import issue_token
from tests.factories import settable_clock

THEME = "domestic-abuse/sept-2024"


@dataclass
class PortalUnderTest:
    container: Container
    client: TestClient
    inspection_id: str
    tokens: dict[str, str] = field(default_factory=dict)
    # A worker thread runs beside the test (the browser tests' live portal): leave the
    # claiming to it. Claiming here too would race it, and a flow run cannot start from a
    # thread whose event loop is running (Playwright's sync API runs one).
    worker_beside: bool = False

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def upload(
        self,
        filename: str,
        data: bytes,
        item: str = "1.1",
        who: str = "local_authority",
        **fields: str,
    ) -> Any:
        """POST a file as an agency uploader; returns the response."""
        return self.client.post(
            f"/v1/inspections/{self.inspection_id}/documents",
            headers=self.auth(who),
            data={"item": item, **fields},
            files={"file": (filename, data, "application/octet-stream")},
        )

    def place_hold(self, reason: str = "Complaint CL-19 about the inspection") -> str:
        """Place a legal hold on the whole inspection through the API, as its records
        officer; returns the hold's id."""
        _p, records = issue_token(
            self.container, Role.records_officer, inspection_id=self.inspection_id, label="ro"
        )
        placed = self.client.post(
            f"/v1/inspections/{self.inspection_id}/legal-holds",
            json={"reason": reason},
            headers={"Authorization": f"Bearer {records}"},
        )
        assert placed.status_code == 201, placed.text
        hold_id: str = placed.json()["id"]
        return hold_id

    def process_pending(self) -> list[str]:
        """Claim what waits and run one `ingest` flow run over it, as the worker does (with
        a worker beside the test, nothing: callers wait for the outcome either way)."""
        if self.worker_beside:
            return []
        dispatcher = Dispatcher(self.container)
        try:
            token, ids = dispatcher.claim_batch()
            if ids:
                # A run that ends in DependencyUnavailable leaves its documents failed, to
                # retry.
                with contextlib.suppress(DependencyUnavailable):
                    dispatcher.run_batch(ids, token)
        finally:
            dispatcher.stop()
            dispatcher.close()
        return ids

    def status(self, document_id: str, who: str = "local_authority") -> dict[str, Any]:
        response = self.client.get(f"/v1/documents/{document_id}", headers=self.auth(who))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def accept_list(self, child_ids: list[str]) -> str:
        """Upload a list naming `child_ids` (by 'Child ID') through the pipeline, as the
        agency the theme's first list without a limit on children is asked of, with a
        first allowed answer in each column the list needs; return the accepted list's id.
        The shortlist must be chosen from accepted lists."""
        inspection = self.container.repository.get_inspection(self.inspection_id)
        assert inspection is not None
        theme = self.container.themes[inspection.theme_key]
        definition = next(
            c for c in theme.child_lists if c.max_children is None and c.agency in self.tokens
        )
        fields = [f for f in definition.extra_fields if f.heading]
        header = ["Child ID", *(f.name for f in fields)]
        answers = [f.allowed_values[0] if f.allowed_values else "x" for f in fields]
        lines = [",".join(f'"{h}"' for h in header)]
        lines += [",".join([child, *answers]) for child in child_ids]
        response = self.upload(
            "list.csv",
            ("\r\n".join(lines) + "\r\n").encode(),
            item=f"list:{definition.key}",
            who=definition.agency,
        )
        assert response.status_code == 202, response.text
        self.process_pending()  # (or a worker running beside the test does)
        document_id: str = response.json()["id"]
        decided = self.wait_final(document_id)
        assert decided["status"] == "accepted", decided
        return document_id

    def wait_final(
        self, document_id: str, timeout: float = 180.0, who: str = "local_authority"
    ) -> dict[str, Any]:
        """The document's status once final, or as it stands after `timeout` s: polled as
        a well-behaved client polls, every 0.2 s, waiting as long as a 429 asks (the
        portal's rate limit applies to tests too). The timeout is long because a batch
        may start late on a loaded machine: Prefect's client backs off for up to a minute
        while its server answers 503."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.client.get(f"/v1/documents/{document_id}", headers=self.auth(who))
            if response.status_code == 429:
                assert time.monotonic() < deadline, response.text
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            if body["final"] or time.monotonic() > deadline:
                return body
            time.sleep(0.2)


def start_portal(
    container: Container,
    fieldwork_start: date = date(2026, 12, 7),
    theme: str = THEME,
    now: datetime | None = None,
    notification: date | None = None,
) -> PortalUnderTest:
    """Create an inspection with uploader, lead and inspector tokens on `container`, and
    set the container's clock to `now`: by default 9am (London) on the inspection's
    notification day, so deadlines lie ahead whatever day the tests run. Given a
    `notification` day, the inspection is created with that alone (the portal derives its
    fieldwork start)."""
    use_container(container)
    _p, admin = issue_token(container, Role.admin, label="test admin")
    client = TestClient(create_app(container))
    response = client.post(
        "/v1/inspections",
        headers={"Authorization": f"Bearer {admin}"},
        json={
            "theme": theme,
            "area_name": "Testshire",
            **(
                {"notification_date": notification.isoformat()}
                if notification
                else {"fieldwork_start": fieldwork_start.isoformat()}
            ),
        },
    )
    assert response.status_code == 201, response.text
    inspection_id = response.json()["id"]
    notified = date.fromisoformat(response.json()["notification_date"])
    settable_clock(container).set(now or datetime.combine(notified, clock_time(9), LONDON))
    portal = PortalUnderTest(container, client, inspection_id, {"admin": admin})
    for role, agency in (
        ("agency_uploader", "local_authority"),
        ("agency_uploader", "health"),
        ("lead_inspector", None),
        ("inspector", None),
    ):
        response = client.post(
            f"/v1/inspections/{inspection_id}/tokens",
            headers=portal.auth("admin"),
            json={"role": role, "agency": agency},
        )
        assert response.status_code == 201, response.text
        portal.tokens[agency or role] = response.json()["token"]
    return portal
