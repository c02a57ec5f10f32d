"""The server engine: PostgreSQL 15 with PostGIS, for many users at once.

The tables are those of :mod:`minemap.store.tables` (so the same as in a
GeoPackage), with PostGIS geometry columns in the store's SRID and a GiST
index on each. The schema is created and upgraded by the Alembic migrations
shipped in :mod:`minemap.store.migrations`; ``minemap db init`` runs them.
Every batch is one PostgreSQL transaction; ids come from the tables'
sequences, so concurrent writers never collide.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from geoalchemy2 import Geometry
from pyproj import CRS

from minemap.errors import MissingDependencyError, StoreError
from minemap.store import tables as tbl
from minemap.store.base import BBox
from minemap.store.sql import SqlStore, copy_content, utcnow

MIGRATIONS = Path(__file__).with_name("migrations")


class PgGeometry(Geometry):
    """A PostGIS geometry column exchanged as WKB bytes (decoded in bulk by shapely)."""

    cache_ok = True

    def bind_expression(self, bindvalue: Any) -> Any:
        return sa.func.ST_GeomFromWKB(bindvalue, self.srid, type_=self)

    def column_expression(self, col: Any) -> Any:
        return sa.func.ST_AsBinary(col, type_=sa.LargeBinary)

    def bind_processor(self, dialect: sa.Dialect) -> None:
        return None

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> None:
        return None


def postgis_metadata(srid: int) -> sa.MetaData:
    """The store's tables with PostGIS geometry columns and their GiST indexes."""
    md = tbl.build_metadata(lambda name: PgGeometry(name.upper(), srid=srid, spatial_index=False))
    for name in tbl.spatial_tables():
        table = md.tables[name]
        sa.Index(f"ix_{name}_{tbl.GEOM}", table.c[tbl.GEOM], postgresql_using="gist")
    return md


def sqlalchemy_url(url: str) -> sa.URL:
    """``postgresql://`` (or ``postgres://``) as a psycopg 3 SQLAlchemy URL."""
    u = sa.make_url(url.replace("postgres://", "postgresql://", 1))
    return u.set(drivername="postgresql+psycopg")


class PostgisStore(SqlStore):
    """A store in a PostgreSQL database with PostGIS."""

    engine_name = "postgis"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        try:
            import psycopg  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the install
            msg = "the PostGIS store needs psycopg: pip install 'minemap[postgis]'"
            raise MissingDependencyError(msg) from None
        self._sa_url = sqlalchemy_url(url)
        self.display_url = self._sa_url.render_as_string(hide_password=True)

    # --- engine hooks -------------------------------------------------------------------------
    def _create_engine(self) -> sa.Engine:
        return sa.create_engine(self._sa_url, json_serializer=tbl.dumps, pool_pre_ping=True)

    def _exists(self) -> bool:
        try:
            with self.engine.connect():
                return True
        except sa.exc.OperationalError as exc:
            if "does not exist" in str(exc.orig):
                return False
            msg = f"cannot connect to {self.display_url}: {str(exc.orig).strip().splitlines()[0]}"
            raise StoreError(msg) from None

    def _geometry_factory(self, srid: int) -> tbl.GeometryFactory:
        return lambda name: PgGeometry(name.upper(), srid=srid, spatial_index=False)

    def _build_metadata(self, srid: int) -> sa.MetaData:
        return postgis_metadata(srid)

    def _to_db_geoms(self, geoms: np.ndarray) -> list[Any]:
        return list(shapely.to_wkb(np.asarray(geoms, dtype=object)))

    def _from_db_geoms(self, values: Sequence[Any]) -> np.ndarray:
        return shapely.from_wkb(
            np.array([None if v is None else bytes(v) for v in values], dtype=object)
        )

    def _bbox_filter(self, table: sa.Table, bbox: BBox) -> sa.ColumnElement[bool]:
        x0, y0, x1, y1 = bbox
        envelope = sa.func.ST_MakeEnvelope(x0, y0, x1, y1, self.srid)
        return sa.func.ST_Intersects(table.c[tbl.GEOM], envelope)

    def _bbox_exact(self) -> bool:
        return False

    def _next_ids(self, conn: sa.Connection, table: str, n: int) -> list[int]:
        rows = conn.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table, "n": n},
        )
        return [int(r[0]) for r in rows]

    @contextmanager
    def _write_connection(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as conn:
            yield conn

    def _defer_constraints(self, conn: sa.Connection) -> None:
        conn.execute(sa.text("SET CONSTRAINTS ALL DEFERRED"))

    def _migrate(self, conn: sa.Connection, srid: int) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        cfg.attributes["srid"] = srid
        command.upgrade(cfg, "head")

    def _create_schema(self, conn: sa.Connection, crs: CRS) -> None:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        self._migrate(conn, int(crs.to_epsg() or 0))

    def _upgrade_existing(self, conn: sa.Connection) -> None:
        self._migrate(conn, self.srid)

    def _analyze(self, conn: sa.Connection, tables: Sequence[str]) -> None:
        # without statistics the planner may scan 100,000 polygons instead of the GiST index
        for name in tables:
            conn.execute(sa.text(f'ANALYZE "{name}"'))

    def _after_copy(self, conn: sa.Connection) -> None:
        self._analyze(conn, [t.name for t in self.metadata.sorted_tables])
        for table in self.metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key:
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f'coalesce(max(id), 0) + 1, false) FROM "{table.name}"'
                    )
                )

    def _create_database(self) -> None:
        """Create the database of the URL (connecting to ``postgres`` to do so)."""
        name = self._sa_url.database
        if not name:
            msg = f"{self.display_url} names no database"
            raise StoreError(msg)
        admin = sa.create_engine(
            self._sa_url.set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        try:
            with admin.connect() as conn:
                quoted = conn.dialect.identifier_preparer.quote(name)
                conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
        except sa.exc.DBAPIError as exc:
            msg = f"cannot create database {name!r}: {str(exc.orig).strip().splitlines()[0]}"
            raise StoreError(msg) from None
        finally:
            admin.dispose()

    def init(self, *, crs: str | None = None, extent: BBox | None = None) -> None:
        if not self._exists():
            self._create_database()
            self.close()
        super().init(crs=crs, extent=extent)

    # --- restore ----------------------------------------------------------------------------------
    def _restore_from(self, source: SqlStore) -> None:
        crs = CRS.from_user_input(source.crs)
        try:
            self._ensure()
        except StoreError:
            self.init(crs=source.crs, extent=source.extent)
        try:
            with self.transaction() as conn:
                self.metadata.drop_all(conn)
                conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
                self._crs = crs
                self._md = self._build_metadata(int(crs.to_epsg() or 0))
                self._extent = source.extent
                self._create_schema(conn, crs)
                self._put_meta(
                    conn,
                    {
                        "schema_version": str(tbl.SCHEMA_VERSION),
                        "crs": source.crs,
                        "extent": tbl.dumps(list(source.extent) if source.extent else None),
                        "created_at": utcnow().isoformat(),
                    },
                )
                copy_content(source, self)
        finally:
            self.close()
