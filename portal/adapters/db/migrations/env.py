"""Alembic environment: runs on the connection portal.adapters.db.engine.migrate hands it."""

from alembic import context

from portal.adapters.db.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
