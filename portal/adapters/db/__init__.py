"""The metadata database: SQLAlchemy 2 tables, Alembic migrations and the repository."""
