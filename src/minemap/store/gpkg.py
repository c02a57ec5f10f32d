"""The embedded engine: one GeoPackage file that QGIS and GDAL open directly.

Every record kind with geometry is a GeoPackage feature layer in the store's
CRS with its ``rtree_<table>_geom`` spatial index (kept by the standard
triggers, so edits made in QGIS keep it true too); kinds without geometry are
attribute tables. The file runs in WAL mode with a busy timeout: readers never
wait, writers queue (``BEGIN IMMEDIATE``), and a write killed half-way leaves
the file as it was, because every batch is one SQLite transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from pyproj import CRS

from minemap.errors import StoreError
from minemap.records.schema import INSERT_ORDER, KINDS
from minemap.store import gpkg_format as gf
from minemap.store import tables as tbl
from minemap.store.base import BBox
from minemap.store.sql import SqlStore, _remove_db, copy_content

BUSY_TIMEOUT_MS = 60_000


class GpkgStore(SqlStore):
    """A store in a GeoPackage file."""

    engine_name = "gpkg"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.path = Path(url.removeprefix("gpkg://")).expanduser()

    # --- engine hooks ----------------------------------------------------------------------------
    def _exists(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size > 0

    def _create_engine(self) -> sa.Engine:
        if not self.path.parent.is_dir():
            msg = f"folder {self.path.parent} does not exist"
            raise StoreError(msg)
        engine = sa.create_engine(
            f"sqlite:///{self.path}",
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            # we issue BEGIN ourselves (IMMEDIATE for writers, so they queue, not deadlock)
            dbapi_conn.isolation_level = None
            gf.register_functions(dbapi_conn)
            dbapi_conn.execute("PRAGMA foreign_keys = ON")
            dbapi_conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            dbapi_conn.execute("PRAGMA synchronous = NORMAL")
            # 64 MB of page cache: big imports update several indexes per row
            dbapi_conn.execute("PRAGMA cache_size = -65536")

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            write = conn.get_execution_options().get("minemap_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def _geometry_factory(self, srid: int) -> tbl.GeometryFactory:
        return tbl.GpkgGeometry

    def _to_db_geoms(self, geoms: np.ndarray) -> list[Any]:
        return gf.encode(geoms, self.srid)

    def _from_db_geoms(self, values: Sequence[Any]) -> np.ndarray:
        return gf.decode(values)

    def _bbox_filter(self, table: sa.Table, bbox: BBox) -> sa.ColumnElement[bool]:
        rtree = sa.table(
            f"rtree_{table.name}_{tbl.GEOM}",
            sa.column("id"),
            sa.column("minx"),
            sa.column("maxx"),
            sa.column("miny"),
            sa.column("maxy"),
        )
        x0, y0, x1, y1 = bbox
        hits = sa.select(rtree.c.id).where(
            rtree.c.minx <= x1, rtree.c.maxx >= x0, rtree.c.miny <= y1, rtree.c.maxy >= y0
        )
        return table.c.id.in_(hits)

    def _next_ids(self, conn: sa.Connection, table: str, n: int) -> list[int]:
        # under BEGIN IMMEDIATE no other writer runs, so the next ids are ours
        seq = conn.execute(
            sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}
        ).scalar()
        top = conn.execute(sa.select(sa.func.max(self.table(table).c.id))).scalar()
        start = max(int(seq or 0), int(top or 0)) + 1
        return list(range(start, start + n))

    @contextmanager
    def _write_connection(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(minemap_write=True)
            with conn.begin():
                yield conn

    def _defer_constraints(self, conn: sa.Connection) -> None:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")

    def _raw(self, conn: sa.Connection) -> sqlite3.Connection:
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        return raw

    def _create_schema(self, conn: sa.Connection, crs: CRS) -> None:
        raw = self._raw(conn)
        gf.create_container(raw)
        srs_id = gf.add_srs(raw, crs)
        self.metadata_for_create().create_all(conn)
        spatial = tbl.spatial_tables()
        for name, geometry_type in spatial.items():
            title = KINDS[name].title if name in KINDS else "Hazard status history"
            gf.register_features(
                raw,
                name,
                tbl.GEOM,
                geometry_type,
                srs_id,
                description=title,
                spatial_index=name != tbl.HAZARD_HISTORY,
            )
        for name in INSERT_ORDER:
            if name not in spatial:
                gf.register_attributes(raw, name, KINDS[name].title)
        gf.register_attributes(raw, tbl.AUDIT, "Audit of every write")

    def metadata_for_create(self) -> sa.MetaData:
        assert self._md is not None
        return self._md

    def init(self, *, crs: str | None = None, extent: BBox | None = None) -> None:
        if not self._exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._wal()
        super().init(crs=crs, extent=extent)

    def _wal(self) -> None:
        raw = self.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA journal_mode = WAL")  # type: ignore[union-attr]
        finally:
            raw.close()

    def _finish_write(self, conn: sa.Connection, tables: set[str]) -> None:
        raw = self._raw(conn)
        spatial = tbl.spatial_tables()
        for name in tables:
            if name in spatial:
                gf.update_extent(raw, name, tbl.GEOM)
            elif name in KINDS or name == tbl.AUDIT:
                gf.touch(raw, name)

    # --- backup ----------------------------------------------------------------------------------
    def backup(self, out: Path) -> Path:
        """A consistent copy of the whole file (SQLite's online backup)."""
        self._ensure()
        out = Path(out)
        if out.resolve() == self.path.resolve():
            msg = f"the backup {out} would overwrite the store itself"
            raise StoreError(msg)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.partial")
        _remove_db(tmp)
        raw = self.engine.raw_connection()
        try:
            dst = sqlite3.connect(tmp)
            try:
                raw.driver_connection.backup(dst)  # type: ignore[union-attr]
                # a backup is one self-contained file: no WAL beside it
                dst.execute("PRAGMA journal_mode = DELETE")
            finally:
                dst.close()
        except BaseException:
            _remove_db(tmp)
            raise
        finally:
            raw.close()
        tmp.replace(out)
        return out

    def _restore_from(self, source: SqlStore) -> None:
        if isinstance(source, GpkgStore) and source.path.resolve() == self.path.resolve():
            msg = "a store cannot be restored from itself"
            raise StoreError(msg)
        tmp = self.path.with_name(f".{self.path.name}.restoring")
        _remove_db(tmp)
        target = GpkgStore(str(tmp))
        try:
            target.init(crs=source.crs, extent=source.extent)
            copy_content(source, target)
        except BaseException:
            target.close()
            _remove_db(tmp)
            raise
        target.close()
        # closing the last connection checkpoints the WAL into the file and removes it;
        # the new file then replaces the old one in one rename
        self.close()
        for side in (Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            side.unlink(missing_ok=True)
        tmp.replace(self.path)
