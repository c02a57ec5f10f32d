"""Schedules: one place at a time, capabilities and seasons kept, objective under the bound."""

from __future__ import annotations

import numpy as np
import pytest

from minemap.plan.inputs import PlanContext
from minemap.plan.model import Instance, build_instance
from minemap.plan.schedule import (
    heuristic,
    lagrangian_bound,
    lp_bound,
    make_schedule,
    solve_mip,
    task_table,
)


@pytest.fixture(scope="module")
def instance(small_context: PlanContext) -> Instance:
    c = small_context
    return build_instance(c.hazards, c.assets, c.catalogue, c.start, 18)


def _check(inst: Instance, tasks: object) -> None:
    t = tasks  # type: ignore[assignment]
    # no asset in two places at once: its tasks in a month never overlap
    for (_a, _m), g in t.groupby(["asset", "month"]):  # type: ignore[attr-defined]
        g = g.sort_values("day0")
        assert np.all(g["day0"].to_numpy()[1:] >= g["day1"].to_numpy()[:-1] - 1e-9)
    # capacity and seasons: never more working days than the asset has that month
    used = t.assign(days=t["day1"] - t["day0"]).groupby(["asset", "month"])["days"].sum()  # type: ignore[attr-defined]
    for (a, m), days in used.items():
        assert days <= inst.asset_days[a, m] + 1e-9
    # capabilities: never a type on ground it cannot work
    k = inst.asset_type[t["asset"].to_numpy()]  # type: ignore[index]
    assert np.all(inst.factor[k, t["hazard"].to_numpy()] > 0)  # type: ignore[index]
    # never more released than the hazard's area
    released = t.groupby("hazard")["released_ha"].sum()  # type: ignore[attr-defined]
    assert np.all(released.to_numpy() <= inst.area[released.index.to_numpy()] * (1 + 1e-9))


def test_heuristic_respects_the_model(instance: Instance) -> None:
    s = heuristic(instance)
    assert len(s.tasks) > 0
    _check(instance, s.tasks)


def test_seasons_reduce_winter_work(instance: Instance) -> None:
    # January (month 0) has fewer effective days than May (month 4) for a manual team
    manual = instance.types.index("manual")
    a = int(np.flatnonzero(instance.asset_type == manual)[0])
    assert instance.asset_days[a, 0] < instance.asset_days[a, 4]


def test_make_schedule_is_under_its_bound(instance: Instance) -> None:
    s = make_schedule(instance, time_limit=20)
    _check(instance, s.tasks)
    assert s.objective <= s.bound + 1e-9
    assert 0.0 <= s.gap < 0.2
    table = task_table(instance, s)
    assert {"asset_id", "hazard_id", "start", "end", "area_m2"} <= set(table.columns)
    assert (table["end"] >= table["start"]).all()


def test_lagrangian_bounds_the_lp(instance: Instance) -> None:
    lp = lp_bound(instance)
    s = heuristic(instance)
    bound, _ = lagrangian_bound(instance, target=s.objective, iterations=50)
    assert bound >= lp.bound - 1e-6
    assert lp.bound >= s.objective - 1e-6


def test_mip_on_a_tiny_instance(small_context: PlanContext) -> None:
    c = small_context
    inst = build_instance(c.hazards.iloc[:6], c.assets.iloc[:3], c.catalogue, c.start, 3)
    s = solve_mip(inst, time_limit=10)
    assert s is not None
    _check(inst, s.tasks)
    assert s.objective <= lp_bound(inst).bound + 1e-6


def test_steep_forest_hazards_get_no_machine(instance: Instance) -> None:
    machine = instance.types.index("machine")
    s = heuristic(instance)
    worked = s.tasks[instance.asset_type[s.tasks["asset"].to_numpy()] == machine]
    assert np.all(instance.factor[machine, worked["hazard"].to_numpy()] > 0)
