"""The SQL schema of a store, generated from :mod:`minemap.records.schema`.

Both engines build their tables from :func:`build_metadata`, so a GeoPackage
and a PostGIS store hold the same tables and columns; only the column types
of geometry, JSON and timestamps differ by dialect. Besides one table per
record kind there are:

``minemap_meta``
    key/value pairs: ``schema_version``, ``crs``, ``extent`` (JSON lon/lat box).
``audit``
    one entry per write: who, when, which record, action, before and after.
``hazard_history``
    every change of a hazard's type, status, area or geometry, appended only.
``users``
    name, role, organisation and password hash (hashing is the web layer's).
``rasters``
    raster layers (DEM, land cover) kept inside the store as files' bytes.

``SCHEMA_VERSION`` counts the layout; a store written with a larger number
is refused (:class:`~minemap.errors.SchemaVersionError`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from minemap.records.schema import INSERT_ORDER, KINDS, SYSTEM_FIELDS, Field, Kind

#: The layout version this code writes; bump it with every migration.
SCHEMA_VERSION = 1

META = "minemap_meta"
AUDIT = "audit"
HAZARD_HISTORY = "hazard_history"
USERS = "users"
RASTERS = "rasters"

#: Tables that are not record kinds, in the order a backup copies them.
SUPPORT_TABLES: tuple[str, ...] = (USERS, HAZARD_HISTORY, AUDIT, RASTERS)

#: The geometry column of every spatial table (frames call it ``geometry``).
GEOM = "geom"

GeometryFactory = Callable[[str], sa.types.TypeEngine[Any]]


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "wkt"):  # shapely geometries
        return value.wkt
    msg = f"cannot write {type(value).__name__} as JSON"
    raise TypeError(msg)


def dumps(value: Any) -> str:
    """JSON text of a value; dates as ISO strings, geometries as WKT."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_default)


@functools.lru_cache(maxsize=1024)
def _gpkg_timestamp(value: dt.datetime) -> str:
    # GeoPackage timestamps carry milliseconds (GDAL warns on more digits); a batch
    # shares one timestamp, hence the cache
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timestamp kept in UTC; on SQLite as GeoPackage's ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _DeclaredText("DATETIME")
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            msg = f"expected a datetime, got {value!r}"
            raise TypeError(msg)
        value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return _gpkg_timestamp(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class _DeclaredText(sa.types.UserDefinedType[str]):
    """Text stored under a declared SQLite column type (``DATETIME``, ``POINT``...)."""

    cache_ok = True

    def __init__(self, declared: str) -> None:
        self.declared = declared

    def get_col_spec(self, **kw: Any) -> str:
        return self.declared


class JsonText(sa.types.TypeDecorator[Any]):
    """JSON: ``JSONB`` on PostgreSQL, ``TEXT`` holding JSON on SQLite (GeoPackage has no JSON)."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB(none_as_null=True))
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return dumps(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.loads(value)


class GpkgGeometry(sa.types.UserDefinedType[bytes]):
    """A GeoPackage geometry BLOB under its declared type name (``MULTIPOLYGON``...)."""

    cache_ok = True

    def __init__(self, geometry_type: str) -> None:
        self.geometry_type = geometry_type

    def get_col_spec(self, **kw: Any) -> str:
        return self.geometry_type.upper()


def column_type(f: Field) -> sa.types.TypeEngine[Any]:
    """The SQL type of a record field."""
    match f.type:
        case "text":
            return sa.Text()
        case "int" | "link":
            return sa.Integer()
        case "float":
            return sa.Double()
        case "date":
            return sa.Date()
        case "datetime":
            return UtcDateTime()
        case "bool":
            return sa.Boolean()
        case "json":
            return JsonText()
    msg = f"field {f.name!r} has unknown type {f.type!r}"
    raise ValueError(msg)


def _fk(target: str, name: str) -> sa.ForeignKey:
    # deferrable so that a restore can load records that point forwards
    return sa.ForeignKey(target, name=name, deferrable=True, initially="IMMEDIATE")


def kind_columns(kind: Kind) -> tuple[Field, ...]:
    """The kind's own fields followed by the system fields, as stored."""
    return kind.fields + SYSTEM_FIELDS


def build_metadata(geometry: GeometryFactory) -> sa.MetaData:
    """Every table of a store; ``geometry(type_name)`` gives the engine's geometry type."""
    md = sa.MetaData()
    for name in INSERT_ORDER:
        kind = KINDS[name]
        cols: list[sa.schema.SchemaItem] = [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("ref", sa.Text, nullable=False, unique=True),
        ]
        for f in kind_columns(kind):
            args: list[Any] = []
            if f.type == "link" and f.link:
                args.append(_fk(f"{f.link}.id", f"fk_{name}_{f.name}"))
            cols.append(
                sa.Column(
                    f.name,
                    column_type(f),
                    *args,
                    nullable=f.name not in ("workflow", "version"),
                    index=f.type == "link",
                )
            )
        if kind.geometry:
            cols.append(sa.Column(GEOM, geometry(kind.geometry)))
        sa.Table(name, md, *cols, sqlite_autoincrement=True)

    sa.Table(
        META,
        md,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    sa.Table(
        USERS,
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column(
            "organisation_id",
            sa.Integer,
            _fk("organisations.id", "fk_users_organisation_id"),
        ),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sqlite_autoincrement=True,
    )
    # No foreign key from history or audit to the records: both outlive a deleted record.
    sa.Table(
        HAZARD_HISTORY,
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("hazard_id", sa.Integer, nullable=False, index=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("area_m2", sa.Double),
        sa.Column("reason", sa.Text),
        sa.Column(GEOM, geometry("MultiPolygon")),
        sqlite_autoincrement=True,
    )
    sa.Table(
        AUDIT,
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False, index=True),
        sa.Column("user", sa.Text, nullable=False, index=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("record_id", sa.Integer),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("before", JsonText()),
        sa.Column("after", JsonText()),
        sa.Column("reason", sa.Text),
        sa.Index("ix_audit_kind_record", "kind", "record_id"),
        sqlite_autoincrement=True,
    )
    sa.Table(
        RASTERS,
        md,
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    return md


def spatial_tables() -> dict[str, str]:
    """Table name -> geometry type name, for every table with a geometry column."""
    out: dict[str, str] = {name: k.geometry for name, k in KINDS.items() if k.geometry}
    out[HAZARD_HISTORY] = "MultiPolygon"
    return out
