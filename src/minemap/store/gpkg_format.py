"""The GeoPackage container, written without SpatiaLite (OGC GeoPackage 1.4).

Python's ``sqlite3`` cannot load SpatiaLite, but a GeoPackage is plain SQLite:
this module writes the geometry BLOB format (header, envelope, WKB), the
required ``gpkg_*`` tables, the registration of each layer with its CRS, and
the ``rtree_<table>_<column>`` spatial index with the standard triggers. The
triggers call ``ST_MinX``/``ST_MaxX``/``ST_MinY``/``ST_MaxY``/``ST_IsEmpty``,
which :func:`register_functions` provides to every connection (GDAL and QGIS
provide their own), so the index stays true whoever writes.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import struct
from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from pyproj import CRS

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10400  # GeoPackage 1.4

_MAGIC = b"GP"
_EMPTY_FLAG = 0x10
_ENVELOPE_XY = 0x02  # envelope code 1: minx, maxx, miny, maxy
_LITTLE_ENDIAN = 0x01
_HEADER = struct.Struct("<2sBBi")
_ENVELOPE = struct.Struct("<4d")
_NAN_ENVELOPE = _ENVELOPE.pack(np.nan, np.nan, np.nan, np.nan)


# --- geometry BLOBs ------------------------------------------------------------------


def encode(
    geoms: Sequence[shapely.Geometry | None] | np.ndarray, srs_id: int
) -> list[bytes | None]:
    """GeoPackage BLOBs of shapely geometries (None stays None); vectorised WKB."""
    arr = np.asarray(geoms, dtype=object)
    out: list[bytes | None] = [None] * len(arr)
    present = ~shapely.is_missing(arr)
    if not present.any():
        return out
    idx = np.flatnonzero(present)
    sub = arr[idx]
    wkbs = shapely.to_wkb(sub, flavor="iso", byte_order=1)
    bounds = shapely.bounds(sub)
    empty = shapely.is_empty(sub)
    for j, i in enumerate(idx):
        if empty[j]:
            flags = _LITTLE_ENDIAN | _ENVELOPE_XY | _EMPTY_FLAG
            env = _NAN_ENVELOPE
        else:
            flags = _LITTLE_ENDIAN | _ENVELOPE_XY
            b = bounds[j]
            env = _ENVELOPE.pack(b[0], b[2], b[1], b[3])
        out[i] = _HEADER.pack(_MAGIC, 0, flags, srs_id) + env + wkbs[j]
    return out


def _envelope_size(flags: int) -> int:
    code = (flags >> 1) & 0x07
    return {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get(code, -1)


def wkb_of(blob: bytes | memoryview) -> bytes:
    """The WKB inside a GeoPackage BLOB."""
    data = bytes(blob)
    if len(data) < 8 or data[:2] != _MAGIC:
        msg = "not a GeoPackage geometry BLOB"
        raise ValueError(msg)
    size = _envelope_size(data[3])
    if size < 0:
        msg = "GeoPackage geometry BLOB with an unknown envelope code"
        raise ValueError(msg)
    return data[8 + size :]


def decode(blobs: Iterable[bytes | memoryview | None]) -> np.ndarray:
    """Shapely geometries of GeoPackage BLOBs (None for None)."""
    wkbs = [None if b is None else wkb_of(b) for b in blobs]
    return shapely.from_wkb(np.asarray(wkbs, dtype=object))


def _header_envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) from the header, or from the WKB when none is written."""
    if blob is None:
        return None
    flags = blob[3]
    if flags & _EMPTY_FLAG:
        return None
    # called by the rtree triggers for every row written: read the header, no copy
    if (flags >> 1) & 0x07:
        fmt = "<4d" if flags & _LITTLE_ENDIAN else ">4d"
        minx, maxx, miny, maxy = struct.unpack_from(fmt, blob, 8)
        return minx, maxx, miny, maxy
    geom = shapely.from_wkb(wkb_of(blob))
    if geom.is_empty:
        return None
    x0, y0, x1, y1 = geom.bounds
    return x0, x1, y0, y1


# --- SQL functions the rtree triggers call -------------------------------------------------


def _st(i: int) -> object:
    def fn(blob: bytes | None) -> float | None:
        try:
            env = _header_envelope(blob)
        except (ValueError, IndexError, struct.error, shapely.errors.GEOSException):
            return None
        return None if env is None else env[i]

    return fn


def _st_is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    try:
        return int(_header_envelope(blob) is None)
    except (ValueError, IndexError, struct.error, shapely.errors.GEOSException):
        return 1


def register_functions(conn: sqlite3.Connection) -> None:
    """Give a connection the ``ST_*`` functions of GeoPackage's rtree triggers."""
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _st(i), deterministic=True)  # type: ignore[arg-type]
    conn.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)


# --- the container ------------------------------------------------------------------------------

_CORE_DDL = (
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
        organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
        definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
        identifier TEXT UNIQUE, description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL,
        geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
        z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
        definition TEXT NOT NULL, scope TEXT NOT NULL,
        CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
)

_UNDEFINED_SRS = (
    ("Undefined Cartesian SRS", -1, "NONE", -1, "undefined", "undefined Cartesian CRS"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic CRS"),
)


def create_container(conn: sqlite3.Connection) -> None:
    """Make an SQLite database a GeoPackage (idempotent)."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    for ddl in _CORE_DDL:
        conn.execute(ddl)
    conn.executemany(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", _UNDEFINED_SRS
    )
    add_srs(conn, CRS.from_epsg(4326))


def srs_id_of(crs: CRS) -> int:
    epsg = crs.to_epsg()
    if epsg is None:
        msg = f"CRS {crs.name!r} has no EPSG code"
        raise ValueError(msg)
    return int(epsg)


def add_srs(conn: sqlite3.Connection, crs: CRS) -> int:
    """Register a CRS (by its EPSG code) and return its ``srs_id``."""
    srs_id = srs_id_of(crs)
    from pyproj.enums import WktVersion

    conn.execute(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, 'EPSG', ?, ?, ?)",
        (crs.name, srs_id, srs_id, crs.to_wkt(WktVersion.WKT1_GDAL), crs.name),
    )
    return srs_id


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def register_attributes(conn: sqlite3.Connection, table: str, description: str = "") -> None:
    """List a table without geometry as a GeoPackage attributes layer."""
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description,"
        " last_change) VALUES (?, 'attributes', ?, ?, ?)",
        (table, table, description, _now()),
    )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def register_features(
    conn: sqlite3.Connection,
    table: str,
    column: str,
    geometry_type: str,
    srs_id: int,
    *,
    description: str = "",
    pk: str = "id",
    spatial_index: bool = True,
) -> None:
    """List a feature table with its CRS and, optionally, its rtree index and triggers."""
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description,"
        " last_change, srs_id) VALUES (?, 'features', ?, ?, ?, ?)",
        (table, table, description, _now(), srs_id),
    )
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
        (table, column, geometry_type.upper(), srs_id),
    )
    if spatial_index:
        create_rtree(conn, table, column, pk=pk)


def create_rtree(conn: sqlite3.Connection, table: str, column: str, *, pk: str = "id") -> None:
    """The ``gpkg_rtree_index`` extension: the R*Tree, its triggers, filled from the table."""
    rtree = f"rtree_{table}_{column}"
    t, c, r, p = _q(table), _q(column), _q(rtree), _q(pk)
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index',"
        " 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (table, column),
    )
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {r} USING rtree(id, minx, maxx, miny, maxy)")
    box = f"ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})"
    present_new = f"(NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))"
    absent_new = f"(NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))"
    present_old = f"(OLD.{c} NOTNULL AND NOT ST_IsEmpty(OLD.{c}))"
    absent_old = f"(OLD.{c} ISNULL OR ST_IsEmpty(OLD.{c}))"
    same = f"OLD.{p} = NEW.{p}"
    triggers = {
        "insert": f"AFTER INSERT ON {t} WHEN {present_new} BEGIN "
        f"INSERT OR REPLACE INTO {r} VALUES (NEW.{p}, {box}); END",
        "update2": f"AFTER UPDATE OF {c} ON {t} WHEN {same} AND {absent_new} BEGIN "
        f"DELETE FROM {r} WHERE id = OLD.{p}; END",
        "update4": f"AFTER UPDATE ON {t} WHEN OLD.{p} != NEW.{p} AND {absent_new} BEGIN "
        f"DELETE FROM {r} WHERE id IN (OLD.{p}, NEW.{p}); END",
        "update5": f"AFTER UPDATE ON {t} WHEN OLD.{p} != NEW.{p} AND {present_new} BEGIN "
        f"DELETE FROM {r} WHERE id = OLD.{p}; "
        f"INSERT OR REPLACE INTO {r} VALUES (NEW.{p}, {box}); END",
        "update6": f"AFTER UPDATE OF {c} ON {t} WHEN {same} AND {present_new} AND {present_old} "
        f"BEGIN UPDATE {r} SET minx = ST_MinX(NEW.{c}), maxx = ST_MaxX(NEW.{c}), "
        f"miny = ST_MinY(NEW.{c}), maxy = ST_MaxY(NEW.{c}) WHERE id = NEW.{p}; END",
        "update7": f"AFTER UPDATE OF {c} ON {t} WHEN {same} AND {present_new} AND {absent_old} "
        f"BEGIN INSERT INTO {r} VALUES (NEW.{p}, {box}); END",
        "delete": f"AFTER DELETE ON {t} WHEN OLD.{c} NOT NULL BEGIN "
        f"DELETE FROM {r} WHERE id = OLD.{p}; END",
    }
    for suffix, body in triggers.items():
        conn.execute(f"CREATE TRIGGER IF NOT EXISTS {_q(rtree + '_' + suffix)} {body}")
    conn.execute(
        f"INSERT OR REPLACE INTO {r} SELECT {p}, ST_MinX({c}), ST_MaxX({c}), ST_MinY({c}),"
        f" ST_MaxY({c}) FROM {t} WHERE {c} NOTNULL AND NOT ST_IsEmpty({c})"
    )


def update_extent(conn: sqlite3.Connection, table: str, column: str = "geom") -> None:
    """Refresh a layer's bounding box and last change time in ``gpkg_contents``."""
    rtree = _q(f"rtree_{table}_{column}")
    has_rtree = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = ?", (f"rtree_{table}_{column}",)
    ).fetchone()
    if has_rtree:
        row = conn.execute(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {rtree}")
        bounds = row.fetchone()
    else:
        bounds = (None, None, None, None)
    conn.execute(
        "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, last_change = ?"
        " WHERE table_name = ?",
        (*bounds, _now(), table),
    )


def touch(conn: sqlite3.Connection, table: str) -> None:
    """Set a layer's ``last_change`` (GDAL and QGIS use it to refresh caches)."""
    conn.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (_now(), table))
