"""Persistence: one interface (:class:`~minemap.store.base.Store`), two engines by URL.

* a path ending in ``.gpkg``: the embedded GeoPackage engine (the default);
* ``postgresql://...``: PostgreSQL 15 with PostGIS (the server engine).
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
