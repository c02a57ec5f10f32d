"""Tiling a grid into windows with halos.

A :class:`Tile` is an inner window of the grid (the cells it answers for) and
an outer window: the inner one grown by ``halo`` cells on every side, cut at
the grid's edge. A kernel that looks at most ``halo`` cells away computes the
inner cells from the outer window exactly as it would from the whole array,
so feature code runs unchanged on one array in memory or on many tiles on a
Dask cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from rasterio.windows import Window

from minemap.errors import ConfigError


@dataclass(frozen=True)
class Tile:
    """One tile: the cells it answers for and the window it reads, halo included."""

    row: int
    col: int
    height: int
    width: int
    halo: int
    grid_shape: tuple[int, int]

    @property
    def inner(self) -> Window:
        return Window(self.col, self.row, self.width, self.height)

    @property
    def outer(self) -> Window:
        r0 = max(0, self.row - self.halo)
        c0 = max(0, self.col - self.halo)
        r1 = min(self.grid_shape[0], self.row + self.height + self.halo)
        c1 = min(self.grid_shape[1], self.col + self.width + self.halo)
        return Window(c0, r0, c1 - c0, r1 - r0)

    @property
    def outer_slices(self) -> tuple[slice, slice]:
        """Slices of the whole array giving the outer window."""
        (r0, r1), (c0, c1) = self.outer.toranges()
        return slice(r0, r1), slice(c0, c1)

    @property
    def inner_slices(self) -> tuple[slice, slice]:
        """Slices of the whole array giving the inner window."""
        return (
            slice(self.row, self.row + self.height),
            slice(self.col, self.col + self.width),
        )

    @property
    def trim(self) -> tuple[slice, slice]:
        """Slices of the outer window's array giving the inner cells."""
        r0 = self.row - max(0, self.row - self.halo)
        c0 = self.col - max(0, self.col - self.halo)
        return slice(r0, r0 + self.height), slice(c0, c0 + self.width)


def make_tiles(shape: tuple[int, int], size: int, halo: int) -> list[Tile]:
    """Tiles of at most ``size`` x ``size`` inner cells covering ``shape``, row by row."""
    if size < 1:
        msg = f"tile size must be at least 1 cell, got {size}"
        raise ConfigError(msg)
    if halo < 0:
        msg = f"halo must not be negative, got {halo}"
        raise ConfigError(msg)
    height, width = shape
    return [
        Tile(r, c, min(size, height - r), min(size, width - c), halo, (height, width))
        for r in range(0, height, size)
        for c in range(0, width, size)
    ]
