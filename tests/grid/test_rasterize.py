"""Layers onto the grid: polygons by cell centre, lines touched, points counted, rasters warped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from shapely.geometry import LineString, MultiPoint, Point, box

from minemap.errors import InputFileError
from minemap.grid import Region
from minemap.grid import rasterize as rz
from minemap.grid.grid import Grid


@pytest.fixture
def grid() -> Grid:
    return Region(box(0, 0, 500, 500), "EPSG:32638", 100.0).grid()


def test_burn_polygon_by_cell_centre(grid: Grid) -> None:
    out = rz.burn(grid, [box(0, 0, 160, 240), None])
    expected = np.zeros((5, 5), dtype=bool)
    expected[3:, 0:2] = True  # centres (50|150, 50|150) are inside; y=250 is not
    np.testing.assert_array_equal(out, expected)


def test_burn_line_touches_every_cell(grid: Grid) -> None:
    out = rz.burn(grid, [LineString([(10, 450), (490, 450)])], all_touched=True)
    assert out[0].all()
    assert out.sum() == 5


def test_burn_nothing_gives_false(grid: Grid) -> None:
    assert not rz.burn(grid, []).any()


def test_points_counted_and_summed(grid: Grid) -> None:
    pts = [Point(10, 10), Point(20, 30), Point(450, 450), Point(900, 900), MultiPoint([(150, 50)])]
    counts = rz.count_points(grid, pts)
    assert counts[4, 0] == 2
    assert counts[0, 4] == 1
    assert counts[4, 1] == 1
    assert counts.sum() == 4  # the point outside the grid is dropped
    people = rz.sum_points(grid, pts, np.array([100, 50.4, np.nan, 7, 3]))
    assert people[4, 0] == 150
    assert people[0, 4] == 0
    assert people[4, 1] == 3


def test_burn_values_add(grid: Grid) -> None:
    out = rz.burn_values(grid, [box(0, 0, 200, 200), box(0, 0, 100, 100)], [1, 2], add=True)
    assert out[4, 0] == 3
    assert out[3, 1] == 1


def test_warp_raster_from_other_resolution(tmp_path: Path, grid: Grid) -> None:
    path = tmp_path / "dem.tif"
    data = np.arange(100, dtype=np.float32).reshape(10, 10)
    profile = {
        "driver": "GTiff",
        "width": 10,
        "height": 10,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:32638",
        "transform": Affine(50, 0, 0, 0, -50, 500),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    out = rz.warp_raster(grid, path, resampling=Resampling.average)
    # each 100 m cell averages a 2 x 2 block of 50 m cells
    assert out[0, 0] == pytest.approx(data[0:2, 0:2].mean())
    assert out[4, 4] == pytest.approx(data[8:10, 8:10].mean())


def test_warp_unreadable_raster(tmp_path: Path, grid: Grid) -> None:
    bad = tmp_path / "dem.tif"
    bad.write_text("not a raster")
    with pytest.raises(InputFileError, match=r"dem\.tif"):
        rz.warp_raster(grid, bad)
