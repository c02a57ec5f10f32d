"""The region a hazard map covers: a polygon, a metric CRS and a cell size.

A :class:`Region` is what a user means by "map this area": the polygon (in a
projected CRS whose unit is the metre, EPSG:32638 for Karabakh), and the size
of a square cell (50 m by default). :meth:`Region.grid` turns it into the
raster :class:`~minemap.grid.grid.Grid` every layer and feature is put on.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from minemap.errors import ConfigError
from minemap.grid.grid import Grid
from minemap.settings import get_settings


def metric_crs(crs: object, *, what: str = "region") -> str:
    """``crs`` as a string when it is projected in metres; ConfigError otherwise."""
    if crs is None:
        msg = f"the {what} has no CRS; give it a projected CRS in metres (e.g. EPSG:32638)"
        raise ConfigError(msg)
    parsed = CRS.from_user_input(crs)
    units = {axis.unit_name for axis in parsed.axis_info}
    if not parsed.is_projected or not units <= {"metre", "meter"}:
        msg = (
            f"the {what} CRS {parsed.to_string()} is not projected in metres; "
            "reproject it (e.g. to EPSG:32638, UTM 38N)"
        )
        raise ConfigError(msg)
    return parsed.to_string()


@dataclass(frozen=True)
class Region:
    """A polygon to map, its metric CRS and the cell size in metres."""

    geometry: BaseGeometry
    crs: str
    cell_size: float = 50.0

    def __post_init__(self) -> None:
        if self.cell_size <= 0 or not np.isfinite(self.cell_size):
            msg = f"cell size must be a positive number of metres, got {self.cell_size}"
            raise ConfigError(msg)
        if self.geometry.is_empty or self.geometry.area <= 0:
            msg = "the region polygon is empty"
            raise ConfigError(msg)
        object.__setattr__(self, "crs", metric_crs(self.crs))

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame, cell_size: float | None = None) -> Region:
        """The union of a frame's polygons as a region (cell size from settings if None)."""
        if frame.empty:
            msg = "the region layer has no polygon"
            raise ConfigError(msg)
        geometry = shapely.union_all(shapely.make_valid(frame.geometry.to_numpy()))
        size = get_settings().cell_size if cell_size is None else float(cell_size)
        return cls(geometry, metric_crs(frame.crs), size)

    @property
    def area_km2(self) -> float:
        return float(self.geometry.area) / 1e6

    def grid(self) -> Grid:
        """The grid of this region: bounds snapped outward to whole cells from the origin.

        Snapping to multiples of the cell size makes every map of the same CRS
        and cell size share one lattice, so rasters of two builds line up cell
        for cell.
        """
        return Grid.covering(self.geometry, self.crs, self.cell_size)
