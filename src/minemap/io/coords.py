"""Geometry held in columns, the CRS of a file, and swapped coordinates.

Spreadsheets and form exports carry geometry in columns: WKT text, latitude
and longitude (decimal, decimal comma, or degrees-minutes-seconds), MGRS grid
references, or ODK/KoboToolbox ``geopoint`` ("lat lon alt acc") and
``geoshape``/``geotrace`` ("lat lon alt acc;lat lon alt acc;...") answers. This
module finds such columns (or takes them from a mapping file), builds one
geometry per row, and reports per row what could not be read.

It also decides the CRS of a file that declares none (WGS84 only when every
coordinate looks like longitude/latitude and could not be metres of the
store's CRS) and detects latitude and longitude given in each other's place,
against the store's extent or, when it has none, the store CRS's area of use.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from minemap.errors import ConfigError

WGS84 = "EPSG:4326"
BBox = tuple[float, float, float, float]

# Column names (case-, accent- and space-insensitive) recognised without a mapping file.
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "geometry_wkt")
LAT_NAMES = ("lat", "latitude", "y_lat", "широта", "enlik", "latitud", "gps_latitude")
LON_NAMES = (
    "lon",
    "long",
    "lng",
    "longitude",
    "x_lon",
    "долгота",
    "uzunluq",
    "longitud",
    "gps_longitude",
)
MGRS_NAMES = ("mgrs", "mgrs_ref", "mgrs_reference", "grid_ref", "grid_reference", "mgrs_coordinate")

_NUMBER = r"[-+]?\d+(?:[.,]\d+)?"
_ODK_POINT = rf"{_NUMBER}\s+{_NUMBER}(?:\s+{_NUMBER}){{0,2}}"
_ODK_RE = re.compile(rf"^\s*{_ODK_POINT}(?:\s*;\s*{_ODK_POINT})*\s*;?\s*$")
_MGRS_RE = re.compile(
    r"^\s*\d{1,2}\s*[C-HJ-NP-X]\s*[A-HJ-NP-Z]{2}\s*(\d{2}|\d{4}|\d{6}|\d{8}|\d{10}|\d+\s+\d+)\s*$"
)
_DMS_RE = re.compile(
    r"^\s*([NSEWnsewСЮВЗ])?\s*(\d+(?:[.,]\d+)?)\s*[°º:\s]\s*(?:(\d+(?:[.,]\d+)?)\s*['′:\s]\s*)?"
    r"(?:(\d+(?:[.,]\d+)?)\s*(?:\"|″|''|)\s*)?([NSEWnsewСЮВЗ])?\s*$"
)


def column_key(name: object) -> str:
    """A column name folded for matching: lower case, NFC, spaces and dashes as ``_``."""
    text = unicodedata.normalize("NFC", str(name)).strip().lower()
    return re.sub(r"[\s\-./]+", "_", text).strip("_")


def kobo_key(name: object) -> str:
    """The question name of an ODK/Kobo column: ``group/sub/question`` -> ``question``."""
    return column_key(re.split(r"[/:]", str(name))[-1])


@dataclass
class GeometrySpec:
    """Where a table keeps its geometry: one of WKT, lat/lon, MGRS or ODK columns."""

    wkt: str | None = None
    lat: str | None = None
    lon: str | None = None
    mgrs: str | None = None
    odk: str | None = None  # a geopoint, geoshape or geotrace column
    x: str | None = None  # projected easting, with ``crs``
    y: str | None = None
    crs: str | None = None

    @property
    def columns(self) -> list[str]:
        cols = (self.wkt, self.lat, self.lon, self.mgrs, self.odk, self.x, self.y)
        return [c for c in cols if c]

    def describe(self) -> str:
        if self.wkt:
            return f"WKT column {self.wkt!r}"
        if self.lat and self.lon:
            return f"latitude/longitude columns {self.lat!r}/{self.lon!r}"
        if self.mgrs:
            return f"MGRS column {self.mgrs!r}"
        if self.odk:
            return f"ODK geopoint/geoshape column {self.odk!r}"
        if self.x and self.y:
            return f"x/y columns {self.x!r}/{self.y!r}"
        return "no geometry columns"


@dataclass
class ColumnGeometry:
    """Geometries built from columns, with the CRS they are in and the rows that failed."""

    geometry: pd.Series  # shapely geometries (or None), indexed like the table
    crs: str | None
    spec: GeometrySpec
    errors: dict[int, str] = field(default_factory=dict)


def find_geometry_columns(frame: pd.DataFrame, hint: GeometrySpec | None = None) -> GeometrySpec:
    """The columns of ``frame`` that hold geometry (``hint`` from a mapping file wins)."""
    if hint is not None and hint.columns:
        missing = [c for c in hint.columns if c not in frame.columns]
        if missing:
            msg = f"the mapping names geometry column(s) {missing} that the file does not have"
            raise ConfigError(msg)
        return hint
    keys = {column_key(c): c for c in frame.columns}
    kobo = {kobo_key(c): c for c in frame.columns}

    def pick(names: Iterable[str]) -> str | None:
        for n in names:
            if n in keys:
                return str(keys[n])
        for n in names:
            if n in kobo:
                return str(kobo[n])
        return None

    spec = GeometrySpec(crs=hint.crs if hint else None)
    if (wkt := pick(WKT_NAMES)) is not None:
        spec.wkt = wkt
        return spec
    lat, lon = pick(LAT_NAMES), pick(LON_NAMES)
    if lat is None or lon is None:
        # KoboToolbox splits a geopoint "where" into _where_latitude, _where_longitude...
        lats = [c for c in frame.columns if column_key(c).endswith("_latitude")]
        lons = [c for c in frame.columns if column_key(c).endswith("_longitude")]
        if len(lats) == 1 and len(lons) == 1:
            lat, lon = str(lats[0]), str(lons[0])
    if lat is not None and lon is not None:
        spec.lat, spec.lon = lat, lon
        return spec
    if (mgrs := pick(MGRS_NAMES)) is not None:
        spec.mgrs = mgrs
        return spec
    for col in frame.columns:
        values = frame[col].dropna().astype(str)
        values = values[values.str.strip() != ""]
        if len(values) and values.map(lambda v: bool(_ODK_RE.match(v))).all():
            spec.odk = str(col)
            return spec
        if len(values) and values.map(lambda v: bool(_MGRS_RE.match(v))).all():
            spec.mgrs = str(col)
            return spec
    x, y = pick(("x", "easting", "east")), pick(("y", "northing", "north"))
    if x is not None and y is not None:
        spec.x, spec.y = x, y
    return spec


# --- parsing values ------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_number(value: Any) -> float:
    """A number from a cell: decimal point or decimal comma."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace("\u2212", "-").replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    return float(text)


def parse_degrees(value: Any) -> float:
    """Decimal degrees from a decimal number or a degrees-minutes-seconds text."""
    try:
        return parse_number(value)
    except ValueError:
        pass
    match = _DMS_RE.match(str(value))
    if not match:
        msg = f"{value!r} is not a coordinate in degrees"
        raise ValueError(msg)
    hemi1, deg, minutes, seconds, hemi2 = match.groups()
    out = parse_number(deg) + parse_number(minutes or 0) / 60 + parse_number(seconds or 0) / 3600
    hemi = (hemi1 or hemi2 or "").upper()
    return -out if hemi in ("S", "W", "Ю", "З") else out


def parse_odk(value: str) -> BaseGeometry:
    """An ODK geopoint, geotrace or geoshape answer as a shapely geometry (lon/lat)."""
    points: list[tuple[float, float]] = []
    for part in str(value).split(";"):
        if not part.strip():
            continue
        numbers = part.split()
        lat, lon = parse_number(numbers[0]), parse_number(numbers[1])
        points.append((lon, lat))
    if len(points) == 1:
        return shapely.Point(points[0])
    if len(points) >= 4 and points[0] == points[-1]:
        return shapely.Polygon(points)
    return shapely.LineString(points)


def _mgrs_to_lonlat(converter: Any, value: str) -> tuple[float, float]:
    text = re.sub(r"\s+", "", str(value)).upper()
    try:
        lat, lon = converter.toLatLon(text)
    except Exception:  # mgrs raises its own MGRSError for a malformed reference
        msg = f"{value!r} is not an MGRS grid reference"
        raise ValueError(msg) from None
    return float(lon), float(lat)


def geometry_from_columns(frame: pd.DataFrame, spec: GeometrySpec) -> ColumnGeometry:
    """Build one geometry per row from the columns named by ``spec``."""
    geoms: list[BaseGeometry | None] = []
    errors: dict[int, str] = {}
    crs: str | None = spec.crs
    converter: Any = None
    if spec.mgrs:
        import mgrs

        converter = mgrs.MGRS()
    if spec.lat or spec.mgrs or spec.odk:
        crs = crs or WGS84
    for row, record in frame.iterrows():
        geom: BaseGeometry | None = None
        try:
            if spec.wkt:
                raw = record[spec.wkt]
                if not _blank(raw):
                    geom = shapely.from_wkt(str(raw))
            elif spec.lat and spec.lon:
                la, lo = record[spec.lat], record[spec.lon]
                if not (_blank(la) and _blank(lo)):
                    if _blank(la) or _blank(lo):
                        missing = spec.lat if _blank(la) else spec.lon
                        errors[int(row)] = f"{missing}: missing coordinate"  # type: ignore[call-overload]
                        geoms.append(None)
                        continue
                    geom = shapely.Point(parse_degrees(lo), parse_degrees(la))
            elif spec.mgrs:
                raw = record[spec.mgrs]
                if not _blank(raw):
                    geom = shapely.Point(_mgrs_to_lonlat(converter, raw))
            elif spec.odk:
                raw = record[spec.odk]
                if not _blank(raw):
                    geom = parse_odk(str(raw))
            elif spec.x and spec.y:
                xv, yv = record[spec.x], record[spec.y]
                if not (_blank(xv) or _blank(yv)):
                    geom = shapely.Point(parse_number(xv), parse_number(yv))
        except (ValueError, IndexError, shapely.errors.GEOSException) as exc:
            column = spec.columns[0] if len(spec.columns) == 1 else "/".join(spec.columns)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            errors[int(row)] = f"{column}: cannot read geometry ({reason})"  # type: ignore[call-overload]
            geom = None
        geoms.append(geom)
    return ColumnGeometry(pd.Series(geoms, index=frame.index, dtype=object), crs, spec, errors)


# --- CRS and swapped coordinates ----------------------------------------------------------


def crs_area(crs: str) -> BBox | None:
    """The lon/lat area of use of ``crs``, if pyproj knows it."""
    area = CRS.from_user_input(crs).area_of_use
    if area is None:
        return None
    return (area.west, area.south, area.east, area.north)


def _bounds_in(crs: str, lonlat_box: BBox) -> BBox:
    if CRS.from_user_input(crs).is_geographic:
        return lonlat_box
    t = Transformer.from_crs(WGS84, crs, always_xy=True)
    return t.transform_bounds(*lonlat_box)


def looks_lonlat(geoms: pd.Series) -> bool:
    """Every coordinate within longitude/latitude ranges."""
    valid = [g for g in geoms if g is not None and not g.is_empty]
    if not valid:
        return False
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.asarray(valid, dtype=object))
    return bool(xmin >= -180 and xmax <= 180 and ymin >= -90 and ymax <= 90)


def infer_crs(geoms: pd.Series, store_crs: str) -> tuple[str | None, str]:
    """The CRS of coordinates from a file that declares none, and why.

    WGS84 only when unambiguous: every coordinate looks like lon/lat and the
    same numbers would not be a plausible position in the store's own CRS.
    Returns ``(None, reason)`` when it cannot tell.
    """
    if not looks_lonlat(geoms):
        return None, "the file declares no CRS and its coordinates are not longitude/latitude"
    store = CRS.from_user_input(store_crs)
    if store.is_projected:
        area = crs_area(store_crs)
        if area is not None:
            xmin, ymin, xmax, ymax = _bounds_in(store_crs, area)
            valid = [g for g in geoms if g is not None and not g.is_empty]
            bx0, by0, bx1, by1 = shapely.total_bounds(np.asarray(valid, dtype=object))
            if xmin <= bx0 and bx1 <= xmax and ymin <= by0 and by1 <= ymax:
                return None, "the file declares no CRS and its numbers fit both lon/lat and metres"
    return WGS84, "the file declares no CRS; its coordinates are longitude/latitude (WGS84)"


def _inside(x: np.ndarray, y: np.ndarray, box: BBox) -> np.ndarray:
    return np.asarray((x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3]))


def swapped_rows(geoms: pd.Series, crs: str, area: BBox | None) -> list[int]:
    """Rows whose geometry lies outside ``area`` (lon/lat box) but inside it with x and y swapped.

    ``area`` is the store's extent or the store CRS's area of use; without one
    nothing can be said and the list is empty.
    """
    if area is None:
        return []
    box = _bounds_in(crs, area)
    rows: list[int] = []
    for row, geom in geoms.items():
        if geom is None or geom.is_empty:
            continue
        coords = shapely.get_coordinates(geom)
        x, y = coords[:, 0], coords[:, 1]
        if not _inside(x, y, box).all() and _inside(y, x, box).all():
            rows.append(int(row))  # type: ignore[call-overload]
    return rows
