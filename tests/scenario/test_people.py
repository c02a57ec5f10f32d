"""Victims follow the published Azerbaijani mix and scale with area."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyogrio
import pytest

from minemap.scenario.frame import pick
from minemap.scenario.mining import Minefield, Truth
from minemap.scenario.people import Accident, draw_victims, victim_groups, yearly_victims
from minemap.scenario.presets import KARABAKH

PEOPLE = KARABAKH.people


def test_victims_scale_with_area_and_match_the_published_count() -> None:
    for scale in (0.01, 0.2, 1.0):
        per_year = yearly_victims(PEOPLE, scale, dt.date(2023, 12, 31))
        assert sum(per_year.values()) == pytest.approx(350.0 * scale, rel=0.01)
    later = yearly_victims(PEOPLE, 1.0, dt.date(2026, 6, 30))
    assert later[2024] < later[2023]
    assert later[2025] < later[2024]


def _world(models: list[str], categories: list[str]) -> Truth:
    n = len(models)
    return Truth(
        x=np.zeros(n),
        y=np.zeros(n),
        minefield=np.zeros(n, dtype=np.int64),
        model=np.array(models, dtype=object),
        category=np.array(categories, dtype=object),
        laid_year=np.full(n, 2000),
        minefields=[Minefield(polygon=None, pattern="ap_belt", side="west", period="1994-2020")],  # type: ignore[arg-type]
        found_on=np.zeros(n, dtype=np.int64),
        detonated_on=np.zeros(n, dtype=np.int64),
    )


def test_victim_mix_matches_the_preset_on_a_large_sample() -> None:
    rng = np.random.default_rng(0)
    n = 6_000
    mix = (
        ("PMN-2", "AP", 0.5),
        ("OZM-72", "AP", 0.15),
        ("TM-62M", "AT", 0.15),
        ("9N235", "submunition", 0.1),
        ("122mm HE shell", "UXO", 0.1),
    )
    idx = rng.choice(len(mix), size=n, p=[m[2] for m in mix])
    truth = _world([mix[i][0] for i in idx], [mix[i][1] for i in idx])
    groups = pick(rng, victim_groups(PEOPLE), n)
    activity = {"civilian": "farming", "military": "military_duty", "deminer": "demining"}
    accidents = [
        Accident(dt.date(2022, 5, 1), 0.0, 0.0, activity[g], g, i, None, None, -1, -1, -1, "")
        for i, g in enumerate(groups.tolist())
    ]
    victims = draw_victims(accidents, truth, PEOPLE, rng)
    outcome = np.array([v.outcome for v in victims])
    group = np.array([v.group for v in victims])
    killed = outcome == "killed"
    assert killed.mean() == pytest.approx(65 / 350, abs=0.02)
    assert (group[killed] == "civilian").mean() + (
        group[killed] == "deminer"
    ).mean() == pytest.approx(50 / 65, abs=0.04)
    assert (group == "military").mean() == pytest.approx(15 / 65, abs=0.02)
    sexes = np.array([v.sex for v in victims])
    assert (sexes[group == "civilian"] == "male").mean() == pytest.approx(0.88, abs=0.03)
    # anti-tank mines kill more often than blast anti-personnel mines
    dev_cat = np.array([truth.category[accidents[v.accident].device] for v in victims])
    assert killed[dev_cat == "AT"].mean() > killed[dev_cat == "AP"].mean()


def test_scenario_victims_are_plausible(scenario_dir: Path) -> None:
    victims = pyogrio.read_dataframe(scenario_dir / "observed.gpkg", layer="victims")
    accidents = pyogrio.read_dataframe(scenario_dir / "observed.gpkg", layer="accidents")
    assert set(victims["accident_ref"]) == set(accidents["ref"])
    assert victims["name"].isna().all()
    assert victims["contact"].isna().all()
    assert accidents["occurred_on"].min() >= "2020-11-10"
    assert accidents["occurred_on"].max() <= "2026-06-30"
