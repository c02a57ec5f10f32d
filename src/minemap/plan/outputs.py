"""Files a plan writes: schedule CSV, Gantt chart, hazards with planned dates, forecast chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from minemap.plan.forecast import Forecast
from minemap.plan.model import HA, Instance
from minemap.plan.schedule import (
    TASK_COLUMNS,
    Schedule,
    hazard_dates,
    monthly_release,
    task_table,
)


def write_json(path: Path, data: dict[str, Any]) -> Path:
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)  # never a half-written file under the real name
    return path


def gantt_png(
    inst: Instance, sched: Schedule, scores: np.ndarray, path: Path, *, max_assets: int = 120
) -> Path:
    """Bars per asset over time, coloured by the hazard's priority rank (dark: first)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = sched.tasks
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(len(scores))
    rank[order] = np.linspace(0, 1, len(scores)) if len(scores) > 1 else 0
    assets = np.unique(t["asset"]) if not t.empty else np.zeros(0, int)
    assets = _rows_by_type(assets, inst.asset_type[assets], max_assets)
    row_of = {int(a): i for i, a in enumerate(assets)}
    height = max(3.0, min(16.0, 0.12 * len(assets) + 1.5))
    fig, ax = plt.subplots(figsize=(12, height), dpi=110)
    cmap = plt.get_cmap("viridis")
    if not t.empty:
        sel = t[t["asset"].isin(row_of)]
        days = inst.asset_days
        start = sel["month"].to_numpy() + sel["day0"].to_numpy() / np.maximum(
            days[sel["asset"], sel["month"]], 1e-9
        )
        end = sel["month"].to_numpy() + sel["day1"].to_numpy() / np.maximum(
            days[sel["asset"], sel["month"]], 1e-9
        )
        y = np.array([row_of[int(a)] for a in sel["asset"]])
        colors = cmap(rank[inst.item_hazard[sel["hazard"].to_numpy()]])
        ax.barh(y, end - start, left=start, height=0.8, color=colors, linewidth=0)
    labels = [f"{inst.asset_refs[a]} ({inst.types[inst.asset_type[a]]})" for a in assets]
    ax.set_yticks(range(len(assets)))
    ax.set_yticklabels(labels, fontsize=5 if len(assets) > 40 else 8)
    ax.invert_yaxis()
    ticks = np.arange(0, inst.months + 1, 12 if inst.months > 24 else 3)
    ax.set_xticks(ticks)
    ax.set_xticklabels([inst.month_start(int(m)).strftime("%Y-%m") for m in ticks], fontsize=8)
    ax.set_xlim(0, inst.months)
    ax.set_xlabel("month")
    shown = (
        f" ({len(assets)} of {inst.n_assets} assets, every type)"
        if inst.n_assets > len(assets)
        else ""
    )
    ax.set_title(f"Clearance and survey schedule{shown}: colour = hazard priority (dark = first)")
    sm = plt.cm.ScalarMappable(cmap=cmap)
    cbar = fig.colorbar(sm, ax=ax, fraction=0.02, pad=0.01)
    cbar.set_label("priority rank (0 first, 1 last)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _rows_by_type(assets: np.ndarray, types: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` assets grouped by type, each type kept in proportion (one at least)."""
    kinds, counts = np.unique(types, return_counts=True)
    if len(assets) <= limit:
        quota = counts
    else:
        quota = np.maximum(1, np.floor(limit * counts / counts.sum()).astype(int))
    keep = [np.sort(assets[types == k])[:q] for k, q in zip(kinds, quota, strict=True)]
    return np.concatenate(keep) if keep else assets


def write_forecast(forecast: Forecast, out_dir: Path) -> dict[str, Any]:
    """``forecast.json`` and ``forecast.png``; returns the JSON content."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = forecast.to_json()
    write_json(out_dir / "forecast.json", data)
    forecast_png(forecast, out_dir / "forecast.png")
    return data


def forecast_png(forecast: Forecast, path: Path) -> Path:
    """Cumulative released area with its P10-P90 band, completion dates, casualties per year."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = forecast.to_json()
    months = [pd.Timestamp(r["month"] + "-01") for r in data["monthly_released"]]
    p10 = np.array([r["released_m2_p10"] for r in data["monthly_released"]]) / HA
    p50 = np.array([r["released_m2_p50"] for r in data["monthly_released"]]) / HA
    p90 = np.array([r["released_m2_p90"] for r in data["monthly_released"]]) / HA
    fig, (ax, ax2) = plt.subplots(
        1, 2, figsize=(13, 5), dpi=110, gridspec_kw={"width_ratios": [2, 1]}
    )
    ax.fill_between(months, p10, p90, color="tab:blue", alpha=0.25, label="P10-P90")
    ax.plot(months, p50, color="tab:blue", label="P50")
    ax.axhline(forecast.total_ha, color="grey", linestyle=":", label="all open hazards")
    for key, style in (("p10", ":"), ("p50", "--"), ("p90", ":")):
        if data[key]:
            ax.axvline(pd.Timestamp(data[key]), color="tab:red", linestyle=style)
            ax.text(
                pd.Timestamp(data[key]),
                0.03,
                f" {key.upper()} {data[key][:7]}",
                rotation=90,
                color="tab:red",
                fontsize=8,
                va="bottom",
                transform=ax.get_xaxis_transform(),
            )
    ax.set_ylabel("released area, ha (cumulative)")
    ax.set_title(f"Completion forecast ({forecast.draws} draws)")
    ax.legend(loc="center right")
    years = [r["year"] for r in data["casualties_per_year"]]
    exp = [r["expected"] for r in data["casualties_per_year"]]
    lo = [r["p10"] for r in data["casualties_per_year"]]
    hi = [r["p90"] for r in data["casualties_per_year"]]
    ax2.bar(years, exp, color="tab:orange", label="expected")
    ax2.errorbar(
        years,
        exp,
        yerr=[np.maximum(np.subtract(exp, lo), 0), np.maximum(np.subtract(hi, exp), 0)],
        fmt="none",
        color="black",
        capsize=2,
    )
    ax2.set_title("Expected casualties per year (P10-P90)")
    ax2.set_xlabel("year")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def hazards_gpkg(
    hazards: gpd.GeoDataFrame, inst: Instance, sched: Schedule, scores: np.ndarray, path: Path
) -> Path:
    """The hazards with priority, planned start and end, and area released in the horizon."""
    dates = hazard_dates(inst, sched)
    keep = [
        c
        for c in (
            "id",
            "ref",
            "type",
            "contamination",
            "land_use",
            "area_m2",
            "p_mean",
            "expected_m2",
            "terrain",
            "cover",
        )
        if c in hazards
    ]
    out = gpd.GeoDataFrame(
        hazards[keep].copy(), geometry=hazards.geometry.to_numpy(), crs=hazards.crs
    )
    out = out.rename(columns={"id": "hazard_id", "ref": "hazard_ref"})
    out["priority"] = scores
    out["planned_start"] = dates["planned_start"].to_numpy()
    out["planned_end"] = dates["planned_end"].to_numpy()
    out["released_m2"] = dates["released_ha"].to_numpy() * HA
    tmp = path.with_name(path.stem + ".part.gpkg")
    if tmp.exists():
        tmp.unlink()
    out.to_file(tmp, layer="planned_hazards", driver="GPKG")
    tmp.replace(path)
    return path


def schedule_csv(inst: Instance, sched: Schedule, path: Path) -> pd.DataFrame:
    table = task_table(inst, sched)
    tmp = path.with_suffix(".part")
    table[TASK_COLUMNS].to_csv(tmp, index=False)
    tmp.replace(path)
    return table


def write_schedule(
    hazards: gpd.GeoDataFrame,
    inst: Instance,
    sched: Schedule,
    scores: np.ndarray,
    out_dir: Path,
) -> dict[str, Any]:
    """``schedule.csv``, ``gantt.png``, ``planned_hazards.gpkg`` and ``summary.json``.

    Returns the summary (objective, bound, gap, what was released by which work).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    table = schedule_csv(inst, sched, out_dir / "schedule.csv")
    gantt_png(inst, sched, scores, out_dir / "gantt.png")
    hazards_gpkg(hazards, inst, sched, scores, out_dir / "planned_hazards.gpkg")
    by_work = table.groupby("work")["released_m2"].sum()
    summary = {
        "objective": round(sched.objective, 6),
        "bound": round(sched.bound, 6),
        "gap": round(sched.gap, 6),
        "method": sched.method,
        "seconds": round(sched.seconds, 2),
        "bound_seconds": round(sched.bound_seconds, 2),
        "hazards": inst.n_hazards,
        "work_items": inst.n_items,
        "assets": inst.n_assets,
        "months": inst.months,
        "start": inst.start.isoformat(),
        "area_m2": round(float(inst.hazard_area.sum() * HA), 1),
        "released_m2": round(float(monthly_release(inst, sched).sum() * HA), 1),
        "hazards_finished": int(hazard_dates(inst, sched)["end_month"].notna().sum()),
        "released_m2_by_work": {
            work: round(float(by_work.get(work, 0.0)), 1) for work in ("NTS", "TS/clearance")
        },
        "land_release": inst.land.summary(),
        "notes": sched.notes,
    }
    write_json(out_dir / "summary.json", summary)
    return summary
