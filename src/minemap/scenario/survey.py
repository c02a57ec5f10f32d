"""What the authority holds about contamination: hazards, land release and finds.

Hazards
    The land is cut into parcels (Voronoi cells, smaller near the line, like
    the field-bounded polygons NTS teams draw). A parcel is recorded as
    suspected from the evidence an NTS team has: the old line and positions,
    2020 battles, ruined villages and roads of the formerly occupied zone,
    and what locals know (a parcel holding mines is more often reported).
    The intercept is calibrated so the suspected area is the preset's share
    of the region; some mined parcels are missed by everyone and some clean
    parcels are suspected on rumour alone. Hazards are thus mostly larger
    than the truth.
Land release, 2021 to the snapshot date
    Hazards are worked in priority order (near settlements whose people are
    returning, near roads, on farmland) until each year's national release,
    scaled by area, is used up. NTS cancels the parts of a hazard with no
    device nearby (in blocks, as evidence allows; a few tasks cancel land
    that still holds devices); technical survey reduces what lies farther
    than a few tens of metres from any device and finds a sample of devices,
    which makes the hazard a CHA; clearance clears the rest and finds
    (nearly) every device in it. Released land is outlined on a 25 m grid and
    clipped to the hazard, so the cancelled, reduced and cleared polygons of
    a hazard never overlap. EOD teams answer call-outs for items found by
    the public outside hazards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio import features
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from minemap.scenario.conflict import Battles, Line, Positions
from minemap.scenario.frame import Frame, pick, uniform
from minemap.scenario.landcover import BUILT_UP, CROPLAND, FOREST, PASTURE, WATER
from minemap.scenario.mining import Truth
from minemap.scenario.operators import Operators
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


# --- land release -------------------------------------------------------------------------

_PRODUCTIVITY = {
    "manual": 300.0,
    "dog": 850.0,
    "machine": 8_000.0,
    "nts": 400_000.0,
    "drone": 250_000.0,
}
_TS_SPEEDUP = 6.0  # TS samples lanes rather than covering every square metre


class _Cells:
    """A hazard rasterised on the work grid, with each cell's distance to the nearest device."""

    def __init__(self, poly: BaseGeometry, cell: float, tree: cKDTree | None, reach: float) -> None:
        x0, y0, x1, y1 = poly.bounds
        self.x0 = np.floor(x0 / cell) * cell
        self.y1 = np.ceil(y1 / cell) * cell
        self.cols = max(1, int(np.ceil((x1 - self.x0) / cell)))
        self.rows = max(1, int(np.ceil((self.y1 - y0) / cell)))
        self.cell = cell
        self.transform = Affine(cell, 0.0, self.x0, 0.0, -cell, self.y1)
        self.inside = features.geometry_mask(
            [poly], (self.rows, self.cols), self.transform, invert=True, all_touched=True
        )
        r, c = np.nonzero(self.inside)
        self.r, self.c = r, c
        xs = self.x0 + (c + 0.5) * cell
        ys = self.y1 - (r + 0.5) * cell
        if tree is None or len(r) == 0:
            self.dist = np.full(len(r), np.inf)
        else:
            self.dist, _ = tree.query(np.column_stack([xs, ys]), distance_upper_bound=reach)

    def block(self, size: int) -> np.ndarray:
        return (self.r // size) * (self.cols // size + 1) + self.c // size

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = np.floor((x - self.x0) / self.cell).astype(np.int64)
        r = np.floor((self.y1 - y) / self.cell).astype(np.int64)
        return np.clip(r, 0, self.rows - 1), np.clip(c, 0, self.cols - 1)

    def polygon(self, flags: np.ndarray, clip: BaseGeometry) -> shapely.MultiPolygon:
        if not flags.any():
            return shapely.MultiPolygon()
        grid = np.zeros((self.rows, self.cols), dtype=np.uint8)
        grid[self.r[flags], self.c[flags]] = 1
        shapes = [
            shapely.geometry.shape(g)
            for g, v in features.shapes(grid, mask=grid == 1, transform=self.transform)
            if v == 1
        ]
        return as_multi(shapely.intersection(shapely.union_all(shapes), clip))


@dataclass
class _Pending:
    hazard: int
    cells: _Cells
    remain: np.ndarray  # flags of cells left for clearance
    devices: np.ndarray  # device indices inside the remaining cells, not yet found
    ready: dt.date


def _devices_in(poly: BaseGeometry, truth: Truth, tree: cKDTree | None) -> np.ndarray:
    if tree is None:
        return np.zeros(0, dtype=np.int64)
    x0, y0, x1, y1 = poly.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    cand = np.asarray(
        tree.query_ball_point([cx, cy], np.hypot(x1 - x0, y1 - y0) / 2 + 1.0), dtype=np.int64
    )
    if cand.size == 0:
        return cand
    cand.sort()
    return cand[shapely.contains_xy(poly, truth.x[cand], truth.y[cand])]


def _find_details(
    truth: Truth, devices: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Condition, depth (cm) and disposal of found devices."""
    n = devices.size
    cat = truth.category[devices]
    condition = pick(
        rng, (("armed", 0.7), ("damaged", 0.1), ("unarmed", 0.05), ("unknown", 0.15)), n
    )
    loose = np.where(rng.random(n) < 0.5, rng.uniform(0.0, 30.0, n), 0.0)
    depth = np.select(
        [cat == "AP", cat == "AT", cat == "IED"],
        [rng.uniform(1.0, 10.0, n), rng.uniform(5.0, 25.0, n), rng.uniform(0.0, 10.0, n)],
        loose,
    )
    heavy = np.isin(cat, ["AT", "UXO", "AXO", "submunition"])
    r = rng.random(n)
    disposal = np.where(
        heavy,
        np.where(r < 0.7, "destroyed_in_situ", "removed"),
        np.where(r < 0.6, "removed", "destroyed_in_situ"),
    ).astype(object)
    disposal[rng.random(n) < 0.04] = "rendered_safe"
    return condition, np.round(depth, 1), disposal


def _team_for(
    operators: Operators,
    kinds: tuple[str, ...],
    org_mix: tuple[tuple[str, float], ...],
    rng: np.random.Generator,
) -> int:
    org_type = str(pick(rng, org_mix, 1)[0])
    for kind in kinds:
        teams = operators.teams_of(kind, (org_type,))
        if teams:
            return int(teams[int(rng.integers(len(teams)))])
    for kind in kinds:
        teams = operators.teams_of(kind)
        if teams:
            return int(teams[int(rng.integers(len(teams)))])
    return 0


def release_land(
    frame: Frame,
    hazards: list[Hazard],
    truth: Truth,
    operators: Operators,
    slope_at: Callable[[float, float], float],
    *,
    settlements: Settlements,
    params: SurveyParams,
    reference_area_km2: float,
    end: dt.date,
    rng: np.random.Generator,
) -> Observations:
    """Survey and clearance from 2021 to ``end``; fills finds into ``truth.found_on``."""
    obs = Observations(hazards, frame.bounds)
    tree = cKDTree(np.column_stack([truth.x, truth.y])) if len(truth) else None
    scale = frame.area_km2 / reference_area_km2
    per_year = dict(params.released_ha_per_year)
    order = sorted(range(len(hazards)), key=lambda h: -hazards[h].priority)
    reach = params.cancel_distance_m[1] + 1.0
    pending: list[_Pending] = []
    surveyed: set[int] = set()
    last = max(per_year)
    for year in range(2021, end.year + 1):
        ha = per_year.get(year, per_year[last])
        day0 = dt.date(year, 1, 10)
        day1 = min(dt.date(year, 12, 20), end)
        if day1 <= day0:
            break
        span = (day1 - day0).days
        budget = ha * 1e4 * scale * (span / 344.0)
        budget_sr = budget * (1.0 - params.cleared_share)
        budget_cl = budget * params.cleared_share
        spent = 0.0
        for h in order:
            if spent >= budget_sr:
                break
            hz = hazards[h]
            if h in surveyed or hz.recorded_on > day1 - dt.timedelta(days=20):
                continue
            surveyed.add(h)
            start = max(
                day0 + dt.timedelta(days=int(span * spent / budget_sr)),
                hz.recorded_on + dt.timedelta(days=14),
            )
            spent += _survey(
                obs,
                h,
                start,
                end,
                truth,
                tree=tree,
                operators=operators,
                params=params,
                reach=reach,
                pending=pending,
                rng=rng,
            )
        spent_cl = 0.0
        pending.sort(key=lambda p: -hazards[p.hazard].priority)
        still: list[_Pending] = []
        for p in pending:
            if spent_cl >= budget_cl or p.ready > day1 or hazards[p.hazard].waits:
                still.append(p)
                continue
            start = max(
                p.ready + dt.timedelta(days=7),
                day0 + dt.timedelta(days=int(span * spent_cl / budget_cl)),
            )
            spent_cl += _clear(
                obs,
                p,
                start,
                end,
                truth,
                operators=operators,
                slope_at=slope_at,
                params=params,
                rng=rng,
            )
        pending = still
    _eod_callouts(obs, truth, operators, settlements, end, rng=rng)
    _settle_hazards(obs, truth)
    return obs


def _survey(
    obs: Observations,
    h: int,
    start: dt.date,
    end: dt.date,
    truth: Truth,
    *,
    tree: cKDTree | None,
    operators: Operators,
    params: SurveyParams,
    reach: float,
    pending: list[_Pending],
    rng: np.random.Generator,
) -> float:
    """NTS then TS of one hazard; returns the area they released."""
    hz = obs.hazards[h]
    poly = hz.polygon
    cells = _Cells(poly, params.work_cell_m, tree, reach)
    n = len(cells.r)
    if n == 0:
        return 0.0
    r_cancel = uniform(rng, params.cancel_distance_m)
    r_reduce = uniform(rng, params.reduce_distance_m)
    blocks = cells.block(8)
    uniq, inv = np.unique(blocks, return_inverse=True)
    p_cancel = rng.uniform(0.35, 1.0)
    cancellable = (rng.random(uniq.size) < p_cancel)[inv]
    if rng.random() < params.wrong_cancel_share:
        cancel = cancellable  # evidence misread: devices remain in cancelled land
    else:
        cancel = cancellable & (cells.dist > r_cancel)
    reduce = ~cancel & (cells.dist > r_reduce)
    remain = ~cancel & ~reduce

    org_mix = params.org_release_mix
    nts_team = _team_for(
        operators, ("nts", "drone"), (("national_authority", 0.85), ("ngo", 0.15)), rng
    )
    nts_days = max(1, int(poly.area / _PRODUCTIVITY["nts"] + rng.integers(1, 5)))
    nts_end = start + dt.timedelta(days=nts_days)
    if nts_end > end:
        obs.activities.append(
            Activity(
                "NTS", h, nts_team, start, None, "ongoing", None, "not_required", as_multi(poly)
            )
        )
        return 0.0
    cancel_poly = cells.polygon(cancel, poly)
    act = Activity(
        "NTS", h, nts_team, start, nts_end, "completed", None, "not_required", as_multi(poly)
    )
    act.cancelled = cancel_poly.area
    obs.activities.append(act)
    if act.cancelled > 0:
        obs.releases.append(Release(len(obs.activities) - 1, "cancelled", nts_end, cancel_poly))
    hz.current = poly.difference(cancel_poly) if act.cancelled > 0 else poly
    released = act.cancelled
    worked = as_multi(hz.current)
    if not (reduce.any() or remain.any()) or worked.is_empty:
        # what NTS left is slivers along the edge of the grid cells: nothing to survey
        hz.current = shapely.MultiPolygon()
        return released

    ts_area = float((reduce | remain).sum()) * params.work_cell_m**2
    ts_team = _team_for(operators, ("dog", "machine", "manual"), org_mix, rng)
    kind = operators.team_type[ts_team]
    ts_days = max(2, int(ts_area / (_PRODUCTIVITY[kind] * _TS_SPEEDUP)) + int(rng.integers(1, 8)))
    ts_start = nts_end + dt.timedelta(days=int(rng.integers(10, 90)))
    ts_end = ts_start + dt.timedelta(days=min(ts_days, 240))
    if ts_end > end:
        status = "ongoing" if ts_start <= end else "planned"
        obs.activities.append(
            Activity("TS", h, ts_team, ts_start, None, status, 15.0, "not_required", worked)
        )
        return released
    devices = _devices_in(poly, truth, tree)
    dr, dc = cells.cell_of(truth.x[devices], truth.y[devices])
    flag = np.zeros((cells.rows, cells.cols), dtype=np.int8)
    flag[cells.r[remain], cells.c[remain]] = 1
    in_remain = devices[flag[dr, dc] == 1]
    found = in_remain[rng.random(in_remain.size) < params.ts_find_rate][: params.ts_find_cap]
    if in_remain.size and found.size == 0:
        found = in_remain[: 1 + int(rng.integers(0, min(3, in_remain.size)))]
    reduce_poly = cells.polygon(reduce, poly)
    act = Activity("TS", h, ts_team, ts_start, ts_end, "completed", 15.0, "not_required", worked)
    act.reduced = reduce_poly.area
    obs.activities.append(act)
    a_idx = len(obs.activities) - 1
    if act.reduced > 0:
        obs.releases.append(Release(a_idx, "reduced", ts_end, reduce_poly))
    _record_finds(obs, a_idx, h, found, ts_start, stop=ts_end, truth=truth, rng=rng)
    if found.size:
        hz.type = "CHA"
    remain_poly = cells.polygon(remain, poly)
    hz.current = remain_poly
    if not remain_poly.is_empty:
        left = np.setdiff1d(in_remain, found)
        pending.append(_Pending(h, cells, remain, left, ts_end))
    return released + act.reduced


def _record_finds(
    obs: Observations,
    activity: int,
    hazard: int,
    devices: np.ndarray,
    start: dt.date,
    *,
    stop: dt.date,
    truth: Truth,
    rng: np.random.Generator,
) -> None:
    """Finds of one activity, on days between ``start`` and ``stop``."""
    n = devices.size
    if n == 0:
        return
    days = start.toordinal() + rng.integers(0, max((stop - start).days, 0) + 1, n)
    _add_finds(obs, np.full(n, activity), np.full(n, hazard), devices, days, truth=truth, rng=rng)


def _add_finds(
    obs: Observations,
    activities: np.ndarray,
    hazards: np.ndarray,
    devices: np.ndarray,
    days: np.ndarray,
    *,
    truth: Truth,
    rng: np.random.Generator,
) -> None:
    n = devices.size
    bounds = obs.bounds
    condition, depth, disposal = _find_details(truth, devices, rng)
    obs.finds.add(
        activity=activities.astype(np.int64),
        hazard=hazards.astype(np.int64),
        device=devices.astype(np.int64),
        day=days.astype(np.int64),
        # GPS error of a few metres, never off the map
        x=np.clip(truth.x[devices] + rng.normal(0, 2.0, n), bounds[0], bounds[2]),
        y=np.clip(truth.y[devices] + rng.normal(0, 2.0, n), bounds[1], bounds[3]),
        condition=condition,
        depth_cm=depth,
        disposal=disposal,
    )
    truth.found_on[devices] = days


def _clear(
    obs: Observations,
    p: _Pending,
    start: dt.date,
    end: dt.date,
    truth: Truth,
    *,
    operators: Operators,
    slope_at: Callable[[float, float], float],
    params: SurveyParams,
    rng: np.random.Generator,
) -> float:
    hz = obs.hazards[p.hazard]
    area = float(p.remain.sum()) * params.work_cell_m**2
    c = hz.polygon.representative_point()
    flat = slope_at(c.x, c.y) < 12.0
    kinds = ("machine", "manual", "dog") if flat and rng.random() < 0.5 else ("manual", "dog")
    team = _team_for(operators, kinds, params.org_release_mix, rng)
    kind = operators.team_type[team]
    days = max(3, int(area / _PRODUCTIVITY[kind]) + int(rng.integers(2, 15)))
    stop = start + dt.timedelta(days=min(days, 300))
    worked = as_multi(hz.current)
    depth = 30.0 if hz.contamination in ("AT", "mixed") else 20.0
    if stop > end:
        status = "ongoing" if start <= end else "planned"
        obs.activities.append(
            Activity("clearance", p.hazard, team, start, None, status, depth, "pending", worked)
        )
        return 0.0
    cleared_poly = worked
    qa = "pending" if (end - stop).days < 60 else ("failed" if rng.random() < 0.02 else "passed")
    act = Activity("clearance", p.hazard, team, start, stop, "completed", depth, qa, worked)
    act.cleared = cleared_poly.area
    obs.activities.append(act)
    a_idx = len(obs.activities) - 1
    obs.releases.append(Release(a_idx, "cleared", stop, cleared_poly))
    alive = p.devices[truth.found_on[p.devices] == 0]
    found = alive[rng.random(alive.size) >= params.clearance_miss_rate]
    _record_finds(obs, a_idx, p.hazard, found, start, stop=stop, truth=truth, rng=rng)
    if found.size:
        hz.type = "CHA"
    hz.current = shapely.MultiPolygon()
    return act.cleared


def _eod_callouts(
    obs: Observations,
    truth: Truth,
    operators: Operators,
    settlements: Settlements,
    end: dt.date,
    *,
    rng: np.random.Generator,
) -> None:
    """Items of UXO found by the public near inhabited places, removed by EOD teams."""
    if len(truth) == 0:
        return
    loose = np.isin(truth.category, ["UXO", "AXO", "submunition"]) & (truth.found_on == 0)
    recorded = [as_multi(h.polygon) for h in obs.hazards]
    if recorded:
        in_hazard = np.zeros(len(truth), dtype=bool)
        tree = shapely.STRtree(recorded)
        idx = np.flatnonzero(loose)
        pi, _ = tree.query(shapely.points(truth.x[idx], truth.y[idx]), predicate="intersects")
        in_hazard[idx[np.unique(pi)]] = True
        loose &= ~in_hazard
    people = np.flatnonzero(settlements.population > 0)
    if people.size == 0:
        return
    d, _ = cKDTree(np.column_stack([settlements.x[people], settlements.y[people]])).query(
        np.column_stack([truth.x, truth.y])
    )
    candidates = np.flatnonzero(loose & (d < 3_000.0))
    reported = candidates[rng.random(candidates.size) < 0.3]
    first = dt.date(2021, 2, 1).toordinal()
    box = shapely.box(*obs.bounds)
    days = rng.integers(first, end.toordinal(), reported.size)
    acts = np.empty(reported.size, dtype=np.int64)
    for k, (dev, day) in enumerate(zip(reported.tolist(), days.tolist(), strict=True)):
        when = dt.date.fromordinal(day)
        team = _team_for(operators, ("eod",), (("national_authority", 0.7), ("military", 0.3)), rng)
        circle = shapely.Point(truth.x[dev], truth.y[dev]).buffer(10.0, quad_segs=8)
        spot = as_multi(circle.intersection(box))
        obs.activities.append(
            Activity("EOD", -1, team, when, when, "completed", None, "not_required", spot)
        )
        acts[k] = len(obs.activities) - 1
    if reported.size:
        hazards = np.full(reported.size, -1)
        _add_finds(obs, acts, hazards, reported, days, truth=truth, rng=rng)


_CONTAMINATION = {
    "AP": "AP",
    "AT": "AT",
    "submunition": "CMR",
    "UXO": "UXO",
    "AXO": "UXO",
    "IED": "IED",
}


def _settle_hazards(obs: Observations, truth: Truth) -> None:
    """Status and contamination after the work: closed when nothing is left."""
    found_cats: dict[int, set[str]] = {}
    table = obs.finds.frame
    with_hazard = table[table["hazard"] >= 0]
    cats = truth.category[with_hazard["device"].to_numpy(dtype=np.int64)]
    for h, c in zip(with_hazard["hazard"].tolist(), cats.tolist(), strict=True):
        found_cats.setdefault(int(h), set()).add(_CONTAMINATION[c])
    for h, hz in enumerate(obs.hazards):
        if hz.current is not None and hz.current.area < 1.0:
            hz.status = "closed"
        found = found_cats.get(h)
        if found:
            hz.contamination = next(iter(found)) if len(found) == 1 else "mixed"
