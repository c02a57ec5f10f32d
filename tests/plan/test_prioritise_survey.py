"""Priorities explained term by term; survey results move probabilities around them."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from shapely.geometry import Point, box

from minemap.errors import ConfigError
from minemap.plan.inputs import PlanContext
from minemap.plan.prioritise import TERMS, load_weights, parse_weights, prioritise
from minemap.plan.survey import update_probability


def test_scores_are_explained_and_sensitivity_reported(small_context: PlanContext) -> None:
    c = small_context
    pr = prioritise(c.hazards, load_weights(), settlements=c.settlements, accidents=c.accidents)
    t = pr.table
    parts = t[[f"{term}_contribution" for term in TERMS]].sum(axis=1)
    assert np.allclose(parts, t["score"], atol=1e-5)
    assert (t["best_rank_sensitivity"] <= t["rank"]).all()
    assert (t["worst_rank_sensitivity"] >= t["rank"]).all()
    assert set(pr.sensitivity["change"]) == {"-20%", "+20%"}
    assert pr.sensitivity["spearman"].between(-1, 1).all()
    assert t["explanation"].str.contains("contamination").any()


def test_weights_only_contamination_ranks_by_expected_area(small_context: PlanContext) -> None:
    c = small_context
    w = parse_weights({"weights": {"contamination": 1.0}}, Path("w.toml"))
    t = prioritise(c.hazards, w).table
    expected = c.hazards.set_index("id").loc[t["hazard_id"], "expected_m2"].to_numpy()
    assert np.all(np.diff(expected) <= 1e-6)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"weights": {"beauty": 1.0}}, "unknown term"),
        ({"weights": {"people": -1.0}}, "must not be negative"),
        ({"weights": {"people": 0.0}}, "at least one weight"),
        ({"colour": {}}, "key 'colour'"),
    ],
)
def test_bad_weights(data: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_weights(data, Path("w.toml"))  # type: ignore[arg-type]


def test_a_find_raises_its_neighbours_and_a_release_lowers_them() -> None:
    transform = Affine(50.0, 0.0, 0.0, 0.0, -50.0, 5000.0)
    risk = np.full((100, 100), 0.1)
    find = gpd.GeoSeries([Point(1025, 3975)])
    after = update_probability(risk, transform, finds=find)
    # the find's cell and cells 200 m away both rise; far cells do not
    assert after[20, 20] > 0.3
    assert after[20, 24] > 0.12
    assert after[80, 80] == pytest.approx(0.1)
    released = gpd.GeoSeries([box(3000, 1000, 3500, 1500)])
    after = update_probability(risk, transform, released=released)
    assert after[75, 65] < 0.01  # inside
    assert after[75, 72] < 0.1  # next to it
    assert after[10, 10] == pytest.approx(0.1)
