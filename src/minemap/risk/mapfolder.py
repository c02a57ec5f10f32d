"""The map folder: what ``minemap hazard-map build`` writes and how others read it.

============== =================================================================
file            content
============== =================================================================
risk.tif        Cloud-Optimised GeoTIFF, float32 calibrated probability that the
                cell holds mines now; NaN (nodata) outside the region; overviews
zones.gpkg      layer ``zones``: polygons of the risk zones (very high, high,
                medium, low by share of the region's area), area and expected
                contaminated area of each
districts.csv   expected contaminated area per district (sum of probability x
                cell area) and share of the district in high-risk zones
metrics.json    spatial cross-validation, calibration table, labels, features,
                zones, timings
model.zip       the trained model (:class:`minemap.risk.model.RiskModel`)
inputs.tif      the layers on the grid that the features are computed from
                (band descriptions name them), plus ``label`` and ``released``
map.json        the grid, feature list, options and versions of the build
============== =================================================================

:func:`explain_cell` answers "why is this cell high?": it reads a window of
``inputs.tif`` around the cell (wide enough for every kernel's reach),
recomputes the cell's features exactly as the build did (tiles with halos give
whole-grid results), and asks the model for the top feature contributions.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.io import MemoryFile
from rasterio.windows import Window

from minemap.errors import InputFileError, NotFoundError
from minemap.files import replace_when_done
from minemap.grid.grid import Grid
from minemap.risk.labels import RELEASE_CODES as _RELEASE_CODES
from minemap.risk.labels import residual_factors

RISK = "risk.tif"
ZONES = "zones.gpkg"
DISTRICTS = "districts.csv"
METRICS = "metrics.json"
MODEL = "model.zip"
INPUTS = "inputs.tif"
MAP = "map.json"

#: Extra bands of inputs.tif besides the feature inputs.
LABEL_BAND = "label"
RELEASED_BAND = "released"
#: Codes of the ``released`` band (see :func:`minemap.risk.labels.released_codes`).
RELEASE_CODES = _RELEASE_CODES


def write_cog(
    path: Path,
    bands: np.ndarray,
    grid: Grid,
    *,
    nodata: float | None = None,
    descriptions: list[str] | None = None,
    resampling: str = "AVERAGE",
    tags: dict[str, str] | None = None,
) -> Path:
    """Write ``bands`` (``(n, rows, cols)`` or ``(rows, cols)``) as a Cloud-Optimised GeoTIFF.

    Written next to ``path`` and renamed into place, so a reader never sees a
    half-written file.
    """
    data = bands[np.newaxis] if bands.ndim == 2 else bands
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": nodata,
    }
    with replace_when_done(path) as tmp, MemoryFile() as memory:
        with memory.open(**profile) as mem:
            mem.write(data)
            if descriptions:
                for i, name in enumerate(descriptions, start=1):
                    mem.set_band_description(i, name)
            if tags:
                mem.update_tags(**tags)
        with memory.open() as src:
            rasterio.shutil.copy(
                src,
                tmp,
                driver="COG",
                COMPRESS="DEFLATE",
                LEVEL="1",
                PREDICTOR="YES" if data.dtype.kind == "f" else "NO",
                BLOCKSIZE="512",
                OVERVIEW_RESAMPLING=resampling,
                NUM_THREADS="ALL_CPUS",
                BIGTIFF="IF_SAFER",
            )
    return path


def write_bands(path: Path, bands: dict[str, np.ndarray], grid: Grid) -> Path:
    """Named grids as the bands of one tiled, compressed float32 GeoTIFF (no overviews).

    For the layers kept beside a map (``inputs.tif``): read back window by
    window, never displayed, so no overviews; band descriptions name them.
    Written band by band and renamed into place.
    """
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": len(bands),
        "dtype": "float32",
        "crs": grid.crs,
        "transform": grid.transform,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "zlevel": 1,
        "num_threads": "all_cpus",
        "bigtiff": "if_safer",
    }
    with replace_when_done(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        for i, (name, values) in enumerate(bands.items(), start=1):
            dst.write(values.astype(np.float32, copy=False), i)
            dst.set_band_description(i, name)
    return path


def read_band(path: Path, band: int = 1) -> tuple[np.ndarray, Grid]:
    """One band of a raster and the grid it lies on (mask: not nodata)."""
    if not path.is_file():
        raise InputFileError(path, "no such raster")
    try:
        with rasterio.open(path) as src:
            data = src.read(band)
            mask = src.read_masks(band) > 0
            if data.dtype.kind == "f":
                mask &= np.isfinite(data)
            grid = Grid.from_raster_profile(src.transform, data.shape, src.crs.to_string(), mask)
    except rasterio.errors.RasterioIOError as exc:
        raise InputFileError(path, f"cannot read raster: {exc}") from None
    return data, grid


def read_map_json(map_dir: Path) -> dict[str, Any]:
    path = Path(map_dir) / MAP
    if not path.is_file():
        raise NotFoundError(f"{map_dir}: not a hazard-map folder (no {MAP})")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def read_input_layers(map_dir: Path, names: list[str]) -> tuple[dict[str, np.ndarray], Grid]:
    """Named bands of a map folder's ``inputs.tif`` (whole grid)."""
    path = Path(map_dir) / INPUTS
    if not path.is_file():
        raise NotFoundError(f"{map_dir}: no {INPUTS} (rebuild the map)")
    with rasterio.open(path) as src:
        index = {d: i + 1 for i, d in enumerate(src.descriptions) if d}
        missing = [n for n in names if n not in index]
        if missing:
            raise InputFileError(path, f"has no band {', '.join(missing)}")
        out = {n: src.read(index[n]) for n in names}
        mask = np.ones((src.height, src.width), dtype=bool)
        grid = Grid.from_raster_profile(
            src.transform, (src.height, src.width), src.crs.to_string(), mask
        )
    return out, grid


@dataclass(frozen=True)
class CellExplanation:
    """Why a cell got its risk: its probability and top feature contributions."""

    x: float
    y: float
    row: int
    col: int
    probability: float
    model_probability: float
    released: str | None
    residual_factor: float
    features: dict[str, float]
    contributions: list[tuple[str, float]]
    baseline: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "x": self.x,
            "y": self.y,
            "row": self.row,
            "col": self.col,
            "probability": self.probability,
            "model_probability": self.model_probability,
            "released": self.released,
            "residual_factor": self.residual_factor,
            "baseline_log_odds": self.baseline,
            "contributions": [
                {"feature": name, "log_odds": value, "value": self.features.get(name)}
                for name, value in self.contributions
            ],
        }


def explain_cell(map_dir: str | Path, x: float, y: float, *, top: int = 3) -> CellExplanation:
    """The risk of the cell holding point (x, y) (map CRS) and its top contributions.

    Contributions are the model's exact TreeSHAP values in log-odds (positive
    raises the risk); with the baseline they add up to the model's score,
    whose calibrated probability is ``model_probability``. ``probability`` is
    the map's value: the same, times ``residual_factor`` when the cell was
    released (``released`` names how; see
    :func:`minemap.risk.labels.residual_factors`). NotFoundError when
    the point is outside the mapped region.
    """
    import pandas as pd

    from minemap.features.catalogue import GROUPS
    from minemap.features.runner import compute_features
    from minemap.risk.model import RiskModel

    map_dir = Path(map_dir)
    info = read_map_json(map_dir)
    risk, grid = read_band(map_dir / RISK)
    rows, cols = grid.rowcol(np.array([x]), np.array([y]))
    row, col = int(rows[0]), int(cols[0])
    if not grid.contains(rows, cols)[0] or not grid.mask[row, col]:
        raise NotFoundError(f"point ({x:.1f}, {y:.1f}) is outside the mapped region")
    cell = grid.cell_size
    halo = max(g.halo(cell) for g in GROUPS)
    r0, c0 = max(0, row - halo), max(0, col - halo)
    r1, c1 = min(grid.height, row + halo + 1), min(grid.width, col + halo + 1)
    window = Window(c0, r0, c1 - c0, r1 - r0)
    with rasterio.open(map_dir / INPUTS) as src:
        index = {d: i + 1 for i, d in enumerate(src.descriptions) if d}
        arrays = {}
        for name, dtype in info["inputs"].items():
            arrays[name] = src.read(index[name], window=window).astype(dtype)
        if RELEASED_BAND in index:
            arrays[RELEASED_BAND] = src.read(index[RELEASED_BAND], window=window).astype(np.uint8)
    stack = compute_features(arrays, cell)
    values = stack.values[:, row - r0, col - c0]
    table = pd.DataFrame([values], columns=stack.names)
    model = RiskModel.load(map_dir / MODEL)
    explained = model.explain(table, top=top)
    contributions = []
    for k in range(1, top + 1):
        name = explained[f"feature_{k}"].iloc[0]
        if name is None or (isinstance(name, float) and math.isnan(name)):
            continue
        contributions.append((str(name), float(explained[f"contribution_{k}"].iloc[0])))
    features = {n: float(v) for n, v in zip(stack.names, values, strict=True)}
    score = float(model.calibrator(model.raw_from_matrix(model.matrix(table, warn=False)))[0])
    factor = float(info.get("odds_factor", 1.0))
    model_probability = score * factor / (score * factor + 1.0 - score)
    code = int(arrays[RELEASED_BAND][row - r0, col - c0]) if RELEASED_BAND in arrays else 0
    released = next((m for m, c in RELEASE_CODES.items() if c == code), None)
    factor_grid = (
        residual_factors(arrays[RELEASED_BAND], info.get("released_residual", {}))
        if RELEASED_BAND in arrays
        else None
    )
    residual = 1.0 if factor_grid is None else float(factor_grid[row - r0, col - c0])
    cx, cy = grid.xy(rows, cols)
    return CellExplanation(
        x=float(cx[0]),
        y=float(cy[0]),
        row=row,
        col=col,
        probability=float(risk[row, col]),
        model_probability=model_probability,
        released=released,
        residual_factor=residual,
        features=features,
        contributions=contributions,
        baseline=float(explained["baseline"].iloc[0]),
    )
