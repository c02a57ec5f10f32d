"""Putting vector and raster layers onto a :class:`~minemap.grid.grid.Grid`.

Vector layers are burnt with :func:`rasterio.features.rasterize` (lines with
``all_touched`` so a line stays connected from cell to cell; polygons by cell
centre); points are counted or summed per cell with NumPy; rasters in any CRS
or resolution are warped onto the grid with :func:`rasterio.warp.reproject`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import rasterio
import rasterio.features
import rasterio.warp
import shapely
from numpy.typing import DTypeLike
from rasterio.enums import MergeAlg, Resampling
from shapely.geometry.base import BaseGeometry

from minemap.errors import InputFileError
from minemap.grid.grid import Grid


def _valid(geometries: Iterable[BaseGeometry | None]) -> list[BaseGeometry]:
    return [g for g in geometries if g is not None and not g.is_empty]


def burn(
    grid: Grid, geometries: Iterable[BaseGeometry | None], *, all_touched: bool = False
) -> np.ndarray:
    """A bool array: True in the cells the geometries cover.

    Polygons cover the cells whose centre is inside (``all_touched=False``);
    pass ``all_touched=True`` for lines and points so every cell they cross is
    burnt.
    """
    shapes = _valid(geometries)
    if not shapes:
        return np.zeros(grid.shape, dtype=bool)
    out = rasterio.features.rasterize(
        ((g, 1) for g in shapes),
        out_shape=grid.shape,
        transform=grid.transform,
        fill=0,
        all_touched=all_touched,
        dtype="uint8",
    )
    return out.astype(bool)


def burn_values(
    grid: Grid,
    geometries: Iterable[BaseGeometry | None],
    values: Iterable[float],
    *,
    fill: float = 0,
    dtype: DTypeLike = np.float32,
    all_touched: bool = False,
    add: bool = False,
) -> np.ndarray:
    """Burn one value per geometry; later geometries win unless ``add`` sums them."""
    pairs = [
        (g, v) for g, v in zip(geometries, values, strict=True) if g is not None and not g.is_empty
    ]
    if not pairs:
        return np.full(grid.shape, fill, dtype=dtype)
    return rasterio.features.rasterize(
        pairs,
        out_shape=grid.shape,
        transform=grid.transform,
        fill=fill,
        all_touched=all_touched,
        merge_alg=MergeAlg.add if add else MergeAlg.replace,
        dtype=np.dtype(dtype).name,
    )


def point_cells(
    grid: Grid, geometries: Iterable[BaseGeometry | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and source indices of the points that fall on the grid.

    Multi-points contribute each of their parts (with the index of their row).
    """
    geoms = (
        geometries
        if isinstance(geometries, np.ndarray)
        else np.asarray(list(geometries), dtype=object)
    )
    if geoms.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    kinds = shapely.get_type_id(geoms)
    if (kinds == shapely.GeometryType.POINT).all():
        # the common case, and the fast one: one coordinate pair per point
        coords, index = shapely.get_coordinates(geoms, return_index=True)
    else:
        parts, index = shapely.get_parts(geoms, return_index=True)
        coords = shapely.get_coordinates(parts)
        if len(coords) != len(parts):
            msg = "point_cells expects point geometries"
            raise ValueError(msg)
    rows, cols = grid.rowcol(coords[:, 0], coords[:, 1])
    inside = grid.contains(rows, cols)
    return rows[inside], cols[inside], np.asarray(index)[inside]


def count_points(grid: Grid, geometries: Iterable[BaseGeometry | None]) -> np.ndarray:
    """Number of points in each cell (int32)."""
    return sum_points(grid, geometries, None).astype(np.int32)


def sum_points(
    grid: Grid, geometries: Iterable[BaseGeometry | None], weights: np.ndarray | None
) -> np.ndarray:
    """Sum of ``weights`` (one per geometry; 1 when None) of the points in each cell (int64).

    Weights are rounded to whole numbers (people, devices) so that every later
    window sum over them is exact integer arithmetic.
    """
    rows, cols, index = point_cells(grid, geometries)
    flat = rows * grid.width + cols
    if weights is None:
        out = np.bincount(flat, minlength=grid.n_cells)
    else:
        w = np.rint(np.nan_to_num(np.asarray(weights, dtype=np.float64)[index], nan=0.0))
        out = np.bincount(flat, weights=w, minlength=grid.n_cells)
    return out.astype(np.int64).reshape(grid.shape)


def warp_raster(
    grid: Grid,
    path: Path,
    *,
    resampling: Resampling = Resampling.bilinear,
    dtype: DTypeLike = np.float32,
    nodata: float = np.nan,
) -> np.ndarray:
    """Band 1 of the raster at ``path`` reprojected and resampled onto ``grid``.

    Cells the source does not cover get ``nodata``.
    """
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputFileError(path, f"cannot read raster: {exc}") from None
    with src:
        if src.crs is None:
            raise InputFileError(path, "raster has no CRS")
        out = np.full(grid.shape, nodata, dtype=dtype)
        rasterio.warp.reproject(
            source=rasterio.band(src, 1),
            destination=out,
            src_transform=src.transform,
            src_crs=src.crs,
            src_nodata=src.nodata,
            dst_transform=grid.transform,
            dst_crs=grid.crs,
            dst_nodata=nodata,
            resampling=resampling,
            num_threads=2,
        )
    return out
