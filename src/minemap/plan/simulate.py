"""Strategies replayed against a scenario's truth: mines found, team-days, casualties.

Scenario only: the truth (``truth.gpkg``, layer ``mines``) is read here and
only when its path is given. Three strategies use the same fleet, catalogue
and scheduling rules over the same years:

* ``status quo``: suspected areas in the order they were recorded (oldest first);
* ``hazard-map guided``: highest mean probability of the map first;
* ``minemap planner``: the schedule of :func:`~minemap.plan.schedule.make_schedule`
  on the priority scores.

Survey cancels clean land (as planned) and clearance finds the mines in the
land it works, in proportion to the share of the hazard's remaining land it
has cleared. Mines outside every hazard are found by no strategy. Casualties
per year are proportional to the true mines left near people, calibrated so
that today's true exposure gives the historical rate.
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
    import pyogrio

    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises its own types for unreadable files
        raise InputFileError(path, f"cannot be read as a GeoPackage ({exc})") from None
    if "mines" not in layers:
        raise InputFileError(path, f"has no 'mines' layer (layers: {', '.join(layers)})")
    mines = gpd.read_file(path, layer="mines")
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


def evaluate(
    inst: Instance,
    sched: Schedule,
    mines: np.ndarray,
    exposure: np.ndarray,
    *,
    rate: float,
    years: int,
) -> dict[str, float]:
    """Mines found, team-days and casualties of one schedule."""
    t = sched.tasks
    M = inst.months
    cleared = np.zeros((inst.n_hazards, M))
    surveyed = np.zeros(inst.n_hazards)
    if not t.empty:
        k = inst.asset_type[t["asset"].to_numpy()]
        sv = inst.survey[k]
        np.add.at(
            cleared,
            (t["hazard"].to_numpy()[~sv], t["month"].to_numpy()[~sv]),
            t["released_ha"].to_numpy()[~sv],
        )
        np.add.at(surveyed, t["hazard"].to_numpy()[sv], t["released_ha"].to_numpy()[sv])
    to_clear = np.maximum(inst.area - surveyed, 1e-12)
    share = np.minimum(np.cumsum(cleared, axis=1) / to_clear[:, None], 1.0)  # (H, M)
    found_by_month = (share * mines[:, None]).sum(axis=0)
    team_days = float((t["day1"] - t["day0"]).sum()) if not t.empty else 0.0
    residual = mines[:, None] * (1.0 - share)
    casualties = 0.0
    for y in range(years):
        mid = min(12 * y + 6, M - 1)
        casualties += rate * float((residual[:, mid] * exposure).sum())
    found = float(found_by_month[-1]) if M else 0.0
    return {
        "mines_found": round(found, 1),
        "team_days": round(team_days, 1),
        "mines_per_team_day": round(found / team_days, 5) if team_days else 0.0,
        "casualties": round(casualties, 2),
        "objective": round(sched.objective, 4),
    }


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
    inst = build_instance(hazards, ctx.assets, ctx.catalogue, ctx.start, months, benefit=scores)
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
    recorded = (
        pd.to_datetime(hazards.get("recorded_on"), errors="coerce")
        if "recorded_on" in hazards
        else None
    )
    status_quo = (
        np.lexsort((np.arange(len(hazards)), recorded.fillna(pd.Timestamp.max).to_numpy()))
        if recorded is not None
        else np.arange(len(hazards))
    )
    map_order = np.argsort(-hazards["p_mean"].to_numpy(dtype="float64"), kind="stable")
    strategies = {
        "status quo": heuristic(inst, order=status_quo),
        "hazard-map guided": heuristic(inst, order=map_order),
        "minemap planner": make_schedule(inst, time_limit=time_limit),
    }
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
        "mines_in_truth": int(total),
        "mines_inside_open_hazards": int(mines.sum()),
        "strategies": rows,
        "notes": [
            "mines outside every open hazard are found by no strategy",
            "casualty rate calibrated on the accident history against today's true exposure",
        ],
    }
