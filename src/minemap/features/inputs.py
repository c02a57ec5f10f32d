"""Input layers of the feature kernels: the records rasterised onto the grid.

:func:`rasterise_inputs` turns :class:`~minemap.grid.layers.Layers` into the
named arrays the kernels of :mod:`minemap.features.catalogue` read: bool
masks of sources (front line, positions by side, roads by class, rivers,
settlements by status, battle areas, advance axes, open suspected and
confirmed hazards, digitised minefield records), integer counts (finds,
accidents, people), the side of the line each cell lies on, and the DEM and
land cover warped onto the grid.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from rasterio.enums import Resampling
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from minemap.grid import rasterize as rz
from minemap.grid.grid import Grid
from minemap.grid.layers import Layers

log = logging.getLogger(__name__)

#: Side codes of the ``side`` input.
WEST, EAST, UNKNOWN_SIDE = 0, 1, 2


def geometries(frame: pd.DataFrame) -> np.ndarray:
    """The geometries of a frame as an object array (empty for a frame without any)."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.empty:
        return np.empty(0, dtype=object)
    return np.asarray(frame.geometry.to_numpy(), dtype=object)


_geoms = geometries


def _where(frame: pd.DataFrame, column: str, values: tuple[str, ...]) -> pd.DataFrame:
    if column not in frame.columns or frame.empty:
        return frame.iloc[0:0]
    return frame[frame[column].astype("string").str.lower().isin(values).fillna(False)]


def open_hazards(layers: Layers, hazard_type: str) -> pd.DataFrame:
    """Hazards of ``hazard_type`` (SHA or CHA) still open (any status when none is recorded)."""
    hazards = layers.get("hazards")
    if hazards.empty:
        return hazards
    typed = _where(hazards, "type", (hazard_type.lower(),))
    if "status" in typed.columns:
        typed = typed[typed["status"].astype("string").str.lower().eq("open").fillna(True)]
    return typed


def side_raster(line: np.ndarray, west: np.ndarray, east: np.ndarray) -> np.ndarray:
    """Which side of the line each cell lies on: 0 west, 1 east, 2 unknown.

    Each cell first takes the side of its nearest position. Where the front
    line cuts the grid into parts and the positions in a part belong (90% or
    more) to one side, the whole part takes that side, so cells near the line
    are not given the other side's label by a nearby enemy position.
    """
    sources = west | east
    if not sources.any():
        return np.full(line.shape, UNKNOWN_SIDE, dtype=np.uint8)
    _, (ir, ic) = ndimage.distance_transform_edt(~sources, return_indices=True)
    side = np.where(east[ir, ic] & ~west[ir, ic], EAST, WEST).astype(np.uint8)
    del ir, ic
    if line.any():
        parts, n = ndimage.label(~line)
        n_west = np.bincount(parts[west], minlength=n + 1)
        n_east = np.bincount(parts[east], minlength=n + 1)
        total = n_west + n_east
        clean_west = (total > 0) & (n_west >= 0.9 * total)
        clean_east = (total > 0) & (n_east >= 0.9 * total)
        clean_west[0] = clean_east[0] = False  # label 0 is the line itself
        side[clean_west[parts]] = WEST
        side[clean_east[parts]] = EAST
    return side


def minefield_record_shapes(layers: Layers) -> list[BaseGeometry] | np.ndarray:
    """Shapes of the handed-over minefield records.

    Records are digitised (reference point plus bearing/distance legs) by
    :func:`minemap.io.digitise.digitise`; a record whose traverse makes no
    shape (no legs, a broken traverse) is kept as its reference point.
    """
    records = layers.get("minefield_records")
    if records.empty or not isinstance(records, gpd.GeoDataFrame):
        return []
    legs = layers.get("minefield_legs")
    if legs.empty or "record_ref" not in legs.columns:
        return _geoms(records)
    from minemap.io.digitise import digitise

    result = digitise(records, legs, crs=layers.crs)
    for ref, why in result.problems.items():
        log.info("minefield record %s kept as its reference point: %s", ref, why)
    done = set(result.shapes["record_ref"].astype(str))
    rest = records[~records["ref"].astype(str).isin(done)]
    return [*_geoms(result.shapes), *_geoms(rest)]


def rasterise_inputs(layers: Layers, grid: Grid) -> dict[str, np.ndarray]:
    """Every input array the feature catalogue reads, on ``grid``."""
    a: dict[str, np.ndarray] = {}
    a["region"] = grid.mask.copy()

    front = rz.burn(grid, _geoms(layers.get("front_line")), all_touched=True)
    a["front_line"] = front

    positions = layers.get("positions")
    west = rz.burn(grid, _geoms(_where(positions, "side", ("west",))), all_touched=True)
    east = rz.burn(grid, _geoms(_where(positions, "side", ("east",))), all_touched=True)
    a["positions_west"], a["positions_east"] = west, east
    a["side"] = side_raster(front, west, east)
    facing = np.full(grid.shape, np.nan, dtype=np.float32)
    if not positions.empty and "facing_deg" in positions.columns:
        rows, cols, index = rz.point_cells(grid, _geoms(positions))
        values = pd.to_numeric(positions["facing_deg"], errors="coerce").to_numpy()
        facing[rows, cols] = values[index]
    a["facing_deg"] = facing

    roads = layers.get("roads")
    for cls, name in (("main", "road_main"), ("secondary", "road_secondary"), ("track", "track")):
        a[name] = rz.burn(grid, _geoms(_where(roads, "class", (cls,))), all_touched=True)
    a["river"] = rz.burn(grid, _geoms(layers.get("rivers")), all_touched=True)

    settlements = layers.get("settlements")
    if not settlements.empty and "status" in settlements.columns:
        ruined = _where(settlements, "status", ("ruined", "partly_ruined"))
        inhabited = settlements.drop(index=ruined.index)
    else:
        ruined, inhabited = settlements.iloc[0:0], settlements
    a["settlement_inhabited"] = rz.burn(grid, _geoms(inhabited), all_touched=True)
    a["settlement_ruined"] = rz.burn(grid, _geoms(ruined), all_touched=True)
    for column in ("population", "displaced"):
        if not settlements.empty and column in settlements.columns:
            weights = pd.to_numeric(settlements[column], errors="coerce").to_numpy()
            a[column] = rz.sum_points(grid, _geoms(settlements), weights)
        else:
            a[column] = np.zeros(grid.shape, dtype=np.int64)

    a["battle_area"] = rz.burn(grid, _geoms(layers.get("battle_areas")))
    a["advance_axis"] = rz.burn(grid, _geoms(layers.get("advance_axes")), all_touched=True)
    a["finds"] = rz.count_points(grid, _geoms(layers.get("finds")))
    a["accidents"] = rz.count_points(grid, _geoms(layers.get("accidents")))
    # small hazards must still show: all_touched keeps a 30 m polygon on the grid
    a["sha"] = rz.burn(grid, _geoms(open_hazards(layers, "SHA")), all_touched=True)
    a["cha"] = rz.burn(grid, _geoms(open_hazards(layers, "CHA")), all_touched=True)
    a["minefield_record"] = rz.burn(grid, minefield_record_shapes(layers), all_touched=True)

    if "dem" in layers.rasters:
        a["dem"] = rz.warp_raster(grid, layers.rasters["dem"], resampling=Resampling.bilinear)
    else:
        log.warning("no DEM: terrain features are missing values")
        a["dem"] = np.full(grid.shape, np.nan, dtype=np.float32)
    if "landcover" in layers.rasters:
        a["landcover"] = rz.warp_raster(
            grid,
            layers.rasters["landcover"],
            resampling=Resampling.mode,
            dtype=np.uint8,
            nodata=0,
        )
    else:
        log.warning("no land cover: land-cover features are missing values")
        a["landcover"] = np.zeros(grid.shape, dtype=np.uint8)
    return a
