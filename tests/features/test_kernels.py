"""Feature kernels against small grids worked out by hand; inputs are left untouched."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minemap.features import kernels as k


def frozen(a: np.ndarray) -> np.ndarray:
    """A read-only copy: a kernel that writes into its input fails loudly."""
    b = a.copy()
    b.setflags(write=False)
    return b


def test_capped_distance_by_hand() -> None:
    src = np.zeros((3, 4), dtype=bool)
    src[0, 0] = True
    d = k.capped_distance(frozen(src), 10.0, 25.0)
    expected = np.array(
        [
            [0, 10, 20, 25],
            [10, math.sqrt(200), math.sqrt(500), 25],
            [20, math.sqrt(500), 25, 25],
        ],
        dtype=np.float32,
    )
    np.testing.assert_allclose(d, expected, rtol=1e-6)
    assert d.dtype == np.float32


def test_capped_distance_without_sources_is_the_cap() -> None:
    d = k.capped_distance(np.zeros((2, 2), dtype=bool), 50.0, 300.0)
    assert (d == 300).all()


def test_distance_to_others_leaves_the_cell_out() -> None:
    counts = np.zeros((1, 6), dtype=np.int64)
    counts[0, 1] = 1
    counts[0, 4] = 2
    d = k.capped_distance_to_others(frozen(counts), 10.0, 100.0)
    # the find at col 1 sees the other find cell 3 cells away; col 4 likewise
    assert d.tolist() == [[10.0, 30.0, 10.0, 10.0, 30.0, 10.0]]
    single = np.zeros((1, 3), dtype=np.int64)
    single[0, 0] = 1
    assert k.capped_distance_to_others(single, 10.0, 100.0).tolist() == [[100.0, 10.0, 20.0]]


def test_by_side_picks_the_cells_side() -> None:
    west = np.zeros((1, 5), dtype=bool)
    east = np.zeros((1, 5), dtype=bool)
    west[0, 0] = True
    east[0, 4] = True
    side = np.array([[0, 0, 2, 1, 1]], dtype=np.uint8)
    dw = frozen(k.capped_distance(west, 1.0, 10.0))
    de = frozen(k.capped_distance(east, 1.0, 10.0))
    nearer = frozen(np.minimum(dw, de))
    own = k.by_side(dw, de, frozen(side), nearer)
    other = k.by_side(de, dw, side, nearer)
    assert own.tolist() == [[0, 1, 2, 1, 0]]
    assert other.tolist() == [[4, 3, 2, 3, 4]]


def test_alignment_front_and_back() -> None:
    src = np.zeros((5, 5), dtype=bool)
    src[2, 2] = True
    facing = np.full((5, 5), np.nan, dtype=np.float32)
    facing[2, 2] = 90.0  # faces east
    out = k.alignment(*k.nearest_source(frozen(src), 10.0), frozen(facing), 15.0)
    assert out[2, 3] == pytest.approx(1.0)  # straight in front
    assert out[2, 1] == pytest.approx(-1.0)  # behind
    assert out[1, 2] == pytest.approx(0.0, abs=1e-6)  # to the north: side-on
    assert out[1, 3] == pytest.approx(math.cos(math.radians(45)))
    assert out[2, 2] == 0.0  # the position's own cell
    assert out[2, 0] == 0.0  # beyond the cap (20 m > 15 m)


def test_disk_offsets_and_sum_by_hand() -> None:
    assert k.disk_offsets(10.0, 10.0) == [(-1, 0), (0, 1), (1, 0)]  # a plus sign
    values = np.zeros((3, 3), dtype=np.int64)
    values[1, 1] = 5
    values[0, 0] = 1
    out = k.disk_sum(frozen(values), 10.0, 10.0)
    expected = np.array([[1, 6, 0], [6, 5, 5], [0, 5, 0]])  # (1, 1) is diagonal to (0, 0)
    np.testing.assert_array_equal(out, expected)
    assert k.disk_area_km2(10.0, 10.0) == pytest.approx(5 * 100 / 1e6)


def test_disk_sum_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 5, size=(17, 13))
    r_cells = 3.4
    out = k.disk_sum(values, r_cells * 10, 10.0)
    rows, cols = np.indices(values.shape)
    for r, c in [(0, 0), (8, 6), (16, 12), (5, 11)]:
        near = (rows - r) ** 2 + (cols - c) ** 2 <= r_cells**2
        assert out[r, c] == values[near].sum()


def test_density_leaves_own_count_out() -> None:
    counts = np.zeros((3, 3), dtype=np.int64)
    counts[1, 1] = 2
    counts[1, 2] = 1
    area = k.disk_area_km2(10.0, 10.0)
    d = k.density_per_km2(counts, 10.0, 10.0, exclude_own=True)
    assert d[1, 1] == pytest.approx(1 / area)
    assert d[1, 2] == pytest.approx(2 / area)
    assert d[0, 0] == 0


def test_class_fractions_by_hand() -> None:
    lc = np.array([[1, 1, 2], [0, 2, 2], [3, 3, 3]], dtype=np.uint8)
    forest, pasture = k.class_fractions(frozen(lc), (1, 2), 10.0, 10.0)
    # centre: plus sign holds 1 (up), 0 (left, nodata), 2, 2 (right), 3 (down) -> 4 valid
    assert forest[1, 1] == pytest.approx(1 / 4)
    assert pasture[1, 1] == pytest.approx(2 / 4)
    assert forest[0, 0] == pytest.approx(1.0)  # itself and right; below is nodata


def test_slope_and_aspect_of_a_plane() -> None:
    cell = 10.0
    rows, cols = np.indices((6, 6))
    dem = (cols * cell * 0.1).astype(np.float32)  # rises 0.1 m per metre eastward
    slope = k.slope_deg(frozen(dem), cell)
    assert slope[3, 3] == pytest.approx(math.degrees(math.atan(0.1)), rel=1e-6)
    north, east = k.aspect_components(dem, cell)
    assert east[3, 3] == pytest.approx(-1.0)  # faces west (downhill)
    assert north[3, 3] == pytest.approx(0.0, abs=1e-7)
    assert k.aspect_deg(dem, cell)[3, 3] == pytest.approx(270.0)
    dem_south = (rows * cell * 0.2).astype(np.float32)  # rises southward: faces north
    assert k.aspect_deg(dem_south, cell)[3, 3] == pytest.approx(0.0, abs=1e-4)
    flat = np.zeros((3, 3), dtype=np.float32)
    assert np.isnan(k.aspect_deg(flat, cell)[1, 1])
    assert k.slope_deg(flat, cell)[1, 1] == 0


def test_roughness_by_hand() -> None:
    dem = np.zeros((3, 3), dtype=np.float32)
    dem[1, 1] = 8.0
    r = k.roughness(frozen(dem))
    assert r[1, 1] == pytest.approx(8.0)
    # a corner: its neighbours (edge repeated) are 0 except the centre -> 8/8
    assert r[0, 0] == pytest.approx(1.0)


def test_halo_cells() -> None:
    assert k.halo_cells(5000, 50) == 100
    assert k.halo_cells(251, 50) == 6
