"""Persistence: one interface (:class:`~minemap.store.base.Store`), two engines by URL.

* a path ending in ``.gpkg``: the embedded GeoPackage engine (the default),
  :mod:`minemap.store.gpkg`; one file QGIS and GDAL open as layers;
* ``postgresql://...``: PostgreSQL 15 with PostGIS (the server engine),
  :mod:`minemap.store.postgis`, migrated by Alembic.

Both build their tables from :mod:`minemap.store.tables` (generated from
:mod:`minemap.records.schema`) and share the rules of :mod:`minemap.store.sql`:
validation (:mod:`minemap.records.validate`), links by ref, workflow, optimistic
concurrency, hazard history, audit, users, rasters, backup and restore.

>>> store = open_store("national.gpkg")            # doctest: +SKIP
>>> store.init(extent=(44.7, 38.3, 50.9, 42.0))    # doctest: +SKIP
>>> ids = store.insert("hazards", frame, user="leyla")  # doctest: +SKIP
"""

from __future__ import annotations

from minemap.store.base import BatchResult, BBox, Record, Store

__all__ = ["BBox", "BatchResult", "Record", "Store", "open_store"]


def open_store(url: str) -> Store:
    """Open the store at ``url`` (a ``.gpkg`` path or a ``postgresql://`` URL)."""
    from minemap.errors import ConfigError

    if url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        from minemap.store.postgis import PostgisStore

        return PostgisStore(url)
    if url.lower().endswith(".gpkg"):
        from minemap.store.gpkg import GpkgStore

        return GpkgStore(url)
    msg = f"unknown store URL {url!r}: give a .gpkg path or a postgresql:// URL"
    raise ConfigError(msg)
