"""Feature kernels: pure NumPy functions of arrays on the grid.

Every kernel takes whole arrays (a grid, or a tile with its halo), returns a
new array of the same shape and never modifies its inputs. Each looks at most
a known distance away (its *reach*); a tile whose halo is at least the reach
gives, for its inner cells, exactly the same numbers as the whole array:

* distances are Euclidean distance transforms capped at ``cap`` metres: a
  source farther than the cap changes nothing, and one within it lies inside
  the halo;
* window sums add whole numbers (counts of devices, people, land-cover cells)
  in int64 with cumulative sums, so the result does not depend on where the
  sum starts (floating-point running sums would);
* terrain derivatives use the 3 x 3 neighbourhood, with the edge of the grid
  repeated outward, as a tile at the grid edge does too.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree


def capped_distance(sources: np.ndarray, cell: float, cap: float) -> np.ndarray:
    """Distance in metres from each cell centre to the nearest source cell, at most ``cap``.

    Source cells are at distance 0 (so the distance to a polygon is 0 inside it).
    """
    if not sources.any():
        return np.full(sources.shape, cap, dtype=np.float32)
    dist = ndimage.distance_transform_edt(~sources.astype(bool), sampling=cell)
    np.minimum(dist, cap, out=dist)
    return dist.astype(np.float32)


def capped_distance_to_others(counts: np.ndarray, cell: float, cap: float) -> np.ndarray:
    """Distance to the nearest source in *another* cell, at most ``cap``.

    For a cell without sources this is the plain distance; for a source cell it
    is the distance to the next source cell. Used for evidence that also makes
    labels (finds): a cell's own find must not describe it, or the model
    learns "a find here means a find here" and nothing about the cells around.
    """
    has = counts > 0
    dist = capped_distance(has, cell, cap)
    if not has.any():
        return dist
    rows, cols = np.nonzero(has)
    if len(rows) == 1:
        dist[rows, cols] = cap
        return dist
    points = np.column_stack([rows, cols]).astype(np.float64)
    tree = cKDTree(points)
    _, nearest = tree.query(points, k=2)
    other = nearest[:, 1]
    dr = (rows - rows[other]) * cell
    dc = (cols - cols[other]) * cell
    second = np.sqrt(dr.astype(np.float64) ** 2 + dc.astype(np.float64) ** 2)
    dist[rows, cols] = np.minimum(second, cap).astype(np.float32)
    return dist


def by_side(
    west: np.ndarray, east: np.ndarray, side: np.ndarray, unknown: np.ndarray
) -> np.ndarray:
    """Per cell the value for the cell's own side of the line.

    ``west`` where ``side`` is 0, ``east`` where it is 1, ``unknown``
    elsewhere; swap ``west`` and ``east`` for the value of the other side.
    """
    return np.where(side == 1, east, np.where(side == 0, west, unknown))


def nearest_source(
    sources: np.ndarray, cell: float
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Distance (metres, float64; inf without sources) and row/column of the nearest source."""
    if not sources.any():
        return np.full(sources.shape, np.inf), None, None
    dist, (ir, ic) = ndimage.distance_transform_edt(
        ~sources.astype(bool), sampling=cell, return_indices=True
    )
    return dist, ir, ic


def alignment(
    dist: np.ndarray,
    ir: np.ndarray | None,
    ic: np.ndarray | None,
    facing_deg: np.ndarray,
    cap: float,
) -> np.ndarray:
    """Cosine of the angle between the nearest source's facing and the bearing to the cell.

    From :func:`nearest_source`'s output. 1 means the cell lies straight in
    front of its nearest position, -1 straight behind it; 0 beyond ``cap``, on
    the source's own cell, or where the source has no facing. Defensive belts
    are laid in front of a position, so the sign carries the doctrine.
    """
    out = np.zeros(dist.shape, dtype=np.float32)
    if ir is None or ic is None:
        return out
    rows, cols = np.indices(dist.shape)
    north = (ir - rows).astype(np.float64)  # rows grow southward
    east = (cols - ic).astype(np.float64)
    bearing = np.arctan2(east, north)
    facing = np.deg2rad(facing_deg[ir, ic].astype(np.float64))
    cos = np.cos(bearing - facing)
    valid = (dist > 0) & (dist <= cap) & np.isfinite(facing)
    out[valid] = cos[valid].astype(np.float32)
    return out


def disk_offsets(radius_m: float, cell: float) -> list[tuple[int, int]]:
    """(row offset, half width in cells) of the cells whose centres are within ``radius_m``."""
    r = radius_m / cell
    n = math.floor(r + 1e-9)
    return [
        (dy, math.floor(math.sqrt(max(r * r - dy * dy, 0.0)) + 1e-9)) for dy in range(-n, n + 1)
    ]


def disk_sum(values: np.ndarray, radius_m: float, cell: float) -> np.ndarray:
    """Sum of integer ``values`` over the cells within ``radius_m`` of each cell (int64).

    Cells beyond the array count as zero. Exact integer arithmetic: row-wise
    cumulative sums, one difference per row offset of the disk.
    """
    offsets = disk_offsets(radius_m, cell)
    n = offsets[-1][0]
    height, width = values.shape
    # int32 halves the memory traffic; fall back to int64 when sums could overflow
    total = int(np.abs(values).sum(dtype=np.int64)) if values.size else 0
    dtype = np.int32 if total < 2**31 - 1 else np.int64
    padded = np.zeros((height + 2 * n, width + 2 * n + 1), dtype=dtype)
    padded[n : n + height, n + 1 : n + 1 + width] = values
    np.cumsum(padded, axis=1, out=padded)
    out = np.zeros((height, width), dtype=dtype)
    for dy, half in offsets:
        rows = padded[n + dy : n + dy + height]
        out += rows[:, n + half + 1 : n + half + 1 + width]
        out -= rows[:, n - half : n - half + width]
    return out.astype(np.int64, copy=False)


def disk_area_km2(radius_m: float, cell: float) -> float:
    """Area in km² of the cells :func:`disk_sum` adds up."""
    cells = sum(2 * half + 1 for _, half in disk_offsets(radius_m, cell))
    return cells * cell * cell / 1e6


def density_per_km2(
    counts: np.ndarray, radius_m: float, cell: float, *, exclude_own: bool = False
) -> np.ndarray:
    """Count per km² within ``radius_m`` (optionally leaving the cell's own count out)."""
    total = disk_sum(counts, radius_m, cell)
    if exclude_own:
        total -= counts.astype(np.int64)
    return (total / disk_area_km2(radius_m, cell)).astype(np.float32)


def class_fractions(
    classes: np.ndarray, codes: tuple[int, ...], radius_m: float, cell: float
) -> list[np.ndarray]:
    """Share of the valid (non-zero) cells within ``radius_m`` that hold each code."""
    valid = disk_sum((classes != 0).astype(np.int64), radius_m, cell)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = []
        for code in codes:
            n = disk_sum((classes == code).astype(np.int64), radius_m, cell)
            frac = np.where(valid > 0, n / np.maximum(valid, 1), np.nan)
            out.append(frac.astype(np.float32))
    return out


def _neighbours(dem: np.ndarray) -> tuple[np.ndarray, ...]:
    """The 3 x 3 neighbours of each cell (a..i, row-major), edge repeated outward."""
    z = np.pad(dem.astype(np.float64), 1, mode="edge")
    h, w = dem.shape
    return tuple(z[r : r + h, c : c + w] for r in range(3) for c in range(3))


def _gradients(dem: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    """Eastward and northward elevation gradients (m/m), Horn's 3 x 3 method."""
    a, b, c, d, _, f, g, h, i = _neighbours(dem)
    dz_east = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * cell)
    dz_north = ((a + 2 * b + c) - (g + 2 * h + i)) / (8 * cell)
    return dz_east, dz_north


def slope_deg(dem: np.ndarray, cell: float) -> np.ndarray:
    """Slope in degrees (0 flat, 90 vertical)."""
    dz_east, dz_north = _gradients(dem, cell)
    return np.degrees(np.arctan(np.hypot(dz_east, dz_north))).astype(np.float32)


def aspect_components(dem: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    """Northness and eastness of the downslope direction (cos and sin of the aspect).

    The aspect is a compass bearing (0 north, 90 east) and circular, so the
    model gets its two components; both are 0 on flat ground.
    """
    dz_east, dz_north = _gradients(dem, cell)
    steep = np.hypot(dz_east, dz_north)
    with np.errstate(invalid="ignore", divide="ignore"):
        north = np.where(steep > 0, -dz_north / steep, 0.0)
        east = np.where(steep > 0, -dz_east / steep, 0.0)
    nan = np.isnan(steep)
    north[nan] = np.nan
    east[nan] = np.nan
    return north.astype(np.float32), east.astype(np.float32)


def aspect_deg(dem: np.ndarray, cell: float) -> np.ndarray:
    """Compass bearing (degrees, 0 north, clockwise) the slope faces; NaN on flat ground."""
    north, east = aspect_components(dem, cell)
    flat = (north == 0) & (east == 0)
    bearing = np.degrees(np.arctan2(east.astype(np.float64), north.astype(np.float64))) % 360.0
    bearing[flat] = np.nan
    return bearing.astype(np.float32)


def roughness(dem: np.ndarray) -> np.ndarray:
    """Terrain ruggedness (m): mean absolute difference to the 8 neighbours (Wilson 2007)."""
    parts = _neighbours(dem)
    centre = parts[4]
    total = np.zeros(dem.shape, dtype=np.float64)
    for k, p in enumerate(parts):
        if k != 4:
            total += np.abs(p - centre)
    return (total / 8.0).astype(np.float32)


def halo_cells(reach_m: float, cell: float) -> int:
    """Halo in cells a tile needs for a kernel that looks ``reach_m`` metres away."""
    return math.ceil(reach_m / cell - 1e-9)
