"""Labels from records, worked out by hand on a 10 x 10 grid of 10 m cells."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, box

from minemap.grid import Region
from minemap.grid.layers import Layers
from minemap.risk.labels import NEGATIVE, POSITIVE, UNKNOWN, LabelRules, make_labels

CRS = "EPSG:32638"


def frame(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=CRS)


def test_labels_by_hand() -> None:
    grid = Region(box(0, 0, 100, 100), CRS, 10.0).grid()
    layers = Layers(crs=CRS)
    # a CHA over the top-left 40 x 40 m with one find at its corner cell (row 0, col 0)
    layers.frames["hazards"] = frame(
        [
            {
                "ref": "HA-1",
                "type": "CHA",
                "status": "open",
                "geometry": MultiPolygon([box(0, 60, 40, 100)]),
            },
            {
                "ref": "HA-2",
                "type": "CHA",
                "status": "closed",
                "geometry": MultiPolygon([box(60, 60, 100, 100)]),
            },
        ]
    )
    layers.frames["finds"] = frame(
        [{"ref": "FD-1", "geometry": Point(5, 95)}, {"ref": "FD-2", "geometry": Point(75, 95)}]
    )
    # cleared bottom half; cancelled nothing else
    layers.frames["releases"] = frame(
        [{"ref": "RL-1", "method": "cleared", "geometry": MultiPolygon([box(0, 0, 100, 50)])}]
    )
    labels = make_labels(layers, grid, rules=LabelRules(cha_radius_m=15.0, find_margin_m=20.0))
    out = labels.grid
    # finds are positive
    assert out[0, 0] == POSITIVE
    assert out[0, 7] == POSITIVE
    # CHA cells within 15 m of the find: (0,1), (1,0), (1,1) (14.1 m); (0,2) is 20 m away
    assert out[0, 1] == out[1, 0] == out[1, 1] == POSITIVE
    assert out[0, 2] == UNKNOWN
    assert out[3, 3] == UNKNOWN  # in the CHA, far from evidence: not negative, not positive
    # the closed CHA around the second find does not make positives
    assert out[0, 6] == UNKNOWN
    # cleared land is negative
    assert (out[5:, :] == NEGATIVE).all()
    assert out[4, 4] == UNKNOWN  # above the cleared land
    assert labels.positives == 5
    assert labels.negatives == 50
    assert labels.counts["negative_cleared"] == 50
    assert labels.counts["cha_unknown"] == 16 - 4


def test_finds_keep_released_land_around_them_unknown() -> None:
    grid = Region(box(0, 0, 100, 100), CRS, 10.0).grid()
    layers = Layers(crs=CRS)
    layers.frames["finds"] = frame([{"ref": "FD-1", "geometry": Point(55, 55)}])
    layers.frames["releases"] = frame(
        [{"ref": "RL-1", "method": "reduced", "geometry": MultiPolygon([box(0, 0, 100, 100)])}]
    )
    out = make_labels(layers, grid, rules=LabelRules(find_margin_m=10.0)).grid
    assert out[4, 5] == POSITIVE
    # the 4 neighbours at 10 m stay unknown; diagonals (14 m) are negative
    for r, c in [(3, 5), (5, 5), (4, 4), (4, 6)]:
        assert out[r, c] == UNKNOWN
    assert out[3, 4] == NEGATIVE
    assert (out == NEGATIVE).sum() == 100 - 5


def test_outside_region_is_unknown() -> None:
    from shapely.geometry import Polygon

    tri = Polygon([(0, 0), (100, 0), (0, 100)])
    grid = Region(tri, CRS, 10.0).grid()
    layers = Layers(crs=CRS)
    layers.frames["releases"] = frame(
        [{"ref": "RL-1", "method": "cancelled", "geometry": MultiPolygon([box(0, 0, 100, 100)])}]
    )
    out = make_labels(layers, grid).grid
    np.testing.assert_array_equal(out == NEGATIVE, grid.mask)


def test_residual_factors_inside_and_on_the_edge_of_released_land() -> None:
    from minemap.risk.labels import RELEASE_CODES, residual_factors

    released = np.zeros((7, 7), dtype=np.uint8)
    released[1:6, 1:6] = RELEASE_CODES["cleared"]
    released[3, 3] = RELEASE_CODES["cancelled"]
    factors = residual_factors(released, {"cleared": 0.1, "cancelled": 0.5})
    assert factors[0, 0] == 1.0  # not released
    assert factors[1, 1] == pytest.approx(0.55)  # on the edge: half searched
    assert factors[2, 2] == pytest.approx(0.1)  # wholly inside cleared land
    assert factors[3, 3] == pytest.approx(0.5)
    assert factors.dtype == np.float32
