"""Geometry at the web boundary: GeoJSON in WGS84, tile bounds, Mapbox vector tiles.

The store keeps geometries in its metric CRS (EPSG:32638 by default); the web
speaks WGS84 longitude/latitude (GeoJSON, RFC 7946) and Web Mercator tiles.
This module owns every conversion between them, so the routers never touch
a coordinate.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import mapbox_vector_tile
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from minemap.errors import ValidationError
from minemap.records.schema import Kind

WGS84 = "EPSG:4326"
WEB_MERCATOR = "EPSG:3857"
# Half the width of the Web Mercator square, in metres.
_MERC_HALF = 20037508.342789244
TILE_EXTENT = 4096
# Geometries are clipped to the tile plus this share of its width, so that
# strokes across tile edges join without seams.
TILE_BUFFER = 64 / TILE_EXTENT


@lru_cache(maxsize=32)
def transformer(src: str, dst: str) -> Transformer:
    """A cached lon/lat-ordered transformer from ``src`` to ``dst``."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def reproject(geoms: Any, src: str, dst: str) -> Any:
    """Geometries (one or an array) from ``src`` to ``dst``."""
    if src == dst:
        return geoms
    t = transformer(src, dst)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def bbox_to_crs(bbox: tuple[float, float, float, float], src: str, dst: str) -> tuple[float, ...]:
    """A box from ``src`` to ``dst``, densified so curved edges stay inside."""
    if src == dst:
        return bbox
    return tuple(transformer(src, dst).transform_bounds(*bbox, densify_pts=21))


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` into numbers; ValidationError naming ``bbox``."""
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        msg = f"bbox must be four numbers minlon,minlat,maxlon,maxlat, not {text!r}"
        raise ValidationError(msg, field="bbox")
    minx, miny, maxx, maxy = values
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        msg = "bbox must be minlon<maxlon within -180..180 and minlat<maxlat within -90..90"
        raise ValidationError(msg, field="bbox")
    return minx, miny, maxx, maxy


# --- tiles ---------------------------------------------------------------------------


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Web Mercator bounds (metres) of XYZ tile ``z/x/y``."""
    size = 2 * _MERC_HALF / (1 << z)
    minx = -_MERC_HALF + x * size
    maxy = _MERC_HALF - y * size
    return minx, maxy - size, minx + size, maxy


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= 22:
        msg = f"zoom {z} is outside 0..22"
        raise ValidationError(msg, field="z")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        msg = f"tile {x}/{y} does not exist at zoom {z} (0..{n - 1})"
        raise ValidationError(msg, field="x" if not 0 <= x < n else "y")


# --- values ----------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A value JSON can carry: NaN/NaT become None, dates ISO strings, numpy scalars Python."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        f = float(value)
        return None if math.isnan(f) else f
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in dict(value).items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if value is pd.NaT or (not isinstance(value, str | bytes | dict) and pd.isna(value)):
        return None
    return value


def column_values(series: pd.Series) -> list[Any]:
    """A column as plain JSON values, converted a column at a time (not cell by cell)."""
    values = series.to_numpy()
    kind = values.dtype.kind
    missing = pd.isna(series).to_numpy()
    if kind == "f":
        out = values.astype(object)
        out[missing] = None
        return list(out)
    if kind in "iub":
        return values.tolist()
    if kind == "M":
        text = np.datetime_as_string(values, unit="auto").astype(object)
        text[missing] = None
        return list(text)
    # objects and extension types (Int64, strings, dates, dicts): only the odd ones need care
    return [
        None if miss else (v if isinstance(v, str | int | bool) else plain(v))
        for v, miss in zip(series.astype(object).to_numpy(), missing, strict=True)
    ]


def frame_rows(frame: pd.DataFrame, columns: Iterable[str]) -> list[dict[str, Any]]:
    """The frame's rows as plain dicts of the given columns."""
    cols = [c for c in columns if c in frame.columns]
    values = [column_values(frame[c]) for c in cols]
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]


# --- GeoJSON out ------------------------------------------------------------------------


def feature_collection(frame: pd.DataFrame, columns: Iterable[str], crs: str) -> str:
    """A GeoJSON FeatureCollection (WGS84) of the frame's rows, as a JSON string.

    Built as a string: the geometries are serialised in one vectorised call
    (shapely's GEOS writer) rather than dict by dict.
    """
    if len(frame) == 0:
        return '{"type":"FeatureCollection","features":[]}'
    geoms = reproject(np.asarray(frame.geometry.values), crs, WGS84)
    geo_json = shapely.to_geojson(geoms)
    rows = frame_rows(frame, columns)
    parts = []
    for row, g in zip(rows, geo_json, strict=True):
        fid = row.get("id")
        parts.append(
            f'{{"type":"Feature","id":{json.dumps(fid)},'
            f'"geometry":{g if g is not None else "null"},"properties":{json.dumps(row)}}}'
        )
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def feature(record: Mapping[str, Any], columns: Iterable[str], crs: str) -> dict[str, Any]:
    """One record as a GeoJSON Feature dict (WGS84)."""
    geom = record.get("geometry")
    geometry = None
    if isinstance(geom, BaseGeometry) and not geom.is_empty:
        geometry = json.loads(shapely.to_geojson(reproject(geom, crs, WGS84)))
    props = {c: plain(record.get(c)) for c in columns if c in record}
    return {
        "type": "Feature",
        "id": plain(record.get("id")),
        "geometry": geometry,
        "properties": props,
    }


# --- GeoJSON in ----------------------------------------------------------------------------

_MULTI = {"Polygon": "MultiPolygon", "LineString": "MultiLineString"}


def parse_geometry(value: Any, kind: Kind, crs: str) -> BaseGeometry:
    """A GeoJSON geometry (WGS84) into a shapely geometry in the store CRS.

    Refuses, naming the ``geometry`` field: a non-object, an unknown or wrong
    type, unreadable or non-finite coordinates, coordinates outside WGS84.
    A single Polygon/LineString is promoted when the kind keeps multi-parts.
    """
    if not isinstance(value, Mapping) or "type" not in value:
        msg = "geometry must be a GeoJSON geometry object with 'type' and 'coordinates'"
        raise ValidationError(msg, kind=kind.name, field="geometry")
    expected = kind.geometry
    gtype = value.get("type")
    allowed = {expected, *(k for k, v in _MULTI.items() if v == expected)}
    if gtype not in allowed:
        msg = f"geometry type {gtype!r} is not allowed here; expected {expected}"
        raise ValidationError(msg, kind=kind.name, field="geometry")
    try:
        geom = shapely.from_geojson(json.dumps(dict(value)))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        msg = f"geometry is not valid GeoJSON: {exc}"
        raise ValidationError(msg, kind=kind.name, field="geometry") from None
    if geom is None or geom.is_empty:
        raise ValidationError("geometry is empty", kind=kind.name, field="geometry")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise ValidationError(
            "geometry has non-finite coordinates", kind=kind.name, field="geometry"
        )
    if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        msg = "geometry coordinates must be WGS84 longitude/latitude (lon within ±180, lat ±90)"
        raise ValidationError(msg, kind=kind.name, field="geometry")
    if gtype != expected and expected is not None:
        parts: Any = (
            shapely.multipolygons([geom])
            if expected == "MultiPolygon"
            else shapely.multilinestrings([geom])
        )
        geom = parts
    projected: BaseGeometry = reproject(geom, WGS84, crs)
    if not np.isfinite(shapely.get_coordinates(projected)).all():
        msg = "geometry cannot be projected into the store's CRS"
        raise ValidationError(msg, kind=kind.name, field="geometry")
    return projected


# --- vector tiles -------------------------------------------------------------------------------


_POLYGONAL = ("Polygon", "MultiPolygon")


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    """The polygonal part of a repaired polygon (make_valid may leave lines or points)."""
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
    return shapely.union_all(parts) if parts else None


def tile_ready(geoms: np.ndarray) -> np.ndarray:
    """Geometries on the tile grid made valid and wound for MVT, vectorised.

    Snapping to the integer grid can pinch a small polygon; those few are
    repaired one by one. Exterior rings go clockwise with y up, which the
    encoder's y flip turns into the spec's order, so its slow per-feature
    winding check can be skipped.
    """
    geoms = np.asarray(geoms, dtype=object)
    present = ~shapely.is_missing(geoms)
    polygonal = present & np.isin(shapely.get_type_id(geoms), (3, 6))
    bad = np.flatnonzero(polygonal & ~shapely.is_valid(geoms))
    for i in bad:
        # "structure" drops parts that snapping collapsed to a point or a line
        # (the default "linework" refuses a ring collapsed to a point)
        geoms[i] = _polygonal(
            shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
        )
    out: np.ndarray = shapely.orient_polygons(geoms, exterior_cw=True)
    return out


def vector_tile(
    layers: Mapping[str, tuple[pd.DataFrame, list[str]]],
    crs: str,
    z: int,
    x: int,
    y: int,
) -> bytes:
    """A Mapbox vector tile with one layer per entry (frame in ``crs``, property columns)."""
    bounds = tile_bounds(z, x, y)
    size = bounds[2] - bounds[0]
    pad = size * TILE_BUFFER
    clip_box = (bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    # Simplify to about a quarter of a tile pixel: invisible, and keeps low zooms light.
    tolerance = size / TILE_EXTENT / 4
    scale = TILE_EXTENT / size
    origin = np.array([bounds[0], bounds[1]])

    def to_tile(xy: np.ndarray) -> np.ndarray:
        return np.round((xy - origin) * scale)

    encoded: list[dict[str, Any]] = []
    for name, (frame, columns) in layers.items():
        if len(frame) == 0:
            continue
        geoms = reproject(np.asarray(frame.geometry.values), crs, WEB_MERCATOR)
        geoms = shapely.clip_by_rect(geoms, *clip_box)
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
        # into the tile's integer grid here, vectorised (the encoder's own
        # quantising goes point by point through a deprecated shapely call)
        geoms = tile_ready(shapely.transform(geoms, to_tile))
        keep = ~shapely.is_missing(geoms)
        keep[keep] = ~shapely.is_empty(geoms[keep])
        rows = frame_rows(frame, columns)
        features = [
            {
                "geometry": g,
                # vector tiles carry only scalar values
                "properties": {
                    k: v for k, v in row.items() if isinstance(v, str | int | float | bool)
                },
                "id": row.get("id"),
            }
            for g, row, ok in zip(geoms, rows, keep, strict=True)
            if ok
        ]
        if features:
            encoded.append({"name": name, "features": features})
    if not encoded:
        return b""
    data: bytes = mapbox_vector_tile.encode(
        encoded,
        # geometries arrive valid and wound as the spec wants (see tile_ready)
        default_options={"extents": TILE_EXTENT, "check_winding_order": False},
    )
    return data
