"""What both engines share: the store's rules written once over SQLAlchemy Core.

:class:`SqlStore` implements :class:`~minemap.store.base.Store` (validation,
link resolution, workflow, optimistic concurrency, hazard history, audit,
users, rasters, backup by copying tables) over the tables of
:mod:`minemap.store.tables`. An engine (:mod:`~minemap.store.gpkg`,
:mod:`~minemap.store.postgis`) supplies the connection, the geometry
encoding, the spatial filter, id allocation and schema creation.
"""

from __future__ import annotations

import abc
import datetime as dt
import hashlib
import json
import logging
import shutil
import threading
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from pyproj import CRS

from minemap.errors import (
    ConfigError,
    ConflictError,
    NotFoundError,
    SchemaVersionError,
    StoreError,
    ValidationError,
)
from minemap.files import replace_when_done
from minemap.records import workflow
from minemap.records.schema import (
    INSERT_ORDER,
    KINDS,
    RELEASE_METHODS,
    ROLES,
    SYSTEM_FIELDS,
    Field,
    Kind,
    get_kind,
)
from minemap.records.validate import (
    MANAGED,
    BatchValidationError,
    ValidationResult,
    first_refusal,
    validate_frame,
)
from minemap.store import tables as tbl
from minemap.store.base import BatchResult, BBox, Record, Store

log = logging.getLogger(__name__)

PERSONAL_MASK = "[personal]"
_CHUNK = 5000
_ANALYZE_ROWS = 10_000  # a batch this large changes what the query planner should assume
_READONLY_CHANGES = (*MANAGED, "workflow")


def utcnow() -> dt.datetime:
    """Now in UTC to the millisecond (what a GeoPackage timestamp holds)."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def check_store_crs(crs: str | CRS) -> CRS:
    """A store CRS must be projected, in metres, with an EPSG code."""
    try:
        c = CRS.from_user_input(crs)
    except Exception as exc:
        msg = f"unknown CRS {crs!r}: {exc}"
        raise ConfigError(msg) from None
    unit = c.axis_info[0].unit_name if c.axis_info else ""
    if not c.is_projected or unit not in ("metre", "meter"):
        msg = f"the store CRS must be projected in metres (e.g. EPSG:32638); {crs!r} is not"
        raise ConfigError(msg)
    if c.to_epsg() is None:
        msg = f"the store CRS must have an EPSG code; {crs!r} has none"
        raise ConfigError(msg)
    return c


def _py(value: Any) -> Any:
    """A plain Python value (None for every missing marker)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        v = value.item()
        return None if isinstance(v, float) and np.isnan(v) else v
    return value


def _column_values(f: Field, s: pd.Series) -> list[Any]:
    """A validated column as the Python values the database takes (None for missing)."""
    present = s.notna().to_numpy()
    if f.type == "date":
        values = pd.to_datetime(s).dt.date.astype(object)
    elif f.type == "datetime":
        values = pd.Series(
            [
                pd.Timestamp(v).to_pydatetime() if ok else None
                for v, ok in zip(s, present, strict=True)
            ],
            dtype=object,
        )
    elif f.type in ("int", "link", "float", "bool", "text"):
        values = s.astype(object)
    else:
        return [_py(v) for v in s]
    return [v if ok else None for v, ok in zip(values.tolist(), present, strict=True)]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, shapely.Geometry) or isinstance(b, shapely.Geometry):
        if a is None or b is None:
            return a is b
        return bool(shapely.equals_exact(a, b, 0.0)) and a.geom_type == b.geom_type
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (np.isnan(a) and np.isnan(b))
    return bool(a == b) if a is not None and b is not None else a is b


class SqlStore(Store):
    """A store over SQLAlchemy Core; engines subclass it."""

    engine_name = "sql"

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: sa.Engine | None = None
        self._md: sa.MetaData | None = None
        self._crs: CRS | None = None
        self._extent: BBox | None = None
        self._local = threading.local()
        self._lock = threading.Lock()

    # --- engine hooks ----------------------------------------------------------------------------
    @abc.abstractmethod
    def _create_engine(self) -> sa.Engine: ...

    @abc.abstractmethod
    def _geometry_factory(self, srid: int) -> tbl.GeometryFactory: ...

    def _build_metadata(self, srid: int) -> sa.MetaData:
        return tbl.build_metadata(self._geometry_factory(srid))

    @abc.abstractmethod
    def _to_db_geoms(self, geoms: np.ndarray) -> list[Any]: ...

    @abc.abstractmethod
    def _from_db_geoms(self, values: Sequence[Any]) -> np.ndarray: ...

    @abc.abstractmethod
    def _bbox_filter(self, table: sa.Table, bbox: BBox) -> sa.ColumnElement[bool]: ...

    def _bbox_exact(self) -> bool:
        """Whether rows from :meth:`_bbox_filter` still need the exact intersection test."""
        return True

    @abc.abstractmethod
    def _next_ids(self, conn: sa.Connection, table: str, n: int) -> list[int]: ...

    @abc.abstractmethod
    def _exists(self) -> bool:
        """Whether the database exists (a file, a reachable database)."""

    @abc.abstractmethod
    def _create_schema(self, conn: sa.Connection, crs: CRS) -> None:
        """Create every table (and the engine's extras) for a new store."""

    @abc.abstractmethod
    def _write_connection(self) -> AbstractContextManager[sa.Connection]:
        """A connection inside a write transaction (committed on normal exit)."""

    @abc.abstractmethod
    def _defer_constraints(self, conn: sa.Connection) -> None:
        """Check foreign keys at commit rather than per row (for restore)."""

    def _finish_write(self, conn: sa.Connection, tables: set[str]) -> None:
        """Engine bookkeeping before a write commits (e.g. GeoPackage layer extents)."""

    def _after_copy(self, conn: sa.Connection) -> None:
        """Engine bookkeeping after tables were loaded with explicit ids."""

    def _analyze(self, conn: sa.Connection, tables: Sequence[str]) -> None:
        """Refresh the planner's statistics after a large batch (engines that need it)."""

    def _upgrade_existing(self, conn: sa.Connection) -> None:
        """Run the engine's migrations on an existing store (``db init`` again)."""

    # --- lifecycle -------------------------------------------------------------------------------
    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = self._create_engine()
        return self._engine

    @property
    def crs(self) -> str:
        self._ensure()
        assert self._crs is not None
        return f"EPSG:{self._crs.to_epsg()}"

    @property
    def srid(self) -> int:
        self._ensure()
        assert self._crs is not None
        return int(self._crs.to_epsg() or 0)

    @property
    def extent(self) -> BBox | None:
        self._ensure()
        return self._extent

    @property
    def metadata(self) -> sa.MetaData:
        self._ensure()
        assert self._md is not None
        return self._md

    def table(self, name: str) -> sa.Table:
        return self.metadata.tables[name]

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self._engine = None
        self._md = None
        self._crs = None
        self._extent = None

    def _read_meta(self, conn: sa.Connection) -> dict[str, str] | None:
        insp = sa.inspect(conn)
        if not insp.has_table(tbl.META):
            return None
        rows = conn.execute(sa.text(f"SELECT key, value FROM {tbl.META}")).all()
        return {str(k): str(v) for k, v in rows}

    def _check_version(self, meta: Mapping[str, str]) -> int:
        try:
            version = int(meta.get("schema_version", "0"))
        except ValueError:
            version = -1
        if version > tbl.SCHEMA_VERSION or version < 1:
            msg = (
                f"{self.url} was written with store schema version {meta.get('schema_version')}; "
                f"this minemap reads versions up to {tbl.SCHEMA_VERSION}: upgrade minemap"
            )
            raise SchemaVersionError(msg)
        return version

    def _apply_meta(self, meta: Mapping[str, str]) -> None:
        self._crs = CRS.from_user_input(meta["crs"])
        raw = meta.get("extent")
        box = json.loads(raw) if raw else None
        self._extent = check_extent(box) if box else None
        self._md = self._build_metadata(int(self._crs.to_epsg() or 0))

    def _ensure(self) -> None:
        if self._md is not None:
            return
        with self._lock:
            if self._md is not None:
                return
            if not self._exists():
                msg = f"no store at {self.url}; create it with `minemap db init --db {self.url}`"
                raise StoreError(msg)
            try:
                with self.engine.connect() as conn:
                    meta = self._read_meta(conn)
            except sa.exc.DatabaseError as exc:
                msg = f"{self.url} cannot be opened as a store: {exc.orig}"
                raise StoreError(msg) from None
            if meta is None:
                msg = f"{self.url} is not a minemap store; run `minemap db init --db {self.url}`"
                raise StoreError(msg)
            self._check_version(meta)
            self._apply_meta(meta)
            self._sync_columns()

    def init(self, *, crs: str | None = None, extent: BBox | None = None) -> None:
        from minemap.settings import get_settings

        if extent is not None:
            extent = check_extent(extent)
        self.close()
        meta = None
        if self._exists():
            with self.engine.connect() as conn:
                meta = self._read_meta(conn)
        if meta is not None:
            self._check_version(meta)
            if crs is not None and not CRS.from_user_input(meta["crs"]).equals(
                check_store_crs(crs)
            ):
                msg = (
                    f"{self.url} already holds records in {meta['crs']}; it cannot change to {crs}"
                )
                raise ConfigError(msg)
            self._apply_meta(meta)
            with self._write_connection() as conn:
                self._upgrade_existing(conn)
                if extent is not None:
                    self._put_meta(conn, {"extent": json.dumps(list(extent))})
            self.close()
            self._ensure()
            return
        c = check_store_crs(crs or get_settings().crs)
        self._md = self._build_metadata(int(c.to_epsg() or 0))
        self._crs = c
        try:
            with self._write_connection() as conn:
                self._create_schema(conn, c)
                self._put_meta(
                    conn,
                    {
                        "schema_version": str(tbl.SCHEMA_VERSION),
                        "crs": f"EPSG:{c.to_epsg()}",
                        "extent": json.dumps(list(extent) if extent else None),
                        "created_at": utcnow().isoformat(),
                    },
                )
        finally:
            self.close()
        self._ensure()

    def _put_meta(self, conn: sa.Connection, values: Mapping[str, str]) -> None:
        meta = sa.table(tbl.META, sa.column("key"), sa.column("value"))
        for key, value in values.items():
            conn.execute(sa.delete(meta).where(meta.c.key == key))
            conn.execute(sa.insert(meta).values(key=key, value=value))

    def _sync_columns(self) -> None:
        """Add columns of fields added to the schema since the store was made."""
        md = self._md
        assert md is not None
        with self.engine.connect() as conn:
            insp = sa.inspect(conn)
            missing: list[tuple[sa.Table, sa.Column[Any]]] = []
            for name in INSERT_ORDER:
                table = md.tables[name]
                if not insp.has_table(name):
                    continue
                have = {c["name"] for c in insp.get_columns(name)}
                missing += [(table, c) for c in table.columns if c.name not in have]
        if not missing:
            return
        with self._write_connection() as conn:
            dialect = conn.dialect
            for table, col in missing:
                prep = dialect.identifier_preparer
                ddl = (
                    f"ALTER TABLE {prep.quote(table.name)} ADD COLUMN "
                    f"{prep.quote(col.name)} {col.type.compile(dialect)}"
                )
                try:
                    conn.execute(sa.text(ddl))
                except sa.exc.OperationalError as exc:  # another process added it first
                    if "duplicate column" not in str(exc).lower():
                        raise
                log.info("added column %s.%s", table.name, col.name)

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        active: sa.Connection | None = getattr(self._local, "conn", None)
        if active is not None:
            yield active
            return
        self._ensure()
        try:
            with self._write_connection() as conn:
                self._local.conn = conn
                self._local.touched = set()
                try:
                    yield conn
                    self._finish_write(conn, self._local.touched)
                finally:
                    self._local.conn = None
                    self._local.touched = set()
        except sa.exc.IntegrityError as exc:
            # a unique ref or a link raced with another writer: refuse, never overwrite
            reason = str(exc.orig).strip().splitlines()[0]
            msg = f"the write conflicts with the records in {self.url}: {reason}"
            raise ConflictError(msg) from None
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0]
            msg = f"cannot write to {self.url}: {reason}"
            raise StoreError(msg) from None

    def _touch(self, table: str) -> None:
        touched: set[str] | None = getattr(self._local, "touched", None)
        if touched is not None:
            touched.add(table)

    @contextmanager
    def _reader(self) -> Iterator[sa.Connection]:
        active: sa.Connection | None = getattr(self._local, "conn", None)
        if active is not None:
            yield active
            return
        self._ensure()
        with self.engine.connect() as conn:
            yield conn

    # --- reads -----------------------------------------------------------------------------------
    def _columns(self, k: Kind, include_personal: bool) -> list[Field]:
        return [f for f in tbl.kind_columns(k) if include_personal or not f.personal]

    def read(
        self,
        kind: str,
        *,
        bbox: BBox | None = None,
        ids: Sequence[int] | None = None,
        where: Mapping[str, Any] | None = None,
        with_refs: bool = False,
        include_personal: bool = False,
    ) -> pd.DataFrame:
        k = get_kind(kind)
        table = self.table(k.name)
        fields = self._columns(k, include_personal)
        cols: list[Any] = [table.c.id, table.c.ref, *(table.c[f.name] for f in fields)]
        if k.geometry:
            cols.append(table.c[tbl.GEOM])
        stmt = sa.select(*cols)
        joined: sa.FromClause = table
        ref_cols: list[str] = []
        if with_refs:
            for f in k.links:
                target = self.table(str(f.link)).alias(f"_ref_{f.name}")
                joined = joined.outerjoin(target, table.c[f.name] == target.c.id)
                stmt = stmt.add_columns(target.c.ref.label(f.file_name))
                ref_cols.append(f.file_name)
            stmt = stmt.select_from(joined)
        if bbox is not None:
            if not k.geometry:
                msg = f"{k.name} has no geometry to filter by a box"
                raise ConfigError(msg)
            stmt = stmt.where(self._bbox_filter(table, _bbox(bbox)))
        if ids is not None:
            id_list = [int(i) for i in ids]
            stmt = stmt.where(table.c.id.in_(id_list))
        for key, value in (where or {}).items():
            if key not in table.c or key == tbl.GEOM:
                msg = f"{k.name} has no field {key!r} to filter on"
                raise ConfigError(msg)
            if not include_personal and key in {f.name for f in k.personal_fields}:
                msg = f"{k.name}.{key} is personal data; filter on it with include_personal=True"
                raise ConfigError(msg)
            col = table.c[key]
            if value is None:
                stmt = stmt.where(col.is_(None))
            elif isinstance(value, list | tuple | set | frozenset):
                stmt = stmt.where(col.in_(list(value)))
            else:
                stmt = stmt.where(col == value)
        stmt = stmt.order_by(table.c.id)
        with self._reader() as conn:
            rows = conn.execute(stmt).all()
        frame = self._frame(k, fields, rows, with_geometry=bool(k.geometry), ref_cols=ref_cols)
        if bbox is not None and self._bbox_exact() and len(frame):
            keep = shapely.intersects(frame.geometry.to_numpy(), shapely.box(*_bbox(bbox)))
            frame = frame[keep]
        return frame

    def _frame(
        self,
        k: Kind,
        fields: list[Field],
        rows: Sequence[sa.Row[Any]],
        *,
        with_geometry: bool,
        ref_cols: Sequence[str] = (),
    ) -> pd.DataFrame:
        n = len(rows)
        columns: list[tuple[Any, ...]] = (
            list(zip(*rows, strict=True))
            if rows
            else [() for _ in range(len(fields) + 3 + len(ref_cols))]
        )
        data: dict[str, Any] = {
            "id": pd.array(columns[0], dtype="Int64"),
            "ref": _objects(columns[1]),
        }
        for i, f in enumerate(fields, start=2):
            data[f.name] = _typed(f, columns[i])
        pos = len(fields) + 2
        geoms = None
        if with_geometry:
            geoms = self._from_db_geoms(columns[pos])
            pos += 1
        refs = {name: _objects(columns[pos + j]) for j, name in enumerate(ref_cols)}
        if refs:
            # put <x>_ref beside <x>_id
            ordered: dict[str, Any] = {}
            for key, values in data.items():
                ordered[key] = values
                ref = key.removesuffix("_id") + "_ref"
                if key.endswith("_id") and ref in refs:
                    ordered[ref] = refs[ref]
            data = ordered
        frame = pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)
        if with_geometry:
            assert self._crs is not None
            return gpd.GeoDataFrame(
                frame, geometry=gpd.array.from_shapely(geoms, crs=self._crs), copy=False
            )
        return frame

    def _fetch(
        self, conn: sa.Connection, k: Kind, record_id: int, *, include_personal: bool
    ) -> Record:
        table = self.table(k.name)
        fields = self._columns(k, include_personal)
        cols: list[Any] = [table.c.id, table.c.ref, *(table.c[f.name] for f in fields)]
        if k.geometry:
            cols.append(table.c[tbl.GEOM])
        row = conn.execute(sa.select(*cols).where(table.c.id == int(record_id))).first()
        if row is None:
            msg = f"no {k.name} record with id {record_id}"
            raise NotFoundError(msg)
        out: Record = {"id": row[0], "ref": row[1]}
        for i, f in enumerate(fields, start=2):
            out[f.name] = row[i]
        if k.geometry:
            out["geometry"] = self._from_db_geoms([row[len(fields) + 2]])[0]
        return out

    def get(self, kind: str, record_id: int, *, include_personal: bool = False) -> Record:
        k = get_kind(kind)
        with self._reader() as conn:
            return self._fetch(conn, k, record_id, include_personal=include_personal)

    def count(self, kind: str) -> int:
        k = get_kind(kind)
        table = self.table(k.name)
        with self._reader() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    # --- checks ----------------------------------------------------------------------------------
    def _as_frame(self, k: Kind, records: pd.DataFrame | Sequence[Record]) -> pd.DataFrame:
        if isinstance(records, pd.DataFrame):
            return records
        rows = [dict(r) for r in records]
        index = pd.RangeIndex(1, len(rows) + 1)
        if k.geometry and any("geometry" in r for r in rows):
            geoms = [r.pop("geometry", None) for r in rows]
            frame = pd.DataFrame(rows, index=index)
            return gpd.GeoDataFrame(
                frame, geometry=gpd.GeoSeries(geoms, index=index, crs=self.crs), crs=self.crs
            )
        return pd.DataFrame(rows, index=index)

    def check(
        self, kind: str, records: pd.DataFrame | Sequence[Record], *, exclude_id: int | None = None
    ) -> ValidationResult:
        k = get_kind(kind)
        frame = self._as_frame(k, records)
        with self._reader() as conn:
            return self._check(conn, k, frame, exclude_id=exclude_id)

    def _check(
        self, conn: sa.Connection, k: Kind, frame: pd.DataFrame, *, exclude_id: int | None = None
    ) -> ValidationResult:
        result = validate_frame(k.name, frame, crs=self.crs, extent=self.extent)
        valid = result.valid
        extra: dict[Hashable, list[tuple[str, str]]] = {}

        def flag(row: Hashable, name: str, reason: str) -> None:
            extra.setdefault(row, []).append((name, reason))

        table = self.table(k.name)
        if "ref" in valid.columns and len(valid):
            refs = valid["ref"]
            given = refs[refs.notna()]
            dup = given[given.duplicated(keep="first")]
            for row, ref in dup.items():
                flag(row, "ref", f"ref {ref!r} appears twice in this batch")
            existing = self._existing(conn, table, "ref", list(given.unique()), exclude_id)
            for row, ref in given.items():
                if ref in existing:
                    flag(row, "ref", f"a {k.name} record with ref {ref!r} already exists")
        for f in (*k.links, *(sf for sf in SYSTEM_FIELDS if sf.type == "link")):
            if f.name not in valid.columns or not len(valid):
                continue
            target = self.table(str(f.link))
            ids = valid[f.name].astype("Int64")
            if f.file_name in valid.columns:
                refs = valid[f.file_name]
                wanted = list(refs.dropna().unique())
                found = self._ref_map(conn, target, wanted)
                for row, ref in refs.dropna().items():
                    if ref in found:
                        ids.at[row] = found[ref]
                    else:
                        flag(row, f.file_name, f"no {f.link} record with ref {ref!r}")
            given_ids = ids.dropna()
            if len(given_ids):
                have = self._existing(
                    conn, target, "id", [int(i) for i in given_ids.unique()], None
                )
                for row, i in given_ids.items():
                    if int(i) not in have:
                        flag(row, f.name, f"no {f.link} record with id {int(i)}")
            valid[f.name] = ids
        if not extra:
            return result
        rejects = result.rejects
        added = pd.DataFrame(
            {
                "row": pd.Series(list(extra), dtype=object),
                "field": [v[0][0] for v in extra.values()],
                "reason": ["; ".join(f"{n}: {r}" for n, r in v) for v in extra.values()],
            }
        )
        rejects = pd.concat([rejects, added], ignore_index=True) if len(rejects) else added
        position = {row: i for i, row in enumerate(frame.index)}
        rejects = (
            rejects.assign(_pos=rejects["row"].map(position))
            .sort_values("_pos", kind="stable")
            .drop(columns="_pos")
            .reset_index(drop=True)
        )
        keep = ~valid.index.isin(list(extra))
        bad = set(extra)
        return ValidationResult(
            k.name,
            valid[keep],
            rejects,
            [r for r in result.repairs if r.row is None or r.row not in bad],
        )

    def _existing(
        self,
        conn: sa.Connection,
        table: sa.Table,
        column: str,
        values: list[Any],
        exclude_id: int | None,
    ) -> set[Any]:
        found: set[Any] = set()
        col = table.c[column]
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            stmt = sa.select(col).where(col.in_(chunk))
            if exclude_id is not None:
                stmt = stmt.where(table.c.id != exclude_id)
            found.update(conn.execute(stmt).scalars())
        return found

    def _ref_map(self, conn: sa.Connection, table: sa.Table, refs: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for start in range(0, len(refs), _CHUNK):
            chunk = refs[start : start + _CHUNK]
            stmt = sa.select(table.c.ref, table.c.id).where(table.c.ref.in_(chunk))
            out.update({str(r): int(i) for r, i in conn.execute(stmt)})
        return out

    # --- writes ----------------------------------------------------------------------------------
    def insert(
        self,
        kind: str,
        records: pd.DataFrame | Sequence[Record],
        *,
        user: str,
        organisation_id: int | None = None,
    ) -> list[int]:
        return self.insert_batch(kind, records, user=user, organisation_id=organisation_id).ids

    def insert_batch(
        self,
        kind: str,
        records: pd.DataFrame | Sequence[Record],
        *,
        user: str,
        organisation_id: int | None = None,
        skip_invalid: bool = False,
    ) -> BatchResult:
        k = get_kind(kind)
        frame = self._as_frame(k, records)
        with self.transaction() as conn:
            result = self._check(conn, k, frame)
            if not result.ok and not skip_invalid:
                raise BatchValidationError(k.name, result.rejects, total=len(frame))
            ids = self._insert_valid(conn, k, result.valid, user, organisation_id)
        return BatchResult(ids, result.rejects, result.repairs)

    def _insert_valid(
        self,
        conn: sa.Connection,
        k: Kind,
        valid: pd.DataFrame,
        user: str,
        organisation_id: int | None,
    ) -> list[int]:
        n = len(valid)
        if n == 0:
            return []
        if organisation_id is not None:
            self._require(conn, "organisations", organisation_id, "organisation_id")
        ids = self._next_ids(conn, k.name, n)
        now = utcnow()
        # chunk by chunk, so that a large import holds one chunk's rows in memory at a time
        for start in range(0, n, _CHUNK):
            self._insert_chunk(
                conn,
                k,
                valid.iloc[start : start + _CHUNK],
                ids[start : start + _CHUNK],
                user=user,
                organisation_id=organisation_id,
                now=now,
            )
        self._touch(k.name)
        self._touch(tbl.AUDIT)
        if k.name == "hazards":
            self._touch(tbl.HAZARD_HISTORY)
        if k.name == "releases":
            released = set(valid["activity_id"].dropna().astype(int))
            self._sync_activity_areas(conn, released, user=user, now=now)
        if n >= _ANALYZE_ROWS:
            self._analyze(conn, [k.name, tbl.AUDIT, tbl.HAZARD_HISTORY])
        return ids

    def _sync_activity_areas(
        self, conn: sa.Connection, activity_ids: set[Any], *, user: str, now: dt.datetime
    ) -> None:
        """Keep each activity's cancelled/reduced/cleared areas equal to its releases' sums.

        IMAS 07.11 counts released land by method; an activity's three area
        fields are the totals of its release polygons (0 for a method it has
        none of), rewritten, audited and versioned whenever its releases change.
        """
        ids = sorted(int(i) for i in activity_ids if i is not None and not pd.isna(i))
        if not ids:
            return
        rel, act = self.table("releases"), self.table("activities")
        sums: dict[tuple[int, str], float] = {}
        query = (
            sa.select(rel.c.activity_id, rel.c.method, sa.func.sum(rel.c.area_m2))
            .where(rel.c.activity_id.in_(ids))
            .group_by(rel.c.activity_id, rel.c.method)
        )
        for aid, method, total in conn.execute(query):
            sums[(int(aid), str(method))] = float(total or 0.0)
        fields = {m: f"area_{m}_m2" for m in RELEASE_METHODS}
        current = conn.execute(
            sa.select(act.c.id, act.c.version, *(act.c[f] for f in fields.values())).where(
                act.c.id.in_(ids)
            )
        ).all()
        for row in current:
            aid, version = int(row[0]), int(row[1])
            before = dict(zip(fields.values(), row[2:], strict=True))
            after = {f: round(sums.get((aid, m), 0.0), 3) for m, f in fields.items()}
            changed = {
                f: v
                for f, v in after.items()
                if before[f] is None or not np.isclose(float(before[f]), v, rtol=1e-9, atol=1e-3)
            }
            if not changed:
                continue
            conn.execute(
                sa.update(act)
                .where(act.c.id == aid)
                .values(**changed, version=version + 1, updated_at=now, updated_by=user)
            )
            self._audit(
                conn,
                user=user,
                kind="activities",
                record_id=aid,
                action="update",
                before={f: before[f] for f in changed},
                after=changed,
                reason="released areas summed from the activity's releases",
                at=now,
            )
            self._touch("activities")

    def _insert_chunk(
        self,
        conn: sa.Connection,
        k: Kind,
        valid: pd.DataFrame,
        ids: list[int],
        *,
        user: str,
        organisation_id: int | None,
        now: dt.datetime,
    ) -> None:
        n = len(valid)
        table = self.table(k.name)
        cols: dict[str, list[Any]] = {"id": ids}
        given_refs = valid["ref"] if "ref" in valid.columns else pd.Series([None] * n)
        cols["ref"] = [
            str(r) if r is not None and not pd.isna(r) else f"{k.ref_prefix}-{i:06d}"
            for r, i in zip(given_refs, ids, strict=True)
        ]
        for f in tbl.kind_columns(k):
            if f.name in valid.columns:
                cols[f.name] = _column_values(f, valid[f.name])
            else:
                cols[f.name] = [None] * n
        cols["version"] = [1] * n
        if organisation_id is not None:
            cols["organisation_id"] = [
                organisation_id if v is None else v for v in cols["organisation_id"]
            ]
        cols["created_at"] = cols["updated_at"] = [now] * n
        cols["created_by"] = cols["updated_by"] = [user] * n
        geoms: np.ndarray | None = None
        if k.geometry:
            geoms = np.asarray(valid.geometry.to_numpy(), dtype=object)
            cols[tbl.GEOM] = self._to_db_geoms(geoms)
        self._bulk_insert(conn, table, cols)

        # audit: the record as written (JSON-ready values), personal data masked,
        # geometry as WKT
        personal = {f.name for f in k.personal_fields}
        dated = {f.name for f in tbl.kind_columns(k) if f.type in ("date", "datetime")}
        after_cols: dict[str, list[Any]] = {}
        for key, values in cols.items():
            if key in (tbl.GEOM, "id"):
                continue
            if key in personal:
                values = [None if v is None else PERSONAL_MASK for v in values]
            elif key in dated:
                iso: dict[Any, str] = {}  # a batch shares its timestamps: format each once
                values = [
                    None if v is None else iso.get(v) or iso.setdefault(v, v.isoformat())
                    for v in values
                ]
            after_cols[key] = values
        if geoms is not None:
            after_cols["geometry"] = list(shapely.to_wkt(geoms))
        keys = list(after_cols)
        afters = [
            dict(zip(keys, vals, strict=True)) for vals in zip(*after_cols.values(), strict=True)
        ]
        self._bulk_insert(
            conn,
            self.table(tbl.AUDIT),
            {
                "at": [now] * n,
                "user": [user] * n,
                "kind": [k.name] * n,
                "record_id": ids,
                "action": ["insert"] * n,
                "after": afters,
            },
        )
        if k.name == "hazards":
            self._bulk_insert(
                conn,
                self.table(tbl.HAZARD_HISTORY),
                {
                    "hazard_id": ids,
                    "at": [now] * n,
                    "user": [user] * n,
                    "action": ["created"] * n,
                    "version": [1] * n,
                    "type": cols["type"],
                    "status": cols["status"],
                    "area_m2": cols["area_m2"],
                    tbl.GEOM: cols[tbl.GEOM],
                },
            )

    def _bulk_insert(
        self, conn: sa.Connection, table: sa.Table, columns: Mapping[str, list[Any]]
    ) -> None:
        """Insert column-wise values in chunks, converting each column once.

        SQLAlchemy's per-row parameter handling costs more than the database
        itself on a 100,000-row import; here each column goes through its type's
        bind processor in one pass and the rows go to the driver's executemany.
        """
        names = list(columns)
        if not names:
            return
        n = len(columns[names[0]])
        if n == 0:
            return
        dialect = conn.dialect
        compiled = sa.insert(table).compile(dialect=dialect, column_keys=names)
        processed: dict[str, list[Any]] = {}
        for name in names:
            # the cached processor is what SQLAlchemy itself applies per value
            proc = table.c[name].type._cached_bind_processor(dialect)
            values = columns[name]
            processed[name] = values if proc is None else [proc(v) for v in values]
        sql = str(compiled)
        if compiled.positional:
            order = [processed[name] for name in compiled.positiontup or []]
            rows: list[Any] = list(zip(*order, strict=True))
        else:
            keys = list(processed)
            rows = [
                dict(zip(keys, vals, strict=True)) for vals in zip(*processed.values(), strict=True)
            ]
        for start in range(0, n, _CHUNK):
            conn.exec_driver_sql(sql, rows[start : start + _CHUNK])

    def _require(self, conn: sa.Connection, kind: str, record_id: int, field_name: str) -> None:
        table = self.table(kind)
        if conn.execute(sa.select(table.c.id).where(table.c.id == record_id)).first() is None:
            msg = f"no {kind} record with id {record_id}"
            raise ValidationError(msg, field=field_name)

    def _audit_many(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), _CHUNK):
            conn.execute(sa.insert(self.table(tbl.AUDIT)), rows[start : start + _CHUNK])
        self._touch(tbl.AUDIT)

    def _audit(
        self,
        conn: sa.Connection,
        *,
        user: str,
        kind: str,
        record_id: int | None,
        action: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        reason: str | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        personal = {f.name for f in KINDS[kind].personal_fields} if kind in KINDS else set()

        def clean(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
            if values is None:
                return None
            out: dict[str, Any] = {}
            for key, v in values.items():
                if key in personal and v is not None:
                    v = PERSONAL_MASK
                elif isinstance(v, shapely.Geometry):
                    v = shapely.to_wkt(v)
                out[key] = _py(v)
            return out

        self._audit_many(
            conn,
            [
                {
                    "at": at or utcnow(),
                    "user": user,
                    "kind": kind,
                    "record_id": record_id,
                    "action": action,
                    "before": clean(before),
                    "after": clean(after),
                    "reason": reason,
                }
            ],
        )

    def _locked(
        self, conn: sa.Connection, k: Kind, record_id: int, expected_version: int
    ) -> Record:
        current = self._fetch(conn, k, record_id, include_personal=True)
        if int(current["version"]) != int(expected_version):
            msg = (
                f"{k.name} {current['ref']} was changed by {current['updated_by']} at "
                f"{current['updated_at']:%Y-%m-%d %H:%M:%S} (version {current['version']}); "
                f"your copy is version {expected_version}: reload and try again"
            )
            raise ConflictError(msg)
        return current

    def _write_row(
        self,
        conn: sa.Connection,
        *,
        k: Kind,
        record_id: int,
        expected_version: int,
        values: Mapping[str, Any],
        user: str,
        now: dt.datetime,
    ) -> None:
        table = self.table(k.name)
        db_values = dict(values)
        if "geometry" in db_values:
            geom = db_values.pop("geometry")
            db_values[tbl.GEOM] = self._to_db_geoms(np.array([geom], dtype=object))[0]
        db_values.update(version=int(expected_version) + 1, updated_at=now, updated_by=user)
        res = conn.execute(
            sa.update(table)
            .where(table.c.id == int(record_id), table.c.version == int(expected_version))
            .values(**db_values)
        )
        if res.rowcount != 1:
            msg = (
                f"{k.name} {record_id} was changed meanwhile (version {expected_version} is stale)"
            )
            raise ConflictError(msg)
        self._touch(k.name)

    def update(
        self,
        kind: str,
        record_id: int,
        changes: Mapping[str, Any],
        *,
        expected_version: int,
        user: str,
        reason: str | None = None,
    ) -> Record:
        k = get_kind(kind)
        bad = [c for c in changes if c in _READONLY_CHANGES]
        if bad:
            how = "use set_workflow" if "workflow" in bad else "the store manages it"
            msg = f"{bad[0]} cannot be changed by an update ({how})"
            raise ValidationError(msg, kind=k.name, field=bad[0])
        known = {f.name for f in tbl.kind_columns(k)} | {f.file_name for f in k.links} | {"ref"}
        if k.geometry:
            known.add("geometry")
        unknown = [c for c in changes if c not in known]
        if unknown:
            msg = f"{k.name} has no field {unknown[0]!r}"
            raise ValidationError(msg, kind=k.name, field=unknown[0])
        with self.transaction() as conn:
            before = self._locked(conn, k, record_id, expected_version)
            merged = {key: v for key, v in before.items() if key not in ("id", *MANAGED)}
            for f in k.links:
                if f.file_name in changes:
                    merged.pop(f.name, None)
            merged.update(changes)
            result = self._check(conn, k, self._as_frame(k, [merged]), exclude_id=int(record_id))
            if not result.ok:
                name, reason = first_refusal(result.rejects)
                raise ValidationError(reason, kind=k.name, field=name)
            row = result.valid.iloc[0]
            new: dict[str, Any] = {}
            for f in tbl.kind_columns(k):
                if f.name in MANAGED:
                    continue
                new[f.name] = _column_values(f, pd.Series([row[f.name]]))[0]
            new["ref"] = (
                row["ref"] if "ref" in row and isinstance(row["ref"], str) else before["ref"]
            )
            if k.geometry:
                new["geometry"] = result.valid.geometry.iloc[0]
            diff = [key for key, v in new.items() if not _same(v, before.get(key))]
            if not diff:
                return before if k.personal_fields == () else self.get(k.name, record_id)
            now = utcnow()
            self._write_row(
                conn,
                k=k,
                record_id=record_id,
                expected_version=expected_version,
                values={d: new[d] for d in diff},
                user=user,
                now=now,
            )
            self._audit(
                conn,
                user=user,
                kind=k.name,
                record_id=int(record_id),
                action="update",
                before={d: before.get(d) for d in diff},
                after={d: new[d] for d in diff},
                reason=reason,
                at=now,
            )
            if k.name == "hazards" and set(diff) & {"type", "status", "area_m2", "geometry"}:
                self._history(
                    conn,
                    before=before,
                    after=new,
                    user=user,
                    now=now,
                    version=int(expected_version) + 1,
                    reason=reason,
                )
            if k.name == "releases":
                touched = {before.get("activity_id"), new.get("activity_id")}
                self._sync_activity_areas(conn, touched, user=user, now=now)
            return self._fetch(conn, k, record_id, include_personal=False)

    def _history(
        self,
        conn: sa.Connection,
        *,
        before: Record,
        after: Record,
        user: str,
        now: dt.datetime,
        version: int,
        reason: str | None,
    ) -> None:
        events = []
        if before["type"] != after["type"]:
            events.append(
                "confirmed" if after["type"] == "CHA" else f"reclassified {after['type']}"
            )
        if before["status"] != after["status"]:
            events.append(
                {"closed": "closed", "handed_over": "handed_over", "open": "reopened"}[
                    after["status"]
                ]
            )
        a0, a1 = before.get("area_m2"), after.get("area_m2")
        if a0 is not None and a1 is not None and not np.isclose(a0, a1):
            events.append("reduced" if a1 < a0 else "extended")
        elif not _same(before.get("geometry"), after.get("geometry")):
            events.append("geometry")
        geom = self._to_db_geoms(np.array([after.get("geometry")], dtype=object))[0]
        conn.execute(
            sa.insert(self.table(tbl.HAZARD_HISTORY)).values(
                hazard_id=before["id"],
                at=now,
                user=user,
                action=", ".join(events) or "changed",
                version=version,
                type=after["type"],
                status=after["status"],
                area_m2=after.get("area_m2"),
                reason=reason,
                **{tbl.GEOM: geom},
            )
        )
        self._touch(tbl.HAZARD_HISTORY)

    def delete(self, kind: str, record_id: int, *, expected_version: int, user: str) -> None:
        k = get_kind(kind)
        table = self.table(k.name)
        with self.transaction() as conn:
            before = self._locked(conn, k, record_id, expected_version)
            for other in INSERT_ORDER:
                ok = KINDS[other]
                for f in (*ok.fields, *SYSTEM_FIELDS):
                    if f.type != "link" or f.link != k.name:
                        continue
                    ot = self.table(other)
                    q = sa.select(ot.c.ref).where(ot.c[f.name] == int(record_id))
                    if other == k.name:
                        q = q.where(ot.c.id != int(record_id))
                    hit = conn.execute(q.limit(1)).scalar()
                    if hit is not None:
                        msg = (
                            f"{k.name} {before['ref']} cannot be deleted: {other} {hit} "
                            f"links to it ({f.name})"
                        )
                        raise ConflictError(msg)
            res = conn.execute(
                sa.delete(table).where(
                    table.c.id == int(record_id), table.c.version == int(expected_version)
                )
            )
            if res.rowcount != 1:
                msg = f"{k.name} {record_id} was changed meanwhile"
                raise ConflictError(msg)
            self._touch(k.name)
            now = utcnow()
            snapshot = {key: v for key, v in before.items() if key != "id"}
            self._audit(
                conn,
                user=user,
                kind=k.name,
                record_id=int(record_id),
                action="delete",
                before=snapshot,
                after=None,
                at=now,
            )
            if k.name == "hazards":
                conn.execute(
                    sa.insert(self.table(tbl.HAZARD_HISTORY)).values(
                        hazard_id=int(record_id),
                        at=now,
                        user=user,
                        action="deleted",
                        version=int(expected_version) + 1,
                        type=before["type"],
                        status=before["status"],
                        area_m2=before.get("area_m2"),
                        reason=None,
                        **{tbl.GEOM: None},
                    )
                )
            if k.name == "releases":
                self._sync_activity_areas(conn, {before.get("activity_id")}, user=user, now=now)

    def set_workflow(
        self, kind: str, record_id: int, state: str, *, expected_version: int, user: str
    ) -> Record:
        k = get_kind(kind)
        with self.transaction() as conn:
            before = self._locked(conn, k, record_id, expected_version)
            workflow.check_transition(str(before["workflow"]), state, kind=k.name)
            now = utcnow()
            self._write_row(
                conn,
                k=k,
                record_id=record_id,
                expected_version=expected_version,
                values={"workflow": state},
                user=user,
                now=now,
            )
            self._audit(
                conn,
                user=user,
                kind=k.name,
                record_id=int(record_id),
                action="workflow",
                before={"workflow": before["workflow"]},
                after={"workflow": state},
                at=now,
            )
            return self._fetch(conn, k, record_id, include_personal=False)

    # --- history and audit -----------------------------------------------------------------------
    def hazard_history(self, hazard_id: int) -> pd.DataFrame:
        table = self.table(tbl.HAZARD_HISTORY)
        cols = [c for c in table.columns if c.name != tbl.GEOM]
        stmt = (
            sa.select(*cols, table.c[tbl.GEOM])
            .where(table.c.hazard_id == int(hazard_id))
            .order_by(table.c.id)
        )
        with self._reader() as conn:
            rows = conn.execute(stmt).all()
        names = [c.name for c in cols]
        frame = pd.DataFrame([tuple(r)[:-1] for r in rows], columns=names)
        if len(frame):
            frame["at"] = pd.to_datetime(frame["at"], utc=True)
        geoms = self._from_db_geoms([r[-1] for r in rows])
        return gpd.GeoDataFrame(
            frame, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=self.crs
        )

    def audit(
        self,
        *,
        kind: str | None = None,
        record_id: int | None = None,
        user: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> pd.DataFrame:
        table = self.table(tbl.AUDIT)
        stmt = sa.select(table)
        if kind is not None:
            name = kind if kind in (tbl.USERS,) else get_kind(kind).name
            stmt = stmt.where(table.c.kind == name)
        if record_id is not None:
            stmt = stmt.where(table.c.record_id == int(record_id))
        if user is not None:
            stmt = stmt.where(table.c.user == user)
        if since is not None:
            stmt = stmt.where(table.c.at >= _aware(since))
        if until is not None:
            stmt = stmt.where(table.c.at <= _aware(until))
        with self._reader() as conn:
            rows = conn.execute(stmt.order_by(table.c.id)).all()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in table.columns])
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        frame["record_id"] = frame["record_id"].astype("Int64")
        return frame

    # --- users -----------------------------------------------------------------------------------
    def add_user(
        self, name: str, *, role: str, password_hash: str, organisation_id: int | None
    ) -> int:
        if role not in ROLES:
            msg = f"unknown role {role!r}; roles: {', '.join(ROLES)}"
            raise ValidationError(msg, kind=tbl.USERS, field="role")
        if not name or not name.strip():
            msg = "a user needs a name"
            raise ValidationError(msg, kind=tbl.USERS, field="name")
        table = self.table(tbl.USERS)
        with self.transaction() as conn:
            if conn.execute(sa.select(table.c.id).where(table.c.name == name)).first():
                msg = f"user {name!r} already exists"
                raise ConflictError(msg)
            if organisation_id is not None:
                self._require(conn, "organisations", organisation_id, "organisation_id")
            now = utcnow()
            uid = conn.execute(
                sa.insert(table)
                .values(
                    name=name,
                    role=role,
                    organisation_id=organisation_id,
                    password_hash=password_hash,
                    created_at=now,
                    updated_at=now,
                )
                .returning(table.c.id)
            ).scalar_one()
            self._audit(
                conn,
                user=name,
                kind=tbl.USERS,
                record_id=int(uid),
                action="insert",
                before=None,
                after={"name": name, "role": role, "organisation_id": organisation_id},
                at=now,
            )
        return int(uid)

    def get_user(self, name: str) -> Record:
        table = self.table(tbl.USERS)
        with self._reader() as conn:
            row = conn.execute(sa.select(table).where(table.c.name == name)).mappings().first()
        if row is None:
            msg = f"no user {name!r}"
            raise NotFoundError(msg)
        return dict(row)

    def users(self) -> pd.DataFrame:
        """Every user (without password hashes)."""
        table = self.table(tbl.USERS)
        cols = [c for c in table.columns if c.name != "password_hash"]
        with self._reader() as conn:
            rows = conn.execute(sa.select(*cols).order_by(table.c.id)).all()
        return pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in cols])

    def update_user(
        self,
        name: str,
        *,
        by: str,
        role: str | None = None,
        password_hash: str | None = None,
        organisation_id: int | None = None,
    ) -> Record:
        """Change a user's role, password hash or organisation (audited, hash not shown)."""
        if role is not None and role not in ROLES:
            msg = f"unknown role {role!r}; roles: {', '.join(ROLES)}"
            raise ValidationError(msg, kind=tbl.USERS, field="role")
        table = self.table(tbl.USERS)
        with self.transaction() as conn:
            current = self.get_user(name)
            values: dict[str, Any] = {}
            if role is not None:
                values["role"] = role
            if password_hash is not None:
                values["password_hash"] = password_hash
            if organisation_id is not None:
                self._require(conn, "organisations", organisation_id, "organisation_id")
                values["organisation_id"] = organisation_id
            if not values:
                return current
            now = utcnow()
            conn.execute(
                sa.update(table).where(table.c.name == name).values(**values, updated_at=now)
            )

            def shown(v: Mapping[str, Any]) -> dict[str, Any]:
                return {
                    key: ("[changed]" if key == "password_hash" else v.get(key)) for key in values
                }

            self._audit(
                conn,
                user=by,
                kind=tbl.USERS,
                record_id=int(current["id"]),
                action="update",
                before=shown(current),
                after=shown(values),
                at=now,
            )
            return self.get_user(name)

    # --- rasters ---------------------------------------------------------------------------------
    def put_raster(self, name: str, source: Path) -> Path:
        source = Path(source)
        if not source.is_file():
            msg = f"raster file {source} does not exist"
            raise NotFoundError(msg)
        data = source.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        table = self.table(tbl.RASTERS)
        with self.transaction() as conn:
            conn.execute(sa.delete(table).where(table.c.name == name))
            conn.execute(
                sa.insert(table).values(
                    name=name, filename=source.name, sha256=digest, data=data, updated_at=utcnow()
                )
            )
            self._touch(tbl.RASTERS)
        return self._raster_cache(digest, source.suffix, data)

    def raster(self, name: str) -> Path | None:
        table = self.table(tbl.RASTERS)
        with self._reader() as conn:
            row = conn.execute(
                sa.select(table.c.sha256, table.c.filename).where(table.c.name == name)
            ).first()
            if row is None:
                return None
            digest, filename = str(row[0]), str(row[1])
            path = self._raster_path(digest, Path(filename).suffix)
            if path.is_file():
                return path
            data = conn.execute(sa.select(table.c.data).where(table.c.name == name)).scalar_one()
        return self._raster_cache(digest, Path(filename).suffix, bytes(data))

    def rasters(self) -> list[str]:
        """Names of the raster layers kept in the store."""
        table = self.table(tbl.RASTERS)
        with self._reader() as conn:
            return [str(r) for r in conn.execute(sa.select(table.c.name).order_by(table.c.name))]

    def _raster_path(self, digest: str, suffix: str) -> Path:
        from minemap.settings import get_settings

        return get_settings().data_dir / "raster-cache" / f"{digest}{suffix}"

    def _raster_cache(self, digest: str, suffix: str, data: bytes) -> Path:
        path = self._raster_path(digest, suffix)
        if not path.is_file():
            with replace_when_done(path) as tmp:
                tmp.write_bytes(data)
        return path

    # --- backup ----------------------------------------------------------------------------------
    def copy_tables(self) -> list[str]:
        """The tables a backup holds, in an order where links point backwards."""
        return [*INSERT_ORDER, *tbl.SUPPORT_TABLES]

    def dump(self, table_name: str) -> Iterator[list[dict[str, Any]]]:
        """Every row of a table as plain values (geometry as shapely), in chunks."""
        table = self.table(table_name)
        with self._reader() as conn:
            result = conn.execution_options(stream_results=True).execute(
                sa.select(table).order_by(*table.primary_key.columns)
            )
            for chunk in result.mappings().partitions(_CHUNK):
                rows = [dict(r) for r in chunk]
                if tbl.GEOM in table.c:
                    geoms = self._from_db_geoms([r[tbl.GEOM] for r in rows])
                    for r, g in zip(rows, geoms, strict=True):
                        r[tbl.GEOM] = g
                yield rows

    def load(self, conn: sa.Connection, table_name: str, rows: list[dict[str, Any]]) -> None:
        """Insert rows as dumped (ids kept); no validation, no audit: for restore only."""
        if not rows:
            return
        table = self.table(table_name)
        if tbl.GEOM in table.c:
            encoded = self._to_db_geoms(np.array([r[tbl.GEOM] for r in rows], dtype=object))
            rows = [{**r, tbl.GEOM: g} for r, g in zip(rows, encoded, strict=True)]
        conn.execute(sa.insert(table), rows)
        self._touch(table_name)

    def backup(self, out: Path) -> Path:
        from minemap.store.gpkg import GpkgStore

        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.partial")
        _remove_db(tmp)
        target = GpkgStore(str(tmp))
        try:
            target.init(crs=self.crs, extent=self.extent)
            copy_content(self, target)
        except BaseException:
            target.close()
            _remove_db(tmp)
            raise
        target.close()
        tmp.replace(out)
        return out

    def restore(self, path: Path) -> None:
        from minemap.store.gpkg import GpkgStore

        path = Path(path)
        if not path.is_file():
            msg = f"backup {path} does not exist"
            raise NotFoundError(msg)
        source = GpkgStore(str(path))
        try:
            source._ensure()
            self._restore_from(source)
        finally:
            source.close()

    @abc.abstractmethod
    def _restore_from(self, source: SqlStore) -> None:
        """Replace this store's content by ``source``'s, all or nothing."""


def copy_content(source: SqlStore, target: SqlStore) -> None:
    """Copy every table of ``source`` into the (empty) ``target`` in one transaction."""
    with target.transaction() as conn:
        target._defer_constraints(conn)
        for name in source.copy_tables():
            for rows in source.dump(name):
                target.load(conn, name, rows)
        target._after_copy(conn)


def check_extent(extent: Sequence[float]) -> BBox:
    """A lon/lat box (min lon, min lat, max lon, max lat), checked."""
    if len(extent) != 4:
        msg = f"an extent is four numbers min_lon,min_lat,max_lon,max_lat; got {extent!r}"
        raise ConfigError(msg)
    x0, y0, x1, y1 = (float(v) for v in extent)
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        msg = (
            f"extent {x0},{y0},{x1},{y1} is not a lon/lat box (min_lon < max_lon within "
            "-180..180, min_lat < max_lat within -90..90)"
        )
        raise ConfigError(msg)
    return (x0, y0, x1, y1)


def _bbox(bbox: Sequence[float]) -> BBox:
    if len(bbox) != 4:
        msg = f"a box is four numbers minx, miny, maxx, maxy; got {bbox!r}"
        raise ConfigError(msg)
    x0, y0, x1, y1 = (float(v) for v in bbox)
    if x0 > x1 or y0 > y1:
        msg = f"box {bbox!r} has min above max"
        raise ConfigError(msg)
    return (x0, y0, x1, y1)


def _aware(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t


def _objects(values: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _typed(f: Field, values: Sequence[Any]) -> Any:
    """A column of read values as the frame's dtype for the field type."""
    if f.type in ("int", "link"):
        return pd.array(values, dtype="Int64")
    if f.type == "float":
        return np.array([np.nan if v is None else v for v in values], dtype="float64")
    if f.type == "date":
        return pd.to_datetime(_objects(values)).astype("datetime64[ns]").array
    if f.type == "datetime":
        return pd.to_datetime(_objects(values), utc=True).array
    if f.type == "bool":
        return pd.array(values, dtype="boolean")
    return _objects(values)


def _remove_db(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        if p.exists():
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
