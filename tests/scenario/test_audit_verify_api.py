"""GET /v1/audit/verify: an administrator verifies the audit log (HMACs and anchors)
through the API, and the verification is itself audited."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.adapters.db.tables import AuditEventRow
from portal.app import create_app
from portal.domain.access import Role
from portal.services.audit import anchor_heads
from portal.services.identities import issue_token
from portal.settings import Settings
from tests.factories import TEST_NOW, add_inspection, build_portal


def test_an_admin_sees_the_log_verified_and_then_the_first_broken_entry(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    container = build_portal(settings)
    inspection = add_inspection(container)
    for n in range(3):
        container.repository.replace_selection(inspection, "shortlist", [f"C{n}"], "li", TEST_NOW)
    _, admin = issue_token(container, Role.admin, label="admin")
    engine = container.repository.engine
    assert len(anchor_heads(container.audit_log, container.anchor_sink, TEST_NOW)) == 2
    client = TestClient(create_app(container))
    headers = {"Authorization": f"Bearer {admin}"}

    body = client.get("/v1/audit/verify", headers=headers).json()
    assert body["ok"] is True, body
    assert (body["chains"], body["anchors"], body["first_break"]) == (2, 2, None)
    assert body["summary"].startswith("audit log OK: 2 chains")

    with Session(engine) as session:
        victim = session.scalars(
            select(AuditEventRow).where(AuditEventRow.chain == inspection, AuditEventRow.seq == 2)
        ).one()
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER audit_events_append_only")
        connection.execute(
            update(AuditEventRow).where(AuditEventRow.id == victim.id).values(actor="x")
        )
    body = client.get("/v1/audit/verify", headers=headers).json()
    assert body["ok"] is False
    assert body["first_break"] == {
        "chain": inspection,
        "seq": 2,
        "entry_id": victim.id,
        "problem": "hash_mismatch",
        "explanation": body["first_break"]["explanation"],
    }
    with Session(engine) as session:
        verified = session.scalars(
            select(AuditEventRow.detail).where(AuditEventRow.action == "audit_log_verified")
        ).all()
    assert [(d["ok"], d["breaks"]) for d in verified] == [(True, 0), (False, 1)]
    engine.dispose()
