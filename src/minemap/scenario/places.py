"""People and places: settlements, districts and the roads between them.

Settlements are placed where people settle (gentle slopes, near rivers,
below the high mountains), then given a history: west of the 1994-2020 line
they were emptied and mostly ruined, and their displaced inhabitants have a
planned return year; east of it, those near the line were shelled. Roads
are least-cost paths over the coarse terrain grid (steep slopes and river
crossings are dear), so they follow valleys and cross rivers at few bridges:
main roads join towns and the region's exits, secondary roads join every
settlement (a spanning tree of the Delaunay graph), tracks add loops and
reach military positions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy import ndimage
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError

from minemap.scenario.frame import Frame, Grid, uniform
from minemap.scenario.names import NameMaker
from minemap.scenario.presets import PlacesParams
from minemap.scenario.terrain import Terrain, _chaikin


@dataclass
class Settlements:
    x: np.ndarray
    y: np.ndarray
    name: list[str]
    population: np.ndarray  # living there now
    displaced: np.ndarray
    status: list[str]
    planned_return_year: list[int | None]
    former_population: np.ndarray  # before 1993: sets the built-up footprint
    west: np.ndarray  # bool: west of the line of contact
    town: np.ndarray  # bool
    district: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.x.size)

    @property
    def radius_m(self) -> np.ndarray:
        """Radius of the built-up footprint."""
        return 120.0 + 9.0 * np.sqrt(self.former_population)

    def people_in(self, year: int) -> np.ndarray:
        """People living in each settlement during ``year`` (returns counted once due)."""
        due = np.array([r is not None and r <= year for r in self.planned_return_year], dtype=bool)
        return np.where(self.west & ~due, 0.0, self.population.astype(float))


def make_settlements(
    frame: Frame,
    terrain: Terrain,
    line_x_at: Callable[[np.ndarray], np.ndarray],
    params: PlacesParams,
    scenario_year: int,
    *,
    rng: np.random.Generator,
    names: NameMaker,
) -> Settlements:
    """Villages and towns with their population, damage and planned return."""
    grid = terrain.coarse
    dem, slope = terrain.coarse_dem, terrain.coarse_slope
    river_d = grid_sample_fine(terrain, grid)
    # villages take the gentlest ground of their neighbourhood (valley floors in the
    # mountains), and the mountains hold fewer of them than the plains
    local_slope = ndimage.gaussian_filter(slope, 3_000.0 / grid.cell)
    flat_here = np.exp(-((slope / (local_slope + 3.0)) ** 2))
    density = np.interp(dem, [0.0, 600.0, 1_200.0, 1_800.0, 2_400.0], [1.0, 0.8, 0.5, 0.3, 0.03])
    suit = flat_here * density * (1.0 + 1.2 * np.exp(-river_d / 800.0))
    suit[[0, -1], :] *= 0.2  # few settlements right on the rectangle's edge
    suit[:, [0, -1]] *= 0.2
    p = suit.ravel() / suit.sum()
    n_target = max(3, round(params.settlements_per_km2 * frame.area_km2))
    n_towns = round(frame.area_km2 / params.km2_per_town)
    n_cand = 40 * n_target
    cells = rng.choice(p.size, size=n_cand, p=p)
    r, c = np.divmod(cells, grid.cols)
    xs, ys = grid.centres()
    cx = np.clip(xs[c] + rng.uniform(-0.5, 0.5, n_cand) * grid.cell, frame.x0 + 50, frame.x1 - 50)
    cy = np.clip(ys[r] + rng.uniform(-0.5, 0.5, n_cand) * grid.cell, frame.y0 + 50, frame.y1 - 50)
    cand_suit = suit.ravel()[cells]

    chosen_x: list[float] = []
    chosen_y: list[float] = []
    town_flags: list[bool] = []

    def far_enough(x: float, y: float, spacing: float) -> bool:
        if not chosen_x:
            return True
        d2 = (np.asarray(chosen_x) - x) ** 2 + (np.asarray(chosen_y) - y) ** 2
        return bool(d2.min() >= spacing * spacing)

    # towns first, on the best sites, well apart
    for i in np.argsort(-cand_suit, kind="stable").tolist():
        if len(chosen_x) >= n_towns:
            break
        if far_enough(cx[i], cy[i], 9_000.0):
            chosen_x.append(float(cx[i]))
            chosen_y.append(float(cy[i]))
            town_flags.append(True)
    for i in range(n_cand):
        if len(chosen_x) >= n_target:
            break
        if far_enough(cx[i], cy[i], params.min_spacing_m):
            chosen_x.append(float(cx[i]))
            chosen_y.append(float(cy[i]))
            town_flags.append(False)

    x = np.asarray(chosen_x)
    y = np.asarray(chosen_y)
    town = np.asarray(town_flags, dtype=bool)
    n = x.size
    former = np.exp(
        np.log(params.village_median_population)
        + params.village_population_sigma * rng.standard_normal(n)
    )
    former = np.clip(former, 40.0, 5_000.0)
    lo, hi = params.town_population
    former[town] = np.exp(rng.uniform(np.log(lo), np.log(hi), int(town.sum())))
    former = np.round(former / 10.0) * 10.0

    line_x = np.asarray(line_x_at(y))
    west = x < line_x
    dist_line = np.abs(x - line_x)
    population = np.zeros(n, dtype=np.int64)
    displaced = np.zeros(n, dtype=np.int64)
    status: list[str] = []
    planned: list[int | None] = []
    y_lo, y_hi = params.return_years
    for i in range(n):
        if west[i]:
            status.append("ruined" if rng.random() < params.west_ruined_share else "partly_ruined")
            displaced[i] = int(former[i])
            # the return programme starts near the old line and with towns
            closeness = np.exp(-dist_line[i] / 15_000.0)
            weight = 0.65 * closeness + (0.35 if town[i] else 0.0)
            year = y_lo + int(np.floor((1.0 - weight) * rng.uniform(0.2, 1.0) * (y_hi - y_lo + 1)))
            year = min(max(year, y_lo), y_hi)
            planned.append(year)
            if year <= scenario_year - 1:
                years_back = scenario_year - year
                share = uniform(rng, params.returned_share) * min(1.0, years_back / 3.0)
                population[i] = round(former[i] * share)
        elif (
            dist_line[i] < params.east_damaged_within_m
            and rng.random() < 0.75 * (1.0 - dist_line[i] / params.east_damaged_within_m) + 0.15
        ):
            status.append("partly_ruined")
            share = uniform(rng, params.east_displaced_share)
            displaced[i] = round(former[i] * share)
            population[i] = int(former[i]) - int(displaced[i])
            planned.append(int(rng.integers(2021, 2025)))
        else:
            status.append("inhabited")
            population[i] = round(former[i] * rng.uniform(0.95, 1.3))
            planned.append(None)
    settlement_names = [names.settlement() for _ in range(n)]
    return Settlements(
        x=x,
        y=y,
        name=settlement_names,
        population=population,
        displaced=displaced,
        status=status,
        planned_return_year=planned,
        former_population=former,
        west=west,
        town=town,
    )


def grid_sample_fine(terrain: Terrain, grid: Grid) -> np.ndarray:
    """The fine river-distance raster sampled at the coarse grid's centres."""
    xs, ys = grid.centres()
    gx, gy = np.meshgrid(xs, ys)
    return terrain.fine.sample(terrain.river_distance, gx, gy).astype(float)


@dataclass
class Districts:
    geometries: list[shapely.MultiPolygon]
    names: list[str]

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the district holding each point (nearest one on a boundary)."""
        out = np.full(np.asarray(x).shape, -1, dtype=np.int64)
        for i, g in enumerate(self.geometries):
            inside = shapely.contains_xy(g, x, y) & (out < 0)
            out[inside] = i
        missing = out < 0
        if missing.any():
            pts = shapely.points(np.asarray(x)[missing], np.asarray(y)[missing])
            d = np.stack([shapely.distance(g, pts) for g in self.geometries])
            out[missing] = d.argmin(axis=0)
        return out


def make_districts(
    frame: Frame, params: PlacesParams, rng: np.random.Generator, names: NameMaker
) -> Districts:
    """A handful of districts covering the region (Voronoi cells of spread-out seats)."""
    k = max(2, round(frame.area_km2 / params.km2_per_district))
    cand = np.column_stack(
        [rng.uniform(frame.x0, frame.x1, 50 * k), rng.uniform(frame.y0, frame.y1, 50 * k)]
    )
    seats = [cand[0]]
    for _ in range(k - 1):  # farthest-point sampling: districts of similar size
        d = np.min([np.hypot(*(cand - s).T) for s in seats], axis=0)
        seats.append(cand[int(d.argmax())])
    box = shapely.box(*frame.bounds)
    cells = shapely.voronoi_polygons(shapely.multipoints(np.asarray(seats)), extend_to=box)
    geoms: list[shapely.MultiPolygon] = []
    for seat in seats:
        for cell in shapely.get_parts(cells):
            if cell.contains(shapely.Point(seat)):
                clipped = cell.intersection(box)
                geoms.append(shapely.MultiPolygon([clipped]))
                break
    return Districts(geoms, [names.district() for _ in geoms])


ROAD_CLASS = {1: "track", 2: "secondary", 3: "main"}


@dataclass
class Roads:
    geometries: list[shapely.LineString]
    classes: list[str]
    names: list[str | None]
    segments: dict[tuple[int, int], int]  # grid edge -> class code, for later tracks

    def lines(self, classes: tuple[str, ...] | None = None) -> list[shapely.LineString]:
        return [
            g
            for g, c in zip(self.geometries, self.classes, strict=True)
            if classes is None or c in classes
        ]


class Router:
    """Least-cost paths over the coarse grid."""

    def __init__(
        self, terrain: Terrain, river_order: np.ndarray, bounds: tuple[float, float, float, float]
    ) -> None:
        grid = terrain.coarse
        self.grid = grid
        self.bounds = bounds
        slope = terrain.coarse_slope
        cost = 1.0 + (slope / 6.0) ** 2
        cost[slope > 25.0] *= 10.0
        cost[river_order >= 2] *= 8.0
        rows, cols = grid.shape
        idx = np.arange(rows * cols).reshape(rows, cols)
        a_parts, b_parts, w_parts = [], [], []
        for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
            r0, r1 = 0, rows - dr
            c0, c1 = max(0, -dc), cols - max(0, dc)
            a = idx[r0:r1, c0:c1]
            b = idx[r0 + dr : r1 + dr, c0 + dc : c1 + dc]
            step = grid.cell * (np.sqrt(2.0) if dr and dc else 1.0)
            w = step * 0.5 * (cost.ravel()[a.ravel()] + cost.ravel()[b.ravel()])
            a_parts.append(a.ravel())
            b_parts.append(b.ravel())
            w_parts.append(w)
        a_all = np.concatenate(a_parts + b_parts)
        b_all = np.concatenate(b_parts + a_parts)
        w_all = np.concatenate(w_parts + w_parts)
        n = rows * cols
        self.graph: csr_matrix = coo_matrix((w_all, (a_all, b_all)), shape=(n, n)).tocsr()

    def node(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r, c = self.grid.index(x, y)
        return r * self.grid.cols + c

    def paths(self, links: list[tuple[int, int]]) -> list[list[int]]:
        """Cell paths for ``(source, target)`` node pairs, in the order given."""
        by_source: dict[int, list[int]] = {}
        for k, (s, _) in enumerate(links):
            by_source.setdefault(s, []).append(k)
        out: list[list[int]] = [[] for _ in links]
        cols = self.grid.cols
        for s in sorted(by_source):
            ks = by_source[s]
            sr, sc = divmod(s, cols)
            reach = 0.0
            for k in ks:
                tr, tc = divmod(links[k][1], cols)
                reach = max(reach, float(np.hypot(tr - sr, tc - sc)) * self.grid.cell)
            dist, pred = dijkstra(
                self.graph, indices=s, return_predecessors=True, limit=2.5 * reach + 3_000.0
            )
            for k in ks:
                t = links[k][1]
                if not np.isfinite(dist[t]):
                    _, pred_full = dijkstra(self.graph, indices=s, return_predecessors=True)
                    pred = pred_full
                path = [t]
                while path[-1] != s and pred[path[-1]] >= 0:
                    path.append(int(pred[path[-1]]))
                out[k] = path[::-1] if path[-1] == s else []
        return out

    def to_nearest(self, sources: np.ndarray, starts: np.ndarray, max_m: float) -> list[list[int]]:
        """For each start node, the cell path to the nearest of ``sources`` (empty if too far)."""
        dist, pred, _ = dijkstra(
            self.graph, indices=np.unique(sources), return_predecessors=True, min_only=True
        )
        out: list[list[int]] = []
        for t in starts.tolist():
            if not np.isfinite(dist[t]) or dist[t] > max_m:
                out.append([])
                continue
            path = [t]
            while pred[path[-1]] >= 0:
                path.append(int(pred[path[-1]]))
            out.append(path)
        return out


def _delaunay_edges(x: np.ndarray, y: np.ndarray) -> list[tuple[int, int]]:
    n = x.size
    if n < 2:
        return []
    if n < 4:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    try:
        tri = Delaunay(np.column_stack([x, y]))
    except QhullError:
        return [(i, i + 1) for i in range(n - 1)]
    edges: set[tuple[int, int]] = set()
    for a, b, c in tri.simplices.tolist():
        for u, v in ((a, b), (b, c), (a, c)):
            edges.add((min(u, v), max(u, v)))
    return sorted(edges)


def _tree(x: np.ndarray, y: np.ndarray, edges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if not edges:
        return []
    n = x.size
    u = np.array([e[0] for e in edges])
    v = np.array([e[1] for e in edges])
    w = np.hypot(x[u] - x[v], y[u] - y[v]) + 1e-6
    mst = minimum_spanning_tree(coo_matrix((w, (u, v)), shape=(n, n))).tocoo()
    return sorted(
        (min(a, b), max(a, b)) for a, b in zip(mst.row.tolist(), mst.col.tolist(), strict=True)
    )


def make_roads(
    frame: Frame,
    router: Router,
    settlements: Settlements,
    params: PlacesParams,
    rng: np.random.Generator,
) -> Roads:
    """Main roads, secondary roads and tracks joining the settlements."""
    x, y = settlements.x, settlements.y
    nodes = router.node(x, y)
    segments: dict[tuple[int, int], int] = {}

    def add(path: list[int], cls: int) -> None:
        for a, b in itertools.pairwise(path):
            key = (min(a, b), max(a, b))
            if segments.get(key, 0) < cls:
                segments[key] = cls

    # main: towns (or the largest villages) and exits on the east and west edges
    hubs = np.flatnonzero(settlements.town)
    if hubs.size < 2:
        hubs = np.argsort(-settlements.former_population, kind="stable")[:2]
    hx = list(x[hubs])
    hy = list(y[hubs])
    for ex in (frame.x0 + 1.0, frame.x1 - 1.0):
        hx.append(ex)
        hy.append(frame.y0 + frame.height * rng.uniform(0.3, 0.7))
    hx_a, hy_a = np.asarray(hx), np.asarray(hy)
    main_links = _tree(hx_a, hy_a, _delaunay_edges(hx_a, hy_a))
    hub_nodes = router.node(hx_a, hy_a)
    for path in router.paths([(int(hub_nodes[a]), int(hub_nodes[b])) for a, b in main_links]):
        add(path, 3)

    edges = _delaunay_edges(x, y)
    tree = _tree(x, y, edges)
    tree_set = set(tree)
    extra = [
        e
        for e in edges
        if e not in tree_set and np.hypot(x[e[0]] - x[e[1]], y[e[0]] - y[e[1]]) < 6_000.0
    ]
    extra = [e for e in extra if rng.random() < params.extra_road_share]
    links = [(int(nodes[a]), int(nodes[b])) for a, b in tree + extra]
    classes = [2] * len(tree) + [1] * len(extra)
    for path, cls in zip(router.paths(links), classes, strict=True):
        add(path, cls)
    return roads_from_segments(router.grid, segments, router.bounds)


def roads_from_segments(
    grid: Grid, segments: dict[tuple[int, int], int], bounds: tuple[float, float, float, float]
) -> Roads:
    """Merge grid edges into smoothed road lines, one set per class."""
    xs, ys = grid.centres()
    # the last row and column of the coarse grid may overhang the rectangle
    xs = np.clip(xs, bounds[0], bounds[2])
    ys = np.clip(ys, bounds[1], bounds[3])
    geoms: list[shapely.LineString] = []
    classes: list[str] = []
    names: list[str | None] = []
    counters = {3: 0, 2: 0, 1: 0}
    for cls in (3, 2, 1):
        keys = sorted(k for k, v in segments.items() if v == cls)
        if not keys:
            continue
        arr = np.asarray(keys)
        ra, ca = np.divmod(arr[:, 0], grid.cols)
        rb, cb = np.divmod(arr[:, 1], grid.cols)
        coords = np.stack(
            [np.column_stack([xs[ca], ys[ra]]), np.column_stack([xs[cb], ys[rb]])], axis=1
        )
        segments_geom = np.atleast_1d(np.asarray(shapely.linestrings(coords), dtype=object))
        merged = shapely.line_merge(shapely.MultiLineString(list(segments_geom)))
        for part in shapely.get_parts(merged):
            line = shapely.LineString(_chaikin(np.asarray(part.coords)))
            geoms.append(line)
            classes.append(ROAD_CLASS[cls])
            counters[cls] += 1
            if cls == 3:
                names.append(f"M-{counters[cls]}")
            elif cls == 2:
                names.append(f"R-{100 + counters[cls]}")
            else:
                names.append(None)
    return Roads(geoms, classes, names, segments)


def add_tracks_to(
    router: Router, roads: Roads, x: np.ndarray, y: np.ndarray, max_m: float = 6_000.0
) -> Roads:
    """Roads plus a track from the road network to each point (positions are supplied so)."""
    if not roads.segments or x.size == 0:
        return roads
    road_nodes = np.unique(np.asarray(sorted(roads.segments)).ravel())
    segments = dict(roads.segments)
    for path in router.to_nearest(road_nodes, router.node(x, y), max_m):
        for a, b in itertools.pairwise(path):
            key = (min(a, b), max(a, b))
            segments.setdefault(key, 1)
    return roads_from_segments(router.grid, segments, router.bounds)
