"""Land cover consistent with the terrain, rivers and settlements.

Codes (stored in the GeoTIFF's tags and in ``scenario.json``):
1 forest, 2 pasture, 3 cropland, 4 built-up, 5 water, 6 bare/rock; 0 nodata.
Cropland fills the gentle lowlands, forest the mid-mountain slopes (and
river banks on the plains), pasture the rest and the alpine zone above the
treeline, bare rock the highest and steepest ground; settlements are
built-up discs sized by their former population, large rivers are water.
"""

from __future__ import annotations

import numpy as np
import shapely
from rasterio import features
from scipy import ndimage

from minemap.scenario.frame import Frame
from minemap.scenario.places import Settlements
from minemap.scenario.presets import TerrainParams
from minemap.scenario.terrain import Terrain, fractal_noise, slope_degrees, smoothstep

FOREST, PASTURE, CROPLAND, BUILT_UP, WATER, BARE = 1, 2, 3, 4, 5, 6
LANDCOVER_CODES: dict[int, str] = {
    0: "nodata",
    FOREST: "forest",
    PASTURE: "pasture",
    CROPLAND: "cropland",
    BUILT_UP: "built-up",
    WATER: "water",
    BARE: "bare/rock",
}
LANDCOVER_COLOURS: dict[int, tuple[int, int, int]] = {
    FOREST: (46, 110, 52),
    PASTURE: (176, 196, 120),
    CROPLAND: (232, 214, 140),
    BUILT_UP: (160, 90, 80),
    WATER: (70, 130, 200),
    BARE: (170, 160, 150),
}


def _upsample(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = ndimage.zoom(
        field.astype(np.float32), (shape[0] / field.shape[0], shape[1] / field.shape[1]), order=1
    )
    return out[: shape[0], : shape[1]]


def make_landcover(
    frame: Frame,
    terrain: Terrain,
    settlements: Settlements,
    params: TerrainParams,
    rng: np.random.Generator,
) -> np.ndarray:
    """The land-cover raster (uint8 codes) on the output grid."""
    fine = terrain.fine
    shape = fine.shape
    elev = terrain.dem
    slope = slope_degrees(elev, frame.cell).astype(np.float32)
    broad = _upsample(
        fractal_noise(rng, terrain.coarse.shape, terrain.coarse.cell, 3_000.0, 2.2), shape
    )
    mosaic_cell = frame.cell * 4.0
    mosaic_grid = frame.grid(mosaic_cell)
    mosaic = _upsample(fractal_noise(rng, mosaic_grid.shape, mosaic_cell, 600.0, 1.6), shape)

    cover = np.full(shape, PASTURE, dtype=np.uint8)
    forest_score = (
        smoothstep((elev - params.forest_floor_m) / 600.0)
        * (1.0 - smoothstep((elev - params.treeline_m) / 200.0))
        + 0.3 * broad
        + 0.12 * mosaic
        + 0.15 * (slope > 12.0)
    )
    cover[forest_score > 0.55] = FOREST
    crop = (slope < 6.0) & (elev < 900.0) & (0.6 * broad + 0.4 * mosaic > -0.55)
    cover[crop & (cover != FOREST)] = CROPLAND
    riparian = (terrain.river_distance < 90.0) & (mosaic > 0.2) & (elev < 900.0)
    cover[riparian] = FOREST
    cover[(elev > params.treeline_m) & (forest_score < 0.9)] = PASTURE
    cover[(elev > params.rock_above_m + 120.0 * broad) | (slope > 38.0)] = BARE
    del slope, broad, mosaic, forest_score, crop, riparian

    discs = shapely.buffer(
        shapely.points(settlements.x, settlements.y), settlements.radius_m, quad_segs=12
    )
    if len(discs):
        built = features.rasterize(
            ((g, 1) for g in discs), out_shape=shape, transform=fine.transform, dtype="uint8"
        )
        cover[built == 1] = BUILT_UP
    big = [
        shapely.buffer(g, 6.0 + 6.0 * o)
        for g, o in zip(terrain.rivers.geometries, terrain.rivers.orders, strict=True)
        if o >= 3
    ]
    if big:
        water = features.rasterize(
            ((g, 1) for g in big), out_shape=shape, transform=fine.transform, dtype="uint8"
        )
        cover[water == 1] = WATER
    return cover
