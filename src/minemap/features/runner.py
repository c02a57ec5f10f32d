"""Running the feature kernels: in memory, or tile by tile on Dask.

One implementation, two runners. :func:`compute_features` either calls each
group's kernel on the whole arrays, or cuts the grid into
:class:`~minemap.grid.tiles.Tile` windows with the group's halo, runs the same
kernel on every window as a Dask task (threads, processes, or a
``distributed`` cluster) and keeps each tile's inner cells. The halo equals
the kernel's reach, so both runners return identical arrays.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from minemap.errors import ConfigError
from minemap.features.catalogue import GROUPS, FeatureGroup, group
from minemap.grid.tiles import Tile, make_tiles

log = logging.getLogger(__name__)

#: Inner tile size (cells) of the Dask runner.
TILE_SIZE = 1024


@dataclass
class FeatureStack:
    """Feature rasters: ``values[i]`` is the grid of feature ``names[i]`` (float32)."""

    names: list[str]
    values: np.ndarray

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[self.names.index(name)]

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The feature table of cells (rows, cols): one row per cell, one column per feature."""
        return np.ascontiguousarray(self.values[:, rows, cols].T)


def _check_inputs(arrays: Mapping[str, np.ndarray], groups: Sequence[FeatureGroup]) -> None:
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) != 1:
        msg = f"feature inputs must share one grid shape, got {sorted(shapes)}"
        raise ConfigError(msg)
    missing = sorted({i for g in groups for i in g.inputs} - set(arrays))
    if missing:
        msg = f"feature inputs missing: {', '.join(missing)}"
        raise ConfigError(msg)


def run_group_tile(
    name: str, arrays: Mapping[str, np.ndarray], cell: float, trim: tuple[slice, slice]
) -> np.ndarray:
    """One group's features on one tile's outer window, cut to its inner cells.

    A module-level function found by group name, so Dask workers in other
    processes can run it.
    """
    g = group(name)
    outs = g.compute(arrays, cell)
    return np.stack([o[trim] for o in outs]).astype(np.float32, copy=False)


def compute_features(
    arrays: Mapping[str, np.ndarray],
    cell: float,
    *,
    groups: Sequence[FeatureGroup] = GROUPS,
    dask: bool | str | Any = False,
    tile_size: int = TILE_SIZE,
) -> FeatureStack:
    """Every feature of ``groups`` from the input layers on the grid.

    ``dask`` is ``False`` (in memory, the default), ``True`` or a scheduler name
    (``"threads"``, ``"processes"``, ``"synchronous"``) for local Dask, or a
    ``distributed.Client`` whose cluster runs the tiles.
    """
    _check_inputs(arrays, groups)
    shape = next(iter(arrays.values())).shape
    names = [f.name for g in groups for f in g.features]
    values = np.empty((len(names), *shape), dtype=np.float32)
    if dask is False:
        k = 0
        for g in groups:
            outs = g.compute(arrays, cell)
            for o in outs:
                values[k] = o
                k += 1
        return FeatureStack(names, values)
    _compute_on_dask(arrays, cell, groups, values, dask_option=dask, tile_size=tile_size)
    return FeatureStack(names, values)


def _compute_on_dask(
    arrays: Mapping[str, np.ndarray],
    cell: float,
    groups: Sequence[FeatureGroup],
    values: np.ndarray,
    *,
    dask_option: bool | str | Any,
    tile_size: int,
) -> None:
    try:
        import dask
    except ImportError:
        from minemap.errors import MissingDependencyError

        msg = "the Dask runner needs dask: pip install 'minemap[dask]'"
        raise MissingDependencyError(msg) from None

    shape = values.shape[1:]
    jobs: list[tuple[int, Tile, Any]] = []
    start = 0
    for g in groups:
        tiles = make_tiles(shape, tile_size, g.halo(cell))
        for tile in tiles:
            window = {name: arrays[name][tile.outer_slices] for name in g.inputs}
            task = dask.delayed(run_group_tile, pure=False)(g.name, window, cell, tile.trim)
            jobs.append((start, tile, task))
        start += len(g.features)
    log.info("computing %d feature tiles on Dask", len(jobs))
    if isinstance(dask_option, str):
        results = dask.compute(*[j[2] for j in jobs], scheduler=dask_option)
    elif dask_option is True:
        results = dask.compute(*[j[2] for j in jobs], scheduler="threads")
    else:
        client: Any = dask_option
        futures = client.compute([j[2] for j in jobs])
        results = client.gather(futures)
    for (first, tile, _), block in zip(jobs, results, strict=True):
        rows, cols = tile.inner_slices
        values[first : first + block.shape[0], rows, cols] = block
