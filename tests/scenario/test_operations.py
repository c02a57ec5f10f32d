"""The history of 2021 to the snapshot is consistent with its own fleet and the catalogue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest

from minemap.plan.catalogue import load_catalogue
from minemap.plan.forecast import recorded_pace
from minemap.plan.inputs import COVER_OF_LAND_USE, prepare_assets, raster_zonal_mean
from minemap.scenario.describe import ANAMA_2018_M2_PER_STAFF_MONTH
from minemap.scenario.frame import make_frame
from minemap.scenario.generate import build_world
from minemap.scenario.operators import Fleet, Task, WorkCalendar
from minemap.scenario.places import Settlements
from minemap.scenario.presets import KARABAKH

SNAPSHOT = dt.date.fromisoformat(KARABAKH.scale.scenario_end)


def layer(folder: Path, name: str) -> pd.DataFrame:
    return pyogrio.read_dataframe(folder / "observed.gpkg", layer=name)


def number(refs: pd.Series) -> pd.Series:
    return pd.to_numeric(refs.str.split("-").str[1], errors="coerce")


def test_no_team_works_two_activities_at_once(scenario_dir: Path) -> None:
    acts = layer(scenario_dir, "activities")
    acts = acts[acts["status"] != "planned"].copy()
    acts["s"] = pd.to_datetime(acts["start_date"])
    acts["e"] = pd.to_datetime(acts["end_date"]).fillna(pd.Timestamp(SNAPSHOT))
    assert len(acts) > 50
    for _, g in acts.sort_values(["s", "e"]).groupby("team_ref"):
        # each activity starts after the team's previous one ended
        assert (g["s"].to_numpy()[1:] > g["e"].to_numpy()[:-1]).all()
    days = (acts["e"] - acts["s"]).dt.days + 1
    per_team_year = days.groupby([acts["team_ref"], acts["s"].dt.year]).sum()
    assert per_team_year.max() <= 366 + 300  # a task begun late in a year runs into the next


def test_each_activity_works_at_the_catalogue_pace_on_its_ground(scenario_dir: Path) -> None:
    catalogue = load_catalogue()
    calendar = WorkCalendar(catalogue, dt.date(2018, 1, 1), dt.date(2030, 12, 31))
    hazards = layer(scenario_dir, "hazards")
    slope = raster_zonal_mean(hazards.geometry, scenario_dir / "dem.tif", slope=True)
    hazards["terrain"] = [catalogue.terrain_class(s) for s in slope]
    # retired teams worked too: their rates as well
    assets = prepare_assets(layer(scenario_dir, "assets").assign(status="active"), catalogue)
    kind = dict(zip(assets["team_ref"], assets["type"], strict=True))
    rate = dict(zip(assets["team_ref"], assets["rate_m2_day"], strict=True))
    acts = layer(scenario_dir, "activities")
    acts = acts[(acts["status"] == "completed") & acts["type"].isin(["NTS", "TS", "clearance"])]
    acts = acts.merge(
        hazards[["ref", "terrain", "land_use", "contamination"]].rename(columns={"ref": "h"}),
        left_on="hazard_ref",
        right_on="h",
    )
    pace: dict[str, list[float]] = {"NTS": [], "TS": [], "clearance": []}
    columns = ("team_ref", "type", "terrain", "land_use", "contamination", "start_date", "end_date")
    rows = zip(*(acts[c].astype(str).tolist() for c in columns), strict=True)
    for (team, work, terrain, land_use, contamination, start, end), area in zip(
        rows, acts.geometry.area.tolist(), strict=True
    ):
        t = catalogue[kind[team]]
        factor = t.factor(terrain, COVER_OF_LAND_USE.get(land_use, "open"), contamination)
        speed = t.ts_speedup if work == "TS" else t.survey_rate_factor()
        days = calendar.working_days(
            t.key, dt.date.fromisoformat(start).toordinal(), dt.date.fromisoformat(end).toordinal()
        )
        if factor > 0 and days >= 2.0:
            pace[work].append(area / (days * rate[team] * factor * speed))
    for work, values in pace.items():
        assert len(values) >= 3, work
        # the catalogue's rate on that ground, less stoppages, with its productivity spread
        assert 0.6 <= float(np.median(values)) <= 1.4, work


def test_the_planner_reads_a_pace_no_faster_than_its_catalogue(scenario_dir: Path) -> None:
    catalogue = load_catalogue()
    acts = layer(scenario_dir, "activities")
    acts["team_id"] = number(acts["team_ref"])
    assets = layer(scenario_dir, "assets")
    assets["team_id"] = number(assets["team_ref"])
    rows = recorded_pace(acts, prepare_assets(assets, catalogue), catalogue, dt.date(2026, 7, 1))
    assert rows
    by_type: dict[str, float] = {}
    for row in rows:
        by_type[row["type"]] = by_type.get(row["type"], 0.0) + row["ratio"]
    # teams share their days between works; all together they never beat the catalogue
    # (reference ground is the easiest) and they are not idle
    for key, ratio in by_type.items():
        assert ratio <= 1.1, key
    assert max(by_type.values()) >= 0.15


def test_yearly_release_follows_the_published_pace(scenario_dir: Path) -> None:
    releases = layer(scenario_dir, "releases")
    year = pd.to_datetime(releases["released_on"]).dt.year
    by_year = releases["area_m2"].groupby(year).sum() / 1e4
    scale = 120.0 / KARABAKH.scale.reference_area_km2
    published = dict(KARABAKH.survey.released_ha_per_year)
    for y in (2023, 2024, 2025):
        assert by_year[y] == pytest.approx(published[y] * scale, rel=0.3), y


def test_the_fleet_grows_with_the_work(scenario_dir: Path) -> None:
    assets = layer(scenario_dir, "assets")
    commissioned = assets["commissioned_on"].astype(str)
    assert (commissioned < "2021-06-01").any()
    assert (commissioned >= "2022-01-01").any()
    # every team did some work, and a retired team stopped working long before the snapshot
    acts = layer(scenario_dir, "activities")
    assert set(assets["team_ref"]) <= set(acts["team_ref"])
    retired = set(assets.loc[assets["status"] == "retired", "team_ref"])
    last = acts.dropna(subset=["end_date"]).groupby("team_ref")["end_date"].max()
    for ref in retired:
        assert str(last[ref]) < str(SNAPSHOT - dt.timedelta(days=100))


def _fleet(**changes: object) -> Fleet:
    catalogue = load_catalogue()
    params = KARABAKH.operators
    if changes:
        import dataclasses

        params = dataclasses.replace(params, **changes)  # type: ignore[arg-type]
    empty = np.zeros(1)
    settlements = Settlements(
        empty,
        empty,
        ["A"],
        np.array([100]),
        np.zeros(1, dtype=np.int64),
        ["inhabited"],
        [None],
        np.array([100.0]),
        np.zeros(1, dtype=bool),
        np.zeros(1, dtype=bool),
    )
    calendar = WorkCalendar(catalogue, dt.date(2020, 1, 1), dt.date(2030, 12, 31))
    return Fleet(
        catalogue,
        params,
        settlements,
        KARABAKH.survey.org_release_mix,
        np.random.default_rng(1),
        calendar,
    )


def test_a_task_waiting_too_long_fields_a_new_team() -> None:
    fleet = _fleet()
    day = dt.date(2023, 5, 1).toordinal()
    first = fleet.book(Task("NTS", 2_000_000.0, {"nts": 1.0}, day))
    assert first is not None
    assert len(fleet) == 1
    assert first.start == day
    last = fleet.calendar.finish(first.kind, first.start, first.work_days)
    assert last - day > 15  # 200 ha at about 10 ha a day
    fleet.occupy(first.team, last)
    # the next task can wait for that team: no new one
    soon = fleet.book(Task("NTS", 10_000.0, {"nts": 1.0}, day + 1))
    assert soon is not None
    assert soon.team == first.team
    assert soon.start > last
    fleet.occupy(soon.team, fleet.calendar.finish(soon.kind, soon.start, soon.work_days))
    # a task that cannot wait that long gets a new team, of a type able to do it
    wait = dict(KARABAKH.operators.max_wait_days)["NTS"]
    urgent = fleet.book(Task("NTS", 10_000.0, {"nts": 1.0}, day + 2))
    assert urgent is not None
    assert (urgent.team == first.team) == (soon.start - (day + 2) <= wait)
    # no type able (a catalogue without one), or none may be fielded: nothing to book
    assert fleet.book(Task("TS", 1_000.0, {}, day)) is None
    assert fleet.book(Task("TS", 1_000.0, {"machine": 5.0}, day, commission=False)) is None


def test_idle_teams_leave() -> None:
    fleet = _fleet()
    day = dt.date(2023, 5, 1).toordinal()
    b = fleet.book(Task("NTS", 100_000.0, {"nts": 1.0}, day))
    assert b is not None
    fleet.occupy(b.team, day + 5)
    later = day + 10 + int(KARABAKH.operators.idle_days_to_leave)
    again = fleet.book(Task("NTS", 100_000.0, {"nts": 1.0}, later))
    assert again is not None
    assert again.team != b.team
    ops = fleet.operators(dt.date.fromordinal(later + 1))
    assert ops.asset_status[b.team] == "retired"


def test_the_calendar_has_seasons() -> None:
    catalogue = load_catalogue()
    calendar = WorkCalendar(catalogue, dt.date(2020, 1, 1), dt.date(2030, 12, 31))
    winter = calendar.finish("manual", dt.date(2024, 12, 1).toordinal(), 20.0)
    summer = calendar.finish("manual", dt.date(2024, 6, 1).toordinal(), 20.0)
    assert winter - dt.date(2024, 12, 1).toordinal() > summer - dt.date(2024, 6, 1).toordinal()
    # a year holds the catalogue's working days
    year = calendar.working_days(
        "manual", dt.date(2024, 1, 1).toordinal(), dt.date(2024, 12, 31).toordinal()
    )
    manual = catalogue["manual"]
    assert year == pytest.approx(sum(manual.days_in_month(m) for m in range(1, 13)), rel=1e-6)
    start = dt.date(2024, 3, 1).toordinal()
    end = calendar.finish("dog", start, 30.0)
    assert calendar.working_days("dog", start, end) >= 30.0 - 1e-9
    assert calendar.working_days("dog", start, end - 1) < 30.0


def test_staff_against_output_is_near_anamas() -> None:
    """A 600 km² world: land released per person and month within a few times ANAMA's 2018
    figure (490 staff, 4.41 million m² a month): the fleet is sized by its work."""
    world = build_world(KARABAKH, 42, make_frame(KARABAKH, 600.0, None))
    ops = world.operators
    serving = {ops.asset_team[i] for i, s in enumerate(ops.asset_status) if s != "retired"}
    staff = sum(ops.staff_male[t] + ops.staff_female[t] for t in serving)
    end = world.end.toordinal()
    released = sum(
        r.geometry.area for r in world.observations.releases if end - 365 < r.date.toordinal()
    )
    ratio = released / 12.0 / staff / ANAMA_2018_M2_PER_STAFF_MONTH
    assert 1 / 3 <= ratio <= 3.0
    kinds = {ops.team_type[t] for t in serving}
    assert {"nts", "machine", "manual"} <= kinds
