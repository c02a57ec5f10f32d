"""What the authority holds about contamination: hazards, and the records of their release.

The land is cut into parcels (Voronoi cells, smaller near the line, like the
field-bounded polygons NTS teams draw). A parcel is recorded as suspected
from the evidence an NTS team has: the old line and positions, 2020 battles,
ruined villages and roads of the formerly occupied zone, and what locals know
(a parcel holding mines is more often reported). The intercept is calibrated
so the suspected area is the preset's share of the region; some mined parcels
are missed by everyone and some clean parcels are suspected on rumour alone.
Hazards are thus mostly larger than the truth. Their release, 2021 to the
snapshot, is :mod:`minemap.scenario.release`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from minemap.scenario.conflict import Battles, Line, Positions
from minemap.scenario.frame import Frame, pick
from minemap.scenario.landcover import BUILT_UP, CROPLAND, FOREST, PASTURE, WATER
from minemap.scenario.mining import Truth
from minemap.scenario.places import Districts, Roads, Settlements
from minemap.scenario.presets import SurveyParams
from minemap.scenario.terrain import Grid

_LAND_USE = {
    FOREST: "forest",
    PASTURE: "pasture",
    CROPLAND: "farmland",
    BUILT_UP: "housing",
    WATER: "water",
}


def as_multi(geom: BaseGeometry | None) -> shapely.MultiPolygon:
    """The polygonal parts of ``geom`` as one MultiPolygon (empty when none)."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and p.area > 1.0]
    if not parts:
        sub: list[shapely.Polygon] = []
        for p in shapely.get_parts(geom):
            if isinstance(p, shapely.MultiPolygon | shapely.GeometryCollection):
                sub.extend(q for q in shapely.get_parts(p) if isinstance(q, shapely.Polygon))
        parts = [p for p in sub if p.area > 1.0]
    return shapely.MultiPolygon(parts)


@dataclass
class Hazard:
    polygon: shapely.Polygon  # as recorded
    type: str
    contamination: str
    evidence: str
    recorded_on: dt.date
    district: int
    settlement: int
    land_use: str
    name: str
    organisation: int
    priority: float
    waits: bool = False  # confirmed on the old front far from any return: fenced, not cleared
    current: BaseGeometry | None = None  # after releases; None = untouched
    status: str = "open"

    @property
    def geometry(self) -> shapely.MultiPolygon:
        if self.status == "closed" or self.current is None:
            return as_multi(self.polygon)
        return as_multi(self.current)


@dataclass
class Activity:
    type: str
    hazard: int  # -1 for EOD call-outs outside hazards
    team: int
    start: dt.date
    end: dt.date | None
    status: str
    depth_cm: float | None
    qa: str
    geometry: shapely.MultiPolygon
    cancelled: float = 0.0
    reduced: float = 0.0
    cleared: float = 0.0


@dataclass
class Release:
    activity: int
    method: str
    date: dt.date
    geometry: shapely.MultiPolygon


class FindLog:
    """Devices found, one row each, kept as array chunks (there can be a million)."""

    COLUMNS = ("activity", "hazard", "device", "day", "x", "y", "condition", "depth_cm", "disposal")

    def __init__(self) -> None:
        self._chunks: list[pd.DataFrame] = []
        self._frame: pd.DataFrame | None = None

    def add(self, **columns: np.ndarray) -> None:
        self._chunks.append(pd.DataFrame({k: columns[k] for k in self.COLUMNS}))
        self._frame = None

    @property
    def frame(self) -> pd.DataFrame:
        """All finds in the order recorded (activity, hazard: -1 when none; day: ordinal)."""
        if self._frame is None:
            if self._chunks:
                self._frame = pd.concat(self._chunks, ignore_index=True)
            else:
                self._frame = pd.DataFrame({k: np.zeros(0) for k in self.COLUMNS})
            self._chunks = [self._frame]
        return self._frame

    def keep(self, mask: np.ndarray) -> None:
        self._frame = self.frame.loc[mask].reset_index(drop=True)
        self._chunks = [self._frame]

    def __len__(self) -> int:
        return len(self.frame)


@dataclass
class Observations:
    hazards: list[Hazard]
    bounds: tuple[float, float, float, float]
    activities: list[Activity] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    finds: FindLog = field(default_factory=FindLog)


def make_parcels(
    frame: Frame, line: Line, parcel_km2: float, rng: np.random.Generator
) -> list[shapely.Polygon]:
    """Land parcels: Voronoi cells, three times denser near the line than far from it."""
    n = max(8, round(frame.area_km2 / parcel_km2))
    m = 4 * n
    x = rng.uniform(frame.x0, frame.x1, m)
    y = rng.uniform(frame.y0, frame.y1, m)
    d = np.abs(x - line.x_at(y))
    w = 1.0 + 2.0 * np.exp(-d / 3_000.0)
    keep = rng.random(m) < w / w.max()
    x, y = x[keep][:n], y[keep][:n]
    box = shapely.box(*frame.bounds)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(np.column_stack([x, y])), extend_to=box)
    )
    parcels = [c.intersection(box) for c in cells]
    parcels = [p for p in parcels if isinstance(p, shapely.Polygon) and p.area > 1e4]
    parcels.sort(key=lambda p: (round(p.centroid.y, 1), round(p.centroid.x, 1)))
    return parcels


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _calibrate(z: np.ndarray, area: np.ndarray, target: float) -> float:
    """Intercept making the expected suspected area equal ``target``."""
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if float((area * _sigmoid(z + mid)).sum()) > target:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def _polygons_area_in(parcels: list[shapely.Polygon], polys: list[shapely.Polygon]) -> np.ndarray:
    out: np.ndarray = np.zeros(len(parcels))
    if not polys:
        return out
    tree = shapely.STRtree(polys)
    pi, fi = tree.query(parcels, predicate="intersects")
    if pi.size:
        parcel_arr = np.asarray(parcels, dtype=object)
        poly_arr = np.asarray(polys, dtype=object)
        inter = shapely.area(shapely.intersection(parcel_arr[pi], poly_arr[fi]))
        out = np.bincount(pi, weights=inter, minlength=len(parcels))
    return out


def record_hazards(
    frame: Frame,
    line: Line,
    positions: Positions,
    battles: Battles,
    roads: Roads,
    *,
    settlements: Settlements,
    districts: Districts,
    truth: Truth,
    landcover: np.ndarray,
    fine: Grid,
    params: SurveyParams,
    rng: np.random.Generator,
) -> list[Hazard]:
    """Suspected and confirmed hazardous areas as NTS recorded them in 2021-2022."""
    parcels = make_parcels(frame, line, params.parcel_km2, rng)
    n = len(parcels)
    arr = np.asarray(parcels, dtype=object)
    area = np.asarray(shapely.area(arr), dtype=float)
    cent = shapely.get_coordinates(shapely.point_on_surface(arr))
    cx, cy = cent[:, 0], cent[:, 1]
    d_line = np.asarray(shapely.distance(line.geometry, shapely.points(cx, cy)), dtype=float)
    west = line.west_of(cx, cy)
    d_pos, _ = cKDTree(np.column_stack([positions.x, positions.y])).query(cent)
    in_battle = _polygons_area_in(parcels, battles.areas) > 0
    ruined = np.flatnonzero(settlements.west)
    if ruined.size:
        d_ruined, _ = cKDTree(
            np.column_stack([settlements.x[ruined], settlements.y[ruined]])
        ).query(cent)
    else:
        d_ruined = np.full(n, 1e9)
    road_lines = roads.geometries
    if road_lines:
        _, nearest = shapely.STRtree(road_lines).query_nearest(
            shapely.points(cx, cy), return_distance=True, all_matches=False
        )
        d_road = np.asarray(nearest, dtype=float)
    else:
        d_road = np.full(n, 1e9)
    field_polys = [m.polygon for m in truth.minefields]
    mined_area = _polygons_area_in(parcels, field_polys)
    mined = mined_area > 0
    z = (
        2.6 * np.exp(-d_line / 2_500.0)
        + 1.0 * np.exp(-d_line / 15_000.0)
        + 1.2 * np.exp(-d_pos / 700.0)
        + 1.6 * in_battle
        + 1.0 * west
        + 0.9 * np.exp(-d_ruined / 1_500.0)
        + 0.5 * ((d_road < 400.0) & west)
        + params.truth_logit * mined
        + rng.normal(0.0, 0.7, n)
    )
    missed = mined & (rng.random(n) < params.missed_mined_share)
    z[missed] = -np.inf
    # one intercept per zone, so a small window on the line is as suspected as the line is
    zone = np.where(d_line < params.near_line_m, 0, np.where(west, 1, 2))
    shares = (params.suspected_near_line, params.suspected_west, params.suspected_east)
    suspected = np.zeros(n, dtype=bool)
    rumour = np.zeros(n, dtype=bool)
    keep = 1.0 - params.false_sha_share
    for k, share in enumerate(shares):
        sel = zone == k
        if not sel.any():
            continue
        z0 = _calibrate(z[sel], area[sel], share * keep * area[sel].sum())
        suspected[sel] = rng.random(int(sel.sum())) < _sigmoid(z[sel] + z0)
        # rumour: clean parcels reported without any evidence
        false_target = params.false_sha_share * share * area[sel].sum()
        got = 0.0
        for i in rng.permutation(np.flatnonzero(sel & ~suspected & ~mined)).tolist():
            if got >= false_target:
                break
            rumour[i] = True
            got += area[i]
    suspected |= rumour

    d_idx = districts.locate(cx, cy)
    s_tree = cKDTree(np.column_stack([settlements.x, settlements.y]))
    d_settle, s_idx = s_tree.query(cent)
    has_record = np.zeros(n, dtype=bool)
    recorded_fields = [m.polygon for m in truth.minefields if m.record_ref]
    if recorded_fields:
        has_record = _polygons_area_in(parcels, recorded_fields) > 0
    counters: dict[int, int] = {}
    hazards: list[Hazard] = []
    for i in np.flatnonzero(suspected).tolist():
        poly = parcels[i]
        if rumour[i]:
            evidence = "verbal"
        elif in_battle[i]:
            evidence = "observed" if rng.random() < 0.6 else "verbal"
        elif mined[i] and has_record[i]:
            evidence = "records"
        elif mined[i]:
            evidence = str(
                pick(rng, (("observed", 0.35), ("verbal", 0.45), ("predicted", 0.2)), 1)[0]
            )
        else:
            evidence = "predicted" if rng.random() < 0.5 else "verbal"
        if in_battle[i]:
            contamination = "CMR" if rng.random() < 0.6 else "UXO"
        elif d_line[i] < params.near_line_m:
            contamination = "AP" if rng.random() < 0.5 else "mixed"
        elif west[i] and d_road[i] < 300.0:
            contamination = "AT" if rng.random() < 0.5 else "mixed"
        elif west[i] and d_ruined[i] < 1_500.0:
            contamination = "AP" if rng.random() < 0.85 else "IED"
        else:
            contamination = "mixed"
        visible = mined[i] and evidence == "observed"
        htype = "CHA" if visible and rng.random() < 3 * params.cha_on_record_share else "SHA"
        if mined[i] and htype == "SHA" and rng.random() < params.cha_on_record_share:
            htype = "CHA"
        # the land use it blocks: the most common cover at a few points inside
        pts = _sample_in(poly, 9, rng)
        codes = fine.sample(landcover, pts[:, 0], pts[:, 1])
        vals, cnt = np.unique(codes, return_counts=True)
        top = int(vals[cnt.argmax()])
        land_use = "housing" if (codes == BUILT_UP).mean() >= 0.3 else _LAND_USE.get(top, "other")
        if land_use in ("farmland", "pasture") and d_road[i] < 60.0 and rng.random() < 0.3:
            land_use = "road"
        s = int(s_idx[i])
        k = counters.get(s, 0) + 1
        counters[s] = k
        recorded = dt.date(2021, 1, 18) + dt.timedelta(days=int(rng.integers(0, 700)))
        settle_w = 0.0
        if d_settle[i] < 4_000.0:
            ret = settlements.planned_return_year[s]
            returning = settlements.west[s] and ret is not None and ret <= 2025
            settle_w = (
                3.0 if returning else 1.5 if settlements.population[s] > 0 else 0.3
            ) * float(np.exp(-d_settle[i] / 1_500.0))
        # the old front far from any return is military ground, worked last
        remote_front = d_line[i] < params.near_line_m and settle_w < 0.5
        priority = (
            settle_w
            + 1.0 * (d_road[i] < 300.0)
            + 0.7 * (land_use == "farmland")
            + 0.5 * (htype == "CHA")
            - 1.2 * remote_front
            + float(rng.normal(0.0, 0.8))
        )
        hazards.append(
            Hazard(
                polygon=poly,
                type=htype,
                contamination=contamination,
                evidence=evidence,
                recorded_on=recorded,
                district=int(d_idx[i]),
                settlement=s,
                land_use=land_use,
                name=f"{settlements.name[s]} {k:02d}",
                organisation=0 if rng.random() < 0.85 else 6,
                priority=priority,
                # the old front's dense belts are fenced and wait, unless people live by them
                waits=(d_line[i] < params.near_line_m and settle_w < 2.0)
                and rng.random() >= params.remote_front_cleared_share,
            )
        )
    return hazards


def _sample_in(poly: shapely.Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    x0, y0, x1, y1 = poly.bounds
    out: list[np.ndarray] = []
    have = 0
    for _ in range(30):
        pts = np.column_stack([rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n)])
        ok = pts[shapely.contains_xy(poly, pts[:, 0], pts[:, 1])]
        out.append(ok)
        have += len(ok)
        if have >= n:
            break
    got = np.vstack(out)[:n] if have else np.zeros((0, 2))
    if len(got) == 0:
        c = poly.representative_point()
        got = np.array([[c.x, c.y]])
    return got
