"""Region and grid: metric CRS, snapping to whole cells, mask, coordinates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from rasterio.windows import Window
from shapely.geometry import Polygon, box

from minemap.errors import ConfigError
from minemap.grid import Region


def test_grid_is_snapped_to_whole_cells_and_masks_by_cell_centre() -> None:
    # a triangle: cells whose centre is under the diagonal are inside
    tri = Polygon([(1010, 2010), (1210, 2010), (1010, 2210)])
    grid = Region(tri, "EPSG:32638", 50.0).grid()
    assert grid.bounds == (1000.0, 2000.0, 1250.0, 2250.0)
    assert grid.shape == (5, 5)
    x, y = grid.cell_centres()
    # centre (1025, 2025) is inside, (1225, 2225) outside
    assert grid.mask[4, 0]
    assert not grid.mask[0, 4]
    inside = (x - 1010) + (y - 2010) < 200
    inside &= (x > 1010) & (y > 2010)
    np.testing.assert_array_equal(grid.mask, inside)


def test_rowcol_and_xy_round_trip() -> None:
    grid = Region(box(0, 0, 500, 300), "EPSG:32638", 50.0).grid()
    rows, cols = grid.rowcol(np.array([25.0, 499.0]), np.array([275.0, 1.0]))
    assert rows.tolist() == [0, 5]
    assert cols.tolist() == [0, 9]
    x, y = grid.xy(rows, cols)
    assert x.tolist() == [25.0, 475.0]
    assert y.tolist() == [275.0, 25.0]
    assert grid.contains(np.array([-1, 0, 6]), np.array([0, 0, 0])).tolist() == [False, True, False]


def test_window_keeps_the_lattice() -> None:
    grid = Region(box(0, 0, 500, 300), "EPSG:32638", 50.0).grid()
    sub = grid.window(Window(2, 1, 3, 2))
    assert sub.shape == (2, 3)
    assert sub.bounds == (100.0, 150.0, 250.0, 250.0)


def test_geographic_crs_is_refused() -> None:
    with pytest.raises(ConfigError, match="not projected in metres"):
        Region(box(44, 39, 45, 40), "EPSG:4326")


def test_bad_cell_size_is_refused() -> None:
    with pytest.raises(ConfigError, match="cell size"):
        Region(box(0, 0, 100, 100), "EPSG:32638", 0.0)


def test_too_many_cells_is_refused() -> None:
    with pytest.raises(ConfigError, match="use a larger --cell"):
        Region(box(0, 0, 1e6, 1e6), "EPSG:32638", 1.0).grid()


def test_region_from_frame_unions_polygons() -> None:
    frame = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=32638)
    region = Region.from_frame(frame, 50)
    assert region.area_km2 == pytest.approx(0.02)
    assert region.grid().mask.all()
