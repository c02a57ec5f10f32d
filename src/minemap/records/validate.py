"""Validation of records, row by row, with the reason for every refusal.

Every write to a store and every import goes through :func:`validate_frame`
(or :func:`validate_record` for one record). It returns the rows that pass,
converted to canonical values, the rows refused with their reasons, and the
repairs it made. Rows are named by the frame's index label, so an importer
that indexes its frame by file line number gets reasons by line.

What is checked, per kind of :mod:`minemap.records.schema`:

* **fields**: required fields present; values of the field's type (numbers,
  ISO dates, timestamps, booleans, JSON); vocabularies (``choices``, matched
  without regard to case); numeric ranges (``minimum``/``maximum``); dates in
  order (an activity's start before its end...); dates between 1900 and 2100.
* **geometry**: present, not empty, of the kind's type (a Polygon is promoted
  to MultiPolygon, a single-part MultiPoint to Point); finite coordinates
  valid for the CRS; inside the store's extent when one is set, with swapped
  latitude/longitude detected and named; polygons with at least three
  distinct vertices per ring; invalid geometries repaired with shapely's
  ``make_valid`` when the repair keeps a polygon of the kind's type (a
  bow-tie becomes two triangles; reported), refused otherwise; reprojected to
  the store's CRS.
* **areas**: ``area_m2`` is computed from the geometry (square metres of the
  metric store CRS); a given area that disagrees by more than 1 % is
  replaced and reported.
* **columns** that are no field are kept in the ``attributes`` JSON field.

Links (``<x>_id`` or ``<x>_ref``) are checked by the store, which knows the
records they point to (:meth:`minemap.store.base.Store.check`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from minemap.errors import ValidationError
from minemap.records.schema import SYSTEM_FIELDS, Field, Kind, get_kind
from minemap.records.workflow import INITIAL

BBox = tuple[float, float, float, float]

#: Columns the store manages itself; given on input they are ignored.
MANAGED = ("id", "version", "created_at", "created_by", "updated_at", "updated_by")

#: Pairs of date fields that must be in order (earlier, later), per kind.
DATE_ORDER: dict[str, tuple[tuple[str, str], ...]] = {
    "activities": (("start_date", "end_date"),),
    "minefield_records": (("laid_on", "received_on"),),
}

#: Dates outside these years are typing mistakes, not records.
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)

#: Relative disagreement between a given area and the geometry's area that is reported.
AREA_TOLERANCE = 0.01

# shapely type ids -1..7, shifted by one
_TYPE_NAMES = np.array(
    [
        "",
        "Point",
        "LineString",
        "LinearRing",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
    ]
)

_GEOM_FAMILY = {
    "Point": ("Point",),
    "LineString": ("LineString",),
    "MultiLineString": ("LineString", "MultiLineString"),
    "Polygon": ("Polygon",),
    "MultiPolygon": ("Polygon", "MultiPolygon"),
}


@dataclass(frozen=True)
class Repair:
    """A change made to make a row acceptable (reported, never silent)."""

    row: Hashable | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return f"{where}field '{self.field}': {self.message}"


@dataclass
class ValidationResult:
    """The outcome of validating a frame."""

    kind: str
    valid: pd.DataFrame
    rejects: pd.DataFrame  # one line per refused row: row, field, reason
    repairs: list[Repair] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rejects.empty


class BatchValidationError(ValidationError):
    """Rows of a batch were refused; ``rejects`` lists every one (row, field, reason)."""

    def __init__(self, kind: str, rejects: pd.DataFrame, *, total: int | None = None) -> None:
        self.rejects = rejects
        n = len(rejects)
        of = f" of {total}" if total is not None else ""
        more = f" ({n}{of} rows refused; nothing written)" if n > 1 or total else ""
        name, reason = first_refusal(rejects)
        super().__init__(f"{reason}{more}", kind=kind, field=name, row=rejects.iloc[0]["row"])


def first_refusal(rejects: pd.DataFrame) -> tuple[str, str]:
    """Field and reason of the first refused row.

    A rejects reason starts with its field (``"type: 'XHA' is not one of..."``,
    as the rejects file shows it); the reason returned here leaves it out, for
    errors that name the field on their own.
    """
    first = rejects.iloc[0]
    name = str(first["field"])
    return name, str(first["reason"]).removeprefix(f"{name}: ")


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype=object), "field": [], "reason": []})


# --- scalar parsing -----------------------------------------------------------------------------


def is_missing(value: Any) -> bool:
    """None, NaN, NaT, pd.NA or a blank string."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, np.floating) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+(?:Z|[+-]\d\d:?\d\d)?)?\s*$")


def parse_date(value: Any) -> dt.date:
    """A date from a date, datetime, Timestamp or ISO ``YYYY-MM-DD`` string; ValueError."""
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if isinstance(value, str):
        m = _ISO_DATE.match(value)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError as exc:
                msg = f"{value!r} is not a date (YYYY-MM-DD): {exc}"
                raise ValueError(msg) from None
    msg = f"{value!r} is not a date (YYYY-MM-DD)"
    raise ValueError(msg)


def parse_datetime(value: Any) -> pd.Timestamp:
    """A UTC timestamp from a datetime, Timestamp or ISO 8601 string; ValueError."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    try:
        ts: Any = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = None
    if not isinstance(ts, pd.Timestamp) or pd.isna(ts):
        msg = f"{value!r} is not a timestamp (ISO 8601)"
        raise ValueError(msg)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


_TRUE = {"true", "t", "yes", "y", "1", "oui", "si", "sí", "bəli"}
_FALSE = {"false", "f", "no", "n", "0", "non", "yox"}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer) and value in (0, 1):
        return bool(value)
    if isinstance(value, float) and value in (0.0, 1.0):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    msg = f"{value!r} is not true or false"
    raise ValueError(msg)


def parse_json(value: Any) -> Any:
    if isinstance(value, dict | list):
        return value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            msg = f"not valid JSON ({exc.msg})"
            raise ValueError(msg) from None
    msg = f"{value!r} is not JSON"
    raise ValueError(msg)


def json_safe(value: Any) -> Any:
    """A value as JSON can hold it (numpy scalars, dates, timestamps become plain).

    Geometry becomes WKT, bytes hex, and any other object its text.
    """
    if is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        # pandas turns whole numbers into floats beside gaps; give them back whole
        return int(value)
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, shapely.Geometry):
        return shapely.to_wkt(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


# --- the frame validator ------------------------------------------------------------------------


class _Problems:
    """Reasons per row, in the order they were found."""

    def __init__(self) -> None:
        self.by_row: dict[Hashable, list[tuple[str, str]]] = {}

    def add(self, row: Hashable, field_name: str, reason: str) -> None:
        self.by_row.setdefault(row, []).append((field_name, reason))

    def add_many(self, rows: Iterable[Hashable], field_name: str, reason: str) -> None:
        for row in rows:
            self.add(row, field_name, reason)

    def frame(self, order: pd.Index) -> pd.DataFrame:
        if not self.by_row:
            return empty_rejects()
        rows, fields, reasons = [], [], []
        for row in order:
            found = self.by_row.get(row)
            if not found:
                continue
            rows.append(row)
            fields.append(found[0][0])
            reasons.append("; ".join(f"{f}: {r}" for f, r in found))
        return pd.DataFrame(
            {"row": pd.Series(rows, dtype=object), "field": fields, "reason": reasons}
        )


def _fmt(v: float) -> str:
    return f"{v:g}"


def _coerce_scalar(f: Field, series: pd.Series, problems: _Problems) -> pd.Series:
    """Parse a column of one field type; bad values become problems and NA."""
    parsers = {
        "date": parse_date,
        "datetime": parse_datetime,
        "bool": parse_bool,
        "json": parse_json,
    }
    parse = parsers[f.type]
    cache: dict[Any, Any] = {}
    out: list[Any] = []
    for row, value in series.items():
        if not isinstance(value, dict | list) and is_missing(value):
            out.append(None)
            continue
        try:
            key = value if isinstance(value, Hashable) else None
            if key is not None and key in cache:
                parsed = cache[key]
            else:
                parsed = parse(value)
                if key is not None:
                    cache[key] = parsed
        except (ValueError, TypeError, OverflowError) as exc:
            problems.add(row, f.name, str(exc))
            parsed = None
        out.append(parsed)
    if f.type == "date":
        dates = pd.Series(out, index=series.index, dtype=object)
        bad = [
            (row, d)
            for row, d in dates.items()
            if d is not None and not (MIN_DATE <= d <= MAX_DATE)
        ]
        for row, d in bad:
            problems.add(row, f.name, f"{d.isoformat()} is outside the years 1900 to 2100")
            dates.at[row] = None
        return pd.to_datetime(dates, errors="coerce").astype("datetime64[ns]")
    if f.type == "datetime":
        return pd.to_datetime(pd.Series(out, index=series.index, dtype=object), utc=True)
    if f.type == "bool":
        return pd.Series(out, index=series.index, dtype="boolean")
    return pd.Series(out, index=series.index, dtype=object)


def _coerce_number(f: Field, series: pd.Series, problems: _Problems) -> pd.Series:
    raw = series.map(lambda v: None if is_missing(v) else v)
    if raw.dtype == object:
        raw = raw.map(lambda v: v.strip().replace(",", ".") if isinstance(v, str) else v)
    num = pd.to_numeric(raw, errors="coerce")
    given = raw.notna()
    bad = given & num.isna()
    for row in series.index[bad]:
        problems.add(row, f.name, f"{series[row]!r} is not a number")
    num = num.astype("float64")
    if f.type in ("int", "link"):
        frac = given & ~bad & (num != np.floor(num))
        for row in series.index[frac]:
            problems.add(row, f.name, f"{_fmt(num[row])} is not a whole number")
        num[frac] = np.nan
    inf = np.isinf(num)
    for row in series.index[inf]:
        problems.add(row, f.name, "is not a finite number")
    num[inf] = np.nan
    if f.minimum is not None:
        low = num < f.minimum
        for row in series.index[low]:
            problems.add(row, f.name, f"{_fmt(num[row])} is below the minimum {_fmt(f.minimum)}")
    if f.maximum is not None:
        high = num > f.maximum
        for row in series.index[high]:
            problems.add(row, f.name, f"{_fmt(num[row])} is above the maximum {_fmt(f.maximum)}")
    if f.type in ("int", "link"):
        return num.round().astype("Int64")
    return num


def _coerce_text(f: Field, series: pd.Series, problems: _Problems) -> pd.Series:
    def clean(v: Any) -> str | None:
        if is_missing(v):
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v).strip()

    if series.dtype == object and all(isinstance(v, str) or v is None for v in series):
        text = series.str.strip()
        text = text.where(text.notna() & (text != ""), None).astype(object)
    else:
        text = series.map(clean).astype(object)
    if f.choices:
        canon = {c.lower(): c for c in f.choices}
        allowed = ", ".join(f.choices)
        # each distinct spelling is looked up once
        spelled = {
            v: canon.get(v.lower().replace(" ", "_")) or canon.get(v.lower())
            for v in text.dropna().unique()
        }
        mapped = text.map(spelled).astype(object)
        bad = text.notna() & mapped.isna()
        for row in text.index[bad.to_numpy()]:
            problems.add(row, f.name, f"{text[row]!r} is not one of: {allowed}")
        text = mapped.where(mapped.notna(), None).astype(object)
    return text


def _coerce(f: Field, series: pd.Series, problems: _Problems) -> pd.Series:
    if f.type in ("int", "float", "link"):
        return _coerce_number(f, series, problems)
    if f.type == "text":
        return _coerce_text(f, series, problems)
    return _coerce_scalar(f, series, problems)


def _empty_column(f: Field, index: pd.Index) -> pd.Series:
    dtype = {
        "int": "Int64",
        "link": "Int64",
        "float": "float64",
        "date": "datetime64[ns]",
        "datetime": "datetime64[ns, UTC]",
        "bool": "boolean",
    }.get(f.type, object)
    return pd.Series(pd.NA if dtype in ("Int64", "boolean") else None, index=index, dtype=dtype)


def store_crs(crs: str | CRS) -> CRS:
    """The CRS object of a store CRS given by name; ConfigError-like ValidationError."""
    try:
        return CRS.from_user_input(crs)
    except CRSError:
        msg = f"unknown CRS {crs!r}"
        raise ValidationError(msg, field="geometry") from None


def _degree_like(bounds: np.ndarray) -> np.ndarray:
    return (
        (np.abs(bounds[:, 0]) <= 180)
        & (np.abs(bounds[:, 2]) <= 180)
        & (np.abs(bounds[:, 1]) <= 90)
        & (np.abs(bounds[:, 3]) <= 90)
    )


def _inside(
    lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray, box: BBox
) -> np.ndarray:
    return (lon0 >= box[0]) & (lon1 <= box[2]) & (lat0 >= box[1]) & (lat1 <= box[3])


def _lonlat_bounds(bounds: np.ndarray, source: CRS) -> tuple[np.ndarray, ...]:
    """Lon/lat box of boxes in ``source`` (corners transformed)."""
    if source.is_geographic and source.to_epsg() == 4326:
        return bounds[:, 0], bounds[:, 1], bounds[:, 2], bounds[:, 3]
    tr = Transformer.from_crs(source, 4326, always_xy=True)
    xs = np.concatenate([bounds[:, 0], bounds[:, 0], bounds[:, 2], bounds[:, 2]])
    ys = np.concatenate([bounds[:, 1], bounds[:, 3], bounds[:, 1], bounds[:, 3]])
    lon, lat = tr.transform(xs, ys, errcheck=False)
    n = len(bounds)
    lon = np.asarray(lon).reshape(4, n)
    lat = np.asarray(lat).reshape(4, n)
    return lon.min(0), lat.min(0), lon.max(0), lat.max(0)


def _distinct_vertices_ok(geom: shapely.Geometry) -> bool:
    """Every ring of every polygon has at least three distinct vertices."""
    for ring in shapely.get_rings(shapely.get_parts(geom)):
        coords = shapely.get_coordinates(ring)
        if len(np.unique(coords, axis=0)) < 3:
            return False
    return True


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    merged = shapely.union_all(parts)
    if merged.is_empty or merged.area <= 0:
        return None
    return merged


def _only(mask: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """``geoms`` with None where ``mask`` is false."""
    out = np.array(geoms, dtype=object)
    out[~mask] = None
    return out


def _check_geometry(
    kind: Kind,
    *,
    frame: pd.DataFrame,
    source: CRS,
    target: CRS,
    extent: BBox | None,
    problems: _Problems,
    repairs: list[Repair],
) -> pd.Series:
    """Checked, repaired geometries in the store CRS (None where refused)."""
    assert kind.geometry is not None
    index: list[Hashable] = list(frame.index)
    col = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame.get("geometry")
    if col is None:
        geoms = np.full(len(frame), None, dtype=object)
    else:
        geoms = np.array(
            [g if isinstance(g, shapely.Geometry) else None for g in col], dtype=object
        )
    ok = np.ones(len(geoms), dtype=bool)

    def refuse(mask: np.ndarray, reason: str | list[str]) -> None:
        rows = np.flatnonzero(mask & ok)
        for k, i in enumerate(rows):
            problems.add(index[i], "geometry", reason if isinstance(reason, str) else reason[k])
        ok[rows] = False

    refuse(shapely.is_missing(geoms), "geometry is missing")
    refuse(ok & shapely.is_empty(_only(ok, geoms)), "geometry is empty")

    live = _only(ok, geoms)
    if shapely.has_z(live).any():
        live = shapely.force_2d(live)
        repairs.append(Repair(None, "geometry", "Z coordinates dropped (records are 2D)"))

    # types: promote single parts, unpack one-point MultiPoints and polygon collections
    family = _GEOM_FAMILY[kind.geometry]
    types = shapely.get_type_id(live)
    type_names = _TYPE_NAMES[types + 1]
    for i in np.flatnonzero(ok):
        t = type_names[i]
        if t in family:
            continue
        g = live[i]
        if kind.geometry == "Point" and t == "MultiPoint" and shapely.get_num_geometries(g) == 1:
            live[i] = shapely.get_geometry(g, 0)
            repairs.append(Repair(index[i], "geometry", "single-point MultiPoint taken as Point"))
            continue
        if "Polygon" in kind.geometry and t == "GeometryCollection":
            poly = _polygonal_part(g)
            if poly is not None:
                live[i] = poly
                repairs.append(
                    Repair(index[i], "geometry", "non-polygon parts of a collection dropped")
                )
                continue
        if "LineString" in kind.geometry and t == "LinearRing":
            live[i] = shapely.LineString(g.coords)
            continue
        problems.add(index[i], "geometry", f"expected {kind.geometry}, got {t}")
        ok[i] = False

    live = _only(ok, live)
    coords_ok = np.array(
        [g is None or bool(np.isfinite(shapely.get_coordinates(g)).all()) for g in live]
    )
    refuse(~coords_ok, "coordinates are not finite numbers")
    live = _only(ok, live)

    # coordinates valid for the source CRS
    bounds = shapely.bounds(live)
    present = ok.copy()
    if source.is_geographic:
        in_range = _degree_like(np.nan_to_num(bounds, nan=0.0))
        swapped_fits = (
            (np.abs(bounds[:, 1]) <= 180)
            & (np.abs(bounds[:, 3]) <= 180)
            & (np.abs(bounds[:, 0]) <= 90)
            & (np.abs(bounds[:, 2]) <= 90)
        )
        reasons = [
            (
                f"latitude and longitude appear swapped (x={_fmt(b[0])}, y={_fmt(b[1])}: "
                "latitude is beyond 90 degrees)"
                if swapped_fits[i]
                else f"coordinates x={_fmt(b[0])}, y={_fmt(b[1])} are outside longitude "
                "-180..180 / latitude -90..90"
            )
            for i, b in enumerate(bounds)
        ]
        bad = present & ~in_range
        refuse(bad, [reasons[i] for i in np.flatnonzero(bad & ok)])

    # the store's extent, checked in lon/lat
    if extent is not None and ok.any():
        idx = np.flatnonzero(ok)
        b = bounds[idx]
        lon0, lat0, lon1, lat1 = _lonlat_bounds(b, source)
        inside = _inside(lon0, lat0, lon1, lat1, extent)
        if source.is_geographic:
            swapped_inside = _inside(b[:, 1], b[:, 0], b[:, 3], b[:, 2], extent)
        else:
            swapped_inside = np.zeros(len(idx), dtype=bool)
        degree_like = _degree_like(b) if source.is_projected else np.zeros(len(idx), bool)
        box = f"lon {_fmt(extent[0])}..{_fmt(extent[2])}, lat {_fmt(extent[1])}..{_fmt(extent[3])}"
        for j in np.flatnonzero(~inside):
            i = idx[j]
            where = f"lon {lon0[j]:.5f}, lat {lat0[j]:.5f}"
            if swapped_inside[j]:
                reason = (
                    f"latitude and longitude appear swapped: x={_fmt(b[j, 0])}, "
                    f"y={_fmt(b[j, 1])} is outside the store's extent ({box}); "
                    "swapped it lies inside"
                )
            elif degree_like[j]:
                reason = (
                    f"coordinates x={_fmt(b[j, 0])}, y={_fmt(b[j, 1])} look like degrees but "
                    f"the CRS {source.to_string()} is in metres; outside the store's extent "
                    f"({box})"
                )
            elif not np.isfinite([lon0[j], lat0[j]]).all():
                reason = f"coordinates cannot be placed on the earth in {source.to_string()}"
            else:
                reason = f"geometry at {where} lies outside the store's extent ({box})"
            problems.add(index[i], "geometry", reason)
            ok[i] = False

    # to the store CRS
    live = _only(ok, live)
    if not source.equals(target) and ok.any():
        tr = Transformer.from_crs(source, target, always_xy=True)
        idx = np.flatnonzero(ok)
        moved = shapely.transform(
            live[idx], lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1], errcheck=False))
        )
        finite = np.array([bool(np.isfinite(shapely.get_coordinates(g)).all()) for g in moved])
        for j in np.flatnonzero(~finite):
            problems.add(
                index[idx[j]],
                "geometry",
                f"coordinates cannot be transformed to {target.to_string()}",
            )
            ok[idx[j]] = False
        live[idx] = moved

    # shape: distinct vertices, validity, repair
    live = _only(ok, live)
    polygonal = "Polygon" in kind.geometry
    valid = shapely.is_valid(live)
    for i in np.flatnonzero(ok & ~valid):
        g = live[i]
        if polygonal and not _distinct_vertices_ok(g):
            problems.add(
                index[i], "geometry", "a polygon ring has fewer than three distinct vertices"
            )
            ok[i] = False
            continue
        if (
            not polygonal
            and kind.geometry != "Point"
            and len(np.unique(shapely.get_coordinates(g), axis=0)) < 2
        ):
            problems.add(index[i], "geometry", "a line needs two distinct vertices")
            ok[i] = False
            continue
        why = shapely.is_valid_reason(g)
        if polygonal:
            fixed = _polygonal_part(shapely.make_valid(g))
            if fixed is None:
                problems.add(
                    index[i], "geometry", f"invalid polygon ({why}) that cannot be repaired"
                )
                ok[i] = False
                continue
            live[i] = fixed
            repairs.append(Repair(index[i], "geometry", f"invalid polygon ({why}) repaired"))
        else:
            problems.add(index[i], "geometry", f"invalid geometry ({why})")
            ok[i] = False
    if not polygonal and kind.geometry != "Point":
        for i in np.flatnonzero(ok):
            if shapely.get_num_coordinates(live[i]) < 2 or shapely.length(live[i]) <= 0:
                problems.add(index[i], "geometry", "a line needs two distinct vertices")
                ok[i] = False

    # promote to the kind's multi type
    if kind.geometry.startswith("Multi"):
        single = 3 if polygonal else 1  # shapely type ids of Polygon, LineString
        maker = shapely.multipolygons if polygonal else shapely.multilinestrings
        idx = np.flatnonzero(ok & (shapely.get_type_id(live) == single))
        if len(idx):
            live[idx] = maker(live[idx], indices=np.arange(len(idx)))
    live = _only(ok, live)
    return pd.Series(live, index=index, dtype=object)


def _check_crs(frame: pd.DataFrame, kind: Kind, target: CRS) -> CRS:
    if isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame.columns:
        if frame.crs is None:
            msg = "the geometry has no CRS; give the file's CRS (e.g. EPSG:4326)"
            raise ValidationError(msg, kind=kind.name, field="geometry")
        return CRS.from_user_input(frame.crs)
    return target


def validate_frame(
    kind: str,
    frame: pd.DataFrame,
    *,
    crs: str | CRS,
    extent: BBox | None = None,
) -> ValidationResult:
    """Check and convert every row of ``frame`` as records of ``kind``.

    ``frame`` is a GeoDataFrame (its CRS is used; none is an error) or a
    DataFrame whose ``geometry`` column, if any, is in ``crs``. ``crs`` is the
    store's (metric) CRS; ``extent`` its lon/lat box. Returns the valid rows in
    the store CRS, the refused rows (``row``, ``field``, ``reason``) and the
    repairs made. Rows keep the index labels of ``frame``.
    """
    k = get_kind(kind)
    target = store_crs(crs)
    if not frame.index.is_unique:
        msg = "rows must have unique labels (the frame's index)"
        raise ValidationError(msg, kind=k.name)
    source = _check_crs(frame, k, target) if k.geometry else target
    problems = _Problems()
    repairs: list[Repair] = []
    index = frame.index
    geom_name = (
        frame._geometry_column_name
        if isinstance(frame, gpd.GeoDataFrame)
        else ("geometry" if "geometry" in frame.columns else None)
    )

    fields = {f.name: f for f in (*k.fields, *SYSTEM_FIELDS)}
    link_refs = {f.file_name: f for f in fields.values() if f.type == "link"}
    known = set(fields) | set(link_refs) | {"ref"} | set(MANAGED)
    if geom_name:
        known.add(geom_name)
    extra = [c for c in frame.columns if c not in known]

    out: dict[str, pd.Series] = {}
    if "ref" in frame.columns:
        ref_field = Field("ref", "text")
        out["ref"] = _coerce_text(ref_field, frame["ref"], problems)
    for name, f in fields.items():
        if name in frame.columns:
            out[name] = _coerce(f, frame[name], problems)
        else:
            out[name] = _empty_column(f, index)
    for ref_name in link_refs:
        if ref_name in frame.columns:
            out[ref_name] = _coerce_text(Field(ref_name, "text"), frame[ref_name], problems)

    # workflow starts as a draft unless given
    out["workflow"] = out["workflow"].where(out["workflow"].notna(), INITIAL)

    # columns that map to nothing travel in attributes
    if extra:
        attrs = []
        sub = frame[extra]
        for row, given in zip(index, out["attributes"], strict=True):
            base = dict(given) if isinstance(given, dict) else {}
            if not isinstance(given, dict | list) and not is_missing(given):
                base = {"attributes": json_safe(given)}
            for col in extra:
                v = json_safe(sub.at[row, col])
                if v is not None:
                    base[str(col)] = v
            attrs.append(base or None)
        out["attributes"] = pd.Series(attrs, index=index, dtype=object)
        repairs.append(
            Repair(None, "attributes", f"columns kept in attributes: {', '.join(map(str, extra))}")
        )

    # required fields (a required link may come as <x>_ref)
    for f in k.fields:
        if not f.required:
            continue
        present = out[f.name].notna()
        if f.type == "link" and f.file_name in out:
            present |= out[f.file_name].notna()
        given_but_bad = {r for r, ps in problems.by_row.items() if any(p[0] == f.name for p in ps)}
        missing_rows = [r for r in index[~present.to_numpy()] if r not in given_but_bad]
        problems.add_many(missing_rows, f.name, "is required")

    # dates in order
    for early, late in DATE_ORDER.get(k.name, ()):
        a, b = out[early], out[late]
        wrong = a.notna() & b.notna() & (a > b)
        for row in index[wrong.to_numpy()]:
            problems.add(
                row,
                late,
                f"{b[row].date().isoformat()} is before {early} {a[row].date().isoformat()}",
            )

    if k.geometry:
        frame_for_geom = frame
        if geom_name and geom_name != "geometry":
            assert isinstance(frame, gpd.GeoDataFrame)
            frame_for_geom = frame.rename_geometry("geometry")
        geoms = _check_geometry(
            k,
            frame=frame_for_geom,
            source=source,
            target=target,
            extent=extent,
            problems=problems,
            repairs=repairs,
        )
        if "area_m2" in fields:
            area = pd.Series(
                shapely.area(np.asarray(geoms.to_numpy(), dtype=object)),
                index=index,
                dtype="float64",
            )
            given = out["area_m2"]
            differs = (
                given.notna()
                & area.notna()
                & ((given - area).abs() > AREA_TOLERANCE * area.clip(lower=1e-9))
            )
            for row in index[differs.to_numpy()]:
                repairs.append(
                    Repair(
                        row,
                        "area_m2",
                        f"given {_fmt(given[row])} m² differs from the geometry's "
                        f"{area[row]:.1f} m²; the geometry's area is kept",
                    )
                )
            out["area_m2"] = area

    rejects = problems.frame(index)
    bad = set(problems.by_row)
    keep = np.array([r not in bad for r in index], dtype=bool)
    valid = pd.DataFrame({name: s[keep] for name, s in out.items()}, index=index[keep])
    if k.geometry:
        valid = gpd.GeoDataFrame(
            valid, geometry=gpd.GeoSeries(geoms[keep], index=index[keep], crs=target), crs=target
        )
    repairs = [r for r in repairs if r.row is None or r.row not in bad]
    return ValidationResult(k.name, valid, rejects, repairs)


def validate_record(
    kind: str,
    record: Mapping[str, Any],
    *,
    crs: str | CRS,
    extent: BBox | None = None,
    row: Hashable | None = None,
) -> tuple[dict[str, Any], list[Repair]]:
    """Check one record (geometry, if any, in ``crs``); raise ValidationError if refused.

    Returns the canonical record (as a dict) and the repairs made.
    """
    label = row if row is not None else 1
    frame = pd.DataFrame([dict(record)], index=pd.Index([label], dtype=object))
    if "geometry" in frame.columns:
        frame = gpd.GeoDataFrame(
            frame.drop(columns="geometry"),
            geometry=gpd.GeoSeries([record.get("geometry")], index=frame.index, crs=crs),
        )
    result = validate_frame(kind, frame, crs=crs, extent=extent)
    if not result.ok:
        name, reason = first_refusal(result.rejects)
        raise ValidationError(reason, kind=result.kind, field=name, row=row)  # type: ignore[arg-type]
    values = {str(key): v for key, v in result.valid.iloc[0].to_dict().items()}
    if "geometry" in result.valid.columns:
        values["geometry"] = result.valid.geometry.iloc[0]
    return values, result.repairs
