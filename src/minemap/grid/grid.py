"""The raster grid of a region: shape, affine transform, CRS and region mask.

Rows run north to south and columns west to east (the GeoTIFF convention);
``transform`` maps (col, row) to the upper-left corner of a cell. Cells whose
centre lies inside the region polygon are ``True`` in :attr:`Grid.mask`;
outputs are nodata elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import rasterio.features
from affine import Affine
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from minemap.errors import ConfigError

#: Grids above this many cells are refused: a typo in the cell size, not a map.
MAX_CELLS = 400_000_000


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid with square cells in a metric CRS."""

    transform: Affine
    shape: tuple[int, int]
    crs: str
    mask: np.ndarray = field(compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.mask.shape != self.shape or self.mask.dtype != np.bool_:
            msg = f"grid mask must be a bool array of shape {self.shape}"
            raise ConfigError(msg)

    @classmethod
    def covering(cls, geometry: BaseGeometry, crs: str, cell_size: float) -> Grid:
        """The grid snapped to multiples of ``cell_size`` that covers ``geometry``."""
        minx, miny, maxx, maxy = geometry.bounds
        left = math.floor(minx / cell_size) * cell_size
        bottom = math.floor(miny / cell_size) * cell_size
        right = math.ceil(maxx / cell_size) * cell_size
        top = math.ceil(maxy / cell_size) * cell_size
        width = max(1, round((right - left) / cell_size))
        height = max(1, round((top - bottom) / cell_size))
        if width * height > MAX_CELLS:
            msg = (
                f"a {cell_size:g} m grid over this region has {width * height:,} cells "
                f"(more than {MAX_CELLS:,}); use a larger --cell"
            )
            raise ConfigError(msg)
        transform = Affine(cell_size, 0.0, left, 0.0, -cell_size, top)
        mask = rasterio.features.geometry_mask(
            [geometry], out_shape=(height, width), transform=transform, invert=True
        )
        return cls(transform, (height, width), crs, mask)

    @classmethod
    def from_raster_profile(
        cls, transform: Affine, shape: tuple[int, int], crs: str, mask: np.ndarray | None = None
    ) -> Grid:
        """A grid matching a raster file (``mask`` all True when not given)."""
        if abs(transform.a + transform.e) > 1e-9 * abs(transform.a) or transform.b or transform.d:
            msg = "only north-up rasters with square cells can be used as a grid"
            raise ConfigError(msg)
        full = np.ones(shape, dtype=bool) if mask is None else mask.astype(bool)
        return cls(transform, (int(shape[0]), int(shape[1])), crs, full)

    # --- geometry of the lattice ------------------------------------------------
    @property
    def cell_size(self) -> float:
        return float(self.transform.a)

    @property
    def cell_area_m2(self) -> float:
        return self.cell_size * self.cell_size

    @property
    def height(self) -> int:
        return self.shape[0]

    @property
    def width(self) -> int:
        return self.shape[1]

    @property
    def n_cells(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in the grid's CRS."""
        left, top = self.transform.c, self.transform.f
        return (
            left,
            top - self.height * self.cell_size,
            left + self.width * self.cell_size,
            top,
        )

    def xy(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates of the centres of cells (rows, cols)."""
        x = self.transform.c + (np.asarray(cols, dtype=np.float64) + 0.5) * self.cell_size
        y = self.transform.f - (np.asarray(rows, dtype=np.float64) + 0.5) * self.cell_size
        return x, y

    def rowcol(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the cells holding points (x, y); may fall outside the grid."""
        cols = np.floor((np.asarray(x, dtype=np.float64) - self.transform.c) / self.cell_size)
        rows = np.floor((self.transform.f - np.asarray(y, dtype=np.float64)) / self.cell_size)
        return rows.astype(np.int64), cols.astype(np.int64)

    def contains(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """True where (rows, cols) is a cell of the grid."""
        return (rows >= 0) & (rows < self.height) & (cols >= 0) & (cols < self.width)

    def window(self, window: Window) -> Grid:
        """The part of this grid under ``window`` (mask and transform cut to it)."""
        (r0, r1), (c0, c1) = window.toranges()
        transform = self.transform @ Affine.translation(c0, r0)
        return Grid(transform, (r1 - r0, c1 - c0), self.crs, self.mask[r0:r1, c0:c1])

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every cell centre, each of :attr:`shape` (float64)."""
        rows, cols = np.indices(self.shape)
        return self.xy(rows, cols)
