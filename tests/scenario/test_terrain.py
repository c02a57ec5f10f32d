"""The relief is Karabakh-like: flat plains, moderate foothills, steep ground a minority."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely

from minemap.scenario.frame import make_frame, stream
from minemap.scenario.landcover import BARE, CROPLAND, FOREST
from minemap.scenario.presets import KARABAKH
from minemap.scenario.terrain import Terrain, make_terrain, slope_degrees


@pytest.fixture(scope="module", params=[42, 101])
def default_terrain(request: pytest.FixtureRequest) -> tuple[Terrain, np.ndarray, np.ndarray]:
    """Terrain of the default 2,400 km² rectangle at 30 m, its slope and km west of the line."""
    seed = int(request.param)
    frame = make_frame(KARABAKH, None, 30.0)
    terrain = make_terrain(
        frame,
        KARABAKH.terrain,
        KARABAKH.conflict.meander_m,
        stream(seed, "terrain"),
        stream(seed, "hydrology"),
    )
    slope = slope_degrees(terrain.dem, frame.cell)
    xs, ys = terrain.fine.centres()
    west_km = (terrain.foothill_at(ys)[:, None] - xs[None, :]) / 1000.0
    return terrain, slope, west_km


def test_slope_distribution_matches_the_preset_targets(
    default_terrain: tuple[Terrain, np.ndarray, np.ndarray],
) -> None:
    _, slope, west_km = default_terrain
    targets = KARABAKH.terrain
    lo, hi = targets.target_steep_share
    assert lo <= float((slope > 30.0).mean()) <= hi
    lo, hi = targets.target_hilly_share
    assert lo <= float((slope > 15.0).mean()) <= hi
    plains = west_km < 0.0
    assert float(np.median(slope[plains])) < targets.target_plains_median_deg
    # the plains hold no steep ground at all
    assert float((slope[plains] > 30.0).mean()) < 0.002
    lo, hi = targets.target_foothills_median_deg
    foothills = (west_km >= 4.0) & (west_km < 15.0)
    assert lo <= float(np.median(slope[foothills])) <= hi
    lo, hi = targets.target_mountains_median_deg
    mountains = west_km >= 15.0
    assert lo <= float(np.median(slope[mountains])) <= hi
    # steep ground is where the mountains are
    steep = slope > 30.0
    assert float(mountains[steep].mean()) > 0.8


def test_elevations_rise_from_the_plains_to_the_range(
    default_terrain: tuple[Terrain, np.ndarray, np.ndarray],
) -> None:
    terrain, _, west_km = default_terrain
    dem = terrain.dem
    assert 100.0 <= float(np.median(dem[west_km < -10.0])) <= 300.0
    assert 1_500.0 <= float(np.percentile(dem[west_km > 25.0], 90)) <= 3_000.0


def test_rivers_run_in_valley_floors(
    default_terrain: tuple[Terrain, np.ndarray, np.ndarray],
) -> None:
    terrain, _, _ = default_terrain
    fine = terrain.fine
    big = [
        g for g, o in zip(terrain.rivers.geometries, terrain.rivers.orders, strict=True) if o >= 2
    ]
    assert big
    pts = np.vstack([shapely.get_coordinates(g)[1:-1:5] for g in big])
    on_river = fine.sample(terrain.dem, pts[:, 0], pts[:, 1])
    # the ground 300 m to either side, across the valley in some direction
    lower = np.zeros(len(pts), dtype=bool)
    for dx, dy in ((300.0, 0.0), (0.0, 300.0), (212.0, 212.0), (212.0, -212.0)):
        a = fine.sample(terrain.dem, pts[:, 0] + dx, pts[:, 1] + dy)
        b = fine.sample(terrain.dem, pts[:, 0] - dx, pts[:, 1] - dy)
        lower |= (on_river <= a + 0.5) & (on_river <= b + 0.5)
    assert float(lower.mean()) > 0.8


def test_land_cover_follows_the_terrain(scenario_dir: Path) -> None:
    with rasterio.open(scenario_dir / "dem.tif") as src:
        dem = src.read(1).astype(np.float64)
        cell = src.res[0]
    with rasterio.open(scenario_dir / "landcover.tif") as src:
        cover = src.read(1)
    slope = slope_degrees(dem, cell)
    assert float(np.median(slope[cover == CROPLAND])) < 4.0
    assert float((cover == BARE).mean()) < 0.05
    if (cover == FOREST).any():
        assert float(np.median(dem[cover == FOREST])) > float(np.median(dem[cover == CROPLAND]))
