"""Someone who owns the database (drops the append-only triggers, rewrites rows) against
the audit log, on SQLite and PostgreSQL, through a portal wired as in service and the
`jtai-portal audit` commands: without the key and out of reach of the anchors, neither
cutting the newest events (and moving the head back) nor rewriting an event (and
recomputing every later hash) passes `jtai-portal audit verify`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from portal.adapters.db.engine import make_engine
from portal.adapters.db.tables import AuditChainRow, AuditEventRow, Base
from portal.bootstrap import Container
from portal.cli import main
from portal.domain.audit_chain import entry_hash
from portal.settings import Settings
from tests.factories import TEST_NOW, add_inspection, build_portal


def _drop_everything(engine: Engine) -> None:
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


@pytest.fixture(params=["sqlite", "postgresql"])
def portal(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Container]:
    """A portal with embedded defaults (key file and anchor file in its data directory) on
    a fresh database; `jtai-portal` commands in the test reach the same ones."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        _drop_everything(make_engine(url))  # the run's database may hold another test's rows
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        _env_file=None,  # type: ignore[call-arg]
    )
    monkeypatch.setenv("JTAI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("JTAI_DATABASE_URL", url)
    container = build_portal(settings)
    try:
        yield container
    finally:
        if request.param == "postgresql":
            _drop_everything(container.repository.engine)
        container.repository.engine.dispose()


def _cli(capsys: Any, *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        status = 0
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 1
    return status, capsys.readouterr().out.strip()


def _history(container: Container) -> str:
    """An inspection with a few ordinary events in its chain; returns its id."""
    inspection = add_inspection(container)
    repository = container.repository
    for n in range(1, 6):
        repository.replace_selection(inspection, "shortlist", [f"C{n}"], "lead:tok1", TEST_NOW)
    return inspection


def _events(engine: Engine, chain: str) -> list[AuditEventRow]:
    with Session(engine) as session:
        rows = list(
            session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.chain == chain)
                .order_by(AuditEventRow.seq)
            )
        )
        session.expunge_all()
        return rows


def _drop_the_triggers(engine: Engine) -> None:
    """What the database's owner can always do."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for trigger, table in (
                ("audit_events_append_only", "audit_events"),
                ("audit_events_no_truncate", "audit_events"),
                ("audit_chains_forward_only", "audit_chains"),
                ("audit_chains_no_truncate", "audit_chains"),
            ):
                connection.exec_driver_sql(f"DROP TRIGGER {trigger} ON {table}")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_events_append_only")
            connection.exec_driver_sql("DROP TRIGGER audit_chains_forward_only")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def test_cutting_the_newest_events_and_moving_the_head_back_fails_at_the_anchor(
    portal: Container, capsys: Any
) -> None:
    inspection = _history(portal)
    status, output = _cli(capsys, "audit", "anchor")  # what the audit-anchor deployment runs
    assert status == 0, output
    events = _events(portal.repository.engine, inspection)
    kept, cut = events[:-3], events[-3:]

    _drop_the_triggers(portal.repository.engine)
    with portal.repository.engine.begin() as connection:
        connection.execute(delete(AuditEventRow).where(AuditEventRow.id.in_([e.id for e in cut])))
        connection.execute(
            update(AuditChainRow)
            .where(AuditChainRow.chain == inspection)
            .values(last_seq=kept[-1].seq, last_entry_hash=kept[-1].entry_hash)
        )

    status, output = _cli(capsys, "audit", "verify")
    assert status == 1, output
    assert f"(chain {inspection}, seq {cut[0].seq}): below_anchor: " in output, output
    assert f"entries {cut[0].seq}..{cut[-1].seq} were removed and the head moved back" in output


def test_an_actor_rewritten_and_every_later_hash_recomputed_fails_at_the_hmac(
    portal: Container, capsys: Any
) -> None:
    inspection = _history(portal)
    events = _events(portal.repository.engine, inspection)
    victim = events[2]

    _drop_the_triggers(portal.repository.engine)
    prev = victim.prev_hash
    with portal.repository.engine.begin() as connection:
        for event in events[2:]:
            actor = "someone else" if event.id == victim.id else event.actor
            forged = entry_hash(  # the unkeyed algorithm: sha256 of the canonical JSON
                chain=event.chain,
                seq=event.seq,
                at=_aware(event.at),
                actor=actor,
                action=event.action,
                inspection_id=event.inspection_id,
                document_id=event.document_id,
                detail=event.detail,
                prev_hash=prev,
            )
            connection.execute(
                update(AuditEventRow)
                .where(AuditEventRow.id == event.id)
                .values(actor=actor, prev_hash=prev, entry_hash=forged)
            )
            prev = forged
        connection.execute(
            update(AuditChainRow)
            .where(AuditChainRow.chain == inspection)
            .values(last_entry_hash=prev)
        )

    status, output = _cli(capsys, "audit", "verify")
    assert status == 1, output
    assert output.startswith(
        f"audit log BROKEN at entry id {victim.id} (chain {inspection}, seq {victim.seq}): "
        "hash_mismatch: its HMAC under key "
    ), output


def test_a_rewrite_that_also_drops_the_key_ids_fails_as_unkeyed(
    portal: Container, capsys: Any
) -> None:
    inspection = _history(portal)
    events = _events(portal.repository.engine, inspection)

    _drop_the_triggers(portal.repository.engine)
    prev = events[0].prev_hash
    with portal.repository.engine.begin() as connection:
        for event in events:  # the whole chain, so no keyed entry comes before
            forged = entry_hash(
                chain=event.chain,
                seq=event.seq,
                at=_aware(event.at),
                actor="someone else",
                action=event.action,
                inspection_id=event.inspection_id,
                document_id=event.document_id,
                detail=event.detail,
                prev_hash=prev,
            )
            connection.execute(
                update(AuditEventRow)
                .where(AuditEventRow.id == event.id)
                .values(actor="someone else", prev_hash=prev, entry_hash=forged, key_id=None)
            )
            prev = forged
        connection.execute(
            update(AuditChainRow)
            .where(AuditChainRow.chain == inspection)
            .values(last_entry_hash=prev)
        )

    status, output = _cli(capsys, "audit", "verify")
    assert status == 1, output
    assert f"entry id {events[0].id} (chain {inspection}, seq 1): unkeyed_unanchored" in output


def test_a_rotated_key_seals_new_events_while_old_ones_verify_under_theirs(
    portal: Container, capsys: Any, tmp_path: Path
) -> None:
    inspection = _history(portal)
    first_key = portal.audit_keys.current.key_id
    status, output = _cli(capsys, "audit", "rotate-key")
    assert status == 0, output
    key_file = portal.settings.resolved_audit_key_file
    assert key_file.stat().st_mode & 0o777 == 0o600
    restarted = build_portal(portal.settings)  # processes restarted after the rotation
    try:
        new_key = restarted.audit_keys.current.key_id
        assert new_key != first_key and new_key in output
        restarted.repository.replace_selection(inspection, "shortlist", ["C9"], "li", TEST_NOW)
        key_ids = [e.key_id for e in _events(portal.repository.engine, inspection)]
        assert key_ids == [first_key] * (len(key_ids) - 1) + [new_key]
        assert _cli(capsys, "audit", "anchor")[0] == 0
        status, output = _cli(capsys, "audit", "verify")
        assert status == 0, output

        # Without the old key (dropped from the file), its entries cannot be verified.
        key_file.write_text(key_file.read_text().splitlines()[-1] + "\n")
        status, output = _cli(capsys, "audit", "verify")
        assert status == 1
        assert f"unknown_key: the entry names audit key '{first_key}'" in output
    finally:
        restarted.repository.engine.dispose()
