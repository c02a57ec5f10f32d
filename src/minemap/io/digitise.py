"""Handed-over minefield records: from a paper traverse to shapes on the map, and how true they are.

A minefield record ties the field to a **reference point** (near a landmark)
and describes it as a traverse of **legs**, each a bearing in degrees and a
distance in metres, from turning point to turning point. Conventions here:

* The first leg runs from the reference point to the first turning point
  (TP1); it places the field and is not part of its outline. Every further
  leg runs from one turning point to the next.
* ``shape="polygon"``: TP1, TP2, ... outline the field. When the last turning
  point comes back near TP1 (within :data:`CLOSE_SHARE` of the perimeter) it
  is the closing leg, and its distance from TP1 is the **misclosure**, a
  measure of the record's internal accuracy; otherwise the outline is closed
  by a straight line and the misclosure is unknown (``NaN``).
  ``shape="line"``: the turning points are a mine row, a line.
* Bearings are turned into **grid** bearings of the metric CRS before the
  traverse is run: ``grid`` as given; ``magnetic`` plus the record's
  ``declination_deg`` (magnetic north's angle east of grid north, "magnetic
  minus grid" in the schema); ``true`` minus the meridian (grid) convergence
  at the reference point, from pyproj (:func:`grid_convergence`).

:func:`score_records` scores each record against devices found later: the
share of nearby finds inside (or near) the shape and the offset that would
best move the shape onto them (the median displacement of the finds from the
shape), which the hazard-map features can use to weigh a record.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Proj, Transformer

from minemap.errors import InputFileError
from minemap.files import replace_when_done
from minemap.io.normalise import normalise
from minemap.io.readers import RawTable, list_layers, read_table
from minemap.records.schema import get_kind
from minemap.records.validate import validate_frame
from minemap.store.base import Store

#: A last turning point this close to TP1 (as a share of the perimeter) closes the traverse.
CLOSE_SHARE = 0.10
DEFAULT_NEAR_M = 25.0
DEFAULT_SEARCH_M = 500.0


def grid_convergence(x: float, y: float, crs: str) -> float:
    """Degrees to subtract from a true bearing to get a grid bearing at (x, y) of ``crs``.

    This is pyproj's meridian convergence: east of a UTM zone's central
    meridian in the northern hemisphere grid north lies east of true north,
    so grid bearings are smaller than true ones there.
    """
    c = CRS.from_user_input(crs)
    if not c.is_projected:
        return 0.0
    lon, lat = Transformer.from_crs(c, "EPSG:4326", always_xy=True).transform(x, y)
    return float(Proj(c).get_factors(lon, lat).meridian_convergence)


def to_grid_bearing(
    bearing: float, bearing_type: str | None, declination: float | None, convergence: float
) -> float:
    """A leg's bearing as a grid bearing in [0, 360)."""
    kind = (bearing_type or "grid").lower()
    if kind == "magnetic":
        if declination is None or (isinstance(declination, float) and math.isnan(declination)):
            msg = "a magnetic bearing needs the record's declination_deg"
            raise ValueError(msg)
        out = bearing + declination
    elif kind == "true":
        out = bearing - convergence
    elif kind == "grid":
        out = bearing
    else:
        msg = f"unknown bearing type {bearing_type!r} (grid, magnetic or true)"
        raise ValueError(msg)
    return out % 360.0


def run_traverse(
    start: tuple[float, float], legs: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The end point of every leg (grid bearing in degrees, distance in metres) from ``start``."""
    x, y = start
    out = []
    for bearing, distance in legs:
        theta = math.radians(bearing)
        x += distance * math.sin(theta)
        y += distance * math.cos(theta)
        out.append((x, y))
    return out


@dataclass
class Digitised:
    """Turning points and shapes of a set of minefield records, in a metric CRS."""

    crs: str
    points: gpd.GeoDataFrame  # record_ref, seq, label, grid_bearing_deg, distance_m
    shapes: gpd.GeoDataFrame  # record_ref, shape, turning_points, misclosure_m, ...
    problems: dict[str, str] = field(default_factory=dict)  # record ref -> why no shape


def _num(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def digitise(records: gpd.GeoDataFrame, legs: pd.DataFrame, *, crs: str) -> Digitised:
    """Turn records (reference points) and their legs into turning points and shapes.

    ``records`` has ``ref``, the reference point geometry, ``bearing_type``,
    ``declination_deg`` and ``shape``; ``legs`` has ``record_ref``, ``seq``,
    ``bearing_deg``, ``distance_m`` and ``label``. Records whose traverse
    cannot make their shape are listed in :attr:`Digitised.problems`.
    """
    if records.crs is None:
        msg = "minefield records have no CRS"
        raise InputFileError("", msg)
    metric = records.to_crs(crs)
    point_rows: list[dict[str, Any]] = []
    shape_rows: list[dict[str, Any]] = []
    problems: dict[str, str] = {}
    by_record = {str(ref): grp.sort_values("seq") for ref, grp in legs.groupby("record_ref")}
    for _, rec in metric.iterrows():
        ref = str(rec["ref"])
        geom = rec.geometry
        mine_legs = by_record.get(ref)
        if mine_legs is None or not len(mine_legs):
            problems[ref] = "no legs"
            continue
        if geom is None or geom.is_empty:
            problems[ref] = "no reference point"
            continue
        seqs = [int(s) for s in mine_legs["seq"]]
        if len(set(seqs)) != len(seqs):
            problems[ref] = f"leg numbers repeat ({seqs})"
            continue
        convergence = grid_convergence(geom.x, geom.y, crs)
        try:
            grid = [
                to_grid_bearing(
                    float(b),
                    rec.get("bearing_type"),
                    _num(rec.get("declination_deg")),
                    convergence,
                )
                for b in mine_legs["bearing_deg"]
            ]
        except ValueError as exc:
            problems[ref] = str(exc)
            continue
        distances = [float(d) for d in mine_legs["distance_m"]]
        ends = run_traverse((geom.x, geom.y), list(zip(grid, distances, strict=True)))
        labels = list(mine_legs["label"]) if "label" in mine_legs.columns else [None] * len(ends)
        for seq, label, g, d, (x, y) in zip(seqs, labels, grid, distances, ends, strict=True):
            point_rows.append(
                {
                    "record_ref": ref,
                    "seq": seq,
                    "label": None if label is None or pd.isna(label) else str(label),
                    "grid_bearing_deg": round(g, 6),
                    "distance_m": d,
                    "geometry": shapely.Point(x, y),
                }
            )
        turning = ends  # the first leg reaches TP1 from the reference point
        shape = str(rec.get("shape") or "polygon")
        row: dict[str, Any] = {
            "record_ref": ref,
            "shape": shape,
            "turning_points": len(turning),
            "misclosure_m": math.nan,
            "convergence_deg": round(convergence, 6),
            "mine_count": _num(rec.get("mine_count")),
        }
        if shape == "line":
            if len(turning) < 2:
                problems[ref] = "a mine row needs at least two turning points"
                continue
            outline: Any = shapely.LineString(turning)
            row["length_m"] = outline.length
            row["area_m2"] = 0.0
        else:
            outline, misclosure, why = _polygon(turning)
            if outline is None:
                problems[ref] = why
                continue
            row["misclosure_m"] = misclosure
            row["length_m"] = outline.exterior.length
            row["area_m2"] = outline.area
        row["geometry"] = outline
        shape_rows.append(row)
    points = gpd.GeoDataFrame(
        pd.DataFrame(
            point_rows,
            columns=["record_ref", "seq", "label", "grid_bearing_deg", "distance_m", "geometry"],
        ),
        geometry="geometry",
        crs=crs,
    )
    shapes = gpd.GeoDataFrame(
        pd.DataFrame(
            shape_rows,
            columns=[
                "record_ref",
                "shape",
                "turning_points",
                "misclosure_m",
                "convergence_deg",
                "mine_count",
                "length_m",
                "area_m2",
                "geometry",
            ],
        ),
        geometry="geometry",
        crs=crs,
    )
    return Digitised(crs, points, shapes, problems)


def _polygon(turning: list[tuple[float, float]]) -> tuple[Any, float, str]:
    """The outline through the turning points, its misclosure, or why there is none."""
    pts = list(turning)
    perimeter = sum(math.dist(a, b) for a, b in itertools.pairwise(pts))
    misclosure = math.nan
    if len(pts) >= 4 and math.dist(pts[-1], pts[0]) <= CLOSE_SHARE * max(perimeter, 1e-9):
        misclosure = math.dist(pts[-1], pts[0])
        pts = pts[:-1]  # the closing leg returns (almost) to TP1
    distinct = {(round(x, 3), round(y, 3)) for x, y in pts}
    if len(distinct) < 3:
        return None, misclosure, "a polygon needs at least three distinct turning points"
    poly: Any = shapely.Polygon(pts)
    if not poly.is_valid:
        fixed = shapely.make_valid(poly)
        polys = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type == "Polygon"]
        if not polys:
            return None, misclosure, "the traverse crosses itself and encloses no area"
        poly = max(polys, key=lambda p: p.area)
    if poly.area <= 0:
        return None, misclosure, "the traverse encloses no area"
    return poly, misclosure, ""


def digitise_store(store: Store, *, crs: str | None = None) -> Digitised:
    """Digitise every minefield record kept in ``store`` (in the store CRS unless ``crs``)."""
    records = store.read("minefield_records")
    legs = store.read("minefield_legs", with_refs=True)
    return digitise(cast(gpd.GeoDataFrame, records), legs, crs=crs or store.crs)


# --- accuracy against later finds -------------------------------------------------------------


def score_records(
    shapes: gpd.GeoDataFrame,
    finds: gpd.GeoDataFrame,
    *,
    near_m: float = DEFAULT_NEAR_M,
    search_m: float = DEFAULT_SEARCH_M,
    received: pd.Series | None = None,
) -> pd.DataFrame:
    """Score each record's shape against finds made later.

    For every shape (polygon or mine-row line, metric CRS) the finds within
    ``search_m`` are its evidence. Returns per ``record_ref``: ``finds_nearby``,
    ``share_inside`` (inside the polygon, or within ``near_m`` of a line),
    ``share_near`` (within ``near_m`` of the shape), ``offset_dx_m``,
    ``offset_dy_m`` and ``offset_m`` (the median displacement of the finds
    from the nearest point of the shape; zero for finds inside, so an accurate
    record scores about zero), and ``found_per_mine`` when the record gives
    ``mine_count``. ``received`` (by record ref) keeps only finds made on or
    after the day a record was received, when finds carry ``found_on``.
    """
    if finds.crs is not None and shapes.crs is not None and finds.crs != shapes.crs:
        finds = finds.to_crs(shapes.crs)
    fgeoms = np.asarray(finds.geometry.values, dtype=object)
    tree = shapely.STRtree(fgeoms)
    found_on = (
        pd.to_datetime(finds["found_on"], errors="coerce") if "found_on" in finds.columns else None
    )
    rows = []
    for _, rec in shapes.iterrows():
        ref = str(rec["record_ref"])
        shape = rec.geometry
        idx = tree.query(shape, predicate="dwithin", distance=search_m)
        if found_on is not None and received is not None and ref in received.index:
            since = pd.to_datetime(received[ref], errors="coerce")
            if not pd.isna(since):
                dates = found_on.iloc[idx]
                idx = idx[(dates.isna() | (dates >= since)).to_numpy()]
        n = len(idx)
        out: dict[str, Any] = {"record_ref": ref, "finds_nearby": n}
        if n == 0:
            out |= dict.fromkeys(
                ("share_inside", "share_near", "offset_dx_m", "offset_dy_m", "offset_m"), math.nan
            )
        else:
            pts = fgeoms[idx]
            dist = shapely.distance(shape, pts)
            polygonal = shape.geom_type in ("Polygon", "MultiPolygon")
            inside = shapely.contains(shape, pts) if polygonal else dist <= near_m
            nearest = shapely.shortest_line(shape, pts)
            coords = [shapely.get_coordinates(line) for line in nearest]
            dx = np.array([c[1, 0] - c[0, 0] for c in coords])
            dy = np.array([c[1, 1] - c[0, 1] for c in coords])
            dx[inside] = 0.0
            dy[inside] = 0.0
            mdx, mdy = float(np.median(dx)), float(np.median(dy))
            out |= {
                "share_inside": float(np.mean(inside)),
                "share_near": float(np.mean(dist <= near_m)),
                "offset_dx_m": mdx,
                "offset_dy_m": mdy,
                "offset_m": math.hypot(mdx, mdy),
            }
        count = _num(rec.get("mine_count")) if "mine_count" in shapes.columns else None
        out["found_per_mine"] = n / count if count else math.nan
        rows.append(out)
    columns = [
        "record_ref",
        "finds_nearby",
        "share_inside",
        "share_near",
        "offset_dx_m",
        "offset_dy_m",
        "offset_m",
        "found_per_mine",
    ]
    return pd.DataFrame(rows, columns=columns)


# --- files ------------------------------------------------------------------------------------

_RECORD_LAYERS = ("minefield_records", "records")
_LEG_LAYERS = ("minefield_legs", "legs")


def _layer(layers: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {name.lower(): name for name in layers}
    for n in names:
        if n in lowered:
            return lowered[n]
    return None


def read_minefield_file(path: str | Path, *, crs: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Records (reference points, in ``crs``) and legs from a GeoPackage, XLSX or flat CSV.

    A GeoPackage or workbook holds ``minefield_records`` and ``minefield_legs``
    layers (or sheets); a CSV holds one row per leg with the record's columns
    (``record_ref`` or ``ref``, reference point as lat/lon, MGRS or WKT,
    ``bearing_type``, ``declination_deg``, ``shape``...) repeated on each row.
    """
    path = Path(path)
    records_kind = get_kind("minefield_records")
    legs_kind = get_kind("minefield_legs")
    head = read_table(path, prefer_layer="minefield_records")
    if head.format in ("gpkg", "xlsx"):
        layers = list_layers(path)
        rec_layer, leg_layer = _layer(layers, _RECORD_LAYERS), _layer(layers, _LEG_LAYERS)
        if rec_layer is None or leg_layer is None:
            msg = f"needs layers (or sheets) minefield_records and minefield_legs; it has {layers}"
            raise InputFileError(path, msg)
        rec_table = read_table(path, layer=rec_layer)
        leg_table = read_table(path, layer=leg_layer)
    else:
        flat = head.frame
        key = "record_ref" if "record_ref" in flat.columns else "ref"
        if key not in flat.columns:
            raise InputFileError(
                path, "needs a record_ref (or ref) column naming each leg's record"
            )
        first = flat.drop_duplicates(subset=key, keep="first").copy()
        first.index = pd.RangeIndex(1, len(first) + 1)
        leg_cols = ["seq", "bearing_deg", "distance_m", "label"]
        rec_cols = [c for c in first.columns if c not in leg_cols]
        rec_frame = first[rec_cols].rename(columns={"record_ref": "ref"})
        rec_table = RawTable(path, head.format, rec_frame, encoding=head.encoding)
        legs_frame = flat[[c for c in [key, *leg_cols] if c in flat.columns]].rename(
            columns={"ref": "record_ref"}
        )
        leg_table = RawTable(path, head.format, legs_frame, encoding=head.encoding)
    records = _checked(rec_table, records_kind.name, crs)
    legs = _checked(leg_table, legs_kind.name, crs)
    return cast(gpd.GeoDataFrame, records), legs


def _checked(table: RawTable, kind: str, crs: str) -> pd.DataFrame:
    k = get_kind(kind)
    batch = normalise(table, k, store_crs=crs)
    if batch.refused:
        row, reason = min(batch.refused.items())
        raise InputFileError(table.path, f"{kind}: {reason}", row=row)
    result = validate_frame(kind, batch.frame, crs=crs)
    if not result.ok:
        first = result.rejects.iloc[0]
        raise InputFileError(table.path, f"{kind}: {first['reason']}", row=first["row"])
    return result.valid


def write_digitised(result: Digitised, out: str | Path, scores: pd.DataFrame | None = None) -> Path:
    """Write turning points and shapes (with scores, if any) to a GeoPackage or GeoJSON."""
    import pyogrio

    out = Path(out)
    shapes = result.shapes
    if scores is not None and len(shapes):
        shapes = shapes.merge(scores.drop(columns=[]), on="record_ref", how="left")
    if out.suffix.lower() not in (".geojson", ".json", ".gpkg"):
        raise InputFileError(out, "write digitised records to a .gpkg or .geojson file")
    with replace_when_done(out) as tmp:
        if out.suffix.lower() == ".gpkg":
            pyogrio.write_dataframe(
                shapes, tmp, layer="minefield_shapes", driver="GPKG", promote_to_multi=False
            )
            pyogrio.write_dataframe(
                result.points, tmp, layer="turning_points", driver="GPKG", append=True
            )
        else:
            both = pd.concat(
                [
                    shapes.to_crs("EPSG:4326").assign(feature="shape"),
                    result.points.to_crs("EPSG:4326").assign(feature="turning_point"),
                ],
                ignore_index=True,
            )
            pyogrio.write_dataframe(
                gpd.GeoDataFrame(both, geometry="geometry", crs="EPSG:4326"), tmp, driver="GeoJSON"
            )
    return out
