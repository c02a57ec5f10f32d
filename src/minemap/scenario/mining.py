"""The truth: every mine and item of unexploded ordnance, laid by doctrine.

* 1994-2020, both sides: anti-personnel belts 30 to 300 m deep in front of
  each position, between it and the line (so on the side facing the enemy),
  several belts deep in the first echelon; anti-tank fields across the roads
  that cross the line and across flat approaches; old mortar bombs and
  grenades around positions.
* 2020: cluster-munition strikes (M095 DPICM fired west of the line, 9N235
  from 9M55K rockets on towns east of it) and unexploded shells in battle
  areas; abandoned caches (AXO) at some positions.
* 2020-2023: nuisance mining of roads, bridge approaches and village edges
  in the formerly occupied zone.

Volumes come from published totals: occupation-period mines per km of line
of contact, post-war mines per km² of the formerly occupied zone (see
:class:`~minemap.scenario.presets.MiningParams`). Every device is generated
with array operations; the Python loops run over minefields, not devices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np
import shapely
from shapely import affinity, ops
from shapely.geometry.base import BaseGeometry

from minemap.scenario.conflict import Battles, Line, Positions
from minemap.scenario.frame import Frame, pick, uniform
from minemap.scenario.places import Roads, Settlements
from minemap.scenario.presets import MiningParams
from minemap.scenario.terrain import Terrain

AP_MODELS = ("PMN-2", "PMN", "PMN-4", "OZM-72", "POMZ-2M", "MON-50", "PMD-6M")
AT_MODELS = ("TM-62M", "TM-57", "TM-62P", "TM-72")
SUBMUNITIONS = ("9N235", "M095 DPICM")
IED_MODEL = "improvised (booby trap)"

OCCUPATION_PERIOD = "1994-2020"
WAR_PERIOD = "2020"
POST_WAR_PERIOD = "2020-2023"


def category_of(model: str) -> str:
    if model in AP_MODELS:
        return "AP"
    if model in AT_MODELS:
        return "AT"
    if model in SUBMUNITIONS:
        return "submunition"
    if model == IED_MODEL:
        return "IED"
    return "UXO"


@dataclass
class Minefield:
    polygon: shapely.Polygon
    pattern: str  # ap_belt, at_field, nuisance, cmr_strike, uxo_scatter
    side: str
    period: str
    position: int = -1  # index of the position it protects (belts)
    models: tuple[str, ...] = ()
    laid_year: int = 0
    record_ref: str | None = None


@dataclass
class Truth:
    """Devices (parallel arrays) and the minefields they belong to."""

    x: np.ndarray
    y: np.ndarray
    minefield: np.ndarray  # index into ``minefields``
    model: np.ndarray  # object
    category: np.ndarray  # object
    laid_year: np.ndarray
    minefields: list[Minefield]
    found_on: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    detonated_on: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.x.size)

    @property
    def period(self) -> np.ndarray:
        periods = np.array([m.period for m in self.minefields], dtype=object)
        return periods[self.minefield]

    def mine_counts(self) -> np.ndarray:
        return np.bincount(self.minefield, minlength=len(self.minefields))


class _Builder:
    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.box = shapely.box(*frame.bounds)
        self.fields: list[Minefield] = []
        self.parts: list[tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray, int]] = []

    def add(
        self,
        mf: Minefield,
        x: np.ndarray,
        y: np.ndarray,
        models: np.ndarray,
        categories: np.ndarray | None = None,
    ) -> None:
        inside = self.frame.inside(x, y)
        if not inside.any():
            return
        poly = mf.polygon.intersection(self.box)
        if poly.is_empty:
            return
        if not isinstance(poly, shapely.Polygon):
            poly = max(shapely.get_parts(poly), key=lambda g: g.area)
        mf.polygon = poly
        cats = (
            np.array([category_of(m) for m in models], dtype=object)
            if categories is None
            else categories
        )
        self.parts.append(
            (x[inside], y[inside], len(self.fields), models[inside], cats[inside], mf.laid_year)
        )
        self.fields.append(mf)

    def build(self) -> Truth:
        if not self.parts:
            empty = np.zeros(0)
            return Truth(
                empty,
                empty,
                empty.astype(np.int64),
                empty.astype(object),
                empty.astype(object),
                empty.astype(np.int64),
                [],
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
            )
        x = np.concatenate([p[0] for p in self.parts])
        y = np.concatenate([p[1] for p in self.parts])
        mf = np.concatenate([np.full(p[0].size, p[2], dtype=np.int64) for p in self.parts])
        model = np.concatenate([p[3] for p in self.parts])
        cat = np.concatenate([p[4] for p in self.parts])
        year = np.concatenate([np.full(p[0].size, p[5], dtype=np.int64) for p in self.parts])
        n = x.size
        return Truth(
            x, y, mf, model, cat, year, self.fields, np.zeros(n, np.int64), np.zeros(n, np.int64)
        )


def _local_to_world(
    ox: float, oy: float, ux: float, uy: float, along: np.ndarray, *, forward: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Points at ``along`` (perpendicular to the unit facing ``u``) and ``forward`` (along it)."""
    ax, ay = uy, -ux  # 90 degrees clockwise of the facing
    return ox + along * ax + forward * ux, oy + along * ay + forward * uy


def _band(
    ox: float, oy: float, ux: float, uy: float, half: float, *, f0: float, f1: float
) -> shapely.Polygon:
    along = np.array([-half, half, half, -half])
    forward = np.array([f0, f0, f1, f1])
    x, y = _local_to_world(ox, oy, ux, uy, along, forward=forward)
    return shapely.Polygon(np.column_stack([x, y]))


def _sub_mix(
    rng: np.random.Generator, mix: tuple[tuple[str, float], ...], k_max: int
) -> tuple[tuple[str, float], ...]:
    """A minefield's own few models, drawn from the preset's mix."""
    weights = np.array([m[1] for m in mix])
    k = int(rng.integers(1, k_max + 1))
    idx = rng.choice(len(mix), size=min(k, len(mix)), replace=False, p=weights / weights.sum())
    return tuple((mix[i][0], float(rng.uniform(0.3, 1.0)) * mix[i][1]) for i in sorted(idx))


def _occupation_year(rng: np.random.Generator) -> int:
    # first laid after the 1994 ceasefire, reinforced after the April 2016 escalation
    years = np.arange(1994, 2020)
    w = np.ones(years.size)
    w[:3] = 4.0
    w[-4:] = 3.0
    return int(rng.choice(years, p=w / w.sum()))


@dataclass
class _Belt:
    position: int
    ox: float
    oy: float
    ux: float
    uy: float
    half: float
    f0: float
    f1: float
    rows: int
    side: str


def _plan_belts(
    positions: Positions, params: MiningParams, rng: np.random.Generator, side: str
) -> list[_Belt]:
    belts: list[_Belt] = []
    for i in np.flatnonzero(positions.side == side).tolist():
        echelon = int(positions.echelon[i])
        if echelon == 1:
            n_belts = int(
                rng.integers(params.belts_per_position[0], params.belts_per_position[1] + 1)
            )
            half = 0.5 * positions.frontage[i] * rng.uniform(0.75, 1.0)
            depth_hi = params.belt_depth_m[1]
            room = positions.offset[i] - 40.0
        else:
            if rng.random() > 0.6:
                continue
            n_belts = 1
            half = 0.5 * rng.uniform(200.0, 500.0)
            depth_hi = 150.0
            room = min(positions.offset[i] - 40.0, 600.0)
        f = uniform(rng, params.belt_standoff_m)
        if side == "east":
            n_belts = min(n_belts, 1)  # the east side mined less deeply
        for _ in range(n_belts):
            # most belts are shallow; a few reach the full depth
            depth = params.belt_depth_m[0] + (depth_hi - params.belt_depth_m[0]) * rng.random() ** 2
            if f + depth > room:
                depth = room - f
            if depth < params.belt_depth_m[0]:
                break
            rows = int(np.clip(round(depth / 40.0), 2, 6))
            belts.append(
                _Belt(
                    i,
                    float(positions.x[i]),
                    float(positions.y[i]),
                    float(positions.nx[i]),
                    float(positions.ny[i]),
                    float(half),
                    float(f),
                    float(f + depth),
                    rows,
                    side,
                )
            )
            f += depth + uniform(rng, params.belt_gap_m)
    return belts


def _lay_belts(
    b: _Builder, belts: list[_Belt], total: int, params: MiningParams, rng: np.random.Generator
) -> None:
    if not belts or total <= 0:
        return
    weights = np.array([2 * bt.half * bt.rows for bt in belts])
    counts = rng.multinomial(total, weights / weights.sum())
    for bt, n in zip(belts, counts.tolist(), strict=True):
        if n == 0:
            continue
        row = np.arange(n) % bt.rows
        per_row = np.bincount(row, minlength=bt.rows)
        k = np.concatenate([np.arange(c) for c in per_row])
        row_sorted = np.repeat(np.arange(bt.rows), per_row)
        along = -bt.half + 2 * bt.half * (k + rng.uniform(0.1, 0.9, n)) / per_row[row_sorted]
        depth = bt.f1 - bt.f0
        forward = bt.f0 + depth * (row_sorted + 0.5) / bt.rows + rng.normal(0.0, 2.0, n)
        forward = np.clip(forward, bt.f0, bt.f1)
        x, y = _local_to_world(bt.ox, bt.oy, bt.ux, bt.uy, along, forward=forward)
        mix = _sub_mix(rng, params.ap_models, 3)
        models = pick(rng, mix, n)
        mf = Minefield(
            _band(bt.ox, bt.oy, bt.ux, bt.uy, bt.half, f0=bt.f0, f1=bt.f1),
            "ap_belt",
            bt.side,
            OCCUPATION_PERIOD,
            position=bt.position,
            models=tuple(sorted({m for m, _ in mix})),
            laid_year=_occupation_year(rng),
        )
        b.add(mf, x, y, models)


def _lay_at_fields(
    b: _Builder,
    sites: list[tuple[float, float, float, float, str]],
    total: int,
    params: MiningParams,
    rng: np.random.Generator,
) -> None:
    """AT fields at ``(x, y, ux, uy, side)`` sites; ``u`` points across the field's depth."""
    if not sites or total <= 0:
        return
    widths = uniform(rng, params.at_field_width_m, len(sites))
    depths = uniform(rng, params.at_field_depth_m, len(sites))
    rows = np.clip(np.round(depths / 45.0), 2, 4).astype(int)
    counts = rng.multinomial(total, (widths * rows) / (widths * rows).sum())
    for (cx, cy, ux, uy, side), w, d, r, n in zip(
        sites, widths, depths, rows.tolist(), counts.tolist(), strict=True
    ):
        if n == 0:
            continue
        row = np.arange(n) % r
        along = rng.uniform(-w / 2, w / 2, n)
        forward = -d / 2 + d * (row + 0.5) / r + rng.normal(0.0, 1.5, n)
        x, y = _local_to_world(cx, cy, ux, uy, along, forward=forward)
        mix = _sub_mix(rng, params.at_models, 2)
        models = pick(rng, mix, n)
        # anti-handling: a few AP mines among the AT rows
        ap = rng.random(n) < 0.06
        models[ap] = "PMN-2"
        mf = Minefield(
            _band(cx, cy, ux, uy, w / 2, f0=-d / 2, f1=d / 2),
            "at_field",
            side,
            OCCUPATION_PERIOD,
            models=tuple(sorted(set(models.tolist()))),
            laid_year=_occupation_year(rng),
        )
        b.add(mf, x, y, models)


def _road_crossings(roads: Roads, line: Line) -> list[tuple[float, float, float, float]]:
    """Where roads cross the line: point and the road's unit direction there."""
    out: list[tuple[float, float, float, float]] = []
    for g in roads.geometries:
        hit = g.intersection(line.geometry)
        for p in shapely.get_parts(hit):
            if not isinstance(p, shapely.Point):
                continue
            s = g.project(p)
            a = g.interpolate(max(s - 80.0, 0.0))
            c = g.interpolate(min(s + 80.0, g.length))
            dx, dy = c.x - a.x, c.y - a.y
            norm = float(np.hypot(dx, dy))
            if norm < 1.0:
                continue
            out.append((p.x, p.y, dx / norm, dy / norm))
    return sorted(out)


def _at_sites(
    line: Line,
    roads: Roads,
    terrain: Terrain,
    params: MiningParams,
    rng: np.random.Generator,
    *,
    side: str,
    n_wanted: int,
) -> list[tuple[float, float, float, float, str]]:
    sign = -1.0 if side == "west" else 1.0
    sites: list[tuple[float, float, float, float, str]] = []
    for px, py, dx, dy in _road_crossings(roads, line):
        if len(sites) >= n_wanted:
            break
        # orient the road so it runs towards the enemy, then step back onto our side
        if dx * -sign < 0:
            dx, dy = -dx, -dy
        off = rng.uniform(150.0, 420.0)
        sites.append((px - dx * off, py - dy * off, dx, dy, side))
    length = line.geometry.length
    tries = 0
    while len(sites) < n_wanted and tries < 30 * max(n_wanted, 1):
        tries += 1
        s = rng.uniform(0.0, length)
        px, py, nx, ny = (v[0] for v in line.frame_at(np.array([s])))
        # the ground the enemy would cross: 300 m on the enemy's side of the line
        qx, qy = px - sign * 300.0 * nx, py - sign * 300.0 * ny
        slope = float(terrain.coarse.sample(terrain.coarse_slope, qx, qy))
        if slope > params.at_flat_slope_deg:
            continue
        off = rng.uniform(150.0, 450.0)
        fx, fy = -sign * nx, -sign * ny  # facing the enemy
        sites.append((px + sign * off * nx, py + sign * off * ny, fx, fy, side))
    return sites


def _lay_position_uxo(
    b: _Builder, positions: Positions, params: MiningParams, rng: np.random.Generator
) -> None:
    uxo_models = params.uxo_models
    for i in range(len(positions)):
        n = int(rng.integers(params.position_uxo[0], params.position_uxo[1] + 1))
        if n > 0:
            r = rng.gamma(2.0, 25.0, n)
            a = rng.uniform(0, 2 * np.pi, n)
            x = positions.x[i] + r * np.cos(a)
            y = positions.y[i] + r * np.sin(a)
            hull = _hull(x, y, 25.0)
            models = pick(rng, uxo_models[2:], n)  # mortar bombs and grenades
            mf = Minefield(
                hull,
                "uxo_scatter",
                str(positions.side[i]),
                OCCUPATION_PERIOD,
                laid_year=int(rng.integers(1994, 2020)),
            )
            b.add(mf, x, y, models)
        if positions.side[i] == "west" and rng.random() < params.axo_share_of_positions:
            n = int(rng.integers(5, 41))
            x = positions.x[i] + rng.normal(0, 8.0, n)
            y = positions.y[i] + rng.normal(0, 8.0, n)
            hull = _hull(x, y, 15.0)
            models = pick(rng, uxo_models, n)
            mf = Minefield(hull, "uxo_scatter", "west", WAR_PERIOD, laid_year=2020)
            b.add(mf, x, y, models, np.full(n, "AXO", dtype=object))


def _hull(x: np.ndarray, y: np.ndarray, margin: float) -> shapely.Polygon:
    """The convex hull of scattered items, with a margin: the area they contaminate."""
    hull = shapely.MultiPoint(np.column_stack([x, y])).convex_hull.buffer(margin)
    return cast(shapely.Polygon, hull)


def _random_in(poly: shapely.Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    x0, y0, x1, y1 = poly.bounds
    out = np.zeros((0, 2))
    for _ in range(50):
        if len(out) >= n:
            break
        m = max(4 * (n - len(out)), 16)
        pts = np.column_stack([rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)])
        ok = shapely.contains_xy(poly, pts[:, 0], pts[:, 1])
        out = np.vstack([out, pts[ok]])
    return out[:n]


_INTENSITY = {"high": 1.0, "medium": 0.55, "low": 0.3}


def _lay_battles(
    b: _Builder, battles: Battles, params: MiningParams, rng: np.random.Generator
) -> None:
    for poly, level, west in zip(battles.areas, battles.intensity, battles.west, strict=True):
        k = _INTENSITY[level]
        km2 = poly.area / 1e6
        n_strikes = int(rng.poisson(params.cmr_strikes_per_km2 * km2 * k))
        model = "M095 DPICM" if west else "9N235"
        side = "east" if west else "west"  # who fired into it
        for c in _random_in(poly, n_strikes, rng):
            a, bb = rng.uniform(80.0, 200.0), rng.uniform(50.0, 120.0)
            theta = rng.uniform(0, np.pi)
            subs = int(rng.integers(*params.submunitions_per_strike))
            duds = int(rng.binomial(subs, uniform(rng, params.submunition_dud_rate)))
            if duds == 0:
                continue
            r = np.sqrt(rng.random(duds))
            phi = rng.uniform(0, 2 * np.pi, duds)
            lx, ly = a * r * np.cos(phi), bb * r * np.sin(phi)
            x = c[0] + lx * np.cos(theta) - ly * np.sin(theta)
            y = c[1] + lx * np.sin(theta) + ly * np.cos(theta)
            ellipse = affinity.rotate(
                affinity.scale(shapely.Point(c).buffer(1.0, quad_segs=24), a * 1.1, bb * 1.1),
                theta,
                use_radians=True,
            )
            mf = Minefield(ellipse, "cmr_strike", side, WAR_PERIOD, models=(model,), laid_year=2020)
            b.add(mf, x, y, np.full(duds, model, dtype=object))
        n_items = int(rng.poisson(params.uxo_per_km2_battle * km2 * k))
        if n_items == 0:
            continue
        n_clusters = max(1, round(km2 / 0.6))
        centres = _random_in(poly, n_clusters, rng)
        sizes = rng.multinomial(n_items, np.full(len(centres), 1.0 / len(centres)))
        for c, n in zip(centres, sizes.tolist(), strict=True):
            if n == 0:
                continue
            spread = rng.uniform(30.0, 80.0)
            x = c[0] + rng.normal(0, spread, n)
            y = c[1] + rng.normal(0, spread, n)
            hull = _hull(x, y, 25.0)
            mf = Minefield(hull, "uxo_scatter", side, WAR_PERIOD, laid_year=2020)
            b.add(mf, x, y, pick(rng, params.uxo_models, n))


def _post_war_year(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice([2020, 2021, 2022, 2023], size=n, p=[0.1, 0.35, 0.35, 0.2])


def _points_along(
    line: shapely.LineString, t: np.ndarray, lateral: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    p = shapely.get_coordinates(shapely.line_interpolate_point(line, t))
    q = shapely.get_coordinates(
        shapely.line_interpolate_point(line, np.minimum(t + 5.0, line.length))
    )
    r = shapely.get_coordinates(shapely.line_interpolate_point(line, np.maximum(t - 5.0, 0.0)))
    d = q - r
    d /= np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    return p[:, 0] - d[:, 1] * lateral, p[:, 1] + d[:, 0] * lateral


def _lay_nuisance(
    b: _Builder,
    west_zone: BaseGeometry,
    roads: Roads,
    bridges: list[shapely.Point],
    settlements: Settlements,
    *,
    total: int,
    params: MiningParams,
    rng: np.random.Generator,
) -> None:
    if total <= 0:
        return
    west_roads: list[shapely.LineString] = []
    weights: list[float] = []
    class_weight = {"main": 0.5, "secondary": 1.0, "track": 1.4}
    for g, c in zip(roads.geometries, roads.classes, strict=True):
        part = g.intersection(west_zone)
        for p in shapely.get_parts(part):
            if isinstance(p, shapely.LineString) and p.length > 200.0:
                west_roads.append(p)
                weights.append(p.length * class_weight[c])
    road_p = np.asarray(weights) / sum(weights) if weights else None
    villages = np.flatnonzero(settlements.west)
    bridge_order = list(rng.permutation(len(bridges))) if bridges else []
    laid = 0
    guard = 0
    while laid < total and guard < 100_000:
        guard += 1
        kind = str(pick(rng, params.nuisance_mix, 1)[0])
        if kind == "bridge" and not bridge_order:
            kind = "road"
        if kind == "village_edge" and villages.size == 0:
            kind = "road"
        if kind == "road" and road_p is None:
            break
        if kind == "road":
            g = west_roads[int(rng.choice(len(west_roads), p=road_p))]
            length = rng.uniform(80.0, 400.0)
            s = rng.uniform(0.0, max(g.length - length, 1.0))
            seg = cast(shapely.LineString, ops.substring(g, s, min(s + length, g.length)))
            n = max(3, int(seg.length * rng.uniform(0.1, 0.5)))
            t = rng.uniform(0.0, seg.length, n)
            lateral = rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 4.0, n)
            x, y = _points_along(seg, t, lateral)
            poly = seg.buffer(8.0)
        elif kind == "bridge":
            bp = bridges[bridge_order.pop()]
            near = [g for g in west_roads if g.distance(bp) < 5.0]
            if not near:
                continue
            g = near[0]
            s = g.project(bp)
            seg = cast(
                shapely.LineString, ops.substring(g, max(s - 150.0, 0.0), min(s + 150.0, g.length))
            )
            n = int(rng.integers(20, 81))
            t = rng.uniform(0.0, seg.length, n)
            mid = seg.project(bp)
            t = np.where(np.abs(t - mid) < 12.0, t + 25.0 * np.sign(t - mid + 1e-9), t)
            t = np.clip(t, 0.0, seg.length)
            x, y = _points_along(seg, t, rng.normal(0.0, 3.0, n))
            poly = seg.buffer(10.0)
        else:
            i = int(rng.choice(villages))
            radius = float(settlements.radius_m[i]) + rng.uniform(30.0, 150.0)
            arc = rng.uniform(200.0, 800.0)
            start = rng.uniform(0.0, 2 * np.pi)
            span = min(arc / radius, 2 * np.pi)
            n = max(5, int(arc * rng.uniform(0.15, 0.4)))
            ang = start + span * rng.random(n)
            rr = radius + rng.normal(0.0, 8.0, n)
            x = settlements.x[i] + rr * np.cos(ang)
            y = settlements.y[i] + rr * np.sin(ang)
            a = start + np.linspace(0.0, span, 32)
            arc_line = shapely.LineString(
                np.column_stack(
                    [settlements.x[i] + radius * np.cos(a), settlements.y[i] + radius * np.sin(a)]
                )
            )
            poly = arc_line.buffer(22.0)
        models = pick(rng, params.nuisance_models, len(x))
        models[models == "IED"] = IED_MODEL
        year = int(_post_war_year(rng, 1)[0])
        mf = Minefield(poly, "nuisance", "west", POST_WAR_PERIOD, laid_year=year)
        b.add(mf, np.asarray(x), np.asarray(y), models)
        laid += len(x)


def bridges_of(roads: Roads, terrain: Terrain) -> list[shapely.Point]:
    """Where roads cross rivers of order 2 and more."""
    rivers = [
        g for g, o in zip(terrain.rivers.geometries, terrain.rivers.orders, strict=True) if o >= 2
    ]
    if not rivers or not roads.geometries:
        return []
    river_union = shapely.union_all(rivers)
    points: list[shapely.Point] = []
    for g, c in zip(roads.geometries, roads.classes, strict=True):
        if c == "track":
            continue
        for p in shapely.get_parts(g.intersection(river_union)):
            if isinstance(p, shapely.Point):
                points.append(p)
    return sorted(points, key=lambda p: (p.x, p.y))


def lay_mines(
    frame: Frame,
    line: Line,
    positions: Positions,
    roads: Roads,
    bridges: list[shapely.Point],
    *,
    settlements: Settlements,
    battles: Battles,
    terrain: Terrain,
    params: MiningParams,
    reference_area_km2: float,
    rng: np.random.Generator,
) -> Truth:
    """Every device of the scenario, laid by doctrine."""
    b = _Builder(frame)
    line_km = line.geometry.length / 1000.0
    occupation = params.occupation_mines * line_km / params.line_of_contact_km
    mix = dict(params.occupation_mix)
    share = {k: v / sum(mix.values()) for k, v in mix.items()}
    west_all = _plan_belts(positions, params, rng, "west")
    west_first = [bt for bt in west_all if positions.echelon[bt.position] == 1]
    west_second = [bt for bt in west_all if positions.echelon[bt.position] == 2]
    _lay_belts(b, west_first, int(occupation * share["first_echelon_ap"]), params, rng)
    _lay_belts(b, west_second, int(occupation * share["second_echelon_ap"]), params, rng)
    at_total = int(occupation * share["at_fields"])
    sites = _at_sites(
        line, roads, terrain, params, rng, side="west", n_wanted=max(1, at_total // 600)
    )
    _lay_at_fields(b, sites, at_total, params, rng)

    east_total = occupation * params.east_side_ratio
    east_belts = [
        bt
        for bt in _plan_belts(positions, params, rng, "east")
        if positions.echelon[bt.position] == 1
    ]
    _lay_belts(b, east_belts, int(east_total * 0.8), params, rng)
    east_at = int(east_total * 0.2)
    _lay_at_fields(
        b,
        _at_sites(line, roads, terrain, params, rng, side="east", n_wanted=max(1, east_at // 600)),
        east_at,
        params,
        rng,
    )
    _lay_position_uxo(b, positions, params, rng)
    _lay_battles(b, battles, params, rng)

    box = shapely.box(*frame.bounds)
    west_zone = box.intersection(
        shapely.Polygon(
            np.vstack(
                [
                    np.column_stack([line.x, line.y]),
                    [[frame.x0 - 10_000.0, line.y[-1]], [frame.x0 - 10_000.0, line.y[0]]],
                ]
            )
        )
    )
    post_war = int(params.post_war_mines * (west_zone.area / 1e6) / reference_area_km2)
    _lay_nuisance(b, west_zone, roads, bridges, settlements, total=post_war, params=params, rng=rng)
    return b.build()
