"""Alembic migrations of the PostGIS store (run by ``minemap db init``)."""
