"""The scenario's rectangle in UTM 38N, its raster grids, and seeded random streams.

The rectangle sits at the real position of the Karabakh lowlands and
foothills so coordinates, CRS and scale are real; everything inside it is
synthetic. Every stage of the generator draws from its own random stream
(:func:`stream`), so changing one stage never shifts what another draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine

from minemap.errors import ConfigError
from minemap.scenario.presets import Preset

CRS = "EPSG:32638"
MIN_AREA_KM2 = 10.0
MAX_AREA_KM2 = 50_000.0
MIN_CELL_M = 5.0
MAX_CELL_M = 100.0

_STAGES = (
    "terrain",
    "hydrology",
    "places",
    "roads",
    "conflict",
    "mining",
    "hazards",
    "operators",
    "survey",
    "accidents",
    "eore",
    "records",
    "landcover",
    "names",
    "line",
)


def stream(seed: int, stage: str) -> np.random.Generator:
    """The random stream of one generator stage."""
    return np.random.default_rng(np.random.SeedSequence([seed, _STAGES.index(stage)]))


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid over the rectangle: origin at the top-left corner."""

    x0: float
    y1: float
    cell: float
    rows: int
    cols: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    @property
    def transform(self) -> Affine:
        return Affine(self.cell, 0.0, self.x0, 0.0, -self.cell, self.y1)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates as two 1-D arrays: x of columns, y of rows."""
        xs = self.x0 + (np.arange(self.cols) + 0.5) * self.cell
        ys = self.y1 - (np.arange(self.rows) + 0.5) * self.cell
        return xs, ys

    def index(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of points (clipped to the grid)."""
        c = np.clip(((np.asarray(x) - self.x0) / self.cell).astype(np.int64), 0, self.cols - 1)
        r = np.clip(((self.y1 - np.asarray(y)) / self.cell).astype(np.int64), 0, self.rows - 1)
        return r, c

    def sample(self, array: np.ndarray, x: Any, y: Any) -> np.ndarray:
        """Nearest-cell values of ``array`` at points."""
        r, c = self.index(x, y)
        return array[r, c]


@dataclass(frozen=True)
class Frame:
    """The scenario rectangle (metres, EPSG:32638) and its raster cell."""

    x0: float
    y0: float
    x1: float
    y1: float
    cell: float
    line_x: float  # mean easting of the 1994-2020 line of contact

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area_km2(self) -> float:
        return self.width * self.height / 1e6

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)

    def grid(self, cell: float | None = None) -> Grid:
        """A grid of ``cell`` metres (the raster cell by default) covering the rectangle."""
        size = self.cell if cell is None else cell
        return Grid(
            self.x0,
            self.y1,
            size,
            math.ceil(self.height / size - 1e-9),
            math.ceil(self.width / size - 1e-9),
        )

    def inside(self, x: np.ndarray, y: np.ndarray, margin: float = 0.0) -> np.ndarray:
        return (
            (x >= self.x0 + margin)
            & (x <= self.x1 - margin)
            & (y >= self.y0 + margin)
            & (y <= self.y1 - margin)
        )


def make_frame(preset: Preset, area_km2: float | None, cell: float | None) -> Frame:
    """The rectangle of ``area_km2`` (aspect from the preset) around the line of contact."""
    scale = preset.scale
    area = scale.default_area_km2 if area_km2 is None else float(area_km2)
    if not math.isfinite(area) or area <= 0:
        msg = f"--area-km2 must be a positive number of km², got {area_km2}"
        raise ConfigError(msg)
    if not MIN_AREA_KM2 <= area <= MAX_AREA_KM2:
        msg = f"--area-km2 must lie between {MIN_AREA_KM2:g} and {MAX_AREA_KM2:g}, got {area:g}"
        raise ConfigError(msg)
    size = 30.0 if cell is None else float(cell)
    if not math.isfinite(size) or not MIN_CELL_M <= size <= MAX_CELL_M:
        msg = f"--cell must lie between {MIN_CELL_M:g} and {MAX_CELL_M:g} metres, got {cell}"
        raise ConfigError(msg)
    width = math.sqrt(area * 1e6 * scale.aspect)
    height = area * 1e6 / width
    # whole cells, whole metres: the rasters then tile the rectangle exactly
    width = max(1, round(width / size)) * size
    height = max(1, round(height / size)) * size
    x0 = round(scale.line_easting_m - scale.line_from_west * width)
    y0 = round(scale.centre_northing_m - height / 2)
    return Frame(x0, y0, x0 + width, y0 + height, size, scale.line_easting_m)


def pick(rng: np.random.Generator, mix: tuple[tuple[str, float], ...], size: int) -> np.ndarray:
    """``size`` labels drawn from a ``((label, weight), ...)`` mix."""
    labels = np.array([m[0] for m in mix], dtype=object)
    weights = np.array([m[1] for m in mix], dtype=float)
    return labels[rng.choice(len(labels), size=size, p=weights / weights.sum())]


def uniform(rng: np.random.Generator, bounds: tuple[float, float], size: Any = None) -> Any:
    return rng.uniform(bounds[0], bounds[1], size)


def ref(prefix: str, number: int) -> str:
    """A record reference such as ``HA-000123`` (numbers start at 1)."""
    return f"{prefix}-{number:06d}"
