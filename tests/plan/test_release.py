"""Land release as practice does it: NTS cancels, TS reduces, clearance clears the rest."""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from minemap.plan.catalogue import load_catalogue
from minemap.plan.forecast import History, run_forecast
from minemap.plan.inputs import prepare_assets, prepare_hazards, with_hazard_type
from minemap.plan.model import build_instance
from minemap.plan.release import (
    STAGE_CONFIRMED,
    STAGE_NEW,
    STAGE_SURVEYED,
    Z90,
    hazard_stages,
    land_release,
    release_history,
)
from minemap.plan.schedule import heuristic, make_schedule

START = dt.date(2026, 1, 1)
CRS = "EPSG:32638"


def _hazards(n: int, *, terrain: str = "flat", p: float = 0.1, side: float = 300.0) -> pd.DataFrame:
    """``n`` square hazards of ``side`` metres, prepared as the planner sees them."""
    geoms = [
        box(600_000 + 1000 * i, 4_400_000, 600_000 + 1000 * i + side, 4_400_000 + side)
        for i in range(n)
    ]
    frame = gpd.GeoDataFrame(
        {
            "id": np.arange(1, n + 1),
            "ref": [f"HA-{i:06d}" for i in range(1, n + 1)],
            "type": "SHA",
            "contamination": "AP",
            "status": "open",
            "land_use": "farmland",
            "recorded_on": [START - dt.timedelta(days=10 * i) for i in range(n)],
        },
        geometry=geoms,
        crs=CRS,
    )
    out = prepare_hazards(frame, load_catalogue(), default_p=p)
    out["terrain"] = terrain
    return out


def _fleet(**counts: int) -> pd.DataFrame:
    rows = [(key, n) for key, n in counts.items() for _ in range(n)]
    frame = pd.DataFrame(
        {
            "id": np.arange(1, len(rows) + 1),
            "ref": [f"AS-{i:06d}" for i in range(1, len(rows) + 1)],
            "type": [key for key, _ in rows],
            "status": "active",
        }
    )
    return prepare_assets(frame, load_catalogue())


def _releases(
    cancelled: float, reduced: float, cleared: float, *, kind: str = "SHA", hazards: int = 100
) -> pd.DataFrame:
    """Releases of ``hazards`` hazards that add up to the given areas by method."""
    methods = ("cancelled", "reduced", "cleared")
    areas = (cancelled, reduced, cleared)
    return pd.DataFrame(
        {
            "method": np.repeat(methods, hazards),
            "area_m2": np.repeat(np.array(areas) / hazards, hazards),
            "hazard_type": kind,
            "hazard_id": np.tile(np.arange(1, hazards + 1), 3),
        }
    )


def test_history_by_method_and_hazard_type() -> None:
    releases = pd.DataFrame(
        {"activity_id": [1, 2, 3, 4], "method": ["cancelled", "reduced", "cleared", "cancelled"]}
    )
    releases["area_m2"] = [600.0, 300.0, 100.0, 50.0]
    activities = pd.DataFrame({"id": [1, 2, 3, 4], "hazard_id": [10, 10, 11, 12]})
    hazards = pd.DataFrame({"id": [10, 11, 12], "type": ["SHA", "SHA", "CHA"]})
    history = release_history(with_hazard_type(releases, activities, hazards))
    assert history.total() == pytest.approx(1050.0)
    assert history.cleared_share("SHA") == pytest.approx(0.1)
    assert history.cancel_share("SHA") == pytest.approx(600.0 / 900.0)
    assert history.cancel_share("CHA") == pytest.approx(1.0)
    assert history.evidence("SHA") == 2
    assert release_history(None).cleared_share() is None


def test_stages_come_from_activities() -> None:
    hazards = pd.DataFrame({"id": [1, 2, 3, 4, 5]})
    activities = pd.DataFrame(
        {
            "hazard_id": [1, 2, 2, 3, 4],
            "type": ["NTS", "NTS", "TS", "clearance", "NTS"],
            "status": ["completed", "completed", "completed", "ongoing", "planned"],
        }
    )
    stage = hazard_stages(hazards, activities)
    assert stage.tolist() == [
        STAGE_SURVEYED,
        STAGE_CONFIRMED,
        STAGE_CONFIRMED,
        STAGE_NEW,
        STAGE_NEW,
    ]


def test_map_and_history_bound_the_share_needing_clearance() -> None:
    hazards = _hazards(5, p=0.08)
    land = land_release(hazards, release_history(_releases(500.0, 480.0, 20.0)))
    # the map says 8%, the history 2%: the level is between, the band spans both
    assert land.map_share == pytest.approx(0.08)
    assert land.level == pytest.approx(math.sqrt(0.08 * 0.02))
    assert land.level * math.exp(Z90 * land.sigma) == pytest.approx(0.08)
    assert land.level * math.exp(-Z90 * land.sigma) == pytest.approx(0.02)
    # a confirmed hazard (TS done) is what stays confirmed: cleared whole, nothing cancelled
    hazards["stage"] = [STAGE_NEW, STAGE_NEW, STAGE_SURVEYED, STAGE_CONFIRMED, STAGE_NEW]
    land = land_release(hazards, release_history(_releases(500.0, 480.0, 20.0)))
    assert land.clear[3] == 1.0
    assert land.cancel[2] == 0.0
    assert land.cancel[3] == 0.0
    assert land.cancel[0] == pytest.approx(500.0 / 980.0)


def test_release_by_method_follows_the_historical_shares() -> None:
    # the map agrees with the history (10% needs clearance): the forecast releases land
    # in the history's proportions, 60% cancelled, 30% reduced, 10% cleared
    hazards = _hazards(12, p=0.1)
    history = History(
        released_m2=1000.0,
        cleared_m2=100.0,
        releases=3,
        shares=release_history(_releases(600.0, 300.0, 100.0)),
    )
    fleet = _fleet(manual=2, nts=1, machine=1)
    inst = build_instance(hazards, fleet, load_catalogue(), START, 24, history=history.shares)
    f = run_forecast(inst, hazards, history=history, draws=60, seed=1, horizon=240).to_json()
    shares = {k: v["share"] for k, v in f["released_by_method"].items()}
    assert shares["cancelled"] == pytest.approx(0.6, abs=0.03)
    assert shares["reduced"] == pytest.approx(0.3, abs=0.03)
    assert shares["cleared"] == pytest.approx(0.1, abs=0.02)
    # and the schedule's NTS cancels the expected 60% of the land, TS and clearance the rest
    sched = make_schedule(inst, time_limit=10)
    t = sched.tasks
    nts = inst.item_survey[t["hazard"].to_numpy()]
    released = t["released_ha"].to_numpy()
    total = inst.hazard_area.sum()
    assert released[nts].sum() == pytest.approx(0.6 * total, rel=1e-6)
    assert released.sum() == pytest.approx(total, rel=1e-6)


def test_a_hazard_machines_cannot_work_still_finishes_with_manual_teams() -> None:
    hazards = _hazards(4, terrain="steep")
    history = History(shares=release_history(_releases(600.0, 300.0, 100.0)), casualties=0)
    cat = load_catalogue()
    fleet = _fleet(machine=3, manual=1, nts=1)
    inst = build_instance(hazards, fleet, cat, START, 240, history=history.shares)
    machine = inst.types.index("machine")
    assert not inst.capable()[machine].any()
    sched = heuristic(inst)
    worked = inst.asset_type[sched.tasks["asset"].to_numpy()]
    assert machine not in set(worked.tolist())
    assert inst.types.index("manual") in set(worked.tolist())
    f = run_forecast(inst, hazards, history=history, draws=20, seed=2, horizon=240)
    assert np.isfinite(f.completion_months).all()
    assert f.to_json()["finish_by_type"]["manual"]["share_of_draws_last"] > 0.5
    # without the manual team nobody may work the steep ground: the forecast says so
    alone = build_instance(hazards, _fleet(machine=3, nts=1), cat, START, 240)
    f = run_forecast(alone, hazards, history=history, draws=20, seed=2, horizon=240).to_json()
    assert f["p50"] is None
    assert any("do not finish" in note for note in f["notes"])


def test_ts_and_clearance_follow_nts_on_every_hazard() -> None:
    hazards = _hazards(10, p=0.05)
    history = release_history(_releases(700.0, 250.0, 50.0))
    # one NTS team for ten hazards: TS and clearance must wait for it hazard by hazard
    inst = build_instance(
        hazards, _fleet(nts=1, manual=3, dog=1), load_catalogue(), START, 24, history=history
    )
    assert (inst.gate >= 0).sum() == 10
    for sched in (heuristic(inst), make_schedule(inst, time_limit=10)):
        t = sched.tasks
        done = np.zeros((inst.n_items, inst.months))
        np.add.at(done, (t["hazard"].to_numpy(), t["month"].to_numpy()), t["worked_ha"].to_numpy())
        share = np.cumsum(done, axis=1) / inst.area[:, None]
        gated = np.flatnonzero(inst.gate >= 0)
        assert np.all(share[gated] <= share[inst.gate[gated]] + 1e-9)
        assert sched.objective <= sched.bound + 1e-9 or math.isnan(sched.bound)


def test_recorded_pace_beside_the_catalogue() -> None:
    from minemap.plan.forecast import recorded_pace

    cat = load_catalogue()
    assets = _fleet(dog=2, manual=1)
    assets["team_id"] = [1, 2, 3]
    # two dog teams each reduce 9 ha by TS in the last year; half of a long NTS-free
    # manual clearance falls in the window
    activities = gpd.GeoDataFrame(
        {
            "type": ["TS", "TS", "clearance"],
            "team_id": [1, 2, 3],
            "status": "completed",
            "start_date": ["2025-03-01", "2025-06-01", "2024-07-01"],
            "end_date": ["2025-03-31", "2025-06-30", "2025-06-30"],
        },
        geometry=[box(0, 0, 300, 300), box(0, 0, 300, 300), box(0, 0, 100, 100)],
        crs=CRS,
    )
    rows = {(r["type"], r["work"]): r for r in recorded_pace(activities, assets, cat, START)}
    dog_days = 2 * sum(cat["dog"].days_in_month(m) for m in range(1, 13))
    assert rows[("dog", "TS")]["recorded_m2_per_team_day"] == pytest.approx(
        180_000 / dog_days, rel=1e-3
    )
    assert rows[("dog", "TS")]["catalogue_m2_per_team_day"] == pytest.approx(850 * 5)
    manual = rows[("manual", "clearance")]
    assert 4_000 < manual["recorded_m2"] < 6_000  # about half of the 10,000 m²
