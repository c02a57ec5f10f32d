"""Strategies replayed against a scenario's truth: mines found, team-days, casualties.

Scenario only: the truth (``truth.gpkg``, layer ``mines``) is read here and
only when its path is given; no strategy sees it. Three strategies use the
same fleet, catalogue, land-release model and scheduling rules over the same
years:

* ``status quo``: suspected areas in the order they were recorded (oldest first);
* ``hazard-map guided``: highest mean probability of the map first;
* ``minemap planner``: the schedule of :func:`~minemap.plan.schedule.make_schedule`
  on the priority scores.

Each hazard's devices still in the ground (not found, not set off) are found
as its TS and clearance work goes on, in proportion to the share of that
work done; NTS alone finds none, and devices outside every open hazard are
found by no strategy. Casualties per year are proportional to the true
devices left near people, calibrated so that today's true exposure gives the
historical rate. Mines found per team-day counts every asset's working days
(survey included).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap.errors import InputFileError
from minemap.plan.forecast import History
from minemap.plan.inputs import PlanContext
from minemap.plan.model import Instance, build_instance
from minemap.plan.prioritise import Priorities, priority_scores
from minemap.plan.schedule import Schedule, heuristic, make_schedule


def read_truth(path: Path, crs: Any) -> gpd.GeoDataFrame:
    """The devices of a scenario truth still in the ground (not found, not set off)."""
    import pyogrio

    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises its own types for unreadable files
        raise InputFileError(path, f"cannot be read as a GeoPackage ({exc})") from None
    if "mines" not in layers:
        raise InputFileError(path, f"has no 'mines' layer (layers: {', '.join(layers)})")
    info = pyogrio.read_info(path, layer="mines")
    wanted = [c for c in ("found", "detonated") if c in list(info["fields"])]
    mines = gpd.read_file(path, layer="mines", columns=wanted)
    for column in wanted:
        gone = mines[column].fillna(False).astype(bool)
        mines = mines[~gone.to_numpy()]
    return mines.to_crs(crs) if crs is not None and mines.crs is not None else mines


def mines_per_hazard(hazards: gpd.GeoDataFrame, mines: gpd.GeoDataFrame) -> np.ndarray:
    import shapely

    tree = shapely.STRtree(hazards.geometry.to_numpy())
    mi, hi = tree.query(mines.geometry.to_numpy(), predicate="within")
    # a mine in two overlapping hazards counts once, for the first
    _, first = np.unique(mi, return_index=True)
    out = np.zeros(len(hazards))
    np.add.at(out, hi[first], 1.0)
    return out


def cleared_share(inst: Instance, sched: Schedule) -> np.ndarray:
    """(H, M) share of each hazard's TS and clearance work done by the end of each month."""
    H, M = inst.n_hazards, inst.months
    worked = np.zeros((H, M))
    t = sched.tasks
    if not t.empty:
        items = t["hazard"].to_numpy()
        clearing = ~inst.item_survey[items]
        np.add.at(
            worked,
            (inst.item_hazard[items[clearing]], t["month"].to_numpy()[clearing]),
            t["worked_ha"].to_numpy()[clearing],
        )
    land = np.zeros(H)
    cl = np.flatnonzero(~inst.item_survey)
    land[inst.item_hazard[cl]] = inst.area[cl]
    share = np.cumsum(worked, axis=1) / np.maximum(land, 1e-12)[:, None]
    # a hazard with no TS and clearance item was wholly cancelled: nothing is dug up there
    return np.where(land[:, None] > 0, np.minimum(share, 1.0), 0.0)


def evaluate(
    inst: Instance,
    sched: Schedule,
    mines: np.ndarray,
    exposure: np.ndarray,
    *,
    rate: float,
    years: int,
) -> dict[str, Any]:
    """Mines found, team-days and casualties of one schedule."""
    t = sched.tasks
    M = inst.months
    share = cleared_share(inst, sched)
    found_by_month = (share * mines[:, None]).sum(axis=0)
    team_days = float((t["day1"] - t["day0"]).sum()) if not t.empty else 0.0
    residual = mines[:, None] * (1.0 - share)
    casualties = 0.0
    for y in range(years):
        mid = min(12 * y + 6, M - 1)
        casualties += rate * float((residual[:, mid] * exposure).sum())
    found = float(found_by_month[-1]) if M else 0.0
    by_year = [round(float(found_by_month[min(12 * (y + 1), M) - 1]), 1) for y in range(years)]
    return {
        "mines_found": round(found, 1),
        "mines_found_by_year": by_year,
        "team_days": round(team_days, 1),
        "mines_per_team_day": round(found / team_days, 5) if team_days else 0.0,
        "casualties": round(casualties, 2),
        "objective": round(sched.objective, 4),
    }


def strategy_orders(hazards: pd.DataFrame) -> dict[str, np.ndarray]:
    """Hazard orders of the fixed strategies: oldest record first; highest map probability first."""
    n = len(hazards)
    if "recorded_on" in hazards:
        recorded = pd.to_datetime(hazards["recorded_on"], errors="coerce")
        status_quo = np.lexsort((np.arange(n), recorded.fillna(pd.Timestamp.max).to_numpy()))
    else:
        status_quo = np.arange(n)
    map_order = np.argsort(-hazards["p_mean"].to_numpy(dtype="float64"), kind="stable")
    return {"status quo": status_quo, "hazard-map guided": map_order}


def simulate(
    ctx: PlanContext,
    priorities: Priorities,
    truth: Path,
    *,
    years: int = 5,
    history: History | None = None,
    time_limit: float = 60.0,
) -> dict[str, Any]:
    """Compare the strategies over ``years`` (see the module docstring)."""
    mines_frame = read_truth(truth, ctx.hazards.crs)
    hazards = ctx.hazards
    mines = mines_per_hazard(hazards, mines_frame)
    months = 12 * years
    scores = priority_scores(priorities, hazards["id"].to_numpy())
    inst = build_instance(
        hazards,
        ctx.assets,
        ctx.catalogue,
        ctx.start,
        months,
        benefit=scores,
        history=None if history is None else history.release_history(),
    )
    table = priorities.table.set_index("hazard_id")
    people = (
        table["people_raw"].reindex(hazards["id"]).fillna(0).to_numpy()
        + table["displaced_raw"].reindex(hazards["id"]).fillna(0).to_numpy()
    )
    exposure = 1.0 + people
    e0 = float((mines * exposure).sum())
    rate = 0.0
    if history is not None and history.years > 0 and e0 > 0:
        rate = history.casualties / history.years / e0
    strategies = {name: heuristic(inst, order=o) for name, o in strategy_orders(hazards).items()}
    strategies["minemap planner"] = make_schedule(inst, time_limit=time_limit)
    rows: list[dict[str, Any]] = []
    total = float(len(mines_frame))
    for name, sched in strategies.items():
        figures = evaluate(inst, sched, mines, exposure, rate=rate, years=years)
        row: dict[str, Any] = {"strategy": name, **figures}
        row["share_found"] = round(figures["mines_found"] / total, 4) if total else 0.0
        rows.append(row)
    base = float(rows[0]["mines_per_team_day"])
    for row in rows:
        ratio = float(row["mines_per_team_day"]) / base if base else None
        row["mines_per_team_day_vs_status_quo"] = None if ratio is None else round(ratio, 3)
    return {
        "years": years,
        "start": ctx.start.isoformat(),
        "mines_in_truth": int(total),
        "mines_inside_open_hazards": int(mines.sum()),
        "strategies": rows,
        "notes": [
            "devices already found or set off are not counted; devices outside every open "
            "hazard are found by no strategy",
            "casualty rate calibrated on the accident history against today's true exposure",
        ],
    }
