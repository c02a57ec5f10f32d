"""The region, its metric grid and cell size; rasterising layers; tiling with halos.

* :class:`Region`: a polygon, a metric CRS (EPSG:32638 for Karabakh) and a
  cell size (50 m by default);
* :class:`Grid`: the raster lattice of a region (shape, transform, mask);
* :mod:`minemap.grid.rasterize`: vector layers burnt, points counted, rasters
  warped onto a grid;
* :class:`Tile` and :func:`make_tiles`: windows with halos, so kernels that
  look at neighbours give on each tile what they give on the whole array.
"""

from minemap.grid.grid import Grid
from minemap.grid.region import Region, metric_crs
from minemap.grid.tiles import Tile, make_tiles

__all__ = ["Grid", "Region", "Tile", "make_tiles", "metric_crs"]
