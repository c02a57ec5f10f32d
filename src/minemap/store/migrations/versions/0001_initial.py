"""The first layout: a table per record kind, audit, history, users, rasters.

The tables are built from :mod:`minemap.records.schema` as it is when this
runs; fields added to the schema later are added to existing stores by the
store's column sync, while renames and removals get a numbered migration.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import context, op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    from minemap.store.postgis import postgis_metadata

    srid = int(context.config.attributes["srid"])
    postgis_metadata(srid).create_all(op.get_bind())


def downgrade() -> None:
    from minemap.store.postgis import postgis_metadata

    srid = int(context.config.attributes["srid"])
    postgis_metadata(srid).drop_all(op.get_bind())
