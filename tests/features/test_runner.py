"""One implementation, two runners: Dask tiles with halos equal the in-memory arrays."""

from __future__ import annotations

import numpy as np
import pytest

from minemap.features import FEATURES, compute_features
from minemap.features.catalogue import input_names


def random_inputs(shape: tuple[int, int], seed: int) -> dict[str, np.ndarray]:
    """Every input layer, sparse sources scattered at random."""
    rng = np.random.default_rng(seed)
    a: dict[str, np.ndarray] = {}
    for name in input_names():
        a[name] = rng.random(shape) < 0.01
    a["region"] = np.ones(shape, dtype=bool)
    a["side"] = (np.indices(shape)[1] > shape[1] // 2).astype(np.uint8)
    a["side"][:, shape[1] // 2] = 2
    a["facing_deg"] = np.where(
        a["positions_west"] | a["positions_east"], rng.uniform(0, 360, shape), np.nan
    ).astype(np.float32)
    a["sha"] = np.zeros(shape, dtype=bool)
    a["sha"][10:20, 5:30] = True
    for name in ("finds", "accidents", "population", "displaced"):
        a[name] = np.where(rng.random(shape) < 0.02, rng.integers(1, 50, shape), 0)
    y, x = np.indices(shape)
    a["dem"] = (np.sin(x / 7.0) * 40 + y * 3.0 + rng.normal(0, 1, shape)).astype(np.float32)
    a["dem"][0, 0] = np.nan
    a["landcover"] = rng.integers(0, 7, shape).astype(np.uint8)
    return a


@pytest.fixture(scope="module")
def inputs() -> dict[str, np.ndarray]:
    return random_inputs((70, 53), seed=11)


# a coarse cell so the distance caps (5-10 km) become halos of 10-20 cells,
# smaller than the grid: tiles then really depend on their halos
CELL = 500.0


def test_memory_runner_gives_every_feature(inputs: dict[str, np.ndarray]) -> None:
    before = {k: v.copy() for k, v in inputs.items()}
    stack = compute_features(inputs, CELL)
    assert stack.names == [f.name for f in FEATURES]
    assert len(stack.names) >= 20
    assert stack.values.shape == (len(FEATURES), 70, 53)
    assert stack.values.dtype == np.float32
    for k, v in before.items():
        np.testing.assert_array_equal(inputs[k], v, err_msg=f"input {k} was modified")
    assert np.isfinite(stack["dist_front_line"]).all()


def test_dask_tiles_equal_memory(inputs: dict[str, np.ndarray]) -> None:
    memory = compute_features(inputs, CELL)
    tiled = compute_features(inputs, CELL, dask="threads", tile_size=16)
    for i, name in enumerate(memory.names):
        np.testing.assert_array_equal(tiled.values[i], memory.values[i], err_msg=name)


def test_distributed_cluster_equals_memory(inputs: dict[str, np.ndarray]) -> None:
    distributed = pytest.importorskip("distributed")
    memory = compute_features(inputs, CELL)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        tiled = compute_features(inputs, CELL, dask=client, tile_size=24)
    np.testing.assert_array_equal(tiled.values, memory.values)


def test_at_gives_a_feature_table(inputs: dict[str, np.ndarray]) -> None:
    stack = compute_features(inputs, CELL)
    rows, cols = np.array([0, 5]), np.array([3, 7])
    table = stack.at(rows, cols)
    assert table.shape == (2, len(stack.names))
    assert table[1, 0] == stack.values[0, 5, 7]
