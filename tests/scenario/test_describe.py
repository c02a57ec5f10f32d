"""``scenario describe`` reports exactly what the folder's files hold."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyogrio
import pytest

from minemap.scenario import describe
from minemap.scenario.describe import ANAMA_2018_M2_PER_STAFF_MONTH


def test_counts_are_those_of_observed_gpkg(scenario_dir: Path) -> None:
    d = describe(scenario_dir)
    observed = scenario_dir / "observed.gpkg"
    accidents = pyogrio.read_dataframe(observed, layer="accidents")
    victims = pyogrio.read_dataframe(observed, layer="victims")
    finds = pyogrio.read_dataframe(observed, layer="finds", read_geometry=False)
    hazards = pyogrio.read_dataframe(observed, layer="hazards")
    releases = pyogrio.read_dataframe(observed, layer="releases")
    assert d.accidents == len(accidents)
    assert sum(sum(v.values()) for v in d.victims.values()) == len(victims)
    for (group, outcome), n in victims.groupby(["group", "outcome"]).size().items():
        assert d.victims[str(group)][str(outcome)] == n
    assert d.finds == len(finds)
    assert d.counts["finds"] == len(finds)
    assert d.counts["accidents"] == len(accidents)
    assert d.hazards_by_status == hazards["status"].value_counts().to_dict()
    for method in ("cancelled", "reduced", "cleared"):
        area = releases.loc[releases["method"] == method, "area_m2"].sum() / 1e6
        assert d.released_km2[method] == pytest.approx(area)
    text = d.text()
    assert f"Accidents: {len(accidents)}; victims {len(victims)}" in text


def test_truth_figures_are_those_of_truth_gpkg(scenario_dir: Path) -> None:
    d = describe(scenario_dir)
    mines = pyogrio.read_dataframe(scenario_dir / "truth.gpkg", layer="mines")
    fields = pyogrio.read_dataframe(scenario_dir / "truth.gpkg", layer="minefields")
    assert d.devices_by_category == mines["category"].value_counts().to_dict()
    assert sum(d.devices_by_model.values()) == len(mines)
    assert d.devices_found == int(mines["found"].sum())
    assert sum(d.minefields_by_pattern.values()) == len(fields)


def test_the_fleet_and_its_output(scenario_dir: Path) -> None:
    d = describe(scenario_dir)
    observed = scenario_dir / "observed.gpkg"
    teams = pyogrio.read_dataframe(observed, layer="teams")
    assets = pyogrio.read_dataframe(observed, layer="assets")
    releases = pyogrio.read_dataframe(observed, layer="releases")
    serving = teams[teams["ref"].isin(assets.loc[assets["status"] != "retired", "team_ref"])]
    assert sum(d.teams_by_type.values()) == len(serving)
    assert d.staff == int((serving["staff_male"] + serving["staff_female"]).sum())
    since = str(dt.date(2025, 6, 30))
    recent = releases[releases["released_on"] > since]
    assert d.released_last_year_km2 == pytest.approx(recent["area_m2"].sum() / 1e6)
    assert d.m2_per_staff_month == pytest.approx(recent["area_m2"].sum() / 12 / d.staff)
    assert f"{ANAMA_2018_M2_PER_STAFF_MONTH:,.0f}" in d.text()
