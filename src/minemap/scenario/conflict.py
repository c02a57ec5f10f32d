"""The conflict: the 1994-2020 line of contact, positions, the 2020 war.

The line of contact runs north-south along the foothill axis of the terrain
with a trench-scale wiggle. Defensive positions of both sides stand in two
echelons behind it, each facing the other side across the line (``facing_deg``
is the grid bearing of the line's normal towards the enemy). The 2020
offensive came from the east: advance axes cross the line and run west, with
battle areas where they broke through and at the places taken, and shelled
towns east of the line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from minemap.scenario.frame import Frame, pick, uniform
from minemap.scenario.places import Settlements
from minemap.scenario.presets import ConflictParams
from minemap.scenario.terrain import Terrain, noise_1d


@dataclass
class Line:
    geometry: shapely.LineString  # south to north
    y: np.ndarray
    x: np.ndarray

    def x_at(self, y: np.ndarray) -> np.ndarray:
        return np.interp(y, self.y, self.x)

    def west_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(x) < self.x_at(np.asarray(y))

    def frame_at(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Point and unit east-pointing normal of the line at arc lengths ``s``."""
        s = np.asarray(s, dtype=float)
        length = self.geometry.length
        p = shapely.get_coordinates(shapely.line_interpolate_point(self.geometry, s))
        a = shapely.get_coordinates(
            shapely.line_interpolate_point(self.geometry, np.clip(s - 60.0, 0, length))
        )
        b = shapely.get_coordinates(
            shapely.line_interpolate_point(self.geometry, np.clip(s + 60.0, 0, length))
        )
        t = b - a
        t /= np.maximum(np.hypot(t[:, 0], t[:, 1]), 1e-9)[:, None]
        # the line runs south to north, so its right-hand normal points east
        return p[:, 0], p[:, 1], t[:, 1], -t[:, 0]


def make_line(frame: Frame, terrain: Terrain, rng: np.random.Generator) -> Line:
    """The 1994-2020 line of contact along the foothills."""
    step = 50.0
    y = np.arange(frame.y0 - 2_000.0, frame.y1 + 2_000.0 + step, step)
    wiggle = 110.0 * noise_1d(rng, y.size, step, 1_500.0)
    x = terrain.foothill_at(y) + wiggle
    full = shapely.LineString(np.column_stack([x, y]))
    clipped = full.intersection(shapely.box(*frame.bounds))
    parts = [p for p in shapely.get_parts(clipped) if p.length > 0]
    geometry = max(parts, key=lambda g: g.length)
    coords = np.asarray(geometry.coords)
    if coords[0, 1] > coords[-1, 1]:
        geometry = shapely.LineString(coords[::-1])
    return Line(geometry, y, x)


def bearing(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Grid bearing in degrees, clockwise from grid north."""
    return np.degrees(np.arctan2(dx, dy)) % 360.0


@dataclass
class Positions:
    x: np.ndarray
    y: np.ndarray
    side: np.ndarray  # "west" / "east"
    kind: np.ndarray
    facing: np.ndarray  # degrees, towards the enemy
    echelon: np.ndarray  # 1 or 2
    offset: np.ndarray  # metres from the line
    frontage: np.ndarray  # metres of front the position covers
    nx: np.ndarray  # unit vector towards the enemy
    ny: np.ndarray

    def __len__(self) -> int:
        return int(self.x.size)


_KINDS_1 = (
    ("strongpoint", 0.25),
    ("trench", 0.4),
    ("firing_position", 0.25),
    ("observation_post", 0.1),
)
_KINDS_2 = (("strongpoint", 0.5), ("firing_position", 0.3), ("trench", 0.2))


def make_positions(
    frame: Frame, line: Line, params: ConflictParams, rng: np.random.Generator
) -> Positions:
    """Two echelons of positions on each side, facing each other across the line."""
    parts: list[dict[str, np.ndarray]] = []
    length = line.geometry.length
    for side, sign in (("west", -1.0), ("east", 1.0)):
        for echelon, spacing, offset, kinds in (
            (1, params.first_echelon_spacing_m, params.first_echelon_offset_m, _KINDS_1),
            (2, params.second_echelon_spacing_m, params.second_echelon_offset_m, _KINDS_2),
        ):
            gaps = uniform(rng, spacing, int(length / spacing[0]) + 2)
            s = np.cumsum(gaps) - gaps[0] * rng.random()
            s = s[(s > 0) & (s < length)]
            px, py, nx, ny = line.frame_at(s)
            off = uniform(rng, offset, s.size)
            x = px + sign * off * nx
            y = py + sign * off * ny
            # the enemy is across the line: the west faces +normal, the east -normal
            fx, fy = -sign * nx, -sign * ny
            ok = frame.inside(x, y, 50.0)
            front = np.gradient(s) if s.size > 1 else np.full(s.size, spacing[1])
            parts.append(
                {
                    "x": x[ok],
                    "y": y[ok],
                    "side": np.full(int(ok.sum()), side, dtype=object),
                    "kind": pick(rng, kinds, int(ok.sum())),
                    "facing": (bearing(fx, fy) + rng.normal(0.0, 6.0, s.size))[ok] % 360.0,
                    "echelon": np.full(int(ok.sum()), echelon),
                    "offset": off[ok],
                    "frontage": np.abs(front)[ok],
                    "nx": fx[ok],
                    "ny": fy[ok],
                }
            )
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return Positions(**cat)


@dataclass
class Battles:
    axes: list[shapely.LineString]
    axis_names: list[str]
    areas: list[shapely.Polygon]
    area_names: list[str]
    intensity: list[str]  # high / medium / low
    west: list[bool]  # battle fought west of the line (the east side fired into it)


def _blob(
    rng: np.random.Generator, cx: float, cy: float, radius: float, elong: float = 1.0
) -> shapely.Polygon:
    angles = np.linspace(0.0, 2 * np.pi, 48, endpoint=False)
    wobble = 1.0 + 0.25 * noise_1d(rng, 48, 1.0, 8.0)
    theta = rng.uniform(0, np.pi)
    rx = radius * elong * wobble * np.cos(angles)
    ry = radius * wobble * np.sin(angles)
    x = cx + rx * np.cos(theta) - ry * np.sin(theta)
    y = cy + rx * np.sin(theta) + ry * np.cos(theta)
    return shapely.make_valid(shapely.Polygon(np.column_stack([x, y]))).buffer(0)


def _largest(geom: BaseGeometry) -> shapely.Polygon:
    """The largest polygon of ``geom`` (an empty polygon when it has none)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon)]
    return max(parts, key=lambda p: p.area) if parts else shapely.Polygon()


def make_battles(
    frame: Frame,
    line: Line,
    settlements: Settlements,
    params: ConflictParams,
    rng: np.random.Generator,
    *,
    nearest_name: Callable[[float, float], str],
) -> Battles:
    """2020 advance axes from the east, battle areas where they broke through, shelled towns."""
    box = shapely.box(*frame.bounds)
    n_axes = max(1, round(line.geometry.length / 1000.0 / params.km_of_line_per_axis))
    axes: list[shapely.LineString] = []
    axis_names: list[str] = []
    areas: list[shapely.Polygon] = []
    area_names: list[str] = []
    intensity: list[str] = []
    west: list[bool] = []
    for k in range(n_axes):
        y_cross = frame.y0 + frame.height * (k + rng.uniform(0.3, 0.7)) / n_axes
        x_cross = float(line.x_at(np.array([y_cross]))[0])
        depth = min(uniform(rng, params.axis_depth_km) * 1000.0, x_cross - frame.x0 - 500.0)
        depth = max(depth, 1_000.0)
        start_x = frame.x1 - 200.0
        xs = np.linspace(start_x, x_cross - depth, 40)
        drift = np.cumsum(rng.normal(0.0, 250.0, xs.size))
        drift -= np.interp(x_cross, xs[::-1], drift[::-1])
        ys = np.clip(y_cross + drift, frame.y0 + 300.0, frame.y1 - 300.0)
        axis = shapely.LineString(np.column_stack([xs, ys])).intersection(box)
        if axis.is_empty:
            continue
        axis = max(shapely.get_parts(axis), key=lambda g: g.length)
        axes.append(axis)
        axis_names.append(f"{nearest_name(x_cross - depth, float(ys[-1]))} axis")
        radius = uniform(rng, params.battle_radius_m)
        for frac, scale, level in ((0.0, 1.0, "high"), (0.45, 0.7, "high"), (0.9, 0.6, "medium")):
            bx = x_cross - frac * depth
            by = float(np.interp(bx, xs[::-1], ys[::-1]))
            if frac > 0 and rng.random() < 0.25:
                continue
            blob = _largest(_blob(rng, bx, by, radius * scale, elong=1.4).intersection(box))
            if blob.is_empty or blob.area < 1e5:
                continue
            areas.append(blob)
            area_names.append(f"Battle of {nearest_name(bx, by)}")
            intensity.append(level)
            west.append(True)
    # towns and large villages east of the line within rocket range were shelled
    east_big = np.flatnonzero(
        ~settlements.west
        & (settlements.former_population >= 1_500)
        & (np.abs(settlements.x - line.x_at(settlements.y)) < 25_000.0)
    )
    for i in east_big[:4].tolist():
        blob = _largest(_blob(rng, settlements.x[i], settlements.y[i], 1_200.0).intersection(box))
        if blob.is_empty or blob.area < 1e5:
            continue
        areas.append(blob)
        area_names.append(f"Shelling of {settlements.name[i]}")
        intensity.append("low")
        west.append(False)
    return Battles(axes, axis_names, areas, area_names, intensity, west)
