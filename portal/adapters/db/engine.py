"""Engines and migrations: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from portal.domain.audit_chain import AuditKeyring
from portal.domain.errors import TransientError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseUnavailable(TransientError):
    """The metadata database could not be reached (down, restarting, connection dropped)."""


@contextmanager
def session_scope(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose connection failures come out as DatabaseUnavailable (transient: the
    caller retries later), so a database restart never looks like a bug."""
    try:
        with sessions() as session:
            yield session
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(f"database unavailable: {exc.orig}") from exc


AUDIT_KEYS = "audit_keys"
"""The key in a session's `info` under which the audit keyring travels to the audit log."""


class Tables:
    """Base of the classes that keep rows in the database: the engine, and sessions whose
    connection failures come out as DatabaseUnavailable and that carry the audit keyring
    (every audit event they append is sealed with its newest key)."""

    def __init__(self, engine: Engine, *, audit_keys: AuditKeyring) -> None:
        audit_keys.current  # noqa: B018 - no key, no writer: fail at start, not mid-request
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False, info={AUDIT_KEYS: audit_keys})

    def _session(self) -> AbstractContextManager[Session]:
        return session_scope(self._sessions)


def make_engine(url: str, pool_size: int = 10, max_overflow: int = 10) -> Engine:
    """An engine for `url`. SQLite gets WAL, a busy timeout and foreign keys on every
    connection; PostgreSQL a pool of `pool_size` connections (plus `max_overflow` at peaks),
    each checked before use so a restarted server costs one failed ping, not an error."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(
        url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=30
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten values (a child's name reduced to initials) are zeroed in the
    # file, not left in free space for anyone with the file to read.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the database schema up to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
