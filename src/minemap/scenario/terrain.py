"""Terrain and drainage: the DEM, the rivers that follow it.

The relief is built on a coarse grid (``hydro_cell_m``, 150 m by default)
from a west-to-east profile (crest, foothills, plains) plus fractal noise
whose amplitude grows with the mountains and whose spectrum falls as real
topography's does (so slopes stay gentle on the plains and moderate in the
foothills; see :class:`~minemap.scenario.presets.TerrainParams` for the
slope distribution aimed at). Drainage is routed with a
priority flood (which also fills pits, so every cell drains to the edge),
valleys are incised along large catchments, and the network is routed once
more to give the rivers. The raster DEM is the coarse relief resampled to the
output cell, with fine noise and the river channels cut into it, so rivers
run in valley floors.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import shapely
from rasterio import features
from scipy import ndimage

from minemap.scenario.frame import Frame, Grid
from minemap.scenario.names import NameMaker
from minemap.scenario.presets import TerrainParams


def fractal_noise(
    rng: np.random.Generator, shape: tuple[int, int], cell: float, corr_m: float, beta: float
) -> np.ndarray:
    """Zero-mean, unit-variance noise with a power-law spectrum, flat beyond ``corr_m``."""
    rows, cols = shape
    ky = np.fft.fftfreq(rows, d=cell)
    kx = np.fft.rfftfreq(cols, d=cell)
    k2 = ky[:, None] ** 2 + kx[None, :] ** 2
    amplitude = (k2 + (1.0 / corr_m) ** 2) ** (-beta / 4.0)
    spectrum = rng.standard_normal(k2.shape) + 1j * rng.standard_normal(k2.shape)
    field = np.fft.irfft2(spectrum * amplitude, s=shape)
    field -= field.mean()
    std = field.std()
    return field / std if std > 0 else field


def noise_1d(rng: np.random.Generator, n: int, step: float, corr_m: float) -> np.ndarray:
    """Zero-mean, unit-variance 1-D noise, smooth at scales below ``corr_m``."""
    k = np.fft.rfftfreq(n, d=step)
    amplitude = (k**2 + (1.0 / corr_m) ** 2) ** (-1.0)
    spectrum = rng.standard_normal(k.shape) + 1j * rng.standard_normal(k.shape)
    line = np.fft.irfft(spectrum * amplitude, n=n)
    line -= line.mean()
    std = line.std()
    return line / std if std > 0 else line


def smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclass
class Drainage:
    """Flow routing on a grid: each cell's downstream cell and the routing order."""

    parent: np.ndarray  # flat index of the downstream cell, -1 at outlets
    order: np.ndarray  # flat indices from outlets upstream (a topological order)
    accumulation: np.ndarray  # contributing cells, including the cell itself


def route(z: np.ndarray) -> Drainage:
    """Priority-flood routing (Barnes et al. 2014): fills pits, drains every cell to the edge.

    Each cell drains to the neighbour from which the flood reached it, which
    is its lowest neighbour outside pits and the spill path inside them.
    """
    rows, cols = z.shape
    width = cols + 2
    # a closed ring of sentinels around the grid saves bounds checks in the loop
    padded = np.full((rows + 2, width), np.inf)
    padded[1:-1, 1:-1] = z
    elev = padded.ravel().tolist()
    closed = bytearray(padded.size)
    ring = np.ones((rows + 2, width), dtype=bool)
    ring[1:-1, 1:-1] = False
    for k in np.flatnonzero(ring).tolist():
        closed[k] = 1
    edge = np.zeros((rows + 2, width), dtype=bool)
    edge[1:-1, 1:-1] = True
    edge[2:-2, 2:-2] = False
    edge_cells = np.flatnonzero(edge).tolist()
    heap = [(elev[i], i) for i in edge_cells]
    for i in edge_cells:
        closed[i] = 1
    heapq.heapify(heap)
    parent = [-1] * padded.size
    order: list[int] = []
    offsets = (-width - 1, -width, -width + 1, -1, 1, width - 1, width, width + 1)
    push, pop = heapq.heappush, heapq.heappop
    while heap:
        level, c = pop(heap)
        order.append(c)
        for o in offsets:
            n = c + o
            if closed[n]:
                continue
            closed[n] = 1
            e = elev[n]
            if e <= level:  # a pit: raise it just above the spill level so it drains
                e = level + 1e-3
                elev[n] = e
            parent[n] = c
            push(heap, (e, n))
    # back to unpadded flat indices
    order_arr = np.asarray(order, dtype=np.int64)
    parent_arr = np.asarray(parent, dtype=np.int64)
    o_r, o_c = np.divmod(order_arr, width)
    flat = (o_r - 1) * cols + (o_c - 1)
    pr, pc = np.divmod(parent_arr[order_arr], width)
    par = np.where(parent_arr[order_arr] >= 0, (pr - 1) * cols + (pc - 1), -1)
    parent_flat = np.full(rows * cols, -1, dtype=np.int64)
    parent_flat[flat] = par
    acc = np.ones(rows * cols)
    acc_list = acc.tolist()
    par_list = parent_flat.tolist()
    for i in flat[::-1].tolist():
        p = par_list[i]
        if p >= 0:
            acc_list[p] += acc_list[i]
    return Drainage(parent_flat, flat, np.asarray(acc_list).reshape(rows, cols))


@dataclass
class Rivers:
    geometries: list[shapely.LineString]
    orders: list[int]
    names: list[str | None]


def _chaikin(coords: np.ndarray, iterations: int = 2) -> np.ndarray:
    """Corner-cutting smoothing that keeps both end points (junctions stay joined)."""
    for _ in range(iterations):
        if len(coords) < 3:
            return coords
        q = 0.75 * coords[:-1] + 0.25 * coords[1:]
        r = 0.25 * coords[:-1] + 0.75 * coords[1:]
        mid = np.empty((2 * (len(coords) - 1), 2))
        mid[0::2] = q
        mid[1::2] = r
        coords = np.vstack([coords[:1], mid[1:-1], coords[-1:]])
    return coords


def extract_rivers(
    grid: Grid,
    drainage: Drainage,
    min_cells: float,
    names: NameMaker,
    bounds: tuple[float, float, float, float],
) -> tuple[Rivers, np.ndarray]:
    """River reaches (Strahler order) from cells draining at least ``min_cells`` cells."""
    acc = drainage.accumulation.ravel()
    river = acc >= min_cells
    strahler = np.zeros(acc.size, dtype=np.int64)
    top = np.zeros(acc.size, dtype=np.int64)  # highest order flowing in
    count_top = np.zeros(acc.size, dtype=np.int64)
    parent = drainage.parent
    # upstream first: every tributary's order is known before its junction
    for i in drainage.order[::-1][river[drainage.order[::-1]]].tolist():
        if top[i] == 0:
            strahler[i] = 1
        else:
            strahler[i] = top[i] + 1 if count_top[i] > 1 else top[i]
        p = int(parent[i])
        if p >= 0 and river[p]:
            s = strahler[i]
            if s > top[p]:
                top[p] = s
                count_top[p] = 1
            elif s == top[p]:
                count_top[p] += 1
    # a reach starts where no inflow has its order and runs down while the order holds
    same_inflow = np.zeros(acc.size, dtype=bool)
    idx = np.flatnonzero(river)
    par = parent[idx]
    ok = par >= 0
    same = ok.copy()
    same[ok] = strahler[par[ok]] == strahler[idx[ok]]
    same_inflow[par[same]] = True
    starts = idx[~same_inflow[idx]]
    xs, ys = grid.centres()
    # the last row and column of the coarse grid may overhang the rectangle
    xs = np.clip(xs, bounds[0], bounds[2])
    ys = np.clip(ys, bounds[1], bounds[3])
    geoms: list[shapely.LineString] = []
    orders: list[int] = []
    for s in starts.tolist():
        k = int(strahler[s])
        cells = [s]
        c = s
        while True:
            p = int(parent[c])
            if p < 0:
                break
            cells.append(p)
            if strahler[p] != k:
                break
            c = p
        if len(cells) < 2:
            continue
        arr = np.asarray(cells)
        r, col = np.divmod(arr, grid.cols)
        coords = np.column_stack([xs[col], ys[r]])
        geoms.append(shapely.LineString(_chaikin(coords)))
        orders.append(k)
    max_order = max(orders, default=0)
    river_names: list[str | None] = [
        names.river() if o >= max(2, max_order - 1) else None for o in orders
    ]
    return Rivers(geoms, orders, river_names), strahler.reshape(grid.shape)


@dataclass
class Terrain:
    coarse: Grid
    coarse_dem: np.ndarray  # metres, float64
    coarse_slope: np.ndarray  # degrees
    foothill_y: np.ndarray  # northings of the foothill axis samples
    foothill_x: np.ndarray  # eastings of the foothill axis at those northings
    drainage: Drainage
    rivers: Rivers
    river_order: np.ndarray  # Strahler order of each coarse cell (0 off the network)
    fine: Grid
    dem: np.ndarray  # float32 metres at the output cell
    river_distance: np.ndarray  # metres from the nearest river, output cell, float32

    def foothill_at(self, y: np.ndarray) -> np.ndarray:
        return np.interp(y, self.foothill_y, self.foothill_x)


def slope_degrees(dem: np.ndarray, cell: float) -> np.ndarray:
    gy, gx = np.gradient(dem, cell)
    return np.degrees(np.arctan(np.hypot(gx, gy)))


def make_terrain(
    frame: Frame,
    params: TerrainParams,
    meander_m: float,
    rng: np.random.Generator,
    rng_hydro: np.random.Generator,
) -> Terrain:
    """The DEM and rivers of the scenario rectangle."""
    hcell = max(params.hydro_cell_m, float(np.sqrt(frame.width * frame.height / 300_000.0)))
    hcell = float(np.ceil(hcell / 10.0) * 10.0)
    coarse = frame.grid(hcell)
    xs, ys = coarse.centres()

    # the foothill axis: the mean easting of the line of contact, meandering
    # drawn over a fixed 200 km so its amplitude does not depend on the rectangle's size
    step = 100.0
    half = max(100_000.0, frame.height / 2 + 10_000.0)
    mid = (frame.y0 + frame.y1) / 2
    fy = np.arange(mid - half, mid + half + step, step)
    meander = meander_m * noise_1d(rng, fy.size, step, 25_000.0)
    # centred on the rectangle, so even a small one has the line crossing it where planned
    inside = (fy >= frame.y0) & (fy <= frame.y1)
    fx = frame.line_x + meander - meander[inside].mean()
    axis = np.interp(ys, fy, fx)

    u = (axis[:, None] - xs[None, :]) / 1000.0  # km west of the axis (negative east)
    east = params.plains_elevation_m + (params.line_elevation_m - params.plains_elevation_m) * (
        np.exp(np.minimum(u, 0.0) / 12.0)
    )
    rise = 11.0 * np.clip(u, 0.0, None)  # foothill slope, about 11 m per km
    ramp = smoothstep((u - params.mountain_front_km) / params.mountain_width_km) ** 1.15
    mountains = (params.crest_elevation_m - params.line_elevation_m - 11.0 * 36.0) * ramp
    base = east + rise + mountains
    m = smoothstep((u - params.mountain_front_km + 4.0) / (0.6 * params.mountain_width_km))
    relief = params.relief_plains_m + (params.relief_mountains_m - params.relief_plains_m) * m
    beta = params.relief_spectrum
    broad = fractal_noise(rng, coarse.shape, hcell, 14_000.0, beta)
    ridged = 1.0 - np.abs(fractal_noise(rng, coarse.shape, hcell, 7_000.0, beta))
    ridged = (ridged - ridged.mean()) / ridged.std()
    w = params.ridge_share
    dem = base + relief * ((1.0 - w) * broad + w * (m * ridged + (1 - m) * broad))
    dem = np.maximum(dem, 40.0)

    cell_km2 = hcell * hcell / 1e6
    valley_sigma = max(params.valley_halfwidth_m / hcell, 0.5)
    for _ in range(2):
        drainage = route(dem)
        area = drainage.accumulation * cell_km2
        cut = params.erosion_depth_m * (0.08 + 0.92 * m) * (area / (area + 40.0)) ** 0.7
        dem = dem - ndimage.gaussian_filter(cut, valley_sigma)
    dem = np.maximum(dem, 20.0)
    drainage = route(dem)
    names = NameMaker(rng_hydro)
    rivers, strahler = extract_rivers(
        coarse, drainage, params.river_min_catchment_km2 / cell_km2, names, frame.bounds
    )

    # the output DEM: resampled relief, fine detail, river channels cut in
    fine = frame.grid()
    fx_cols, fy_rows = fine.centres()
    col_f = (fx_cols - coarse.x0) / hcell - 0.5
    row_f = (coarse.y1 - fy_rows) / hcell - 0.5
    dem_fine = np.empty(fine.shape, dtype=np.float32)
    band = max(1, 2_000_000 // max(fine.cols, 1))
    for r0 in range(0, fine.rows, band):
        rr = row_f[r0 : r0 + band]
        grid_r, grid_c = np.meshgrid(rr, col_f, indexing="ij")
        dem_fine[r0 : r0 + band] = ndimage.map_coordinates(
            dem, [grid_r, grid_c], order=1, mode="nearest"
        )
    detail_cell = frame.cell * 2.0
    detail_grid = frame.grid(detail_cell)
    detail = fractal_noise(rng, detail_grid.shape, detail_cell, 1_500.0, beta).astype(np.float32)
    detail = ndimage.zoom(
        detail, (fine.rows / detail.shape[0], fine.cols / detail.shape[1]), order=1
    )
    m_fine = ndimage.zoom(
        m.astype(np.float32), (fine.rows / m.shape[0], fine.cols / m.shape[1]), order=1
    )
    amp = params.detail_plains_m + (params.detail_mountains_m - params.detail_plains_m) * m_fine
    dem_fine += detail[: fine.rows, : fine.cols] * amp[: fine.rows, : fine.cols]
    del amp
    del detail, m_fine

    # channels: depth and width grow with order
    order_raster = features.rasterize(
        ((g, o) for g, o in zip(rivers.geometries, rivers.orders, strict=True)),
        out_shape=fine.shape,
        transform=fine.transform,
        fill=0,
        all_touched=True,
        dtype="uint8",
        merge_alg=features.MergeAlg.replace,
    )
    if order_raster.any():
        dist, (ir, ic) = ndimage.distance_transform_edt(order_raster == 0, return_indices=True)
        dist = (dist * frame.cell).astype(np.float32)
        near_order = order_raster[ir, ic].astype(np.float32)
        del ir, ic
        depth = 2.0 + 2.5 * near_order
        width = 25.0 + 25.0 * near_order
        dem_fine -= depth * np.exp(-((dist / width) ** 2))
        del near_order, depth, width
    else:
        dist = np.full(fine.shape, 1e6, dtype=np.float32)
    np.maximum(dem_fine, 10.0, out=dem_fine)
    return Terrain(
        coarse=coarse,
        coarse_dem=dem,
        coarse_slope=slope_degrees(dem, hcell),
        foothill_y=fy,
        foothill_x=fx,
        drainage=drainage,
        rivers=rivers,
        river_order=strahler,
        fine=fine,
        dem=dem_fine,
        river_distance=dist,
    )
