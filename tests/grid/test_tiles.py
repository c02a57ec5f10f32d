"""Tiles with halos cover the grid once and cut back to their inner cells."""

from __future__ import annotations

import numpy as np
import pytest

from minemap.errors import ConfigError
from minemap.grid import make_tiles


@pytest.mark.parametrize(
    ("shape", "size", "halo"), [((10, 7), 3, 2), ((5, 5), 8, 1), ((9, 4), 2, 0)]
)
def test_tiles_cover_every_cell_once(shape: tuple[int, int], size: int, halo: int) -> None:
    seen = np.zeros(shape, dtype=int)
    data = np.arange(shape[0] * shape[1]).reshape(shape)
    for tile in make_tiles(shape, size, halo):
        seen[tile.inner_slices] += 1
        outer = data[tile.outer_slices]
        np.testing.assert_array_equal(outer[tile.trim], data[tile.inner_slices])
        (r0, _), (_, c1) = tile.outer.toranges()
        assert r0 == max(0, tile.row - halo)
        assert c1 == min(shape[1], tile.col + tile.width + halo)
    assert (seen == 1).all()


def test_bad_tile_size_is_refused() -> None:
    with pytest.raises(ConfigError):
        make_tiles((4, 4), 0, 1)
