"""Strategies against a hand-made truth: the planner finds more mines per team-day."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from minemap.plan.forecast import History
from minemap.plan.inputs import PlanContext
from minemap.plan.prioritise import load_weights, prioritise
from minemap.plan.simulate import mines_per_hazard, read_truth, simulate


def _truth(ctx: PlanContext, path: Path, rng: np.random.Generator) -> Path:
    """Mines where the map says: each hazard holds mines in proportion to its expected
    contaminated area (the map is right on average), plus found and set-off devices."""
    hazards = ctx.hazards
    expected = hazards["expected_m2"].to_numpy()
    counts = rng.poisson(expected / expected.sum() * 2000)
    points = []
    for geom, n in zip(hazards.geometry, counts, strict=True):
        x0, y0, x1, y1 = geom.bounds
        xs = rng.uniform(x0, x1, 4 * n + 8)
        ys = rng.uniform(y0, y1, 4 * n + 8)
        inside = gpd.GeoSeries(gpd.points_from_xy(xs, ys)).within(geom).to_numpy()
        points += list(gpd.points_from_xy(xs[inside], ys[inside])[:n])
    found = np.zeros(len(points), dtype=bool)
    found[:50] = True  # already found: not in the ground any more
    frame = gpd.GeoDataFrame({"found": found, "detonated": False}, geometry=points, crs=hazards.crs)
    frame.to_file(path, layer="mines")
    return path


def test_found_and_set_off_devices_are_not_in_the_ground(
    small_context: PlanContext, tmp_path: Path
) -> None:
    path = _truth(small_context, tmp_path / "truth.gpkg", np.random.default_rng(0))
    all_devices = gpd.read_file(path, layer="mines")
    alive = read_truth(path, small_context.hazards.crs)
    assert len(alive) == len(all_devices) - 50
    assert mines_per_hazard(small_context.hazards, alive).sum() == len(alive)


def test_the_planner_beats_the_status_quo(small_context: PlanContext, tmp_path: Path) -> None:
    ctx = small_context
    truth = _truth(ctx, tmp_path / "truth.gpkg", np.random.default_rng(1))
    pr = prioritise(
        ctx.hazards, load_weights(), settlements=ctx.settlements, accidents=ctx.accidents
    )
    history = History(casualties=20, years=4)
    result = simulate(ctx, pr, truth, years=1, history=history, time_limit=5)
    rows = {r["strategy"]: r for r in result["strategies"]}
    assert set(rows) == {"status quo", "hazard-map guided", "minemap planner"}
    planner, status_quo = rows["minemap planner"], rows["status quo"]
    assert planner["mines_per_team_day"] > status_quo["mines_per_team_day"]
    assert planner["mines_found"] > status_quo["mines_found"]
    assert planner["casualties"] < status_quo["casualties"]
    assert planner["mines_per_team_day_vs_status_quo"] == pytest.approx(
        planner["mines_per_team_day"] / status_quo["mines_per_team_day"], rel=1e-2
    )
    # found by year never goes down, and never above what is in the open hazards
    for row in rows.values():
        by_year = row["mines_found_by_year"]
        assert by_year == sorted(by_year)
        assert by_year[-1] <= result["mines_inside_open_hazards"] + 1e-6
